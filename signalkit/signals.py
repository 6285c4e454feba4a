"""``signalkit.Signal``: a ``django.dispatch.Signal`` that declares its arguments."""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Mapping
from types import FrameType, MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

from django.db import transaction
from django.dispatch import Signal as DjangoSignal
from django.dispatch.dispatcher import NO_RECEIVERS

from signalkit.conf import conf
from signalkit.contract import ArgsSpec, argument_error, declare
from signalkit.fingerprints import is_djangos, known
from signalkit.registry import registry
from signalkit.runtime_types import ArgumentTypes

if TYPE_CHECKING:
    # PEP 696's default: a Signal whose arguments no declaration gives
    # (Signal(args=...)) is Signal[...], which accepts any arguments.
    from typing_extensions import ParamSpec

    P = ParamSpec("P", default=...)
else:
    from typing import ParamSpec

    P = ParamSpec("P")

R = TypeVar("R")

if TYPE_CHECKING:

    class _SendMethod(Generic[R]):
        """What type checkers see of a send method: on a ``Signal[P]`` it
        takes exactly the arguments *P* describes."""

        def __init__(self, method: Callable[..., R]) -> None: ...
        @overload
        def __get__(self, instance: None, owner: type[Any]) -> Callable[..., R]: ...
        @overload
        def __get__(self, instance: Signal[P], owner: type[Any]) -> Callable[P, R]: ...
        def __get__(self, instance: object, owner: type[Any]) -> Callable[..., R]: ...

else:

    def _SendMethod(method):
        # Only for type checkers: at run time the method itself, so a send
        # costs no extra call.
        return method


# Per method: function -> whether it is Django's own (filled by is_djangos()).
_DJANGOS_SEND = known("send")
_DJANGOS_SEND_ROBUST = known("send_robust")


def _definition_frame(signal: DjangoSignal) -> FrameType:
    """The frame that created *signal*, skipping subclasses' ``__init__``."""
    frame = sys._getframe(2)
    while frame.f_back is not None and frame.f_locals.get("self") is signal:
        frame = frame.f_back
    return frame


