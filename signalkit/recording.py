"""Recording of signal sends: ``signalkit.record()``.

While a recorder or a mute is active anywhere in the process, the send
methods and ``_live_receivers`` of ``django.dispatch.Signal`` are replaced by
thin wrappers; when the last one ends, Django's own methods are put back.
The wrappers check a context variable, so a send in another thread or asyncio
task that is not recording runs Django's code with nothing added but that
check. Receivers are wrapped only for the duration of one recorded send, and
the wrappers are removed from the value ``send()`` returns, so callers see
exactly what Django returns.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import django
from django.dispatch import Signal as DjangoSignal

from signalkit.conf import conf
from signalkit.receivers import callable_name
from signalkit.registry import registry
from signalkit.summaries import summarize, summarize_arguments

_recorders: ContextVar[tuple[Recorder, ...]] = ContextVar(
    "signalkit_recorders", default=()
)
_muted: ContextVar[frozenset[DjangoSignal]] = ContextVar(
    "signalkit_muted", default=frozenset()
)
_current_send: ContextVar[SendRecord | None] = ContextVar(
    "signalkit_current_send", default=None
)
_current_call: ContextVar[ReceiverCall | None] = ContextVar(
    "signalkit_current_call", default=None
)

# Frames in these directories are not a send's "site".
_INTERNAL_DIRS = tuple(
    os.path.dirname(module.__file__) + os.sep
    for module in (django, asyncio, sys.modules[__name__.rpartition(".")[0]])
    if module.__file__
)


def _send_site() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_INTERNAL_DIRS) and "asgiref" not in filename:
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>"


@dataclass(eq=False)
class ReceiverCall:
    """One receiver that ran during a recorded send."""

    name: str
    """``module.qualname`` of the receiver."""
    is_async: bool
    started: float
    """Seconds since the recording started."""
    duration: float | None = None
    """Seconds it took; ``None`` while it runs."""
    status: str = "running"
    """``"ok"``, ``"error"``, ``"running"``, or a status its result reports,
    such as ``"enqueued"`` for a background receiver."""
    result_summary: str = ""
    exception_type: str | None = None
    exception_message: str | None = None
    result: Any = None
    """The return value, kept only by recorders with ``keep_values=True``."""
    exception: BaseException | None = None
    """The exception, kept only by recorders with ``keep_values=True``."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "is_async": self.is_async,
            "started": self.started,
            "duration": self.duration,
            "status": self.status,
            "result": self.result_summary,
            "exception_type": self.exception_type,
            "exception_message": self.exception_message,
        }


