"""signalkit.panels.timeline: the HTML of the timeline's rows."""

from __future__ import annotations

from typing import Any

from signalkit.panels.timeline import stacks_html, timeline_html
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
        "is_open": False,
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


def test_a_closed_send_names_its_receivers_in_its_summary() -> None:
    calls = [call(name="shop.receivers.send_receipt"), call(name="shop.stock.reserve")]

    html = timeline_html([("send", send(calls=calls))])

    assert '<i>shop.Order</i><b class="sk-to"> → send_receipt, reserve</b>' in html


def test_an_open_send_is_open() -> None:
    html = timeline_html([("send", send(is_open=True))])

    assert html.startswith('<details data-send="shop.signals.order_paid" open>')


def test_an_exception_that_passed_through_is_shown_as_propagated() -> None:
    failed = call(status="error", exception="ValueError: no", propagated=True)
    sent = send(calls=[failed], exception="ValueError: no", propagated=True)

    html = timeline_html([("send", sent), ("call", failed)])

    assert html.startswith('<details class="sk-err" data-send=')
    assert "<br><em>propagated ValueError: no</em>" in html
    assert '<li class="sk-prop"><div><span><code>shop.receivers.send_receipt' in html
    assert "<mark>propagated</mark> <em>ValueError: no</em>" in html


def test_a_receiver_that_ran_twice_in_one_send_is_flagged() -> None:
    twice = call(repeats=2)
    thrice = call(repeats=3)

    html = timeline_html([("call", twice), ("end-call", None), ("call", thrice)])

    assert '<mark class="sk-dup">ran twice in one send</mark>' in html
    assert '<mark class="sk-dup">ran 3 times in one send</mark>' in html


def test_a_send_links_its_stack_and_the_toolbars_own_is_marked() -> None:
    html = timeline_html([("send", send(stack=4, toolbar=True))])

    assert html.startswith('<details class="sk-tb" data-send=')
    assert '<a class="sk-stk" href="#sk-stack-4" data-stack="4">stack</a>' in html
    assert "<mark>the toolbar&#x27;s own</mark>" in html


def test_concurrent_receivers_are_summed_and_the_send_elapsed_apart() -> None:
    calls = [
        call(start_us=0, duration_us=900, ms="0.90"),
        call(start_us=100, duration_us=800, ms="0.80"),
    ]

    html = timeline_html([("send", send(calls=calls, ms="1.00"))])

    assert "receivers ran concurrently: 1.70 ms summed in 1.00 ms" in html


def test_each_stack_is_listed_once_with_its_frames() -> None:
    html = stacks_html([["shop/views.py:12 in pay", "manage.py:22 in <module>"]])

    assert html == (
        '<ol class="sk-stack" id="sk-stack-0"><li>shop/views.py:12 in pay</li>'
        "<li>manage.py:22 in &lt;module&gt;</li></ol>\n"
    )
