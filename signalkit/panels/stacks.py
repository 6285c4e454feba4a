"""The send sites and stacks the panel shows, as the toolbar's SQL panel does.

A site is shown relative to the directory on ``sys.path`` it was imported
from (the project, or ``site-packages``), so no machine's paths appear. With
the toolbar's ``ENABLE_STACKTRACES`` on (its default), the panel records with
a :class:`StackRecorder`, which also keeps, for each send that runs a
receiver, the frames that led to its site, minus the modules in the
toolbar's ``HIDE_IN_STACKTRACES``. With it off, the panel records with a
plain :class:`~signalkit.recording.Recorder`: stacks cost nothing.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import CodeType, FrameType

import django
from debug_toolbar import settings as toolbar_settings

from signalkit.pipeline import Send, line_of, observing
from signalkit.recording import Recorder, SendRecord, record

__all__ = [
    "Frame",
    "StackRecorder",
    "frame_text",
    "panel_recording",
    "relative_path",
    "relative_site",
]

# A frame of a kept stack: its code and the offset of its last instruction
# (the line is worked out when the stack is stored, not while sending).
Frame = tuple[CodeType, int]

# Frames that can be suspended and resumed from elsewhere (generators,
# coroutines): what is above them may change while they live.
_SUSPENDABLE = (
    inspect.CO_GENERATOR
    | inspect.CO_COROUTINE
    | inspect.CO_ASYNC_GENERATOR
    | inspect.CO_ITERABLE_COROUTINE
)

# Frames below a send's site: the dispatch machinery (as for the site itself).
# signalkit's own directory, two up from this module.
_SIGNALKIT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_INTERNAL_DIRS = (
    os.path.dirname(str(django.__file__)) + os.sep,
    _SIGNALKIT_DIR,
    os.path.dirname(os.__file__) + os.sep + "asyncio" + os.sep,
    "<frozen ",
)


class StackRecorder(Recorder):
    """A recorder that also keeps the stack of each send it keeps.

    While sending, a stack is kept as a flat tuple of integers, the id of
    each frame's code object and the offset of its last instruction, the
    caller of the send first: integers hash at once, code objects do not
    (their hash reads their contents). :attr:`codes` holds every code object
    seen, so that no id is reused while the recording lives.
    """

    def __init__(self, *, fold_empty: bool, hidden: Sequence[str]) -> None:
        super().__init__(fold_empty=fold_empty)
        self.codes: dict[int, CodeType] = {}
        self._stacks: dict[int, tuple[int, ...]] = {}
        self._hidden = tuple(hidden)
        # Per code object's id: (below a send's site, shown in a stack).
        self._kinds: dict[int, tuple[bool, bool]] = {}
        # The first plain function's frame from the last full walk's site
        # up, and the stack above it.
        self._frame: FrameType | None = None
        self._above: tuple[int, ...] = ()

    def stack_key(self, record: SendRecord) -> tuple[int, ...] | None:
        """The stack of a kept send, as kept (equal for equal stacks)."""
        return self._stacks.get(id(record))

    def frames(self, key: tuple[int, ...]) -> list[Frame]:
        """The frames of a stack, from its :meth:`stack_key`."""
        codes = self.codes
        return [(codes[key[i]], key[i + 1]) for i in range(0, len(key), 2)]

    def _kind(self, frame: FrameType) -> tuple[bool, bool]:
        code = frame.f_code
        self.codes[id(code)] = code
        filename = code.co_filename
        module = frame.f_globals.get("__name__")
        hidden = isinstance(module, str) and any(
            module == name or module.startswith(name + ".") for name in self._hidden
        )
        # signalkit's frames are machinery, above the site too (the panel's
        # middleware hook).
        shown = not (hidden or filename.startswith(_SIGNALKIT_DIR))
        return filename.startswith(_INTERNAL_DIRS), shown

    def send_started(self, send: Send) -> SendRecord | None:
        record = super().send_started(send)
        if record is None or not record._kept:
            return record
        kinds = self._kinds
        stack: list[int] = []
        at_site = False
        remembered: FrameType | None = None
        above = 0
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            code = frame.f_code
            kind = kinds.get(id(code))
            if kind is None:
                kind = kinds[id(code)] = self._kind(frame)
            # Below the site (as the recording finds it) nothing is kept.
            at_site = at_site or not kind[0]
            if at_site:
                if kind[1]:
                    stack += id(code), frame.f_lasti
                if frame is self._frame:
                    stack += self._above
                    break
                if remembered is None and not code.co_flags & _SUSPENDABLE:
                    remembered, above = frame, len(stack)
            frame = frame.f_back
        else:
            # A plain function's frame stays on the stack from its call to its
            # return, and the frames above it stay where they are: the next
            # send made while it runs (a loop of sends) walks up to it only.
            # (The reference goes with the recording.)
            self._frame, self._above = remembered, tuple(stack[above:])
        self._stacks[id(record)] = tuple(stack)
        return record


@contextmanager
def panel_recording(*, fold_empty: bool) -> Iterator[Recorder]:
    """Record as the panel does: with stacks when the toolbar's
    ``ENABLE_STACKTRACES`` is on, hiding its ``HIDE_IN_STACKTRACES``."""
    config = toolbar_settings.get_config()
    if not config["ENABLE_STACKTRACES"]:
        with record(fold_empty=fold_empty) as recorder:
            yield recorder
        return
    recorder = StackRecorder(
        fold_empty=fold_empty, hidden=config["HIDE_IN_STACKTRACES"] or ()
    )
    with observing(recorder):
        yield recorder


_roots: list[tuple[str, str]] | None = None
_relative: dict[str, str] = {}


def _path_roots() -> list[tuple[str, str]]:
    """``sys.path`` directories, longest first, each with the prefix its
    files are shown under: none for the project, ``site-packages/``..."""
    global _roots
    if _roots is None:
        roots = []
        for entry in sys.path:
            directory = os.path.abspath(entry or os.curdir)
            base = os.path.basename(directory)
            prefix = f"{base}/" if base in ("site-packages", "dist-packages") else ""
            roots.append((directory + os.sep, prefix))
        _roots = sorted(set(roots), key=lambda root: -len(root[0]))
    return _roots


def relative_path(filename: str) -> str:
    """*filename* relative to the ``sys.path`` directory it lies under (the
    project's, or ``site-packages``); as it is when under none."""
    shown = _relative.get(filename)
    if shown is None:
        shown = filename
        for directory, prefix in _path_roots():
            if filename.startswith(directory):
                shown = prefix + filename[len(directory) :].replace(os.sep, "/")
                break
        _relative[filename] = shown
    return shown


def relative_site(site: str) -> str:
    """A recording's ``file:line`` site, with the file shown by
    :func:`relative_path`."""
    filename, colon, line = site.rpartition(":")
    if not colon or not line.isdigit():
        return site
    return f"{relative_path(filename)}:{line}"


def frame_text(frame: Frame) -> str:
    """``file:line in function`` of a kept frame. Not its source line: the
    store keeps no literal a line of code may hold (a test's password)."""
    code, offset = frame
    return (
        f"{relative_path(code.co_filename)}:{line_of(code, offset)} in {code.co_name}"
    )
