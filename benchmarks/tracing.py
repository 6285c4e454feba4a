"""What tracing costs: OpenTelemetry spans and the slow-receiver log.

Run with ``python benchmarks/tracing.py`` (needs ``opentelemetry-sdk`` and
``sentry-sdk``). One run is one request: a request span (a sentry
transaction for sentry-sdk) around 100 sends of a signal to 5 receivers.
Every case runs in the same process, interleaved, and the ratios of their
best times are printed:

- not instrumented: Django's own dispatch under the request span (1.00x);
- instrumented, request not sampled (goal <= 1.2x);
- instrumented and sampled, against the SDK's own floor: the same spans made
  by hand with the same SDK, ``start_as_current_span()`` around the send and
  around each receiver (goal <= 1.25x);
- instrumented and sampled, against sentry-sdk's ``signals_spans`` on the
  same sends, one transaction per request (goal < 1x);
- the slow-receiver log alone, nothing slow (goal <= 1.3x), against two
  floors: each receiver timed by hand in a wrapper, and the cheapest design,
  Django's loop with two clock readings per receiver and no record of the
  send (``stamped_loop``);
- for reference, what signalkit's send-event pipeline costs by itself with
  an observer that declines every send (as the tracer does outside a
  sampled request) and with one that takes every send and does nothing.

Spans go to a ``BatchSpanProcessor`` whose exporter drops them, as in
production where the export runs in a background thread; sentry-sdk's
transaction is serialised when it finishes, in the request, and its
transport drops the envelope.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _setup import make_receiver, setup_django

setup_django()

import sentry_sdk  # noqa: E402
from django.dispatch import Signal as DjangoSignal  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import (  # noqa: E402
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON  # noqa: E402
from opentelemetry.trace import SpanKind  # noqa: E402
from sentry_sdk.integrations.django import DjangoIntegration  # noqa: E402
from sentry_sdk.transport import Transport  # noqa: E402

from signalkit import Signal, pipeline  # noqa: E402
from signalkit.contrib.opentelemetry import SignalkitInstrumentor  # noqa: E402
from signalkit.slow import SlowReceiverLog  # noqa: E402

SENDS = 100
RECEIVERS = 5

order_paid = Signal(name="benchmarks.order_paid", args=["order"])


RECEIVER_FUNCTIONS = [make_receiver(i) for i in range(RECEIVERS)]


class _DropSpans(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


sampled_provider = TracerProvider(sampler=ALWAYS_ON)
sampled_provider.add_span_processor(BatchSpanProcessor(_DropSpans()))
unsampled_provider = TracerProvider(sampler=ALWAYS_OFF)


def sends() -> None:
    for number in range(SENDS):
        order_paid.send(sender=None, order=number)


def request(provider: TracerProvider, run: Callable[[], None]) -> Callable[[], None]:
    tracer = provider.get_tracer("benchmark")

    def in_request() -> None:
        with tracer.start_as_current_span("request", kind=SpanKind.SERVER):
            run()

    return in_request


def hand_made_spans(tracer: trace.Tracer) -> Callable[[], None]:
    """The spans SignalkitInstrumentor makes, made by hand with the same SDK."""
    signal = DjangoSignal()
    for index, receiver in enumerate(RECEIVER_FUNCTIONS):
        name = f"{__name__}.receiver_{index}"

        def traced(
            sender: Any, _receiver: Any = receiver, _name: str = name, **kwargs: Any
        ) -> Any:
            with tracer.start_as_current_span(
                _name, kind=SpanKind.INTERNAL, attributes={"code.function.name": _name}
            ):
                return _receiver(sender, **kwargs)

        signal.connect(traced, weak=False)

    def run() -> None:
        for number in range(SENDS):
            with tracer.start_as_current_span(
                "send benchmarks.order_paid",
                kind=SpanKind.INTERNAL,
                attributes={
                    "signalkit.signal": "benchmarks.order_paid",
                    "signalkit.sender": "None",
                    "signalkit.method": "send",
                    "code.file.path": __file__,
                    "code.line.number": 1,
                },
            ):
                signal.send(sender=None, order=number)

    return run


def hand_timed(threshold_ms: float) -> Callable[[], None]:
    """The slow-receiver log's work done by hand: each receiver timed and
    compared with the threshold, the same sends of a declared signal."""
    signal = Signal(name="benchmarks.order_paid_timed", args=["order"])
    threshold_ns = threshold_ms * 1_000_000
    for receiver in RECEIVER_FUNCTIONS:

        def timed(sender: Any, _receiver: Any = receiver, **kwargs: Any) -> Any:
            started = time.perf_counter_ns()
            result = _receiver(sender, **kwargs)
            if time.perf_counter_ns() - started > threshold_ns:
                raise AssertionError("nothing is slow here")
            return result

        signal.connect(timed, weak=False)

    def run() -> None:
        for number in range(SENDS):
            signal.send(sender=None, order=number)

    return run


class _StampedLoop(Signal):
    """The slow log's cheapest design: Django's sync loop with two clock
    readings per receiver and a comparison, no record of the send."""

    threshold_ns = 10_000 * 1_000_000

    def send(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        if named.keys() != self._required_keys:
            self._check_arguments("send", named)
        if not self.receivers:
            return []
        now = time.perf_counter_ns
        responses = []
        for receiver in self._live_receivers(sender)[0]:
            started = now()
            response = receiver(signal=self, sender=sender, **named)
            if now() - started > self.threshold_ns:
                raise AssertionError("nothing is slow here")
            responses.append((receiver, response))
        return responses


def stamped_loop() -> Callable[[], None]:
    signal = _StampedLoop(name="benchmarks.order_paid_stamped", args=["order"])
    for receiver in RECEIVER_FUNCTIONS:
        signal.connect(receiver, weak=False)

    def run() -> None:
        for number in range(SENDS):
            signal.send(sender=None, order=number)

    return run


@contextmanager
def instrumented() -> Iterator[None]:
    SignalkitInstrumentor().instrument(tracer_provider=sampled_provider)
    try:
        yield
    finally:
        SignalkitInstrumentor().uninstrument()


class _Declines(pipeline.Observer):
    """Declines every send: what the pipeline costs a tracer outside a trace."""


class _Accepts(pipeline.Observer):
    """Takes every send and does nothing: the pipeline's cost per receiver."""

    def send_started(self, send: pipeline.Send) -> pipeline.SendObserver:
        return pipeline.SendObserver()


