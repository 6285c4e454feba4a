"""What the panel's template shows, worked out from the stored stats alone.

When the toolbar renders a panel from its store there is no request and no
recorder, so everything here reads the stats :mod:`signalkit.panels.stored`
made (and the registry, which describes the project, not the request).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

__all__ = [
    "Bar",
    "CallView",
    "SendView",
    "milliseconds",
    "panel_context",
    "project_figures",
    "receiver_count",
    "send_count",
]

# How many receivers the overview names as the slowest of the request.
SLOWEST = 5
# Rows of the timeline that fit "a screen or two" of the toolbar's panel: a
# request whose sends take no more are shown with every send open; beyond,
# the first sends that fit are open, the others closed (each closed one's
# summary still names its receivers).
OPEN_ROWS = 60
# The narrowest bar drawn, in percent of the timeline, so that a receiver
# that took no measurable time still shows where it ran.
MIN_BAR_WIDTH = 0.3


def milliseconds(microseconds: int) -> str:
    """A duration as the panel writes it everywhere: ``"0.02"`` (ms)."""
    return f"{microseconds / 1000:.2f}"


@dataclass(frozen=True)
class Bar:
    """A timeline bar: start offset and width, in percent of the timeline."""

    x: str
    width: str

    @classmethod
    def of(cls, start_us: int, duration_us: int, span_us: int) -> Bar:
        scale = 100 / span_us if span_us > 0 else 0.0
        # A bar that starts at the very end still needs room to be drawn.
        x = min(start_us * scale, 100.0 - MIN_BAR_WIDTH)
        width = min(max(duration_us * scale, MIN_BAR_WIDTH), 100.0 - x)
        return cls(f"{x:.2f}", f"{width:.2f}")


@dataclass
class CallView:
    """One receiver that ran, as the template shows it."""

    name: str
    is_async: bool
    status: str
    result: str
    exception: str
    duration_us: int
    ms: str
    bar: Bar
    start_us: int = 0
    repeats: int = 1
    """How many times a receiver of this name ran in this send."""
    propagated: bool = False
    """Its exception came from a send it made, where it is counted."""
    sends: list[SendView] = field(default_factory=list)
    """The sends this receiver made."""

    @property
    def short_name(self) -> str:
        return self.name.rpartition(".")[2]


@dataclass
class SendView:
    """One kept send, as the template shows it."""

    number: int
    signal: str
    method: str
    sender: str
    site: str
    arguments: dict[str, str]
    depth: int
    ms: str
    bar: Bar
    muted: list[str] | None
    exception: str
    calls: list[CallView]
    parent_number: int | None
    start_us: int = 0
    duration_us: int = 0
    toolbar: bool = False
    """The toolbar's own send, made by a project's receiver."""
    stack: int | None = None
    """Index of its stack in the panel's stacks."""
    errors: int = 0
    """Exceptions raised here (not those that passed through)."""
    propagated: bool = False
    """Its exception was raised by one of its receivers (counted there)."""
    is_open: bool = True

    @property
    def receiver_us(self) -> int:
        """Microseconds summed over its receivers."""
        return sum(call.duration_us for call in self.calls)

    @property
    def receiver_ms(self) -> str:
        return milliseconds(self.receiver_us)

    @cached_property
    def concurrent(self) -> bool:
        """Whether its receivers ran at the same time (``asend()``), so that
        their summed time exceeds what the send took."""
        return _overlap((call.start_us, call.duration_us) for call in self.calls)

    @property
    def failed(self) -> bool:
        """Whether anything raised in it, here or passing through."""
        return bool(self.errors or self.exception) or any(
            call.status == "error" for call in self.calls
        )

    @property
    def receiver_names(self) -> str:
        """Its receivers' short names, for the summary line of a closed send."""
        return ", ".join(call.short_name for call in self.calls)

    def rows(self) -> int:
        """Timeline rows it takes when open, with the sends in it."""
        return 2 + sum(
            1 + sum(send.rows() for send in call.sends) for call in self.calls
        )


def _overlap(spans: Iterable[tuple[int, int]]) -> bool:
    """Whether any two of the (start, duration) *spans* overlap."""
    end = None
    for start, duration in sorted(spans):
        # One microsecond of slack: starts and durations are rounded apart.
        if end is not None and start < end - 1:
            return True
        end = max(end or 0, start + duration)
    return False


def _exception(stored: dict[str, Any]) -> str:
    raised = stored.get("x")
    return "" if raised is None else f"{raised[0]}: {raised[1]}"


