"""The signal catalog behind ``manage.py signals``: data, filters and renderers.

:func:`build_catalog` turns the registry into JSON-native data; each
``render_*`` function is a pure function of that data, so every format shows
the same thing.
"""

from __future__ import annotations

import functools
import json
import textwrap
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.apps import apps

from signalkit.exceptions import CatalogFilterError
from signalkit.naming import did_you_mean, suggestion
from signalkit.receivers import ReceiverInfo
from signalkit.registry import RegistryEntry, registry
from signalkit.signals import Signal

#: Version of the JSON document; bumped only when a key changes meaning or goes.
JSON_VERSION = 1

FORMATS = ("table", "json", "markdown", "mermaid", "dot")


def receiver_module(receiver: object) -> str | None:
    """The module that defines *receiver* (a function, method, partial, object)."""
    while isinstance(receiver, functools.partial):
        receiver = receiver.func
    func = getattr(receiver, "__func__", receiver)
    module = getattr(func, "__module__", None)
    if not isinstance(module, str) or not hasattr(func, "__qualname__"):
        # A callable object: its class says where it comes from.
        module = type(receiver).__module__
    return module


def _app_of(module: str | None) -> str | None:
    if module is None:
        return None
    config = apps.get_containing_app_config(module)
    return None if config is None else config.label


def background_options(receiver: object) -> dict[str, Any] | None:
    """Queue, backend and priority of a background receiver, else ``None``.

    A background receiver (``@receiver(..., background=True)``) is connected
    as a proxy that enqueues a task; it is recognised by what it has, so the
    catalog does not import the Tasks integration.
    """
    path = getattr(receiver, "path", None)
    if not isinstance(path, str) or not hasattr(receiver, "backend_alias"):
        return None
    return {
        "queue": getattr(receiver, "queue", None),
        "backend": getattr(receiver, "backend_alias", None),
        "priority": getattr(receiver, "priority", None),
    }


# The dispatch_uid that @receiver(..., background=True) gives its proxy when
# the user gave none: an implementation detail, not something to show.
_BACKGROUND_UID_PREFIX = "signalkit.background:"


def _receiver_data(info: ReceiverInfo) -> dict[str, Any]:
    module = None if info.receiver is None else receiver_module(info.receiver)
    background = background_options(info.receiver)
    dispatch_uid = info.dispatch_uid
    if background is not None and dispatch_uid == _BACKGROUND_UID_PREFIX + str(
        getattr(info.receiver, "path", "")
    ):
        dispatch_uid = None
    return {
        "name": info.name,
        "module": module,
        "app": _app_of(module),
        "sender": info.sender,
        "dispatch_uid": dispatch_uid,
        "weak": info.weak,
        "is_async": info.is_async,
        "dead": info.dead,
        "background": background,
    }


def _signal_data(entry: RegistryEntry) -> dict[str, Any]:
    # Types come from a @signalkit.signal declaration; None where not declared.
    types = entry.signal.arg_types if isinstance(entry.signal, Signal) else {}
    arguments = [
        {
            "name": name,
            "type": types.get(name),
            "description": description,
            "required": required,
        }
        for declared, required in ((entry.args, True), (entry.optional_args, False))
        for name, description in declared.items()
    ]
    return {
        "name": entry.name,
        "module": entry.module,
        "app": entry.app_label,
        "builtin": entry.builtin,
        "declared": entry.declared,
        "doc": entry.doc,
        "arguments": arguments if entry.declared else None,
        "defined_at": entry.defined_at,
        "receivers": [_receiver_data(info) for info in entry.receivers()],
    }


def _app_label(app: str) -> str:
    """The label of the installed app given by label or dotted name."""
    for config in apps.get_app_configs():
        if app in (config.label, config.name):
            return config.label
    configs = list(apps.get_app_configs())
    labels = sorted(config.label for config in configs)
    # Dotted app names too: "djang.contrib.auth" is closer to a name than to
    # any label.
    names = [config.name for config in configs if config.name != config.label]
    raise CatalogFilterError(
        f"No installed app is labelled {app!r}."
        + did_you_mean(app, [*labels, *names])
        + " Installed apps: "
        + ", ".join(labels)
        + "."
    )


