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
One set-up observes nothing: the pipeline's methods left in place after
their last restore (Python 3.13+), passing every send through to Django's.
Observers must have seen the run as it was, and once they end nothing may be
left behind: ``django.dispatch.Signal`` holds what it held, the pipeline is
not patched, no per-send object of the pipeline is alive.

The same comparison runs in a process of its own with the tracer, the slow
log and sentry-sdk's ``signals_spans`` installed before ``django.setup()``
(the way ``opentelemetry-instrument`` does it), and after it
(tests/differential/process.py).

The example budget is small in ``make test``;
``SIGNALKIT_HYPOTHESIS_PROFILE=ci`` (set by .ci/run) runs about seven times more.
Every program that once failed is kept below as an ``@example``.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given

from differential.found import FOUND, found_examples
from differential.observers import (
    SETUPS,
    assert_same_as_django,
    live_pipeline_objects,
)
from differential.program import (
    DIFFERENTIAL,
    Op,
    Program,
    ReceiverSpec,
    SendSpec,
    SignalSpec,
    programs,
)


@pytest.mark.parametrize("setup", list(SETUPS))
@DIFFERENTIAL
@found_examples
@given(program=programs())
def test_observers_change_nothing_django_does(setup: str, program: Program) -> None:
    assert_same_as_django(program, SETUPS[setup])


# A receiver that sends another signal through asgiref: a sync receiver
# calling async_to_sync(signal.asend), as a sync view calling async code does.
# (Recorded unnested: the pipeline tracks the running receiver per thread or
# task, as docs/recording.rst says.)
NESTED_ACROSS_THREADS = Program(
    signals=(SignalSpec(signalkit=False), SignalSpec(signalkit=False)),
    receivers=(ReceiverSpec(signal=0, weak=False, ops=(Op("send", 1, "asend"),)),),
    sends=(SendSpec(0, 0, "send"),),
)


def test_the_tracer_gives_the_sender_its_span_back_after_concurrent_receivers() -> None:
    # Found by this test (issue 17): on Django 6.1, which runs the async
    # receivers of a send concurrently in the sender's context, the sampled
    # tracer left the sender's current span set to the first async
    # receiver's ended span.
    program = Program(
        signals=(SignalSpec(signalkit=False),),
        receivers=(
            ReceiverSpec(signal=0, is_async=True, weak=False),
            ReceiverSpec(signal=0, is_async=True, weak=False),
        ),
        sends=(SendSpec(0, 0, "asend", from_async=True),),
    )
    assert_same_as_django(program, SETUPS["tracer, sampled"])


def test_nothing_of_a_send_outlives_it() -> None:
    # The cheap check of every example looks only at what the pipeline's
    # modules hold; this one looks at every object alive. (Other tests may
    # leave coroutines suspended for good, holding their sends: only new
    # objects count.)
    before = {id(each) for each in live_pipeline_objects()}
    for program in [*FOUND, NESTED_ACROSS_THREADS]:
        assert_same_as_django(program, SETUPS["all together"])
    # A thread that ran receivers for asgiref (async_to_sync, sync_to_async)
    # may still be letting go of its last work item when the sender has its
    # result: give it a moment. A leak stays for good.
    for _ in range(100):
        left = [each for each in live_pipeline_objects() if id(each) not in before]
        if not left:
            break
        time.sleep(0.02)
    assert left == [], holders(left[0])


def holders(leftover: object) -> str:
    """What keeps *leftover* alive, two referrers deep (for the failure)."""
    lines = []
    for referrer in gc.get_referrers(leftover):
        lines.append(f"{type(referrer).__qualname__}: {safe_repr(referrer)}")
        for outer in gc.get_referrers(referrer):
            lines.append(f"    {type(outer).__qualname__}: {safe_repr(outer)}")
    return "\n".join(lines[:60])


def safe_repr(value: object) -> str:
    try:
        return repr(value)[:200]
    except Exception as error:  # a user object's __repr__ may fail
        return f"<unprintable: {error!r}>"


@pytest.mark.parametrize("order", ["before", "after"])
def test_observers_installed_before_or_after_django_setup_change_nothing(
    order: str,
) -> None:
    # Its own process: sentry-sdk's patch stays for good, and "before" means
    # before the process's only django.setup() (tests/differential/process.py).
    tests = Path(__file__).resolve().parent
    completed = subprocess.run(
        [sys.executable, "-m", "differential.process", order],
        cwd=tests,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "settings",
            "PYTHONPATH": os.pathsep.join(
                filter(None, (str(tests), os.environ.get("PYTHONPATH")))
            ),
        },
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.strip() == (
        f"{order}: every program ran the same as on plain Django"
    )
