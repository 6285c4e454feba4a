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
from django.utils.translation import gettext

__all__ = ["registered_html"]


def _arguments(signal: dict[str, Any]) -> str:
    parts = []
    if not signal["declared"]:
        parts.append(f'<span class="sk-dim">{escape(gettext("not declared"))}</span>')
    optional = escape(gettext("optional"))
    for argument in signal["arguments"] or ():
        note = (
            "" if argument["required"] else f' <span class="sk-dim">({optional})</span>'
        )
        parts.append(
            f"<div><code>{escape(argument['name'])}</code>{note} "
            f"{escape(argument['description'])}</div>"
        )
    return "".join(parts)


def _receivers(signal: dict[str, Any]) -> str:
    if not signal["receivers"]:
        return f'<span class="sk-dim">{escape(gettext("none"))}</span>'
    parts = []
    sender_word = escape(gettext("sender"))
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
    builtin = f' <span class="sk-dim">{escape(gettext("Django"))}</span>'
    rows = [
        f'<tr class="sk-signal-row" data-signal="{escape(signal["name"])}">'
        f"<td><code>{escape(signal['name'])}</code>"
        f"{builtin if signal['builtin'] else ''}</td>"
        f"<td>{_arguments(signal)}</td><td>{escape(signal['doc'] or '')}</td>"
        f"<td>{_receivers(signal)}</td></tr>\n"
        for signal in catalog
    ]
    # Every value in the rows was escaped above.
    return mark_safe("".join(rows))
