"""The mock's change stream, ``GET /_mock/stream``: Server-Sent Events, read with the standard library.

:meth:`bullseye_mock.Client.stream` opens one and returns an :class:`EventStream`,
an iterator of :class:`StreamEvent` and a context manager::

    with mock.stream(coalesce=0) as events:   # subscribed once stream() returns
        [delivery_id] = mock.trigger("visitor.identified")
        delivered = events.wait_for_event(
            "delivery", lambda d: d["id"] == delivery_id and d["state"] == "delivered", timeout=5
        )

The events, in the order the mock sends them: ``hello`` first (no id; data
``{"lastEventId", "clock"}``); then the changes, each with an increasing id:
``delivery`` (:class:`~bullseye_mock.types.DeliveryChange`), ``attempt``
(:class:`~bullseye_mock.types.Attempt`), ``sink`` (:class:`~bullseye_mock.types.SinkEvent`),
``request`` (:class:`~bullseye_mock.types.RequestEvent`), ``clock``
(:class:`~bullseye_mock.types.Clock`), ``reset`` (``{}``); ``lost``
(:class:`~bullseye_mock.types.StreamLost`; its id is where the stream goes on)
when events were missed: reload what you show; and last, after which the
iteration ends, ``stopping`` (no id; data ``{"lastEventId"}``) when the mock
shuts down, or ``end`` (no id; data ``{"reason": "limit" | "timeout",
"lastEventId"}``) when the stream's ``limit`` or ``timeout`` was reached.
Heartbeats (the comment lines a quiet stream sends) are skipped unless
``heartbeats=True`` asks for them as events named ``heartbeat`` (data ``{"time"}``).
"""
from __future__ import annotations

import http.client
import json
import queue
import socket
import threading
import time
import weakref
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Union

from .errors import BullseyeMockConnectionError, BullseyeMockError, BullseyeMockTimeout
from .util import Duration, seconds

#: The kinds of change a stream's ``events`` parameter chooses from (default: all).
STREAM_EVENTS = ("delivery", "attempt", "sink", "request", "clock", "reset")

#: The names of the events a stream can yield: the changes, and the stream's own.
STREAM_EVENT_NAMES = ("hello",) + STREAM_EVENTS + ("lost", "stopping", "end", "heartbeat")

#: The events after which the mock ends the stream.
_LAST = ("stopping", "end")


class StreamEvent(NamedTuple):
    """One event of the stream.

    Attributes:
        id: the event's id (increasing, never reused, not even by a reset);
            ``None`` for ``hello``, ``stopping``, ``end`` and heartbeats, which have none.
        name: ``hello``, ``delivery``, ``attempt``, ``sink``, ``request``,
            ``clock``, ``reset``, ``lost``, ``stopping``, ``end`` (or ``heartbeat``).
        data: the event's JSON object (``bullseye_mock.types`` has its shape
            per name: ``DeliveryChange``, ``Attempt``, ``SinkEvent``, ...);
            ``{"raw": text}`` in the unlikely case it was not JSON.
    """

    id: Optional[int]
    name: str
    data: Dict[str, Any]


#: Wherever a predicate is taken: it gets the event's data.
Predicate = Callable[[Dict[str, Any]], bool]


class _SSEParser:
    """The Server-Sent Events wire format, line by line (the HTML standard's algorithm).

    Lines end in ``\\n``, ``\\r\\n`` or ``\\r``; a blank line dispatches the
    event gathered so far; ``data`` lines join with ``\\n``; a line starting
    with ``:`` is a comment (the mock's heartbeat is ``: heartbeat TIME``).
    """

    def __init__(self, heartbeats: bool = False) -> None:
        self.heartbeats = heartbeats
        self.retry: Optional[int] = None  # milliseconds, as the stream's retry field said
        self._first = True
        self._pending = ""  # a line cut short by the end of a chunk
        self._skip_lf = False  # the last chunk ended in \r: a \n starting the next ends no line
        self._reset()

    def _reset(self) -> None:
        self._name = ""
        self._data: List[str] = []
        self._id: Optional[str] = None

    def feed(self, chunk: str) -> List[StreamEvent]:
        """The events that ``chunk`` (text, any amount, cut anywhere) completes."""
        if self._first and chunk:
            self._first = False
            chunk = chunk.lstrip("\ufeff")
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[0] == "\n":
                chunk = chunk[1:]  # the \n of a \r\n cut in two
        text = self._pending + chunk
        out: List[StreamEvent] = []
        start = 0
        i = 0
        n = len(text)
        while i < n:
            c = text[i]
            if c == "\n" or c == "\r":
                ev = self._line(text[start:i])
                if ev is not None:
                    out.append(ev)
                if c == "\r":
                    if i + 1 == n:
                        self._skip_lf = True
                    elif text[i + 1] == "\n":
                        i += 1
                start = i + 1
            i += 1
        self._pending = text[start:]
        return out

    def _line(self, line: str) -> Optional[StreamEvent]:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            comment = line[1:].strip()
            if self.heartbeats and comment.startswith("heartbeat"):
                return StreamEvent(None, "heartbeat", {"time": comment[len("heartbeat"):].strip()})
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._name = value
        elif field == "data":
            self._data.append(value)
        elif field == "id":
            if "\0" not in value:
                self._id = value
        elif field == "retry":
            if value.isdigit():
                self.retry = int(value)
        return None

    def _dispatch(self) -> Optional[StreamEvent]:
        name, data, raw_id = self._name or "message", self._data, self._id
        self._reset()
        if not data:
            return None  # no data: nothing to dispatch (the retry line is one of these)
        text = "\n".join(data)
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        body: Dict[str, Any] = parsed if isinstance(parsed, dict) else {"raw": text}
        event_id: Optional[int] = None
        if raw_id is not None and raw_id.strip().isdigit():
            event_id = int(raw_id)
        return StreamEvent(event_id, name, body)