def timeline(sends: list[dict[str, Any]]) -> tuple[int, int]:
    """Start and length of the timeline, in microseconds: from the start of
    the first kept send to the end of the last one to end, as the SQL panel
    draws its queries."""
    if not sends:
        return 0, 0
    start = sends[0]["t"]
    return start, max(send["t"] + send["d"] for send in sends) - start


def _calls(
    send: dict[str, Any], names: list[str], origin: int, span: int
) -> list[CallView]:
    calls = [
        CallView(
            name=names[call["n"]],
            is_async=bool(call.get("a")),
            status=call.get("s", "ok"),
            result=call.get("r", ""),
            exception=_exception(call),
            duration_us=call["d"],
            ms=milliseconds(call["d"]),
            bar=Bar.of(call["t"] - origin, call["d"], span),
            start_us=call["t"],
        )
        for call in send["r"]
    ]
    if len({call.name for call in calls}) < len(calls):  # rare: count them
        runs = Counter(call.name for call in calls)
        for call in calls:
            call.repeats = runs[call.name]
    return calls


def _count_errors(views: list[SendView]) -> None:
    """Count each exception once, where it was raised: a receiver's
    exception that a send it made raised first passed through it, and so
    did a send's exception that one of its receivers raised."""
    for view in views:
        for call in view.calls:
            call.propagated = call.status == "error" and any(
                send.exception == call.exception for send in call.sends
            )
    for view in views:
        raised = [call for call in view.calls if call.status == "error"]
        view.propagated = bool(view.exception) and any(
            call.exception == view.exception for call in raised
        )
        view.errors = sum(not call.propagated for call in raised) + (
            bool(view.exception) and not view.propagated
        )


def _views(stats: dict[str, Any]) -> list[SendView]:
    names: list[str] = stats["names"]
    origin, span = timeline(stats["sends"])
    views: list[SendView] = []
    for number, send in enumerate(stats["sends"], start=1):
        parent = send.get("p")
        muted = send.get("u")
        view = SendView(
            number=number,
            signal=names[send["g"]],
            method=send.get("m", "send"),
            sender=names[send["f"]],
            site=names[send["w"]],
            arguments=send.get("a", {}),
            depth=0 if parent is None else views[parent].depth + 1,
            ms=milliseconds(send["d"]),
            bar=Bar.of(send["t"] - origin, send["d"], span),
            muted=None if muted is None else [names[index] for index in muted],
            exception=_exception(send),
            calls=_calls(send, names, origin, span),
            parent_number=None if parent is None else parent + 1,
            start_us=send["t"],
            duration_us=send["d"],
            toolbar=bool(send.get("o")),
            stack=send.get("k"),
        )
        views.append(view)
        if parent is not None:
            views[parent].calls[send["q"]].sends.append(view)
    _count_errors(views)
    return views


def _open(top: list[SendView]) -> None:
    """Open the first top-level sends that fit in :data:`OPEN_ROWS` (all of
    them when they all fit, the first one at least)."""
    rows = 0
    for view in top:
        rows += view.rows()
        view.is_open = rows <= OPEN_ROWS or view is top[0]


def _tree(sends: list[SendView]) -> Iterator[tuple[str, Any]]:
    """The sends as one flat sequence the template walks without recursion:
    ``("send", view)`` opens a send, ``("call", view)`` a receiver, and
    ``("end-call", None)``, ``("end-send", None)`` close them."""
    stack: list[Iterator[Any]] = [iter(sends)]
    closers: list[str] = []
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            if closers:
                yield closers.pop(), None
        elif isinstance(item, SendView):
            yield "send", item
            stack.append(iter(item.calls))
            closers.append("end-send")
        else:
            yield "call", item
            stack.append(iter(item.sends))
            closers.append("end-call")


def _project_sends(stats: dict[str, Any]) -> list[dict[str, Any]]:
    return [send for send in stats["sends"] if not send.get("o")]


def send_count(stats: dict[str, Any]) -> int:
    """The project's sends: kept, folded or dropped (not the toolbar's own)."""
    folded: int = sum(count for _, _, count in stats["folded"])
    dropped: int = stats["dropped"]
    return len(_project_sends(stats)) + folded + dropped


def receiver_count(stats: dict[str, Any]) -> int:
    """The project's receivers that ran in a kept send."""
    return sum(len(send["r"]) for send in _project_sends(stats))


