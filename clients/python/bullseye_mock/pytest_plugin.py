"""pytest fixtures that run bullseye-mock for a test.

Enable it in your top-level ``conftest.py``::

    pytest_plugins = ["bullseye_mock.pytest_plugin"]

Fixtures:

``bullseye_mock``
    A :class:`~bullseye_mock.Client` of a mock started for the test (a fresh
    process per test: nothing leaks between tests) on ``127.0.0.1:0`` with a
    manual clock, stopped at teardown.
``bullseye_mock_process``
    The :class:`~bullseye_mock.MockProcess` behind it (``url``, ``logs()``, ``stop()``).
``bullseye_mock_factory``
    ``start(**options)`` for more mocks, or mocks with other options; all are
    stopped at teardown.

Options, from the most specific:

* the marker ``@pytest.mark.bullseye_mock(clock="scaled", time_scale=600,
  api_keys=[...], admin_token="t", seed=7, start_time="...", args=[...], env={...})``;
* command line: ``--bullseye-mock-bin PATH``, ``--bullseye-mock-clock manual|scaled``,
  ``--bullseye-mock-docker`` (run the container image), ``--bullseye-mock-image NAME``;
* ini (``pytest.ini``, ``[tool.pytest.ini_options]``): ``bullseye_mock_bin`` (used
  when neither ``$BULLSEYE_MOCK_BIN`` nor ``PATH`` has a binary),
  ``bullseye_mock_clock``, ``bullseye_mock_args``;
* environment: ``BULLSEYE_MOCK_BIN``; ``BULLSEYE_MOCK_DOCKER=1`` and
  ``BULLSEYE_MOCK_IMAGE`` for the container.

When the test fails, the mock's log (stderr) is added to the report.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, Generator, Iterator, List, Optional

import pytest

from .client import Client
from .process import MockProcess, MockStartError, docker_available, start_mock

_PROCESSES_ATTR = "_bullseye_mock_processes"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bullseye-mock")
    group.addoption(
        "--bullseye-mock-bin",
        default=None,
        help="the bullseye-mock binary (default: $BULLSEYE_MOCK_BIN, then bullseye-mock on PATH, "
        "then the bullseye_mock_bin ini setting)",
    )
    group.addoption(
        "--bullseye-mock-clock", default=None, choices=["manual", "scaled"], help="the mock's clock (default manual)"
    )
    group.addoption(
        "--bullseye-mock-docker",
        action="store_true",
        default=None,
        help="run the bullseye-mock container image instead of the binary (also BULLSEYE_MOCK_DOCKER=1)",
    )
    group.addoption("--bullseye-mock-image", default=None, help="the image for --bullseye-mock-docker")
    parser.addini("bullseye_mock_bin", "fallback path of the bullseye-mock binary", default="")
    parser.addini("bullseye_mock_clock", "the mock's clock: manual (default) or scaled", default="")
    parser.addini("bullseye_mock_args", "more arguments for every mock", type="args", default=[])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "bullseye_mock(clock=None, time_scale=None, api_keys=None, admin_token=None, seed=None, "
        "start_time=None, args=(), env=None): options of the mock the bullseye_mock fixture starts",
    )


def _truthy(value: Optional[str]) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _defaults(config: pytest.Config) -> Dict[str, Any]:
    opt = config.getoption
    docker = opt("--bullseye-mock-docker") or _truthy(os.environ.get("BULLSEYE_MOCK_DOCKER"))
    return {
        "binary": opt("--bullseye-mock-bin"),
        "fallback_binary": config.getini("bullseye_mock_bin") or None,
        "clock": opt("--bullseye-mock-clock") or config.getini("bullseye_mock_clock") or None,
        "args": list(config.getini("bullseye_mock_args")),
        "docker": bool(docker),
        "image": opt("--bullseye-mock-image") or os.environ.get("BULLSEYE_MOCK_IMAGE") or None,
    }


@pytest.fixture
def bullseye_mock_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., MockProcess]]:
    """``start(**options)``: start a mock (the options of :func:`bullseye_mock.start_mock`); stopped at teardown."""
    defaults = _defaults(request.config)
    started: List[MockProcess] = []
    setattr(request.node, _PROCESSES_ATTR, started)

    def start(**options: Any) -> MockProcess:
        merged = dict(defaults)
        extra_args = list(options.pop("args", ()))
        merged.update(options)
        merged["args"] = list(defaults["args"]) + extra_args
        if merged.get("docker") and not docker_available():
            pytest.fail(
                "the bullseye-mock container was asked for (--bullseye-mock-docker or BULLSEYE_MOCK_DOCKER), "
                "and no Docker engine answers",
                pytrace=False,
            )
        try:
            mock = start_mock(**merged)
        except MockStartError as e:
            problem = str(e)
        else:
            started.append(mock)
            return mock
        pytest.fail(problem, pytrace=False)  # outside the except: no "during handling" noise

    yield start
    for mock in reversed(started):
        mock.stop()


@pytest.fixture
def bullseye_mock_process(
    request: pytest.FixtureRequest, bullseye_mock_factory: Callable[..., MockProcess]
) -> MockProcess:
    """The mock process behind ``bullseye_mock`` (options from the ``bullseye_mock`` marker)."""
    options: Dict[str, Any] = {}
    marker = request.node.get_closest_marker("bullseye_mock")
    if marker is not None:
        if marker.args:
            raise TypeError("@pytest.mark.bullseye_mock takes keyword arguments only")
        options.update(marker.kwargs)
    return bullseye_mock_factory(**options)


@pytest.fixture
def bullseye_mock(bullseye_mock_process: MockProcess) -> Client:
    """A client of a bullseye-mock started for this test (manual clock unless the marker says otherwise)."""
    return bullseye_mock_process.client()


@pytest.hookimpl(hookwrapper=True)  # type: ignore[misc]  # untyped in older pytest
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when in ("setup", "call"):
        for mock in getattr(item, _PROCESSES_ATTR, ()):
            logs = mock.logs()
            if logs:
                report.sections.append((f"bullseye-mock log ({mock.url})", logs))
