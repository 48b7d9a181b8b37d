"""The example Python receiver (examples/receivers/python/receiver.py), tested with the client and the fixture.

The receiver runs as its README says (``BULLSEYE_WEBHOOK_SECRET=... python3
receiver.py 0``, "listening on PORT" when ready); the webhook is configured
through the Partner API, as an app configures it in production.
"""
from __future__ import annotations

import json

from conftest import Receiver

from bullseye_mock import SIGNATURE_FAULTS, Client, attempt_offsets, attempt_statuses, minutes


def configure(mock: Client, receiver: Receiver) -> None:
    webhook = mock.partner.put_webhook("identification", url=receiver.url, secret=receiver.secret, enabled=True)
    assert webhook == {"url": receiver.url, "enabled": True, "hasSecret": True}


def test_a_signed_delivery_is_delivered(bullseye_mock: Client, example_receiver: Receiver) -> None:
    configure(bullseye_mock, example_receiver)

    [delivery_id] = bullseye_mock.trigger("visitor.identified")
    delivery = bullseye_mock.wait_for_delivery(delivery_id, state="delivered")

    [attempt] = delivery["attempts"]
    assert attempt["statusCode"] == 200 and attempt["url"] == example_receiver.url
    assert json.loads(attempt["responseExcerpt"]) == {"ok": True, "duplicate": False}
    [log] = bullseye_mock.partner.logs()["logs"]
    assert (log["deliveryId"], log["status"]) == (delivery_id, "delivered")


def test_bad_signatures_are_rejected_with_401(bullseye_mock: Client, example_receiver: Receiver) -> None:
    configure(bullseye_mock, example_receiver)
    faults = [{"signature": name, "events": [i + 1]} for i, name in enumerate(SIGNATURE_FAULTS)]
    ids = bullseye_mock.trigger(  # the last one is signed right
        "visitor.identified", len(faults) + 1, faults=faults, policy={"attempts": 1}, rate="1/s"
    )
    # One a second of mock time: the clock makes them one after another. (Nine at once
    # overflow the example's listen backlog, socketserver's default of 5, and the
    # dropped connections are retried by the kernel a second later.)
    bullseye_mock.wait_for_delivery(ids[0], attempts=1)  # the first is due now: done before the clock moves
    bullseye_mock.advance_clock(by=f"{len(ids)}s")

    bullseye_mock.wait_all()
    outcome = {}
    for delivery_id in ids:
        d = bullseye_mock.delivery(delivery_id)
        outcome[d.get("fault", "none")] = (d["state"], attempt_statuses(d))
    assert outcome == {**{name: ("failed", [401]) for name in SIGNATURE_FAULTS}, "none": ("delivered", [200])}
    # 401 is "invalid signature": never 5xx, which would make the vendor retry a forgery.
    assert json.loads(bullseye_mock.delivery(ids[0])["attempts"][0]["responseExcerpt"]) == {
        "error": "invalid signature"
    }


def test_a_duplicate_is_acknowledged_and_processed_once(bullseye_mock: Client, example_receiver: Receiver) -> None:
    configure(bullseye_mock, example_receiver)
    original, copy = bullseye_mock.trigger("visitor.identified", faults=[{"duplicate": "10s"}])
    bullseye_mock.wait_for_delivery(original)
    bullseye_mock.advance_clock(to_next_due=True)  # the copy, 10 s later in mock time
    answers = [
        json.loads(bullseye_mock.wait_for_delivery(i)["attempts"][0]["responseExcerpt"]) for i in (original, copy)
    ]
    assert answers == [{"ok": True, "duplicate": False}, {"ok": True, "duplicate": True}]


def test_the_receiver_down_then_up_follows_the_retry_schedule(
    bullseye_mock: Client, example_receiver: Receiver
) -> None:
    # The receiver's first attempts meet a sink answering 503 (the endpoint down);
    # then the webhook's URL moves to the receiver, and the next attempt uses it.
    bullseye_mock.configure_sink("down", statuses=[503])
    bullseye_mock.partner.put_webhook(
        "identification", url=bullseye_mock.sink_url("down"), secret=example_receiver.secret, enabled=True
    )
    [delivery_id] = bullseye_mock.trigger("visitor.identified")
    bullseye_mock.wait_for_delivery(delivery_id, attempts=1)
    bullseye_mock.advance_clock(to_next_due=True)  # +1m: 503 again
    bullseye_mock.partner.put_webhook("identification", url=example_receiver.url)
    bullseye_mock.advance_clock(to_next_due=True)  # +6m: the receiver

    delivery = bullseye_mock.wait_for_delivery(delivery_id, "delivered")
    assert attempt_statuses(delivery) == [503, 503, 200]
    assert attempt_offsets(delivery) == minutes(0, 1, 6)
    assert delivery["attempts"][-1]["url"] == example_receiver.url
