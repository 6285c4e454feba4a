"""The record of one send: :class:`Send`, its site and label, and which
send's receiver runs in each thread or asyncio task (to nest sends)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from types import CodeType, FrameType, MappingProxyType
from typing import TYPE_CHECKING, Any

import django
from django.dispatch import Signal as DjangoSignal

from signalkit.naming import remember
from signalkit.registry import registry

if TYPE_CHECKING:
    from signalkit.pipeline.observers import Observer, SendObserver

# Frames in these directories are not a send's "site".
_INTERNAL_DIRS = (
    *(
        os.path.dirname(module.__file__) + os.sep
        for module in (django, asyncio)
        if module.__file__
    ),
    str(Path(__file__).resolve().parents[1]) + os.sep,  # signalkit
)


_internal_files: dict[str, bool] = {}


def _is_internal(filename: str) -> bool:
    # Called for a file not yet in _internal_files.
    skip = _internal_files[filename] = (
        filename.startswith(_INTERNAL_DIRS) or "asgiref" in filename
    )
    return skip


def line_of(code: CodeType, offset: int) -> int:
    """The line of the instruction at byte *offset* of *code* (as in
    :meth:`Send.site_offset`); past its end, the last line."""
    line = code.co_firstlineno
    for start, end, number in code.co_lines():
        if number is not None:
            line = number
        if start <= offset < end:
            break
    return line


def signal_label(signal: DjangoSignal) -> str:
    """The registry name of *signal*, or a description of an unregistered one."""
    name = registry.label(signal) or _unregistered_labels.get(id(signal))
    if name is not None:
        return name
    cls = type(signal)
    label = f"<{cls.__module__}.{cls.__qualname__} at {id(signal):#x}>"
    return remember(_unregistered_labels, signal, label)


_unregistered_labels: dict[int, str] = {}


class Send:
    """One send of a signal, as the pipeline hands it to observers.

    It holds the signal, sender, arguments and receivers only while the send
    runs: an observer that keeps anything after
    :meth:`SendObserver.send_finished` must copy or summarise it.

    What the receivers did is in lists indexed by the receiver's place in
    Django's responses (sync receivers first, then async ones), complete in
    :meth:`SendObserver.send_finished`: :attr:`receivers`,
    :attr:`receiver_started_ns`, :attr:`receiver_ended_ns`, :attr:`results`
    and :attr:`errors`.
    """

    # No __slots__: what most sends never set stays a class attribute, so
    # that a send sets only what varies.

    signal: DjangoSignal
    method: str
    """``"send"``, ``"send_robust"``, ``"asend"`` or ``"asend_robust"``."""
    sender: Any
    named: dict[str, Any]
    """The keyword arguments of the send."""
    started_ns: int
    """``time.perf_counter_ns()`` when the send started."""
    parent: Send | None = None
    """The send whose receiver made this send, in this thread or task."""
    parent_index: int = 0
    """The index of that receiver in the parent's responses."""
    muted: bool
    """Whether a mute stops this send's receivers from running."""
    muted_receivers: Sequence[str] = ()
    """Names of the receivers a mute stopped."""
    skipped: frozenset[Hashable] | None = None
    """The ``_make_id()`` keys of the receivers a mute of some receivers
    stops (:attr:`muted` is then false: the others run)."""
    observed: tuple[tuple[Observer, SendObserver], ...] = ()
    per_receiver: tuple[tuple[Observer, SendObserver], ...] = ()
    """The pairs of :attr:`observed` that get the events of each receiver."""
    receivers: Sequence[Callable[..., Any]] = ()
    """The live receivers found for the send, sync ones first (under
    sentry-sdk they may be its per-send wrappers:
    :func:`signalkit.naming.receiver_name` names the real receiver)."""
    sync_count: int = 0
    """How many of :attr:`receivers` are sync; the rest are async."""
    receiver_started_ns: Sequence[int | None] = ()
    """``perf_counter_ns()`` when each receiver started; ``None`` for one
    that never ran because an earlier one raised."""
    receiver_ended_ns: Sequence[int | None] = ()
    """``perf_counter_ns()`` when each receiver returned or raised."""
    results: Sequence[Any] = ()
    """What each receiver returned (``send_robust()``: or the exception)."""
    errors: Mapping[int, BaseException] = MappingProxyType({})
    """The exception each receiver that raised raised, by index."""
    wrapped = False
    """Whether our ``_live_receivers`` wrapped the receivers of this send
    (for Django's own method to run them)."""
    _responses: list[tuple[Any, Any]] | None = None
    _code: CodeType | None = None
    _lasti = 0
    _released = False

    def __init__(
        self,
        signal: DjangoSignal,
        method: str,
        sender: Any,
        named: dict[str, Any],
        muted: bool,
        frame: FrameType | None,
    ) -> None:
        self.signal = signal
        self.method = method
        self.sender = sender
        self.named = named
        self.muted = muted
        self._frame = frame
        # here(), written out: a send is made often.
        loop = _get_running_loop()
        key = self._key = (
            _get_ident() if loop is None else (_current_task(loop) or _get_ident())
        )
        outer = running.get(key)
        if outer is not None:
            parent, index = outer
            self.parent = parent
            # None: the pipeline's own loop runs the parent's receivers, and
            # the one running is the next to respond.
            self.parent_index = len(parent._responses or ()) if index is None else index
        self.started_ns = now_ns()

    @property
    def signal_name(self) -> str:
        """The registry name of the signal, or a label for an unregistered one."""
        return signal_label(self.signal)

    @property
    def depth(self) -> int:
        """How many sends this one is nested in."""
        depth, parent = 0, self.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        return depth

    def keep_site(self) -> tuple[CodeType, int] | None:
        """Where the send was made, as a code object and a line number.

        Observers that want the site after the send call this in
        :meth:`Observer.send_started` (or :meth:`site_offset`) and format it
        when read (see :attr:`site`); no frame is kept.
        """
        site = self.site_offset()
        return None if site is None else (site[0], line_of(*site))

    def site_offset(self) -> tuple[CodeType, int] | None:
        """:meth:`keep_site` with the instruction's byte offset for a line.

        Cheaper: the line number is worked out from the offset when read
        (:func:`line_of`), not while the send runs.
        """
        frame = self._frame
        if frame is not None:
            self._frame = None
            internal = _internal_files
            while frame is not None:
                code = frame.f_code
                skip = internal.get(code.co_filename)
                if skip is None:
                    skip = _is_internal(code.co_filename)
                if not skip:
                    self._code, self._lasti = code, frame.f_lasti
                    break
                frame = frame.f_back
        return None if self._code is None else (self._code, self._lasti)

    @property
    def site(self) -> str:
        """``file:line`` of the first frame outside Django and signalkit."""
        site = self.keep_site()
        return "<unknown>" if site is None else f"{site[0].co_filename}:{site[1]}"

    def _release(self) -> None:
        # Nothing of the send outlives it here (observers copy what they keep).
        # Flagged first: a receiver still running in another thread or task
        # (Django 5.2's asend() after a failure) reads the flag after taking
        # the lists, and writes nothing once it is set.
        self._released = True
        self.sender = self.named = self._frame = None  # type: ignore[assignment]
        self.receivers = self.results = ()
        self.errors = _NO_ERRORS
        self._responses = None


_NO_ERRORS: Mapping[int, BaseException] = MappingProxyType({})


# What runs where: the send and receiver index of the receiver running in
# each asyncio task, or (outside an event loop) each thread. Django 6.1 runs
# the async receivers of one send concurrently in one shared context, so a
# context variable could not tell them apart. An index of None: the
# pipeline's loop runs that send's receivers one after another.
running: dict[object, tuple[Send, int | None]] = {}


_get_running_loop = asyncio._get_running_loop


_current_task = asyncio.current_task


_get_ident = threading.get_ident


now_ns = time.perf_counter_ns


def here() -> object:
    # The asyncio task, or the thread outside a loop (or in a loop callback).
    loop = _get_running_loop()
    return _get_ident() if loop is None else (_current_task(loop) or _get_ident())


def running_sends() -> list[Send]:
    """The sends whose receivers run now, in any thread or task (for tests:
    empty once every send has returned)."""
    return [send for send, _ in list(running.values())]
