"""Runs a :class:`~differential.program.Program` and returns what it observed.

Everything a sender or a receiver can tell apart goes into the
:class:`Outcome`: which receivers started and finished, in order, and in which
send; what each send returned (receivers by identity, values and exceptions
by identity) or raised; and, after each top-level send, the context the
sender sees (a context variable, OpenTelemetry baggage, its current span).
Run once against plain Django and once under observers, the two outcomes must
be equal.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from contextlib import AbstractContextManager
from contextvars import ContextVar, copy_context
from dataclasses import dataclass, field
from types import FunctionType
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.dispatch import Signal as DjangoSignal
from opentelemetry import baggage, trace
from opentelemetry import context as otel_context

from differential.program import Method, Op, Program, ReceiverSpec, SendSpec
from signalkit import Signal, registry

TRAIL: ContextVar[str | None] = ContextVar("differential_trail", default=None)
"""Set by receivers (the ``setvar`` op); read by the sender afterwards."""


class Boom(Exception):
    """What a receiver whose outcome is ``raise`` raises."""


class Halt(BaseException):
    """What a receiver whose outcome is ``raise_base`` raises."""


class Token:
    """What a receiver returns: a fresh object, so identity is compared."""

    def __init__(self, name: str) -> None:
        self.name = name


class Sender0:
    pass


class Sender1:
    pass


SENDERS = (Sender0, Sender1)
_signal_names = itertools.count()

Event = tuple[Any, ...]


@dataclass
class SendLog:
    """One send of the run (top-level or made by a receiver)."""

    signal: int
    method: Method
    sync_started: list[str] = field(default_factory=list)
    """The sync receivers that started, in order."""
    async_started: list[str] = field(default_factory=list)
    """The async receivers that started, in order. Django 5.2 and 6.0 run
    sync receivers in a thread beside the async ones in ``asend()``: only the
    order within each kind is Django's to keep."""
    result: Event | None = None
    hop: bool = False
    """Made by a receiver through asgiref (``async_to_sync`` in a sync
    receiver, ``sync_to_async`` in an async one): in another thread."""


@dataclass
class Outcome:
    connected: list[Event] = field(default_factory=list)
    """The connections made before the sends."""
    after: list[Event] = field(default_factory=list)
    """For each top-level send, what the sender sees afterwards: the context
    variable, the baggage and whether its current span is still its own."""
    sends: dict[str, SendLog] = field(default_factory=dict)
    """Every send by id: ``s<k>`` for the top-level send number k, then
    ``<parent id>/<receiver>.<op>`` for one made by a receiver."""
    invocations: dict[tuple[str, str], list[Event]] = field(default_factory=dict)
    """What each receiver did in each send, in order, by (receiver, send id)."""
    signal_ids: set[int] = field(default_factory=set)
    """``id()`` of the program's signals, alive while the outcome is checked."""

    def unsettled(self) -> int | None:
        """The first top-level send in which an exception left ``asyncio.gather``.

        Django then leaves the other receivers of that send running on their
        own: whether and how far they get depends on the scheduling of
        threads and tasks, and so does everything after. ``None`` if no
        exception did.
        """
        numbers = [
            int(send_id[1:].partition("/")[0])
            for send_id, log in self.sends.items()
            if log.result is not None
            and log.result[0] == "raised"
            and (log.method.startswith("a") or log.async_started)
        ]
        return min(numbers, default=None)

    def racy(self) -> bool:
        """Whether a receiver connected or disconnected one while another
        kind of receiver of the same ``asend()`` ran beside it.

        Django 5.2 and 6.0 run the sync receivers of an ``asend()`` in a
        thread while the async ones run in the event loop: which of them
        changes the connections first is up to the scheduler.
        """
        for send_id, log in self.sends.items():
            if log.method.startswith("a") and log.sync_started and log.async_started:
                inside = send_id + "/"
                for (_, made_in), events in self.invocations.items():
                    if (made_in == send_id or made_in.startswith(inside)) and any(
                        event[0].startswith(("connect", "disconnect"))
                        for event in events
                    ):
                        return True
        return False

    def compared(self, until: int | None = None) -> tuple[Any, ...]:
        """What must be the same as Django's; with *until*, only what the
        sender of top-level send number *until* and those before it saw."""
        after = self.after
        if until is None:
            return self.connected, after, self.sends, self.invocations
        sends = {
            send_id: log
            for send_id, log in self.sends.items()
            if int(send_id[1:].partition("/")[0]) < until
        }
        invocations = {
            key: log
            for key, log in self.invocations.items()
            if int(key[1][1:].partition("/")[0]) < until
        }
        last = self.sends[f"s{until}"]
        return (
            self.connected,
            after[: until + 1],
            sends,
            invocations,
            (last.signal, last.method, last.result),
        )

    def heard(self) -> list[tuple[str, int | None, list[str]]]:
        """(send id, depth, receivers that started, sorted) for each send,
        sorted: what observers of the run should have seen. No depth
        (``None``) for a send that a receiver made in another thread."""
        return sorted(
            (
                send_id,
                None if log.hop else send_id.count("/"),
                sorted(log.sync_started + log.async_started),
            )
            for send_id, log in self.sends.items()
        )