@dataclass(eq=False)
class SendRecord:
    """One send of a signal, with the receivers that ran."""

    signal_name: str
    method: str
    """``"send"``, ``"send_robust"``, ``"asend"`` or ``"asend_robust"``."""
    sender_label: str
    arguments: dict[str, str]
    """Summaries of the keyword arguments, sensitive ones masked."""
    site: str
    """``file:line`` of the first frame outside Django and signalkit."""
    started: float
    depth: int
    parent: SendRecord | None
    """The send whose receiver made this send, if any."""
    parent_receiver: ReceiverCall | None
    """The receiver that made this send, if any."""
    receivers: list[ReceiverCall] = field(default_factory=list)
    duration: float | None = None
    muted: bool = False
    muted_receivers: list[str] = field(default_factory=list)
    exception_type: str | None = None
    exception_message: str | None = None
    signal: DjangoSignal | None = None
    """The signal, kept only by recorders with ``keep_values=True``."""
    sender: Any = None
    """The sender, kept only by recorders with ``keep_values=True``."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """The arguments, kept only by recorders with ``keep_values=True``."""
    _signal_id: int = 0
    _claimed: bool = False
    _recorders: tuple[Recorder, ...] = ()

    def to_dict(self, positions: dict[int, int] | None = None) -> dict[str, Any]:
        """JSON-native data only, as stored by the debug toolbar.

        *positions* maps ``id(send)`` to its index in a recorder's
        :attr:`~Recorder.sends`, to express the parent as an index.
        """
        parent = self.parent
        parent_index = (
            None if parent is None or positions is None else positions.get(id(parent))
        )
        return {
            "signal": self.signal_name,
            "method": self.method,
            "sender": self.sender_label,
            "arguments": dict(self.arguments),
            "site": self.site,
            "started": self.started,
            "duration": self.duration,
            "depth": self.depth,
            "parent": parent_index,
            "parent_receiver": None
            if parent is None or parent_index is None or self.parent_receiver is None
            else parent.receivers.index(self.parent_receiver),
            "muted": self.muted,
            "muted_receivers": list(self.muted_receivers),
            "exception_type": self.exception_type,
            "exception_message": self.exception_message,
            "receivers": [call.to_dict() for call in self.receivers],
        }


class Recorder:
    """The sends seen by one :func:`record` block, in the order they started."""

    def __init__(self, *, keep_values: bool = False, max_sends: int | None = None):
        self.keep_values = keep_values
        self.max_sends = conf.RECORD_MAX_SENDS if max_sends is None else max_sends
        # Read once per recording: a settings lookup on every send and receiver
        # call would cost more than the rest of the recording.
        self.max_length = conf.SUMMARY_MAX_LENGTH
        self.sensitive = conf.SENSITIVE_ARGS
        self.sends: list[SendRecord] = []
        self.dropped = 0
        """Sends not kept because :attr:`max_sends` was reached."""
        self.started = time.perf_counter()
        self._lock = threading.Lock()

    def to_dicts(self) -> list[dict[str, Any]]:
        """Every kept send as JSON-native data, parents given as indexes."""
        positions = {id(send): index for index, send in enumerate(self.sends)}
        return [send.to_dict(positions) for send in self.sends]

    def _accepts(self) -> bool:
        with self._lock:
            if len(self.sends) >= self.max_sends:
                self.dropped += 1
                return False
            return True


def _start_send(
    recorders: tuple[Recorder, ...],
    signal: DjangoSignal,
    method: str,
    sender: Any,
    named: dict[str, Any],
) -> SendRecord | None:
    keeping = tuple(r for r in recorders if r._accepts())
    if not keeping:
        return None
    first = keeping[0]
    parent_call = _current_call.get()
    parent = _current_send.get() if parent_call is not None else None
    keep_values = any(r.keep_values for r in keeping)
    max_length = first.max_length
    sensitive = first.sensitive
    record = SendRecord(
        signal_name=signal_label(signal),
        method=method,
        # summarize() names classes and models by label, like the catalog.
        sender_label=summarize(sender, max_length=max_length),
        arguments=summarize_arguments(
            named, max_length=max_length, sensitive=sensitive
        ),
        site=_send_site(),
        started=time.perf_counter() - first.started,
        depth=0 if parent is None else parent.depth + 1,
        parent=parent,
        parent_receiver=parent_call if parent is not None else None,
        signal=signal if keep_values else None,
        sender=sender if keep_values else None,
        kwargs=dict(named) if keep_values else {},
        _signal_id=id(signal),
        _recorders=keeping,
    )
    for recorder in keeping:
        with recorder._lock:
            recorder.sends.append(record)
    return record


def signal_label(signal: DjangoSignal) -> str:
    """The registry name of *signal*, or a description of an unregistered one."""
    name = registry.name_of(signal)
    if name is not None:
        return name
    label = getattr(signal, "_label", None)
    if callable(label):
        return str(label())
    cls = type(signal)
    return f"<{cls.__module__}.{cls.__qualname__} at {id(signal):#x}>"


def _error_summary(error: BaseException, max_length: int) -> tuple[str, str]:
    """The exception's type name and its message, summarised without quotes."""
    message = summarize(str(error), max_length=max_length).strip("'\"")
    return type(error).__qualname__, message


