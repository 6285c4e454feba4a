from __future__ import annotations

from typing import Any

import pytest
from django.dispatch import Signal as DjangoSignal
from django.test import override_settings

from signalkit import receiver


def test_receiver_without_kwargs_under_debug_is_named() -> None:
    signal = DjangoSignal()

    def no_kwargs(sender: Any) -> None:
        pass

    with (
        override_settings(DEBUG=True),
        pytest.raises(ValueError, match="must accept keyword arguments") as info,
    ):
        receiver(signal)(no_kwargs)

    assert f"{__name__}.test_receiver_without_kwargs_under_debug_is_named" in str(
        info.value
    )
    assert "def no_kwargs(sender, ..., **kwargs)" in str(info.value)
    assert signal.receivers == []


def test_receiver_without_kwargs_outside_debug_connects_like_django() -> None:
    signal = DjangoSignal()

    def no_kwargs(sender: Any) -> None:
        pass

    receiver(signal)(no_kwargs)

    assert len(signal.receivers) == 1


def test_a_non_callable_gets_djangos_own_error() -> None:
    with (
        override_settings(DEBUG=True),
        pytest.raises(TypeError, match="Signal receivers must be callable"),
    ):
        receiver(DjangoSignal())(42)  # type: ignore[arg-type]
