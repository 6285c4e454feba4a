"""Small programs of signals, receivers and sends, and their Hypothesis strategy.

A program is plain, frozen data (so Hypothesis can shrink it and print it as
an ``@example``): the signals it declares, the receivers it defines (connected
from the start or only by another receiver), and the sends its top level
makes, each from sync or from async code. Receivers send only signals
declared after their own, so every program ends.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

Method = Literal["send", "send_robust", "asend", "asend_robust"]
METHODS: tuple[Method, ...] = ("send", "send_robust", "asend", "asend_robust")
OpKind = Literal["connect", "disconnect", "send", "setvar", "baggage"]


@dataclass(frozen=True)
class SignalSpec:
    signalkit: bool
    """A ``signalkit.Signal`` (args ``["value"]``) rather than Django's."""
    use_caching: bool = False


@dataclass(frozen=True)
class Op:
    """Something a receiver does before it returns or raises."""

    kind: OpKind
    target: int = 0
    """The receiver to connect or disconnect, or the signal to send."""
    method: Method = "send"


@dataclass(frozen=True)
class ReceiverSpec:
    signal: int
    is_async: bool = False
    outcome: Literal["return", "raise", "raise_base"] = "return"
    """Return a fresh object, raise an ``Exception`` or a ``BaseException``."""
    weak: bool = True
    alive: bool = True
    """False: a weak receiver whose only reference is dropped before the sends."""
    sender: int | None = None
    """Connected for one of the two senders only, or for any."""
    dispatch_uid: str | None = None
    connected: bool = True
    """Connected before the sends; otherwise only by another receiver."""
    ops: tuple[Op, ...] = ()


@dataclass(frozen=True)
class SendSpec:
    signal: int
    sender: int = 0
    method: Method = "send"
    from_async: bool = False


@dataclass(frozen=True)
class Program:
    signals: tuple[SignalSpec, ...]
    receivers: tuple[ReceiverSpec, ...]
    sends: tuple[SendSpec, ...]


SENDER_COUNT = 2


@st.composite
def _op(draw: st.DrawFn, signal: int, signal_count: int, receiver_count: int) -> Op:
    kinds: list[OpKind] = ["connect", "disconnect", "setvar", "baggage"]
    if signal + 1 < signal_count:
        kinds.append("send")
    kind = draw(st.sampled_from(kinds))
    if kind == "send":
        target = draw(st.integers(signal + 1, signal_count - 1))
        return Op("send", target, draw(st.sampled_from(METHODS)))
    if kind == "connect" or kind == "disconnect":
        return Op(kind, draw(st.integers(0, receiver_count - 1)))
    return Op(kind)


@st.composite
def _receiver(draw: st.DrawFn, signal_count: int, receiver_count: int) -> ReceiverSpec:
    signal = draw(st.integers(0, signal_count - 1))
    weak = draw(st.booleans())
    connected = draw(st.sampled_from([True, True, False]))
    return ReceiverSpec(
        signal=signal,
        is_async=draw(st.booleans()),
        outcome=draw(st.sampled_from(["return", "return", "raise", "raise_base"])),
        weak=weak,
        # Only a receiver connected from the start can be dead before the sends.
        alive=not (weak and connected) or draw(st.integers(0, 4)) > 0,
        sender=draw(st.none() | st.integers(0, SENDER_COUNT - 1)),
        dispatch_uid=draw(st.none() | st.sampled_from(["u0", "u1"])),
        connected=connected,
        ops=tuple(
            draw(
                st.lists(_op(signal, signal_count, receiver_count), max_size=2).map(
                    tuple
                )
            )
        ),
    )


@st.composite
def programs(draw: st.DrawFn) -> Program:
    """Programs of 1-3 signals, 1-5 receivers and 1-3 top-level sends."""
    signals = tuple(
        draw(
            st.lists(
                st.builds(SignalSpec, st.booleans(), st.booleans()),
                min_size=1,
                max_size=3,
            )
        )
    )
    count = draw(st.integers(1, 5))
    receivers = tuple(draw(_receiver(len(signals), count)) for _ in range(count))
    sends = draw(
        st.lists(
            st.builds(
                SendSpec,
                st.integers(0, len(signals) - 1),
                st.integers(0, SENDER_COUNT - 1),
                st.sampled_from(METHODS),
                st.booleans(),
            ),
            min_size=1,
            max_size=3,
        )
    )
    return Program(signals, receivers, tuple(sends))


# SIGNALKIT_HYPOTHESIS_PROFILE=ci (set by .ci/run) runs about seven times more
# programs than `make test` does.
BUDGETS = {"default": 12, "ci": 80}
DIFFERENTIAL = settings(
    max_examples=BUDGETS[os.environ.get("SIGNALKIT_HYPOTHESIS_PROFILE", "default")],
    # The same programs on every run, and no example database to keep.
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
