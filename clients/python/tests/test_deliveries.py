"""Trigger, wait, the sink's signature verdict, retries under the manual clock, redeliver, reset."""
from __future__ import annotations

import datetime as dt

import pytest

from bullseye_mock import (
    SIGNATURE_FAULTS,
    BullseyeMockError,
    BullseyeMockTimeout,
    Client,
    attempt_offsets,
    attempt_statuses,
    minutes,
    parse_time,
    verify_signature,
)

SECRET = "whsec_test"


def test_trigger_wait_and_the_sinks_signature_verdict(bullseye_mock: Client) -> None:
    bullseye_mock.configure_sink("rx")
    bullseye_mock.partner.put_webhook(
        "identification", url=bullseye_mock.sink_url("rx"), secret=SECRET, enabled=True
    )

    [delivery_id] = bullseye_mock.trigger("visitor.identified")
    delivery = bullseye_mock.wait_for_delivery(delivery_id, state="delivered", timeout=5)

    assert delivery["state"] == "delivered"
    assert attempt_statuses(delivery) == [200]
    [got] = bullseye_mock.sink_requests("rx", at_least=1, timeout=5)["requests"]
    assert got["signature"] == "valid"
    assert got["secretFrom"] == "webhook"  # the sink has no secret: the webhook's verified it
    assert got["deliveryId"] == delivery_id and got["attempt"] == 1
    # The same check in Python: HMAC-SHA256 of the exact bytes, lowercase hex.
    assert verify_signature(SECRET, got["bodyRaw"].encode(), got["headers"]["X-Bullseye-Signature"][0])
    assert got["body"]["event_type"] == "visitor.identified"
    assert delivery["payload"] == got["body"]


def test_retry_schedule_under_the_manual_clock(bullseye_mock: Client) -> None:
    bullseye_mock.route_to_sink("flaky", secret=SECRET, statuses=[500, 500, 200])
    [delivery_id] = bullseye_mock.trigger("visitor.identified")

    first = bullseye_mock.wait_for_delivery(delivery_id, attempts=1)
    assert first["state"] == "retrying"
    assert bullseye_mock.clock()["nextDue"] == first["nextAttemptAt"]

    moved = bullseye_mock.advance_clock(to_next_due=True)
    assert moved["moved"] and moved["advancedBy"] == "1m0s" and moved["idle"]
    moved = bullseye_mock.advance_clock(to_next_due=True)
    assert moved["advancedBy"] == "5m0s"
    assert bullseye_mock.advance_clock(to_next_due=True)["moved"] is False  # nothing left

    delivery = bullseye_mock.wait_for_delivery(delivery_id)
    assert delivery["state"] == "delivered"
    assert attempt_statuses(delivery) == [500, 500, 200]
    assert attempt_offsets(delivery) == minutes(0, 1, 6)
    # The retries were due when the previous attempt said they would be.
    attempts = delivery["attempts"]
    assert [a.get("scheduledAt") for a in attempts[1:]] == [a["nextAttemptAt"] for a in attempts[:-1]]

    got = bullseye_mock.sink_requests("flaky", at_least=3)["requests"]
    assert [(r["attempt"], r["status"], r["signature"]) for r in got] == [
        (1, 500, "valid"), (2, 500, "valid"), (3, 200, "valid"),
    ]
    # Every attempt sends the same bytes with the same signature.
    assert len({r["bodyRaw"] for r in got}) == 1
    assert len({r["headers"]["X-Bullseye-Signature"][0] for r in got}) == 1

    logs = bullseye_mock.partner.logs(type="identification")["logs"]
    assert [(e["attempt"], e["status"]) for e in reversed(logs)] == [(1, "retrying"), (2, "retrying"), (3, "delivered")]
    # The control API's copy of the log is the vendor's page, and journals nothing.
    journaled = bullseye_mock.requests()["total"]
    assert bullseye_mock.attempt_log(api_key=bullseye_mock.api_key, type="identification") == bullseye_mock.partner.logs(type="identification")
    assert bullseye_mock.requests()["total"] == journaled + 1


def test_advance_by_replays_the_whole_schedule_and_set_clock(bullseye_mock: Client) -> None:
    bullseye_mock.route_to_sink("down", statuses=[503])
    [delivery_id] = bullseye_mock.trigger("visitor.identified")
    start = parse_time(bullseye_mock.clock()["now"])
    # Let the first attempt finish before moving the clock: a move that starts while it is
    # in flight can run past its 30 s timeout (the mock's race; see the report).
    bullseye_mock.wait_for_delivery(delivery_id, attempts=1)

    bullseye_mock.advance_clock(by=dt.timedelta(hours=1))  # every attempt due on the way, in order
    delivery = bullseye_mock.wait_for_delivery(delivery_id, "failed")
    assert attempt_offsets(delivery) == minutes(0, 1, 6, 36)
    assert parse_time(bullseye_mock.clock()["now"]) == start + dt.timedelta(hours=1)

    later = start + dt.timedelta(days=1)
    assert parse_time(bullseye_mock.set_clock(later)["now"]) == later
    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.set_clock(start)  # never back
    assert e.value.status == 400 and e.value.code == "BadRequest"


