"""signalkit.contrib.opentelemetry, with the real OpenTelemetry SDK."""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import pytest
from debug_toolbar.store import MemoryStore
from debug_toolbar.toolbar import DebugToolbar
from django.dispatch import Signal as DjangoSignal
from django.test import Client
from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode

import signalkit
import tasks_receivers
from signalkit import Signal
from signalkit.contrib import opentelemetry as otel_module
from signalkit.contrib.opentelemetry import EXCLUDED_SIGNALS_ENV, SignalkitInstrumentor
from testapp.models import Post
from testapp.signals import post_published as testapp_post_published

DJANGO_METHODS = {
    name: DjangoSignal.__dict__[name]
    for name in ("send", "send_robust", "asend", "asend_robust", "_live_receivers")
}

order_paid = Signal(name="tests.otel.order_paid", args=["order"])
audit_logged = Signal(name="tests.otel.audit.logged", args=["entry"])


def charge(sender: Any, order: int, **kwargs: Any) -> str:
    return "charged"


def email(sender: Any, order: int, **kwargs: Any) -> str:
    return "sent"


def broken(sender: Any, order: int, **kwargs: Any) -> None:
    raise ValueError(f"order {order} is broken")


def noted(sender: Any, **kwargs: Any) -> None:
    pass


async def async_charge(sender: Any, order: int, **kwargs: Any) -> str:
    await asyncio.sleep(0)
    return "charged"


async def async_broken(sender: Any, order: int, **kwargs: Any) -> None:
    raise KeyError("async broke")


class Exporter:
    """An in-memory exporter behind a tracer provider, and the parent span."""

    def __init__(self) -> None:
        self.memory = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.memory))
        self.tracer = self.provider.get_tracer("tests")

    def spans(self) -> list[ReadableSpan]:
        return list(self.memory.get_finished_spans())

    def named(self, name: str) -> ReadableSpan:
        [span] = [span for span in self.spans() if span.name == name]
        return span

    def names(self) -> list[str]:
        return [span.name for span in self.spans()]


@pytest.fixture
def exporter() -> Iterator[Exporter]:
    exporter = Exporter()
    instrumentor = SignalkitInstrumentor()
    instrumentor.instrument(tracer_provider=exporter.provider)
    yield exporter
    instrumentor.uninstrument()


@pytest.fixture
def connect() -> Iterator[Any]:
    """connect(signal, *receivers): connected for this test only."""
    connected: list[tuple[DjangoSignal, Any]] = []

    def connect(signal: DjangoSignal, *receivers: Any) -> None:
        for receiver in receivers:
            signal.connect(receiver)
            connected.append((signal, receiver))

    yield connect
    for signal, receiver in connected:
        signal.disconnect(receiver)


