from __future__ import annotations

import asyncio
import functools
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.dispatch import Signal as DjangoSignal

from signalkit import pipeline
from signalkit.pipeline import (
    Observer,
    Receiver,
    Send,
    SendObserver,
    add_observer,
    is_patched,
    lifecycle,
    loops,
    muting,
    observing,
    remove_observer,
    scopes,
)


def ok(sender: Any, **kwargs: Any) -> str:
    return "fine"


def broken(sender: Any, **kwargs: Any) -> None:
    raise ValueError("it broke")


async def async_ok(sender: Any, **kwargs: Any) -> int:
    return 42


@pytest.fixture
def signal() -> DjangoSignal:
    return DjangoSignal()


class Events(Observer, SendObserver):
    """Writes down every event it gets, in order."""

    def __init__(self, accept: bool = True) -> None:
        self.accept = accept
        self.events: list[tuple[Any, ...]] = []
        self.sends: list[Send] = []
        self.threads: set[int] = set()
        self.sites: list[str] = []

    def send_started(self, send: Send) -> SendObserver | None:
        self.threads.add(threading.get_ident())
        self.sends.append(send)
        self.sites.append(send.site)
        self.events.append(("send_started", send.method, send.muted))
        return self if self.accept else None

    def receiver_started(self, index: int, receiver: Receiver) -> None:
        self.events.append(
            ("receiver_started", index, receiver.name, receiver.is_async)
        )

    def receiver_finished(
        self, index: int, result: Any, error: BaseException | None
    ) -> None:
        self.events.append(("receiver_finished", index, result, type(error)))

    def send_finished(self, error: BaseException | None) -> None:
        self.events.append(("send_finished", type(error)))


def test_django_runs_its_own_methods_while_nothing_observes() -> None:
    assert not is_patched()
    assert not hasattr(DjangoSignal.__dict__["send"], "_signalkit_pipeline")
    assert not hasattr(DjangoSignal.__dict__["_live_receivers"], "_signalkit_pipeline")


def test_observers_get_every_event_of_a_send(signal: DjangoSignal) -> None:
    signal.connect(ok)
    signal.connect(broken)
    events = Events()
    with observing(events):
        responses = signal.send_robust(sender=None)

    assert [receiver for receiver, _ in responses] == [ok, broken]
    assert events.events == [
        ("send_started", "send_robust", False),
        ("receiver_started", 0, f"{__name__}.ok", False),
        ("receiver_finished", 0, "fine", type(None)),
        ("receiver_started", 1, f"{__name__}.broken", False),
        ("receiver_finished", 1, None, ValueError),
        ("send_finished", type(None)),
    ]


def test_a_send_that_raises_is_finished_with_its_error(signal: DjangoSignal) -> None:
    signal.connect(broken)
    events = Events()
    with observing(events), pytest.raises(ValueError, match="it broke"):
        signal.send(sender=None)

    assert events.events[-1] == ("send_finished", ValueError)


def test_async_receivers_are_reported_with_their_index(signal: DjangoSignal) -> None:
    signal.connect(ok)
    signal.connect(async_ok)
    events = Events()
    with observing(events):
        responses = asyncio.run(signal.asend(sender=None))

    assert responses == [(ok, "fine"), (async_ok, 42)]
    assert ("receiver_started", 1, f"{__name__}.async_ok", True) in events.events


def test_an_observer_that_declines_a_send_leaves_it_to_django(
    signal: DjangoSignal,
) -> None:
    signal.connect(ok)
    events = Events(accept=False)
    with observing(events):
        assert signal.send(sender=None) == [(ok, "fine")]

    assert events.events == [("send_started", "send", False)]


def test_a_send_describes_itself(signal: DjangoSignal) -> None:
    events = Events()
    with observing(events):
        signal.send(sender="me", value=1)
    [send] = events.sends

    assert send.signal is signal
    assert send.signal_name.startswith("<django.dispatch.dispatcher.Signal at ")
    assert events.sites == [send.site]  # kept once read
    assert send.site.startswith(f"{__file__}:")
    assert (send.parent, send.depth, send.started_ns > 0) == (None, 0, True)


