"""signalkit.panels.registered: the HTML of the registered signals table."""

from __future__ import annotations

from typing import Any

from signalkit.panels.registered import registered_html


def signal(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "shop.signals.order_paid",
        "builtin": False,
        "declared": True,
        "arguments": [
            {"name": "order", "required": True, "description": "The order"},
            {"name": "notify", "required": False, "description": "Tell them"},
        ],
        "doc": "Sent when an order is paid.",
        "receivers": [
            {
                "name": "shop.receivers.send_receipt",
                "is_async": False,
                "sender": None,
                "dispatch_uid": None,
            }
        ],
    }
    return {**data, **overrides}


def test_a_row_names_the_signal_its_arguments_doc_and_receivers() -> None:
    html = registered_html([signal()])

    assert html.startswith(
        '<tr class="sk-signal-row" data-signal="shop.signals.order_paid">'
        "<td><code>shop.signals.order_paid</code></td>"
    )
    assert "<div><code>order</code> The order</div>" in html
    assert '<div><code>notify</code> <span class="sk-dim">(optional)</span>' in html
    assert "<td>Sent when an order is paid.</td>" in html
    assert "<div><code>shop.receivers.send_receipt</code></div>" in html


def test_a_builtin_undeclared_signal_without_doc_or_receivers_says_so() -> None:
    html = registered_html(
        [signal(builtin=True, declared=False, arguments=None, doc=None, receivers=[])]
    )

    assert '</code> <span class="sk-dim">Django</span></td>' in html
    assert '<td><span class="sk-dim">not declared</span></td><td></td>' in html
    assert '<td><span class="sk-dim">none</span></td>' in html


def test_a_receiver_shows_async_sender_and_dispatch_uid() -> None:
    receiver = {
        "name": "shop.receivers.audit",
        "is_async": True,
        "sender": "shop.Order",
        "dispatch_uid": "audit",
    }

    html = registered_html([signal(receivers=[receiver])])

    assert (
        '<code>shop.receivers.audit</code> <span class="sk-dim">async</span> '
        '<span class="sk-dim">sender shop.Order</span> '
        '<span class="sk-dim">uid audit</span>'
    ) in html


def test_every_string_is_escaped() -> None:
    html = registered_html([signal(name="<b>x</b>", doc="<script>alert(1)</script>")])

    assert "<b>" not in html
    assert "<script>" not in html
    assert 'data-signal="&lt;b&gt;x&lt;/b&gt;"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_argument_shows_its_type_escaped() -> None:
    arguments = [
        {
            "name": "order",
            "type": "Order",
            "required": True,
            "description": "The order",
        },
        {"name": "tags", "type": "list[<b>]", "required": False, "description": ""},
    ]

    html = registered_html([signal(arguments=arguments)])

    assert "<div><code>order: Order</code> The order</div>" in html
    assert "<code>tags: list[&lt;b&gt;]</code>" in html
