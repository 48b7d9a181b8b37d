"""Python client for bullseye-mock, the fake of the Bullseye Partner API and its webhook sender.

* :class:`Client`: every operation of the mock's control API (``/_mock``), and
  :attr:`Client.partner`, a :class:`PartnerAPI` with the calls an app makes to
  the Partner API (``/api/v1``).
* :meth:`Client.stream`: the mock's changes as they happen (``GET /_mock/stream``),
  an :class:`EventStream` of :class:`StreamEvent`.
* :func:`start_mock`: run the binary (or the container) on a free loopback port.
* ``bullseye_mock.pytest_plugin``: the ``bullseye_mock`` fixture.

Standard library only (Python 3.9+).
"""
from __future__ import annotations

from .client import DEFAULT_API_KEY, Client, PartnerAPI
from .errors import (
    BullseyeMockConnectionError,
    BullseyeMockError,
    BullseyeMockTimeout,
    DeliveryStateError,
    ScenarioFailed,
)
from .operations import HELPERS, OPERATIONS
from .process import MockProcess, MockStartError, docker_available, find_binary, start_mock
from .stream import STREAM_EVENT_NAMES, STREAM_EVENTS, EventStream, StreamEvent
from .types import FINAL_STATES, SIGNATURE_FAULTS
from .util import (
    attempt_offsets,
    attempt_statuses,
    format_time,
    go_duration,
    minutes,
    parse_duration,
    parse_time,
    sign,
    verify_signature,
)

__version__ = "0.1.0"

__all__ = [
    "Client",
    "PartnerAPI",
    "DEFAULT_API_KEY",
    "BullseyeMockError",
    "BullseyeMockConnectionError",
    "BullseyeMockTimeout",
    "DeliveryStateError",
    "ScenarioFailed",
    "OPERATIONS",
    "HELPERS",
    "EventStream",
    "StreamEvent",
    "STREAM_EVENTS",
    "STREAM_EVENT_NAMES",
    "MockProcess",
    "MockStartError",
    "start_mock",
    "find_binary",
    "docker_available",
    "FINAL_STATES",
    "SIGNATURE_FAULTS",
    "attempt_offsets",
    "attempt_statuses",
    "format_time",
    "go_duration",
    "minutes",
    "parse_duration",
    "parse_time",
    "sign",
    "verify_signature",
]
