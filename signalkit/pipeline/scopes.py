"""Which observers see a send: the one rule, and the events that start and
end a send.

Observers are *context* observers (a block of :func:`signalkit.pipeline.observing`
or :func:`~signalkit.pipeline.muting`, as ``record()`` and ``mute()`` are,
seeing exactly the sends made in its context while it runs, asyncio tasks
made in it included) or *process-wide* ones (:data:`wide`, seeing every send
in every thread, as the tracer and the slow-receiver log are).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable, Iterable
from contextvars import ContextVar
from typing import Any, cast
from weakref import WeakSet

from django.dispatch import Signal as DjangoSignal
from django.dispatch.dispatcher import _make_id  # type: ignore[attr-defined]

from signalkit.naming import real_receiver, receiver_name
from signalkit.pipeline.observers import Observer, observer_failed
from signalkit.pipeline.send import Send


class Mute:
    """What one muting() block stops: the receivers of its signals, for
    every sender or only *sender* (``None``: every sender, as in Django's
    ``connect()``), all of them or only *receivers* (``None``: all).

    Senders and receivers are compared as Django compares them, by
    ``_make_id()``; both are held while the block runs, so that their ids
    cannot go to other objects.
    """

    __slots__ = ("receiver_keys", "receivers", "sender", "sender_key", "signals")

    def __init__(
        self,
        signals: frozenset[DjangoSignal],
        sender: Any = None,
        receivers: Iterable[Callable[..., Any]] | None = None,
    ) -> None:
        self.signals = signals
        self.sender = sender
        self.sender_key: Hashable | None = None if sender is None else _make_id(sender)
        self.receivers = None if receivers is None else tuple(receivers)
        self.receiver_keys: frozenset[Hashable] | None = (
            None if self.receivers is None else frozenset(map(_make_id, self.receivers))
        )

    @property
    def is_whole(self) -> bool:
        """Whether every send of its signals is muted entirely."""
        return self.sender_key is None and self.receiver_keys is None


class Scope:
    # The observers and mutes of one observing() or muting() block, with
    # those of the blocks it is nested in. Asyncio tasks made inside a block
    # copy the context, and with it the scope: when the block ends, its scope
    # and those nested in it are closed, so that nothing in such a task is
    # observed or muted by the ended block any more.

    __slots__ = (
        "__weakref__",  # parents know their children weakly
        "adds",
        "children",
        "ended",
        "muted",
        "observer",
        "observers",
        "open",
        "parent",
        "partial",
        "whole",
    )

    def __init__(
        self,
        parent: Scope | None,
        observer: Observer | None,
        adds: Mute | None,
    ) -> None:
        self.parent = parent
        self.observer = observer  # what this block adds
        self.adds = adds
        self.open = True  # this block and every block around it still run
        self.ended = False  # this block ended
        self.children: WeakSet[Scope] | None = None  # made for the first child
        if parent is None:
            self.observers: tuple[Observer, ...] = (
                () if observer is None else (observer,)
            )
            # Signals some mute concerns; those muted entirely; the mutes of
            # one sender or of some receivers.
            self.muted: frozenset[DjangoSignal] = frozenset()
            self.whole: frozenset[DjangoSignal] = frozenset()
            self.partial: tuple[Mute, ...] = ()
        else:
            if parent.children is None:
                parent.children = WeakSet()
            parent.children.add(self)
            self.observers = (
                parent.observers if observer is None else (*parent.observers, observer)
            )
            self.muted, self.whole = parent.muted, parent.whole
            self.partial = parent.partial
        if adds is not None:
            self.muted = self.muted | adds.signals
            if adds.is_whole:
                self.whole = self.whole | adds.signals
            else:
                self.partial = (*self.partial, adds)

    def end(self) -> None:
        self.ended = True
        closing: list[Scope] = [self]
        while closing:
            scope = closing.pop()
            scope.open = False
            if scope.children is not None:
                closing.extend(scope.children)

    def reopened(self) -> Scope | None:
        # What is left of a closed scope: the blocks in it that still run.
        chain: list[Scope] = []
        scope: Scope | None = self
        while scope is not None:
            if not scope.ended:
                chain.append(scope)
            scope = scope.parent
        left = None
        for scope in reversed(chain):
            left = Scope(left, scope.observer, scope.adds)
        return left


# The scope of the current context.
context: ContextVar[Scope | None] = ContextVar("signalkit_pipeline", default=None)


def mute_of(
    scope: Scope, signal: DjangoSignal, sender: Any
) -> tuple[bool, frozenset[Hashable] | None]:
    """Whether *scope* mutes a send of *signal* by *sender* entirely, and if
    not, the ``_make_id()`` keys of the receivers it skips (``None``: none)."""
    if signal in scope.whole:
        return True, None
    sender_key = _make_id(sender)
    skipped: frozenset[Hashable] = frozenset()
    for rule in scope.partial:
        if signal in rule.signals and rule.sender_key in (None, sender_key):
            if rule.receiver_keys is None:
                return True, None
            skipped |= rule.receiver_keys
    return False, skipped or None


def heard(
    skipped: frozenset[Hashable], *receivers: list[Callable[..., Any]]
) -> tuple[list[str], list[list[Callable[..., Any]]]]:
    """Each list of *receivers* without those whose key is in *skipped*
    (wrappers such as sentry-sdk's are seen through), in their order, and
    the names of those left out."""
    names: list[str] = []
    kept_lists = []
    for each in receivers:
        kept = []
        for receiver in each:
            if _make_id(real_receiver(receiver)) in skipped:
                names.append(receiver_name(receiver))
            else:
                kept.append(receiver)
        kept_lists.append(kept)
    return names, kept_lists


def current_scope() -> Scope | None:
    """The observers and mutes of the current context that still run.

    The one rule for context observers: a block sees exactly the sends made
    in its context while it runs.
    """
    scope = context.get()
    if scope is None or scope.open:
        return scope
    return scope.reopened()


# Process-wide observers, whether one of them may decline sends before they
# are built, and the one observer that only times receivers if it is alone
# (Observer.threshold_ns): replaced as a whole, read once per send.
wide: tuple[tuple[Observer, ...], bool, Observer | None] = ((), False, None)


def _wide(observers: tuple[Observer, ...]) -> None:
    global wide
    timer = observers[0] if len(observers) == 1 else None
    wide = (
        observers,
        any(each.may_decline for each in observers),
        None if timer is None or timer.threshold_ns is None else timer,
    )


def observers_for(signal: DjangoSignal) -> tuple[tuple[Observer, ...], bool]:
    """Which observers see a send of *signal* here, and whether it is muted.

    The one rule: every process-wide observer, then those of the current
    context's blocks that still run (see :func:`current_scope`).
    """
    everywhere = wide[0]
    scope = current_scope()
    if scope is None:
        return everywhere, False
    observers = everywhere + scope.observers if everywhere else scope.observers
    return observers, signal in scope.muted


def unheard(
    signal: DjangoSignal, method: str, sender: Any, named: dict[str, Any]
) -> Send | None:
    """What to observe of a send Django returns ``[]`` from at once.

    Observers that deal with it in :meth:`Observer.send_unheard` are left
    out; ``None`` when none is left and the send is not muted.
    """
    observers, muted = observers_for(signal)
    if muted and mute_of(cast(Scope, current_scope()), signal, sender)[0]:
        # A muted send is kept (with no receivers, none is skipped).
        return start_send(signal, method, sender, named, observers, True, 3)
    observers = without_decliners(observers, signal, sender)
    left = []
    for observer in observers:
        try:
            if observer.send_unheard(signal, sender):
                continue
        except Exception as error:
            observer_failed(observer, "send_unheard", error)
            continue
        left.append(observer)
    if not left:
        return None
    return start_send(signal, method, sender, named, tuple(left), False, 3)


def start_send(
    signal: DjangoSignal,
    method: str,
    sender: Any,
    named: dict[str, Any],
    observers: tuple[Observer, ...],
    muted: bool,
    depth: int = 2,
) -> Send | None:
    """The observed send, or ``None`` when nothing observes or mutes it.

    *muted*: whether a mute of the current context concerns *signal*; which
    receivers of this send it stops is worked out here (:func:`mute_of`).
    *depth*: how many frames up the sender's call of the send method is.
    """
    skipped = None
    if muted:
        muted, skipped = mute_of(cast(Scope, current_scope()), signal, sender)
        kept = muted or skipped is not None
    else:
        kept = False
    if wide[1]:  # only a process-wide observer may decline
        observers = without_decliners(observers, signal, sender)
    if not observers and not kept:
        return None
    send = Send(signal, method, sender, named, muted, sys._getframe(depth))
    if skipped is not None:
        send.skipped = skipped
    if len(observers) == 1:  # the usual case (one recording), written out
        observer = observers[0]
        try:
            send_observer = observer.send_started(send)
        except Exception as error:
            observer_failed(observer, "send_started", error)
            send_observer = None
        if send_observer is None:
            return send if kept else None
        only = ((observer, send_observer),)
        send.observed = only
        if send_observer.per_receiver:
            send.per_receiver = only
        return send
    observed = []
    per_receiver = []
    for observer in observers:
        try:
            send_observer = observer.send_started(send)
        except Exception as error:
            observer_failed(observer, "send_started", error)
            continue
        if send_observer is not None:
            pair = (observer, send_observer)
            observed.append(pair)
            if send_observer.per_receiver:
                per_receiver.append(pair)
    if not observed and not kept:
        return None
    send.observed = tuple(observed)
    if per_receiver:
        send.per_receiver = tuple(per_receiver)
    return send


def without_decliners(
    observers: tuple[Observer, ...], signal: DjangoSignal, sender: Any
) -> tuple[Observer, ...]:
    if not wide[1]:
        return observers  # only a process-wide observer may decline
    kept = []
    for observer in observers:
        if observer.may_decline:
            try:
                if observer.declines(signal, sender):
                    continue
            except Exception as error:
                observer_failed(observer, "declines", error)
                continue
        kept.append(observer)
    return tuple(kept)


def finish_send(send: Send, error: BaseException | None) -> None:
    for observer, send_observer in send.observed:
        try:
            send_observer.send_finished(error)
        except Exception as failure:
            observer_failed(observer, "send_finished", failure)
    send._release()


def add_wide(observer: Observer) -> None:
    """Add a process-wide observer (under the life cycle's lock)."""
    _wide((*wide[0], observer))


def remove_wide(observer: Observer) -> None:
    """Remove a process-wide observer (under the life cycle's lock)."""
    if observer not in wide[0]:
        raise ValueError(f"{observer!r} is not an observer of every send")
    observers = list(wide[0])
    observers.remove(observer)
    _wide(tuple(observers))
