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
from hypothesis import HealthCheck, example, given, settings

from differential.interpreter import execute
from differential.observers import (
    SETUPS,
    dispatch_state,
    held_by_pipeline,
    live_pipeline_objects,
)
from differential.program import Op, Program, ReceiverSpec, SendSpec, SignalSpec, programs
from signalkit import pipeline

PROFILE = os.environ.get("SIGNALKIT_HYPOTHESIS_PROFILE", "default")
BUDGETS = {"default": 12, "ci": 120}

# Deterministic: the same programs on every run, no example database.
DIFFERENTIAL = settings(
    max_examples=BUDGETS[PROFILE],
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

F = TypeVar("F", bound=Callable[..., Any])


def found(function: F) -> F:
    """The programs that once failed (see the report of issue 17)."""
    for program in FOUND:
        function = example(program=program)(function)
    return function


FOUND: list[Program] = []


def compare(program: Program, setup: Callable[[], Any]) -> None:
    """Run *program* on plain Django and under *setup*: the same must happen."""
    assert not pipeline.is_patched()
    before = dispatch_state()
    expected, _ = execute(program, signalkit=False)
    actual, checks = execute(program, signalkit=True, observers=setup)
    until = expected.unsettled()
    assert actual.compared(until) == expected.compared(until)
    if until is None:
        for check in checks:
            check(actual)
    assert dispatch_state() == before, "django.dispatch.Signal left patched"
    assert not pipeline.is_patched()
    assert held_by_pipeline() == [], "per-send state left in the pipeline"


@pytest.mark.parametrize("setup", list(SETUPS))
@DIFFERENTIAL
@found
@given(program=programs())
def test_observers_change_nothing_django_does(setup: str, program: Program) -> None:
    compare(program, SETUPS[setup])
