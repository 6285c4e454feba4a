"""Differential test: signalkit changes nothing ``django.dispatch`` does (issue 17).

Hypothesis generates small programs (tests/differential/program.py): signals
(Django's, ``signalkit.Signal``, with ``use_caching``), receivers (sync and
async; returning, raising an ``Exception`` or a ``BaseException``; weak,
dead, strong, sender-specific, with a ``dispatch_uid``; connecting or
disconnecting receivers, sending other signals, setting a context variable
or OpenTelemetry baggage while they run) and sends (``send``,
``send_robust``, ``asend``, ``asend_robust``, from sync and from async code).
Each program runs against plain Django, then under one observer set-up
(tests/differential/observers.py), and both runs must observe the same:
receivers run and their order, responses (receivers, values and exceptions
by identity), the exception raised, the context the sender sees afterwards.
Observers must have seen the run as it was, and once they end nothing may be
left behind: ``django.dispatch.Signal`` holds what it held, the pipeline is
not patched, no per-send object of the pipeline is alive.

The same comparison runs in a process of its own with the tracer, the slow
log and sentry-sdk's ``signals_spans`` installed before ``django.setup()``
(the way ``opentelemetry-instrument`` does it), and after it
(tests/differential/process.py).

The example budget is small in ``make test``;
``SIGNALKIT_HYPOTHESIS_PROFILE=ci`` (set by .ci/run) runs ten times more.
Every program that once failed is kept below as an ``@example``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given

from differential.found import FOUND, found_examples
from differential.observers import SETUPS, assert_same_as_django, live_pipeline_objects
from differential.program import DIFFERENTIAL, Program, programs
from signalkit import pipeline

@pytest.mark.parametrize("setup", list(SETUPS))
@DIFFERENTIAL
@found_examples
@given(program=programs())
def test_observers_change_nothing_django_does(setup: str, program: Program) -> None:
    assert_same_as_django(program, SETUPS[setup])
