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
    # Issue 17, defect 4: a receiver attaches OpenTelemetry baggage; with
    # the tracer the sender's current span afterwards was the receiver's.
    Program(
        signals=(SignalSpec(signalkit=False),),
        receivers=(ReceiverSpec(signal=0, weak=False, ops=(Op("baggage"),)),),
        sends=(SendSpec(0, 0, "send"),),
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


def found_examples(function: F) -> F:
    """Decorate a ``@given(program=...)`` test with every program of FOUND."""
    for program in reversed(FOUND):
        function = example(program=program)(function)
    return function
