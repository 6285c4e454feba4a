"""Recording of signal sends: ``signalkit.record()``.

The recorder is an observer of :mod:`signalkit.pipeline`, active in the
current thread or asyncio context. Each send it keeps is a
:class:`SendRecord`, with a :class:`ReceiverCall` per receiver that ran; a
recording keeps summaries, not the objects themselves, unless it is asked
to keep values (tests). :meth:`Recorder.to_dicts` is the one place that
turns them into JSON-native data.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from types import CodeType, MappingProxyType, TracebackType
from typing import Any, cast

from django.dispatch import Signal as DjangoSignal

from signalkit.conf import conf
from signalkit.naming import receiver_names
from signalkit.pipeline import (
    Observer,
    Send,
    SendObserver,
    is_patched,
    line_of,
    muting,
    observing,
    signal_label,
)
from signalkit.summaries import PLAIN_TYPES, Summarizer, error_summary, safe_text

__all__ = [
    "ReceiverCall",
    "Recorder",
    "SendRecord",
    "is_patched",
    "muting",
    "record",
    "signal_label",
]

_now_ns = time.perf_counter_ns


def _microseconds(nanoseconds: int | None) -> int | None:
    # Whole microseconds: JSON encodes integers far faster than floats, and
    # the toolbar's store encodes every request's sends.
    return None if nanoseconds is None else (nanoseconds + 500) // 1000


def _seconds(nanoseconds: int | None) -> float | None:
    return None if nanoseconds is None else nanoseconds / 1e9


_UNSET: Any = object()


class ReceiverCall:
    """One receiver that ran during a recorded send.

    Built when a recording is read, from what the send kept of its receivers
    in slots of a few lists; nothing is built per receiver while it runs.
    """

    __slots__ = (
        "_index",
        "_plain",
        "_result_summary",
        "_summarizer",
        "duration_ns",
        "exception",
        "exception_message",
        "exception_type",
        "is_async",
        "name",
        "result",
        "started_ns",
        "status",
    )

    name: str
    """``module.qualname`` of the receiver."""
    is_async: bool
    started_ns: int
    """Nanoseconds since the recording started."""
    duration_ns: int | None
    """Nanoseconds it took; ``None`` if it never returned or raised."""
    status: str
    """``"ok"``, ``"error"``, or a status its result reports, such as
    ``"enqueued"`` for a background receiver."""
    exception_type: str | None
    exception_message: str | None
    result: Any
    """The return value, kept only by recorders with ``keep_values=True``."""
    exception: BaseException | None
    """The exception, kept only by recorders with ``keep_values=True``."""
    # A plain result, summarised by _summarizer when first read.
    _plain: Any
    _summarizer: Summarizer
    _result_summary: str
    # The receiver's place in Django's responses.
    _index: int

    def __init__(self, name: str, is_async: bool, started_ns: int) -> None:
        self.name = name
        self.is_async = is_async
        self.started_ns = started_ns
        self.duration_ns = None
        self.status = "ok"
        self._result_summary = ""
        self.exception_type = self.exception_message = None
        self.result = self.exception = None
        self._plain = _UNSET
        self._index = 0

    @property
    def result_summary(self) -> str:
        """A short, safe description of the return value."""
        if self._plain is not _UNSET:
            self._result_summary = self._summarizer.summarize(self._plain)
            self._plain = _UNSET
        return self._result_summary

    @property
    def started(self) -> float:
        """Seconds since the recording started."""
        return self.started_ns / 1e9

    @property
    def duration(self) -> float | None:
        """Seconds it took; ``None`` if it never returned or raised."""
        return _seconds(self.duration_ns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-native data only (times in whole microseconds)."""
        return {
            "name": self.name,
            "is_async": self.is_async,
            "started_us": _microseconds(self.started_ns),
            "duration_us": _microseconds(self.duration_ns),
            "status": self.status,
            "result": self.result_summary,
            "exception_type": self.exception_type,
            "exception_message": self.exception_message,
        }


# What a recording keeps of a receiver's outcome: its status, result summary,
# exception type and message.
_Outcome = tuple[str, str, str | None, str | None]


def _outcome(
    summarizer: Summarizer, result: Any, error: BaseException | None
) -> _Outcome:
    """Status, result summary, exception type and message of one receiver."""
    if error is not None:
        return ("error", "", *error_summary(error, summarizer.max_length))
    try:
        status = getattr(type(result), "signalkit_status", None)
    except Exception:  # a metaclass's __getattr__ may raise anything
        status = None
    if isinstance(status, str):
        summary = safe_text(
            lambda: str(getattr(result, "signalkit_summary", "")), type(result)
        )
        return status, summary, None, None
    return "ok", summarizer.summarize(result), None, None


