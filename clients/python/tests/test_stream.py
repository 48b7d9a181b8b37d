"""The change stream (GET /_mock/stream) against the real binary, and the SSE parser on its own.

Every wait is bounded: events_until / wait_for_event fail with what the stream
sent when the awaited event does not come in time. To show that an event did
NOT come, a test makes a later change that the stream does carry (a marker) and
reads up to it: the stream is in order, so whatever was to come came before.
"""
from __future__ import annotations

import threading
import time
from typing import Dict, List

import pytest

from bullseye_mock import (
    STREAM_EVENTS,
    BullseyeMockError,
    BullseyeMockTimeout,
    Client,
    EventStream,
    MockProcess,
    StreamEvent,
)
from bullseye_mock.stream import _SSEParser


def names(events: List[StreamEvent]) -> List[str]:
    return [e.name for e in events]


def test_watch_a_delivery_get_delivered(bullseye_mock):
    bullseye_mock.route_to_sink("demo")
    with bullseye_mock.stream(coalesce=0) as changes:
        [delivery_id] = bullseye_mock.trigger("visitor.identified")
        delivered = changes.wait_for_event(
            "delivery", lambda d: d["id"] == delivery_id and d["state"] == "delivered", timeout=5
        )
    assert delivered.data["attemptCount"] == 1


def test_a_delivery_its_attempt_and_the_sinks_verdict(bullseye_mock: Client) -> None:
    bullseye_mock.configure_sink("rx")
    bullseye_mock.partner.put_webhook("identification", url=bullseye_mock.sink_url("rx"), secret="whsec_s", enabled=True)

    with bullseye_mock.stream(coalesce="0s") as stream:
        assert isinstance(stream, EventStream) and stream.status == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        [delivery_id] = bullseye_mock.trigger("visitor.identified")
        seen = stream.events_until(
            "delivery", lambda d: d["id"] == delivery_id and d["state"] == "delivered", timeout=5
        )

        hello = seen[0]
        assert hello.name == "hello" and hello.id is None and stream.hello == hello
        assert isinstance(hello.data["lastEventId"], int)
        assert set(hello.data["clock"]) == {"now", "manual", "nextDue"} and hello.data["clock"]["manual"] is True
        assert stream.retry == 2000

        changes = seen[1:]
        ids = [e.id for e in changes]
        assert all(isinstance(i, int) for i in ids) and ids == sorted(set(ids)), ids  # increasing
        assert ids[0] > hello.data["lastEventId"]
        assert stream.last_event_id == ids[-1]

        by_name: Dict[str, List[StreamEvent]] = {}
        for e in changes:
            by_name.setdefault(e.name, []).append(e)
        deliveries = by_name["delivery"]
        assert all(e.data["id"] == delivery_id for e in deliveries)
        assert deliveries[0].data["created"] is True and deliveries[0].data["eventType"] == "visitor.identified"
        # Changes the reader was not yet there for come merged into the latest, which then says created.
        assert {k: v for k, v in deliveries[-1].data.items() if k != "created"} == {
            "id": delivery_id,
            "partnerId": deliveries[0].data["partnerId"],
            "type": "identification",
            "eventType": "visitor.identified",
            "organizationId": deliveries[0].data["organizationId"],
            "state": "delivered",
            "attemptCount": 1,
        }
        [attempt] = by_name["attempt"]
        assert (attempt.data["deliveryId"], attempt.data["attempt"]) == (delivery_id, 1)
        assert (attempt.data["status"], attempt.data["statusCode"]) == ("delivered", 200)
        assert attempt.data["url"] == bullseye_mock.sink_url("rx")
        [received] = by_name["sink"]
        assert (received.data["sink"], received.data["deliveryId"], received.data["attempt"]) == ("rx", delivery_id, 1)
        assert (received.data["signature"], received.data["status"], received.data["method"]) == ("valid", 200, "POST")
        # The sink heard it before the attempt ended, and the attempt ended before the delivery did.
        assert received.id < attempt.id < deliveries[-1].id
        # The Partner API call that configured the webhook came before the stream opened.
        assert "request" not in by_name
    assert stream.closed and stream.read() is None and list(stream) == []