def _matches_signal(name: str, wanted: str) -> bool:
    return name == wanted or wanted.lower() in name.lower()


def build_catalog(
    *, app: str | None = None, signal: str | None = None
) -> list[dict[str, Any]]:
    """Every registered signal as JSON-native data, in name order.

    :param app: keep the signals defined in this app, or with a receiver
        defined in it (an app label such as ``"blog"`` or a dotted app name).
    :param signal: keep the signals whose dotted name equals or contains this
        text (case-insensitive).
    :raises CatalogFilterError: when *app* is not installed or *signal*
        matches no signal.
    """
    label = None if app is None else _app_label(app)
    signals = [_signal_data(entry) for entry in registry]
    if signal is not None:
        matching = [data for data in signals if _matches_signal(data["name"], signal)]
        if not matching:
            raise CatalogFilterError(
                f"No registered signal matches {signal!r}."
                # Short names too: "order_payd" finds shop.signals.order_paid.
                + suggestion(registry.suggest(signal))
            )
        signals = matching
    if label is not None:
        signals = [
            data
            for data in signals
            if data["app"] == label
            or any(each["app"] == label for each in data["receivers"])
        ]
    return signals


# Text helpers shared by the renderers.


def background_text(background: dict[str, Any], *, sep: str = "=") -> str:
    """``background, queue=default, backend=default`` (and the priority)."""
    parts = ["background", f"queue{sep}{background['queue']}"]
    parts.append(f"backend{sep}{background['backend']}")
    if background.get("priority") is not None:
        parts.append(f"priority{sep}{background['priority']}")
    return ", ".join(parts)


def receiver_flags(receiver: dict[str, Any]) -> str:
    """``weak, sync``, ``strong, async`` or ``background, queue=..., backend=...``."""
    if receiver.get("background"):
        return background_text(receiver["background"])
    return ", ".join(
        (
            "weak" if receiver["weak"] else "strong",
            "async" if receiver["is_async"] else "sync",
        )
    )


def _sender_text(receiver: dict[str, Any]) -> str:
    return receiver["sender"] or "any"


# table


def render_table(signals: Sequence[dict[str, Any]], *, width: int = 100) -> str:
    """Plain text for a terminal *width* columns wide, one block per signal."""
    width = max(width, 40)
    blocks = []
    for data in signals:
        kind = (
            "Django built-in"
            if data["builtin"]
            else "undeclared"
            if not data["declared"]
            else "declared"
        )
        tags = ", ".join(tag for tag in (data["app"], kind) if tag)
        lines = [f"{data['name']}  [{tags}]"]
        for paragraph in (data["doc"] or "").strip().split("\n\n"):
            if paragraph:
                lines += textwrap.wrap(
                    " ".join(paragraph.split()),
                    width=width,
                    initial_indent="  ",
                    subsequent_indent="  ",
                )
        lines += _wrap_field("arguments", _arguments_detail(data), width)
        if data["receivers"]:
            lines.append(f"  receivers ({len(data['receivers'])}):")
            lines += _receiver_rows(data["receivers"], width)
        else:
            lines.append("  receivers: (none)")
        blocks.append("\n".join(lines))
    receivers = sum(len(data["receivers"]) for data in signals)
    summary = f"{_plural(len(signals), 'signal')}, {_plural(receivers, 'receiver')}."
    return "\n\n".join([*blocks, summary]) + "\n"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _arguments_detail(data: dict[str, Any]) -> list[str]:
    if data["arguments"] is None:
        return ["undeclared (a plain Django signal; its arguments are unknown)"]
    if not data["arguments"]:
        return ["(none)"]
    return [
        arg["name"]
        + (f": {arg['type']}" if arg.get("type") else "")
        + ("" if arg["required"] else " (optional)")
        + (f" — {arg['description']}" if arg["description"] else "")
        for arg in data["arguments"]
    ]


def _wrap_field(label: str, items: list[str], width: int) -> list[str]:
    if len(items) == 1 and len(items[0]) + len(label) + 4 <= width:
        return [f"  {label}: {items[0]}"]
    lines = [f"  {label}:"]
    for item in items:
        lines += textwrap.wrap(
            item, width=width, initial_indent="    ", subsequent_indent="      "
        )
    return lines