class Signal(DjangoSignal, Generic[P]):
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

    ``Signal`` is generic in a ``ParamSpec``: a signal declared with
    :func:`signalkit.signal` is a ``Signal[(sender: type[Post], *, post: Post,
    user: User)]``, and type checkers hold every send and receiver to that
    signature; ``Signal(args=...)`` is a ``Signal[...]``, which accepts any.
    """

    registers_itself: ClassVar[bool] = True
    """signalkit signals register themselves: ``registry.register()`` refuses
    to give one a second name."""

    _checks_before_send: tuple[
        Callable[[DjangoSignal, Any, dict[str, Any]], None], ...
    ] = ()

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
        self._setup(
            name=name,
            args=args,
            optional_args=optional_args,
            doc=doc,
            use_caching=use_caching,
            module=frame.f_globals.get("__name__", "__main__"),
            defined_at=f"{frame.f_code.co_filename}:{frame.f_lineno}",
            types=None,
        )

    @classmethod
    def _declared(
        cls,
        *,
        name: str | None,
        args: ArgsSpec,
        optional_args: ArgsSpec,
        doc: str,
        use_caching: bool,
        module: str,
        defined_at: str,
        types: ArgumentTypes,
    ) -> Signal[...]:
        """A signal declared by :func:`signalkit.signal`, which knows where the
        declaration is and the type of each argument."""
        self = cls.__new__(cls)
        self._setup(
            name=name,
            args=args,
            optional_args=optional_args,
            doc=doc,
            use_caching=use_caching,
            module=module,
            defined_at=defined_at,
            types=types,
        )
        return self

    def _setup(
        self,
        *,
        name: str | None,
        args: ArgsSpec,
        optional_args: ArgsSpec,
        doc: str,
        use_caching: bool,
        module: str,
        defined_at: str,
        types: ArgumentTypes | None,
    ) -> None:
        owner = name if isinstance(name, str) else f"Signal defined at {defined_at}"
        required, optional = declare(args, optional_args, owner=owner)
        super().__init__(use_caching=use_caching)
        self._module: str = module
        self._defined_at = defined_at
        self._args = MappingProxyType(required)
        self._optional_args = MappingProxyType(optional)
        self._doc = doc
        self._types = types
        self._declared_keys = frozenset(required)
        self._allowed_keys = frozenset(required) | frozenset(optional)
        # The sends whose argument names equal this set skip _check_arguments.
        # A typed signal starts unsettled (no send matches it): its first
        # send reads SIGNALKIT_CHECK_TYPES, and settles it while that is off.
        self._required_keys: frozenset[Any] = (
            _UNSETTLED if types else self._declared_keys
        )
        self._register(name)
        if types:
            _typed_signals.add(self)

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

    @property
    def arg_types(self) -> Mapping[str, str]:
        """Each argument's type as written in its :func:`~signalkit.signal`
        declaration (empty for ``Signal(args=...)``)."""
        return MappingProxyType({} if self._types is None else self._types.texts)

    def resolved_annotations(self) -> dict[str, object]:
        """Argument name to its annotation resolved at run time (empty for
        ``Signal(args=...)``; those that cannot be resolved are left out:
        see :meth:`unresolved_annotations`)."""
        return {} if self._types is None else self._types.resolved()

    def unresolved_annotations(self) -> dict[str, str]:
        """Argument name to why its annotation cannot be resolved at run time
        (a name imported under ``TYPE_CHECKING``): ``SIGNALKIT_CHECK_TYPES``
        skips those arguments."""
        return {} if self._types is None else self._types.unresolved()

    if TYPE_CHECKING:
        # Only the type differs from Django's: a receiver must take P.
        def connect(
            self,
            receiver: Callable[P, Any],
            sender: Any = None,
            weak: bool = True,
            dispatch_uid: Any = None,
        ) -> None: ...

    def _label(self) -> str:
        return registry.label(self) or f"<signal defined at {self._defined_at}>"

    def check_before_send(
        self, check: Callable[[DjangoSignal, Any, dict[str, Any]], None]
    ) -> None:
        """Call ``check(signal, sender, arguments)`` at each send, before any
        receiver runs; an exception it raises fails the send there.

        Background receivers encode their arguments with it, so that a value
        that cannot travel fails the send before the first receiver runs.
        """
        if check not in self._checks_before_send:
            self._checks_before_send = (*self._checks_before_send, check)

    def _run_checks_before_send(self, sender: Any, named: dict[str, Any]) -> None:
        for check in self._checks_before_send:
            check(self, sender, named)

    def _check_arguments(self, method: str, named: Mapping[str, Any]) -> None:
        if conf.VALIDATE_ARGS is not False and (
            named.keys() - self._allowed_keys or self._declared_keys - named.keys()
        ):
            raise argument_error(
                self._label(),
                method,
                named,
                list(self._args),
                list(self._optional_args),
            )
        if self._types is not None:
            if conf.CHECK_TYPES:
                self._types.check(self._label(), method, named)
            else:
                self._required_keys = self._declared_keys

    # Each send checks the arguments, then runs Django's method, looked up at
    # call time: whatever is in place then (Django's own, or the pipeline
    # while something observes) runs the send. Nothing is saved at import.
    # Where Django's own method would return [] at once, it is not called:
    # passing every argument a second time would cost more than the rest.

    @_SendMethod
    def send(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        if named.keys() != self._required_keys:
            self._check_arguments("send", named)
        if self._checks_before_send:
            self._run_checks_before_send(sender, named)
        method = DjangoSignal.send
        if (
            not self.receivers
            or self.sender_receivers_cache.get(sender) is NO_RECEIVERS
        ) and (_DJANGOS_SEND.get(method) or is_djangos(method, "send")):
            return []
        return method(self, sender, **named)

    @_SendMethod
    def send_robust(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        if named.keys() != self._required_keys:
            self._check_arguments("send_robust", named)
        if self._checks_before_send:
            self._run_checks_before_send(sender, named)
        method = DjangoSignal.send_robust
        if (
            not self.receivers
            or self.sender_receivers_cache.get(sender) is NO_RECEIVERS
        ) and (_DJANGOS_SEND_ROBUST.get(method) or is_djangos(method, "send_robust")):
            return []
        return method(self, sender, **named)

    @_SendMethod
    async def asend(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        if named.keys() != self._required_keys:
            self._check_arguments("asend", named)
        if self._checks_before_send:
            self._run_checks_before_send(sender, named)
        return await DjangoSignal.asend(self, sender, **named)

    @_SendMethod
    async def asend_robust(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        if named.keys() != self._required_keys:
            self._check_arguments("asend_robust", named)
        if self._checks_before_send:
            self._run_checks_before_send(sender, named)
        return await DjangoSignal.asend_robust(self, sender, **named)

    @_SendMethod
    def send_on_commit(
        self: Signal[...], sender: Any, *, using: str | None = None, **named: Any
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

    def send_on_commit_using(
        self, using: str | None, /, *args: P.args, **named: P.kwargs
    ) -> None:
        """:meth:`send_on_commit` on the transaction of database *using*.

        ``send_on_commit(..., using="replica")`` does the same at run time,
        but a type checker holds the arguments of a typed signal to its
        declaration, where ``using`` has no place unless the signal declares
        it.
        """
        send_on_commit: Callable[..., None] = self.send_on_commit
        send_on_commit(*args, using=using, **named)


# Never equal to the names of a send's keyword arguments (they are strings).
_UNSETTLED: frozenset[Any] = frozenset({0})

_typed_signals: weakref.WeakSet[Signal[...]] = weakref.WeakSet()


def _unsettle_typed_signals() -> None:
    # SIGNALKIT_CHECK_TYPES may have changed: each typed signal's next send
    # reads it again.
    for signal in list(_typed_signals):
        signal._required_keys = _UNSETTLED


conf.on_clear(_unsettle_typed_signals)
