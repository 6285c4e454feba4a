"""The defects of issue 17, each shown by a test that failed before its fix."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.dispatch import Signal as DjangoSignal

import signalkit
from signalkit import Signal, pipeline, record
from signalkit.pipeline import (
    Observer,
    Receiver,
    Send,
    SendObserver,
    add_observer,
    dispatch,
    is_patched,
    observing,
    remove_observer,
    scopes,
)
from signalkit.testing import mute

TESTS = Path(__file__).resolve().parent


def run_python(code: str) -> str:
    """Run *code* in a fresh process with the test settings; its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=TESTS,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "settings",
            "PYTHONPATH": os.pathsep.join(
                [str(TESTS), str(Path(signalkit.__file__).parents[1])]
            ),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def ok(sender: Any, **kwargs: Any) -> str:
    return "fine"


async def async_ok(sender: Any, **kwargs: Any) -> int:
    return 42


def also_ok(sender: Any, **kwargs: Any) -> str:
    return "also fine"


def no_running_sends() -> bool:
    return not pipeline.running_sends()


@contextlib.contextmanager
def instrumented(provider: Any) -> Iterator[None]:
    """signalkit's tracer on *provider* for the block."""
    from signalkit.contrib.opentelemetry import SignalkitInstrumentor

    instrumentor = SignalkitInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield
    finally:
        instrumentor.uninstrument()


# 1. Instrumenting before django.setup()

OBSERVED_BEFORE_SETUP = """
import django
from signalkit import pipeline

class Names(pipeline.Observer):
    def __init__(self):
        self.names = []
    def send_started(self, send):
        self.names.append(send.signal_name)
        return None

names = Names()
pipeline.add_observer(names)
django.setup()
from signalkit import Signal

ping = Signal(name="defects.ping")
ping.connect(lambda sender, **kwargs: "pong", weak=False)
print(ping.send(sender=None)[0][1], ping.send_robust(sender=None)[0][1])
print(names.names.count("defects.ping"))
"""


def test_an_observer_added_before_django_setup_sees_signalkit_signals() -> None:
    assert run_python(OBSERVED_BEFORE_SETUP).split() == ["pong", "pong", "2"]


# 2. asend() whose async receiver raises, on Django 5.2 and 6.0 (gather)


def test_an_asend_whose_receiver_raises_runs_every_receiver_and_leaves_nothing() -> (
    None
):
    signal = DjangoSignal()
    ran: list[str] = []
    done = threading.Event()

    def first(sender: Any, **kwargs: Any) -> None:
        time.sleep(0.05)  # the raising receiver ends the send meanwhile
        ran.append("first")

    def second(sender: Any, **kwargs: Any) -> None:
        ran.append("second")
        done.set()

    async def raising(sender: Any, **kwargs: Any) -> None:
        raise KeyError("async broke")

    async def late(sender: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.05)
        ran.append("late")

    for receiver in (first, second, raising, late):
        signal.connect(receiver)

    async def send() -> list[str]:
        ran.clear()
        done.clear()
        with pytest.raises(KeyError):
            await signal.asend(sender=None)
        await asyncio.to_thread(done.wait, 10)
        await asyncio.sleep(0.2)  # the late receiver finishes
        return sorted(ran)

    plain = asyncio.run(send())
    with record() as recorder:
        observed = asyncio.run(send())
    assert observed == plain == ["first", "late", "second"]
    assert recorder.sends[0].exception_type == "KeyError"
    assert no_running_sends()
    # A later top-level send in asgiref's shared thread is not nested.
    with record() as later:
        asyncio.run(_sync_send_in_thread(signal))
    assert [send.depth for send in later.sends] == [0]


async def _sync_send_in_thread(signal: DjangoSignal) -> None:
    from asgiref.sync import sync_to_async

    other = DjangoSignal()
    other.connect(ok)
    await sync_to_async(other.send)(sender=None)


# 3. An observer that raises