def _elapsed_us(spans: Iterable[tuple[int, int]]) -> int:
    """Microseconds covered by the (start, duration) *spans* of sends."""
    total, end = 0, None
    for start, duration in sorted(spans):
        stop = start + duration
        if end is None or start >= end:
            total += duration
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


@dataclass(frozen=True)
class Figures:
    """The project's figures for the side bar and the summary line."""

    sends: int
    receivers: int
    receiver_ms: str
    """Summed over receivers, each counted once."""
    elapsed_ms: str
    """Wall time of the top-level sends."""
    concurrent: bool
    """Some receivers ran at the same time: the two times differ."""


def project_figures(stats: dict[str, Any]) -> Figures:
    """Sends, receivers and times of the project (the toolbar's own apart)."""
    # Read from the stats as they are: the side bar is drawn on every page.
    sends = _project_sends(stats)
    top = [(send["t"], send["d"]) for send in sends if "p" not in send]
    return Figures(
        sends=send_count(stats),
        receivers=receiver_count(stats),
        receiver_ms=milliseconds(stats["receiver_us"]),
        elapsed_ms=milliseconds(_elapsed_us(top)),
        concurrent=any(
            _overlap((call["t"], call["d"]) for call in send["r"]) for send in sends
        ),
    )


@dataclass
class _SignalTotals:
    signal: str
    sends: int = 0
    receivers: int = 0
    time_us: int = 0
    elapsed_us: int = 0
    errors: int = 0
    concurrent: bool = False
    duplicates: int = 0
    """Most sends of the signal with one sender and equal arguments."""

    @property
    def ms(self) -> str:
        return milliseconds(self.time_us)

    @property
    def elapsed_ms(self) -> str:
        return milliseconds(self.elapsed_us)


def _overview(
    views: list[SendView], folded: list[tuple[str, str, int]]
) -> list[_SignalTotals]:
    totals: dict[str, _SignalTotals] = {}
    same = Counter(
        (view.signal, view.sender, tuple(sorted(view.arguments.items())))
        for view in views
    )
    for view in views:
        row = totals.setdefault(view.signal, _SignalTotals(view.signal))
        row.sends += 1
        row.receivers += len(view.calls)
        row.time_us += view.receiver_us
        row.elapsed_us += view.duration_us
        row.errors += view.errors
        row.concurrent = row.concurrent or view.concurrent
    for (signal, _, _), count in same.items():
        row = totals[signal]
        row.duplicates = max(row.duplicates, count if count > 1 else 0)
    for signal, _, count in folded:
        totals.setdefault(signal, _SignalTotals(signal)).sends += count
    return sorted(totals.values(), key=lambda row: (-row.time_us, -row.sends))


def panel_context(
    stats: dict[str, Any], catalog: list[dict[str, Any]]
) -> dict[str, Any]:
    """The template's context, from the stored *stats* and the *catalog* of
    registered signals."""
    names: list[str] = stats["names"]
    views = _views(stats)
    project = [view for view in views if not view.toolbar]
    top = [view for view in views if view.parent_number is None]
    _open(top)
    folded = [
        (names[signal], names[sender], count)
        for signal, sender, count in stats["folded"]
    ]
    slowest = sorted(
        ((call, view) for view in project for call in view.calls),
        key=lambda pair: -pair[0].duration_us,
    )[:SLOWEST]
    project_top = [view for view in top if not view.toolbar]
    return {
        "tree": list(_tree(top)),
        "send_count": send_count(stats),
        "kept_count": len(project),
        "receiver_count": receiver_count(stats),
        "error_count": sum(view.errors for view in project),
        "receiver_ms": milliseconds(stats["receiver_us"]),
        "elapsed_ms": milliseconds(
            _elapsed_us((view.start_us, view.duration_us) for view in project_top)
        ),
        "concurrent": any(view.concurrent for view in project),
        "span_ms": milliseconds(timeline(stats["sends"])[1]),
        "overview": _overview(project, folded),
        "slowest": slowest,
        "folded": folded,
        "folded_count": sum(count for _, _, count in folded),
        "toolbar": [
            {
                "signal": names[signal],
                "sender": names[sender],
                "count": count,
                "receivers": receivers,
                "ms": milliseconds(time_us),
                "errors": errors,
            }
            for signal, sender, count, receivers, time_us, errors in stats["toolbar"]
        ],
        "toolbar_count": sum(entry[2] for entry in stats["toolbar"]),
        "stacks": [[names[frame] for frame in stack] for stack in stats["stacks"]],
        "dropped": stats["dropped"],
        "max_sends": stats["max_sends"],
        "catalog": catalog,
    }
