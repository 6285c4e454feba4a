"""Settings: flat ``SIGNALKIT_*`` names, read at access time and cached.

Each value is read from ``django.conf.settings`` the first time it is used
and kept until a ``SIGNALKIT_*`` setting changes (``override_settings`` sends
``setting_changed``), like django-debug-toolbar's ``get_config()``, so no hot
path reads Django's settings. Each value is checked once, when it is read:
a bad one raises ``ImproperlyConfigured`` naming the setting, the value and
what it takes, at its first use, since pytest-django, gunicorn and most
runners never run the system checks. The system checks (``signalkit.E001``
and friends) report the same mistakes beforehand through :func:`problem`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

PREFIX = "SIGNALKIT_"

DEFAULTS: dict[str, Any] = {
    "VALIDATE_ARGS": True,
    "CHECK_TYPES": False,
    "AUTODISCOVER_MODULES": ("signals",),
    "RECORD_MAX_SENDS": 1000,
    "SUMMARY_MAX_LENGTH": 200,
    "SENSITIVE_ARGS": (
        "api",
        "auth",
        "authorization",
        "cookie",
        "credential",
        "key",
        "pass",
        "passphrase",
        "password",
        "passwd",
        "pin",
        "secret",
        "session",
        "signature",
        "token",
    ),
    "TASKS_BACKEND": "default",
    "TASKS_QUEUE_NAME": "default",
    "SLOW_RECEIVER_MS": None,
    "PANEL_FOLD_EMPTY": True,
    "OUTBOX": True,
    "OUTBOX_FORWARD_TIMEOUT": 0.5,
    "OUTBOX_CLAIM_TIMEOUT": 60,
    "OUTBOX_MAX_ATTEMPTS": 10,
}


class Settings:
    """signalkit's settings with their defaults; see :doc:`/settings`."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}
        self._on_clear: list[Callable[[], None]] = []

    def _value(self, name: str) -> Any:
        try:
            return self._cache[name]
        except KeyError:
            value = _raw(name)
            # Checked once per read of Django's settings: the cached value is
            # known good, so the hot paths that read it pay nothing.
            found = VALIDATORS[name](value)
            if found is not None:
                raise ImproperlyConfigured(f"{PREFIX}{name} {found}") from None
            if isinstance(value, list):
                value = tuple(value)
            self._cache[name] = value
            return value

    @property
    def VALIDATE_ARGS(self) -> bool:
        """Check each send of a declared signal against its arguments."""
        return cast(bool, self._value("VALIDATE_ARGS"))

    @property
    def CHECK_TYPES(self) -> bool:
        """Check each argument of a typed signal's send against its annotation."""
        return cast(bool, self._value("CHECK_TYPES"))

    @property
    def AUTODISCOVER_MODULES(self) -> tuple[str, ...]:
        """Modules imported from every installed app when Django starts."""
        return cast("tuple[str, ...]", self._value("AUTODISCOVER_MODULES"))

    @property
    def RECORD_MAX_SENDS(self) -> int:
        """How many sends one recording keeps; later ones are counted, not kept."""
        return cast(int, self._value("RECORD_MAX_SENDS"))

    @property
    def SUMMARY_MAX_LENGTH(self) -> int:
        """Longest summary of one value kept by a recording, in characters."""
        return cast(int, self._value("SUMMARY_MAX_LENGTH"))

    @property
    def SENSITIVE_ARGS(self) -> tuple[str, ...]:
        """Words of argument names whose values recordings mask."""
        return cast("tuple[str, ...]", self._value("SENSITIVE_ARGS"))

    @property
    def TASKS_BACKEND(self) -> str:
        """Alias in ``TASKS`` of the backend that background receivers use."""
        return cast(str, self._value("TASKS_BACKEND"))

    @property
    def TASKS_QUEUE_NAME(self) -> str:
        """Queue that background receivers' tasks go to."""
        return cast(str, self._value("TASKS_QUEUE_NAME"))

    @property
    def SLOW_RECEIVER_MS(self) -> float | None:
        """Milliseconds above which a receiver is logged as slow; ``None``: off."""
        return cast("float | None", self._value("SLOW_RECEIVER_MS"))

    @property
    def PANEL_FOLD_EMPTY(self) -> bool:
        """Whether the toolbar panel counts the sends that ran no receiver
        instead of listing each one."""
        return cast(bool, self._value("PANEL_FOLD_EMPTY"))

    @property
    def OUTBOX(self) -> bool:
        """Whether a send inside a transaction writes its enqueues for a
        backend outside that database to the outbox (else: on commit)."""
        return cast(bool, self._value("OUTBOX"))

    @property
    def OUTBOX_FORWARD_TIMEOUT(self) -> float:
        """Seconds a process waits after COMMIT for the backend to accept a
        task before leaving it to the relay."""
        return cast(float, self._value("OUTBOX_FORWARD_TIMEOUT"))

    @property
    def OUTBOX_CLAIM_TIMEOUT(self) -> float:
        """Seconds an outbox row stays with whoever claimed it (the sender
        after COMMIT, or a relay) before another relay may take it."""
        return cast(float, self._value("OUTBOX_CLAIM_TIMEOUT"))

    @property
    def OUTBOX_MAX_ATTEMPTS(self) -> int:
        """Failed forwards after which an outbox row is a dead letter."""
        return cast(int, self._value("OUTBOX_MAX_ATTEMPTS"))

    def clear_cache(self) -> None:
        """Forget the values read so far (done when a setting changes), and
        tell those that keep something derived from them."""
        self._cache.clear()
        for callback in self._on_clear:
            callback()

    def on_clear(self, callback: Callable[[], None]) -> None:
        """Call *callback* each time :meth:`clear_cache` forgets the values:
        for state worked out from a setting, kept where a send reads it."""
        self._on_clear.append(callback)


