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

__all__ = ["timeline_html"]


def _bar(bar: Bar) -> str:
    return f'<svg><rect x="{bar.x}%" width="{bar.width}%"/></svg>'


_WORDS = {
    "muted": gettext_lazy("muted"),
    "no receivers": gettext_lazy("no receivers"),
    "raised": gettext_lazy("raised"),
}


def _words() -> dict[str, str]:
    # Translated once per timeline rather than once per send.
    return {key: escape(str(word)) for key, word in _WORDS.items()}


def _send(send: SendView, words: dict[str, str]) -> str:
    if send.errors:
        classes = ' class="sk-err"'
    elif send.muted is not None:
        classes = ' class="sk-muted"'
    else:
        classes = ""
    # Nested sends open with the receiver that made them; a send that raised
    # opens at once.
    is_open = " open" if send.depth or send.errors else ""
    signal = escape(send.signal)
    detail = [f"<i>{escape(send.site)}</i>"]
    detail.extend(
        f" <b>{escape(name)}</b>={escape(summary)}"
        for name, summary in send.arguments.items()
    )
    if send.exception:
        detail.append(f"<br><em>{words['raised']} {escape(send.exception)}</em>")
    if send.muted is not None:
        names = escape(", ".join(send.muted))
        detail.append(f"<br><mark>{words['muted']}</mark> {names}")
    elif not send.calls:
        detail.append(f"<br><i>{words['no receivers']}</i>")
    return (
        f'<details{classes} data-send="{signal}"{is_open}>\n'
        f"<summary><span><i>#{send.number}</i> <code>{signal}</code>"
        f"<i>.{escape(send.method)}()</i> <i>{escape(send.sender)}</i></span>"
        f"<span>{send.ms} ms</span>{_bar(send.bar)}</summary>\n"
        f"<p>{''.join(detail)}</p>\n<ol>\n"
    )


def _call(call: CallView) -> str:
    status = call.status
    classes = "" if status == "ok" else f' class="sk-{escape(status)}"'
    label = [f"<code>{escape(call.name)}</code>"]
    if call.is_async:
        label.append(" <i>async</i>")
    if status != "ok":
        label.append(f" <mark>{escape(status)}</mark>")
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
            parts.append(_call(item))
        elif kind == "end-call":
            parts.append("</li>\n")
        else:
            parts.append("</ol></details>\n")
    # Every value in the parts was escaped above.
    return mark_safe("".join(parts))
