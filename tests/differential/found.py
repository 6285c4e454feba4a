"""Programs the differential test once failed on, kept as explicit examples.

Each is run by every set-up, in process and in the processes of
tests/differential/process.py, before any generated program.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import example

from differential.program import Op, Program, ReceiverSpec, SendSpec, SignalSpec

FOUND: list[Program] = [
    # Each found on the main branch before issue 17's pipeline fixes.
    # Defect 4: a receiver attaches OpenTelemetry baggage; with
    # the tracer the sender's current span afterwards was the receiver's.
    Program(
        signals=(SignalSpec(signalkit=False),),
        receivers=(ReceiverSpec(signal=0, weak=False, ops=(Op("baggage"),)),),
        sends=(SendSpec(0, 0, "send"),),
    ),
    # Defect 3: a span processor that raises made send() raise (set-up
    # "tracer, failing span processor"); defect 1: in the process with the
    # observers installed before django.setup(), the send of a declared
    # signal reached no observer.
    Program(
        signals=(SignalSpec(signalkit=True),),
        receivers=(ReceiverSpec(signal=0, weak=False),),
        sends=(SendSpec(0, 0, "send"),),
    ),
    # Defect 2 (Django 5.2, 6.0): asend() whose async receiver raises, beside
    # another async and a sync receiver, with record() and the tracer: the
    # late receivers' wrappers failed and left a stale running send, so the
    # next send was recorded at depth 1.
    Program(
        signals=(SignalSpec(signalkit=False),),
        receivers=(
            ReceiverSpec(signal=0, is_async=True, outcome="raise", weak=False),
            ReceiverSpec(signal=0, is_async=True, weak=False),
            ReceiverSpec(signal=0, weak=False),
        ),
        sends=(SendSpec(0, 0, "asend", from_async=True), SendSpec(0, 0, "send")),
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


def found_examples(function: F) -> F:
    """Decorate a ``@given(program=...)`` test with every program of FOUND."""
    for program in reversed(FOUND):
        function = example(program=program)(function)
    return function
