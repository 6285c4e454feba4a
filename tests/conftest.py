"""Fixtures for every test of the suite."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from signalkit.pipeline import lifecycle


@pytest.fixture(autouse=True, scope="session")
def _restores_without_end() -> Iterator[None]:
    # Each test starts as a fresh process would, with Django's own methods in
    # place: the suite enters more record() blocks than a process gets
    # restores on Python 3.13+ (tests/test_pipeline.py tests that limit).
    lifecycle._restores_left = sys.maxsize
    yield
    lifecycle._restores_left = lifecycle.RESTORES
