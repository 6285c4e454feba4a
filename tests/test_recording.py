from __future__ import annotations

import asyncio
import contextvars
import gc
import json
import logging
import threading
from typing import Any

import pytest
from django.db.models.signals import post_save
from django.dispatch import Signal as DjangoSignal

from signalkit import Signal, record, registry
from signalkit.recording import is_patched, muting, signal_label
from signalkit.summaries import MASK
from testapp.models import Post


def ok(sender: Any, **kwargs: Any) -> str:
    return "fine"


def broken(sender: Any, **kwargs: Any) -> None:
    raise ValueError("it broke")


async def async_ok(sender: Any, **kwargs: Any) -> int:
    return 42


async def async_broken(sender: Any, **kwargs: Any) -> None:
    raise KeyError("async broke")


@pytest.fixture
def signal() -> DjangoSignal:
    return DjangoSignal()


def test_django_is_unpatched_unless_something_records() -> None:
    assert not is_patched()
    with record():
        assert is_patched()
        with record():
            assert is_patched()
        assert is_patched()
    assert not is_patched()


def test_unpatched_again_after_an_exception() -> None:
    with pytest.raises(RuntimeError), record():
        raise RuntimeError
    assert not is_patched()


def test_records_each_send_with_its_receivers(signal: DjangoSignal) -> None:
    signal.connect(ok)
    with record() as recorder:
        signal.send(sender=Post, title="Hello", password="hunter2")

    [send] = recorder.sends
    assert send.method == "send"
    assert send.sender_label == "testapp.Post"
    assert send.arguments == {"title": "'Hello'", "password": MASK}
    assert send.site.startswith(f"{__file__}:")
    assert send.depth == 0
    assert send.parent is None
    assert send.duration is not None
    assert send.duration >= 0
    [call] = send.receivers
    assert (call.name, call.status, call.result_summary) == (
        f"{__name__}.ok",
        "ok",
        "'fine'",
    )
    assert call.is_async is False
    assert call.duration is not None


def test_registered_signals_are_named_and_others_get_a_fallback(
    signal: DjangoSignal,
) -> None:
    from testapp.signals import legacy_event

    unnamed = Signal(args=["x"])
    with record() as recorder:
        legacy_event.send(sender=None)
        signal.send(sender=None)
        unnamed.send(sender=None, x=1)

    names = [send.signal_name for send in recorder.sends]
    assert [send.signal_name for send in recorder.sends] == names
    assert names[0] == "testapp.signals.legacy_event"
    assert names[1].startswith("<django.dispatch.dispatcher.Signal at 0x")
    assert names[2].startswith("<signal defined at ")


def test_model_signals_are_recorded_without_extra_queries(
    db: None, django_assert_num_queries: Any
) -> None:
    post_save.connect(ok, sender=Post)
    try:
        with record() as recorder, django_assert_num_queries(1):
            post = Post.objects.create(title="<script>alert(1)</script>")
    finally:
        post_save.disconnect(ok, sender=Post)

    saves = [s for s in recorder.sends if s.signal_name.endswith(".post_save")]
    assert saves[0].arguments["instance"] == f"<testapp.Post pk={post.pk}>"
    assert saves[0].arguments["created"] == "True"
    assert [c.name for c in saves[0].receivers] == [f"{__name__}.ok"]


def test_failing_receiver_is_recorded_and_the_exception_propagates(
    signal: DjangoSignal,
) -> None:
    signal.connect(ok)
    signal.connect(broken)
    with record() as recorder, pytest.raises(ValueError, match="it broke"):
        signal.send(sender=None)

    [send] = recorder.sends
    assert [c.status for c in send.receivers] == ["ok", "error"]
    assert send.receivers[1].exception_type == "ValueError"
    assert send.receivers[1].exception_message == "it broke"
    assert send.exception_type == "ValueError"


def test_send_robust_records_the_error_it_catches(signal: DjangoSignal) -> None:
    signal.connect(broken)
    signal.connect(ok)
    with record() as recorder:
        responses = signal.send_robust(sender=None)

    assert isinstance(responses[0][1], ValueError)
    [send] = recorder.sends
    assert send.method == "send_robust"
    assert send.exception_type is None
    assert [c.status for c in send.receivers] == ["error", "ok"]