def test_a_retry_under_the_manual_clock(bullseye_mock: Client) -> None:
    bullseye_mock.route_to_sink("flaky", statuses=[503, 200])
    with bullseye_mock.stream(["delivery", "attempt", "clock"], coalesce=0) as stream:
        [delivery_id] = bullseye_mock.trigger("visitor.identified")
        retrying = stream.wait_for_event("delivery", lambda d: d["state"] == "retrying", timeout="5s")
        assert retrying.data["attemptCount"] == 1
        assert retrying.data["nextAttemptAt"] == bullseye_mock.clock()["nextDue"]

        moved = bullseye_mock.advance_clock(to_next_due=True)
        seen = stream.events_until("clock", lambda d: d["now"] == moved["now"], timeout=5)
    attempts = [(e.data["attempt"], e.data["status"]) for e in seen if e.name == "attempt"]
    assert attempts == [(2, "delivered")]
    delivered = [e for e in seen if e.name == "delivery" and e.data["state"] == "delivered"]
    assert [e.data["id"] for e in delivered] == [delivery_id]
    assert seen[-1].data["manual"] is True and seen[-1].data["now"] == retrying.data["nextAttemptAt"]


def test_events_chooses_the_kinds(bullseye_mock: Client) -> None:
    bullseye_mock.route_to_sink("quiet")
    with bullseye_mock.stream(events="request", coalesce=0) as stream:
        [delivery_id] = bullseye_mock.trigger("visitor.identified")
        bullseye_mock.wait_for_delivery(delivery_id, timeout=5)  # its delivery, attempt and sink events were made
        bullseye_mock.reset()
        bullseye_mock.partner.organizations(page_size=1)  # the marker: a Partner API request
        seen = stream.events_until(
            "request", lambda d: d["path"] == "/api/v1/partner/organizations", timeout=5
        )
    assert names(seen) == ["hello", "reset", "request"]  # a reset always comes
    marker = seen[-1].data
    assert (marker["method"], marker["query"], marker["status"]) == ("GET", "pageSize=1", 200)
    assert marker["partnerId"] == bullseye_mock.partners()[0]["id"]


def test_a_field_filter_sends_only_the_events_that_carry_it(bullseye_mock: Client) -> None:
    bullseye_mock.route_to_sink("rx")
    first, second = bullseye_mock.trigger("visitor.identified", 2, delay="1m")  # scheduled: the clock is manual
    with bullseye_mock.stream(delivery_id=first, coalesce=0) as stream:
        bullseye_mock.advance_clock(by="1m")  # both are attempted
        bullseye_mock.wait_for_delivery(second, timeout=5)
        bullseye_mock.wait_for_delivery(first, timeout=5)
        bullseye_mock.reset()  # the marker: a reset always comes
        seen = stream.events_until("reset", timeout=5)
    assert "clock" not in names(seen), "a clock event carries no delivery: filtered out"
    changes = [e for e in seen if e.name in ("delivery", "attempt")]
    about = {e.data["id"] if e.name == "delivery" else e.data["deliveryId"] for e in changes}
    assert about == {first}, changes
    assert [e.data["state"] for e in changes if e.name == "delivery"][-1] == "delivered"
    assert [e.data["status"] for e in changes if e.name == "attempt"] == ["delivered"]
    assert second != first


def test_resume_after_the_last_event_seen(bullseye_mock: Client) -> None:
    bullseye_mock.route_to_sink("later")
    with bullseye_mock.stream("delivery", coalesce=0) as first:
        [early] = bullseye_mock.trigger("visitor.identified", delay="1h")
        seen = first.wait_for_event("delivery", lambda d: d["id"] == early, timeout=5)
        resume_from = first.last_event_id
    assert resume_from == seen.id

    # Changes while no stream is open are kept (--stream-buffer) for the next.
    later = bullseye_mock.trigger("visitor.identified", 2, delay="1h")
    with bullseye_mock.stream("delivery", coalesce=0, last_event_id=resume_from) as resumed:
        hello = resumed.wait_for_event("hello", timeout=5)
        assert hello.data["lastEventId"] == resume_from
        got = [resumed.wait_for_event(timeout=5) for _ in later]
        assert [(e.name, e.data["id"], e.data["state"], e.data["created"]) for e in got] == [
            ("delivery", d, "scheduled", True) for d in later
        ]
        assert resumed.last_event_id == got[-1].id > resume_from

    # An id the mock never gave (a restarted mock): lost, reason unknown; reload, then go on.
    with bullseye_mock.stream(last_event_id=10**9, coalesce=0) as unknown:
        seen_lost = unknown.events_until("lost", timeout=5)
        assert names(seen_lost) == ["hello", "lost"]
        lost = seen_lost[-1]
        assert lost.data == {"missed": 0, "reason": "unknown", "lastEventId": lost.id}
        assert unknown.last_event_id == lost.id