def test_a_send_keeps_no_sender_or_arguments_once_finished(
    signal: DjangoSignal,
) -> None:
    events = Events()
    with observing(events):
        signal.send(sender="me", value=1)

    assert events.sends[0].sender is None
    assert events.sends[0].named is None


def test_nested_sends_know_their_parent_and_receiver(signal: DjangoSignal) -> None:
    inner = DjangoSignal()

    def sends_inner(sender: Any, **kwargs: Any) -> None:
        inner.send(sender=None)

    signal.connect(ok)
    signal.connect(sends_inner)
    events = Events()
    with observing(events):
        signal.send(sender=None)
    outer_send, inner_send = events.sends

    assert (inner_send.parent, inner_send.parent_index) == (outer_send, 1)
    assert inner_send.depth == 1


def test_a_send_from_an_event_loop_callback_is_not_nested(
    signal: DjangoSignal,
) -> None:
    events = Events()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        loop.call_soon(lambda: done.set_result(signal.send(sender=None)))
        await done

    with observing(events):
        asyncio.run(main())

    assert events.sends[0].parent is None


def test_process_wide_observers_see_sends_in_every_thread(
    signal: DjangoSignal,
) -> None:
    signal.connect(ok)
    events = Events()
    add_observer(events)
    try:
        assert is_patched()
        thread = threading.Thread(target=lambda: signal.send(sender=None))
        thread.start()
        thread.join(5)
        signal.send(sender=None)
    finally:
        remove_observer(events)

    assert len(events.threads) == 2
    assert not is_patched()


def test_removing_an_unknown_observer_raises() -> None:
    with pytest.raises(ValueError, match="is not an observer of every send"):
        remove_observer(Events())


def test_a_muted_send_reaches_observers_and_runs_no_receiver(
    signal: DjangoSignal,
) -> None:
    signal.connect(ok)
    events = Events()
    with observing(events), muting(frozenset({signal})):
        assert signal.send(sender=None) == []

    assert events.events == [
        ("send_started", "send", True),
        ("send_finished", type(None)),
    ]
    assert events.sends[0].muted_receivers == [f"{__name__}.ok"]


def test_a_patch_made_on_top_of_ours_is_kept(
    signal: DjangoSignal, monkeypatch: pytest.MonkeyPatch
) -> None:
    signal.connect(ok)
    calls: list[str] = []
    monkeypatch.setattr(lifecycle, "_stranded", set(lifecycle._stranded))
    with observing(Events()):
        ours = DjangoSignal.__dict__["send"]

        def theirs(self: DjangoSignal, sender: Any, **named: Any) -> Any:
            calls.append("theirs")
            return ours(self, sender, **named)

        monkeypatch.setattr(DjangoSignal, "send", theirs)
    assert DjangoSignal.__dict__["send"] is theirs

    events = Events()
    with observing(events):
        assert DjangoSignal.__dict__["send"] is theirs  # not installed twice
        assert signal.send(sender=None) == [(ok, "fine")]
    assert signal.send(sender=None) == [(ok, "fine")]  # ours passes it on

    assert calls == ["theirs", "theirs"]
    assert [event[0] for event in events.events] == [
        "send_started",
        "receiver_started",
        "receiver_finished",
        "send_finished",
    ]
    monkeypatch.undo()
    DjangoSignal.send = loops.original["send"]  # type: ignore[method-assign]


def test_an_observer_that_wants_nothing_leaves_every_send_to_django(
    signal: DjangoSignal,
) -> None:
    signal.connect(ok)
    with observing(Observer()):
        assert signal.send(sender=None) == [(ok, "fine")]


class _CallableReceiver:
    def __call__(self, sender: Any, **kwargs: Any) -> str:
        return "called"