def test_async_sends_and_receivers_are_recorded(signal: DjangoSignal) -> None:
    signal.connect(ok)
    signal.connect(async_ok)
    signal.connect(async_broken)

    async def main() -> list[tuple[Any, Any]]:
        with record() as recorder:
            responses = await signal.asend_robust(sender=None)
            with pytest.raises(KeyError):
                await signal.asend(sender=None)
        self_sends.extend(recorder.sends)
        return responses

    self_sends: list[Any] = []
    responses = asyncio.run(main())

    assert [r for r, _ in responses] == [ok, async_ok, async_broken]
    robust, plain = self_sends
    assert robust.method == "asend_robust"
    assert {
        (c.name.rsplit(".", 1)[1], c.is_async, c.status) for c in robust.receivers
    } == {
        ("ok", False, "ok"),
        ("async_ok", True, "ok"),
        ("async_broken", True, "error"),
    }
    assert plain.method == "asend"
    assert plain.exception_type == "KeyError"


def test_nested_sends_point_to_the_receiver_that_made_them(
    signal: DjangoSignal,
) -> None:
    inner = DjangoSignal()
    inner.connect(ok)

    def outer_receiver(sender: Any, **kwargs: Any) -> None:
        inner.send(sender=None, level=2)

    signal.connect(ok)
    signal.connect(outer_receiver)
    with record() as recorder:
        signal.send(sender=None)
        inner.send(sender=None, level=1)

    outer, nested, top = recorder.sends
    assert (nested.depth, nested.parent, nested.parent_receiver) == (
        1,
        outer,
        outer.receivers[1],
    )
    assert top.depth == 0
    assert top.parent is None
    assert top.parent_receiver is None
    dicts = recorder.to_dicts()
    assert dicts[1]["parent"] == 0
    assert dicts[1]["parent_receiver"] == 1
    assert dicts[2]["parent"] is None


def test_a_recording_read_while_a_send_runs_shows_its_receivers_once_it_ends(
    signal: DjangoSignal,
) -> None:
    inner = DjangoSignal()
    inner.connect(ok)
    seen: list[dict[str, Any]] = []

    def reads_the_recording(sender: Any, **kwargs: Any) -> None:
        inner.send(sender=None)
        seen.extend(recorder.to_dicts())

    signal.connect(reads_the_recording)
    with record() as recorder:
        signal.send(sender=None)

    assert [len(send["receivers"]) for send in seen] == [0, 1]
    assert seen[1]["parent_receiver"] is None  # not known yet
    outer, nested = recorder.sends
    assert [call.name for call in outer.receivers] == [
        f"{__name__}.{reads_the_recording.__qualname__}"
    ]
    assert nested.parent_receiver is outer.receivers[0]


def test_nested_send_from_an_async_receiver(signal: DjangoSignal) -> None:
    inner = DjangoSignal()

    async def outer_receiver(sender: Any, **kwargs: Any) -> None:
        await inner.asend(sender=None)

    signal.connect(outer_receiver)

    async def main() -> list[Any]:
        with record() as recorder:
            await signal.asend(sender=None)
            await inner.asend(sender=None)
        return recorder.sends

    outer, nested, top = asyncio.run(main())
    assert nested.parent is outer
    assert nested.parent_receiver is outer.receivers[0]
    assert top.parent is None


def test_sends_made_by_the_dispatch_machinery_are_not_nested() -> None:
    inner = DjangoSignal()

    class Announcing(DjangoSignal):
        def _live_receivers(self, sender: Any) -> Any:
            inner.send(sender=None)  # before any receiver runs
            return super()._live_receivers(sender)

    outer = Announcing()
    outer.connect(ok)
    with record() as recorder:
        assert outer.send(sender=None) == [(ok, "fine")]

    sent, made = recorder.sends
    assert (made.parent, made.depth) == (None, 0)
    assert [call.name for call in sent.receivers] == [f"{__name__}.ok"]


def test_an_async_receiver_connected_during_the_send_still_runs() -> None:
    # As if another thread connected it between signalkit's look at the
    # connections and Django's: the send falls back to Django's own method.
    class Connecting(DjangoSignal):
        def _live_receivers(self, sender: Any) -> Any:
            self.connect(async_ok)
            return super()._live_receivers(sender)

    def sent_by(signal: DjangoSignal) -> list[tuple[Any, Any]]:
        signal.connect(ok)
        return signal.send(sender=None)

    expected = sent_by(Connecting())
    with record() as recorder:
        assert sent_by(Connecting()) == expected == [(ok, "fine"), (async_ok, 42)]
    [send] = recorder.sends
    assert [(call.name, call.is_async) for call in send.receivers] == [
        (f"{__name__}.ok", False),
        (f"{__name__}.async_ok", True),
    ]


