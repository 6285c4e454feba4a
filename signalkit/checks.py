"""System checks: ``signalkit.E001``, ``signalkit.W001`` and friends.

Each id is documented in ``docs/checks.rst``.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from signalkit.conf import conf, known_names, problem, unknown_names
from signalkit.naming import callable_name
from signalkit.receivers import ReceiverInfo, accepts_kwargs
from signalkit.registry import RegistryEntry, registry
from signalkit.signals import Signal

# Setting name (without SIGNALKIT_) -> check id.
SETTING_CHECKS = {
    "VALIDATE_ARGS": "signalkit.E001",
    "CHECK_TYPES": "signalkit.E007",
    "AUTODISCOVER_MODULES": "signalkit.E002",
    "RECORD_MAX_SENDS": "signalkit.E003",
    "SUMMARY_MAX_LENGTH": "signalkit.E004",
    "SENSITIVE_ARGS": "signalkit.E005",
    "PANEL_FOLD_EMPTY": "signalkit.E006",
    "TASKS_BACKEND": "signalkit.E010",
    "TASKS_QUEUE_NAME": "signalkit.E011",
    "SLOW_RECEIVER_MS": "signalkit.E020",
}


@register(Tags.compatibility)
def check_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Report each ``SIGNALKIT_*`` setting whose value is not usable."""
    errors: list[CheckMessage] = []
    for name, check_id in SETTING_CHECKS.items():
        found = problem(name)
        if found is not None:
            errors.append(Error(found, id=check_id))
    return errors


@register(Tags.compatibility)
def check_unknown_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Warn about each ``SIGNALKIT_*`` setting that signalkit does not know."""
    return [
        Warning(
            f"{name} is not a signalkit setting; it is ignored.",
            hint=(
                f"Did you mean {suggestion}?"
                if suggestion
                else f"signalkit's settings are {', '.join(known_names())}."
            ),
            id="signalkit.W004",
        )
        for name, suggestion in unknown_names()
    ]


_REQUIRED_KINDS = (
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    inspect.Parameter.KEYWORD_ONLY,
)


def _signature_problem(
    receiver: Callable[..., Any], entry: RegistryEntry
) -> tuple[str, str] | None:
    """What stops *receiver* taking *entry*'s arguments, and how to fix it."""
    declared = ", ".join(entry.all_args) or "no arguments"
    hint = (
        f"{entry.name} sends sender, signal and {declared}; receivers should be "
        f"declared as def receiver(sender, <arguments you use>, **kwargs)."
    )
    if accepts_kwargs(receiver) is False:
        return "it does not accept **kwargs", hint
    try:
        signature = inspect.signature(receiver)
    except (TypeError, ValueError):
        return None  # Builtins and some C callables have no signature.
    # A send may leave an optional argument out: a receiver that requires one
    # works until the first send without it.
    optional = [
        name
        for name, parameter in signature.parameters.items()
        if name in entry.optional_args
        and parameter.kind in _REQUIRED_KINDS
        and parameter.default is inspect.Parameter.empty
    ]
    if optional:
        quoted = ", ".join(map(repr, optional))
        return (
            f"it requires {quoted}, which the signal declares as optional: a "
            f"send may leave {'them' if len(optional) > 1 else 'it'} out",
            f"Give {quoted} a default, such as {optional[0]}=None; "
            f"{entry.name} always sends sender, signal and "
            f"{', '.join(entry.args) or 'no other arguments'}.",
        )
    names = dict.fromkeys(entry.args)
    for attempt in (names, {**names, **dict.fromkeys(entry.optional_args)}):
        try:
            signature.bind(sender=None, signal=None, **attempt)
        except TypeError as error:
            return str(error), hint
    return None