class SendRecord(SendObserver):
    """One send of a signal, with the receivers that ran."""

    per_receiver = False  # what the receivers did is read in send_finished

    method: str
    """``"send"``, ``"send_robust"``, ``"asend"`` or ``"asend_robust"``."""
    depth: int = 0
    """How many sends this one is nested in (recorded or not)."""
    parent: SendRecord | None = None
    """The recorded send whose receiver made this send, if any."""
    muted: bool = False
    """Whether a mute stopped the receivers of this send."""
    muted_receivers: Sequence[str] = ()
    """Names of the receivers the mute stopped."""
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
    _duration_ns: int | None = None
    _signal_name: str | None = None
    _sender_label: str | None = None
    _arguments: dict[str, str] | None = None
    _sender: Any = None
    _named: dict[str, Any] | None = None
    _site: tuple[CodeType, int] | None = None
    # What the receivers did, in slots of lists indexed by their place in
    # Django's responses (see Send): set when the send finishes.
    _names: Sequence[str] = ()
    _sync_count = 0
    _started: Sequence[int | None] = ()
    _ended: Sequence[int | None] = ()
    # Plain results as they are, when every result is plain; otherwise an
    # _Outcome for each receiver.
    _plain_results: Sequence[Any] | None = None
    _outcomes: Sequence[_Outcome] = ()
    _values: tuple[Sequence[Any], Mapping[int, BaseException]] | None = None
    _calls: list[ReceiverCall] | None = None

    def __init__(
        self, recorder: Recorder, send: Send, parent: SendRecord | None, kept: bool
    ) -> None:
        self._recorder = recorder
        self._kept = kept
        # Signals live for the whole process: holding one changes nothing.
        self._signal = send.signal
        self.method = send.method
        if send.muted:
            self.muted = True
        self._started_ns = send.started_ns
        self._site = send.site_offset()
        # Until it finishes.
        self._send: Send | None = send
        sender, named = send.sender, send.named
        # Values of the plain types are summarised only when read: holding
        # them changes no object's lifetime. Anything else is summarised now.
        summarizer = recorder.summarizer
        if type(sender) in PLAIN_TYPES:
            self._sender = sender
        else:
            self._sender_label = summarizer.summarize(sender)
        if named:
            if PLAIN_TYPES.issuperset(map(type, named.values())):
                self._named = named
            else:
                self._arguments = summarizer.summarize_arguments(named)
        else:
            self._arguments = {}
        if parent is not None:
            self.parent, self._parent_index = parent, send.parent_index
        if send.parent is not None:
            self.depth = send.depth
        if recorder.keep_values:
            self.signal, self.sender, self.kwargs = send.signal, sender, dict(named)

    # Events from the pipeline.

    def send_finished(self, error: BaseException | None) -> None:
        recorder = self._recorder
        self._duration_ns = _now_ns() - self._started_ns
        send, self._send = self._send, None
        assert send is not None
        if send.muted_receivers:
            self.muted_receivers = list(send.muted_receivers)
        receivers = send.receivers
        if receivers:
            # Names, stamps and outcomes: nothing that keeps a receiver or a
            # result alive (unless the recording keeps values).
            # Remembered per real receiver, also under sentry-sdk's wrappers.
            self._names = receiver_names(receivers)
            self._sync_count = send.sync_count
            self._started = send.receiver_started_ns
            self._ended = send.receiver_ended_ns
            results, errors = send.results, send.errors
            if not errors and PLAIN_TYPES.issuperset(map(type, results)):
                # Immutable and not weakly referenceable: holding them changes
                # nothing, and most results are never read.
                self._plain_results = results
            else:
                summarizer = recorder.summarizer
                self._outcomes = [
                    _outcome(summarizer, result, errors.get(index))
                    for index, result in enumerate(results)
                ]
            if recorder.keep_values:
                self._values = (results, dict(errors))
        if error is not None:
            self.exception_type, self.exception_message = error_summary(
                error, recorder.summarizer.max_length
            )
        if self.muted or (self._kept and not recorder.fold_empty):
            return
        recorder._finished(self)

    # What the recording shows.

    @property
    def started(self) -> float:
        """Seconds since the recording started."""
        return (self._started_ns - self._recorder._started_ns) / 1e9

    @property
    def duration(self) -> float | None:
        """Seconds the send took; ``None`` while it runs."""
        return _seconds(self._duration_ns)

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
            self._sender_label = self._recorder.summarizer.summarize(self._sender)
        return self._sender_label

    @property
    def arguments(self) -> dict[str, str]:
        """Summaries of the keyword arguments, sensitive ones masked."""
        if self._arguments is None:
            assert self._named is not None
            self._arguments = self._recorder.summarizer.summarize_arguments(self._named)
        return self._arguments

    @property
    def site(self) -> str:
        """``file:line`` of the first frame outside Django and signalkit."""
        if self._site is None:
            return "<unknown>"
        code, offset = self._site
        return f"{code.co_filename}:{line_of(code, offset)}"

    @property
    def receivers(self) -> list[ReceiverCall]:
        """The receivers that ran, in the order they started (empty while the
        send runs)."""
        if self._send is not None:
            return []  # known when the send finishes
        calls = self._calls
        if calls is None:
            # Two threads reading at once may each build the list; both
            # lists are equal, and one of them is kept.
            calls = self._calls = self._build_calls()
        return calls

    def _build_calls(self) -> list[ReceiverCall]:
        recorder = self._recorder
        offset = recorder._started_ns
        summarizer = recorder.summarizer
        started, ended = self._started, self._ended
        plain, outcomes = self._plain_results, self._outcomes
        ran = [index for index, stamp in enumerate(started) if stamp is not None]
        if self._sync_count < len(self._names):
            # Async receivers (and, in asend(), sync ones beside them) run
            # concurrently.
            ran.sort(key=lambda index: started[index])  # type: ignore[arg-type,return-value]
        calls = []
        for index in ran:
            start = cast(int, started[index])
            call = ReceiverCall(
                self._names[index], index >= self._sync_count, start - offset
            )
            call._index = index
            end = ended[index]
            call.duration_ns = None if end is None else end - start
            if plain is not None:
                call._plain = plain[index]
                call._summarizer = summarizer
            else:
                (
                    call.status,
                    call._result_summary,
                    call.exception_type,
                    call.exception_message,
                ) = outcomes[index]
            if self._values is not None:
                results, errors = self._values
                call.exception = errors.get(index)
                call.result = None if call.exception is not None else results[index]
            calls.append(call)
        return calls

    @property
    def parent_receiver(self) -> ReceiverCall | None:
        """The receiver that made this send, if any."""
        parent = self.parent
        if parent is None:
            return None
        return next(
            (c for c in parent.receivers if c._index == self._parent_index), None
        )

    def to_dict(self, positions: dict[int, int] | None = None) -> dict[str, Any]:
        """JSON-native data only, as stored by the debug toolbar.

        Times are whole microseconds since the recording started
        (``started_us``, ``duration_us``). *positions* maps ``id(send)`` to
        its index in a recorder's :attr:`~Recorder.sends`, to express the
        parent as an index; ``parent_receiver`` is the index of the parent's
        receiver in the parent's ``receivers``.
        """
        parent = self.parent
        parent_index = (
            None if parent is None or positions is None else positions.get(id(parent))
        )
        parent_receiver = None
        if parent is not None and parent_index is not None:
            parent_receiver = next(
                (
                    position
                    for position, call in enumerate(parent.receivers)
                    if call._index == self._parent_index
                ),
                None,
            )
        return {
            "signal": self.signal_name,
            "method": self.method,
            "sender": self.sender_label,
            "arguments": dict(self.arguments),
            "site": self.site,
            "started_us": _microseconds(self._started_ns - self._recorder._started_ns),
            "duration_us": _microseconds(self._duration_ns),
            "depth": self.depth,
            "parent": parent_index,
            "parent_receiver": parent_receiver,
            "muted": self.muted,
            "muted_receivers": list(self.muted_receivers),
            "exception_type": self.exception_type,
            "exception_message": self.exception_message,
            "receivers": [call.to_dict() for call in self.receivers],
        }