def test_to_dicts_is_json_native(signal: DjangoSignal, db: None) -> None:
    signal.connect(ok)
    signal.connect(broken)
    sender, post = Post(pk=1), Post(pk=2)
    with record() as recorder:
        signal.send_robust(sender=sender, post=post, when=object())

    data = recorder.to_dicts()
    assert json.loads(json.dumps(data)) == data
    assert data[0]["sender"] == "<testapp.Post pk=1>"


def test_parents_outside_the_recorder_are_shown_as_none(signal: DjangoSignal) -> None:
    inner = DjangoSignal()
    captured: list[Any] = []

    def outer_receiver(sender: Any, **kwargs: Any) -> None:
        with record() as inner_recorder:
            inner.send(sender=None)
        captured.append(inner_recorder)

    signal.connect(outer_receiver)
    with record():
        signal.send(sender=None)

    [inner_recorder] = captured
    [data] = inner_recorder.to_dicts()
    assert data["parent"] is None
    assert data["parent_receiver"] is None
    assert inner_recorder.sends[0].depth == 1


def test_values_are_kept_only_when_asked(signal: DjangoSignal) -> None:
    signal.connect(ok)
    signal.connect(broken)
    marker = object()
    with record(keep_values=True) as keeping, record() as summarising:
        signal.send_robust(sender=Post, payload=marker)

    [kept] = keeping.sends
    [summarised] = summarising.sends
    assert (summarised.signal, summarised.sender) == (None, None)
    assert summarised.receivers[0].result is None
    assert kept.signal is signal
    assert kept.sender is Post
    assert kept.kwargs == {"payload": marker}
    assert kept.receivers[0].result == "fine"
    assert isinstance(kept.receivers[1].exception, ValueError)

    with record() as plain:
        signal.send_robust(sender=Post, payload=marker)
    [send] = plain.sends
    assert (send.signal, send.sender, send.kwargs) == (None, None, {})
    assert send.receivers[0].result is None
    assert send.receivers[1].exception is None


def test_recording_is_capped_and_counts_what_it_dropped(signal: DjangoSignal) -> None:
    with record(max_sends=2) as recorder:
        for _ in range(5):
            signal.send(sender=None)

    assert len(recorder.sends) == 2
    assert recorder.dropped == 3


def test_nested_recorders_each_keep_their_own_cap(signal: DjangoSignal) -> None:
    with record(max_sends=1) as outer, record(max_sends=2) as inner:
        for _ in range(3):
            signal.send(sender=None)

    assert (len(outer.sends), outer.dropped) == (1, 2)
    assert (len(inner.sends), inner.dropped) == (2, 1)


def test_cap_defaults_to_the_setting(settings: Any) -> None:
    settings.SIGNALKIT_RECORD_MAX_SENDS = 3
    with record() as recorder:
        pass
    assert recorder.max_sends == 3


def test_a_dropped_send_still_runs_its_receivers(signal: DjangoSignal) -> None:
    signal.connect(ok)
    with record(max_sends=1) as recorder:
        signal.send(sender=None)
        assert signal.send(sender=None) == [(ok, "fine")]
    assert recorder.dropped == 1


def test_results_can_report_their_own_status(signal: DjangoSignal) -> None:
    class Enqueued:
        signalkit_status = "enqueued"
        signalkit_summary = "task 1234"

    def background(sender: Any, **kwargs: Any) -> Enqueued:
        return Enqueued()

    signal.connect(background)
    with record() as recorder:
        signal.send(sender=None)

    [call] = recorder.sends[0].receivers
    assert (call.status, call.result_summary) == ("enqueued", "task 1234")


