"""signalkit.panels.timeline: the HTML of the timeline's rows."""

from __future__ import annotations

from typing import Any

from signalkit.panels.timeline import timeline_html
from signalkit.panels.view import Bar, CallView, SendView


def call(**overrides: Any) -> CallView:
    data: dict[str, Any] = {
        "name": "shop.receivers.send_receipt",
        "is_async": False,
        "status": "ok",
        "result": "",
        "exception": "",
        "duration_us": 20,
        "ms": "0.02",
        "bar": Bar("10.00", "5.00"),
    }
    return CallView(**{**data, **overrides})


def send(**overrides: Any) -> SendView:
    data: dict[str, Any] = {
        "number": 1,
        "signal": "shop.signals.order_paid",
        "method": "send",
        "sender": "shop.Order",
        "site": "shop/views.py:12",
        "arguments": {"order": "<shop.Order pk=1>"},
        "depth": 0,
        "ms": "0.05",
        "bar": Bar("0.00", "100.00"),
        "muted": None,
        "exception": "",
        "calls": [],
        "errors": 0,
        "parent_number": None,
    }
    return SendView(**{**data, **overrides})


def test_a_send_row_has_its_number_signal_method_sender_time_and_bar() -> None:
    html = timeline_html([("send", send()), ("end-send", None)])

    assert html == (
        '<details data-send="shop.signals.order_paid">\n'
        "<summary><span><i>#1</i> <code>shop.signals.order_paid</code>"
        "<i>.send()</i> <i>shop.Order</i></span><span>0.05 ms</span>"
        '<svg><rect x="0.00%" width="100.00%"/></svg></summary>\n'
        "<p><i>shop/views.py:12</i> <b>order</b>=&lt;shop.Order pk=1&gt;"
        "<br><i>no receivers</i></p>\n<ol>\n</ol></details>\n"
    )


def test_a_receiver_row_has_its_name_result_time_and_bar() -> None:
    html = timeline_html([("call", call(result="'paid'")), ("end-call", None)])

    assert html == (
        "<li><div><span><code>shop.receivers.send_receipt</code> → &#x27;paid&#x27;"
        '</span><span>0.02 ms</span><svg><rect x="10.00%" width="5.00%"/></svg>'
        "</div>\n</li>\n"
    )


def test_a_failed_async_receiver_shows_its_status_and_exception() -> None:
    failed = call(is_async=True, status="error", exception="ValueError: <no>")

    html = timeline_html([("call", failed)])

    assert html.startswith(
        '<li class="sk-error"><div><span><code>shop.receivers.send_receipt</code>'
        " <i>async</i> <mark>error</mark> <em>ValueError: &lt;no&gt;</em></span>"
    )


def test_a_send_that_raised_is_highlighted_and_open() -> None:
    html = timeline_html([("send", send(errors=1, exception="KeyError: 'x'"))])

    assert html.startswith(
        '<details class="sk-err" data-send="shop.signals.order_paid" open>'
    )
    assert "<br><em>raised KeyError: &#x27;x&#x27;</em>" in html


def test_a_muted_send_names_the_receivers_that_did_not_run() -> None:
    html = timeline_html([("send", send(muted=["a.b", "c.d"]))])

    assert html.startswith('<details class="sk-muted" data-send=')
    assert "<br><mark>muted</mark> a.b, c.d</p>" in html


def test_a_nested_send_is_open() -> None:
    html = timeline_html([("send", send(depth=1, calls=[call()]))])

    assert html.startswith('<details data-send="shop.signals.order_paid" open>')
    assert "no receivers" not in html


def test_a_receiver_with_no_result_summary_shows_no_arrow() -> None:
    html = timeline_html([("call", call(status="enqueued"))])

    assert "<mark>enqueued</mark></span>" in html
    assert "→" not in html
