"""Recording of signal sends: ``signalkit.record()``.

While a recorder or a mute is active anywhere in the process, the send
methods and ``_live_receivers`` of ``django.dispatch.Signal`` are replaced by
thin wrappers; when the last one ends, Django's own methods are put back.
The wrappers check a context variable, so a send in another thread or asyncio
task that is not recording runs Django's code with nothing added but that
check. A recorded ``send()``/``send_robust()`` to sync receivers runs
Django's receiver loop here, with a timestamp per receiver (``_run_sync``);
any other recorded send runs Django's own method with each receiver wrapped
for that send only, and the wrappers are removed from the value it returns.
Either way callers see exactly what Django returns.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from operator import itemgetter
from types import FrameType, MappingProxyType
from typing import Any

import django
from django.dispatch import Signal as DjangoSignal
from django.dispatch.dispatcher import NO_RECEIVERS

from signalkit.conf import conf
from signalkit.naming import receiver_name, remember
from signalkit.registry import registry
from signalkit.summaries import PLAIN_TYPES, Summarizer, summarize

_recorders: ContextVar[tuple[Recorder, ...]] = ContextVar(
    "signalkit_recorders", default=()
)
_muted: ContextVar[frozenset[DjangoSignal]] = ContextVar(
    "signalkit_muted", default=frozenset()
)
_current_send: ContextVar[SendRecord | None] = ContextVar(
    "signalkit_current_send", default=None
)
# The receiver running under a wrapper (async sends): its send and index.
_current_call: ContextVar[tuple[SendRecord, int] | None] = ContextVar(
    "signalkit_current_call", default=None
)

# Frames in these directories are not a send's "site".
_INTERNAL_DIRS = tuple(
    os.path.dirname(module.__file__) + os.sep
    for module in (django, asyncio, sys.modules[__name__.rpartition(".")[0]])
    if module.__file__
)
_internal_files: dict[str, bool] = {}
_now = time.perf_counter


def _send_site() -> tuple[str, int] | None:
    # Called from SendRecord() in _start_send() in a patched send method:
    # the walk starts at the caller of that method.
    frame: FrameType | None = sys._getframe(4)
    internal = _internal_files
    while frame is not None:
        filename = frame.f_code.co_filename
        skip = internal.get(filename)
        if skip is None:
            skip = internal[filename] = (
                filename.startswith(_INTERNAL_DIRS) or "asgiref" in filename
            )
        if not skip:
            return filename, frame.f_lineno
        frame = frame.f_back
    return None


def _microseconds(seconds: float | None) -> int | None:
    # Whole microseconds: JSON encodes integers far faster than floats, and
    # the toolbar's store encodes every request's sends.
    return None if seconds is None else round(seconds * 1_000_000)


@dataclass(eq=False, slots=True)
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
        return _call_dict(
            self.name,
            self.is_async,
            _microseconds(self.started),
            _microseconds(self.duration),
            self.status,
            self.result_summary,
            self.exception_type,
            self.exception_message,
        )


# What _run_sync keeps of the receivers it ran: their names, the timestamps
# around them, and their results (plain values) or outcomes (see _keep_calls).
_Ran = tuple[list[str], list[float], list[Any]]

# The fields of a ReceiverCall, in order.
_CallFields = tuple[
    str, bool, float, float, str, str, str | None, str | None, Any, BaseException | None
]


def _call_dict(
    name: str,
    is_async: bool,
    started_us: int | None,
    duration_us: int | None,
    status: str,
    result_summary: str,
    exception_type: str | None,
    exception_message: str | None,
) -> dict[str, Any]:
    """:meth:`ReceiverCall.to_dict`, from the fields of a call."""
    return {
        "name": name,
        "is_async": is_async,
        "started_us": started_us,
        "duration_us": duration_us,
        "status": status,
        "result": result_summary,
        "exception_type": exception_type,
        "exception_message": exception_message,
    }


class SendRecord:
    """One send of a signal, with the receivers that ran."""

    method: str
    """``"send"``, ``"send_robust"``, ``"asend"`` or ``"asend_robust"``."""
    started: float
    """Seconds since the recording started."""
    depth: int = 0
    """How many sends this one is nested in."""
    parent: SendRecord | None = None
    """The send whose receiver made this send, if any."""
    duration: float | None = None
    muted: bool = False
    muted_receivers: Sequence[str] = ()
    exception_type: str | None = None
    exception_message: str | None = None
    signal: DjangoSignal | None = None
    """The signal, kept only by recorders with ``keep_values=True``."""
    sender: Any = None
    """The sender, kept only by recorders with ``keep_values=True``."""
    kwargs: Mapping[str, Any] = MappingProxyType({})
    """The arguments, kept only by recorders with ``keep_values=True``."""

    # A send happens often and is read rarely: __init__ sets only what varies
    # and the rest is worked out when read.
    _parent_index = 0
    _keep_values = False
    _signal_name: str | None = None
    _sender_label: str | None = None
    _arguments: dict[str, str] | None = None
    _calls: list[ReceiverCall] | None = None
    _claimed = False
    # Whether _run_sync runs the receivers (rather than Django, wrapped).
    _inline = False
    # While _run_sync runs the receivers: the responses so far, whose length
    # is the index of the receiver running.
    _responses: list[tuple[Any, Any]] | None = None
    _ran: _Ran | None = None

    def __init__(
        self,
        recorders: tuple[Recorder, ...],
        signal: DjangoSignal,
        method: str,
        sender: Any,
        named: dict[str, Any],
        parent: SendRecord | None,
        parent_index: int,
    ) -> None:
        self._recorders = recorders
        # Signals live for the whole process: holding one changes nothing.
        self._signal = signal
        self._site = _send_site()
        self.method = method
        # Values of the plain types are summarised only when read: holding
        # them changes no object's lifetime. Anything else is summarised now.
        summarizer = recorders[0].summarizer
        if type(sender) in PLAIN_TYPES:
            self._sender = sender
        else:
            self._sender_label = summarizer.summarize(sender)
        if PLAIN_TYPES.issuperset(map(type, named.values())):
            self._named = named
        else:
            self._arguments = summarizer.summarize_arguments(named)
        if parent is not None:
            self.parent, self._parent_index = parent, parent_index
            self.depth = parent.depth + 1
        if len(recorders) == 1:
            keep = recorders[0].keep_values
        else:
            keep = any(recorder.keep_values for recorder in recorders)
        if keep:
            self._keep_values = True
            self.signal, self.sender, self.kwargs = signal, sender, dict(named)
        self.started = _now() - recorders[0].started

    @property
    def signal_name(self) -> str:
        """The registry name of the signal, or a description of an unregistered one."""
        if self._signal_name is None:
            self._signal_name = signal_label(self._signal)
        return self._signal_name

    @property
    def sender_label(self) -> str:
        """A summary of the sender: a model's label, ``None``, a short repr."""
        if self._sender_label is None:
            self._sender_label = self._recorders[0].summarizer.summarize(self._sender)
        return self._sender_label

    @property
    def arguments(self) -> dict[str, str]:
        """Summaries of the keyword arguments, sensitive ones masked."""
        if self._arguments is None:
            summarizer = self._recorders[0].summarizer
            self._arguments = summarizer.summarize_arguments(self._named)
        return self._arguments

    @property
    def site(self) -> str:
        """``file:line`` of the first frame outside Django and signalkit."""
        if self._site is None:
            return "<unknown>"
        return f"{self._site[0]}:{self._site[1]}"

    @property
    def receivers(self) -> list[ReceiverCall]:
        """The receivers that ran, in the order they started."""
        calls = self._calls
        if calls is None:
            calls = self._calls = []
        ran, self._ran = self._ran, None  # built once, even if read by two threads
        if ran is not None:
            calls.extend(ReceiverCall(*fields) for fields in self._ran_calls(ran))
        return calls

    def _ran_calls(self, ran: _Ran) -> Iterator[_CallFields]:
        """The fields of a ReceiverCall for each receiver that _run_sync ran."""
        names, stamps, outcomes = ran
        offset = self._recorders[0].started
        summarizer = self._recorders[0].summarizer
        keep = self._keep_values
        for index, name in enumerate(names):
            outcome = outcomes[index]
            if type(outcome) is not tuple:  # a plain value, kept as it is
                summary = summarizer.summarize(outcome)
                outcome = ("ok", summary, None, None, outcome if keep else None, None)
            started = stamps[index]
            yield (name, False, started - offset, stamps[index + 1] - started, *outcome)

    def _ran_dicts(self, ran: _Ran) -> list[dict[str, Any]]:
        """``to_dict()`` of each receiver _run_sync ran, without building
        ReceiverCall objects first."""
        return [
            _call_dict(
                name,
                is_async,
                _microseconds(started),
                _microseconds(duration),
                status,
                summary,
                exception_type,
                exception_message,
            )
            for (
                name,
                is_async,
                started,
                duration,
                status,
                summary,
                exception_type,
                exception_message,
                _,
                _,
            ) in self._ran_calls(ran)
        ]

    @property
    def parent_receiver(self) -> ReceiverCall | None:
        """The receiver that made this send, if any."""
        parent = self.parent
        return None if parent is None else parent.receivers[self._parent_index]

    def to_dict(self, positions: dict[int, int] | None = None) -> dict[str, Any]:
        """JSON-native data only, as stored by the debug toolbar.

        Times are whole microseconds since the recording started
        (``started_us``, ``duration_us``). *positions* maps ``id(send)`` to
        its index in a recorder's :attr:`~Recorder.sends`, to express the
        parent as an index.
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
            "started_us": _microseconds(self.started),
            "duration_us": _microseconds(self.duration),
            "depth": self.depth,
            "parent": parent_index,
            "parent_receiver": None if parent_index is None else self._parent_index,
            "muted": self.muted,
            "muted_receivers": list(self.muted_receivers),
            "exception_type": self.exception_type,
            "exception_message": self.exception_message,
            "receivers": [call.to_dict() for call in self._calls or ()]
            if (ran := self._ran) is None
            else self._ran_dicts(ran),
        }


class Recorder:
    """The sends seen by one :func:`record` block, in the order they started."""

    def __init__(self, *, keep_values: bool = False, max_sends: int | None = None):
        self.keep_values = keep_values
        self.max_sends = conf.RECORD_MAX_SENDS if max_sends is None else max_sends
        # Settings are read once per recording: a lookup on every send and
        # receiver call would cost more than the rest of the recording.
        self.summarizer = Summarizer(
            max_length=conf.SUMMARY_MAX_LENGTH, sensitive=conf.SENSITIVE_ARGS
        )
        self.sends: list[SendRecord] = []
        self.dropped = 0
        """Sends not kept because :attr:`max_sends` was reached."""
        self.started = _now()
        # next() on a count is atomic: threads sharing a recorder need no lock
        # to take the last free places.
        self._places = itertools.count()
        self._lock = threading.Lock()

    def to_dicts(self) -> list[dict[str, Any]]:
        """Every kept send as JSON-native data, parents given as indexes."""
        positions = {id(send): index for index, send in enumerate(self.sends)}
        return [send.to_dict(positions) for send in self.sends]

    def _accepts(self) -> bool:
        if next(self._places) < self.max_sends:
            return True
        with self._lock:
            self.dropped += 1
        return False


def _start_send(
    signal: DjangoSignal, method: str, sender: Any, named: dict[str, Any]
) -> SendRecord | None:
    """Record a send for the recorders of this context that have room for it."""
    recorders = _recorders.get()
    if not recorders:
        return None
    if len(recorders) == 1:
        if not recorders[0]._accepts():
            return None
    else:
        recorders = tuple(recorder for recorder in recorders if recorder._accepts())
        if not recorders:
            return None
    parent = _current_send.get()
    index = 0
    if parent is not None:
        responses = parent._responses
        call = _current_call.get()
        if responses is not None:
            index = len(responses)
        elif call is not None and call[0] is parent:
            index = call[1]
        else:
            parent = None
    record = SendRecord(recorders, signal, method, sender, named, parent, index)
    for recorder in recorders:
        recorder.sends.append(record)
    return record


def signal_label(signal: DjangoSignal) -> str:
    """The registry name of *signal*, or a description of an unregistered one."""
    name = registry.name_of(signal) or _unregistered_labels.get(id(signal))
    if name is not None:
        return name
    label = getattr(signal, "_label", None)
    if callable(label):
        return str(label())  # an unnamed signalkit.Signal: not for long
    cls = type(signal)
    label = f"<{cls.__module__}.{cls.__qualname__} at {id(signal):#x}>"
    return remember(_unregistered_labels, signal, label)


_unregistered_labels: dict[int, str] = {}


def _error_summary(error: BaseException, max_length: int) -> tuple[str, str]:
    """The exception's type name and its message, summarised without quotes."""
    message = summarize(str(error), max_length=max_length).strip("'\"")
    return type(error).__qualname__, message


