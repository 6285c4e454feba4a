"""``signalkit.Signal``: a ``django.dispatch.Signal`` that declares its arguments."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from types import FrameType, MappingProxyType
from typing import Any, ClassVar

from django.db import transaction
from django.dispatch import Signal as DjangoSignal
from django.dispatch.dispatcher import NO_RECEIVERS

from signalkit.conf import conf
from signalkit.contract import ArgsSpec, argument_error, declare
from signalkit.fingerprints import is_djangos, known
from signalkit.registry import registry

# Per method: function -> whether it is Django's own (filled by is_djangos()).
_DJANGOS_SEND = known("send")
_DJANGOS_SEND_ROBUST = known("send_robust")


def _definition_frame(signal: DjangoSignal) -> FrameType:
    """The frame that created *signal*, skipping subclasses' ``__init__``."""
    frame = sys._getframe(2)
    while frame.f_back is not None and frame.f_locals.get("self") is signal:
        frame = frame.f_back
    return frame


class Signal(DjangoSignal):
    """A Django signal with a declared argument contract and a dotted name.

    It behaves exactly like ``django.dispatch.Signal``; in addition it
    registers itself in :data:`signalkit.registry` and, while
    ``SIGNALKIT_VALIDATE_ARGS`` is on, checks the keyword arguments of every
    send against *args* (required) and *optional_args* before any receiver
    runs.

    :param name: dotted name; defaults to ``"<module>.<attribute>"`` of the
        module attribute the signal is assigned to.
    :param args: required argument names, or a mapping of name to a one-line
        description.
    :param optional_args: arguments a send may leave out, in the same form.
    :param doc: what the signal means and when it is sent.
    :param use_caching: as for ``django.dispatch.Signal``.
    """

    registers_itself: ClassVar[bool] = True
    """signalkit signals register themselves: ``registry.register()`` refuses
    to give one a second name."""

    def __init__(
        self,
        *,
        name: str | None = None,
        args: ArgsSpec = (),
        optional_args: ArgsSpec = (),
        doc: str = "",
        use_caching: bool = False,
    ) -> None:
        frame = _definition_frame(self)
        defined_at = f"{frame.f_code.co_filename}:{frame.f_lineno}"
        owner = name if isinstance(name, str) else f"Signal defined at {defined_at}"
        required, optional = declare(args, optional_args, owner=owner)
        super().__init__(use_caching=use_caching)
        self._module: str = frame.f_globals.get("__name__", "__main__")
        self._defined_at = defined_at
        self._args = MappingProxyType(required)
        self._optional_args = MappingProxyType(optional)
        self._doc = doc
        self._required_keys = frozenset(required)
        self._allowed_keys = frozenset(required) | frozenset(optional)
        self._register(name)

    def _register(self, name: str | None) -> None:
        registry.register(
            self,
            name=name,
            args=self._args,
            optional_args=self._optional_args,
            doc=self._doc,
            module=self._module,
            defined_at=self._defined_at,
        )

    def __set_name__(self, owner: type, attribute: str) -> None:
        # Declared in a class body: name it after the class, unless the class
        # lives inside a function and has no importable name.
        if registry.name_of(self) is None and "<locals>" not in owner.__qualname__:
            self._register(f"{owner.__module__}.{owner.__qualname__}.{attribute}")

    @property
    def name(self) -> str:
        """The dotted name under which the signal is registered."""
        return registry.require_name(self)

    @property
    def args(self) -> Mapping[str, str]:
        """Required arguments, name to description."""
        return self._args

    @property
    def optional_args(self) -> Mapping[str, str]:
        """Optional arguments, name to description."""
        return self._optional_args

    @property
    def doc(self) -> str:
        """What the signal means and when it is sent."""
        return self._doc

    def _label(self) -> str:
        return registry.label(self) or f"<signal defined at {self._defined_at}>"

    def _check_arguments(self, method: str, named: Mapping[str, Any]) -> None:
        if conf.VALIDATE_ARGS is False:
            return
        if named.keys() - self._allowed_keys or self._required_keys - named.keys():
            raise argument_error(
                self._label(),
                method,
                named,
                list(self._args),
                list(self._optional_args),
            )

    # Each send checks the arguments, then runs Django's method, looked up at
    # call time: whatever is in place then (Django's own, or the pipeline
    # while something observes) runs the send. Nothing is saved at import.
    # Where Django's own method would return [] at once, it is not called:
    # passing every argument a second time would cost more than the rest.

    def send(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        if named.keys() != self._required_keys:
            self._check_arguments("send", named)
        method = DjangoSignal.send
        if (
            not self.receivers
            or self.sender_receivers_cache.get(sender) is NO_RECEIVERS
        ) and (_DJANGOS_SEND.get(method) or is_djangos(method, "send")):
            return []
        return method(self, sender, **named)

    def send_robust(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        if named.keys() != self._required_keys:
            self._check_arguments("send_robust", named)
        method = DjangoSignal.send_robust
        if (
            not self.receivers
            or self.sender_receivers_cache.get(sender) is NO_RECEIVERS
        ) and (_DJANGOS_SEND_ROBUST.get(method) or is_djangos(method, "send_robust")):
            return []
        return method(self, sender, **named)

    async def asend(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        if named.keys() != self._required_keys:
            self._check_arguments("asend", named)
        return await DjangoSignal.asend(self, sender, **named)

    async def asend_robust(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        if named.keys() != self._required_keys:
            self._check_arguments("asend_robust", named)
        return await DjangoSignal.asend_robust(self, sender, **named)

    def send_on_commit(
        self, sender: Any, *, using: str | None = None, **named: Any
    ) -> None:
        """Send when the current transaction on *using* commits.

        The arguments are checked at once, so a mistake raises here; outside a
        transaction the signal is sent immediately; after a rollback it is
        never sent. A signal that declares an argument named ``using`` gets
        the database alias passed on as that argument too.
        """
        if "using" in self._allowed_keys:
            named["using"] = using
        if named.keys() != self._required_keys:
            self._check_arguments("send_on_commit", named)
        transaction.on_commit(lambda: self.send(sender, **named), using=using)
