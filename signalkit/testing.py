"""Test helpers: capture the signals a piece of code sends, or mute them.

.. code-block:: python

    from signalkit.testing import capture, mute

    with capture("blog.signals.post_published") as signals:
        publish(post, user=alice)
    signals.assert_sent("blog.signals.post_published", sender=Post, post=post)

    with mute("django.db.models.signals.post_save"):
        User.objects.create(username="quiet")  # no profile is created

Both work only in the current thread or asyncio task: a request served by
another thread at the same moment sends and receives as usual.
"""

from __future__ import annotations

import functools
import inspect
import sys
import unittest
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any, TypeVar, cast

from django.dispatch import Signal as DjangoSignal

from signalkit.conf import conf
from signalkit.naming import receiver_key
from signalkit.recording import Recorder, SendRecord, muting, record, signal_label
from signalkit.registry import registry
from signalkit.summaries import summarize

__all__ = ["Capture", "capture", "mute"]

SignalLike = DjangoSignal | str
_T = TypeVar("_T")

# How many sends of other signals a failure message lists.
_MAX_OTHERS = 20


class _Any:
    """The default of ``assert_sent(sender=...)``: any sender."""

    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()


def resolve_signals(signals: Iterable[SignalLike]) -> tuple[DjangoSignal, ...]:
    """Signals for signal objects or dotted registry names.

    :raises signalkit.exceptions.UnknownSignalError: for an unknown name.
    """
    return tuple(registry.resolve(signal) for signal in signals)


def _summary(value: Any) -> str:
    return summarize(
        value, max_length=conf.SUMMARY_MAX_LENGTH, sensitive=conf.SENSITIVE_ARGS
    )


class Capture:
    """The sends seen by one :func:`capture` block.

    Muted sends are included, with :attr:`SendRecord.muted
    <signalkit.recording.SendRecord.muted>` set and no receivers.
    """

    def __init__(
        self, recorder: Recorder, signals: tuple[DjangoSignal, ...] | None
    ) -> None:
        self._recorder = recorder
        self._signals = signals

    @property
    def signals(self) -> tuple[DjangoSignal, ...] | None:
        """The captured signals, or ``None`` when everything is captured."""
        return self._signals

    @property
    def sends(self) -> list[SendRecord]:
        """Each captured send in the order it started, nested sends included.

        A :class:`~signalkit.recording.SendRecord` has the ``signal``,
        ``sender`` and ``kwargs`` of the send and the ``receivers`` that ran.
        """
        sends = list(self._recorder.sends)
        if self._signals is None:
            return sends
        wanted = {id(signal) for signal in self._signals}
        return [send for send in sends if id(send.signal) in wanted]

    def sends_of(self, signal: SignalLike) -> list[SendRecord]:
        """The captured sends of *signal* (an object or a dotted name)."""
        resolved = self._captured(signal)
        return [send for send in self.sends if send.signal is resolved]

    def assert_sent(
        self,
        signal: SignalLike,
        *,
        sender: Any = ANY,
        times: int | None = None,
        **kwargs: Any,
    ) -> list[SendRecord]:
        """Assert that *signal* was sent, and return the matching sends.

        :param sender: the sender the send must have (compared with ``==``);
            any sender if left out.
        :param times: exactly how many matching sends there must be; at least
            one if left out.
        :param kwargs: arguments the send must have had, compared with
            ``==``; arguments not given here are not checked.
        :raises AssertionError: listing what was sent instead.
        """
        __tracebackhide__ = True
        resolved = self._captured(signal)
        if times is not None and times < 0:
            raise ValueError(f"times must be 0 or more, not {times!r}.")
        of_signal = [send for send in self.sends if send.signal is resolved]
        matching = [
            send for send in of_signal if _matches(send, sender=sender, kwargs=kwargs)
        ]
        if (times is None and matching) or len(matching) == times:
            return matching
        expectation = _expectation(resolved, sender=sender, kwargs=kwargs)
        if times is None:
            headline = f"Expected {expectation} to be sent; it was not."
        else:
            headline = (
                f"Expected {expectation} to be sent {_times(times)}; it was sent "
                f"{_times(len(matching))}."
            )
        raise AssertionError(
            headline + "\n" + self._report(resolved, sender=sender, kwargs=kwargs)
        )

    def assert_not_sent(self, signal: SignalLike) -> None:
        """Assert that *signal* was not sent (muted sends count as sent).

        :raises AssertionError: listing the sends of *signal*.
        """
        __tracebackhide__ = True
        resolved = self._captured(signal)
        of_signal = [send for send in self.sends if send.signal is resolved]
        if of_signal:
            raise AssertionError(
                f"Expected {signal_label(resolved)} not to be sent; it was sent "
                f"{_times(len(of_signal))}:\n" + _listing(of_signal)
            )

    def _captured(self, signal: SignalLike) -> DjangoSignal:
        (resolved,) = resolve_signals([signal])
        if self._signals is not None and all(
            resolved is not each for each in self._signals
        ):
            captured = ", ".join(signal_label(each) for each in self._signals)
            raise ValueError(
                f"{signal_label(resolved)} is not captured here (captured: "
                f"{captured}); add it to capture(...)."
            )
        return resolved

    def _report(
        self, signal: DjangoSignal, *, sender: Any, kwargs: dict[str, Any]
    ) -> str:
        of_signal = [send for send in self.sends if send.signal is signal]
        others = [send for send in self.sends if send.signal is not signal]
        if of_signal:
            lines = [f"Sends of {signal_label(signal)}:"]
            lines += [
                line
                for send in of_signal
                for line in _describe_send(send, sender=sender, kwargs=kwargs)
            ]
        else:
            lines = [f"{signal_label(signal)} was not sent at all."]
        if others:
            lines.append("Other signals sent:")
            lines.append(_listing(others[:_MAX_OTHERS]))
            if len(others) > _MAX_OTHERS:
                lines.append(f"  … and {len(others) - _MAX_OTHERS} more")
        elif not of_signal:
            lines.append("No signals were sent.")
        return "\n".join(lines)


