"""Receivers of every shape, for the catalog tests.

Nothing is connected here: tests connect what they need and disconnect it
afterwards, so other tests see the signals as they were.
"""

from __future__ import annotations

import functools
from typing import Any


def plain(sender: Any, **kwargs: Any) -> None:
    pass


def with_prefix(prefix: str, sender: Any, **kwargs: Any) -> None:
    pass


partial = functools.partial(with_prefix, "zoo")

anonymous = lambda sender, **kwargs: None  # noqa: E731 - a lambda on purpose


class Listener:
    def method(self, sender: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        pass


async def asynchronous(sender: Any, **kwargs: Any) -> None:
    pass
