"""``signalkit.receiver``: Django's ``receiver`` decorator, plus background receivers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

from django.conf import settings
from django.dispatch import Signal as DjangoSignal
from django.utils.inspect import func_accepts_kwargs

from signalkit.naming import callable_name

if TYPE_CHECKING:
    from signalkit.signals import P, Signal

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")

if TYPE_CHECKING:

    class _TypedReceiver(Protocol[P]):
        """``@receiver(sig)`` for a ``Signal[P]``: takes a function that can
        take P."""

        def __call__(self, receiver: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def receiver(
    signal: Signal[P],
    *,
    sender: Any = None,
    weak: bool = True,
    dispatch_uid: Any = None,
    background: bool = False,
    **task_options: Any,
) -> _TypedReceiver[P]: ...


@overload
def receiver(
    signal: DjangoSignal | list[DjangoSignal] | tuple[DjangoSignal, ...],
    *,
    sender: Any = None,
    weak: bool = True,
    dispatch_uid: Any = None,
    background: bool = False,
    **task_options: Any,
) -> _TypedReceiver[...]: ...


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
            f"receiver() got task options "
            f"{', '.join(map(repr, sorted(task_options)))} without background=True."
        )

    def decorator(func: F) -> F:
        if (
            settings.configured
            and settings.DEBUG
            and callable(func)
            and not func_accepts_kwargs(func)
        ):
            # Django's own check says only "Signal receivers must accept
            # keyword arguments (**kwargs).", without naming the function.
            raise ValueError(
                f"Signal receiver {callable_name(func)} must accept keyword "
                f"arguments (**kwargs): declare it as def "
                f"{getattr(func, '__name__', 'receiver')}(sender, ..., **kwargs)."
            )
        if background:
            from signalkit.background import connect_background

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
