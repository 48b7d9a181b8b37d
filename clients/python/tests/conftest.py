"""Test setup: the package from this source tree, the bullseye_mock fixtures, and the example receiver.

The mock binary comes from $BULLSEYE_MOCK_BIN (the Go test python_test.go
builds it and sets it), else bullseye-mock on PATH; failing both, and with a
Go toolchain at hand, it is built once into a temporary directory.
"""
from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from typing import Iterator

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)  # clients/python
REPO_ROOT = os.path.dirname(os.path.dirname(PACKAGE_ROOT))
EXAMPLE_RECEIVER = os.path.join(REPO_ROOT, "examples", "receivers", "python", "receiver.py")

# Test this source tree, installed or not (no PYTHONPATH needed).
sys.path.insert(0, PACKAGE_ROOT)

pytest_plugins = ["bullseye_mock.pytest_plugin", "pytester"]

RECEIVER_SECRET = "whsec_receiver_test"


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("BULLSEYE_MOCK_BIN") or shutil.which("bullseye-mock") or config.getoption("--bullseye-mock-bin"):
        return
    go = shutil.which("go")
    if not go or not os.path.exists(os.path.join(REPO_ROOT, "go.mod")):
        return  # the fixture says what to do
    tmp = tempfile.mkdtemp(prefix="bullseye-mock-pytest-")
    config.add_cleanup(lambda: shutil.rmtree(tmp, ignore_errors=True))
    out = os.path.join(tmp, "bullseye-mock")
    subprocess.run(
        [go, "build", "-o", out, "github.com/bullseye-mock/bullseye-mock"], cwd=REPO_ROOT, check=True, timeout=300
    )
    os.environ["BULLSEYE_MOCK_BIN"] = out


def pytest_collection_modifyitems(config: pytest.Config, items: "list[pytest.Item]") -> None:
    docker = config.getoption("--bullseye-mock-docker") or os.environ.get("BULLSEYE_MOCK_DOCKER", "") in ("1", "true")
    if not docker:
        return
    skip = pytest.mark.skip(
        reason="a mock in a container cannot reach a receiver on the host's 127.0.0.1 (these tests bind loopback only)"
    )
    for item in items:
        if {"example_receiver", "receiver"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(skip)


class Receiver:
    """The example Python receiver (examples/receivers/python/receiver.py), running as a user runs it."""

    def __init__(self, proc: "subprocess.Popen[str]", port: int, lines: "queue.Queue[str]") -> None:
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}/webhooks"
        self.secret = RECEIVER_SECRET
        self._lines = lines

    def stdout_lines(self) -> "list[str]":
        """What it printed since the readiness line (one "event ..." line per event processed)."""
        out = []
        while True:
            try:
                out.append(self._lines.get_nowait().rstrip("\n"))
            except queue.Empty:
                return out


@pytest.fixture
def example_receiver() -> Iterator[Receiver]:
    """Start the example receiver on a free port (it prints "listening on PORT" when ready)."""
    if not os.path.exists(EXAMPLE_RECEIVER):
        pytest.fail(f"no example receiver at {EXAMPLE_RECEIVER}")
    env = dict(os.environ, BULLSEYE_WEBHOOK_SECRET=RECEIVER_SECRET, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, EXAMPLE_RECEIVER, "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines: "queue.Queue[str]" = queue.Queue()

    def drain() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=drain, daemon=True).start()
    try:
        deadline = time.monotonic() + 15
        first = ""
        while not first.startswith("listening on "):
            try:
                first = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail("the example receiver did not say it was listening within 15s")
            if first == "":
                pytest.fail(f"the example receiver exited with status {proc.wait()}")
        yield Receiver(proc, int(first.split()[-1]), lines)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