class _End:
    """The end of the stream, in the queue."""


_END = _End()

_Item = Union[StreamEvent, _End, BullseyeMockError]


def _pump(
    resp: http.client.HTTPResponse,
    parser: _SSEParser,
    out: "queue.Queue[_Item]",
    idle: float,
    url: str,
    stopped: threading.Event,
) -> None:
    """The reader thread: lines off the socket, events into the queue, then the end (or the error)."""
    try:
        while not stopped.is_set():
            raw = resp.readline()
            if not raw:
                out.put(_END)
                return
            for ev in parser.feed(raw.decode("utf-8", "replace")):
                out.put(ev)
                if ev.name in _LAST:
                    out.put(_END)  # the mock ends the stream after it
                    return
    except Exception as e:  # the thread must not die with a traceback: the reader gets the error
        if stopped.is_set():
            return  # closed on purpose: whatever the read raised is of no interest
        if isinstance(e, socket.timeout):
            out.put(
                BullseyeMockConnectionError(
                    0,
                    f"the stream sent nothing within {idle:g}s, not even a heartbeat: the connection is taken for dead",
                    code="Timeout",
                    method="GET",
                    url=url,
                )
            )
            return
        what = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        out.put(BullseyeMockConnectionError(0, f"the stream broke: {what}", code="ConnectionError", method="GET", url=url))
    else:
        out.put(_END)


def _shut(
    sock: Optional[socket.socket],
    resp: http.client.HTTPResponse,
    conn: http.client.HTTPConnection,
    stopped: threading.Event,
    thread: threading.Thread,
) -> None:
    stopped.set()
    # shutdown() wakes the reader thread out of its blocking read (close() alone
    # would not); it then ends, and only then are the objects it reads closed.
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    if thread.is_alive() and thread is not threading.current_thread():
        thread.join(2.0)
    try:
        resp.close()
        conn.close()
    except Exception:  # closing is best effort
        pass


def describe(event: StreamEvent) -> str:
    """A short account of an event, for messages: ``delivery 3f2a...: delivered``."""
    d = event.data
    if event.name == "delivery":
        return f"delivery {d.get('id')}: {d.get('state')}"
    if event.name == "attempt":
        return f"attempt {d.get('attempt')} of {d.get('deliveryId')}: {d.get('status')} {d.get('statusCode')}"
    if event.name == "sink":
        return f"sink {d.get('sink')} #{d.get('seq')}: {d.get('status')} {d.get('signature')}"
    if event.name == "request":
        return f"request {d.get('method')} {d.get('path')}: {d.get('status')}"
    if event.name == "clock":
        return f"clock {d.get('now')}"
    if event.name == "lost":
        return f"lost {d.get('missed')} ({d.get('reason')})"
    if event.name == "end":
        return f"end ({d.get('reason')})"
    return event.name


