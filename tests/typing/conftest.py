"""pytest-mypy-plugins runs the ``mypy`` it finds on ``PATH``: make that the
mypy of this interpreter's environment, also when pytest runs as
``.venv/bin/python -m pytest`` without the virtualenv activated."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    scripts = str(Path(sys.executable).parent)
    old_path = os.environ.get("PATH", "")
    os.environ["PATH"] = scripts + os.pathsep + old_path
    try:
        return (yield)
    finally:
        os.environ["PATH"] = old_path