def parent_id(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


# Spans and their shape


class _OtherRuntimeContext(ContextVarsRuntimeContext):
    # A runtime context that keeps its variable under another name, as one
    # chosen with OTEL_PYTHON_CONTEXT may: the tracer reads it through the API.
    def __init__(self) -> None:
        self.variable: ContextVar[otel_context.Context] = ContextVar("other")
        self.empty = otel_context.Context()

    def attach(self, context: otel_context.Context) -> Any:
        return self.variable.set(context)

    def get_current(self) -> otel_context.Context:
        return self.variable.get(self.empty)

    def detach(self, token: Any) -> None:
        self.variable.reset(token)


def test_the_tracer_reads_another_runtime_context_through_the_api(
    monkeypatch: pytest.MonkeyPatch, connect: Any
) -> None:
    monkeypatch.setattr(otel_context, "_RUNTIME_CONTEXT", _OtherRuntimeContext())
    exporter = Exporter()
    instrumentor = SignalkitInstrumentor()
    instrumentor.instrument(tracer_provider=exporter.provider)
    try:
        connect(order_paid, charge)
        order_paid.send(sender=None, order=1)  # outside a trace: declined
        with exporter.tracer.start_as_current_span("request"):
            order_paid.send(sender=None, order=2)
    finally:
        instrumentor.uninstrument()
    assert exporter.names() == [
        f"{__name__}.charge",
        "send tests.otel.order_paid",
        "request",
    ]


def test_send_under_a_recording_span_makes_a_send_span_and_receiver_spans(
    exporter: Exporter, connect: Any
) -> None:
    connect(order_paid, charge, email)

    with exporter.tracer.start_as_current_span("request") as request:
        line = sys._getframe().f_lineno + 1
        order_paid.send(sender=Post, order=7)

    send = exporter.named("send tests.otel.order_paid")
    charge_span = exporter.named(f"{__name__}.charge")
    email_span = exporter.named(f"{__name__}.email")
    assert parent_id(send) == request.get_span_context().span_id
    assert parent_id(charge_span) == send.context.span_id
    assert parent_id(email_span) == send.context.span_id
    assert {send.kind, charge_span.kind, email_span.kind} == {SpanKind.INTERNAL}
    assert dict(send.attributes or {}) == {
        "signalkit.signal": "tests.otel.order_paid",
        "signalkit.sender": "testapp.Post",
        "signalkit.method": "send",
        "code.file.path": __file__,
        "code.line.number": line,
    }
    assert dict(charge_span.attributes or {}) == {
        "code.function.name": f"{__name__}.charge"
    }


def test_spans_are_in_time_order_and_the_send_starts_when_it_was_made(
    exporter: Exporter, connect: Any
) -> None:
    def first(sender: Any, **kwargs: Any) -> None:
        time.sleep(0.002)

    connect(order_paid, first, email)

    with exporter.tracer.start_as_current_span("request"):
        before = time.time_ns()
        order_paid.send(sender=None, order=1)
        after = time.time_ns()

    send = exporter.named("send tests.otel.order_paid")
    first_span = exporter.named(
        f"{__name__}.test_spans_are_in_time_order_and_the_send_starts_when_it_was_made.<locals>.first"
    )
    email_span = exporter.named(f"{__name__}.email")
    assert send.start_time is not None
    assert send.end_time is not None
    assert before - 1_000_000 <= send.start_time <= first_span.start_time  # type: ignore[operator]
    assert first_span.end_time <= email_span.start_time  # type: ignore[operator]
    assert email_span.end_time <= send.end_time <= after + 1_000_000  # type: ignore[operator]
    assert first_span.end_time - first_span.start_time >= 2_000_000  # type: ignore[operator]


def test_receiver_span_is_current_while_it_runs_and_nested_sends_nest_under_it(
    exporter: Exporter, connect: Any
) -> None:
    seen: list[trace.Span] = []

    def outer(sender: Any, order: int, **kwargs: Any) -> None:
        seen.append(trace.get_current_span())
        audit_logged.send(sender=None, entry=order)

    connect(order_paid, outer)
    connect(audit_logged, noted)

    with exporter.tracer.start_as_current_span("request") as request:
        order_paid.send(sender=None, order=1)
        after = trace.get_current_span()

    outer_span = exporter.named(
        f"{__name__}.test_receiver_span_is_current_while_it_runs_and_nested_sends_nest_under_it.<locals>.outer"
    )
    nested = exporter.named("send tests.otel.audit.logged")
    assert seen[0].get_span_context().span_id == outer_span.context.span_id
    assert parent_id(nested) == outer_span.context.span_id
    assert parent_id(exporter.named(f"{__name__}.noted")) == nested.context.span_id
    assert after is request


def test_send_outside_any_trace_makes_no_span(exporter: Exporter, connect: Any) -> None:
    connect(order_paid, charge)

    order_paid.send(sender=None, order=1)

    assert exporter.spans() == []


def test_send_under_a_span_that_is_not_recording_makes_no_span(
    exporter: Exporter, connect: Any
) -> None:
    connect(order_paid, charge)
    unsampled = trace.NonRecordingSpan(
        trace.SpanContext(1, 2, is_remote=False, trace_flags=trace.TraceFlags(0))
    )

    with trace.use_span(unsampled):
        order_paid.send(sender=None, order=1)

    assert exporter.spans() == []


def test_send_that_runs_no_receiver_makes_no_span(exporter: Exporter) -> None:
    with exporter.tracer.start_as_current_span("request"):
        order_paid.send(sender=None, order=1)

    assert exporter.names() == ["request"]


def test_sender_is_named_without_calling_its_str(
    exporter: Exporter, connect: Any
) -> None:
    class Touchy:
        def __str__(self) -> str:
            raise AssertionError("str() called")

        __repr__ = __str__

    connect(order_paid, charge)

    with exporter.tracer.start_as_current_span("request"):
        order_paid.send(sender=Touchy(), order=1)

    attributes = exporter.named("send tests.otel.order_paid").attributes or {}
    assert attributes["signalkit.sender"] == (
        f"<{__name__}.test_sender_is_named_without_calling_its_str"
        ".<locals>.Touchy object>"
    )


# Errors


def test_receiver_error_under_send_marks_receiver_and_send_spans(
    exporter: Exporter, connect: Any
) -> None:
    connect(order_paid, broken)

    with (
        exporter.tracer.start_as_current_span("request"),
        pytest.raises(ValueError, match="order 3 is broken"),
    ):
        order_paid.send(sender=None, order=3)

    for name in (f"{__name__}.broken", "send tests.otel.order_paid"):
        span = exporter.named(name)
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "ValueError: order 3 is broken"
        [event] = span.events
        assert event.name == "exception"
        assert (event.attributes or {})["exception.type"] == "ValueError"
        assert (event.attributes or {})["exception.message"] == "order 3 is broken"


def test_receiver_error_under_send_robust_marks_only_the_receiver_span(
    exporter: Exporter, connect: Any
) -> None:
    connect(order_paid, broken, charge)

    with exporter.tracer.start_as_current_span("request"):
        responses = order_paid.send_robust(sender=None, order=3)

    assert [type(response) for _, response in responses] == [ValueError, str]
    assert exporter.named(f"{__name__}.broken").status.status_code is (StatusCode.ERROR)
    assert exporter.named(f"{__name__}.charge").status.status_code is (StatusCode.UNSET)
    send = exporter.named("send tests.otel.order_paid")
    assert send.status.status_code is StatusCode.UNSET
    assert send.events == ()


def test_exception_whose_str_fails_is_recorded_without_breaking_the_send(
    exporter: Exporter, connect: Any
) -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str")

    def raiser(sender: Any, **kwargs: Any) -> None:
        raise Unprintable

    connect(order_paid, raiser)

    with (
        exporter.tracer.start_as_current_span("request"),
        pytest.raises(Unprintable),
    ):
        order_paid.send(sender=None, order=1)

    span = exporter.named(
        f"{__name__}.test_exception_whose_str_fails_is_recorded_without_breaking_the_send.<locals>.raiser"
    )
    assert span.status.description == (
        "test_exception_whose_str_fails_is_recorded_without_breaking_the_send"
        ".<locals>.Unprintable: <test_exception_whose_str_fails_is_recorded_without_"
        "breaking_the_send.<locals>.Unprintable whose str() failed>"
    )


# Async


def test_async_sends_make_a_span_per_receiver_sync_and_async(
    exporter: Exporter, connect: Any
) -> None:
    connect(order_paid, charge, async_charge, async_broken)

    async def main() -> None:
        with exporter.tracer.start_as_current_span("request"):
            await order_paid.asend_robust(sender=None, order=1)

    asyncio.run(main())

    send = exporter.named("send tests.otel.order_paid")
    assert (send.attributes or {})["signalkit.method"] == "asend_robust"
    assert send.status.status_code is StatusCode.UNSET
    children = {
        s.name: s.status.status_code
        for s in exporter.spans()
        if parent_id(s) == send.context.span_id
    }
    assert children == {
        f"{__name__}.async_broken": StatusCode.ERROR,
        f"{__name__}.async_charge": StatusCode.UNSET,
        f"{__name__}.charge": StatusCode.UNSET,
    }


def test_async_receiver_error_under_asend_marks_the_send_span(
    exporter: Exporter, connect: Any
) -> None:
    connect(order_paid, async_broken)

    async def main() -> None:
        with exporter.tracer.start_as_current_span("request"):
            await order_paid.asend(sender=None, order=2)

    with pytest.raises(KeyError):
        asyncio.run(main())

    send = exporter.named("send tests.otel.order_paid")
    assert (send.attributes or {})["signalkit.method"] == "asend"
    assert send.status.status_code is StatusCode.ERROR
    assert exporter.named(f"{__name__}.async_broken").status.status_code is (
        StatusCode.ERROR
    )


def test_concurrent_async_receivers_each_get_their_own_span_and_restore_the_context(
    exporter: Exporter, connect: Any
) -> None:
    current: dict[str, list[int]] = {"first": [], "second": []}

    def make(name: str) -> Any:
        async def receiver(sender: Any, **kwargs: Any) -> None:
            for _ in range(3):  # interleave with the other receiver
                current[name].append(
                    trace.get_current_span().get_span_context().span_id
                )
                await asyncio.sleep(0)

        receiver.__qualname__ = name
        return receiver

    first, second = make("first"), make("second")
    connect(order_paid, first, second)

    async def main() -> trace.Span:
        with exporter.tracer.start_as_current_span("request"):
            await order_paid.asend(sender=None, order=1)
            return trace.get_current_span()

    after = asyncio.run(main())

    send = exporter.named("send tests.otel.order_paid")
    first_span = exporter.named(f"{__name__}.first")
    second_span = exporter.named(f"{__name__}.second")
    assert parent_id(first_span) == parent_id(second_span) == send.context.span_id
    assert current["first"][0] == first_span.context.span_id
    assert current["second"][0] == second_span.context.span_id
    assert after.get_span_context().span_id == exporter.named("request").context.span_id


def test_sync_send_to_async_receivers_makes_their_spans(
    exporter: Exporter, connect: Any
) -> None:
    connect(order_paid, async_charge)

    with exporter.tracer.start_as_current_span("request"):
        order_paid.send(sender=None, order=1)

    span = exporter.named(f"{__name__}.async_charge")
    assert (
        parent_id(span) == exporter.named("send tests.otel.order_paid").context.span_id
    )


# Background receivers


def test_background_receiver_span_carries_the_task_id(exporter: Exporter) -> None:
    with exporter.tracer.start_as_current_span("request"):
        [(_, enqueued)] = tasks_receivers.something_happened.send(sender=None)

    [span] = [s for s in exporter.spans() if s.name.startswith("tasks_receivers.")]
    assert (span.attributes or {})["signalkit.background"] is True
    assert (span.attributes or {})["signalkit.task_id"] == str(enqueued.task_id)


# Exclusion


@pytest.mark.parametrize(
    "exclude",
    [["tests.otel.order_paid"], ["tests.otel.*"], ["*.order_paid", "nothing"]],
)
def test_excluded_signals_make_no_span(connect: Any, exclude: list[str]) -> None:
    exporter = Exporter()
    connect(order_paid, charge)
    connect(audit_logged, noted)
    SignalkitInstrumentor().instrument(
        tracer_provider=exporter.provider, exclude=exclude
    )
    try:
        with exporter.tracer.start_as_current_span("request"):
            order_paid.send(sender=None, order=1)
            order_paid.send(sender=None, order=2)
    finally:
        SignalkitInstrumentor().uninstrument()

    assert exporter.names() == ["request"]


def test_exclusion_reads_the_environment_when_not_given(
    connect: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(EXCLUDED_SIGNALS_ENV, " tests.otel.audit.* , ,")
    exporter = Exporter()
    connect(order_paid, charge)
    connect(audit_logged, noted)
    SignalkitInstrumentor().instrument(tracer_provider=exporter.provider)
    try:
        with exporter.tracer.start_as_current_span("request"):
            order_paid.send(sender=None, order=1)
            audit_logged.send(sender=None, entry=1)
    finally:
        SignalkitInstrumentor().uninstrument()

    assert "send tests.otel.order_paid" in exporter.names()
    assert "send tests.otel.audit.logged" not in exporter.names()


@pytest.mark.parametrize(
    ("exclude", "message"),
    [
        ("tests.otel.*", "takes a list of dotted signal names or glob patterns"),
        (42, "takes a list of dotted signal names or glob patterns"),
        (["ok", ""], "contains ''; every item must be"),
        ([None], "contains None; every item must be"),
    ],
)
def test_bad_exclude_is_refused_and_nothing_is_installed(
    exclude: Any, message: str
) -> None:
    instrumentor = SignalkitInstrumentor()

    with pytest.raises(TypeError, match=message):
        instrumentor.instrument(exclude=exclude)

    assert not instrumentor.is_instrumented_by_opentelemetry
    assert {
        name: DjangoSignal.__dict__[name] for name in DJANGO_METHODS
    } == DJANGO_METHODS


# Metrics


def test_meter_provider_gets_receiver_durations(connect: Any) -> None:
    reader = InMemoryMetricReader()
    connect(order_paid, charge, email)
    SignalkitInstrumentor().instrument(
        tracer_provider=Exporter().provider,
        meter_provider=MeterProvider(metric_readers=[reader]),
    )
    try:
        order_paid.send(sender=None, order=1)  # measured even outside a trace
    finally:
        SignalkitInstrumentor().uninstrument()

    data = reader.get_metrics_data()
    assert data is not None
    [metric] = [
        metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    ]
    assert (metric.name, metric.unit) == ("signalkit.receiver.duration", "s")
    points = {
        (point.attributes or {})["signalkit.receiver"]: point
        for point in metric.data.data_points
    }
    assert set(points) == {f"{__name__}.charge", f"{__name__}.email"}
    for point in points.values():
        assert (point.attributes or {})["signalkit.signal"] == "tests.otel.order_paid"
        assert point.count == 1  # type: ignore[union-attr]
        assert 0 < point.sum < 1  # type: ignore[union-attr]


def test_no_histogram_without_a_meter_provider(exporter: Exporter) -> None:
    instrumentor = SignalkitInstrumentor()

    assert instrumentor._observer is not None
    assert instrumentor._observer.histogram is None


# Instrumenting and uninstrumenting


def test_uninstrument_restores_djangos_methods_and_stops_the_spans(
    connect: Any,
) -> None:
    exporter = Exporter()
    connect(order_paid, charge)
    instrumentor = SignalkitInstrumentor()
    instrumentor.instrument(tracer_provider=exporter.provider)
    patched = DjangoSignal.__dict__["send"]

    instrumentor.uninstrument()
    with exporter.tracer.start_as_current_span("request"):
        order_paid.send(sender=None, order=1)

    assert patched is not DJANGO_METHODS["send"]
    assert {
        name: DjangoSignal.__dict__[name] for name in DJANGO_METHODS
    } == DJANGO_METHODS
    assert exporter.names() == ["request"]


def test_instrument_twice_keeps_one_observer(exporter: Exporter, connect: Any) -> None:
    connect(order_paid, charge)

    SignalkitInstrumentor().instrument(tracer_provider=exporter.provider)
    with exporter.tracer.start_as_current_span("request"):
        order_paid.send(sender=None, order=1)

    assert exporter.names().count(f"{__name__}.charge") == 1


def test_uninstrument_when_not_instrumented_changes_nothing() -> None:
    SignalkitInstrumentor()._uninstrument()

    assert {
        name: DjangoSignal.__dict__[name] for name in DJANGO_METHODS
    } == DJANGO_METHODS


def test_entry_point_names_the_instrumentor() -> None:
    [entry_point] = importlib.metadata.entry_points(
        group="opentelemetry_instrumentor", name="signalkit"
    )

    assert entry_point.load() is SignalkitInstrumentor
    assert SignalkitInstrumentor().instrumentation_dependencies() == ("django >= 5.2",)


def test_context_is_the_senders_again_after_each_receiver(
    exporter: Exporter, connect: Any
) -> None:
    contexts: list[otel_context.Context] = []

    def look(sender: Any, **kwargs: Any) -> None:
        contexts.append(otel_context.get_current())

    connect(order_paid, look, email)

    with exporter.tracer.start_as_current_span("request"):
        before = otel_context.get_current()
        order_paid.send(sender=None, order=1)
        assert otel_context.get_current() is before


# Side by side with the debug toolbar panel


def test_toolbar_panel_and_tracer_each_see_every_receiver_once(
    exporter: Exporter, connect: Any, settings: Any
) -> None:
    settings.DEBUG = True  # pytest-django turns it off, which hides the toolbar
    settings.ROOT_URLCONF = "toolbar_urls"
    settings.DEBUG_TOOLBAR_PANELS = ["signalkit.panels.SignalkitPanel"]
    settings.DEBUG_TOOLBAR_CONFIG = {"IS_RUNNING_TESTS": False}
    toolbars: list[DebugToolbar] = []

    def keep(sender: Any, toolbar: DebugToolbar, **kwargs: Any) -> None:
        toolbars.append(toolbar)

    DebugToolbar._created.connect(keep)
    connect(testapp_post_published, noted)
    try:
        with exporter.tracer.start_as_current_span("request"):
            Client().get("/publish/")
        [toolbar] = toolbars
        assert toolbar.request_id is not None
        stats = toolbar.store.panel(toolbar.request_id, "SignalkitPanel")
    finally:
        DebugToolbar._created.disconnect(keep)
        MemoryStore.clear()

    expected = ["testapp.signals.remember_publication", f"{__name__}.noted"]
    # The panel stores each name once, in "names", and refers to it by index.
    names = stats["names"]
    [send] = [
        s for s in stats["sends"] if names[s["g"]] == "testapp.signals.post_published"
    ]
    assert [names[receiver["n"]] for receiver in send["r"]] == expected
    send_span = exporter.named("send testapp.signals.post_published")
    assert [
        s.name for s in exporter.spans() if parent_id(s) == send_span.context.span_id
    ] == expected


# Side by side with the recorder, the slow-receiver log and sentry-sdk


@pytest.mark.parametrize("order", ["sentry-first", "signalkit-first"])
def test_recorder_tracer_slow_log_and_sentry_each_see_every_receiver_once(
    order: str,
) -> None:
    tests = Path(__file__).resolve().parent
    done = subprocess.run(
        [sys.executable, "-m", "observers_scenario", order],
        cwd=tests,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "settings",
            # The processes use the same signalkit as the tests.
            "PYTHONPATH": os.pathsep.join(
                [str(tests), str(Path(signalkit.__file__).parents[1])]
            ),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)

    names = [f"observers_scenario.{name}" for name in ("charge", "email", "notify")]
    assert seen["recorder"] == [names, names]
    assert seen["tracer"] == [names, names]
    assert seen["slow"] == names + names
    # sentry-sdk wraps sync receivers only.
    assert seen["sentry"] == names[:2] + names[:2]


# Without the otel extra

WITHOUT_OPENTELEMETRY = """
import importlib, pkgutil, sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "opentelemetry":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Refuse())
import django
django.setup()
from django.test import override_settings
import signalkit
from signalkit import Signal, record

for module in pkgutil.walk_packages(signalkit.__path__, "signalkit."):
    if module.name != "signalkit.contrib.opentelemetry":
        importlib.import_module(module.name)
happened = Signal(name="scenario.happened")
happened.connect(dict, weak=False)
with override_settings(SIGNALKIT_SLOW_RECEIVER_MS=1), record() as recorder:
    happened.send(sender=None)
assert [call.name for call in recorder.sends[0].receivers] == ["builtins.dict"]
assert not [name for name in sys.modules if name.startswith("opentelemetry")]
try:
    import signalkit.contrib.opentelemetry
except ImportError as error:
    print(error)
"""


def test_signalkit_imports_no_opentelemetry_and_the_contrib_module_says_what_to_install() -> (
    None
):
    tests = Path(__file__).resolve().parent
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_OPENTELEMETRY],
        cwd=tests,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "settings",
            "PYTHONPATH": os.pathsep.join(
                [str(tests), str(Path(signalkit.__file__).parents[1])]
            ),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        "signalkit.contrib.opentelemetry needs the otel extra: python -m pip "
        "install \"django-signalkit[otel]\" (No module named 'opentelemetry')"
    )