def test_other_threads_are_not_recorded(signal: DjangoSignal) -> None:
    signal.connect(ok)
    started, release = threading.Event(), threading.Event()
    results: list[Any] = []

    def other_thread() -> None:
        started.set()
        release.wait(5)
        results.append(signal.send(sender="other thread"))

    thread = threading.Thread(target=other_thread)
    thread.start()
    started.wait(5)
    with record() as recorder:
        release.set()
        thread.join(5)
        signal.send(sender="this thread")

    assert results == [[(ok, "fine")]]
    assert [s.sender_label for s in recorder.sends] == ["'this thread'"]


def test_a_thread_that_records_does_not_see_this_thread(signal: DjangoSignal) -> None:
    in_recording, sent = threading.Event(), threading.Event()
    recorded: list[Any] = []

    def recording_thread() -> None:
        with record() as recorder:
            in_recording.set()
            sent.wait(5)
        recorded.extend(recorder.sends)

    thread = threading.Thread(target=recording_thread)
    thread.start()
    in_recording.wait(5)
    signal.send(sender=None)
    sent.set()
    thread.join(5)

    assert recorded == []


def test_concurrent_tasks_record_only_their_own_sends(signal: DjangoSignal) -> None:
    async def recording_task(gate: asyncio.Event) -> list[str]:
        with record() as recorder:
            await signal.asend(sender="recording task")
            await gate.wait()
        return [s.sender_label for s in recorder.sends]

    async def other_task(gate: asyncio.Event) -> None:
        await signal.asend(sender="other task")
        gate.set()

    async def main() -> list[str]:
        gate = asyncio.Event()
        recorded, _ = await asyncio.gather(recording_task(gate), other_task(gate))
        return recorded

    assert asyncio.run(main()) == ["'recording task'"]


def test_muted_receivers_do_not_run_and_the_send_is_recorded(
    signal: DjangoSignal,
) -> None:
    signal.connect(ok)
    with record() as recorder, muting(frozenset({signal})):
        assert signal.send(sender=None) == []
        assert not signal.has_listeners()
    assert signal.has_listeners()
    assert signal.send(sender=None) == [(ok, "fine")]

    [send] = recorder.sends
    assert send.muted
    assert send.muted_receivers == [f"{__name__}.ok"]
    assert send.receivers == []


def test_mute_alone_patches_and_unpatches(signal: DjangoSignal) -> None:
    signal.connect(ok)
    with muting(frozenset({signal})):
        assert is_patched()
        assert signal.send(sender=None) == []
    assert not is_patched()


def test_mute_affects_only_the_current_thread(signal: DjangoSignal) -> None:
    signal.connect(ok)
    results: list[Any] = []
    with muting(frozenset({signal})):
        thread = threading.Thread(
            target=lambda: results.append(signal.send(sender=None))
        )
        thread.start()
        thread.join(5)
        assert signal.send(sender=None) == []
    assert results == [[(ok, "fine")]]


def test_send_site_falls_back_when_every_frame_is_internal(
    signal: DjangoSignal, monkeypatch: pytest.MonkeyPatch
) -> None:
    from signalkit.pipeline import send

    monkeypatch.setattr(send, "_INTERNAL_DIRS", ("",))
    monkeypatch.setattr(send, "_internal_files", {})
    with record() as recorder:
        signal.send(sender=None)
    assert recorder.sends[0].site == "<unknown>"


def test_registered_unnamed_signal_is_named_once_bound() -> None:
    signal = Signal(name="tests.recording.named", args=["x"])
    try:
        with record() as recorder:
            signal.send(sender=None, x=1)
        assert recorder.sends[0].signal_name == "tests.recording.named"
    finally:
        registry.unregister(signal)


def _concurrent_nesting(send_outer: str) -> list[tuple[str, str | None, int]]:
    """Two async receivers that each make a nested send, the first one
    resuming before the second (Django 6.1 runs them concurrently)."""
    outer, inner = DjangoSignal(), DjangoSignal()

    async def first(sender: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0)
        await inner.asend(sender="from first")

    async def second(sender: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.01)
        await inner.asend(sender="from second")

    outer.connect(first)
    outer.connect(second)
    with record() as recorder:
        if send_outer == "asend":
            asyncio.run(outer.asend(sender=None))
        else:
            outer.send(sender=None)
    return [
        (
            send.sender_label,
            None if send.parent_receiver is None else send.parent_receiver.name,
            send.depth,
        )
        for send in recorder.sends[1:]
    ]


