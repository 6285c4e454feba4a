"""The pipeline's one copy of Django's sync receiver loops, and when it runs."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import sys
import threading
from collections.abc import Iterator
from typing import Any

import django
import pytest
from django.dispatch import Signal as DjangoSignal

from signalkit import fingerprints
from signalkit.pipeline import Observer, Send, SendObserver, loops, muting, observing
from signalkit.pipeline.wrapping import Receiver

DJANGO = f"{django.VERSION[0]}.{django.VERSION[1]}"


@pytest.mark.parametrize("method", ["send", "send_robust"])
def test_the_running_djangos_loop_is_the_one_copied(method: str) -> None:
    # Fails when a supported Django changes send() or send_robust(): compare
    # the new loop with loops.run_send(), then add its fingerprint.
    found = fingerprints.fingerprint(DjangoSignal.__dict__[method])
    assert found in fingerprints.DJANGO_LOOPS[method], (method, DJANGO, found)
    assert DJANGO in fingerprints.DJANGO_LOOPS[method][found]


def test_a_method_without_source_or_not_a_function_has_no_fingerprint() -> None:
    made: dict[str, Any] = {}
    exec("def send(self, sender, **named):\n    return []\n", made)  # no file
    assert fingerprints.fingerprint(made["send"]) is None
    assert fingerprints.fingerprint(len) is None
    assert fingerprints.fingerprint(DjangoSignal.asend) is None  # a coroutine function
    assert not fingerprints.is_djangos(made["send"], "send")


def test_a_declared_signal_no_receiver_hears_is_seen_by_an_observer() -> None:
    # signalkit.Signal answers [] itself only while Django's own method is
    # in place: with the pipeline's, the send reaches the observers.
    from signalkit import Signal, record

    unheard = Signal(name="tests.loops.unheard")
    with record(fold_empty=True) as recorder:
        assert unheard.send(sender=None) == []
        assert unheard.send_robust(sender=None) == []
    assert recorder.folded == {("tests.loops.unheard", "None"): 2}


class Results(Observer):
    """What each receiver of each send it saw returned."""

    def __init__(self) -> None:
        self.results: list[list[Any]] = []

    def send_started(self, send: Send) -> SendObserver:
        results = self.results

        class Finished(SendObserver):
            per_receiver = False

            def send_finished(self, error: BaseException | None) -> None:
                results.append(list(send.results))

        return Finished()


class CallableSend:
    """A send() patched in before ours that is an object, not a function:
    it has no code of its own."""

    def __init__(self) -> None:
        self.djangos = DjangoSignal.__dict__["send"]

    def __get__(self, signal: DjangoSignal, owner: type) -> Any:
        return functools.partial(self, signal)

    def __call__(self, signal: DjangoSignal, sender: Any, **named: Any) -> Any:
        return self.djangos(signal, sender, **named)


@pytest.fixture(params=["function", "object"])
def changed_send(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Django's send() as a future version might have it (same behaviour,
    other code), or as another library's object wrapping it."""
    djangos = DjangoSignal.__dict__["send"]

    def send(self: DjangoSignal, sender: Any, **named: Any) -> Any:
        return djangos(self, sender, **named)

    monkeypatch.setattr(
        DjangoSignal, "send", send if request.param == "function" else CallableSend()
    )


def caller_is_a_wrapper() -> bool:
    return sys._getframe(2).f_code is Receiver.__call__.__code__


def test_an_unknown_send_method_runs_with_wrapped_receivers(
    changed_send: None,
) -> None:
    signal = DjangoSignal()
    wrapped: list[bool] = []

    def listen(sender: Any, **kwargs: Any) -> str:
        wrapped.append(caller_is_a_wrapper())
        return "heard"

    signal.connect(listen)
    observer = Results()
    with observing(observer):
        assert loops.own_loop == {"send": False, "send_robust": True}
        responses = signal.send(sender=None)
        signal.send_robust(sender=None)
    assert responses == [(listen, "heard")]  # the wrapper taken out again
    assert wrapped == [True, False]  # send: Django's method; send_robust: ours
    assert observer.results == [["heard"], ["heard"]]


class Timer(Observer):
    """Only wants sends with a receiver slower than 100 ms, as the slow log."""

    threshold_ns = 100_000_000

    def __init__(self, answer: str = "observe") -> None:
        self.answer = answer
        self.sites: list[str] = []
        self.finished: list[tuple[list[bool], type[BaseException] | None]] = []

    def send_started(self, send: Send) -> SendObserver | None:
        if self.answer == "raise":
            raise RuntimeError("timer broke")
        self.sites.append(send.site)
        if self.answer == "ignore":
            return None
        finished = self.finished

        class Slow(SendObserver):
            per_receiver = False

            def send_finished(self, error: BaseException | None) -> None:
                finished.append(
                    (
                        [began is not None for began in send.receiver_started_ns],
                        None if error is None else type(error),
                    )
                )

        return Slow()


def fast(sender: Any, **kwargs: Any) -> str:
    return "fast"


def slow(sender: Any, **kwargs: Any) -> str:
    import time

    time.sleep(0.15)
    return "slow"


def failing(sender: Any, **kwargs: Any) -> None:
    raise ValueError("failed")


@pytest.fixture
def timer() -> Iterator[Timer]:
    from signalkit.pipeline import add_observer, remove_observer

    timer = Timer()
    add_observer(timer)
    yield timer
    remove_observer(timer)


