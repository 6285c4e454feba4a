"""Declared, discoverable, observable and testable Django signals."""

from __future__ import annotations

from signalkit.exceptions import SignalArgumentError
from signalkit.recording import record
from signalkit.registry import registry
from signalkit.signals import Signal, receiver

__all__ = ["Signal", "SignalArgumentError", "receiver", "record", "registry"]
__version__ = "0.1.0"