def _start_call(record: SendRecord, receiver: Any, is_async: bool) -> ReceiverCall:
    call = ReceiverCall(
        name=callable_name(receiver),
        is_async=is_async,
        started=time.perf_counter() - record._recorders[0].started,
    )
    record.receivers.append(call)
    return call


def _finish_call(
    record: SendRecord,
    call: ReceiverCall,
    started: float,
    result: Any = None,
    error: BaseException | None = None,
) -> None:
    call.duration = time.perf_counter() - started
    keep = record.signal is not None
    first = record._recorders[0]
    if error is not None:
        call.status = "error"
        call.exception_type, call.exception_message = _error_summary(
            error, first.max_length
        )
        call.exception = error if keep else None
        return
    status = getattr(type(result), "signalkit_status", None)
    if isinstance(status, str):
        call.status = status
        call.result_summary = str(getattr(result, "signalkit_summary", ""))
    else:
        call.status = "ok"
        call.result_summary = summarize(
            result,
            max_length=first.max_length,
            sensitive=first.sensitive,
        )
    call.result = result if keep else None


class _SyncReceiver:
    """Times one sync receiver during one recorded send."""

    __slots__ = ("_record", "_signalkit_receiver")

    def __init__(self, receiver: Callable[..., Any], record: SendRecord) -> None:
        self._signalkit_receiver = receiver
        self._record = record

    def __getattr__(self, name: str) -> Any:
        # send_robust() logs receiver.__qualname__: answer as the receiver.
        return getattr(self._signalkit_receiver, name)

    def __call__(self, **kwargs: Any) -> Any:
        call = _start_call(self._record, self._signalkit_receiver, False)
        token = _current_call.set(call)
        started = time.perf_counter()
        try:
            result = self._signalkit_receiver(**kwargs)
        except BaseException as error:
            _finish_call(self._record, call, started, error=error)
            raise
        finally:
            _current_call.reset(token)
        _finish_call(self._record, call, started, result=result)
        return result


class _AsyncReceiver(_SyncReceiver):
    """Times one async receiver during one recorded send."""

    __slots__ = ()

    async def __call__(self, **kwargs: Any) -> Any:
        call = _start_call(self._record, self._signalkit_receiver, True)
        # Django 6.1 runs concurrent async receivers in one shared context, so
        # restore the value this send started with rather than a token.
        outer = _current_call.get()
        _current_call.set(call)
        started = time.perf_counter()
        try:
            result = await self._signalkit_receiver(**kwargs)
        except BaseException as error:
            _finish_call(self._record, call, started, error=error)
            raise
        finally:
            _current_call.set(outer)
        _finish_call(self._record, call, started, result=result)
        return result


_WRAPPERS = (_SyncReceiver, _AsyncReceiver)


