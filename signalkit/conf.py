"""Settings, read from ``django.conf.settings`` at access time.

Every setting is a flat ``SIGNALKIT_*`` name. Values are looked up when they
are used, so ``override_settings`` works; the one read on every send is cached
and the cache is dropped whenever a ``SIGNALKIT_*`` setting changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")

_MISSING = object()


def _read(name: str, default: Any) -> Any:
    value = getattr(settings, name, _MISSING)
    return default if value is _MISSING else value


def _require_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ImproperlyConfigured(
            f"{name} must be True or False, not {value!r} ({type(value).__name__})."
        )
    return value


def _require_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ImproperlyConfigured(f"{name} must be a positive integer, not {value!r}.")
    return value


def _require_module_names(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ImproperlyConfigured(
            f"{name} must be a list of module names, such as ['signals'], "
            f"not {value!r} ({type(value).__name__})."
        )
    for item in value:
        if not isinstance(item, str) or not _MODULE_NAME.match(item):
            raise ImproperlyConfigured(
                f"{name} contains {item!r}, which is not a module name. "
                f"Use names relative to each app, such as 'signals' or "
                f"'receivers'."
            )
    return tuple(value)


def _require_text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ImproperlyConfigured(
            f"{name} must be a non-empty string, not {value!r} "
            f"({type(value).__name__})."
        )
    return value


def _require_names(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ImproperlyConfigured(
            f"{name} must be a list of strings, not {value!r} ({type(value).__name__})."
        )
    for item in value:
        if not isinstance(item, str) or not item:
            raise ImproperlyConfigured(
                f"{name} contains {item!r}; every item must be a non-empty string."
            )
    return tuple(value)


class Settings:
    """signalkit's settings, with their defaults and type checks."""

    _validate_args: bool | None = None

    @property
    def VALIDATE_ARGS(self) -> bool:
        """Check each send of a declared signal against its arguments."""
        cached = self._validate_args
        if cached is None:
            cached = _require_bool(
                "SIGNALKIT_VALIDATE_ARGS", _read("SIGNALKIT_VALIDATE_ARGS", True)
            )
            self._validate_args = cached
        return cached

    @property
    def AUTODISCOVER_MODULES(self) -> tuple[str, ...]:
        """Modules imported from every installed app when Django starts."""
        return _require_module_names(
            "SIGNALKIT_AUTODISCOVER_MODULES",
            _read("SIGNALKIT_AUTODISCOVER_MODULES", ["signals"]),
        )

    @property
    def RECORD_MAX_SENDS(self) -> int:
        """How many sends one recording keeps; later ones are counted, not kept."""
        return _require_positive_int(
            "SIGNALKIT_RECORD_MAX_SENDS", _read("SIGNALKIT_RECORD_MAX_SENDS", 1000)
        )

    @property
    def SUMMARY_MAX_LENGTH(self) -> int:
        """Longest summary of one value kept by a recording, in characters."""
        return _require_positive_int(
            "SIGNALKIT_SUMMARY_MAX_LENGTH", _read("SIGNALKIT_SUMMARY_MAX_LENGTH", 200)
        )

    @property
    def SENSITIVE_ARGS(self) -> tuple[str, ...]:
        """Words of argument names whose values recordings mask."""
        return _require_names(
            "SIGNALKIT_SENSITIVE_ARGS",
            _read(
                "SIGNALKIT_SENSITIVE_ARGS",
                [
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
                ],
            ),
        )

    @property
    def TASKS_BACKEND(self) -> str:
        """Alias in ``TASKS`` of the backend that background receivers use."""
        return _require_text(
            "SIGNALKIT_TASKS_BACKEND", _read("SIGNALKIT_TASKS_BACKEND", "default")
        )

    @property
    def TASKS_QUEUE_NAME(self) -> str:
        """Queue that background receivers' tasks go to."""
        return _require_text(
            "SIGNALKIT_TASKS_QUEUE_NAME", _read("SIGNALKIT_TASKS_QUEUE_NAME", "default")
        )

    def _clear_cache(self) -> None:
        self._validate_args = None


conf = Settings()


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("SIGNALKIT_"):
        conf._clear_cache()


setting_changed.connect(_on_setting_changed, dispatch_uid="signalkit.conf")