class Failing(Observer, SendObserver):
    """Raises in one of its events."""

    def __init__(self, event: str) -> None:
        self.event = event
        self.may_decline = event == "declines"  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"<Failing in {self.event}>"

    def _maybe_fail(self, event: str) -> None:
        if event == self.event:
            raise RuntimeError(f"{event} broke")

    def declines(self, signal: DjangoSignal, sender: Any) -> bool:
        self._maybe_fail("declines")
        return False

    def send_unheard(self, signal: DjangoSignal, sender: Any) -> bool:
        self._maybe_fail("send_unheard")
        return False

    def send_started(self, send: Send) -> SendObserver | None:
        self._maybe_fail("send_started")
        return self

    def receiver_started(self, index: int, receiver: Receiver) -> None:
        self._maybe_fail("receiver_started")

    def receiver_finished(
        self, index: int, result: Any, error: BaseException | None
    ) -> None:
        self._maybe_fail("receiver_finished")

    def send_finished(self, error: BaseException | None) -> None:
        self._maybe_fail("send_finished")


EVENTS = [
    "declines",
    "send_unheard",
    "send_started",
    "receiver_started",
    "receiver_finished",
    "send_finished",
]


@pytest.mark.parametrize(
    ("event", "wide"),
    [
        *[pytest.param(event, True, id=f"process-wide-{event}") for event in EVENTS],
        # Only a process-wide observer is asked whether it declines a send.
        *[pytest.param(event, False, id=f"context-{event}") for event in EVENTS[1:]],
    ],
)
def test_an_observer_that_raises_never_reaches_the_sender(
    event: str, wide: bool, caplog: pytest.LogCaptureFixture
) -> None:
    signal, empty = DjangoSignal(), DjangoSignal()
    signal.connect(ok)
    signal.connect(also_ok)
    failing = Failing(event)
    with record() as recorder, caplog.at_level(logging.ERROR, logger="signalkit"):
        if wide:
            add_observer(failing)
        try:
            with observing(failing) if not wide else _nothing():
                for _ in range(2):
                    assert [r for _, r in signal.send_robust(None)] == [
                        "fine",
                        "also fine",
                    ]
                    assert [r for _, r in signal.send(None)] == ["fine", "also fine"]
                    assert empty.send(None) == []
                    assert [r for _, r in asyncio.run(signal.asend(None))] == [
                        "fine",
                        "also fine",
                    ]
        finally:
            if wide:
                remove_observer(failing)
    failures = [r for r in caplog.records if r.name == "signalkit"]
    assert len(failures) == 1, failures
    assert "<Failing in " + event + ">" in failures[0].getMessage()
    assert failures[0].exc_info is not None
    # The other observers saw every send, with both receivers.
    heard = [send for send in recorder.sends if send.signal_name != "?"]
    assert [len(send.receivers) for send in heard if send.receivers] == [2] * 6
    assert no_running_sends()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_span_processor_that_raises_on_start_leaves_the_send_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

    class Broken(SpanProcessor):
        def on_start(self, span: Any, parent_context: Any = None) -> None:
            if span.name.startswith("send "):
                raise RuntimeError("on_start broke")

    provider = TracerProvider()
    provider.add_span_processor(Broken())
    signal = DjangoSignal()
    signal.connect(ok)
    signal.connect(also_ok)
    with (
        instrumented(provider),
        provider.get_tracer("tests").start_as_current_span("request"),
    ):
        responses = signal.send_robust(None)
    assert [r for _, r in responses] == ["fine", "also fine"]
    assert no_running_sends()


# 4. The context a receiver leaves behind, under the tracer


def test_a_receiver_that_attaches_baggage_leaves_it_to_the_sender() -> None:
    from opentelemetry import baggage, trace
    from opentelemetry import context as otel_context
    from opentelemetry.sdk.trace import TracerProvider

    signal = DjangoSignal()

    def tenant(sender: Any, **kwargs: Any) -> None:
        otel_context.attach(baggage.set_baggage("tenant", "acme"))

    def region(sender: Any, **kwargs: Any) -> None:
        otel_context.attach(baggage.set_baggage("region", "eu"))

    signal.connect(tenant)
    signal.connect(region)
    provider = TracerProvider()
    tracer = provider.get_tracer("tests")

    def send() -> tuple[Any, Any, Any]:
        def in_context() -> tuple[Any, Any, Any]:
            with tracer.start_as_current_span("request") as span:
                signal.send(None)
                return (
                    trace.get_current_span() is span,
                    baggage.get_baggage("tenant"),
                    baggage.get_baggage("region"),
                )

        return contextvars.copy_context().run(in_context)

    plain = send()
    with instrumented(provider):
        traced = send()
    assert traced == plain == (True, "acme", "eu")


