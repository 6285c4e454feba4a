"""The pipeline's one copy of Django's sync receiver loops, and when it runs."""

from __future__ import annotations

import sys
from typing import Any

import django
import pytest
from django.dispatch import Signal as DjangoSignal

from signalkit.pipeline import Observer, Send, SendObserver, loops, observing
from signalkit.pipeline.wrapping import Receiver

DJANGO = f"{django.VERSION[0]}.{django.VERSION[1]}"


@pytest.mark.parametrize("method", ["send", "send_robust"])
def test_the_running_djangos_loop_is_the_one_copied(method: str) -> None:
    # Fails when a supported Django changes send() or send_robust(): compare
    # the new loop with loops.run_send(), then add its fingerprint.
    found = loops.fingerprint(DjangoSignal.__dict__[method])
    assert found in loops.DJANGO_LOOPS[method], (method, DJANGO, found)
    assert DJANGO in loops.DJANGO_LOOPS[method][found]


def test_a_method_without_source_or_not_a_function_has_no_fingerprint() -> None:
    assert loops.fingerprint(len) is None
    assert loops.fingerprint(DjangoSignal.asend) is None  # a coroutine function


class Counts(Observer):
    """How many receivers each send it saw ran."""

    def __init__(self) -> None:
        self.counts: list[int] = []

    def send_started(self, send: Send) -> SendObserver:
        counts = self.counts

        class Finished(SendObserver):
            per_receiver = False

            def send_finished(self, error: BaseException | None) -> None:
                counts.append(len(send.receivers))

        return Finished()


@pytest.fixture
def changed_send(monkeypatch: pytest.MonkeyPatch) -> None:
    """Django's send() as a future version might have it: same behaviour,
    other code."""
    djangos = DjangoSignal.__dict__["send"]

    def send(self: DjangoSignal, sender: Any, **named: Any) -> Any:
        return djangos(self, sender, **named)

    monkeypatch.setattr(DjangoSignal, "send", send)


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
    observer = Counts()
    with observing(observer):
        assert loops.own_loop == {"send": False, "send_robust": True}
        responses = signal.send(sender=None)
        signal.send_robust(sender=None)
    assert responses == [(listen, "heard")]  # the wrapper taken out again
    assert wrapped == [True, False]  # send: Django's method; send_robust: ours
    assert observer.counts == [1, 1]
