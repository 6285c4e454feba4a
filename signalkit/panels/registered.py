"""The HTML of the panel's table of registered signals.

Written here rather than by the template language for the same reason as
:mod:`signalkit.panels.timeline`: a project registers dozens of signals,
each with arguments and receivers, and the template language's lookups cost
more than the rest of the panel. Every string goes through
:func:`html.escape`.
"""

from __future__ import annotations

from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

__all__ = ["registered_html"]


_WORDS = {
    "Django": gettext_lazy("Django"),
    "none": gettext_lazy("none"),
    "not declared": gettext_lazy("not declared"),
    "optional": gettext_lazy("optional"),
    "sender": gettext_lazy("sender"),
}


def _words() -> dict[str, str]:
    # Translated once per table rather than once per row.
    return {key: escape(str(word)) for key, word in _WORDS.items()}


def _arguments(signal: dict[str, Any], words: dict[str, str]) -> str:
    parts = []
    if not signal["declared"]:
        parts.append(f'<span class="sk-dim">{words["not declared"]}</span>')
    optional = words["optional"]
    for argument in signal["arguments"] or ():
        note = (
            "" if argument["required"] else f' <span class="sk-dim">({optional})</span>'
        )
        type_ = argument.get("type")
        annotation = f": {escape(type_)}" if type_ else ""
        parts.append(
            f"<div><code>{escape(argument['name'])}{annotation}</code>{note} "
            f"{escape(argument['description'])}</div>"
        )
    return "".join(parts)


def _receivers(signal: dict[str, Any], words: dict[str, str]) -> str:
    if not signal["receivers"]:
        return f'<span class="sk-dim">{words["none"]}</span>'
    parts = []
    sender_word = words["sender"]
    for receiver in signal["receivers"]:
        notes = []
        if receiver["is_async"]:
            notes.append(' <span class="sk-dim">async</span>')
        if receiver["sender"]:
            sender = escape(str(receiver["sender"]))
            notes.append(f' <span class="sk-dim">{sender_word} {sender}</span>')
        if receiver["dispatch_uid"]:
            uid = escape(str(receiver["dispatch_uid"]))
            notes.append(f' <span class="sk-dim">uid {uid}</span>')
        parts.append(
            f"<div><code>{escape(receiver['name'])}</code>{''.join(notes)}</div>"
        )
    return "".join(parts)


def registered_html(catalog: list[dict[str, Any]]) -> SafeString:
    """The rows of the registered signals table, from
    :func:`signalkit.catalog.build_catalog`."""
    words = _words()
    builtin = f' <span class="sk-dim">{words["Django"]}</span>'
    rows = [
        f'<tr class="sk-signal-row" data-signal="{escape(signal["name"])}">'
        f"<td><code>{escape(signal['name'])}</code>"
        f"{builtin if signal['builtin'] else ''}</td>"
        f"<td>{_arguments(signal, words)}</td><td>{escape(signal['doc'] or '')}</td>"
        f"<td>{_receivers(signal, words)}</td></tr>\n"
        for signal in catalog
    ]
    # Every value in the rows was escaped above.
    return mark_safe("".join(rows))