def test_receivers_a_subclass_returns_itself_are_returned_and_observed() -> None:
    callable_receiver = _CallableReceiver()

    class OwnReceivers(DjangoSignal):
        # Never asks Django's _live_receivers (nor ours): nothing is wrapped,
        # and the pipeline's loop still sees each receiver.
        def _live_receivers(self, sender: Any) -> Any:
            return [ok, callable_receiver], []

    signal = OwnReceivers()
    signal.connect(ok)
    events = Events()
    with observing(events):
        responses = signal.send(sender=None)

    assert responses == [(ok, "fine"), (callable_receiver, "called")]
    assert [event[:2] for event in events.events] == [
        ("send_started", "send"),
        ("receiver_started", 0),
        ("receiver_finished", 0),
        ("receiver_started", 1),
        ("receiver_finished", 1),
        ("send_finished", type(None)),
    ]


def test_a_receiver_that_raises_in_a_nested_send_hands_back_its_parent(
    signal: DjangoSignal,
) -> None:
    inner, later = DjangoSignal(), DjangoSignal()
    inner.connect(broken)

    def outer_receiver(sender: Any, **kwargs: Any) -> None:
        with pytest.raises(ValueError, match="it broke"):
            inner.send(sender=None)
        later.send(sender=None)

    signal.connect(outer_receiver)
    events = Events()
    with observing(events):
        signal.send(sender=None)
    outer_send, _, later_send = events.sends

    assert (later_send.parent, later_send.parent_index) == (outer_send, 0)


class WholeSends(Observer, SendObserver):
    """Reads what the receivers did from the send, once it has finished."""

    per_receiver = False

    def __init__(self) -> None:
        self.sends: list[Send] = []
        self.seen: list[dict[str, Any]] = []
        self.unheard: list[tuple[DjangoSignal, Any]] = []
        self.counts_unheard = False

    def send_unheard(self, signal: DjangoSignal, sender: Any) -> bool:
        self.unheard.append((signal, sender))
        return self.counts_unheard

    def send_started(self, send: Send) -> SendObserver:
        self.sends.append(send)
        send.site_offset()  # kept for after the send
        return _Finisher(self, send)

    def receiver_started(self, index: int, receiver: Receiver) -> None:
        raise AssertionError("not asked for")  # pragma: no cover


class _Finisher(SendObserver):
    per_receiver = False

    def __init__(self, owner: WholeSends, send: Send) -> None:
        self.owner, self.send = owner, send

    def send_finished(self, error: BaseException | None) -> None:
        send = self.send
        self.owner.seen.append(
            {
                "receivers": list(send.receivers),
                "sync_count": send.sync_count,
                "results": list(send.results),
                "errors": {i: type(e) for i, e in send.errors.items()},
                "timed": [
                    start is not None and end is not None and start <= end
                    for start, end in zip(
                        send.receiver_started_ns, send.receiver_ended_ns, strict=True
                    )
                ],
                "error": type(error),
            }
        )


def test_an_observer_of_whole_sends_reads_what_each_receiver_did(
    signal: DjangoSignal,
) -> None:
    signal.connect(ok)
    signal.connect(broken)
    observer = WholeSends()
    with observing(observer):
        responses = signal.send_robust(sender=None)

    [seen] = observer.seen
    assert [receiver for receiver, _ in responses] == [ok, broken]
    assert seen["receivers"] == [ok, broken]
    assert seen["results"][0] == "fine"
    assert seen["results"][1] is responses[1][1]
    assert (seen["errors"], seen["sync_count"], seen["timed"]) == (
        {1: ValueError},
        2,
        [True, True],
    )


def test_a_send_that_raises_shows_whole_send_observers_the_receiver_that_raised(
    signal: DjangoSignal,
) -> None:
    signal.connect(ok)
    signal.connect(broken)
    signal.connect(async_ok)
    observer = WholeSends()
    with observing(observer), pytest.raises(ValueError, match="it broke"):
        signal.send(sender=None)

    [seen] = observer.seen
    assert seen["receivers"] == [ok, broken, async_ok]
    assert (seen["results"], seen["timed"]) == (["fine", None, None], [1, 1, 0])
    assert (seen["errors"], seen["error"]) == ({1: ValueError}, ValueError)