def observed_by(observer: pipeline.Observer) -> Callable[[], Iterator[None]]:
    @contextmanager
    def observing() -> Iterator[None]:
        pipeline.add_observer(observer)
        try:
            yield
        finally:
            pipeline.remove_observer(observer)

    return observing


@contextmanager
def slow_log() -> Iterator[None]:
    log = SlowReceiverLog(threshold_ms=10_000)
    pipeline.add_observer(log)
    try:
        yield
    finally:
        pipeline.remove_observer(log)


Case = tuple[Callable[[], AbstractContextManager[Any]], Callable[[], None]]


def best_times(cases: dict[str, Case], *, number: int, repeat: int) -> dict[str, float]:
    """Best time per run of each case, cases interleaved to share the noise.

    Each case's set-up (instrumenting, say) runs around its timed runs.
    """
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(repeat):
        for name, (around, run) in cases.items():
            with around():
                run()  # warm caches
                gc.collect()
                started = time.perf_counter()
                for _ in range(number):
                    run()
                elapsed = time.perf_counter() - started
            best[name] = min(best[name], elapsed / number)
    return best


def line(title: str, candidate: float, baseline: float, goal: str) -> None:
    print(
        f"{title:<58} {candidate / baseline:5.2f}x  "
        f"({candidate * 1e6:8.0f} us vs {baseline * 1e6:8.0f} us)  goal {goal}"
    )


class _NoTransport(Transport):
    def capture_envelope(self, envelope: Any) -> None:
        pass


def sentry_times(*, number: int, repeat: int) -> float:
    """Best time of the same sends under sentry-sdk's signals_spans."""
    sentry_sdk.init(
        dsn="https://key@sentry.invalid/1",
        transport=_NoTransport,
        traces_sample_rate=1.0,
        default_integrations=False,
        integrations=[DjangoIntegration(signals_spans=True)],
    )

    def in_transaction() -> None:
        with sentry_sdk.start_transaction(name="request"):
            sends()

    return best_times(
        {"sentry": (nullcontext, in_transaction)}, number=number, repeat=repeat
    )["sentry"]


def main() -> None:
    import django

    print(
        f"Python {sys.version.split()[0]}, Django {django.get_version()}, "
        f"{SENDS} sends to {RECEIVERS} receivers per run"
    )
    for receiver in RECEIVER_FUNCTIONS:
        order_paid.connect(receiver)
    sampled = sampled_provider.get_tracer("benchmark")
    floor = hand_made_spans(sampled)

    cases: dict[str, Case] = {
        "plain": (nullcontext, request(sampled_provider, sends)),
        "unsampled": (instrumented, request(unsampled_provider, sends)),
        "sampled": (instrumented, request(sampled_provider, sends)),
        "floor": (nullcontext, request(sampled_provider, floor)),
        "slow": (slow_log, request(sampled_provider, sends)),
        "slow floor": (nullcontext, request(sampled_provider, hand_timed(10_000))),
        "stamped loop": (nullcontext, request(sampled_provider, stamped_loop())),
        "declines": (observed_by(_Declines()), request(sampled_provider, sends)),
        "accepts": (observed_by(_Accepts()), request(sampled_provider, sends)),
    }
    times = best_times(cases, number=20, repeat=15)
    plain = times["plain"]
    line("not instrumented (Django's dispatch)", plain, plain, "1.00x")
    line(
        "instrumented, not sampled / not instrumented",
        times["unsampled"],
        plain,
        "<= 1.2x",
    )
    line(
        "instrumented, sampled / SDK floor (spans by hand)",
        times["sampled"],
        times["floor"],
        "<= 1.25x",
    )
    line("slow-receiver log alone / not instrumented", times["slow"], plain, "<= 1.3x")
    line(
        "slow-receiver log alone / cheapest design (stamped loop)",
        times["slow"],
        times["stamped loop"],
        "(gap)",
    )
    line(
        "slow-receiver log alone / its floor (timed by hand)",
        times["slow"],
        times["slow floor"],
        "(gap)",
    )
    for title, name in [
        ("slow log's floor (timed by hand) / not instrumented", "slow floor"),
        ("cheapest slow log (stamped loop) / not instrumented", "stamped loop"),
        ("SDK floor (spans by hand) / not instrumented", "floor"),
        ("pipeline, observer declining every send / not instr.", "declines"),
        ("pipeline, observer taking every send, idle / not instr.", "accepts"),
    ]:
        line(title, times[name], plain, "(informative)")
    # Last: sentry-sdk patches Signal for good once initialised.
    sentry = sentry_times(number=20, repeat=15)
    line(
        "instrumented, sampled / sentry-sdk signals_spans",
        times["sampled"],
        sentry,
        "< 1x",
    )
    line("sentry-sdk signals_spans / not instrumented", sentry, plain, "(informative)")


if __name__ == "__main__":
    main()
