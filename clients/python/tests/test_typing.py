"""The package type-checks under mypy --strict for Python 3.9.

Opt-in (BULLSEYE_MOCK_TYPECHECK=1, and mypy installed: apt-get install python3-mypy):
a cold mypy run costs more than the rest of the suite.
"""
from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest
from conftest import PACKAGE_ROOT


def test_mypy_strict(tmp_path: pathlib.Path) -> None:
    if os.environ.get("BULLSEYE_MOCK_TYPECHECK") != "1":
        pytest.skip("set BULLSEYE_MOCK_TYPECHECK=1 to type-check the package with mypy")
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (apt-get install python3-mypy)")
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-version", "3.9", f"--cache-dir={tmp_path}", "bullseye_mock"],
        cwd=PACKAGE_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout


def test_the_package_is_marked_typed() -> None:
    assert (pathlib.Path(PACKAGE_ROOT) / "bullseye_mock" / "py.typed").is_file()