@pytest.mark.parametrize(
    "kwargs, parameter, message",
    [
        ({"heartbeat": "1ms"}, "heartbeat", "heartbeat must be from 50ms to 5m0s"),
        ({"coalesce": "1m"}, "coalesce", "coalesce must be from 0s to 10s"),
        ({"events": ["delivery", "nope"]}, "events", 'unknown event "nope", expected some of delivery'),
        ({"state": "done"}, "state", "state must be one of"),
        ({"api_key": "nope"}, "apiKey", "no partner has apiKey"),
        ({"limit": 0}, "limit", "limit must be an integer from 1 to 100000"),
        ({"timeout": "25h"}, "timeout", "timeout must be from 1ns to 24h0m0s"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(
    bullseye_mock: Client, kwargs: Dict[str, str], parameter: str, message: str
) -> None:
    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.stream(**kwargs)  # type: ignore[arg-type]
    assert (e.value.status, e.value.code) == (400, "BadRequest")
    assert e.value.details["parameter"] == parameter
    assert message in e.value.message
    assert "/_mock/stream" in str(e.value)


def test_limit_and_timeout_end_the_stream_with_an_end_event(bullseye_mock: Client) -> None:
    bullseye_mock.route_to_sink("rx")
    # One request waits for the next two scheduled deliveries.
    with bullseye_mock.stream("delivery", state="scheduled", limit=2, coalesce=0) as stream:
        ids = bullseye_mock.trigger("visitor.identified", 3, delay="1h")
        got = list(stream)  # the iteration ends after the end event
    assert names(got) == ["hello", "delivery", "delivery", "end"]
    assert [e.data["id"] for e in got[1:3]] == ids[:2]
    end = got[-1]
    assert end.id is None and end.data == {"reason": "limit", "lastEventId": got[2].id}
    assert stream.closed and stream.last_event_id == got[2].id

    # The third is left for the next stream, resumed after the last one sent.
    with bullseye_mock.stream("delivery", limit=1, coalesce=0, last_event_id=end.data["lastEventId"]) as rest:
        assert [(e.name, e.data.get("id")) for e in rest][1:] == [("delivery", ids[2]), ("end", None)]

    with bullseye_mock.stream(timeout="50ms") as quiet:  # nothing happens: it ends on time
        assert [(e.name, e.data.get("reason")) for e in quiet] == [("hello", None), ("end", "timeout")]


@pytest.mark.bullseye_mock(admin_token="s3cret")
def test_the_admin_token_guards_the_stream(bullseye_mock: Client) -> None:
    with pytest.raises(BullseyeMockError) as e:
        Client(bullseye_mock.base_url).stream()
    assert (e.value.status, e.value.code) == (401, "Unauthorized")
    with bullseye_mock.stream() as stream:  # the fixture's client sends the token
        hello = stream.wait_for_event("hello", timeout=5)
        assert isinstance(hello.data["lastEventId"], int) and hello.data["lastEventId"] > 0


def test_past_64_open_streams_a_429_with_retry_after(bullseye_mock: Client) -> None:
    streams = [bullseye_mock.stream(events="reset") for _ in range(64)]
    try:
        with pytest.raises(BullseyeMockError) as e:
            bullseye_mock.stream()
        assert (e.value.status, e.value.code) == (429, "TooManyRequests")
        assert e.value.header("Retry-After")
        assert "64 streams are open" in e.value.message
        streams.pop().close()
        # The mock gives the place back once it sees the connection closed, a
        # moment later: the open is tried again at once, within a bound.
        deadline = time.monotonic() + 5
        while True:
            try:
                streams.append(bullseye_mock.stream(events="reset"))
                break
            except BullseyeMockError as again:
                assert again.status == 429
                if time.monotonic() > deadline:
                    pytest.fail("a closed stream's place was not given back within 5s")
        bullseye_mock.reset()
        for s in streams:
            assert s.events_until("reset", timeout=5)[-1].data == {}
    finally:
        for s in streams:
            s.close()


def test_heartbeats_are_skipped_unless_asked_for(bullseye_mock: Client) -> None:
    with bullseye_mock.stream(heartbeat="50ms") as quiet, bullseye_mock.stream(
        heartbeat="50ms", heartbeats=True
    ) as loud:
        beats = [loud.wait_for_event("heartbeat", timeout=5) for _ in range(3)]
        assert [(b.id, b.name) for b in beats] == [(None, "heartbeat")] * 3
        assert beats[0].data["time"].endswith("Z")
        # quiet was sent as many heartbeats meanwhile; a reset is the marker.
        bullseye_mock.reset()
        assert names(quiet.events_until("reset", timeout=5)) == ["hello", "reset"]


def test_stopping_ends_the_iteration(bullseye_mock: Client, bullseye_mock_process: MockProcess) -> None:
    stream = bullseye_mock.stream(coalesce=0)
    assert stream.wait_for_event("hello", timeout=5).name == "hello"
    assert bullseye_mock_process.stop() == 0
    rest = list(stream)  # ends after stopping: the mock closes the stream
    assert names(rest) == ["stopping"]
    assert rest[0].id is None and rest[0].data == {"lastEventId": stream.hello.data["lastEventId"]}  # type: ignore[union-attr]
    assert stream.closed
    with pytest.raises(BullseyeMockError) as e:
        stream.wait_for_event("delivery", timeout=1)
    assert e.value.code == "StreamEnded"


def test_a_wait_that_runs_out_says_what_came_and_leaves_the_stream_usable(bullseye_mock: Client) -> None:
    with bullseye_mock.stream(coalesce=0) as stream:
        with pytest.raises(BullseyeMockTimeout) as e:
            stream.wait_for_event("delivery", timeout=0.2)
        assert names(e.value.result) == ["hello"]
        assert "no delivery event within 0.2s; the stream sent: hello" in str(e.value)
        bullseye_mock.reset()
        assert stream.wait_for_event(timeout=5).name == "reset"


def test_close_wakes_a_reader_in_another_thread(bullseye_mock: Client) -> None:
    stream = bullseye_mock.stream(events="reset")
    assert stream.read(timeout=5).name == "hello"  # type: ignore[union-attr]
    got: List[object] = []
    reader = threading.Thread(target=lambda: got.append(stream.read()))
    reader.start()
    stream.close()
    reader.join(timeout=5)
    assert not reader.is_alive() and got == [None]
    stream.close()  # idempotent


def test_the_stream_event_names_are_the_documents(bullseye_mock: Client) -> None:
    op = bullseye_mock.openapi()["paths"]["/_mock/stream"]["get"]
    x_events = op["responses"]["200"]["x-events"]
    assert set(x_events) == {"hello", *STREAM_EVENTS, "lost", "stopping", "end"}
    [events] = [p for p in op["parameters"] if p["name"] == "events"]
    assert all(n in events["description"] for n in STREAM_EVENTS)


# --- the parser, offline ---


def parse(*chunks: str, heartbeats: bool = False) -> List[StreamEvent]:
    p = _SSEParser(heartbeats)
    return [e for c in chunks for e in p.feed(c)]


def test_the_parser_reads_the_mocks_wire_format() -> None:
    wire = (
        "retry: 2000\n\n"
        'event: hello\ndata: {"lastEventId":0}\n\n'
        ": heartbeat 2026-01-01T00:00:00Z\n\n"
        'id: 7\nevent: delivery\ndata: {"id":"d1","state":"delivered"}\n\n'
        'event: stopping\ndata: {"lastEventId":7}\n\n'
    )
    want = [
        StreamEvent(None, "hello", {"lastEventId": 0}),
        StreamEvent(7, "delivery", {"id": "d1", "state": "delivered"}),
        StreamEvent(None, "stopping", {"lastEventId": 7}),
    ]
    assert parse(wire) == want
    # Cut anywhere, and with any line ending, it reads the same.
    for ending in ("\n", "\r\n", "\r"):
        text = wire.replace("\n", ending)
        for cut in range(len(text)):
            assert parse(text[:cut], text[cut:]) == want, (ending, cut)
    p = _SSEParser()
    p.feed(wire)
    assert p.retry == 2000
    beats = parse(wire, heartbeats=True)
    assert beats[1] == StreamEvent(None, "heartbeat", {"time": "2026-01-01T00:00:00Z"})


def test_the_parser_follows_the_standard_on_the_rest() -> None:
    assert parse("\ufeffdata:{\"a\":1}\n\n") == [StreamEvent(None, "message", {"a": 1})]  # BOM, no space
    assert parse("data: [1,\ndata: 2]\n\n") == [StreamEvent(None, "message", {"raw": "[1,\n2]"})]  # lines join
    assert parse("data: {\ndata: \"a\": 1}\n\n") == [StreamEvent(None, "message", {"a": 1})]
    assert parse("event: x\nid: 3\n\n") == []  # no data: nothing to dispatch
    assert parse("event: x\ndata: not json\n\n") == [StreamEvent(None, "x", {"raw": "not json"})]
    assert parse("id: abc\nevent: x\ndata: {}\nfoo: bar\n\n") == [StreamEvent(None, "x", {})]
    assert parse('event: x\ndata: {}\n') == []  # not dispatched before its blank line
