"""Small helpers: Go durations, RFC 3339 times, signatures, attempt offsets."""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import re
from typing import Any, Iterable, List, Mapping, Union

#: What the client accepts wherever the mock wants a Go duration: a string
#: the mock parses as it is (``"1m30s"``), a number of seconds, or a timedelta.
Duration = Union[str, int, float, _dt.timedelta]

#: An instant: an RFC 3339 string as the mock writes it, or a datetime
#: (naive ones are taken as UTC).
Instant = Union[str, _dt.datetime]

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


def go_duration(value: Duration) -> str:
    """Format a duration the way Go's ``time.ParseDuration`` reads it.

    >>> go_duration(90), go_duration(0.25), go_duration("1m")
    ('90s', '0.25s', '1m')
    """
    if isinstance(value, str):
        return value
    if isinstance(value, _dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"a duration is a str, a number of seconds or a timedelta, got {value!r}")
    else:
        seconds = float(value)
    if seconds < 0:
        return "-" + go_duration(-seconds)
    text = f"{seconds:.9f}".rstrip("0").rstrip(".")
    return (text or "0") + "s"


def seconds(value: Duration) -> float:
    """The number of seconds a duration stands for (Go syntax understood)."""
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        raise TypeError(f"a duration is a str, a number of seconds or a timedelta, got {value!r}")
    text = value.strip()
    sign = 1.0
    if text[:1] in "+-":
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    for m in _PART.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"not a Go duration: {value!r}")
    return sign * total


def parse_duration(value: str) -> _dt.timedelta:
    """A Go duration string (``"1m0s"``, the mock's ``advancedBy``) as a timedelta."""
    return _dt.timedelta(seconds=seconds(value))


_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: str) -> _dt.datetime:
    """An RFC 3339 time as the mock writes it (``Z``, up to nanoseconds), aware, in UTC.

    Works on Python 3.9, whose ``fromisoformat`` reads neither ``Z`` nor nine digits.
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    parsed = _dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed.astimezone(_dt.timezone.utc)


def format_time(value: Instant) -> str:
    """An instant as RFC 3339 UTC (``2025-01-15T10:30:00Z``); strings pass as they are."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    value = value.astimezone(_dt.timezone.utc)
    text = value.isoformat()
    return text[: -len("+00:00")] + "Z" if text.endswith("+00:00") else text


def sign(secret: Union[str, bytes], body: Union[str, bytes]) -> str:
    """The ``X-Bullseye-Signature`` of a body: lowercase hex HMAC-SHA256 of its exact bytes."""
    key = secret.encode() if isinstance(secret, str) else secret
    data = body.encode() if isinstance(body, str) else body
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def verify_signature(secret: Union[str, bytes], body: bytes, signature: str) -> bool:
    """Check a signature the vendor's way: the raw bytes, lowercase hex, constant time."""
    expected = sign(secret, body).encode()
    return hmac.compare_digest(expected, signature.encode("utf-8", "replace"))


def attempt_offsets(delivery: Mapping[str, Any]) -> List[_dt.timedelta]:
    """Each attempt's mock time from the delivery's first attempt: ``[0s, 1m, 6m]``.

    Canceled attempts (a due retry dropped, no HTTP sent) count too, as in a
    scenario's ``offsets`` expectation.
    """
    attempts = delivery.get("attempts") or []
    times = [parse_time(a["attemptedAt"]) for a in attempts]
    return [t - times[0] for t in times]


def attempt_statuses(delivery: Mapping[str, Any]) -> List[int]:
    """The receiver's status code for each attempt (0: no answer)."""
    return [int(a.get("statusCode", 0)) for a in delivery.get("attempts") or []]


def minutes(*values: float) -> List[_dt.timedelta]:
    """``minutes(0, 1, 6)``: timedeltas to compare with :func:`attempt_offsets`."""
    return [_dt.timedelta(minutes=v) for v in values]


def comma(values: Union[str, Iterable[str]]) -> str:
    return values if isinstance(values, str) else ",".join(values)
