"""One exception class per kind of mistake, each naming what is at fault."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


class SignalArgumentError(TypeError):
    """A send's keyword arguments do not match the signal's declared arguments."""


class SignalDeclarationError(TypeError):
    """A signal was declared with arguments, names or docs of the wrong shape."""


class SignalNameError(ImproperlyConfigured):
    """A signal's dotted name cannot be worked out; pass ``name=``."""


class DuplicateSignalError(ImproperlyConfigured):
    """Two different signals claim the same dotted name."""


class CatalogFilterError(LookupError):
    """An ``--app`` or ``--signal`` filter of the catalog that matches nothing."""


class UnknownSignalError(LookupError):
    """No signal is registered under the given dotted name."""

    def __str__(self) -> str:
        # KeyError-style repr quoting would hide the message's own quotes.
        return str(self.args[0]) if self.args else ""


class BackgroundReceiverError(ImproperlyConfigured):
    """A receiver cannot run in the background as connected.

    A worker imports the receiver by its dotted path, so it must be a function
    defined at module level (not a lambda, a nested function, a bound method
    or a ``functools.partial``), and the Django Tasks framework must be
    installed.
    """


class BackgroundArgumentError(TypeError):
    """A send passed a value that cannot travel to a worker as JSON."""


class ObjectGone(LookupError):
    """A model instance sent to a background receiver was deleted meanwhile."""


class SignalArgumentTypeError(SignalArgumentError):
    """With ``SIGNALKIT_CHECK_TYPES`` on, a send passed an argument whose
    value does not match the type its :func:`signalkit.signal` declaration
    gives it."""
