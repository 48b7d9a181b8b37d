"""Start bullseye-mock as a process (or a container) for a test, and stop it.

The binary is, in order: the path given, ``$BULLSEYE_MOCK_BIN``,
``bullseye-mock`` on ``PATH``, then a fallback path (the pytest plugin's
``bullseye_mock_bin`` ini setting). It runs with ``--addr 127.0.0.1:0``;
its first stdout line says where it listens, and ``GET /healthz`` is polled,
within a deadline, before the mock is handed over.
"""
from __future__ import annotations

import collections
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from typing import IO, Callable, Deque, List, Mapping, Optional, Sequence

from .client import DEFAULT_API_KEY, Client
from .errors import BullseyeMockError

BINARY_ENV = "BULLSEYE_MOCK_BIN"
BINARY_NAME = "bullseye-mock"
DEFAULT_IMAGE = "bullseye-mock"

_URL = re.compile(r"\b(https?://[^\s]+)")


class MockStartError(RuntimeError):
    """The mock could not be found, did not start, or did not become healthy."""


def find_binary(path: Optional[str] = None, fallback: Optional[str] = None) -> str:
    """The bullseye-mock binary to run: ``path``, ``$BULLSEYE_MOCK_BIN``, ``PATH``, then ``fallback``."""
    for source, candidate in (
        ("the given path", path),
        (f"${BINARY_ENV}", os.environ.get(BINARY_ENV)),
        ("PATH", shutil.which(BINARY_NAME)),
        ("the fallback path", fallback),
    ):
        if not candidate:
            continue
        resolved = shutil.which(candidate) if os.sep not in candidate else candidate
        if resolved and os.path.isfile(resolved) and os.access(resolved, os.X_OK):
            return os.path.abspath(resolved)
        raise MockStartError(f"{source} names {candidate!r}, which is not an executable file")
    raise MockStartError(
        f"no bullseye-mock binary: set {BINARY_ENV} (e.g. `go build -o /tmp/bullseye-mock "
        "github.com/bullseye-mock/bullseye-mock` in the repository, then "
        f"{BINARY_ENV}=/tmp/bullseye-mock), put {BINARY_NAME} on PATH, or pass its path"
    )


