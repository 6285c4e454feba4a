"""OpenTelemetry spans for signal sends and receivers.

:class:`SignalkitInstrumentor` adds one process-wide observer to signalkit's
send-event pipeline (no second patch of ``django.dispatch``). Under a
recording span, a send that runs at least one receiver gets a span
``send <signal name>``, and each receiver a child span named after its dotted
name, current while it runs. With a meter provider, every receiver's duration
goes to the histogram ``signalkit.receiver.duration``.

Needs the ``otel`` extra: ``pip install "django-signalkit[otel]"``.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
import time
from collections.abc import Callable, Collection, Iterable
from contextvars import ContextVar
from fnmatch import fnmatchcase
from typing import Any, cast

from django.dispatch import Signal as DjangoSignal

try:
    from opentelemetry import context as otel_context
    from opentelemetry import metrics, trace
    from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
        BaseInstrumentor,
    )
    from opentelemetry.metrics import Histogram, MeterProvider
    from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
    from opentelemetry.trace.propagation import _SPAN_KEY
    from opentelemetry.util.types import AttributeValue
except ImportError as error:
    raise ImportError(
        f"signalkit.contrib.opentelemetry needs the otel extra: "
        f'python -m pip install "django-signalkit[otel]" ({error})'
    ) from error

from signalkit import pipeline
from signalkit.naming import object_label

__all__ = ["EXCLUDED_SIGNALS_ENV", "SignalkitInstrumentor"]

EXCLUDED_SIGNALS_ENV = "OTEL_PYTHON_SIGNALKIT_EXCLUDED_SIGNALS"
"""Environment variable read by ``instrument()`` when no ``exclude`` is given:
comma-separated dotted signal names or glob patterns."""

_INTERNAL = SpanKind.INTERNAL
_MAX_REMEMBERED = 10_000
_send_span_lock = threading.Lock()
_get_current = otel_context.get_current
_perf_counter_ns = time.perf_counter_ns


def _version() -> str:
    # From the installed distribution: the package root sits above this layer.
    return importlib.metadata.version("django-signalkit")


def _context_reader() -> Callable[[], otel_context.Context]:
    """What reads the current OpenTelemetry context, once per send.

    ``opentelemetry.context.get_current()`` is two Python calls around the
    ``get()`` of a context variable: with the default runtime context that
    variable is read directly; with any other, through the API.
    """
    runtime = getattr(otel_context, "_RUNTIME_CONTEXT", None)
    variable = getattr(runtime, "_current_context", None)
    if isinstance(variable, ContextVar):
        return cast("Callable[[], otel_context.Context]", variable.get)
    return otel_context.get_current


def _exclude_patterns(exclude: Iterable[str] | str | None) -> tuple[str, ...]:
    if exclude is None:
        exclude = os.environ.get(EXCLUDED_SIGNALS_ENV, "").split(",")
        return tuple(name.strip() for name in exclude if name.strip())
    if isinstance(exclude, str) or not isinstance(exclude, Iterable):
        raise TypeError(
            f"SignalkitInstrumentor().instrument(exclude=...) takes a list of "
            f"dotted signal names or glob patterns, such as "
            f"['django.db.models.signals.*'], not {exclude!r}."
        )
    patterns = tuple(exclude)
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern:
            raise TypeError(
                f"SignalkitInstrumentor().instrument(exclude=...) contains "
                f"{pattern!r}; every item must be a dotted signal name or a "
                f"glob pattern."
            )
    return patterns


def _histogram(meter_provider: MeterProvider | None) -> Histogram | None:
    if meter_provider is None:
        meter_provider = metrics.get_meter_provider()
        # Until the application sets one, the global provider is a proxy
        # that drops every measurement: measuring would be wasted work.
        if type(meter_provider).__name__ in {
            "_ProxyMeterProvider",
            "NoOpMeterProvider",
        }:
            return None
    meter = metrics.get_meter("signalkit", _version(), meter_provider)
    return meter.create_histogram(
        "signalkit.receiver.duration",
        unit="s",
        description="How long each signal receiver took to run.",
    )


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # a user's __str__ must not break the send
        return f"<{type(error).__qualname__} whose str() failed>"


def _record_error(span: Span, error: BaseException) -> None:
    message = _safe_str(error)
    span.set_status(Status(StatusCode.ERROR, f"{type(error).__qualname__}: {message}"))
    try:
        span.record_exception(error)
    except Exception:  # the SDK calls str(error) too
        span.add_event(
            "exception",
            {
                "exception.type": type(error).__qualname__,
                "exception.message": message,
            },
        )


class _Tracing(pipeline.Observer):
    """Makes the spans and measurements of every send in the process."""

    def __init__(
        self,
        tracer: trace.Tracer,
        histogram: Histogram | None,
        exclude: tuple[str, ...],
    ) -> None:
        self.tracer = tracer
        self.histogram = histogram
        self.exclude = exclude
        self._excluded: dict[str, bool] = {}
        self._current_context = _context_reader()
        # OpenTelemetry times are nanoseconds since the epoch; the pipeline
        # stamps sends with perf_counter_ns(), which is monotonic and cheap.
        self.epoch_offset = time.time_ns() - _perf_counter_ns()

    def excludes(self, signal_name: str) -> bool:
        """Whether *signal_name* matches one of the ``exclude`` patterns."""
        excluded = self._excluded.get(signal_name)
        if excluded is None:
            if len(self._excluded) >= _MAX_REMEMBERED:
                # Unregistered signals made on the fly are named by id.
                self._excluded.clear()
            excluded = self._excluded[signal_name] = any(
                fnmatchcase(signal_name, pattern) for pattern in self.exclude
            )
        return excluded

    may_decline = True

    def declines(self, signal: DjangoSignal, sender: Any) -> bool:
        # Checked once per send, before the pipeline builds anything: outside
        # a sampled trace (and with no histogram) there is nothing to make.
        if self.histogram is not None:
            return False
        span = cast("Span | None", self._current_context().get(_SPAN_KEY))
        return span is None or not span.is_recording()

    def send_unheard(self, signal: DjangoSignal, sender: Any) -> bool:
        return True  # a send that runs no receiver makes no span

    def send_started(self, send: pipeline.Send) -> _SendSpans | None:
        parent = self._current_context()
        # Checked once per send (a span costs ten times a whole send), and
        # read as trace.get_current_span() does, without its isinstance()
        # check against an ABC, which costs as much as the rest.
        span = cast("Span | None", parent.get(_SPAN_KEY))
        # declines() has already let through only a send in a sampled trace
        # or one whose receivers the histogram measures.
        recording = span is not None and span.is_recording()
        if self.exclude and self.excludes(send.signal_name):
            return None
        if recording:
            # Found now: once the sender awaits (asend()), the frames above
            # it are no longer linked for the first receiver to find.
            send.site_offset()
        return _SendSpans(self, send, parent, recording)


class _SendSpans(pipeline.SendObserver):
    """The spans of one send: made when its first receiver starts."""

    __slots__ = (
        "_context",
        "_parent",
        "_receivers",
        "_recording",
        "_send",
        "_span",
        "_tracing",
    )

    def __init__(
        self,
        tracing: _Tracing,
        send: pipeline.Send,
        parent: otel_context.Context,
        recording: bool,
    ) -> None:
        self._tracing = tracing
        self._send = send
        self._parent = parent
        self._recording = recording
        self._span: Span | None = None
        self._context = parent
        # index -> (span, the context made current for it, the context
        # before it, started_ns, receiver name); receivers of one send may
        # overlap (Django 6.1 runs async receivers concurrently).
        self._receivers: dict[
            int,
            tuple[
                Span | None,
                otel_context.Context | None,
                otel_context.Context | None,
                int,
                str,
            ],
        ] = {}

    def _start_send_span(self) -> Span:
        send = self._send
        tracing = self._tracing
        name = send.signal_name
        attributes: dict[str, AttributeValue] = {
            "signalkit.signal": name,
            "signalkit.sender": object_label(send.sender),
            "signalkit.method": send.method,
        }
        site = send.keep_site()
        if site is not None:
            attributes["code.file.path"] = site[0].co_filename
            attributes["code.line.number"] = site[1]
        span = tracing.tracer.start_span(
            f"send {name}",
            context=self._parent,
            kind=_INTERNAL,
            attributes=attributes,
            # The send started before its first receiver: date it from then.
            start_time=tracing.epoch_offset + send.started_ns,
        )
        self._context = trace.set_span_in_context(span, self._parent)
        return span

    def receiver_started(self, index: int, receiver: pipeline.Receiver) -> None:
        name = receiver.name
        span = current = before = None
        if self._recording:
            if self._span is None:
                # Django 5.2's asend() runs sync receivers in a thread while
                # the async ones start: only one may make the send span.
                with _send_span_lock:
                    self._span = self._span or self._start_send_span()
            tracing = self._tracing
            span = tracing.tracer.start_span(
                name,
                context=self._context,
                kind=_INTERNAL,
                attributes={"code.function.name": name},
                start_time=tracing.epoch_offset + _perf_counter_ns(),
            )
            # Current while the receiver runs: its queries and sends nest
            # under it. Made from the context as it is now, so that what an
            # earlier receiver attached (baggage) stays, as without us.
            before = _get_current()
            current = trace.set_span_in_context(span, before)
            otel_context.attach(current)
        self._receivers[index] = (span, current, before, _perf_counter_ns(), name)

    def receiver_finished(
        self, index: int, result: Any, error: BaseException | None
    ) -> None:
        finished = _perf_counter_ns()
        span, current, before, started, name = self._receivers.pop(index)
        tracing = self._tracing
        if span is not None:
            # Give the sender back its context as it would be without us:
            # the one before the receiver, or, when the receiver attached a
            # context of its own (baggage), that one; either way with the
            # sender's span current again instead of a receiver's (Django
            # 6.1 runs async receivers concurrently in one shared context:
            # the one before may be another receiver's). A context made
            # current by a receiver running beside this one is left alone.
            now = _get_current()
            if now is current:
                otel_context.attach(self._senders(cast(otel_context.Context, before)))
            elif now.get(_SPAN_KEY) is span:
                otel_context.attach(self._senders(now))
            if error is not None:
                _record_error(span, error)
            elif getattr(type(result), "signalkit_status", None) == "enqueued":
                span.set_attributes(
                    {
                        "signalkit.background": True,
                        "signalkit.task_id": str(getattr(result, "task_id", "")),
                    }
                )
            span.end(end_time=tracing.epoch_offset + finished)
        if tracing.histogram is not None:
            tracing.histogram.record(
                (finished - started) / 1e9,
                {
                    "signalkit.signal": self._send.signal_name,
                    "signalkit.receiver": name,
                },
            )

    def _senders(self, context: otel_context.Context) -> otel_context.Context:
        # *context* with the sender's current span (as when the send started).
        senders = self._parent.get(_SPAN_KEY)
        if context.get(_SPAN_KEY) is senders:
            return context
        return otel_context.set_value(_SPAN_KEY, senders, context)

    def send_finished(self, error: BaseException | None) -> None:
        span = self._span
        if span is None:
            return
        if error is not None:
            _record_error(span, error)
        span.end(end_time=self._tracing.epoch_offset + _perf_counter_ns())


class SignalkitInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Trace signal sends and receivers with OpenTelemetry.

    ``SignalkitInstrumentor().instrument()`` starts tracing in the whole
    process; ``opentelemetry-instrument`` calls it for you (entry point
    ``signalkit`` in the group ``opentelemetry_instrumentor``).
    ``uninstrument()`` stops it.

    Keyword arguments of :meth:`instrument`:

    - ``tracer_provider``: default, the global one;
    - ``meter_provider``: default, the global one once the application has
      set one; without a meter provider no histogram is recorded;
    - ``exclude``: dotted signal names or glob patterns
      (``"django.db.models.signals.*"``) whose sends make no span; default,
      the comma-separated ``OTEL_PYTHON_SIGNALKIT_EXCLUDED_SIGNALS``.
    """

    _observer: _Tracing | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("django >= 5.2",)

    def _instrument(self, **kwargs: Any) -> None:
        tracer_provider: TracerProvider | None = kwargs.get("tracer_provider")
        tracer = trace.get_tracer(
            "signalkit", _version(), tracer_provider=tracer_provider
        )
        observer = _Tracing(
            tracer,
            _histogram(kwargs.get("meter_provider")),
            _exclude_patterns(kwargs.get("exclude")),
        )
        pipeline.add_observer(observer)
        self._observer = observer

    def _uninstrument(self, **kwargs: Any) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            pipeline.remove_observer(observer)