class EventStream:
    """An open ``GET /_mock/stream``: iterate it for :class:`StreamEvent`\\ s; close it when done.

    The mock has subscribed it by the time :meth:`Client.stream` returns, so
    every change made after that call is on it. A thread reads the socket
    ahead of the iteration (into memory), so the waits below are exact.

    Iteration ends after ``stopping`` (the mock shuts down) or ``end`` (the
    stream's ``limit`` or ``timeout``), when the mock ends the stream, or
    after :meth:`close`; a broken connection raises
    :class:`~bullseye_mock.BullseyeMockConnectionError`.

    Attributes:
        url: the stream's URL (with its query).
        headers: the 200's headers.
        last_event_id: where a new stream resumes this one (``last_event_id=``
            of :meth:`Client.stream`): the id of the last event taken from the
            iteration, or, before any, the ``hello``'s ``lastEventId``.
        hello: the ``hello`` event, once the iteration has passed it.
    """

    def __init__(
        self,
        conn: http.client.HTTPConnection,
        resp: http.client.HTTPResponse,
        sock: Optional[socket.socket],
        *,
        url: str,
        idle_timeout: float,
        wait_timeout: float,
        heartbeats: bool = False,
    ) -> None:
        self.url = url
        self.status = resp.status
        self.headers: Dict[str, str] = {k: v for k, v in resp.getheaders()}
        self.last_event_id: Optional[int] = None
        self.hello: Optional[StreamEvent] = None
        self.idle_timeout = idle_timeout
        self.wait_timeout = wait_timeout
        self._parser = _SSEParser(heartbeats)
        self._queue: "queue.Queue[_Item]" = queue.Queue()
        self._stopped = threading.Event()
        self._done = False
        if sock is not None:
            sock.settimeout(idle_timeout)
        self._thread = threading.Thread(
            target=_pump,
            args=(resp, self._parser, self._queue, idle_timeout, url, self._stopped),
            name="bullseye-mock-stream",
            daemon=True,
        )
        self._thread.start()
        # Closes the connection if the stream is dropped unclosed (the thread holds no reference to it).
        self._finalizer = weakref.finalize(self, _shut, sock, resp, conn, self._stopped, self._thread)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<EventStream {self.url} {state} last_event_id={self.last_event_id}>"

    # --- lifetime ---

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether the stream ended or was closed: the iteration yields nothing more."""
        return self._done

    @property
    def retry(self) -> Optional[int]:
        """The reconnection delay the stream asked for, in milliseconds (its ``retry:`` line)."""
        return self._parser.retry

    def close(self) -> None:
        """Close the connection (the mock frees the stream's place); iteration ends. Idempotent."""
        self._done = True
        self._finalizer()
        self._queue.put(_END)  # wake a reader blocked in another thread

    # --- reading ---

    def __iter__(self) -> Iterator[StreamEvent]:
        return self

    def __next__(self) -> StreamEvent:
        event = self.read()
        if event is None:
            raise StopIteration
        return event

    def read(self, timeout: Optional[Duration] = None) -> Optional[StreamEvent]:
        """The next event, or ``None`` once the stream has ended.

        ``timeout`` bounds the wait (seconds, a Go duration or a timedelta;
        ``None``: until an event or the end); past it,
        :class:`~bullseye_mock.BullseyeMockTimeout` (the stream stays open and usable).
        """
        if self._done:
            return None
        limit = None if timeout is None else max(0.0, seconds(timeout))
        try:
            item = self._queue.get() if limit is None else self._queue.get(timeout=limit)
        except queue.Empty:
            raise BullseyeMockTimeout(
                f"no stream event within {limit:g}s", [], method="GET", url=self.url
            ) from None
        if self._done:
            return None
        if isinstance(item, _End):
            self._done = True
            self._finalizer()
            return None
        if isinstance(item, BullseyeMockError):
            self._done = True
            self._finalizer()
            raise item
        if item.name in _LAST:
            self._done = True  # nothing follows it: the mock ends the stream
            self._finalizer()
        if item.name == "hello":
            self.hello = item
            if self.last_event_id is None and isinstance(item.data.get("lastEventId"), int):
                self.last_event_id = item.data["lastEventId"]
        elif item.id is not None:
            self.last_event_id = item.id
        return item

    def events_until(
        self,
        name: Optional[str] = None,
        predicate: Optional[Predicate] = None,
        *,
        timeout: Optional[Duration] = None,
    ) -> List[StreamEvent]:
        """Every event read up to and including the first named ``name`` (any name when ``None``)
        whose data ``predicate`` accepts.

        ``timeout`` (seconds, a Go duration or a timedelta; default the client's ``wait_timeout``) bounds the
        whole wait: past it, :class:`~bullseye_mock.BullseyeMockTimeout`, whose
        ``result`` is the list of events read meanwhile (they are consumed). A
        stream that ends first raises :class:`~bullseye_mock.BullseyeMockError`
        with code ``StreamEnded`` (``body``: the events read).
        """
        limit = self.wait_timeout if timeout is None else seconds(timeout)
        deadline = time.monotonic() + limit
        seen: List[StreamEvent] = []
        want = f"{name or 'an'} event" + (" matching the predicate" if predicate else "")

        def account() -> str:
            shown = [describe(e) for e in seen if e.name != "heartbeat"]
            if len(shown) > 20:
                shown = shown[:10] + [f"... {len(shown) - 20} more ..."] + shown[-10:]
            return "; ".join(shown) or "nothing"

        while True:
            try:
                event = self.read(timeout=deadline - time.monotonic())
            except BullseyeMockTimeout:
                raise BullseyeMockTimeout(
                    f"no {want} within {limit:g}s; the stream sent: {account()}", seen, method="GET", url=self.url
                ) from None
            if event is None:
                raise BullseyeMockError(
                    200,
                    f"the stream ended before {want}; it sent: {account()}",
                    code="StreamEnded",
                    body=seen,
                    method="GET",
                    url=self.url,
                )
            seen.append(event)
            if (name is None or event.name == name) and (predicate is None or predicate(event.data)):
                return seen

    def wait_for_event(
        self,
        name: Optional[str] = None,
        predicate: Optional[Predicate] = None,
        *,
        timeout: Optional[Duration] = None,
    ) -> StreamEvent:
        """The first event named ``name`` whose data ``predicate`` accepts; the events before it are skipped.

        Raises as :meth:`events_until` does.
        """
        return self.events_until(name, predicate, timeout=timeout)[-1]