@register(Tags.signals)
def check_receiver_signatures(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Warn about receivers that cannot take their signal's declared arguments."""
    warnings: list[CheckMessage] = []
    for entry in registry:
        if not entry.declared:
            continue
        for info in entry.receivers():
            if info.receiver is None:
                continue
            found = _signature_problem(info.receiver, entry)
            if found is None:
                continue
            problem, hint = found
            warnings.append(
                Warning(
                    f"Receiver {callable_name(info.receiver)} connected to "
                    f"{entry.name} cannot be called with the signal's "
                    f"arguments: {problem}.",
                    hint=hint,
                    obj=info.receiver,
                    id="signalkit.W001",
                )
            )
    return warnings


def _identities(receiver: object) -> list[tuple[object, ...]]:
    """What makes two function objects one receiver defined twice.

    The same place in a file (its module imported under two names, or the
    code that defines it run again), or the same module and qualname (a
    module run twice, or defining it twice). Lambdas share a qualname, so
    only their place counts.
    """
    func = getattr(receiver, "__func__", receiver)
    code = getattr(func, "__code__", None)
    qualname = getattr(func, "__qualname__", None)
    if code is None or not isinstance(qualname, str):
        return []  # partials, callable objects, builtins
    identities: list[tuple[object, ...]] = [
        ("site", code.co_filename, code.co_firstlineno, qualname)
    ]
    if "<lambda>" not in qualname:
        identities.append(("name", getattr(func, "__module__", None), qualname))
    return identities


@register(Tags.signals)
def check_duplicate_receivers(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Warn about one receiver connected twice to a signal for one sender:
    as two function objects, or as one under two keys."""
    warnings: list[CheckMessage] = []
    for entry in registry:
        infos = [info for info in entry.receivers() if info.receiver is not None]
        warnings += _copies_connected(entry.name, infos)
        warnings += _keys_connected(entry.name, infos)
    return warnings


def _copies_connected(signal: str, infos: list[ReceiverInfo]) -> list[Warning]:
    """Two function objects of one receiver, connected without dispatch_uid."""
    warnings = []
    seen: dict[tuple[str | None, tuple[object, ...]], Any] = {}
    for info in infos:
        # Distinct objects with dispatch_uids are meant to be distinct.
        if info.dispatch_uid is not None:
            continue
        func = getattr(info.receiver, "__func__", info.receiver)
        for identity in _identities(info.receiver):
            first = seen.setdefault((info.sender, identity), info.receiver)
            # The same function bound to two instances is two receivers.
            if getattr(first, "__func__", first) is not func:
                warnings.append(_connected_twice(signal, first, info.receiver))
                break
    return warnings


def _keys_connected(signal: str, infos: list[ReceiverInfo]) -> list[Warning]:
    """One receiver object connected under two keys: Django keeps one
    connection per key (the receiver's id, or its dispatch_uid), so the same
    function connected plainly and with a dispatch_uid, or with two
    dispatch_uids, is kept twice and runs twice."""
    groups: dict[tuple[str | None, tuple[int, ...]], list[ReceiverInfo]] = {}
    for info in infos:
        groups.setdefault((info.sender, _object_key(info.receiver)), []).append(info)
    warnings = []
    for connections in groups.values():
        if len(connections) < 2:
            continue
        receiver = connections[0].receiver
        ways = ", ".join(
            "once plainly"
            if info.dispatch_uid is None
            else f"once with dispatch_uid={info.dispatch_uid!r}"
            for info in connections
        )
        runs = "twice" if len(connections) == 2 else f"{len(connections)} times"
        warnings.append(
            Warning(
                f"Receiver {callable_name(receiver)} is connected {runs} to "
                f"{signal} ({ways}); it will run {runs}.",
                hint="Django keeps one connection per key (the receiver "
                "itself, or its dispatch_uid when one is given), so each "
                "key adds a connection. Connect it once: always with the "
                "same dispatch_uid, or always without.",
                obj=receiver,
                id="signalkit.W002",
            )
        )
    return warnings


def _object_key(receiver: object) -> tuple[int, ...]:
    """What makes two connected callables one object: a bound method is
    made anew on each lookup, so it is its instance and function."""
    if inspect.ismethod(receiver):
        return (id(receiver.__self__), id(receiver.__func__))
    return (id(receiver),)


def _connected_twice(signal: str, first: object, again: object) -> Warning:
    name, other = callable_name(first), callable_name(again)
    also = "" if other == name else f" (also as {other})"
    return Warning(
        f"Receiver {name} is connected twice to {signal}{also}; it will run twice.",
        hint="Two function objects of one receiver are connected: its module "
        "was imported under two names or run twice, or the code that defines "
        "and connects it ran twice. Connect it once, from a module imported "
        "once (such as the app's signals.py), or pass dispatch_uid=... to "
        "connect().",
        obj=again,
        id="signalkit.W002",
    )


@register(Tags.signals)
def check_background_receivers(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Error for background receivers whose Tasks backend or queue is unusable."""
    from signalkit.background import backend_problems

    problems = backend_problems()
    if not problems:
        return []
    if _tasks_framework_installed():
        hint = (
            "Configure the backend in TASKS (see SIGNALKIT_TASKS_BACKEND), or "
            "pass backend=... and queue_name=... to @signalkit.receiver()."
        )
    else:
        hint = (
            'Install the Tasks framework with pip install "django-signalkit[tasks]" '
            "(on Django 5.2 it is the django-tasks backport; Django 6.0+ has "
            "django.tasks built in), then configure a backend in TASKS."
        )
    return [
        Error(
            f"Background receiver {proxy.path} cannot be enqueued: "
            f"{problem.rstrip('.')}.",
            hint=hint,
            obj=proxy,
            id="signalkit.E012",
        )
        for proxy, problem in problems
    ]


def _tasks_framework_installed() -> bool:
    """Whether ``django.tasks`` (Django 6.0+) or the backport can be imported."""
    # find_spec() imports only the parent package, django, always there.
    return any(
        importlib.util.find_spec(name) is not None
        for name in ("django.tasks", "django_tasks")
    )


TOOLBAR_SIGNALS_PANEL = "debug_toolbar.panels.signals.SignalsPanel"
SIGNALKIT_PANEL = "signalkit.panels.SignalkitPanel"


@register(Tags.compatibility)
def check_toolbar_panels(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Warn when the toolbar's signals panel sits beside signalkit's."""
    panels = getattr(settings, "DEBUG_TOOLBAR_PANELS", None)
    if not isinstance(panels, (list, tuple)):
        return []
    if TOOLBAR_SIGNALS_PANEL not in panels or SIGNALKIT_PANEL not in panels:
        return []
    return [
        Warning(
            f"DEBUG_TOOLBAR_PANELS lists both {TOOLBAR_SIGNALS_PANEL} and "
            f"{SIGNALKIT_PANEL}; the connected receivers are shown twice.",
            hint=f"Remove {TOOLBAR_SIGNALS_PANEL}: {SIGNALKIT_PANEL} shows "
            "everything it shows, and the signals sent during the request.",
            id="signalkit.W003",
        )
    ]


@register(Tags.compatibility)
def check_unresolvable_annotations(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """With ``SIGNALKIT_CHECK_TYPES`` on, list the typed signals' argument
    annotations that cannot be resolved at run time, whose values go
    unchecked."""
    if not conf.CHECK_TYPES:
        return []
    warnings: list[CheckMessage] = []
    for entry in registry:
        if not isinstance(entry.signal, Signal):
            continue
        for argument, reason in entry.signal.unresolved_annotations().items():
            annotation = entry.signal.arg_types[argument]
            warnings.append(
                Warning(
                    f"{entry.name}: the annotation {annotation!r} of argument "
                    f"{argument!r} cannot be resolved at run time ({reason}); "
                    f"SIGNALKIT_CHECK_TYPES does not check that argument.",
                    hint="Import the name outside `if TYPE_CHECKING:` to have "
                    "it checked, or silence signalkit.W010 to accept it.",
                    obj=entry.signal,
                    id="signalkit.W010",
                )
            )
    return warnings