@pytest.mark.parametrize("method", ["asend", "send"])
def test_nested_sends_of_concurrent_async_receivers_name_their_own_receiver(
    method: str,
) -> None:
    nested = _concurrent_nesting(method)

    prefix = f"{__name__}._concurrent_nesting.<locals>."
    assert sorted(nested) == [
        ("'from first'", prefix + "first", 1),
        ("'from second'", prefix + "second", 1),
    ]


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text for you")

    def __repr__(self) -> str:
        raise RuntimeError("no repr either")


class _Hostile:
    """Every way an object can refuse to be looked at."""

    def __str__(self) -> str:
        raise RuntimeError("str")

    def __repr__(self) -> str:
        raise RuntimeError("repr")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    def __hash__(self) -> int:
        raise RuntimeError("hash")

    @property
    def signalkit_summary(self) -> str:
        raise RuntimeError("summary")

    def __call__(self) -> None:
        pass


class _HashableHostile(_Hostile):
    # Django's send hashes the sender itself (its receivers cache).
    __hash__ = object.__hash__


def _raises_unprintable(sender: Any, **kwargs: Any) -> None:
    raise _Unprintable()


def _returns_hostile(sender: Any, **kwargs: Any) -> _Hostile:
    return _Hostile()


@pytest.mark.parametrize("keep_values", [False, True])
def test_send_robust_returns_an_exception_whose_str_raises(
    signal: DjangoSignal, keep_values: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Django logs the error with its str(): pytest's log capture would raise.
    monkeypatch.setattr(logging.getLogger("django.dispatch"), "disabled", True)
    signal.connect(_raises_unprintable)
    with record(keep_values=keep_values) as recorder:
        [(receiver, error)] = signal.send_robust(sender=None)

    assert receiver is _raises_unprintable
    assert type(error) is _Unprintable
    [call] = recorder.sends[0].receivers
    assert call.exception_type == "_Unprintable"
    assert call.exception_message == "<unprintable _Unprintable: RuntimeError>"
    json.dumps(recorder.to_dicts())


def test_send_that_raises_an_exception_whose_str_raises_is_recorded(
    signal: DjangoSignal,
) -> None:
    signal.connect(_raises_unprintable)
    with record() as recorder, pytest.raises(_Unprintable):
        signal.send(sender=None)

    assert recorder.sends[0].exception_type == "_Unprintable"
    assert (recorder.sends[0].exception_message or "").startswith("<unprintable")


def test_hostile_senders_arguments_and_results_break_neither_send_nor_summary(
    signal: DjangoSignal,
) -> None:
    signal.connect(_returns_hostile)
    hostile = _Hostile()
    with record() as recorder:
        [(receiver, result)] = signal.send(sender=_HashableHostile(), value=hostile)

    assert receiver is _returns_hostile
    assert isinstance(result, _Hostile)
    [data] = recorder.to_dicts()
    assert data["sender"].startswith("<")
    assert data["arguments"]["value"].startswith("<")
    assert data["receivers"][0]["status"] == "ok"
    json.dumps(data)


class _Reporting:
    """A result whose status property works but whose summary raises."""

    signalkit_status = "enqueued"

    @property
    def signalkit_summary(self) -> str:
        raise RuntimeError("summary")


def test_a_result_whose_summary_raises_keeps_its_status(signal: DjangoSignal) -> None:
    signal.connect(lambda sender, **kwargs: _Reporting(), weak=False)
    with record() as recorder:
        signal.send(sender=None)

    [call] = recorder.sends[0].receivers
    assert call.status == "enqueued"
    assert call.result_summary == "<unprintable _Reporting: RuntimeError>"


def test_a_mute_of_a_signal_without_receivers_is_recorded_as_muted(
    signal: DjangoSignal,
) -> None:
    with record() as recorder, muting(frozenset({signal})):
        assert signal.send(sender=None) == []

    [send] = recorder.sends
    assert send.muted is True
    assert send.muted_receivers == ()


def _dead_receiver_signal() -> DjangoSignal:
    signal = DjangoSignal()

    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(receiver)  # weak: dead once this function returns
    return signal


def test_fold_empty_counts_sends_that_ran_no_receiver(signal: DjangoSignal) -> None:
    dead = _dead_receiver_signal()
    signal.connect(ok)
    unheard = DjangoSignal()
    with record(fold_empty=True) as recorder:
        unheard.send(sender=Post)
        unheard.send(sender=Post)
        dead.send(sender=None)
        signal.send(sender=None)

    assert [send.receivers[0].name for send in recorder.sends] == [f"{__name__}.ok"]
    assert recorder.folded == {
        (signal_label(unheard), "testapp.Post"): 2,
        (signal_label(dead), "None"): 1,
    }


def test_fold_empty_tells_equal_senders_of_different_types_apart(
    signal: DjangoSignal,
) -> None:
    with record(fold_empty=True) as recorder:
        for sender in (1, True, 1.0, 1):
            signal.send(sender=sender)

    name = signal_label(signal)
    assert recorder.folded == {(name, "1"): 2, (name, "True"): 1, (name, "1.0"): 1}


def test_fold_empty_counts_every_send_of_threads_counting_at_once(
    signal: DjangoSignal,
) -> None:
    with record(fold_empty=True) as recorder:
        context = contextvars.copy_context()

        def send_many() -> None:
            for _ in range(2000):
                signal.send(sender="thread")

        threads = [
            threading.Thread(target=context.copy().run, args=(send_many,))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

    assert recorder.folded == {(signal_label(signal), "'thread'"): 8000}


def test_fold_empty_keeps_muted_sends(signal: DjangoSignal) -> None:
    with record(fold_empty=True) as recorder, muting(frozenset({signal})):
        signal.send(sender=None)

    assert [send.muted for send in recorder.sends] == [True]
    assert recorder.folded == {}


def test_folded_sends_count_toward_neither_the_cap_nor_dropped(
    signal: DjangoSignal,
) -> None:
    signal.connect(ok)
    unheard = DjangoSignal()
    with record(fold_empty=True, max_sends=1) as recorder:
        unheard.send(sender=None)
        signal.send(sender=None)
        unheard.send(sender=None)
        signal.send(sender=None)

    assert len(recorder.sends) == 1
    assert recorder.dropped == 1
    assert sum(recorder.folded.values()) == 2


def test_without_fold_empty_every_send_is_kept(signal: DjangoSignal) -> None:
    with record() as recorder:
        signal.send(sender=None)

    assert len(recorder.sends) == 1
    assert recorder.folded == {}


def test_a_folded_send_is_taken_out_of_the_middle_of_the_sends() -> None:
    inner = DjangoSignal()
    inner.connect(ok)

    class Announcing(DjangoSignal):
        def _live_receivers(self, sender: Any) -> Any:
            inner.send(sender=None)  # recorded after the outer send started
            return super()._live_receivers(sender)

    def soon_dead(sender: Any, **kwargs: Any) -> None:
        pass

    outer = Announcing()
    outer.connect(soon_dead)
    del soon_dead
    gc.collect()
    with record(fold_empty=True) as recorder:
        outer.send(sender=None)

    assert [send.signal_name for send in recorder.sends] == [signal_label(inner)]
    assert recorder.folded == {(signal_label(outer), "None"): 1}


class _RefusingMeta(type):
    def __getattr__(cls, name: str) -> Any:
        raise RuntimeError(f"no {name}")


class _Refusing(metaclass=_RefusingMeta):
    pass


def test_a_result_whose_class_refuses_attribute_lookups_is_summarised(
    signal: DjangoSignal,
) -> None:
    signal.connect(lambda sender, **kwargs: _Refusing(), weak=False)
    with record() as recorder:
        signal.send(sender=None)

    [call] = recorder.sends[0].receivers
    assert (call.status, call.result_summary) == (
        "ok",
        f"<{__name__}._Refusing object>",
    )


def test_times_are_seconds_since_the_recording_started(signal: DjangoSignal) -> None:
    signal.connect(ok)
    with record() as recorder:
        signal.send(sender=None)

    [send] = recorder.sends
    [call] = send.receivers
    assert 0 <= send.started <= call.started
    assert send.duration is not None
    assert call.duration is not None
    assert 0 <= call.duration <= send.duration


def test_a_full_recording_still_folds_sends_whose_receivers_are_all_dead() -> None:
    dead = _dead_receiver_signal()
    with record(fold_empty=True, max_sends=0) as recorder:
        dead.send(sender=None)

    assert (recorder.sends, recorder.dropped) == ([], 0)
    assert recorder.folded == {(signal_label(dead), "None"): 1}
