"""signalkit changes nothing Django's dispatch does.

Each scenario runs against a plain ``django.dispatch.Signal`` with nothing
active (the baseline) and again with a ``signalkit.Signal``, with recording on,
and with a mute of some other signal active; every run must observe exactly
what the baseline observed.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import itertools
import logging
import weakref
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from django.dispatch import Signal as DjangoSignal

from signalkit import Signal, record, registry
from signalkit.recording import muting

_names = itertools.count()
Outcome = list[Any]
Scenario = Callable[[Callable[..., DjangoSignal]], Outcome]

MODES = ["signalkit", "recording", "signalkit+recording", "muting-another-signal"]


@contextmanager
def _mode(mode: str) -> Iterator[Callable[..., DjangoSignal]]:
    created: list[Signal] = []

    def make_signal(use_caching: bool = False) -> DjangoSignal:
        if "signalkit" not in mode:
            return DjangoSignal(use_caching=use_caching)
        signal = Signal(
            name=f"tests.semantics.signal_{next(_names)}",
            optional_args=["value"],
            use_caching=use_caching,
        )
        created.append(signal)
        return signal

    with ExitStack() as stack:
        if "recording" in mode:
            stack.enter_context(record())
        if mode == "muting-another-signal":
            stack.enter_context(muting(frozenset({DjangoSignal()})))
        try:
            yield make_signal
        finally:
            for signal in created:
                registry.unregister(signal)


def _baseline(scenario: Scenario) -> Outcome:
    with _mode("django") as make_signal:
        return scenario(make_signal)


def _assert_same_as_django(scenario: Scenario, mode: str) -> None:
    expected = _baseline(scenario)
    with _mode(mode) as make_signal:
        actual = scenario(make_signal)
    assert actual == expected


def _named(responses: list[tuple[Any, Any]]) -> list[tuple[str, Any]]:
    return [
        (receiver.__name__, _comparable(response)) for receiver, response in responses
    ]


def _comparable(value: Any) -> Any:
    if isinstance(value, BaseException):
        return (type(value).__name__, value.args)
    return value


def first(sender: Any, **kwargs: Any) -> str:
    return "first"


def second(sender: Any, value: Any = None, **kwargs: Any) -> tuple[str, Any]:
    return ("second", value)


def failing(sender: Any, **kwargs: Any) -> None:
    raise ValueError("receiver failed")


async def async_first(sender: Any, **kwargs: Any) -> str:
    await asyncio.sleep(0)
    return "async_first"


async def async_failing(sender: Any, **kwargs: Any) -> None:
    raise KeyError("async receiver failed")


def scenario_send_returns_receivers_and_responses(
    make: Callable[..., DjangoSignal],
) -> Outcome:
    signal = make()
    signal.connect(first)
    signal.connect(second)
    responses = signal.send(sender=object, value=3)
    # The receivers themselves come back, not wrappers.
    return [_named(responses), [r for r, _ in responses] == [first, second]]


def scenario_send_propagates_exception_and_stops(
    make: Callable[..., DjangoSignal],
) -> Outcome:
    signal = make()
    calls: list[str] = []

    def after(sender: Any, **kwargs: Any) -> None:
        calls.append("after")

    signal.connect(first)
    signal.connect(failing)
    signal.connect(after)
    with pytest.raises(ValueError, match="receiver failed") as info:
        signal.send(sender=None)
    return [calls, info.value.args, info.value.__traceback__ is not None]


def scenario_send_robust_wraps_and_logs(make: Callable[..., DjangoSignal]) -> Outcome:
    signal = make()
    signal.connect(failing)
    signal.connect(second)
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect()
    logger = logging.getLogger("django.dispatch")
    logger.addHandler(handler)
    try:
        responses = signal.send_robust(sender=None, value=1)
    finally:
        logger.removeHandler(handler)
    return [
        _named(responses),
        [(r.levelname, r.getMessage(), r.exc_info is not None) for r in records],
        [r for r, _ in responses] == [failing, second],
    ]


def scenario_sync_send_runs_async_receivers(
    make: Callable[..., DjangoSignal],
) -> Outcome:
    signal = make()
    signal.connect(async_first)
    signal.connect(first)
    return [_named(signal.send(sender=None))]


def scenario_asend_mixes_sync_and_async(make: Callable[..., DjangoSignal]) -> Outcome:
    signal = make()
    signal.connect(first)
    signal.connect(async_first)
    signal.connect(second)
    return [_named(asyncio.run(signal.asend(sender=None, value="v")))]


def scenario_asend_propagates_async_exception(
    make: Callable[..., DjangoSignal],
) -> Outcome:
    signal = make()
    signal.connect(async_failing)
    with pytest.raises(KeyError) as info:
        asyncio.run(signal.asend(sender=None))
    return [info.value.args]


def scenario_asend_robust_wraps_both_kinds(
    make: Callable[..., DjangoSignal],
) -> Outcome:
    signal = make()
    signal.connect(failing)
    signal.connect(async_failing)
    signal.connect(async_first)
    return [_named(asyncio.run(signal.asend_robust(sender=None)))]


def scenario_sender_filtering(make: Callable[..., DjangoSignal]) -> Outcome:
    signal = make()

    class A:
        pass

    class B:
        pass

    signal.connect(first, sender=A)
    signal.connect(second, sender=B)
    return [
        _named(signal.send(sender=A)),
        _named(signal.send(sender=B)),
        _named(signal.send(sender=None)),
        signal.has_listeners(A),
        signal.has_listeners(object),
    ]


def scenario_dispatch_uid_connects_once(make: Callable[..., DjangoSignal]) -> Outcome:
    signal = make()
    signal.connect(first, dispatch_uid="uid")
    signal.connect(second, dispatch_uid="uid")
    outcome: Outcome = [_named(signal.send(sender=None))]
    outcome.append(signal.disconnect(dispatch_uid="uid"))
    outcome.append(signal.disconnect(dispatch_uid="uid"))
    outcome.append(_named(signal.send(sender=None)))
    return outcome


def scenario_weak_receivers_are_collected(make: Callable[..., DjangoSignal]) -> Outcome:
    signal = make()

    def short_lived(sender: Any, **kwargs: Any) -> str:
        return "short-lived"

    class Listener:
        def method(self, sender: Any, **kwargs: Any) -> str:
            return "method"

    listener = Listener()
    signal.connect(short_lived)
    signal.connect(listener.method)
    before = _named(signal.send(sender=None))
    function_ref = weakref.ref(short_lived)
    listener_ref = weakref.ref(listener)
    del short_lived, listener
    gc.collect()
    return [
        before,
        function_ref() is None,
        listener_ref() is None,
        _named(signal.send(sender=None)),
        signal.has_listeners(),
    ]


def scenario_strong_receivers_stay(make: Callable[..., DjangoSignal]) -> Outcome:
    signal = make()

    def kept(sender: Any, **kwargs: Any) -> str:
        return "kept"

    signal.connect(kept, weak=False)
    del kept
    gc.collect()
    return [_named(signal.send(sender=None))]


def scenario_senders_are_not_kept_alive(make: Callable[..., DjangoSignal]) -> Outcome:
    signal = make()

    class Sender:
        pass

    signal.connect(first, sender=Sender)
    outcome: Outcome = [_named(signal.send(sender=Sender))]
    sender_ref = weakref.ref(Sender)
    del Sender
    gc.collect()
    outcome.append(sender_ref() is None)
    return outcome


def scenario_caching(make: Callable[..., DjangoSignal]) -> Outcome:
    signal = make(use_caching=True)

    class Sender:
        pass

    outcome: Outcome = [_named(signal.send(sender=Sender))]
    signal.connect(first, sender=Sender)
    outcome.append(_named(signal.send(sender=Sender)))
    outcome.append(_named(signal.send(sender=Sender)))
    outcome.append(len(signal.sender_receivers_cache))
    signal.disconnect(first, sender=Sender)
    outcome.append(_named(signal.send(sender=Sender)))
    return outcome


_var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "semantics_var", default="unset"
)


def scenario_context_changes_made_by_receivers(
    make: Callable[..., DjangoSignal],
) -> Outcome:
    signal = make()
    seen: list[str] = []

    def setter(sender: Any, **kwargs: Any) -> None:
        _var.set("set by receiver")

    def reader(sender: Any, **kwargs: Any) -> None:
        seen.append(_var.get())

    async def async_reader(sender: Any, **kwargs: Any) -> None:
        seen.append(_var.get())

    signal.connect(setter)
    signal.connect(reader)
    signal.connect(async_reader)

    def run_sync() -> str:
        signal.send(sender=None)
        return _var.get()

    async def run_async() -> str:
        await signal.asend(sender=None)
        return _var.get()

    outcome: Outcome = [contextvars.copy_context().run(run_sync), list(seen)]
    seen.clear()
    outcome.append(asyncio.run(run_async()))
    outcome.append(list(seen))
    return outcome


SCENARIOS = [
    scenario_send_returns_receivers_and_responses,
    scenario_send_propagates_exception_and_stops,
    scenario_send_robust_wraps_and_logs,
    scenario_sync_send_runs_async_receivers,
    scenario_asend_mixes_sync_and_async,
    scenario_asend_propagates_async_exception,
    scenario_asend_robust_wraps_both_kinds,
    scenario_sender_filtering,
    scenario_dispatch_uid_connects_once,
    scenario_weak_receivers_are_collected,
    scenario_strong_receivers_stay,
    scenario_senders_are_not_kept_alive,
    scenario_caching,
    scenario_context_changes_made_by_receivers,
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__[9:])
def test_dispatch_behaves_like_django(scenario: Scenario, mode: str) -> None:
    _assert_same_as_django(scenario, mode)


def test_recording_does_not_keep_receivers_or_senders_alive() -> None:
    signal = DjangoSignal()

    class Sender:
        pass

    def receiver(sender: Any, **kwargs: Any) -> object:
        return object()

    signal.connect(receiver)
    with record() as recorder:
        signal.send(sender=Sender, payload=object())
        receiver_ref, sender_ref = weakref.ref(receiver), weakref.ref(Sender)
        del receiver, Sender
        gc.collect()
        assert receiver_ref() is None
        assert sender_ref() is None
    assert recorder.sends[0].receivers[0].status == "ok"