def _unwrap(receiver: Any) -> Any:
    # sentry-sdk's signals_spans hands Django a wrapper per sync receiver per
    # send (a function of its own module): what a plain Django with sentry-sdk
    # returns too. Only that wrapper is seen through, never signalkit's.
    if (
        isinstance(receiver, FunctionType)
        and "sentry_sdk" in receiver.__code__.co_filename
    ):
        return receiver.__wrapped__  # type: ignore[attr-defined]
    return receiver


class Run:
    """One run of a program: its signals, receivers and what happened."""

    def __init__(self, program: Program, signalkit: bool) -> None:
        self.program = program
        self.signals: list[DjangoSignal] = [
            Signal(
                name=f"differential.signal_{next(_signal_names)}",
                args=["value"],
                use_caching=spec.use_caching,
            )
            if signalkit and spec.signalkit
            else DjangoSignal(use_caching=spec.use_caching)
            for spec in program.signals
        ]
        self.functions: list[Callable[..., Any] | None] = [
            self._make(index, spec) for index, spec in enumerate(program.receivers)
        ]
        self.labels = {id(f): f"r{i}" for i, f in enumerate(self.functions)}
        # What each (receiver, send id) returned or raised, kept for identity.
        self.tokens: dict[tuple[str, str], object] = {}
        self.outcome = Outcome(signal_ids={id(s) for s in self.signals})

    # Building and connecting receivers.

    def _make(self, index: int, spec: ReceiverSpec) -> Callable[..., Any]:
        name = f"r{index}"
        receiver: Callable[..., Any]
        if spec.is_async:

            async def receiver(signal: Any, sender: Any, **kwargs: Any) -> Token:
                send_id = kwargs["value"]
                log = self._started(name, spec, send_id)
                await asyncio.sleep(0)  # let the other receivers of a gather start
                for number, op in enumerate(spec.ops):
                    if not self._side_effect(name, op, log):
                        nested = self._begin(op, f"{send_id}/{name}.{number}", True)
                        with _Raised(self, nested):
                            responses = await self._acall(
                                op.target, 0, op.method, nested
                            )
                            self._reply(nested, responses)
                return self._finish(name, spec, send_id, log)

        else:

            def receiver(signal: Any, sender: Any, **kwargs: Any) -> Token:
                send_id = kwargs["value"]
                log = self._started(name, spec, send_id)
                for number, op in enumerate(spec.ops):
                    if not self._side_effect(name, op, log):
                        nested = self._begin(op, f"{send_id}/{name}.{number}", False)
                        with _Raised(self, nested):
                            responses = self._call(op.target, 0, op.method, nested)
                            self._reply(nested, responses)
                return self._finish(name, spec, send_id, log)

        receiver.__name__ = receiver.__qualname__ = name
        return receiver

    def _connect(self, index: int, log: list[Event]) -> None:
        spec, function = self.program.receivers[index], self.functions[index]
        if function is None:
            log.append(("connect-dead", index))
            return
        self.signals[spec.signal].connect(
            function,
            sender=None if spec.sender is None else SENDERS[spec.sender],
            weak=spec.weak,
            dispatch_uid=spec.dispatch_uid,
        )
        log.append(("connect", index))

    def _disconnect(self, index: int, log: list[Event]) -> None:
        spec, function = self.program.receivers[index], self.functions[index]
        if function is None and spec.dispatch_uid is None:
            log.append(("disconnect-dead", index))
            return
        done = self.signals[spec.signal].disconnect(
            function,
            sender=None if spec.sender is None else SENDERS[spec.sender],
            dispatch_uid=spec.dispatch_uid,
        )
        log.append(("disconnect", index, done))

    # What receivers do.

    def _started(self, name: str, spec: ReceiverSpec, send_id: str) -> list[Event]:
        send = self.outcome.sends[send_id]
        (send.async_started if spec.is_async else send.sync_started).append(name)
        log: list[Event] = []
        self.outcome.invocations[name, send_id] = log
        return log

    def _finish(
        self, name: str, spec: ReceiverSpec, send_id: str, log: list[Event]
    ) -> Token:
        log.append(("end", spec.outcome))
        if spec.outcome == "return":
            token = self.tokens[name, send_id] = Token(name)
            return token
        error = Boom(name) if spec.outcome == "raise" else Halt(name)
        self.tokens[name, send_id] = error
        raise error

    def _side_effect(self, name: str, op: Op, log: list[Event]) -> bool:
        # Everything but a send, the same in sync and async receivers.
        if op.kind == "connect":
            self._connect(op.target, log)
        elif op.kind == "disconnect":
            self._disconnect(op.target, log)
        elif op.kind == "setvar":
            TRAIL.set(name)
        elif op.kind == "baggage":
            # Attached and never detached, as the receiver does.
            otel_context.attach(baggage.set_baggage("tenant", name))
        else:
            return False
        return True

    # Sends.

    def _begin(
        self, op: Op | SendSpec, send_id: str, in_async: bool | None = None
    ) -> str:
        signal = op.target if isinstance(op, Op) else op.signal
        hop = in_async is not None and in_async != op.method.startswith("a")
        self.outcome.sends[send_id] = SendLog(signal, op.method, hop=hop)
        return send_id

    def _call(
        self, signal: int, sender: int, method: Method, send_id: str
    ) -> list[tuple[Any, Any]]:
        function = getattr(self.signals[signal], method)
        if method.startswith("a"):
            function = async_to_sync(function)
        return function(sender=SENDERS[sender], value=send_id)  # type: ignore[no-any-return]

    async def _acall(
        self, signal: int, sender: int, method: Method, send_id: str
    ) -> list[tuple[Any, Any]]:
        function = getattr(self.signals[signal], method)
        if not method.startswith("a"):
            function = sync_to_async(function)
        return await function(sender=SENDERS[sender], value=send_id)  # type: ignore[no-any-return]

    def _reply(self, send_id: str, responses: list[tuple[Any, Any]]) -> None:
        self.outcome.sends[send_id].result = ("returned", self.responses(responses))

    def encode(self, value: Any) -> Event:
        """A value as comparable data: our tokens and exceptions by identity."""
        for key, token in self.tokens.items():
            if token is value:
                return ("ours", *key)
        if isinstance(value, BaseException):
            return ("foreign-error", type(value).__qualname__, str(value))
        return ("foreign", type(value).__qualname__)

    def responses(self, responses: list[tuple[Any, Any]]) -> list[Event]:
        """Responses as comparable data: receivers by identity."""
        encoded = []
        for receiver, response in responses:
            real = _unwrap(receiver)
            label = next(
                (
                    self.labels[id(real)]
                    for function in self.functions
                    if function is real
                ),
                f"<foreign {type(receiver).__qualname__}>",
            )
            encoded.append((label, self.encode(response)))
        return encoded

    # The program.

    def run(self) -> Outcome:
        program, outcome = self.program, self.outcome
        for index, spec in enumerate(program.receivers):
            if spec.connected:
                self._connect(index, outcome.connected)
        for index, spec in enumerate(program.receivers):
            if not spec.alive:
                # Its last reference: a weak receiver is gone at once.
                self.functions[index] = None
        try:
            for number, send in enumerate(program.sends):
                span = trace.get_current_span()
                send_id = self._begin(send, f"s{number}")
                call = async_to_sync(self._acall) if send.from_async else self._call
                with _Raised(self, send_id, swallow=True):
                    self._reply(
                        send_id, call(send.signal, send.sender, send.method, send_id)
                    )
                outcome.after.append(
                    (
                        TRAIL.get(),
                        baggage.get_baggage("tenant"),
                        trace.get_current_span() is span,
                    )
                )
        finally:
            for signal in self.signals:
                if isinstance(signal, Signal):
                    registry.unregister(signal)
        return self.outcome


class _Raised:
    """Logs the exception a send raised; lets it through, unless at the top."""

    def __init__(self, run: Run, send_id: str, swallow: bool = False) -> None:
        self._run, self._send_id, self._swallow = run, send_id, swallow

    def __enter__(self) -> None:
        pass

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> bool:
        if error is None:
            return False
        self._run.outcome.sends[self._send_id].result = (
            "raised",
            self._run.encode(error),
        )
        return self._swallow and not isinstance(error, (KeyboardInterrupt, SystemExit))


def execute(
    program: Program,
    signalkit: bool,
    observers: Callable[[], AbstractContextManager[Any]] | None = None,
) -> tuple[Outcome, Any]:
    """Run *program* in a fresh context, under *observers* if given.

    Returns the outcome and what the observers' context manager yielded.
    """

    def body() -> tuple[Outcome, Any]:
        if observers is None:
            return Run(program, signalkit).run(), None
        with observers() as seen:
            return Run(program, signalkit).run(), seen

    return copy_context().run(body)