def _outcome(
    summarizer: Summarizer, result: Any, error: BaseException | None
) -> tuple[str, str, str | None, str | None]:
    """Status, result summary, exception type and message of one receiver."""
    if error is not None:
        return ("error", "", *_error_summary(error, summarizer.max_length))
    status = getattr(type(result), "signalkit_status", None)
    if isinstance(status, str):
        return status, str(getattr(result, "signalkit_summary", "")), None, None
    return "ok", summarizer.summarize(result), None, None


def _kept_outcome(
    record: SendRecord, result: Any, error: BaseException | None
) -> tuple[str, str, str | None, str | None, Any, BaseException | None]:
    """:func:`_outcome`, plus the result and exception if the recording keeps them."""
    outcome = _outcome(record._recorders[0].summarizer, result, error)
    if not record._keep_values:
        return (*outcome, None, None)
    return (*outcome, None, error) if error else (*outcome, result, None)


class _SyncReceiver:
    """Times one sync receiver in a recorded send that Django's method runs
    (``asend()``, ``asend_robust()``, or a send to async receivers too)."""

    __slots__ = ("_record", "_signalkit_receiver")

    def __init__(self, receiver: Callable[..., Any], record: SendRecord) -> None:
        self._signalkit_receiver = receiver
        self._record = record

    def __getattr__(self, name: str) -> Any:
        # send_robust() logs receiver.__qualname__: answer as the receiver.
        return getattr(self._signalkit_receiver, name)

    def _start(self, is_async: bool) -> tuple[ReceiverCall, int]:
        record = self._record
        call = ReceiverCall(
            name=receiver_name(self._signalkit_receiver),
            is_async=is_async,
            started=_now() - record._recorders[0].started,
        )
        calls = record.receivers
        calls.append(call)
        return call, len(calls) - 1

    def _finish(
        self,
        call: ReceiverCall,
        started: float,
        result: Any = None,
        error: BaseException | None = None,
    ) -> None:
        call.duration = _now() - started
        (
            call.status,
            call.result_summary,
            call.exception_type,
            call.exception_message,
            call.result,
            call.exception,
        ) = _kept_outcome(self._record, result, error)

    def __call__(self, **kwargs: Any) -> Any:
        call, index = self._start(False)
        token = _current_call.set((self._record, index))
        started = _now()
        try:
            result = self._signalkit_receiver(**kwargs)
        except BaseException as error:
            self._finish(call, started, error=error)
            raise
        finally:
            _current_call.reset(token)
        self._finish(call, started, result=result)
        return result


