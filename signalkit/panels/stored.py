"""What the panel keeps of one request in the toolbar's store.

The toolbar serialises every panel's stats to JSON at once and keeps them
for each request of its history, so the panel keeps what its template needs
and nothing more. The format, built from a :class:`~signalkit.recording.Recorder`
by :func:`stored_stats`:

``names``
    Every string that repeats from send to send (signal names, sender
    labels, send sites, receiver names), once. The fields below that hold a
    name hold its index in this list.
``sends``
    The sends kept, in the order they started, each a :class:`StoredSend`.
    The toolbar's own sends are not among them (see ``toolbar``), except
    those a kept send's receiver made, kept in place and flagged.
``folded``
    ``[signal, sender, count]`` per signal and sender: sends that ran no
    receiver, counted by the recorder instead of kept.
``toolbar``
    ``[signal, sender, count, receivers run, microseconds in receivers,
    errors]`` per signal and sender: the toolbar's own sends (sent from
    ``debug_toolbar`` code, or run by ``debug_toolbar`` receivers only, and
    the sends their receivers made), counted apart.
``receiver_us``
    Microseconds spent in the project's receivers, each counted once (a
    receiver's time includes the receivers of the sends it made).
``stacks``
    With the toolbar's ``ENABLE_STACKTRACES``: each distinct stack of a kept
    send, its frames' ``file:line in function`` (names), the send's caller
    first. Sends refer to theirs by index.
``dropped`` and ``max_sends``
    Sends beyond the recorder's cap, and the cap.
"""

from __future__ import annotations

import os
from typing import Any, TypedDict

import debug_toolbar

from signalkit.panels.stacks import Frame, StackRecorder, frame_text, relative_site
from signalkit.recording import ReceiverCall, Recorder, SendRecord

__all__ = ["StoredCall", "StoredSend", "stored_stats", "toolbar_send"]

_TOOLBAR_DIR = os.path.dirname(debug_toolbar.__file__) + os.sep
_TOOLBAR_RECEIVER = "debug_toolbar."


class StoredCall(TypedDict, total=False):
    """One receiver that ran. Keys with their default value are left out."""

    n: int
    """Name (index in ``names``)."""
    t: int
    """Start, in microseconds since the recording started."""
    d: int
    """Duration, in microseconds."""
    s: str
    """Status, when not ``"ok"``: ``"error"``, ``"enqueued"``..."""
    r: str
    """Summary of the result, when not empty."""
    x: list[str]
    """``[exception type, message]`` when it raised."""
    a: int
    """``1`` for an async receiver."""


class StoredSend(TypedDict, total=False):
    """One send. Keys with their default value are left out."""

    g: int
    """Signal (index in ``names``)."""
    f: int
    """Sender label (index in ``names``)."""
    w: int
    """``file:line`` it was sent from, the file relative to its ``sys.path``
    directory (index in ``names``)."""
    k: int
    """Its stack (index in ``stacks``), when stacks are kept."""
    o: int
    """``1`` for the toolbar's own send made by a kept send's receiver."""
    t: int
    """Start, in microseconds since the recording started."""
    d: int
    """Duration, in microseconds."""
    m: str
    """Method, when not ``"send"``."""
    a: dict[str, str]
    """Argument summaries, sensitive ones masked, when there are any."""
    p: int
    """Index in ``sends`` of the send whose receiver made this one."""
    q: int
    """Index of that receiver among the receivers of send ``p``."""
    u: list[int]
    """Receivers that did not run because a mute stopped them (names)."""
    x: list[str]
    """``[exception type, message]`` when the send raised."""
    r: list[StoredCall]
    """The receivers that ran, in the order they started."""


def _us(seconds: float | None) -> int:
    return 0 if seconds is None else round(seconds * 1_000_000)


def toolbar_send(send: SendRecord) -> bool:
    """Whether *send* is the toolbar's own: sent from ``debug_toolbar`` code,
    or run by ``debug_toolbar`` receivers and no others."""
    if send.site.startswith(_TOOLBAR_DIR):
        return True
    calls = send.receivers
    return bool(calls) and all(
        call.name.startswith(_TOOLBAR_RECEIVER) for call in calls
    )


class _Names:
    def __init__(self) -> None:
        self.indexes: dict[str, int] = {}

    def __call__(self, name: str) -> int:
        index = self.indexes.get(name)
        if index is None:
            index = self.indexes[name] = len(self.indexes)
        return index


def _call(call: ReceiverCall, name: _Names) -> StoredCall:
    stored: StoredCall = {"n": name(call.name), "t": _us(call.started)}
    stored["d"] = _us(call.duration)
    if call.status != "ok":
        stored["s"] = call.status
    if call.result_summary:
        stored["r"] = call.result_summary
    if call.exception_type is not None:
        stored["x"] = [call.exception_type, call.exception_message or ""]
    if call.is_async:
        stored["a"] = 1
    return stored