def _receiver_rows(receivers: list[dict[str, Any]], width: int) -> list[str]:
    rows = [
        (
            receiver["name"],
            "sender=" + _sender_text(receiver),
            receiver_flags(receiver),
            ""
            if receiver["dispatch_uid"] is None
            else f"uid={receiver['dispatch_uid']}",
        )
        for receiver in receivers
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = []
    for row in rows:
        line = (
            "    "
            + "  ".join(
                [*(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])), row[3]]
            ).rstrip()
        )
        if len(line) <= width:
            lines.append(line)
        else:
            # Too wide for the terminal: the details go on their own line.
            lines.append(f"    {row[0]}")
            lines.append("      " + "  ".join(cell for cell in row[1:] if cell))
    return lines


# json


def render_json(signals: Sequence[dict[str, Any]]) -> str:
    """The catalog as a versioned JSON document (documented in docs/catalog)."""
    document = {"version": JSON_VERSION, "signals": list(signals)}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# markdown


def _md(text: str) -> str:
    """Escape text for a Markdown table cell."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\n", " ")
    )


def _md_code(text: str) -> str:
    return f"`{text}`" if "`" not in text else _md(text)


def _md_type(text: str) -> str:
    # A table cell ends at any unescaped "|", even inside a code span (GFM).
    if "`" in text:
        return _md(text)
    return f"`{text}`".replace("|", "\\|") if text else ""


def render_markdown(signals: Sequence[dict[str, Any]]) -> str:
    """A Markdown document: one section per signal, receivers as a table."""
    parts = ["# Signals", ""]
    for data in signals:
        parts.append(f"## `{data['name']}`")
        parts.append("")
        if data["doc"]:
            parts += [_md(" ".join(data["doc"].split())), ""]
        details = [f"Defined in `{data['module']}`"]
        if data["app"]:
            details.append(f"app `{data['app']}`")
        if data["builtin"]:
            details.append("Django built-in")
        parts += [", ".join(details) + ".", ""]
        if data["arguments"] is None:
            parts += ["Arguments: undeclared (a plain Django signal).", ""]
        elif not data["arguments"]:
            parts += ["Arguments: none.", ""]
        else:
            parts += [
                "| Argument | Type | Required | Description |",
                "| --- | --- | --- | --- |",
            ]
            parts += [
                f"| `{arg['name']}` | {_md_type(arg.get('type') or '')} "
                f"| {'yes' if arg['required'] else 'no'} "
                f"| {_md(arg['description'])} |"
                for arg in data["arguments"]
            ]
            parts.append("")
        if not data["receivers"]:
            parts += ["No receivers.", ""]
            continue
        parts += [
            "| Receiver | Sender | dispatch_uid | Reference | Mode |",
            "| --- | --- | --- | --- | --- |",
        ]
        for receiver in data["receivers"]:
            uid = receiver["dispatch_uid"]
            background = receiver.get("background")
            if background:
                reference = ""
                mode = _md(background_text(background, sep=" "))
            else:
                reference = "weak" if receiver["weak"] else "strong"
                mode = "async" if receiver["is_async"] else "sync"
            parts.append(
                f"| {_md_code(receiver['name'])} | {_md(_sender_text(receiver))} "
                f"| {'' if uid is None else _md_code(uid)} "
                f"| {reference} | {mode} |"
            )
        parts.append("")
    return "\n".join(parts)


# Graphs: senders -> signals -> receivers.


def graph_signals(signals: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The signals worth drawing: the project's own, and any with receivers.

    Django's built-in signals that nothing listens to would only add noise.
    """
    return [data for data in signals if data["receivers"] or not data["builtin"]]


def receiver_label(receiver: dict[str, Any]) -> str:
    """A receiver's name, and for a background receiver where it runs."""
    background = receiver.get("background")
    if not background:
        return str(receiver["name"])
    return f"{receiver['name']} ({background_text(background, sep=' ')})"