def test_signature_faults_and_duplicates_in_the_one_grammar(bullseye_mock: Client) -> None:
    bullseye_mock.route_to_sink("careful", secret=SECRET, reject_invalid_signatures=True)
    faults = [{"signature": name, "events": [i + 1]} for i, name in enumerate(SIGNATURE_FAULTS)]
    n = len(SIGNATURE_FAULTS) + 1
    ids = bullseye_mock.trigger(
        "visitor.identified",
        n,
        faults=faults + [{"duplicate": "concurrent", "events": [n]}],
        policy={"attempts": 1},
    )
    assert len(ids) == n + 1  # the duplicate right after its original

    bullseye_mock.wait_all(timeout=5)
    by_fault: dict = {}
    for delivery_id in ids:
        d = bullseye_mock.delivery(delivery_id)
        by_fault.setdefault(d.get("fault", ""), []).append((d["state"], attempt_statuses(d)))
    for name in SIGNATURE_FAULTS:
        assert by_fault[name] == [("failed", [401])], name
    assert by_fault[""] == [("delivered", [200]), ("delivered", [200])]

    verdicts = {r["deliveryId"]: r for r in bullseye_mock.sink_requests("careful", page_size=100)["requests"]}
    assert verdicts[ids[0]]["signature"] == "invalid"  # wrong_secret
    assert verdicts[ids[1]]["signature"] == "missing"
    assert verdicts[ids[-1]]["signature"] == "valid"
    dup = bullseye_mock.delivery(ids[-1])
    assert dup["duplicateOf"] == ids[-2] and dup["payloadRaw"] == bullseye_mock.delivery(ids[-2])["payloadRaw"]


def test_deliveries_list_redeliver_and_reset(bullseye_mock: Client) -> None:
    bullseye_mock.route_to_sink("rx")
    ids = bullseye_mock.trigger("visitor.identified", 3, rate="10/s")
    assert bullseye_mock.wait_all(timeout="200ms", raise_on_timeout=False)["timedOut"]  # the manual clock holds 2, 3
    with pytest.raises(BullseyeMockTimeout) as e:
        bullseye_mock.wait_all(timeout="100ms")
    assert e.value.result["pendingCount"] == 2
    bullseye_mock.wait_for_delivery(ids[0])  # done before the clock moves
    bullseye_mock.advance_clock(by="1s")
    assert bullseye_mock.wait_all()["pendingCount"] == 0

    page = bullseye_mock.deliveries(state="delivered", event_type="visitor.identified", page_size=2)
    assert page["total"] == 3 and len(page["deliveries"]) == 2
    assert {d["id"] for d in bullseye_mock.deliveries()["deliveries"]} == set(ids)

    again = bullseye_mock.redeliver(ids[0])
    assert again["redeliveryOf"] == ids[0]
    assert bullseye_mock.wait_for_delivery(again["deliveryId"])["duplicateOf"] == ids[0]

    assert bullseye_mock.reset()["success"] is True
    assert bullseye_mock.deliveries()["total"] == 0
    assert bullseye_mock.sink("rx")["received"] == 0  # the sink's settings stay, its recordings go
    assert bullseye_mock.partner.webhook("identification")["url"] == bullseye_mock.sink_url("rx")  # setup stays


def test_sinks_configure_read_delete_and_post(bullseye_mock: Client) -> None:
    sink = bullseye_mock.configure_sink("s1", statuses=[202, 500], secret=SECRET, capacity=5, delay="0s")
    assert sink["hasSecret"] and sink["statuses"] == [202, 500] and sink["capacity"] == 5
    assert [s["name"] for s in bullseye_mock.sinks()] == ["s1"]
    assert bullseye_mock.sink("s1")["name"] == "s1"

    status, answer = bullseye_mock.send_to_sink("s1", {"hello": "world"}, signature_secret=SECRET)
    assert (status, answer["signature"]) == (202, "valid")
    status, answer = bullseye_mock.send_to_sink("s1", b"{}", headers={"X-Bullseye-Signature": "00"})
    assert (status, answer["signature"]) == (500, "invalid")
    got = bullseye_mock.sink_requests("s1")
    assert got["received"] == 2 and [r["status"] for r in got["requests"]] == [202, 500]

    bullseye_mock.delete_sink("s1")
    assert bullseye_mock.sinks() == []
    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.sink("s1")
    assert e.value.status == 404 and e.value.details == {"name": "s1"}


def test_sink_long_poll_times_out_with_what_it_has(bullseye_mock: Client) -> None:
    with pytest.raises(BullseyeMockTimeout) as e:
        bullseye_mock.sink_requests("nobody-yet", at_least=1, timeout=0.2)
    assert e.value.result["received"] == 0 and e.value.result["timedOut"] is True
    quiet = bullseye_mock.sink_requests("nobody-yet", at_least=1, timeout=0.1, raise_on_timeout=False)
    assert quiet["requests"] == []