# 5. Leaving record() or mute() in another context


@pytest.mark.parametrize("which", ["record", "mute"])
def test_a_block_left_in_another_context_still_lets_django_go(which: str) -> None:
    signal = DjangoSignal()
    block = record() if which == "record" else mute(signal)
    contextvars.copy_context().run(block.__enter__)
    with pytest.raises(ValueError, match="was created in a different Context"):
        block.__exit__(None, None, None)
    assert not is_patched()
    with record():
        pass
    assert not is_patched()


# 6. A closed recording records nothing more


@pytest.mark.parametrize("wide", [False, True], ids=["alone", "beside-a-wide-one"])
def test_a_task_made_inside_a_recording_is_not_recorded_after_it(wide: bool) -> None:
    signal = DjangoSignal()
    heard: list[str] = []

    def listen(sender: Any, **kwargs: Any) -> None:
        heard.append(sender)

    signal.connect(listen)
    wide_observer = Failing("nothing")
    if wide:
        add_observer(wide_observer)

    async def main() -> None:
        go = asyncio.Event()

        async def later() -> None:
            await go.wait()
            for _ in range(3):
                signal.send("after")

        with record() as recorder, mute(DjangoSignal()):
            task = asyncio.ensure_future(later())
            signal.send("inside")
        go.set()
        await task
        assert [send.sender_label for send in recorder.sends] == ["'inside'"]

    try:
        asyncio.run(main())
    finally:
        if wide:
            remove_observer(wide_observer)
    assert heard == ["inside", "after", "after", "after"]


def test_a_mute_does_not_outlive_its_block_in_tasks() -> None:
    signal = DjangoSignal()
    heard: list[str] = []
    signal.connect(lambda sender, **kwargs: heard.append(sender), weak=False)
    wide_observer = Failing("nothing")
    add_observer(wide_observer)

    async def main() -> None:
        go = asyncio.Event()

        async def later() -> None:
            await go.wait()
            signal.send("after")

        with mute(signal):
            task = asyncio.ensure_future(later())
            signal.send("inside")
        go.set()
        await task

    try:
        asyncio.run(main())
    finally:
        remove_observer(wide_observer)
    assert heard == ["after"]


# 7. A nested send through the wrapped path


class Announcing(DjangoSignal):
    """Sends another signal while it looks up its receivers."""

    def __init__(self, other: DjangoSignal) -> None:
        super().__init__()
        self.other = other

    def _live_receivers(self, sender: Any) -> Any:
        self.other.send(sender=sender)
        return super()._live_receivers(sender)


def test_a_send_made_while_receivers_are_looked_up_keeps_the_outer_receivers() -> None:
    other = DjangoSignal()
    other.connect(ok)
    other.connect(async_ok)
    outer = Announcing(other)
    outer.connect(ok)
    outer.connect(also_ok)
    outer.connect(async_ok)  # Django's own method runs the send
    with record() as recorder:
        responses = outer.send(None)
    assert [r for _, r in responses] == ["fine", "also fine", 42]
    names = {
        send.signal_name: [call.name for call in send.receivers]
        for send in recorder.sends
    }
    assert sorted(map(len, names.values())) == [2, 3]


# 8. Removing an observer while another thread sends


class Declining(Observer):
    may_decline = True

    def declines(self, signal: DjangoSignal, sender: Any) -> bool:
        return True


