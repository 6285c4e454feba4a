"""Declared, discoverable, observable and testable Django signals.

The public names are imported when first used (PEP 562), so that importing
``signalkit`` (or its pytest plugin, which pytest loads in every run) imports
no part of Django's ORM or HTTP stack and connects nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Imported now, not lazily: the submodule signalkit.registry would otherwise
# shadow the registry object of the same name. It imports nothing of Django's
# ORM or HTTP stack.
from signalkit.registry import registry

if TYPE_CHECKING:
    from signalkit.declaration import signal
    from signalkit.decorators import receiver
    from signalkit.exceptions import SignalArgumentError
    from signalkit.recording import record
    from signalkit.signals import Signal

__all__ = [
    "Signal",
    "SignalArgumentError",
    "receiver",
    "record",
    "registry",
    "signal",
]
__version__ = "0.1.0"

_HOMES = {
    "Signal": "signalkit.signals",
    "SignalArgumentError": "signalkit.exceptions",
    "receiver": "signalkit.decorators",
    "record": "signalkit.recording",
    "signal": "signalkit.declaration",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'signalkit' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
