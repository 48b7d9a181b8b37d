"""GET /_mock/traffic and /_mock/traffic.svg: the load report, its thresholds, and its plot.

Skipped against a binary that does not serve them yet (they came in parallel with this client);
the stand-in test at the end checks the client's side either way.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List

import pytest

from bullseye_mock import BullseyeMockError, Client


def test_the_traffic_report_and_its_thresholds(bullseye_mock: Client) -> None:
    bullseye_mock.route_to_sink("load", statuses=[200, 200, 500, 200])
    ids = bullseye_mock.trigger("visitor.identified", 4, policy={"attempts": 1})
    for delivery_id in ids:
        bullseye_mock.wait_for_delivery(delivery_id, "final")

    report = bullseye_mock.traffic()
    assert report["requests"] == 4 and report["success"] == 0.75
    assert report["statusCodes"] == {"200": 3, "500": 1}
    assert set(report["latencyMs"]) >= {"p50", "p90", "p95", "p99", "max", "mean"}
    assert report["deliveries"] == {"delivered": 3, "failed": 1, "canceled": 0}
    assert "pass" not in report  # no thresholds asked for

    judged = bullseye_mock.traffic(maxP99="200ms", minSuccess=0.99)  # the mock's spelling
    assert judged["pass"] is False
    assert [(t["metric"], t["pass"]) for t in judged["thresholds"]] == [("p99", True), ("success", False)]
    assert bullseye_mock.traffic(max_p99=dt.timedelta(milliseconds=200), min_success=0.5)["pass"] is True
    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.traffic(min_success=0.99, check=True)
    assert e.value.code == "ThresholdsFailed" and "success 0.75" in e.value.message
    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.traffic(max_p99="soon")
    assert e.value.status == 400 and e.value.details.get("parameter") == "maxP99"

    bullseye_mock.reset()
    assert bullseye_mock.traffic()["requests"] == 0  # since start or the last reset


def test_the_traffic_plot(bullseye_mock: Client) -> None:
    bullseye_mock.route_to_sink("plot")
    for delivery_id in bullseye_mock.trigger("visitor.identified", 2):
        bullseye_mock.wait_for_delivery(delivery_id)
    svg = bullseye_mock.traffic_svg()
    assert "<svg" in svg and svg.rstrip().endswith("</svg>")
    assert "<svg" in bullseye_mock.traffic_svg(max_p99="200ms")


def test_the_client_sends_thresholds_as_query_parameters() -> None:
    """Against a stand-in that records the requests, whatever the binary serves."""
    seen: List[str] = []

    class StandIn(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            if self.path.startswith("/_mock/traffic.svg"):
                body, ctype = b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"
            else:
                held = "maxP99=1ms" not in self.path
                report = {"requests": 1, "thresholds": [{"metric": "p99", "op": "<=", "limit": "1ms",
                                                         "actual": "3.5ms", "pass": held}], "pass": held}
                body, ctype = json.dumps(report).encode(), "application/json"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        client = Client(f"http://127.0.0.1:{server.server_port}")
        client.traffic()
        assert client.traffic(maxP99="200ms", minSuccess=0.99)["pass"] is True
        client.traffic(max_p99=0.2, min_success=0.99, max_late=0, max_latency=dt.timedelta(seconds=1))
        with pytest.raises(BullseyeMockError) as e:
            client.traffic(max_p99="1ms", check=True)
        assert e.value.message == "traffic thresholds failed: p99 3.5ms (want <= 1ms)"
        assert client.traffic_svg(max_p99="1ms").startswith("<svg")
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [
        "/_mock/traffic",
        "/_mock/traffic?maxP99=200ms&minSuccess=0.99",
        "/_mock/traffic?maxP99=0.2s&maxLatency=1s&minSuccess=0.99&maxLate=0",
        "/_mock/traffic?maxP99=1ms",
        "/_mock/traffic.svg?maxP99=1ms",
    ]