class RemoveAtLine:
    """A trace function: removes *observer* at line number *at* of *code*'s run."""

    def __init__(self, code: Any, at: int, observer: Observer) -> None:
        self.code, self.at, self.observer = code, at, observer
        self.lines = 0

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        return self.each_line if frame.f_code is self.code else None

    def each_line(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            self.lines += 1
            if self.lines == self.at:
                remove_observer(self.observer)
        return self.each_line


@pytest.mark.parametrize("method", ["send", "send_robust"])
def test_removing_an_observer_at_any_line_of_a_send_never_breaks_it(
    method: str,
) -> None:
    # Another thread's remove_observer() may run between any two lines of
    # the pipeline's send method: try each of them in turn.
    signal = DjangoSignal()
    signal.connect(ok)
    code = dispatch.PATCHES[method].__code__
    at = 1
    while True:
        observer = Declining()
        add_observer(observer)
        trace = RemoveAtLine(code, at, observer)
        coverage = sys.gettrace()  # coverage's tracer, given back after
        sys.settrace(trace)
        try:
            responses = getattr(signal, method)(None)
        finally:
            sys.settrace(coverage)
            if observer in scopes.wide[0]:
                remove_observer(observer)
        assert responses == [(ok, "fine")], at
        if trace.lines < at:
            break  # every line tried
        at += 1
    assert at > 3  # the send method has lines to try


# 9. Labels and memory of unnamed signals


def _unnamed() -> None:
    signal = Signal()  # no name, never bound to a module attribute
    pipeline.signal_label(signal)


def test_a_plain_signal_never_gets_the_label_of_a_dead_unnamed_one() -> None:
    wrong = 0
    for _ in range(500):
        _unnamed()
        gc.collect(0)
        plain = DjangoSignal()
        if not pipeline.signal_label(plain).startswith("<django.dispatch"):
            wrong += 1
    assert wrong == 0


def test_dead_unnamed_signals_are_forgotten() -> None:
    from signalkit.registry import registry

    for _ in range(200):
        _unnamed()
    gc.collect()
    registry.label(DjangoSignal())  # settles what is pending
    alive = [
        pending
        for pending in (*registry._pending.values(), *registry._unbound.values())
        if pending.signal() is None
    ]
    assert alive == []


# 10. asend spans have a code location

asked = Signal(name="tests.defects.asked")


def test_an_asend_span_has_its_code_location() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        InMemorySpanExporter,
    )

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    signal = asked

    async def answer(sender: Any, **kwargs: Any) -> int:
        await asyncio.sleep(0)
        return 42

    signal.connect(answer)

    async def main() -> int:
        with provider.get_tracer("tests").start_as_current_span("request"):
            await signal.asend(None)
            return sys._getframe().f_lineno - 1

    try:
        with instrumented(provider):
            line = asyncio.run(main())
    finally:
        signal.disconnect(answer)
    [span] = [s for s in memory.get_finished_spans() if s.name.startswith("send ")]
    assert span.attributes is not None
    assert span.attributes.get("code.file.path") == __file__
    assert span.attributes.get("code.line.number") == line


@pytest.fixture(autouse=True)
def _nothing_left_behind() -> Iterator[None]:
    yield
    assert not is_patched()


# Around the defects: the paths their fixes opened.


@pytest.mark.parametrize(
    ("event", "wide"),
    [("send_unheard", False), ("declines", True)],
    ids=["lone-recording-send_unheard", "lone-tracer-declines"],
)
def test_a_lone_observer_that_raises_before_a_send_is_built_leaves_it_to_django(
    event: str, wide: bool, caplog: pytest.LogCaptureFixture
) -> None:
    signal, empty = DjangoSignal(), DjangoSignal()
    signal.connect(ok)
    failing = Failing(event)
    with caplog.at_level(logging.ERROR, logger="signalkit"):
        if wide:
            add_observer(failing)
        try:
            with observing(failing) if not wide else _nothing():
                assert empty.send(None) == []
                assert signal.send(None) == [(ok, "fine")]
        finally:
            if wide:
                remove_observer(failing)
    [failure] = [r for r in caplog.records if r.name == "signalkit"]
    assert f"<Failing in {event}>" in failure.getMessage()


class Nameless(Failing):
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_an_observer_without_repr_or_hash_is_named_by_its_class_every_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    signal = DjangoSignal()
    signal.connect(ok)
    with (
        caplog.at_level(logging.ERROR, logger="signalkit"),
        observing(Nameless("send_started")),
    ):
        signal.send(None)
        signal.send(None)
    failures = [r.getMessage() for r in caplog.records if r.name == "signalkit"]
    assert len(failures) == 2  # cannot be remembered: logged each time
    assert f"<{__name__}.Nameless>" in failures[0]


def test_a_task_made_in_an_inner_block_is_seen_by_the_outer_one_only() -> None:
    signal = DjangoSignal()
    signal.connect(ok)

    async def main() -> tuple[list[str], list[str]]:
        go = asyncio.Event()

        async def later() -> None:
            await go.wait()
            signal.send("sync")
            await signal.asend("async")

        with record() as outer:
            with record() as inner:
                task = asyncio.ensure_future(later())
            go.set()
            await task
        return (
            [send.sender_label for send in outer.sends],
            [send.sender_label for send in inner.sends],
        )

    assert asyncio.run(main()) == (["'sync'", "'async'"], [])


