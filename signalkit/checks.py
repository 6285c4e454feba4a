"""System checks: ``signalkit.E001``, ``signalkit.W001`` and friends.

Each id is documented in ``docs/checks.rst``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from signalkit.conf import problem
from signalkit.naming import callable_name
from signalkit.receivers import accepts_kwargs
from signalkit.registry import RegistryEntry, registry

# Setting name (without SIGNALKIT_) -> check id.
SETTING_CHECKS = {
    "VALIDATE_ARGS": "signalkit.E001",
    "AUTODISCOVER_MODULES": "signalkit.E002",
    "RECORD_MAX_SENDS": "signalkit.E003",
    "SUMMARY_MAX_LENGTH": "signalkit.E004",
    "SENSITIVE_ARGS": "signalkit.E005",
    "TASKS_BACKEND": "signalkit.E010",
    "TASKS_QUEUE_NAME": "signalkit.E011",
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


def _signature_problem(
    receiver: Callable[..., Any], entry: RegistryEntry
) -> str | None:
    if accepts_kwargs(receiver) is False:
        return "it does not accept **kwargs"
    try:
        signature = inspect.signature(receiver)
    except (TypeError, ValueError):
        return None  # Builtins and some C callables have no signature.
    names = dict.fromkeys(entry.args)
    for attempt in (names, {**names, **dict.fromkeys(entry.optional_args)}):
        try:
            signature.bind(sender=None, signal=None, **attempt)
        except TypeError as error:
            return str(error)
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
            problem = _signature_problem(info.receiver, entry)
            if problem is None:
                continue
            declared = ", ".join(entry.all_args) or "no arguments"
            warnings.append(
                Warning(
                    f"Receiver {callable_name(info.receiver)} connected to "
                    f"{entry.name} cannot be called with the signal's "
                    f"arguments: {problem}.",
                    hint=f"{entry.name} sends sender, signal and {declared}; "
                    f"receivers should be declared as "
                    f"def receiver(sender, <arguments you use>, **kwargs).",
                    obj=info.receiver,
                    id="signalkit.W001",
                )
            )
    return warnings


@register(Tags.signals)
def check_background_receivers(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Error for background receivers whose Tasks backend or queue is unusable."""
    from signalkit.tasks import backend_problems

    return [
        Error(
            f"Background receiver {proxy.path} cannot be enqueued: {problem}.",
            hint="Configure the backend in TASKS (see SIGNALKIT_TASKS_BACKEND), "
            "or pass backend=... and queue_name=... to @signalkit.receiver().",
            obj=proxy,
            id="signalkit.E012",
        )
        for proxy, problem in backend_problems()
    ]