def test_a_lone_timer_gets_only_the_sends_with_a_slow_receiver(timer: Timer) -> None:
    signal = DjangoSignal()
    signal.connect(fast)
    assert signal.send(sender=None) == [(fast, "fast")]
    assert timer.finished == []  # nothing built for a send that was not slow
    signal.connect(slow)
    assert signal.send_robust(sender=None) == [(fast, "fast"), (slow, "slow")]
    line = sys._getframe().f_lineno - 1
    assert timer.finished == [([True, True], None)]
    assert timer.sites == [f"{__file__}:{line}"]


def test_a_lone_timer_sees_a_slow_receiver_before_one_that_raised(
    timer: Timer,
) -> None:
    signal = DjangoSignal()
    for receiver in (slow, failing, fast):
        signal.connect(receiver)
    with pytest.raises(ValueError, match="failed"):
        signal.send(sender=None)
    assert timer.finished == [([True, True, False], ValueError)]


def test_a_lone_timer_gets_every_send_to_async_receivers(timer: Timer) -> None:
    signal = DjangoSignal()

    async def answer(sender: Any, **kwargs: Any) -> int:
        return 42

    signal.connect(answer)
    responses: list[Any] = [response for _, response in signal.send(sender=None)]
    assert responses == [42]
    assert timer.finished == [([True], None)]  # observed as usual


@pytest.mark.parametrize("answer", ["raise", "ignore"])
def test_a_lone_timer_that_raises_or_ignores_leaves_the_send_alone(
    answer: str, caplog: pytest.LogCaptureFixture
) -> None:
    from signalkit.pipeline import add_observer, remove_observer

    signal = DjangoSignal()
    signal.connect(slow)
    timer = Timer(answer)
    add_observer(timer)
    try:
        assert signal.send(sender=None) == [(slow, "slow")]
    finally:
        remove_observer(timer)
    assert timer.finished == []
    logged = [r for r in caplog.records if r.name == "signalkit"]
    assert len(logged) == (answer == "raise")


def test_a_lone_timer_gets_nothing_from_a_fast_send_that_raised(timer: Timer) -> None:
    signal = DjangoSignal()
    signal.connect(fast)
    signal.connect(failing)
    with pytest.raises(ValueError, match="failed"):
        signal.send(sender=None)
    assert timer.finished == []


def test_a_closed_mute_hides_no_receiver_from_has_listeners_in_a_copied_context() -> (
    None
):
    # A context copied inside a mute block (as an asyncio task's is) keeps
    # the block's scope; once the block ends, the signal is heard there again.
    signal = DjangoSignal()
    signal.connect(_heard)
    with observing(Observer()), muting(frozenset({signal})):
        copied = contextvars.copy_context()
        assert not signal.has_listeners()
    with observing(Observer()):  # still patched: our _live_receivers answers
        assert copied.run(signal.has_listeners)


def _heard(sender: Any, **kwargs: Any) -> None:
    pass


@pytest.fixture
def asend_that_yields_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """A patch of asend() installed before ours that lets other tasks run
    before it calls Django's."""
    djangos = DjangoSignal.__dict__["asend"]

    async def asend(self: DjangoSignal, sender: Any, **named: Any) -> Any:
        await asyncio.sleep(0)
        return await djangos(self, sender, **named)

    monkeypatch.setattr(DjangoSignal, "asend", asend)


def test_a_send_in_another_task_never_takes_the_receivers_of_an_observed_one(
    asend_that_yields_first: None,
) -> None:
    # The receivers of a send are wrapped for the send whose method asks for
    # them, found on the call stack: never for a send waiting in another
    # task of the thread (a thread-local hand-over gave them to it).
    signal = DjangoSignal()

    async def echo(sender: Any, **kwargs: Any) -> Any:
        return sender

    signal.connect(echo)
    observer = Results()

    async def observed() -> list[tuple[Any, Any]]:
        with observing(observer):
            return await signal.asend(sender="observed")

    async def main() -> list[list[tuple[Any, Any]]]:
        with observing(Results()):  # the patch stays while both tasks run
            return list(await asyncio.gather(observed(), signal.asend(sender="other")))

    responses = asyncio.run(main())
    assert responses == [[(echo, "observed")], [(echo, "other")]]
    assert observer.results == [["observed"]]


def test_lookups_made_while_receivers_are_wrapped_get_them_unwrapped() -> None:
    # While Django's method runs a send with wrapped receivers, a lookup made
    # by one of them, by has_listeners(), by another thread or by Django's
    # method run as a task of its own finds no send of ours to wrap.
    signal, other = DjangoSignal(), DjangoSignal()
    seen: list[Any] = []
    djangos_asend = DjangoSignal.__dict__["asend"]

    def look(sender: Any, **kwargs: Any) -> str:
        seen.append(signal.has_listeners())
        seen.append(signal._live_receivers(None))
        thread = threading.Thread(
            target=lambda: seen.append(signal._live_receivers(None))
        )
        thread.start()
        thread.join()
        seen.append(asyncio.run(djangos_asend(other, "alone")))
        return "looked"

    async def echo(sender: Any, **kwargs: Any) -> Any:
        return sender

    signal.connect(look)
    signal.connect(echo)  # an async receiver: Django's method runs the send
    other.connect(echo)
    observer = Results()
    with observing(observer):
        responses = signal.send(sender="outer")
    assert responses == [(look, "looked"), (echo, "outer")]
    assert observer.results == [["looked", "outer"]]
    assert seen[0] is True
    for sync_receivers, async_receivers in seen[1:3]:
        assert sync_receivers == [look]
        assert async_receivers == [echo]
    assert seen[3] == [(echo, "alone")]