def _matches(send: SendRecord, *, sender: Any, kwargs: dict[str, Any]) -> bool:
    if sender is not ANY and send.sender != sender:
        return False
    return all(
        name in send.kwargs and send.kwargs[name] == value
        for name, value in kwargs.items()
    )


def _times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"


def _expectation(signal: DjangoSignal, *, sender: Any, kwargs: dict[str, Any]) -> str:
    parts = [] if sender is ANY else [f"sender={_summary(sender)}"]
    parts += [f"{name}={_summary(value)}" for name, value in kwargs.items()]
    label = signal_label(signal)
    return f"{label}({', '.join(parts)})" if parts else label


def _send_line(send: SendRecord) -> str:
    arguments = ", ".join(f"{name}={value}" for name, value in send.arguments.items())
    text = f"{send.signal_name}(sender={send.sender_label}"
    text += f", {arguments})" if arguments else ")"
    if send.muted:
        text += " [muted]"
    return text


def _listing(sends: list[SendRecord]) -> str:
    return "\n".join(
        f"  {index}. {'  ' * send.depth}{_send_line(send)}"
        for index, send in enumerate(sends, start=1)
    )


def _describe_send(
    send: SendRecord, *, sender: Any, kwargs: dict[str, Any]
) -> list[str]:
    """The send, and how it differs from what was expected."""
    lines = [f"  - {_send_line(send)}"]
    if sender is not ANY and send.sender != sender:
        lines.append(
            f"      sender: expected {_summary(sender)}, got {send.sender_label}"
        )
    for name, value in kwargs.items():
        if name not in send.kwargs:
            lines.append(f"      {name}: expected {_summary(value)}, not passed")
        elif send.kwargs[name] != value:
            lines.append(
                f"      {name}: expected {_summary(value)}, got "
                f"{_summary(send.kwargs[name])}"
            )
    return lines