def test_a_send_that_raises_from_a_sync_receiver_only_is_read_the_same(
    signal: DjangoSignal,
) -> None:
    signal.connect(ok)
    signal.connect(broken)
    signal.connect(ok, dispatch_uid="again")
    observer = WholeSends()
    with observing(observer), pytest.raises(ValueError, match="it broke"):
        signal.send(sender=None)

    [seen] = observer.seen
    assert seen["receivers"] == [ok, broken, ok]
    assert (seen["results"], seen["timed"]) == (["fine", None, None], [1, 1, 0])
    assert seen["errors"] == {1: ValueError}


def test_a_robust_send_whose_failure_log_raises_shows_that_error(
    signal: DjangoSignal, monkeypatch: pytest.MonkeyPatch
) -> None:
    signal.connect(broken)

    def log(receiver: Any, err: Exception) -> None:
        raise KeyError("logging failed")

    monkeypatch.setattr(signal, "_log_robust_failure", log)
    observer = WholeSends()
    with observing(observer), pytest.raises(KeyError):
        signal.send_robust(sender=None)

    [seen] = observer.seen
    assert (seen["errors"], seen["timed"]) == ({0: KeyError}, [True])


@pytest.mark.parametrize("method", ["send", "asend"])
def test_whole_send_observers_read_async_receivers_too(
    signal: DjangoSignal, method: str
) -> None:
    signal.connect(ok)
    signal.connect(async_ok)
    observer = WholeSends()
    with observing(observer):
        if method == "send":
            responses = signal.send(sender=None)
        else:
            responses = asyncio.run(signal.asend(sender=None))

    [seen] = observer.seen
    assert responses == [(ok, "fine"), (async_ok, 42)]
    assert (seen["receivers"], seen["sync_count"]) == ([ok, async_ok], 1)
    assert (seen["results"], seen["timed"]) == (["fine", 42], [True, True])


def test_a_nested_send_in_the_pipelines_own_loop_knows_its_receiver(
    signal: DjangoSignal,
) -> None:
    inner = DjangoSignal()

    def sends_inner(sender: Any, **kwargs: Any) -> None:
        inner.send(sender=None)

    signal.connect(ok)
    signal.connect(sends_inner)
    observer = WholeSends()
    with observing(observer):
        signal.send(sender=None)
    outer_send, inner_send = observer.sends

    assert (inner_send.parent, inner_send.parent_index) == (outer_send, 1)