@pytest.mark.parametrize("is_async", [False, True])
def test_a_receiver_of_a_released_send_runs_unobserved(is_async: bool) -> None:
    events = Failing("nothing")
    send = Send(DjangoSignal(), "asend", None, {}, False, None)
    send.per_receiver = ((events, events),)
    send._release()

    async def answer(**kwargs: Any) -> int:
        return 42

    def plain(**kwargs: Any) -> int:
        return 42

    if is_async:
        wrapped = pipeline.AsyncReceiver(answer, send, 0)
        assert asyncio.run(wrapped(signal=None, sender=None)) == 42
    else:
        assert Receiver(plain, send, 0)(signal=None, sender=None) == 42
    assert no_running_sends()


def test_a_span_without_a_site_has_no_code_location(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        InMemorySpanExporter,
    )

    from signalkit.pipeline import send as send_module

    monkeypatch.setattr(send_module, "_INTERNAL_DIRS", ("",))  # every frame
    monkeypatch.setattr(send_module, "_internal_files", {})
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    signal = DjangoSignal()
    signal.connect(ok)
    with (
        instrumented(provider),
        provider.get_tracer("tests").start_as_current_span("request"),
    ):
        signal.send(None)
    [span] = [s for s in memory.get_finished_spans() if s.name.startswith("send ")]
    assert span.attributes is not None
    assert "code.file.path" not in span.attributes


def test_a_receiver_that_makes_its_own_span_current_leaves_it_to_the_sender() -> None:
    from opentelemetry import context as otel_context
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider()
    tracer = provider.get_tracer("tests")
    signal = DjangoSignal()

    def own_span(sender: Any, **kwargs: Any) -> None:
        span = tracer.start_span("receiver's own")
        otel_context.attach(trace.set_span_in_context(span))

    signal.connect(own_span)

    def send() -> str:
        def in_context() -> str:
            with tracer.start_as_current_span("request"):
                signal.send(None)
                return trace.get_current_span().name  # type: ignore[attr-defined,no-any-return]

        return contextvars.copy_context().run(in_context)

    plain = send()
    with instrumented(provider):
        traced = send()
    assert traced == plain == "receiver's own"


def test_a_cancelled_asend_leaves_nothing_behind() -> None:
    signal = DjangoSignal()
    started = asyncio.Event()

    async def forever(sender: Any, **kwargs: Any) -> None:
        started.set()
        await asyncio.sleep(3600)

    signal.connect(forever)

    async def main() -> None:
        task = asyncio.ensure_future(signal.asend(sender=None))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with record() as recorder:
        asyncio.run(main())
    assert recorder.sends[0].exception_type == "CancelledError"
    assert no_running_sends()


def test_every_receiver_span_of_an_asend_that_raised_ends() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        InMemorySpanExporter,
    )

    signal = DjangoSignal()

    async def raising(sender: Any, **kwargs: Any) -> None:
        raise KeyError("async broke")

    async def late(sender: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.05)

    signal.connect(raising)
    signal.connect(late)
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))

    async def main() -> None:
        with provider.get_tracer("tests").start_as_current_span("request"):
            with pytest.raises(KeyError):
                await signal.asend(sender=None)
            await asyncio.sleep(0.2)

    with instrumented(provider):
        asyncio.run(main())
    spans = memory.get_finished_spans()
    receivers = sorted(s.name.rpartition(".")[2] for s in spans if "<locals>" in s.name)
    assert receivers == ["late", "raising"]  # both ended
    assert [s.name.startswith("send ") for s in spans].count(True) == 1
    assert no_running_sends()


def test_blocks_one_after_another_inside_a_block_each_close_alone() -> None:
    signal = DjangoSignal()
    signal.connect(ok)
    with record() as outer:
        with record() as first:
            signal.send("first")
        with record() as second:
            signal.send("second")
        signal.send("outer")
    assert [s.sender_label for s in first.sends] == ["'first'"]
    assert [s.sender_label for s in second.sends] == ["'second'"]
    assert [s.sender_label for s in outer.sends] == ["'first'", "'second'", "'outer'"]