class _AsyncReceiver(_SyncReceiver):
    """Times one async receiver during one recorded send."""

    __slots__ = ()

    async def __call__(self, **kwargs: Any) -> Any:
        call, index = self._start(True)
        # Django 6.1 runs concurrent async receivers in one shared context, so
        # restore the value this send started with rather than a token.
        outer = _current_call.get()
        _current_call.set((self._record, index))
        started = _now()
        try:
            result = await self._signalkit_receiver(**kwargs)
        except BaseException as error:
            self._finish(call, started, error=error)
            raise
        finally:
            _current_call.set(outer)
        self._finish(call, started, result=result)
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
    ours = record is not None and record._signal is self and not record._claimed
    if self in _muted.get():
        if ours:
            assert record is not None
            record._claimed = True
            record.muted = True
            record.muted_receivers = [
                receiver_name(r) for r in (*sync_receivers, *async_receivers)
            ]
        return [], []
    if not ours:
        return sync_receivers, async_receivers
    assert record is not None
    record._claimed = True
    if record._inline and not async_receivers:
        return sync_receivers, async_receivers  # _run_sync times them itself
    return (
        [_SyncReceiver(r, record) for r in sync_receivers],
        [_AsyncReceiver(r, record) for r in async_receivers],
    )


# Django keeps each connection as a tuple whose last item says whether the
# receiver is async.
_is_async = itemgetter(-1)


