"""The helpers: Go durations, RFC 3339 times, signatures, offsets."""
from __future__ import annotations

import datetime as dt
import subprocess
from typing import List

import pytest

from bullseye_mock import (
    attempt_offsets,
    find_binary,
    format_time,
    go_duration,
    minutes,
    parse_duration,
    parse_time,
    sign,
    verify_signature,
)
from bullseye_mock.util import Duration, seconds


def test_go_durations() -> None:
    durations: List[Duration] = [90, 0.25, "1m", dt.timedelta(minutes=1, seconds=30), 0, 1e-6]
    assert [go_duration(v) for v in durations] == [
        "90s", "0.25s", "1m", "90s", "0s", "0.000001s",
    ]
    texts: List[Duration] = ["1m30s", "250ms", "1h", "0", "1.5s", 2, "2µs"]
    assert [seconds(v) for v in texts] == [
        90.0, 0.25, 3600.0, 0.0, 1.5, 2.0, 2e-6,
    ]
    assert parse_duration("5m0s") == dt.timedelta(minutes=5)
    with pytest.raises(ValueError):
        seconds("5 minutes")
    with pytest.raises(TypeError):
        go_duration(True)  # type: ignore[arg-type]


def test_times() -> None:
    t = parse_time("2026-12-02T05:37:10.224913122Z")
    assert t == dt.datetime(2026, 12, 2, 5, 37, 10, 224913, tzinfo=dt.timezone.utc)
    assert parse_time("2025-01-15T10:30:00Z").tzinfo is not None
    assert format_time(dt.datetime(2025, 1, 15, 10, 30)) == "2025-01-15T10:30:00Z"
    delivery = {"attempts": [{"attemptedAt": "2025-01-15T10:30:00Z"}, {"attemptedAt": "2025-01-15T10:31:00Z"}]}
    assert attempt_offsets(delivery) == minutes(0, 1)


def test_sign_matches_the_mocks_sign_command() -> None:
    body = b'{"visitor":{"email":"a@example.com"},"emoji":"\xf0\x9f\x8e\xaf"}'
    out = subprocess.run(
        [find_binary(), "sign", "--secret", "whsec_test"], input=body, stdout=subprocess.PIPE, check=True, timeout=30
    ).stdout.decode().strip()
    assert sign("whsec_test", body) == out
    assert verify_signature("whsec_test", body, out)
    assert not verify_signature("whsec_test", body, out.upper())  # lowercase hex only
    assert not verify_signature("whsec_test", body + b" ", out)
