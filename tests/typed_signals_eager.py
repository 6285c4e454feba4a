"""A signal declared with @signalkit.signal, with annotations evaluated at
definition time (no ``from __future__ import annotations``)."""

# ruff: noqa: I002, UP007, UP045
from typing import Annotated, NewType, Optional, Protocol, Union

from signalkit import signal

UserId = NewType("UserId", int)


class Named(Protocol):
    name: str


@signal
def item_moved(
    sender: type[Union[int, str]],
    *,
    item: Annotated[int, "The item's id"],
    to: Optional[str],
    by: Union[UserId, None] = None,
    thing: Named,
    flags: "dict[str, bool]",
) -> None:
    """Sent when an item moves."""