def _run_sync(
    self: DjangoSignal,
    method: str,
    sender: Any,
    named: dict[str, Any],
    record: SendRecord,
) -> list[tuple[Any, Any]]:
    """Django's ``send``/``send_robust`` for sync receivers, timing each one.

    Wrapping each receiver would cost more than most receivers do, so while
    recording, the loop of Django's sync send runs here, statement for
    statement (it is the same in every supported Django; tox runs Django's
    own dispatch tests against it). Async receivers need Django's own
    event-loop handling: when any is connected, Django's method runs the
    send, with each receiver wrapped by the patched ``_live_receivers``.
    """
    if any(map(_is_async, self.receivers)):
        return _unwrap(_original[method](self, sender, **named))
    record._inline = True
    sync_receivers, async_receivers = self._live_receivers(sender)
    if async_receivers:
        # Connected by another thread since the check above: Django calls
        # _live_receivers again, which now wraps them.
        record._inline = record._claimed = False
        return _unwrap(_original[method](self, sender, **named))
    responses: list[tuple[Any, Any]] = []
    stamps = [_now()]
    errors: dict[int, BaseException] = {}
    record._responses = responses
    try:
        if method == "send":
            for receiver in sync_receivers:
                response = receiver(signal=self, sender=sender, **named)
                stamps.append(_now())
                responses.append((receiver, response))
        else:
            for receiver in sync_receivers:
                try:
                    response = receiver(signal=self, sender=sender, **named)
                except Exception as err:
                    stamps.append(_now())
                    errors[len(responses)] = err
                    self._log_robust_failure(receiver, err)  # type: ignore[attr-defined]
                    responses.append((receiver, err))
                else:
                    stamps.append(_now())
                    responses.append((receiver, response))
    except BaseException as error:
        # The receiver at len(responses) raised (or logging its failure did).
        failed = len(responses)
        stamps.append(_now())
        errors[failed] = error
        raised = [(receiver, None) for receiver in sync_receivers[failed : failed + 1]]
        _keep_calls(record, responses + raised, stamps, errors)
        raise
    finally:
        record._responses = None
    _keep_calls(record, responses, stamps, errors)
    return responses