def _graph(
    signals: Iterable[dict[str, Any]],
) -> tuple[
    dict[str, str],
    dict[str, str],
    dict[str, str],
    list[tuple[str, str, str | None]],
    set[str],
]:
    """Node ids by label for senders, signals and receivers, the edges, and
    the ids of background receivers."""
    senders: dict[str, str] = {}
    signal_ids: dict[str, str] = {}
    receivers: dict[str, str] = {}
    edges: list[tuple[str, str, str | None]] = []
    background: set[str] = set()
    for data in graph_signals(signals):
        signal_id = signal_ids.setdefault(data["name"], f"signal{len(signal_ids)}")
        for receiver in data["receivers"]:
            receiver_id = receivers.setdefault(
                receiver_label(receiver), f"receiver{len(receivers)}"
            )
            if receiver.get("background"):
                background.add(receiver_id)
            sender = receiver["sender"]
            if sender is not None:
                sender_id = senders.setdefault(sender, f"sender{len(senders)}")
                edge = (sender_id, signal_id, None)
                if edge not in edges:
                    edges.append(edge)
            edge = (signal_id, receiver_id, sender)
            if edge not in edges:
                edges.append(edge)
    return senders, signal_ids, receivers, edges, background


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def render_mermaid(signals: Iterable[dict[str, Any]]) -> str:
    """A Mermaid flowchart: senders → signals → receivers.

    An edge from a signal to a receiver connected for one sender only is
    labelled with that sender; a background receiver hangs from a dotted
    edge, in its own colour.
    """
    senders, signal_ids, receivers, edges, background = _graph(signals)
    lines = ["flowchart LR"]
    lines += [f'    {id_}["{_mermaid_text(label)}"]' for label, id_ in senders.items()]
    lines += [
        f'    {id_}(["{_mermaid_text(label)}"])' for label, id_ in signal_ids.items()
    ]
    lines += [
        f'    {id_}["{_mermaid_text(label)}"]' for label, id_ in receivers.items()
    ]
    for source, target, label in edges:
        arrow = "-.->" if target in background else "-->"
        if label is not None:
            arrow += f'|"{_mermaid_text(label)}"|'
        lines.append(f"    {source} {arrow} {target}")
    lines += _mermaid_classes("sender", "#fef3c7", senders.values())
    lines += _mermaid_classes("signal", "#dbeafe", signal_ids.values())
    lines += _mermaid_classes(
        "receiver",
        "#dcfce7",
        (id_ for id_ in receivers.values() if id_ not in background),
    )
    lines += _mermaid_classes(
        "background",
        "#ede9fe",
        (id_ for id_ in receivers.values() if id_ in background),
    )
    return "\n".join(lines) + "\n"


def _mermaid_classes(name: str, fill: str, ids: Iterable[str]) -> list[str]:
    ids = list(ids)
    if not ids:
        return []
    return [f"    classDef {name} fill:{fill}", f"    class {','.join(ids)} {name}"]


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(signals: Iterable[dict[str, Any]]) -> str:
    """A Graphviz digraph: senders → signals → receivers (``dot -Tsvg``).

    Background receivers are dashed boxes on dashed edges.
    """
    senders, signal_ids, receivers, edges, background = _graph(signals)
    lines = [
        "digraph signals {",
        "    rankdir=LR;",
        '    node [fontname="Helvetica", fontsize=11];',
    ]
    for nodes, shape, fill in (
        (senders, "box", "#fef3c7"),
        (signal_ids, "ellipse", "#dbeafe"),
        (receivers, "box", "#dcfce7"),
    ):
        lines += [
            f"    {id_} [label={_dot_text(label)}, shape={shape}, "
            + (
                'style="filled,dashed", fillcolor="#ede9fe"];'
                if id_ in background
                else f'style=filled, fillcolor="{fill}"];'
            )
            for label, id_ in nodes.items()
        ]
    for source, target, label in edges:
        attributes = [] if label is None else [f"label={_dot_text(label)}"]
        if target in background:
            attributes.append("style=dashed")
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"    {source} -> {target}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[Sequence[dict[str, Any]]], str]] = {
    "json": render_json,
    "markdown": render_markdown,
    "mermaid": render_mermaid,
    "dot": render_dot,
}