conf = Settings()


def _raw(name: str) -> Any:
    """The value of ``SIGNALKIT_<name>`` as given, or its default."""
    return getattr(settings, PREFIX + name, DEFAULTS[name])


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith(PREFIX):
        conf.clear_cache()


setting_changed.connect(_on_setting_changed, dispatch_uid="signalkit.conf")


# What a good value looks like, for conf and the system checks.

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _bool(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    return f"must be True or False, not {value!r} ({type(value).__name__})."


def _positive_int(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return None
    return f"must be a positive integer, not {value!r}."


def _module_names(value: Any) -> str | None:
    if isinstance(value, str) or not isinstance(value, Sequence):
        return (
            f"must be a list of module names, such as ['signals'], not "
            f"{value!r} ({type(value).__name__})."
        )
    for item in value:
        if not isinstance(item, str) or not _MODULE_NAME.match(item):
            return (
                f"contains {item!r}, which is not a module name. Use names "
                f"relative to each app, such as 'signals' or 'receivers'."
            )
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return None
    return f"must be a non-empty string, not {value!r} ({type(value).__name__})."


def _names(value: Any) -> str | None:
    if isinstance(value, str) or not isinstance(value, Sequence):
        return f"must be a list of strings, not {value!r} ({type(value).__name__})."
    for item in value:
        if not isinstance(item, str) or not item:
            return f"contains {item!r}; every item must be a non-empty string."
    return None


def _milliseconds_or_none(value: Any) -> str | None:
    if value is None or (
        isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    ):
        return None
    return (
        f"must be None (off) or a positive number of milliseconds, not "
        f"{value!r} ({type(value).__name__})."
    )


def _seconds(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return None
    return (
        f"must be a positive number of seconds, not {value!r} ({type(value).__name__})."
    )


VALIDATORS: dict[str, Callable[[Any], str | None]] = {
    "VALIDATE_ARGS": _bool,
    "CHECK_TYPES": _bool,
    "AUTODISCOVER_MODULES": _module_names,
    "RECORD_MAX_SENDS": _positive_int,
    "SUMMARY_MAX_LENGTH": _positive_int,
    "SENSITIVE_ARGS": _names,
    "TASKS_BACKEND": _text,
    "TASKS_QUEUE_NAME": _text,
    "SLOW_RECEIVER_MS": _milliseconds_or_none,
    "PANEL_FOLD_EMPTY": _bool,
    "OUTBOX": _bool,
    "OUTBOX_FORWARD_TIMEOUT": _seconds,
    "OUTBOX_CLAIM_TIMEOUT": _seconds,
    "OUTBOX_MAX_ATTEMPTS": _positive_int,
}


def problem(name: str) -> str | None:
    """What is wrong with the setting ``SIGNALKIT_<name>``, or ``None``.

    The message starts with the setting's full name, e.g.
    ``"SIGNALKIT_RECORD_MAX_SENDS must be a positive integer, not 0."``.
    """
    found = VALIDATORS[name](_raw(name))
    return None if found is None else f"{PREFIX}{name} {found}"


def known_names() -> list[str]:
    """Every ``SIGNALKIT_*`` setting, in name order."""
    return sorted(PREFIX + name for name in DEFAULTS)


def unknown_names() -> list[tuple[str, str | None]]:
    """Each ``SIGNALKIT_*`` setting that signalkit does not know, with the
    known name it most looks like (or ``None``), in name order."""
    return [
        (name, _closest_known(name))
        for name in sorted(dir(settings))
        if name.startswith(PREFIX) and name.removeprefix(PREFIX) not in DEFAULTS
    ]


def _closest_known(name: str) -> str | None:
    # Compared without the prefix, which every name shares.
    close = difflib.get_close_matches(name.removeprefix(PREFIX), DEFAULTS, n=1)
    return PREFIX + close[0] if close else None
