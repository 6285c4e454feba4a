"""``signalkit.Signal``: a ``django.dispatch.Signal`` that declares its arguments."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from types import FrameType, MappingProxyType
from typing import Any, TypeVar

from django.db import transaction
from django.dispatch import Signal as DjangoSignal

from signalkit.conf import conf
from signalkit.exceptions import SignalArgumentError, SignalNameError
from signalkit.registry import ArgsSpec, normalize_args, registry

F = TypeVar("F", bound=Callable[..., Any])


def _definition_frame(signal: DjangoSignal) -> FrameType:
    """The frame that created *signal*, skipping subclasses' ``__init__``."""
    frame = sys._getframe(2)
    while frame.f_back is not None and frame.f_locals.get("self") is signal:
        frame = frame.f_back
    return frame


def _quote(names: Any) -> str:
    return ", ".join(repr(name) for name in sorted(names))


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
        required = normalize_args(args, owner=owner, what="args")
        optional = normalize_args(optional_args, owner=owner, what="optional_args")
        super().__init__(use_caching=use_caching)
        self._module: str = frame.f_globals.get("__name__", "__main__")
        self._defined_at = defined_at
        self._args = MappingProxyType(required)
        self._optional_args = MappingProxyType(optional)
        self._doc = doc
        self._required_keys = frozenset(required)
        self._allowed_keys = frozenset(required) | frozenset(optional)
        self._name: str | None = None
        if name is None:
            registry._add_pending(self)
        else:
            self._bind_name(name)

    def _bind_name(self, name: str) -> None:
        entry = registry._make_entry(
            self,
            name=name,
            args=self._args,
            optional_args=self._optional_args,
            doc=self._doc,
            module=self._module,
            defined_at=self._defined_at,
        )
        registry._add(entry)
        self._name = name

    def __set_name__(self, owner: type, attribute: str) -> None:
        # Declared in a class body: name it after the class, unless the class
        # lives inside a function and has no importable name.
        if self._name is None and "<locals>" not in owner.__qualname__:
            self._bind_name(f"{owner.__module__}.{owner.__qualname__}.{attribute}")

    @property
    def name(self) -> str:
        """The dotted name under which the signal is registered."""
        if self._name is None:
            registry._resolve_pending()
            if self._name is None:
                raise SignalNameError(self._unnamed_message())
        return self._name

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

    def _unnamed_message(self) -> str:
        module = sys.modules.get(self._module)
        spec = getattr(module, "__spec__", None)
        if module is not None and getattr(spec, "_initializing", False):
            reason = f"module {self._module!r} has not finished importing"
        else:
            reason = f"it is not assigned to an attribute of module {self._module!r}"
        return (
            f"The signal defined at {self._defined_at} has no name yet: {reason}. "
            f"Pass name='...' to signalkit.Signal() to name it explicitly."
        )

    def _label(self) -> str:
        try:
            return self.name
        except SignalNameError:
            return f"<signal defined at {self._defined_at}>"

    def _check_arguments(self, method: str, named: Mapping[str, Any]) -> None:
        if not conf.VALIDATE_ARGS:
            return
        keys = named.keys()
        missing = self._required_keys - keys
        unexpected = keys - self._allowed_keys
        if not missing and not unexpected:
            return
        problems = []
        if missing:
            plural = "s" if len(missing) > 1 else ""
            problems.append(f"missing required argument{plural} {_quote(missing)}")
        if unexpected:
            plural = "s" if len(unexpected) > 1 else ""
            problems.append(f"got unexpected argument{plural} {_quote(unexpected)}")
        declared = ", ".join(self._args) or "none"
        if self._optional_args:
            declared += "; optional: " + ", ".join(self._optional_args)
        raise SignalArgumentError(
            f"{self._label()}.{method}() {' and '.join(problems)} "
            f"(declared: {declared})"
        )

    # Each send checks the arguments, then runs Django's own method, looked up
    # at call time so that an active recorder sees the send too.

    def send(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        if named.keys() != self._required_keys:
            self._check_arguments("send", named)
        return DjangoSignal.send(self, sender, **named)

    def send_robust(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        if named.keys() != self._required_keys:
            self._check_arguments("send_robust", named)
        return DjangoSignal.send_robust(self, sender, **named)

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


def receiver(
    signal: DjangoSignal | list[DjangoSignal] | tuple[DjangoSignal, ...],
    *,
    sender: Any = None,
    weak: bool = True,
    dispatch_uid: Any = None,
    background: bool = False,
    **task_options: Any,
) -> Callable[[F], F]:
    """Connect the decorated function to one signal or a list of signals.

    Works like ``django.dispatch.receiver``. With ``background=True`` the
    function is not called in-process: each send enqueues a task on the
    Django Tasks framework instead (see :doc:`/background`); *task_options*
    (``queue_name``, ``priority``, ``backend``) configure that task.
    """
    signals = list(signal) if isinstance(signal, (list, tuple)) else [signal]
    if task_options and not background:
        raise TypeError(
            f"receiver() got task options {_quote(task_options)} without "
            f"background=True."
        )

    def decorator(func: F) -> F:
        if background:
            from signalkit.tasks import connect_background

            for each in signals:
                connect_background(
                    each,
                    func,
                    sender=sender,
                    dispatch_uid=dispatch_uid,
                    **task_options,
                )
        else:
            for each in signals:
                each.connect(func, sender=sender, weak=weak, dispatch_uid=dispatch_uid)
        return func

    return decorator