def test_importing_the_contrib_module_without_the_extra_raises_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fresh copy of the module under another name, with opentelemetry
    # unimportable: the installed one stays as it is for the other tests.
    module_file = Path(signalkit.__file__).parent / "contrib" / "opentelemetry.py"
    spec = importlib.util.spec_from_file_location("signalkit_otel_copy", module_file)
    assert spec is not None
    assert spec.loader is not None
    monkeypatch.setitem(sys.modules, "opentelemetry", None)

    with pytest.raises(ImportError, match=r"needs the otel extra") as raised:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))

    assert isinstance(raised.value.__cause__, ImportError)


def test_global_meter_provider_is_used_once_the_application_set_one(
    connect: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    # The global provider can be set once per process: stand in for it.
    monkeypatch.setattr(metrics, "get_meter_provider", lambda: provider)
    connect(order_paid, charge)
    SignalkitInstrumentor().instrument(tracer_provider=Exporter().provider)
    try:
        order_paid.send(sender=None, order=1)
    finally:
        SignalkitInstrumentor().uninstrument()

    data = reader.get_metrics_data()
    assert data is not None
    assert [
        metric.name
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    ] == ["signalkit.receiver.duration"]


def test_a_receiver_that_changes_the_current_context_keeps_its_change(
    exporter: Exporter, connect: Any
) -> None:
    # As without signalkit: a sync receiver runs in the sender's context.
    def leaky(sender: Any, **kwargs: Any) -> None:
        otel_context.attach(otel_context.set_value("leaked", True))

    connect(order_paid, leaky)

    with exporter.tracer.start_as_current_span("request"):
        token = otel_context.attach(otel_context.get_current())
        order_paid.send(sender=None, order=1)
        leaked = otel_context.get_value("leaked")
        otel_context.detach(token)

    assert leaked is True
    assert (
        exporter.named(
            f"{__name__}.test_a_receiver_that_changes_the_current_context_keeps_its_change.<locals>.leaky"
        ).end_time
        is not None
    )


def test_exclusion_answers_stay_right_when_the_remembered_ones_are_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(otel_module, "_MAX_REMEMBERED", 2)
    SignalkitInstrumentor().instrument(exclude=["tests.otel.*"])
    try:
        observer = SignalkitInstrumentor()._observer
        assert observer is not None
        answers = [
            observer.excludes(name)
            for name in ("tests.otel.a", "other.b", "tests.otel.c", "other.b")
        ]
    finally:
        SignalkitInstrumentor().uninstrument()

    assert answers == [True, False, True, False]