@contextmanager
def capture(*signals: SignalLike) -> Iterator[Capture]:
    """Capture the sends of *signals* (objects or dotted names) in this block.

    With no arguments, every signal is captured. Only the current thread or
    asyncio task is seen. Nothing is left out for size: unlike the debug
    toolbar's recording, a capture keeps every send of the block.

    :raises signalkit.exceptions.UnknownSignalError: for an unknown name.
    """
    resolved = resolve_signals(signals) if signals else None
    with record(keep_values=True, max_sends=sys.maxsize) as recorder:
        yield Capture(recorder, resolved)


class mute:  # lower case: used like a function, as contextlib.suppress is
    """Stop the receivers of *signals* from running, in this thread or task only.

    Use it as a context manager, or as a decorator of:

    * a function or coroutine function: muted while it runs;
    * a :class:`unittest.TestCase` class (Django's ``TestCase`` included):
      every test is muted with its ``setUp`` and ``tearDown``, and so are
      ``setUpClass`` (Django's ``setUpTestData``) and ``tearDownClass``; the
      class stays a class, so pytest and unittest still find its tests;
    * a factory_boy factory: building or creating an object is muted, as
      with factory_boy's ``mute_signals``.

    Anything else is refused with a :exc:`TypeError`. Connections are never
    touched: muting works through a context variable, so another thread
    (say, a request served at the same moment) still runs every receiver,
    and nothing needs restoring afterwards, even when the body raises. Muted
    sends are still recorded, with :attr:`SendRecord.muted
    <signalkit.recording.SendRecord.muted>` set.

    Signals are objects or dotted registry names; names are looked up when
    the block starts (or the decorated function is called).

    :param sender: mute only the sends by this sender (compared as Django
        compares senders, by identity); other senders' sends run as usual.
        ``None``, the default, is every sender, as in ``Signal.connect()``.
    :param receiver: skip only this receiver (or each receiver of a list or
        tuple); the others run, in their order. A skipped receiver gives no
        entry in the list ``send()`` returns, as if it were not connected for
        that send, and is recorded in :attr:`SendRecord.muted_receivers
        <signalkit.recording.SendRecord.muted_receivers>`. It must be
        connected to every signal given when the block starts.

    Both may be given: only that receiver, only for that sender. Neither
    changes a connection or Django's sender cache.

    :raises signalkit.exceptions.UnknownSignalError: for an unknown name.
    :raises TypeError: for a receiver that is not callable.
    :raises ValueError: for a receiver not connected to one of the signals.
    """

    def __init__(
        self,
        *signals: SignalLike,
        sender: Any = None,
        receiver: Callable[..., Any] | Iterable[Callable[..., Any]] | None = None,
    ) -> None:
        if not signals:
            raise TypeError("mute() needs at least one signal or dotted name.")
        self._signals = signals
        self._sender = sender
        self._receivers = _receivers(receiver)
        self._stacks: list[ExitStack] = []

    def _muting(self) -> AbstractContextManager[None]:
        resolved = resolve_signals(self._signals)
        if self._receivers is not None:
            for signal in resolved:
                for receiver in self._receivers:
                    _check_connected(signal, receiver)
        return muting(
            frozenset(resolved), sender=self._sender, receivers=self._receivers
        )

    def __enter__(self) -> None:
        stack = ExitStack()
        stack.enter_context(self._muting())
        self._stacks.append(stack)

    def __exit__(self, *exc_info: object) -> None:
        self._stacks.pop().close()

    def __call__(self, decorated: _T) -> _T:
        if inspect.isclass(decorated):
            if issubclass(decorated, unittest.TestCase):
                return cast(_T, self._decorate_test_case(decorated))
            if _is_factory(decorated):
                return cast(_T, self._decorate_factory(decorated))
            raise TypeError(
                f"@mute(...) decorates functions, coroutine functions, "
                f"unittest.TestCase classes and factory_boy factories, not the "
                f"class {_qualified(decorated)}. For a pytest test class, use "
                f"@pytest.mark.mute_signals(...); elsewhere, use "
                f"'with mute(...):' in the methods to mute."
            )
        if inspect.isgeneratorfunction(decorated) or inspect.isasyncgenfunction(
            decorated
        ):
            # A wrapper would mute only the creation of the generator, not its body.
            raise TypeError(
                f"@mute(...) cannot decorate the generator function "
                f"{_qualified(decorated)}: its body runs after the call returns. "
                f"Use 'with mute(...):' inside it."
            )
        if not callable(decorated):
            raise TypeError(
                f"@mute(...) decorates functions, coroutine functions, "
                f"unittest.TestCase classes and factory_boy factories, not "
                f"{type(decorated).__name__} {decorated!r}."
            )
        return cast(_T, self._decorate_function(decorated))

    def _decorate_function(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self._muting():
                    return await func(*args, **kwargs)

            return async_wrapper

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._muting():
                return func(*args, **kwargs)

        return wrapper

    def _decorate_test_case(
        self, cls: type[unittest.TestCase]
    ) -> type[unittest.TestCase]:
        # As Django's override_settings does: muting starts before setUp and
        # ends with the test's cleanups, which run after tearDown.
        decorated_set_up = cls.setUp

        def setUp(test: unittest.TestCase) -> None:
            stack = ExitStack()
            stack.enter_context(self._muting())
            test.addCleanup(stack.close)
            decorated_set_up(test)

        functools.update_wrapper(setUp, decorated_set_up)
        cls.setUp = setUp  # type: ignore[method-assign,assignment]
        # Each class-level hook muted on its own: pytest runs them in fixtures
        # of their own, so one muting cannot span from setUpClass to tearDownClass.
        for name in ("setUpClass", "tearDownClass"):
            hook = getattr(cls, name).__func__
            setattr(cls, name, classmethod(self._decorate_function(hook)))
        return cls

    def _decorate_factory(self, factory: type[Any]) -> type[Any]:
        # factory_boy's mute_signals wraps _generate too: build(), create()
        # and stub() all go through it, post-generation hooks included.
        generate = factory._generate.__func__
        factory._generate = classmethod(self._decorate_function(generate))
        return factory


def _receivers(
    receiver: Callable[..., Any] | Iterable[Callable[..., Any]] | None,
) -> tuple[Callable[..., Any], ...] | None:
    """The receivers of ``mute(receiver=...)``, checked to be callable."""
    if receiver is None:
        return None
    receivers: tuple[Callable[..., Any], ...]
    if isinstance(receiver, (list, tuple)):
        receivers = tuple(receiver)
    else:  # one receiver (an iterable callable object is one too)
        receivers = (cast("Callable[..., Any]", receiver),)
    if not receivers:
        raise TypeError("mute(receiver=...) needs at least one receiver.")
    for each in receivers:
        if not callable(each):
            raise TypeError(
                f"mute(receiver=...) takes receivers (callables), not "
                f"{type(each).__name__} {each!r}; import the receiver and pass it."
            )
    return receivers


def _check_connected(signal: DjangoSignal, receiver: Callable[..., Any]) -> None:
    """Refuse to skip a receiver that *signal* would never run: a typo, or a
    receiver connected to another signal, would otherwise mute nothing."""
    key = receiver_key(receiver)
    for connection in signal.receivers:
        connected = connection[1]
        if isinstance(connected, weakref.ReferenceType):
            connected = connected()
        if connected is not None and receiver_key(connected) == key:
            return
    raise ValueError(
        f"mute(receiver=...): {_qualified(receiver)} is not connected to "
        f"{signal_label(signal)}, so muting it there would mute nothing."
    )


def _is_factory(cls: type[Any]) -> bool:
    """Whether *cls* is a factory_boy factory (factory_boy is optional)."""
    factory_base = sys.modules.get("factory.base")
    return factory_base is not None and isinstance(cls, factory_base.FactoryMetaClass)


def _qualified(obj: Any) -> str:
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or repr(obj)
    return f"{module}.{name}" if module else name