def _maker(send: SendRecord) -> int | None:
    """The index, among its parent's receivers, of the receiver that made
    *send*; ``None`` if the recording does not know it (the send is then
    shown at the top level rather than under a wrong receiver)."""
    maker = send.parent_receiver
    calls = send.parent.receivers if send.parent is not None else []
    return next((i for i, call in enumerate(calls) if call is maker), None)


class _Stacks:
    """Distinct stacks, each stored once as frames named in ``names``."""

    def __init__(self, recorder: Recorder, name: _Names):
        self.recorder = recorder if isinstance(recorder, StackRecorder) else None
        self.name = name
        self.indexes: dict[tuple[int, ...], int] = {}
        self.stored: list[list[int]] = []
        self._frames: dict[Frame, int] = {}

    def __call__(self, send: SendRecord) -> int | None:
        recorder = self.recorder
        key = None if recorder is None else recorder.stack_key(send)
        if key is None:
            return None
        index = self.indexes.get(key)
        if index is None:
            assert recorder is not None
            index = self.indexes[key] = len(self.stored)
            self.stored.append(list(map(self._frame, recorder.frames(key))))
        return index

    def _frame(self, frame: Frame) -> int:
        stored = self._frames.get(frame)
        if stored is None:
            stored = self._frames[frame] = self.name(frame_text(frame))
        return stored


def _send(
    send: SendRecord,
    name: _Names,
    parent: int | None,
    stacks: _Stacks,
    site: dict[str, str],
) -> StoredSend:
    where = send.site
    shown = site.get(where)
    if shown is None:
        shown = site[where] = relative_site(where)
    stored: StoredSend = {
        "g": name(send.signal_name),
        "f": name(send.sender_label),
        "w": name(shown),
        "t": _us(send.started),
        "d": _us(send.duration),
    }
    if send.method != "send":
        stored["m"] = send.method
    if arguments := send.arguments:
        stored["a"] = dict(arguments)
    maker = None if parent is None else _maker(send)
    if parent is not None and maker is not None:
        stored["p"] = parent
        stored["q"] = maker
    if send.muted or send.muted_receivers:  # all receivers, or some
        stored["u"] = [name(receiver) for receiver in send.muted_receivers]
    if send.exception_type is not None:
        stored["x"] = [send.exception_type, send.exception_message or ""]
    stack = stacks(send)
    if stack is not None:
        stored["k"] = stack
    stored["r"] = [_call(call, name) for call in send.receivers]
    return stored


def _receiver_us(send: SendRecord) -> int:
    return sum(_us(call.duration) for call in send.receivers)


def _errors(send: SendRecord) -> int:
    """Exceptions raised in *send*: by its receivers, or by the send itself
    when none of them did (an exception a receiver raised passes through)."""
    raised = sum(call.status == "error" for call in send.receivers)
    return raised or int(send.exception_type is not None)


def stored_stats(recorder: Recorder) -> dict[str, Any]:
    """The panel's stats for the toolbar's store (see the module's docs)."""
    name = _Names()
    stacks = _Stacks(recorder, name)
    sites: dict[str, str] = {}
    kept: list[StoredSend] = []
    positions: dict[int, int] = {}  # id(send) -> its index in kept
    toolbar_ids: set[int] = set()
    toolbar: dict[tuple[int, int], list[int]] = {}
    # A receiver's time includes the receivers of the sends it made, so
    # totals count the receivers of sends no other counted send contains.
    receiver_us = 0
    for send in recorder.sends:
        parent = send.parent
        in_toolbar = parent is not None and id(parent) in toolbar_ids
        if in_toolbar or toolbar_send(send):
            toolbar_ids.add(id(send))
            key = (name(send.signal_name), name(send.sender_label))
            totals = toolbar.setdefault(key, [0, 0, 0, 0])
            totals[0] += 1
            totals[1] += len(send.receivers)
            totals[2] += 0 if in_toolbar else _receiver_us(send)
            totals[3] += _errors(send)
            index = None if parent is None else positions.get(id(parent))
            if in_toolbar or index is None:
                continue
            # Made by one of the project's receivers: shown under it, and
            # still counted as the toolbar's.
            positions[id(send)] = len(kept)
            stored = _send(send, name, index, stacks, sites)
            stored["o"] = 1
            kept.append(stored)
            continue
        if parent is None:
            receiver_us += _receiver_us(send)
        index = None if parent is None else positions.get(id(parent))
        positions[id(send)] = len(kept)
        kept.append(_send(send, name, index, stacks, sites))
    folded = [
        [name(signal), name(sender), count]
        for (signal, sender), count in recorder.folded.items()
    ]
    return {
        "names": list(name.indexes),
        "sends": kept,
        "folded": folded,
        "toolbar": [[*key, *totals] for key, totals in toolbar.items()],
        "receiver_us": receiver_us,
        "stacks": stacks.stored,
        "dropped": recorder.dropped,
        "max_sends": recorder.max_sends,
    }
