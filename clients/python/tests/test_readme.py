"""The README's example is tests/test_readme_example.py verbatim, and the README names every client method."""
from __future__ import annotations

import os
import re

from conftest import PACKAGE_ROOT

from bullseye_mock import OPERATIONS


def read(name: str) -> str:
    with open(os.path.join(PACKAGE_ROOT, name), encoding="utf-8") as f:
        return f.read()


def test_the_readme_example_is_the_test_file() -> None:
    readme = read("README.md")
    m = re.search(
        r"<!-- begin tests/test_readme_example.py -->\n```python\n(.*?)```\n<!-- end tests/test_readme_example.py -->",
        readme,
        re.S,
    )
    assert m, "README.md lost its example block"
    assert m.group(1) == read(os.path.join("tests", "test_readme_example.py")), (
        "README.md's example and tests/test_readme_example.py differ: copy the test file into the README"
    )


def test_the_readme_stream_example_is_a_test_of_test_stream() -> None:
    readme = read("README.md")
    m = re.search(
        r"<!-- begin tests/test_stream.py example -->\n```python\n(.*?)```\n<!-- end tests/test_stream.py example -->",
        readme,
        re.S,
    )
    assert m, "README.md lost its stream example block"
    assert "\n\n" + m.group(1) + "\n" in read(os.path.join("tests", "test_stream.py")), (
        "README.md's stream example is not a test of tests/test_stream.py, verbatim: copy the test into the README"
    )


def test_the_readme_names_every_operation_method() -> None:
    readme = read("README.md")
    missing = sorted({name.split(".")[-1] for name in OPERATIONS.values()} - set(re.findall(r"`(\w+)\(", readme)))
    assert not missing, f"README.md's method table lacks {missing}"
