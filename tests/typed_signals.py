"""Signals declared with @signalkit.signal, under postponed annotations.

``Order`` and ``User`` are defined after the declarations that name them
(forward references); ``Decimal`` is imported for type checkers only, so no
run-time check can resolve it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from signalkit import signal
from testapp.models import Post

if TYPE_CHECKING:
    from decimal import Decimal


@signal
def post_published(
    sender: type[Post],
    *,
    post: Post,
    user: Annotated[User, "Who published it"],
    note: str | None = None,
) -> None:
    """Sent after a blog post is published.

    Args:
        post: The Post that was
            published.
        note (str): A remark for the followers.

    Receivers get ``note`` only when the sender passes it.
    """


@signal(name="typed_signals.orders.paid", use_caching=True)
def order_paid(
    sender: type[Order],
    *,
    order: Order,
    amount: Decimal,
    status: Literal["paid", "refunded"],
    items: list[int],
    extra: Any,
) -> None:
    """Sent when an order is paid.

    :param order: The order.
    :param Decimal amount: What was paid,
        in the order's currency.
    """


class Order:
    pass


class User:
    pass
