"""The HTML of the panel's timeline: a row per send and per receiver.

A request may keep a thousand sends, each with its receivers, so these rows
are written here rather than by the template language, whose variable
lookups would cost more than the rest of the panel (see
``benchmarks/panel.py``). Every string that comes from the request goes
through :func:`html.escape`, as the template language would have escaped it.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from signalkit.panels.view import Bar, CallView, SendView

__all__ = ["stacks_html", "timeline_html"]


def _bar(bar: Bar) -> str:
    return f'<svg><rect x="{bar.x}%" width="{bar.width}%"/></svg>'


def stacks_html(stacks: list[list[str]]) -> SafeString:
    """Each distinct stack of the request once, as a list the sends' *stack*
    links point to (and the panel's script shows in place)."""
    parts = []
    for index, stack in enumerate(stacks):
        frames = "".join(f"<li>{escape(frame)}</li>" for frame in stack)
        parts.append(f'<ol class="sk-stack" id="sk-stack-{index}">{frames}</ol>\n')
    # Every value in the parts was escaped above.
    return mark_safe("".join(parts))


_WORDS = {
    "muted": gettext_lazy("muted"),
    "no receivers": gettext_lazy("no receivers"),
    "raised": gettext_lazy("raised"),
    "propagated": gettext_lazy("propagated"),
    "stack": gettext_lazy("stack"),
    "toolbar": gettext_lazy("the toolbar's own"),
    "twice": gettext_lazy("ran twice in one send"),
    "times": gettext_lazy("ran %(count)d times in one send"),
    "concurrent": gettext_lazy(
        "receivers ran concurrently: %(summed)s ms summed in %(elapsed)s ms"
    ),
}


def _words() -> dict[str, str]:
    # Translated once per timeline rather than once per send.
    return {key: escape(str(word)) for key, word in _WORDS.items()}


def _send(send: SendView, words: dict[str, str]) -> str:
    if send.failed:
        classes = ' class="sk-err"'
    elif send.muted is not None and not send.calls:  # muted, not some receivers
        classes = ' class="sk-muted"'
    elif send.toolbar:
        classes = ' class="sk-tb"'
    else:
        classes = ""
    # Nested sends open with the receiver that made them; a send in which
    # something raised opens anyway.
    is_open = " open" if send.depth or send.is_open or send.failed else ""
    signal = escape(send.signal)
    detail = [f"<i>{escape(send.site)}</i>"]
    if send.stack is not None:
        detail.append(
            f' <a class="sk-stk" href="#sk-stack-{send.stack}" '
            f'data-stack="{send.stack}">{words["stack"]}</a>'
        )
    detail.extend(
        f" <b>{escape(name)}</b>={escape(summary)}"
        for name, summary in send.arguments.items()
    )
    if send.exception:
        word = words["propagated"] if send.propagated else words["raised"]
        detail.append(f"<br><em>{word} {escape(send.exception)}</em>")
    if send.muted is not None:
        names = escape(", ".join(send.muted))
        detail.append(f"<br><mark>{words['muted']}</mark> {names}")
    elif not send.calls:
        detail.append(f"<br><i>{words['no receivers']}</i>")
    elif send.concurrent:
        note = words["concurrent"] % {
            "summed": send.receiver_ms,
            "elapsed": send.ms,
        }
        detail.append(f"<br><i>{note}</i>")
    mark = f" <mark>{words['toolbar']}</mark>" if send.toolbar else ""
    # Hidden while the send is open, where the receivers have rows of their own.
    receivers = (
        f'<b class="sk-to"> → {escape(send.receiver_names)}</b>' if send.calls else ""
    )
    return (
        f'<details{classes} data-send="{signal}"{is_open}>\n'
        f"<summary><span><i>#{send.number}</i> <code>{signal}</code>"
        f"<i>.{escape(send.method)}()</i> <i>{escape(send.sender)}</i>{mark}"
        f"{receivers}</span><span>{send.ms} ms</span>{_bar(send.bar)}</summary>\n"
        f"<p>{''.join(detail)}</p>\n<ol>\n"
    )


def _call(call: CallView, words: dict[str, str]) -> str:
    status = call.status
    if call.propagated:
        classes = ' class="sk-prop"'
    else:
        classes = "" if status == "ok" else f' class="sk-{escape(status)}"'
    label = [f"<code>{escape(call.name)}</code>"]
    if call.is_async:
        label.append(" <i>async</i>")
    if call.propagated:
        label.append(f" <mark>{words['propagated']}</mark>")
    elif status != "ok":
        label.append(f" <mark>{escape(status)}</mark>")
    if call.repeats > 1:
        repeated = (
            words["twice"]
            if call.repeats == 2
            else words["times"] % {"count": call.repeats}
        )
        label.append(f' <mark class="sk-dup">{repeated}</mark>')
    if call.exception:
        label.append(f" <em>{escape(call.exception)}</em>")
    elif call.result:
        label.append(f" → {escape(call.result)}")
    return (
        f"<li{classes}><div><span>{''.join(label)}</span>"
        f"<span>{call.ms} ms</span>{_bar(call.bar)}</div>\n"
    )


def timeline_html(tree: Iterable[tuple[str, Any]]) -> SafeString:
    """The rows of the timeline, from :func:`signalkit.panels.view.tree`."""
    parts: list[str] = []
    words = _words()
    for kind, item in tree:
        if kind == "send":
            parts.append(_send(item, words))
        elif kind == "call":
            parts.append(_call(item, words))
        elif kind == "end-call":
            parts.append("</li>\n")
        else:
            parts.append("</ol></details>\n")
    # Every value in the parts was escaped above.
    return mark_safe("".join(parts))