def docker_available() -> bool:
    """Whether a ``docker`` CLI is on PATH and its engine answers."""
    docker = shutil.which("docker")
    if not docker:
        return False
    try:
        return (
            subprocess.run(
                [docker, "info", "--format", "{{.ServerVersion}}"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=15,
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


class _Drain(threading.Thread):
    """Reads a pipe to the end so the mock never blocks on a full pipe; keeps the last lines."""

    def __init__(self, pipe: IO[str], keep: int = 400, first_lines: "Optional[queue.Queue[str]]" = None) -> None:
        super().__init__(daemon=True)
        self.pipe = pipe
        self.lines: Deque[str] = collections.deque(maxlen=keep)
        self.first_lines = first_lines
        self.start()

    def run(self) -> None:
        try:
            for line in self.pipe:
                self.lines.append(line.rstrip("\n"))
                if self.first_lines is not None:
                    self.first_lines.put(line)
        except (OSError, ValueError):
            pass
        finally:
            if self.first_lines is not None:
                self.first_lines.put("")  # end of output

    def text(self) -> str:
        return "\n".join(self.lines)


class MockProcess:
    """A running bullseye-mock: its :attr:`url`, a :meth:`client`, and :meth:`stop`.

    Use it as a context manager, or call :meth:`stop` (idempotent).
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str = DEFAULT_API_KEY,
        admin_token: Optional[str] = None,
        process: Optional["subprocess.Popen[str]"] = None,
        container: Optional[str] = None,
        docker: Optional[str] = None,
        args: Sequence[str] = (),
        stdout: Optional[_Drain] = None,
        stderr: Optional[_Drain] = None,
    ) -> None:
        self.url = url
        #: The URL the mock reaches itself on (its sinks' webhook URLs): ``url``,
        #: or for a container ``http://127.0.0.1:8080``, its port inside.
        self.internal_url = "http://127.0.0.1:8080" if container else url
        self.api_key = api_key
        self.admin_token = admin_token
        self.process = process
        self.container = container
        self.args = list(args)
        self._docker = docker
        self._stdout = stdout
        self._stderr = stderr
        self.returncode: Optional[int] = None

    def __repr__(self) -> str:
        where = f"container {self.container[:12]}" if self.container else f"pid {self.pid}"
        return f"<MockProcess {self.url} {where}>"

    @property
    def pid(self) -> Optional[int]:
        return self.process.pid if self.process else None

    def client(self, **kwargs: object) -> Client:
        """A :class:`Client` of this mock (its admin token and first API key unless told otherwise)."""
        kwargs.setdefault("admin_token", self.admin_token)
        kwargs.setdefault("api_key", self.api_key)
        kwargs.setdefault("internal_url", self.internal_url or self.url)
        return Client(self.url, **kwargs)  # type: ignore[arg-type]

    def _docker_logs(self, stream: str) -> str:
        assert self.container and self._docker
        try:
            r = subprocess.run(
                [self._docker, "logs", "--tail", "400", self.container],
                stdout=subprocess.PIPE if stream == "stdout" else subprocess.DEVNULL,
                stderr=subprocess.PIPE if stream == "stderr" else subprocess.DEVNULL,
                text=True,
                timeout=15,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"(docker logs failed: {e})"
        return (r.stdout if stream == "stdout" else r.stderr).rstrip("\n")

    def output(self) -> str:
        """What the mock printed on stdout (its start-up banner)."""
        if self.container and self._docker:
            return self._docker_logs("stdout")
        return self._stdout.text() if self._stdout else ""

    def logs(self) -> str:
        """The last lines the mock logged on stderr."""
        if self.container and self._docker:
            return self._docker_logs("stderr")
        return self._stderr.text() if self._stderr else ""

    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return self.container is not None and self.returncode is None

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        """SIGTERM (the mock drains and exits 0), then SIGKILL after ``timeout``; the exit status."""
        if self.process is not None:
            if self.process.poll() is None:
                try:
                    self.process.send_signal(signal.SIGTERM)
                    self.returncode = self.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.returncode = self.process.wait(timeout=timeout)
            else:
                self.returncode = self.process.returncode
            for pipe in (self.process.stdout, self.process.stderr):
                if pipe is not None:
                    pipe.close()
        elif self.container and self._docker and self.returncode is None:
            subprocess.run(
                [self._docker, "stop", "-t", str(int(timeout)), self.container],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=timeout + 30,
            )
            self.returncode = 0
        return self.returncode

    def __enter__(self) -> "MockProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _mock_args(
    clock: Optional[str],
    time_scale: Optional[float],
    api_keys: Optional[Sequence[str]],
    admin_token: Optional[str],
    seed: Optional[int],
    start_time: Optional[str],
    args: Sequence[str],
) -> List[str]:
    if clock is None:
        clock = "scaled" if time_scale is not None else "manual"
    out = ["--clock", clock]
    if time_scale is not None:
        out += ["--time-scale", repr(float(time_scale))]
    for key in api_keys or ():
        out += ["--api-key", key]
    if admin_token:
        out += ["--admin-token", admin_token]
    if seed is not None:
        out += ["--seed", str(seed)]
    if start_time is not None:
        out += ["--start-time", start_time]
    return out + list(args)


def _wait_healthy(url: str, deadline: float, alive: Callable[[], bool], logs: Callable[[], str]) -> None:
    """Poll ``GET /healthz`` until 200, at most until ``deadline`` (time.monotonic)."""
    probe = Client(url, timeout=2.0)
    pause = 0.01
    while True:
        if not alive():
            raise MockStartError(f"bullseye-mock exited before {url}/healthz answered:\n{logs()}")
        try:
            if probe.healthz().get("status") == "ok":
                return
        except BullseyeMockError:
            pass
        if time.monotonic() >= deadline:
            raise MockStartError(f"{url}/healthz did not answer 200 in time:\n{logs()}")
        time.sleep(pause)  # bounded: the loop ends at the deadline
        pause = min(pause * 2, 0.2)


def start_mock(
    binary: Optional[str] = None,
    *,
    clock: Optional[str] = None,
    time_scale: Optional[float] = None,
    api_keys: Optional[Sequence[str]] = None,
    admin_token: Optional[str] = None,
    seed: Optional[int] = None,
    start_time: Optional[str] = None,
    args: Sequence[str] = (),
    env: Optional[Mapping[str, str]] = None,
    fallback_binary: Optional[str] = None,
    docker: bool = False,
    image: Optional[str] = None,
    start_timeout: float = 30.0,
) -> MockProcess:
    """Start a mock on a free loopback port and return it once ``/healthz`` answers.

    Args:
        binary: the binary's path (see :func:`find_binary` for the fallbacks).
        clock: ``"manual"`` (the default, unless ``time_scale`` is given) or ``"scaled"``.
        time_scale: ``--time-scale N`` (a scaled clock).
        api_keys: ``--api-key`` for each (the first is the client's key).
        admin_token: ``--admin-token``; the returned mock's clients send it.
        seed, start_time: ``--seed``, ``--start-time`` (RFC 3339).
        args: more command-line arguments, e.g. ``["--retry-delays", "1s,2s"]``.
        env: environment variables for the mock. The caller's ``BULLSEYE_MOCK_*``
            variables are *not* passed on, so the test decides the mock's settings.
        docker: run the container image instead (``image``, default
            ``bullseye-mock``), published on a free port of 127.0.0.1. A
            receiver on the host is ``http://host.docker.internal:PORT`` from
            inside it, and must listen on an address the container reaches
            (not 127.0.0.1); the mock's own sinks work as they are.
        start_timeout: real seconds to wait for the first line and ``/healthz``.
    """
    flags = _mock_args(clock, time_scale, api_keys, admin_token, seed, start_time, args)
    api_key = api_keys[0] if api_keys else DEFAULT_API_KEY
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("BULLSEYE_MOCK_")}
    child_env.update(env or {})
    deadline = time.monotonic() + start_timeout
    if docker:
        return _start_container(image or DEFAULT_IMAGE, flags, env or {}, api_key, admin_token, deadline)

    path = find_binary(binary, fallback_binary)
    cmd = [path, "serve", "--addr", "127.0.0.1:0"] + flags
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
    )
    assert proc.stdout is not None and proc.stderr is not None
    lines: "queue.Queue[str]" = queue.Queue()
    out = _Drain(proc.stdout, first_lines=lines)
    err = _Drain(proc.stderr)
    mock = MockProcess("", api_key=api_key, admin_token=admin_token, process=proc, args=cmd, stdout=out, stderr=err)
    try:
        try:
            first = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise MockStartError(f"{' '.join(cmd)} printed nothing within {start_timeout}s:\n{err.text()}")
        if not first:  # stdout closed: the mock exited (bad flags, port in use, ...)
            try:
                status = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                status = None
            err.join(timeout=2)
            raise MockStartError(f"{' '.join(cmd)} exited with status {status} before it listened:\n{err.text()}")
        m = _URL.search(first)
        if not m:
            raise MockStartError(
                f"{' '.join(cmd)}: the first stdout line does not say where it listens: {first!r}\n{err.text()}"
            )
        mock.url = mock.internal_url = m.group(1).rstrip("/")
        out.first_lines = None
        _wait_healthy(mock.url, deadline, lambda: proc.poll() is None, err.text)
    except BaseException:
        mock.stop(timeout=5)
        raise
    return mock


def _start_container(
    image: str,
    flags: List[str],
    env: Mapping[str, str],
    api_key: str,
    admin_token: Optional[str],
    deadline: float,
) -> MockProcess:
    found = shutil.which("docker")
    if not found:
        raise MockStartError("docker was asked for, and there is no docker CLI on PATH")
    docker: str = found
    cmd = [
        docker, "run", "-d", "--rm",
        "-p", "127.0.0.1::8080",
        "--add-host", "host.docker.internal:host-gateway",
    ]
    for k, v in env.items():
        cmd += ["-e", f"{k}={v}"]
    cmd += [image, "serve"] + flags  # the image listens on 0.0.0.0:8080 (BULLSEYE_MOCK_ADDR)
    started = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if started.returncode != 0:
        raise MockStartError(f"{' '.join(cmd)} failed: {started.stderr.strip()}")
    container = started.stdout.strip().splitlines()[-1]
    mock = MockProcess("", api_key=api_key, admin_token=admin_token, container=container, docker=docker, args=cmd)
    try:
        port = subprocess.run(
            [docker, "port", container, "8080/tcp"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30
        )
        addr = next((line for line in port.stdout.splitlines() if line.startswith("127.0.0.1:")), "")
        if port.returncode != 0 or not addr:
            raise MockStartError(f"docker port {container} 8080/tcp: {port.stdout}{port.stderr}")
        mock.url = f"http://{addr.strip()}"

        def alive() -> bool:
            r = subprocess.run(
                [docker, "inspect", "-f", "{{.State.Running}}", container],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=30,
            )
            return bool(r.stdout.strip() == "true")

        _wait_healthy(mock.url, deadline, alive, mock.logs)
    except BaseException:
        mock.stop(timeout=5)
        raise
    return mock