def test_a_send_method_patched_before_ours_keeps_running(
    signal: DjangoSignal, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Django's receiver loop runs in the pipeline only in place of Django's
    # own method: someone else's is called, as without signalkit.
    signal.connect(ok)
    djangos = DjangoSignal.__dict__["send"]
    calls: list[str] = []

    def theirs(self: DjangoSignal, sender: Any, **named: Any) -> Any:
        calls.append("theirs")
        return djangos(self, sender, **named)

    monkeypatch.setattr(DjangoSignal, "send", theirs)
    observer, counting = WholeSends(), WholeSends()
    counting.counts_unheard = True
    with observing(observer):
        assert signal.send(sender=None) == [(ok, "fine")]
        assert DjangoSignal().send(sender=None) == []
    with observing(counting):
        assert DjangoSignal().send(sender=None) == []

    assert calls == ["theirs", "theirs", "theirs"]
    assert observer.seen[0]["results"] == ["fine"]


def test_an_async_receiver_connected_while_receivers_are_looked_up_runs(
    signal: DjangoSignal,
) -> None:
    class Connecting(DjangoSignal):
        # Another thread could connect one between the pipeline's look and
        # Django's: this subclass does it at the worst moment.
        def _live_receivers(self, sender: Any) -> Any:
            self.connect(async_ok)
            return super()._live_receivers(sender)

    connecting = Connecting()
    connecting.connect(ok)
    observer = WholeSends()
    with observing(observer):
        responses = connecting.send(sender=None)

    assert responses == [(ok, "fine"), (async_ok, 42)]
    assert observer.seen[0]["results"] == ["fine", 42]


def test_a_send_no_receiver_hears_is_offered_to_send_unheard(
    signal: DjangoSignal,
) -> None:
    observer = WholeSends()
    observer.counts_unheard = True
    with observing(observer):
        assert signal.send(sender="me") == []
        assert signal.send_robust(sender="me") == []

    assert observer.unheard == [(signal, "me"), (signal, "me")]
    assert observer.sends == []


def test_a_send_unheard_declines_gets_every_event(signal: DjangoSignal) -> None:
    observer = WholeSends()
    with observing(observer):
        assert signal.send(sender="me") == []

    assert observer.unheard == [(signal, "me")]
    [send] = observer.sends
    assert send.site.startswith(f"{__file__}:")
    assert observer.seen[0]["receivers"] == []


def test_each_observer_decides_for_itself_about_a_send_no_receiver_hears(
    signal: DjangoSignal,
) -> None:
    counting, seeing = WholeSends(), WholeSends()
    counting.counts_unheard = True
    add_observer(seeing)
    try:
        with observing(counting):
            assert signal.send(sender=None) == []
    finally:
        remove_observer(seeing)

    assert (len(counting.unheard), counting.sends) == (1, [])
    assert (len(seeing.unheard), len(seeing.sends)) == (1, 1)
    assert seeing.sends[0].site.startswith(f"{__file__}:")


def test_every_observer_counting_a_send_no_receiver_hears_ends_it(
    signal: DjangoSignal,
) -> None:
    first, second = WholeSends(), WholeSends()
    first.counts_unheard = second.counts_unheard = True
    with observing(first), observing(second):
        assert signal.send(sender=None) == []

    assert (len(first.unheard), len(second.unheard)) == (1, 1)
    assert first.sends == second.sends == []


def test_a_muted_send_no_receiver_hears_is_not_only_counted(
    signal: DjangoSignal,
) -> None:
    observer = WholeSends()
    observer.counts_unheard = True
    with observing(observer), muting(frozenset({signal})):
        assert signal.send(sender=None) == []

    assert observer.unheard == []
    assert observer.sends[0].muted


def test_an_async_send_no_receiver_hears_is_offered_to_send_unheard(
    signal: DjangoSignal,
) -> None:
    observer = WholeSends()
    observer.counts_unheard = True
    with observing(observer):
        assert asyncio.run(signal.asend_robust(sender=None)) == []

    assert (observer.unheard, observer.sends) == ([(signal, None)], [])


def test_the_site_of_a_send_is_the_line_that_sent(signal: DjangoSignal) -> None:
    observer = WholeSends()
    with observing(observer):
        line = sys._getframe().f_lineno + 1
        signal.send(sender=None)
    [send] = observer.sends

    site = send.site_offset()
    assert site is not None
    code, offset = site
    assert (code.co_filename, pipeline.line_of(code, offset)) == (__file__, line)
    assert send.keep_site() == (code, line)


def test_a_line_past_the_end_of_the_code_is_its_last() -> None:
    code = test_a_line_past_the_end_of_the_code_is_its_last.__code__
    last = max(line for _, _, line in code.co_lines() if line is not None)

    assert pipeline.line_of(code, 10**6) == last


def test_observers_of_each_receiver_and_of_whole_sends_share_a_send(
    signal: DjangoSignal,
) -> None:
    signal.connect(ok)
    first, second, whole = Events(), Events(), WholeSends()
    add_observer(whole)
    try:
        with observing(first), observing(second):
            assert signal.send(sender=None) == [(ok, "fine")]
    finally:
        remove_observer(whole)

    assert first.events == second.events
    assert ("receiver_finished", 0, "fine", type(None)) in first.events
    assert whole.seen[0]["results"] == ["fine"]


def test_a_subclass_finding_its_own_receivers_with_async_ones_is_asked_by_django(
    signal: DjangoSignal,
) -> None:
    class Counting(DjangoSignal):
        asked = 0

        def _live_receivers(self, sender: Any) -> Any:
            self.asked += 1
            return super()._live_receivers(sender)

    counting = Counting()
    counting.connect(ok)
    counting.connect(async_ok)
    observer = WholeSends()
    with observing(observer):
        responses = counting.send(sender=None)

    assert responses == [(ok, "fine"), (async_ok, 42)]
    assert counting.asked == 1
    assert observer.seen[0]["results"] == ["fine", 42]


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_observers_of_each_receiver_see_a_robust_send_keep_or_stop(
    signal: DjangoSignal, error: type[BaseException]
) -> None:
    def raises(sender: Any, **kwargs: Any) -> None:
        raise error("stop")

    signal.connect(raises)
    signal.connect(ok)
    events = Events()
    with observing(events):
        if error is ValueError:
            [(_, raised), (_, fine)] = signal.send_robust(sender=None)
            assert (type(raised), fine) == (ValueError, "fine")
        else:
            with pytest.raises(KeyboardInterrupt):
                signal.send_robust(sender=None)

    finished = [event for event in events.events if event[0] == "receiver_finished"]
    assert finished[0] == ("receiver_finished", 0, None, error)
    assert len(finished) == (2 if error is ValueError else 1)
    assert events.events[-1] == (
        "send_finished",
        type(None) if error is ValueError else KeyboardInterrupt,
    )


def test_a_nested_send_under_an_observer_of_each_receiver_knows_its_receiver(
    signal: DjangoSignal,
) -> None:
    inner = DjangoSignal()

    def sends_inner(sender: Any, **kwargs: Any) -> None:
        inner.send(sender=None)

    signal.connect(ok)
    signal.connect(sends_inner)
    events, whole = Events(), WholeSends()
    with observing(events), observing(whole):
        signal.send(sender=None)
    outer_send, inner_send = events.sends

    assert (inner_send.parent, inner_send.parent_index) == (outer_send, 1)
    assert whole.seen[1]["results"] == ["fine", None]
    assert whole.seen[1]["timed"] == [True, True]


def test_receivers_a_subclass_returns_itself_in_an_async_send_are_returned_as_they_are() -> (
    None
):
    callable_receiver = _CallableReceiver()
    decorated = functools.wraps(ok)(lambda sender, **kwargs: "decorated")

    class OwnReceivers(DjangoSignal):
        # Never asks Django's _live_receivers (nor ours): nothing is wrapped.
        def _live_receivers(self, sender: Any) -> Any:
            return [decorated, callable_receiver], []

    signal = OwnReceivers()
    signal.connect(ok)
    with observing(Events()):
        responses = asyncio.run(signal.asend(sender=None))

    assert responses == [(decorated, "decorated"), (callable_receiver, "called")]
    assert decorated.__wrapped__ is ok


def test_a_wrapped_receiver_inside_the_pipelines_loop_hands_back_its_parent(
    signal: DjangoSignal,
) -> None:
    inner, later = DjangoSignal(), DjangoSignal()
    inner.connect(ok)
    inner.connect(async_ok)  # Django's method runs it, receivers wrapped

    def outer_receiver(sender: Any, **kwargs: Any) -> None:
        inner.send(sender=None)
        later.send(sender=None)

    signal.connect(outer_receiver)
    observer = WholeSends()
    with observing(observer):
        signal.send(sender=None)
    outer_send, inner_send, later_send = observer.sends

    assert (inner_send.parent, later_send.parent) == (outer_send, outer_send)
    assert later_send.parent_index == 0


class Decliner(Observer):
    """A process-wide observer that declines sends before they are built."""

    may_decline = True

    def __init__(self, decline: bool) -> None:
        self.decline = decline
        self.asked: list[DjangoSignal] = []
        self.started: list[Send] = []

    def declines(self, signal: DjangoSignal, sender: Any) -> bool:
        self.asked.append(signal)
        return self.decline

    def send_started(self, send: Send) -> SendObserver | None:
        self.started.append(send)
        return None


def test_a_lone_declining_observer_leaves_the_send_to_django(
    signal: DjangoSignal,
) -> None:
    signal.connect(ok)
    decliner = Decliner(decline=True)
    add_observer(decliner)
    try:
        responses = signal.send(sender=None)
    finally:
        remove_observer(decliner)

    assert responses == [(ok, "fine")]
    assert decliner.asked == [signal]
    assert decliner.started == []


def test_a_declining_observer_beside_a_recording_declines_only_for_itself(
    signal: DjangoSignal,
) -> None:
    signal.connect(ok)
    decliner, events = Decliner(decline=True), Events()
    add_observer(decliner)
    try:
        with observing(events):
            signal.send(sender=None)
            asyncio.run(signal.asend(sender=None))
            DjangoSignal().send(sender=None)  # no receiver at all
    finally:
        remove_observer(decliner)

    assert decliner.started == []
    assert [event[0] for event in events.events].count("send_started") == 3
    assert scopes.wide == ((), False, None)


def test_an_observer_that_may_decline_but_does_not_gets_the_send(
    signal: DjangoSignal,
) -> None:
    class MayDecline(Decliner):
        declines = Observer.declines  # the default: it never declines

    signal.connect(ok)
    observer = MayDecline(decline=False)
    add_observer(observer)
    try:
        signal.send(sender=None)
    finally:
        remove_observer(observer)

    assert [send.signal for send in observer.started] == [signal]


@pytest.fixture
def restores_left(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Gives Django's methods back after the test, whatever it left."""
    yield
    monkeypatch.setattr(lifecycle, "_restores_left", 1)
    with observing(Events()):
        pass
    assert not is_patched()


def test_after_its_last_restore_the_pipeline_stays_and_passes_sends_through(
    signal: DjangoSignal, restores_left: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lifecycle, "_restores_left", 1)
    signal.connect(ok)
    signal.connect(async_ok)
    with observing(Events()):
        pass
    assert not is_patched()  # the last restore
    events = Events()
    with observing(events):
        signal.send(sender=None)
    assert is_patched()
    assert lifecycle._restores_left == 0
    # Nothing observes: every send is Django's, through the pipeline's methods.
    assert signal.send(sender=None) == [(ok, "fine"), (async_ok, 42)]
    assert signal.send_robust(sender=None) == [(ok, "fine"), (async_ok, 42)]
    assert asyncio.run(signal.asend(sender=None)) == [(ok, "fine"), (async_ok, 42)]
    assert DjangoSignal().send(sender=None) == []
    assert signal.has_listeners()
    assert len(events.sends) == 1
    # A later block observes again, patching nothing.
    with observing(events):
        signal.send(sender=None)
    assert len(events.sends) == 2


_RECORD_BLOCKS = """
import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "signalkit"]
)
django.setup()

from _testcapi import type_get_version
from django.dispatch import Signal

from signalkit import record

signal = Signal()
for _ in range(1_200):
    with record():
        signal.send(sender=None)
    signal.send(sender=None)  # the lookup that gives the class a new tag
print(type_get_version(Signal))
"""


@pytest.mark.skipif(sys.version_info < (3, 13), reason="a limit of Python 3.13+")
def test_record_blocks_leave_django_signal_its_attribute_cache(tmp_path: Path) -> None:
    # Python 3.13+ stops caching lookups on a class changed 1,000 times (its
    # version tag stays 0), and on its subclasses: every later send() of every
    # signal is slower. In a process of its own: this suite, whose blocks all
    # give Django's methods back (see conftest.py), uses the tags up itself.
    pytest.importorskip("_testcapi")
    done = subprocess.run(
        [sys.executable, "-c", _RECORD_BLOCKS],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert int(done.stdout) != 0
