"""The launcher and the pytest plugin: binary lookup, options, the marker, teardown, the log on failure."""
from __future__ import annotations

import os
import subprocess
import textwrap

import pytest
from conftest import PACKAGE_ROOT

from bullseye_mock import Client, MockProcess, MockStartError, docker_available, find_binary, start_mock


def test_the_fixture_runs_a_manual_clock_on_loopback(bullseye_mock: Client, bullseye_mock_process: MockProcess) -> None:
    assert bullseye_mock.base_url.startswith("http://127.0.0.1:")
    assert bullseye_mock.base_url == bullseye_mock_process.url
    assert bullseye_mock.clock()["manual"] is True
    banner = bullseye_mock_process.output()
    if bullseye_mock_process.container:  # it says where it listens inside the container
        assert banner.startswith("bullseye-mock listening on http://127.0.0.1:8080")
    else:
        assert banner.startswith(f"bullseye-mock listening on {bullseye_mock_process.url}")
    assert bullseye_mock_process.running()


@pytest.mark.bullseye_mock(
    api_keys=["key-one", "key-two"], seed=7, start_time="2025-01-15T10:30:00Z", args=["--organizations", "1"]
)
def test_the_marker_sets_the_mocks_options(bullseye_mock: Client) -> None:
    assert bullseye_mock.api_key == "key-one"
    partners = bullseye_mock.partners()
    assert [p["apiKey"] for p in partners] == ["key-one", "key-two"]
    assert [len(p["organizationIds"]) for p in partners] == [1, 1]
    assert bullseye_mock.clock()["now"] == "2025-01-15T10:30:00Z"
    assert bullseye_mock.partner.organizations()["total"] == 1


@pytest.mark.bullseye_mock(time_scale=600)
def test_a_time_scale_means_a_scaled_clock(bullseye_mock: Client, bullseye_mock_process: MockProcess) -> None:
    assert bullseye_mock.clock()["manual"] is False
    assert "--time-scale" in bullseye_mock_process.args


def test_start_mock_stops_cleanly_and_ignores_the_callers_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BULLSEYE_MOCK_ADMIN_TOKEN", "from-the-environment")
    with start_mock() as mock:
        assert mock.client().clock()["manual"] is True  # no token needed: the variable was not passed on
        pid = mock.pid
    assert mock.returncode == 0 and not mock.running()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # type: ignore[arg-type]


def test_a_mock_that_cannot_start_says_why() -> None:
    with pytest.raises(MockStartError) as e:
        start_mock(args=["--workers=-5"], start_timeout=10)
    assert "exited with status 2" in str(e.value)
    assert "bullseye-mock: --workers: workers must be at least 1, got -5" in str(e.value)


def test_the_binary_is_found_in_order(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    real = find_binary()
    assert find_binary(real) == real
    monkeypatch.setenv("BULLSEYE_MOCK_BIN", str(tmp_path / "missing"))
    with pytest.raises(MockStartError, match=r"\$BULLSEYE_MOCK_BIN names"):
        find_binary()
    monkeypatch.delenv("BULLSEYE_MOCK_BIN")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_binary(fallback=real) == real
    with pytest.raises(MockStartError, match="set BULLSEYE_MOCK_BIN"):
        find_binary()


def test_the_plugin_in_a_project_of_its_own(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [PACKAGE_ROOT, os.environ.get("PYTHONPATH")])))
    binary = find_binary()
    monkeypatch.delenv("BULLSEYE_MOCK_BIN", raising=False)  # the option alone names the binary
    pytester.makeconftest('pytest_plugins = ["bullseye_mock.pytest_plugin"]\n')
    pytester.makepyfile(
        textwrap.dedent(
            """
            import pytest

            def test_ok(bullseye_mock):
                assert bullseye_mock.healthz() == {"status": "ok"}

            @pytest.mark.bullseye_mock(clock="scaled")
            def test_fails(bullseye_mock):
                assert bullseye_mock.clock()["manual"] is True
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--bullseye-mock-bin={binary}")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*bullseye-mock log (http://127.0.0.1:*)*", "*msg=serving*"])


def _image_present(image: str) -> bool:
    r = subprocess.run(["docker", "image", "inspect", image], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


def test_the_container_image() -> None:
    image = os.environ.get("BULLSEYE_MOCK_IMAGE", "bullseye-mock")
    if not docker_available() or not _image_present(image):
        pytest.skip(f"needs a Docker engine and the {image} image (docker build -t {image} .)")
    with start_mock(docker=True, image=image) as mock:
        client = mock.client()
        assert client.clock()["manual"] is True
        assert mock.url.startswith("http://127.0.0.1:")