def _unwrap(responses: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    return [
        (receiver._signalkit_receiver, response)
        if type(receiver) in _WRAPPERS
        else (receiver, response)
        for receiver, response in responses
    ]


# The patched methods. _original is filled in by _patch().

_original: dict[str, Any] = {}


def _live_receivers(
    self: DjangoSignal, sender: Any
) -> tuple[list[Callable[..., Any]], list[Callable[..., Awaitable[Any]]]]:
    sync_receivers, async_receivers = _original["_live_receivers"](self, sender)
    record = _current_send.get()
    ours = record is not None and record._signal_id == id(self) and not record._claimed
    if self in _muted.get():
        if ours:
            assert record is not None
            record._claimed = True
            record.muted = True
            record.muted_receivers = [
                callable_name(r) for r in (*sync_receivers, *async_receivers)
            ]
        return [], []
    if not ours:
        return sync_receivers, async_receivers
    assert record is not None
    record._claimed = True
    return (
        [_SyncReceiver(r, record) for r in sync_receivers],
        [_AsyncReceiver(r, record) for r in async_receivers],
    )


def _begin(
    signal: DjangoSignal, method: str, sender: Any, named: dict[str, Any]
) -> tuple[SendRecord | None, Any]:
    recorders = _recorders.get()
    if not recorders:
        return None, None
    record = _start_send(recorders, signal, method, sender, named)
    if record is None:
        return None, None
    return record, _current_send.set(record)


def _end(record: SendRecord, token: Any, error: BaseException | None) -> None:
    _current_send.reset(token)
    record.duration = (
        time.perf_counter() - record._recorders[0].started - record.started
    )
    if error is not None:
        record.exception_type, record.exception_message = _error_summary(
            error, record._recorders[0].max_length
        )


def _make_sync(method: str) -> Callable[..., list[tuple[Any, Any]]]:
    def patched(self: DjangoSignal, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        record, token = _begin(self, method, sender, named)
        if record is None:
            return _original[method](self, sender, **named)  # type: ignore[no-any-return]
        try:
            responses = _original[method](self, sender, **named)
        except BaseException as error:
            _end(record, token, error)
            raise
        _end(record, token, None)
        return _unwrap(responses)

    patched.__name__ = patched.__qualname__ = method
    return patched


def _make_async(method: str) -> Callable[..., Awaitable[list[tuple[Any, Any]]]]:
    async def patched(
        self: DjangoSignal, sender: Any, **named: Any
    ) -> list[tuple[Any, Any]]:
        record, token = _begin(self, method, sender, named)
        if record is None:
            return await _original[method](self, sender, **named)  # type: ignore[no-any-return]
        try:
            responses = await _original[method](self, sender, **named)
        except BaseException as error:
            _end(record, token, error)
            raise
        _end(record, token, None)
        return _unwrap(responses)

    patched.__name__ = patched.__qualname__ = method
    return patched


_PATCHES: dict[str, Any] = {
    "send": _make_sync("send"),
    "send_robust": _make_sync("send_robust"),
    "asend": _make_async("asend"),
    "asend_robust": _make_async("asend_robust"),
    "_live_receivers": _live_receivers,
}

_users = 0
_patch_lock = threading.Lock()


def _acquire() -> None:
    global _users
    with _patch_lock:
        if _users == 0:
            for name, replacement in _PATCHES.items():
                _original[name] = DjangoSignal.__dict__[name]
                setattr(DjangoSignal, name, replacement)
        _users += 1


def _release() -> None:
    global _users
    with _patch_lock:
        _users -= 1
        if _users == 0:
            for name, original in _original.items():
                setattr(DjangoSignal, name, original)


def is_patched() -> bool:
    """Whether ``django.dispatch.Signal`` currently runs signalkit's wrappers."""
    return DjangoSignal.__dict__["send"] is _PATCHES["send"]


@contextmanager
def record(
    *, keep_values: bool = False, max_sends: int | None = None
) -> Iterator[Recorder]:
    """Record every signal sent in the current thread or asyncio task.

    Yields a :class:`Recorder` whose :attr:`~Recorder.sends` fill up as
    signals are sent: Django's built-in signals, signalkit's and plain
    ``django.dispatch.Signal`` objects alike. Sends made by receivers appear
    nested under the receiver that made them. Recorders nest: every active
    one sees each send.

    :param keep_values: also keep the signal, sender, arguments, results and
        exceptions themselves (tests want them; the debug toolbar must not).
    :param max_sends: how many sends to keep (default
        ``SIGNALKIT_RECORD_MAX_SENDS``); later ones are only counted in
        :attr:`~Recorder.dropped`.
    """
    recorder = Recorder(keep_values=keep_values, max_sends=max_sends)
    _acquire()
    token = _recorders.set((*_recorders.get(), recorder))
    try:
        yield recorder
    finally:
        _recorders.reset(token)
        _release()


@contextmanager
def muting(signals: frozenset[DjangoSignal]) -> Iterator[None]:
    """Stop the receivers of *signals* from running in this context only."""
    _acquire()
    token = _muted.set(_muted.get() | signals)
    try:
        yield
    finally:
        _muted.reset(token)
        _release()
