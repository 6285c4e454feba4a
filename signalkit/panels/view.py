"""What the panel's template shows, worked out from the stored stats alone.

When the toolbar renders a panel from its store there is no request and no
recorder, so everything here reads the stats :mod:`signalkit.panels.stored`
made (and the registry, which describes the project, not the request).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Bar",
    "CallView",
    "SendView",
    "milliseconds",
    "panel_context",
    "receiver_count",
    "send_count",
]

# How many receivers the overview names as the slowest of the request.
SLOWEST = 5
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
        x = min(start_us * scale, 100.0)
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
    sends: list[SendView] = field(default_factory=list)
    """The sends this receiver made."""


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
    errors: int
    parent_number: int | None


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


def _views(stats: dict[str, Any]) -> list[SendView]:
    names: list[str] = stats["names"]
    origin, span = timeline(stats["sends"])
    views: list[SendView] = []
    for number, send in enumerate(stats["sends"], start=1):
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
            )
            for call in send["r"]
        ]
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
            calls=calls,
            errors=sum(call.status == "error" for call in calls) + ("x" in send),
            parent_number=None if parent is None else parent + 1,
        )
        views.append(view)
        if parent is not None:
            views[parent].calls[send["q"]].sends.append(view)
    return views


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


def send_count(stats: dict[str, Any]) -> int:
    """Every send the request made, kept, folded, the toolbar's or dropped."""
    folded: int = sum(count for _, _, count in stats["folded"])
    toolbar: int = sum(entry[2] for entry in stats["toolbar"])
    dropped: int = stats["dropped"]
    return len(stats["sends"]) + folded + toolbar + dropped


def receiver_count(stats: dict[str, Any]) -> int:
    """Every receiver that ran in a recorded send."""
    toolbar: int = sum(entry[3] for entry in stats["toolbar"])
    return sum(len(send["r"]) for send in stats["sends"]) + toolbar


@dataclass
class _SignalTotals:
    signal: str
    sends: int = 0
    receivers: int = 0
    time_us: int = 0
    errors: int = 0

    @property
    def ms(self) -> str:
        return milliseconds(self.time_us)


def _overview(
    views: list[SendView], folded: list[tuple[str, str, int]]
) -> list[_SignalTotals]:
    totals: dict[str, _SignalTotals] = {}
    for view in views:
        row = totals.setdefault(view.signal, _SignalTotals(view.signal))
        row.sends += 1
        row.receivers += len(view.calls)
        row.time_us += sum(call.duration_us for call in view.calls)
        row.errors += view.errors
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
    folded = [
        (names[signal], names[sender], count)
        for signal, sender, count in stats["folded"]
    ]
    slowest = sorted(
        ((call, view) for view in views for call in view.calls),
        key=lambda pair: -pair[0].duration_us,
    )[:SLOWEST]
    return {
        "tree": list(_tree([view for view in views if view.parent_number is None])),
        "send_count": send_count(stats),
        "kept_count": len(views),
        "receiver_count": receiver_count(stats),
        "error_count": sum(view.errors for view in views),
        "receiver_ms": milliseconds(stats["receiver_us"]),
        "span_ms": milliseconds(timeline(stats["sends"])[1]),
        "overview": _overview(views, folded),
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
        "dropped": stats["dropped"],
        "max_sends": stats["max_sends"],
        "catalog": catalog,
    }