def _keep_calls(
    record: SendRecord,
    responses: list[tuple[Any, Any]],
    stamps: list[float],
    errors: dict[int, BaseException],
) -> None:
    """Keep names, times and outcomes of the receivers _run_sync ran.

    Plain results are kept as they are and summarised when read; any other
    result is summarised now, so that the recording keeps no object alive.
    """
    if errors:
        outcomes = [
            _kept_outcome(record, response, errors.get(index))
            for index, (_, response) in enumerate(responses)
        ]
    else:
        outcomes = [
            response
            if type(response) in PLAIN_TYPES
            else _kept_outcome(record, response, None)
            for _, response in responses
        ]
    names = [receiver_name(receiver) for receiver, _ in responses]
    record._ran = (names, stamps, outcomes)


def _end(
    record: SendRecord,
    token: Token[SendRecord | None] | None,
    error: BaseException | None,
) -> None:
    if token is not None:
        _current_send.reset(token)
    record.duration = _now() - record._recorders[0].started - record.started
    if error is not None:
        record.exception_type, record.exception_message = _error_summary(
            error, record._recorders[0].summarizer.max_length
        )


def _make_sync(method: str) -> Callable[..., list[tuple[Any, Any]]]:
    def patched(self: DjangoSignal, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        record = _start_send(self, method, sender, named)
        if record is None:
            return _original[method](self, sender, **named)  # type: ignore[no-any-return]
        if (
            not self.receivers
            or self.sender_receivers_cache.get(sender) is NO_RECEIVERS
        ):
            # Django returns at once: no receiver runs, so none can send.
            _end(record, None, None)
            return []
        token = _current_send.set(record)
        try:
            responses = _run_sync(self, method, sender, named, record)
        except BaseException as error:
            _end(record, token, error)
            raise
        _end(record, token, None)
        return responses

    patched.__name__ = patched.__qualname__ = method
    return patched


def _make_async(method: str) -> Callable[..., Awaitable[list[tuple[Any, Any]]]]:
    async def patched(
        self: DjangoSignal, sender: Any, **named: Any
    ) -> list[tuple[Any, Any]]:
        record = _start_send(self, method, sender, named)
        if record is None:
            return await _original[method](self, sender, **named)  # type: ignore[no-any-return]
        token = _current_send.set(record)
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