class Recorder(Observer):
    """The sends seen by one :func:`record` block, in the order they started."""

    def __init__(
        self,
        *,
        keep_values: bool = False,
        max_sends: int | None = None,
        fold_empty: bool = False,
    ) -> None:
        self.keep_values = keep_values
        self.max_sends = conf.RECORD_MAX_SENDS if max_sends is None else max_sends
        self.fold_empty = fold_empty
        # Settings are read once per recording: a lookup on every send and
        # receiver call would cost more than the rest of the recording.
        self.summarizer = Summarizer(
            max_length=conf.SUMMARY_MAX_LENGTH, sensitive=conf.SENSITIVE_ARGS
        )
        self.sends: list[SendRecord] = []
        self.dropped = 0
        """Sends not kept because :attr:`max_sends` was reached."""
        # Folded sends: those Django returned from at once, by signal and
        # sender (a count each), and those whose receivers were all dead, by
        # name.
        self._unheard: dict[
            tuple[DjangoSignal, type | None, Any], itertools.count[int]
        ] = {}
        self._folded: dict[tuple[str, str], int] = {}
        self._started_ns = _now_ns()
        self.started = self._started_ns / 1e9
        """``time.perf_counter()`` when the recording started."""
        self._kept = 0
        self._places = itertools.count()
        self._lock = threading.Lock()

    def to_dicts(self) -> list[dict[str, Any]]:
        """Every kept send as JSON-native data, parents given as indexes."""
        sends = list(self.sends)
        positions = {id(send): index for index, send in enumerate(sends)}
        return [send.to_dict(positions) for send in sends]

    def _take_place(self) -> bool:
        # With folding, a place is given back when a kept send turns out to
        # have run no receiver.
        with self._lock:
            if self._kept < self.max_sends:
                self._kept += 1
                return True
        return False

    def send_unheard(self, signal: DjangoSignal, sender: Any) -> bool:
        if not self.fold_empty:
            return False
        # Plain senders are kept as they are, with their type (1, 1.0 and
        # True are equal keys, with different labels); anything else is
        # summarised now. Signal names are looked up when folded is read.
        sender_type = type(sender)
        key: tuple[DjangoSignal, type | None, Any]
        if sender_type in PLAIN_TYPES:
            key = (signal, sender_type, sender)
        else:
            key = (signal, None, self.summarizer.summarize(sender))
        counter = self._unheard.get(key)
        if counter is None:
            counter = self._unheard.setdefault(key, itertools.count())
        # Under the GIL, next() on a count is atomic, and so is setdefault()
        # with these keys: two threads counting at once lose no send.
        next(counter)
        return True

    def send_started(self, send: Send) -> SendRecord | None:
        if not self.fold_empty:
            # next() on a count is atomic: no lock needed without folding,
            # where a place is never given back.
            kept = next(self._places) < self.max_sends
            if not kept:
                with self._lock:
                    self.dropped += 1
                return None
        else:
            kept = self._take_place()
        parent = None
        if send.parent is not None:
            # Our record of the parent send, if we recorded and kept it.
            parent = next(
                (
                    cast(SendRecord, record)
                    for observer, record in send.parent.observed
                    if observer is self and cast(SendRecord, record)._kept
                ),
                None,
            )
        record = SendRecord(self, send, parent, kept)
        if kept:
            self.sends.append(record)
        return record

    @property
    def folded(self) -> dict[tuple[str, str], int]:
        """With ``fold_empty``: how many sends ran no receiver, by
        ``(signal name, sender label)``."""
        with self._lock:
            folded = dict(self._folded)
        for (signal, plain_type, label), counter in list(self._unheard.items()):
            # repr() of a count shows its next value: how often next() ran.
            count = int(repr(counter)[6:-1])
            if plain_type is not None:
                label = self.summarizer.summarize(label)
            key = (signal_label(signal), label)
            folded[key] = folded.get(key, 0) + count
        return folded

    def _finished(self, record: SendRecord) -> None:
        # A send that is not muted, and was not kept or is folded.
        if self.fold_empty and not record._names:
            key = (record.signal_name, record.sender_label)
            with self._lock:
                self._folded[key] = self._folded.get(key, 0) + 1
                if record._kept:
                    self._kept -= 1
            if record._kept:
                record._kept = False
                sends = self.sends
                if sends and sends[-1] is record:
                    sends.pop()
                else:
                    sends.remove(record)
        elif not record._kept:
            with self._lock:
                self.dropped += 1


def record(
    *, keep_values: bool = False, max_sends: int | None = None, fold_empty: bool = False
) -> AbstractContextManager[Recorder]:
    """Record every signal sent in the current thread or asyncio context.

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
    :param fold_empty: count the sends that ran no receiver in
        :attr:`~Recorder.folded` instead of keeping them (muted sends are
        kept); they count toward neither *max_sends* nor ``dropped``.
    """
    return _Recording(keep_values, max_sends, fold_empty)


class _Recording(AbstractContextManager[Recorder]):
    # One record() block: a class, not a generator, as the panel enters one
    # per request. The Recorder is made on entering, as the block starts.

    __slots__ = ("_block", "_options")

    def __init__(
        self, keep_values: bool, max_sends: int | None, fold_empty: bool
    ) -> None:
        self._options = (keep_values, max_sends, fold_empty)

    def __enter__(self) -> Recorder:
        keep_values, max_sends, fold_empty = self._options
        recorder = Recorder(
            keep_values=keep_values, max_sends=max_sends, fold_empty=fold_empty
        )
        self._block = observing(recorder)
        self._block.__enter__()
        return recorder

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._block.__exit__(exc_type, exc, traceback)
