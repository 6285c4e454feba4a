"""The observer set-ups a program runs under, and what each must have seen.

Each set-up is a context manager factory: entered around one run of a
program (in the run's own context), it yields the checks to make on the
run's outcome once the run is over: a recording must hold every send of the
program with the receivers that started in it, a sampled tracer one ended
span per receiver that ran.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from django.dispatch import Signal as DjangoSignal
from django.test import override_settings
from hypothesis import reject
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON

from differential.interpreter import Outcome, execute
from differential.program import Program, ReceiverSpec, SendSpec, SignalSpec
from signalkit import pipeline, record
from signalkit.contrib.opentelemetry import SignalkitInstrumentor
from signalkit.pipeline import lifecycle
from signalkit.recording import SendRecord
from signalkit.testing import capture, mute

Check = Callable[[Outcome], None]

PATCHED = ("send", "send_robust", "asend", "asend_robust", "_live_receivers")
"""The attributes of ``django.dispatch.Signal`` the pipeline may replace."""


def dispatch_state() -> dict[str, Any]:
    """What ``django.dispatch.Signal`` holds under the names signalkit patches."""
    return {name: DjangoSignal.__dict__[name] for name in PATCHED}


def _pipeline_kinds() -> tuple[type, ...]:
    # The documented names (Send, and Receiver while it exists), looked up
    # so that a pipeline rebuilt as a package is checked too.
    return tuple(
        kind
        for kind in (getattr(pipeline, n, None) for n in ("Send", "Receiver"))
        if isinstance(kind, type)
    )


def live_pipeline_objects() -> list[object]:
    """Per-send objects of the pipeline still alive anywhere (slow: gc)."""
    kinds = _pipeline_kinds()
    gc.collect()
    # type(), not isinstance(): that would set up Django's lazy objects.
    return [each for each in gc.get_objects() if issubclass(type(each), kinds)]


def held_by_pipeline() -> list[object]:
    """Per-send objects that the pipeline's modules still hold (cheap).

    Looks through the globals of ``signalkit.pipeline`` and of any module
    under it (containers and thread-locals, a few levels deep).
    """
    kinds = _pipeline_kinds()
    found: list[object] = []
    seen: set[int] = set()

    def visit(value: object, depth: int) -> None:
        if id(value) in seen or depth > 4:
            return
        seen.add(id(value))
        if issubclass(type(value), kinds):
            found.append(value)
        elif isinstance(value, dict):
            for item in list(value.items()):
                visit(item, depth + 1)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in list(value):
                visit(item, depth + 1)
        elif isinstance(value, threading.local):
            visit(dict(vars(value)), depth + 1)

    for name, module in list(sys.modules.items()):
        if name == pipeline.__name__ or name.startswith(pipeline.__name__ + "."):
            for value in list(vars(module).values()):
                if not isinstance(value, type):
                    visit(value, 0)
    return found


@contextmanager
def _recording() -> Iterator[list[Check]]:
    with record(keep_values=True) as recorder:
        yield [_recorded(lambda: recorder.sends)]


def _recorded(sends: Callable[[], list[SendRecord]]) -> Check:
    def check(outcome: Outcome) -> None:
        # docs/recording.rst: the running receiver is tracked per task or
        # thread, so a send a receiver makes through async_to_sync() or
        # sync_to_async() (another thread) is not nested under it.
        heard = outcome.heard()
        depths = {send_id: depth for send_id, depth, _ in heard}
        seen = sorted(
            (
                s.kwargs["value"],
                s.depth if depths.get(s.kwargs["value"]) is not None else None,
                sorted(call.name.rpartition(".")[2] for call in s.receivers),
            )
            for s in sends()
            if id(s.signal) in outcome.signal_ids
        )
        assert seen == heard, "what the recording saw"

    return check


@contextmanager
def _capturing() -> Iterator[list[Check]]:
    with capture() as captured:
        yield [_recorded(lambda: captured.sends)]


@contextmanager
def _muting_another() -> Iterator[list[Check]]:
    with mute(DjangoSignal()):
        yield []


@contextmanager
def _slow_log() -> Iterator[list[Check]]:
    with override_settings(SIGNALKIT_SLOW_RECEIVER_MS=0):
        yield []


class _FailingProcessor(SpanProcessor):
    """A span processor that raises whenever one of signalkit's spans starts
    or ends (the test's own span, around the run, is let through)."""

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        if span.name != "request":
            raise RuntimeError("span processor failed")

    def on_end(self, span: Any) -> None:
        if span.name != "request":
            raise RuntimeError("span processor failed")


@contextmanager
def _tracing(sampled: bool, failing: bool = False) -> Iterator[list[Check]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_ON if sampled else ALWAYS_OFF)
    if failing:
        # An observer that raises must change nothing for the sender.
        provider.add_span_processor(_FailingProcessor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = SignalkitInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        with provider.get_tracer("differential").start_as_current_span("request"):
            # A failing processor before the exporter keeps spans from it.
            yield [_traced(exporter)] if sampled and not failing else []
    finally:
        instrumentor.uninstrument()


def _traced(exporter: InMemorySpanExporter) -> Check:
    def check(outcome: Outcome) -> None:
        ended = Counter(
            span.name.rpartition(".")[2]
            for span in exporter.get_finished_spans()
            if span.name.startswith("differential.")
        )
        ran = Counter(name for _, _, names in outcome.heard() for name in names)
        assert ended == ran, "one ended span per receiver that ran"

    return check


@contextmanager
def _nothing() -> Iterator[list[Check]]:
    yield []


@contextmanager
def _left_in_place() -> Iterator[list[Check]]:
    # The pipeline's methods left in place after their last restore (Python
    # 3.13+, after signalkit.pipeline.lifecycle.RESTORES blocks), nothing
    # observing: every send passes through them to Django's.
    left = lifecycle._restores_left
    try:
        lifecycle._restores_left = 0
        with pipeline.observing(pipeline.Observer()):
            pass
        assert pipeline.is_patched()
        yield []
    finally:
        lifecycle._restores_left = 1  # gives Django's methods back
        with pipeline.observing(pipeline.Observer()):
            pass
        lifecycle._restores_left = left


@contextmanager
def _everything() -> Iterator[list[Check]]:
    with ExitStack() as stack:
        checks = []
        for setup in (
            _recording,
            _capturing,
            _muting_another,
            _slow_log,
            lambda: _tracing(sampled=True),
        ):
            checks += stack.enter_context(setup())
        yield checks


SETUPS: dict[str, Callable[[], Any]] = {
    "signalkit.Signal": _nothing,
    "record": _recording,
    "capture": _capturing,
    "mute another signal": _muting_another,
    "slow log": _slow_log,
    "tracer, sampled": lambda: _tracing(sampled=True),
    "tracer, not sampled": lambda: _tracing(sampled=False),
    "tracer, failing span processor": lambda: _tracing(sampled=True, failing=True),
    "all together": _everything,
    "pipeline left in place, nothing observing": _left_in_place,
}


PROBE = Program(
    signals=(SignalSpec(signalkit=False),),
    receivers=(ReceiverSpec(signal=0, weak=False),),
    sends=(SendSpec(0, 0, "send"),),
)


def assert_same_as_django(
    program: Program,
    setup: Callable[[], Any],
    plain: Callable[[], Any] | None = None,
) -> None:
    """Run *program* on plain Django and under *setup*: the same must happen.

    *plain*: a set-up that gives plain Django back for the baseline run (in a
    process whose observers stay installed); by default nothing is active,
    and after the run under *setup* nothing may be left patched either.
    """
    if plain is None:
        assert not pipeline.is_patched()
    before = dispatch_state()
    expected, _ = execute(program, signalkit=False, observers=plain)
    actual, checks = execute(program, signalkit=True, observers=setup)
    # A program racing with itself has no one outcome to compare with.
    if expected.racy() or actual.racy():
        reject()
    until = expected.unsettled()
    assert actual.compared(until) == expected.compared(until)
    if until is None:
        for check in checks:
            check(actual)
    # What a program leaves behind shows in the next send: one receiver, one
    # send, seen as it ran (at depth 0, say, not under a stale send).
    probe, checks = execute(PROBE, signalkit=True, observers=setup)
    for check in checks:
        check(probe)
    assert dispatch_state() == before, "django.dispatch.Signal left patched"
    if plain is None:
        assert not pipeline.is_patched()
    assert held_by_pipeline() == [], "per-send state left in the pipeline"
