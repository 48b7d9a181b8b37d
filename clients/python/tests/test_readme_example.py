"""Testing a webhook receiver with bullseye-mock: the example of clients/python/README.md, verbatim."""
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bullseye_mock import attempt_offsets, minutes

SECRET = "whsec_test"


# The receiver under test. Yours lives in your app; this one verifies the
# signature of the raw body and answers 503 while its database is down.
class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        signature = self.headers.get("X-Bullseye-Signature", "")
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return self.answer(401)
        if not self.server.database_up:
            return self.answer(503)
        self.server.events.append(json.loads(body))
        self.answer(200)

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.database_up, server.events = True, []
    server.url = f"http://127.0.0.1:{server.server_port}/webhooks"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_signed_events_are_accepted_and_forged_ones_rejected(bullseye_mock, receiver):
    # Configure the webhook as your app does in production: through the Partner API.
    bullseye_mock.partner.put_webhook("identification", url=receiver.url, secret=SECRET, enabled=True)

    good, forged = bullseye_mock.trigger(
        "visitor.identified", 2, faults=[{"signature": "wrong_secret", "events": [2]}], policy={"attempts": 1}
    )

    assert bullseye_mock.wait_for_delivery(good)["attempts"][0]["statusCode"] == 200
    assert bullseye_mock.wait_for_delivery(forged, "failed")["attempts"][0]["statusCode"] == 401
    assert [e["event_type"] for e in receiver.events] == ["visitor.identified"]


def test_retries_follow_the_vendors_schedule(bullseye_mock, receiver):
    bullseye_mock.partner.put_webhook("identification", url=receiver.url, secret=SECRET, enabled=True)
    receiver.database_up = False

    [delivery_id] = bullseye_mock.trigger("visitor.identified")
    bullseye_mock.wait_for_delivery(delivery_id, attempts=1)  # 503, and a retry scheduled 1m later
    bullseye_mock.advance_clock(to_next_due=True)  # mock time +1m: 503 again
    receiver.database_up = True
    bullseye_mock.advance_clock(to_next_due=True)  # +5m more: 200

    delivery = bullseye_mock.wait_for_delivery(delivery_id, "delivered")
    assert [a["statusCode"] for a in delivery["attempts"]] == [503, 503, 200]
    assert attempt_offsets(delivery) == minutes(0, 1, 6)
    assert len(receiver.events) == 1


def test_the_signature_verdict_of_the_built_in_sink(bullseye_mock):
    # No receiver of your own yet: the mock's sink verifies what it receives.
    bullseye_mock.configure_sink("demo", statuses=[500, 200])
    bullseye_mock.partner.put_webhook(
        "identification", url=bullseye_mock.sink_url("demo"), secret=SECRET, enabled=True
    )

    [delivery_id] = bullseye_mock.trigger("visitor.identified")
    bullseye_mock.wait_for_delivery(delivery_id, attempts=1)
    bullseye_mock.advance_clock(to_next_due=True)
    bullseye_mock.wait_for_delivery(delivery_id, "delivered")

    received = bullseye_mock.sink_requests("demo", at_least=2)["requests"]
    assert [(r["attempt"], r["status"], r["signature"]) for r in received] == [(1, 500, "valid"), (2, 200, "valid")]
