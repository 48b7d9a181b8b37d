"""A Bullseye webhook receiver done the vendor's way, standard library only.

It verifies the HMAC-SHA256 of the raw body with a constant-time comparison,
answers 401 to a missing or wrong signature, acknowledges every valid event
with 200 at once, and processes each session_id once even when the vendor
delivers it twice.

    BULLSEYE_WEBHOOK_SECRET=whsec_... python3 receiver.py [[HOST:]PORT]

It listens on 127.0.0.1 unless HOST says otherwise (0.0.0.0 for a mock in a
container to reach it), and prints "listening on PORT" when ready (PORT 0
picks a free port).
"""
import hashlib
import hmac
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("BULLSEYE_WEBHOOK_SECRET", "")
seen = set()  # a real receiver keeps this in its database
seen_lock = threading.Lock()


def verify(payload: bytes, signature: str) -> bool:
    expected = hmac.new(SECRET.encode(), payload, hashlib.sha256).hexdigest()
    # Compare bytes, not str: compare_digest raises TypeError on a non-ASCII
    # str, and a forged header must get 401, not a 500.
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def process(event: dict) -> None:
    """The application's work: keep it fast or queue it (30 s timeout)."""
    print("event", event.get("event_type") or event.get("event"), flush=True)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        # The raw bytes, before any JSON parsing: the signature covers them.
        payload = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not verify(payload, self.headers.get("X-Bullseye-Signature", "")):
            return self.answer(401, {"error": "invalid signature"})
        try:
            event = json.loads(payload)
            key = event.get("session_id") or event.get("event_id")
        except (ValueError, AttributeError):
            return self.answer(400, {"error": "invalid JSON"})
        with seen_lock:
            duplicate = key in seen
            seen.add(key)
        if not duplicate:
            process(event)
        # A duplicate is acknowledged too: a non-2xx makes the vendor retry.
        self.answer(200, {"ok": True, "duplicate": duplicate})

    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # keep stdout for the readiness line and events


if __name__ == "__main__":
    if not SECRET:
        sys.exit("set BULLSEYE_WEBHOOK_SECRET to the webhook's secret")
    host, _, port = (sys.argv[1] if len(sys.argv) > 1 else "8000").rpartition(":")
    # The vendor retries in bursts: a deeper listen queue than the default 5
    # keeps a burst from waiting on the kernel's SYN retries.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer((host.strip("[]") or "127.0.0.1", int(port)), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()
