"""signalkit.panels.view: what the panel's template shows, from stored stats."""

from __future__ import annotations

from typing import Any

from signalkit.panels.view import (
    Bar,
    SendView,
    milliseconds,
    panel_context,
    receiver_count,
    send_count,
    timeline,
)


def stats(**overrides: Any) -> dict[str, Any]:
    """Stored stats of a request: send #1 (a.sig) with receivers r1 (which
    made send #2, b.sig, with receiver r3) and r2; then send #3 (a.sig) whose
    receiver r2 raised."""
    base: dict[str, Any] = {
        "names": ["a.sig", "None", "views.py:1", "r1", "r2", "b.sig", "r3"],
        "sends": [
            {
                "g": 0,
                "f": 1,
                "w": 2,
                "t": 0,
                "d": 500,
                "r": [{"n": 3, "t": 10, "d": 300}, {"n": 4, "t": 320, "d": 100}],
            },
            {
                "g": 5,
                "f": 1,
                "w": 2,
                "t": 20,
                "d": 200,
                "p": 0,
                "q": 0,
                "r": [{"n": 6, "t": 30, "d": 150, "r": "'x'"}],
            },
            {
                "g": 0,
                "f": 1,
                "w": 2,
                "t": 600,
                "d": 50,
                "x": ["ValueError", "no"],
                "r": [
                    {"n": 4, "t": 610, "d": 40, "s": "error", "x": ["ValueError", "no"]}
                ],
            },
        ],
        "folded": [[5, 1, 7]],
        "toolbar": [[0, 1, 2, 3, 80, 0]],
        "receiver_us": 440,
        "dropped": 4,
        "max_sends": 1000,
        "nonce": None,
    }
    return {**base, **overrides}


def test_a_bar_starts_at_its_offset_and_is_as_wide_as_its_duration() -> None:
    assert Bar.of(250, 500, 1000) == Bar("25.00", "50.00")


def test_a_bar_of_no_measurable_time_is_still_drawn() -> None:
    assert Bar.of(100, 0, 1000) == Bar("10.00", "0.30")


def test_a_bar_ends_at_the_end_of_the_timeline() -> None:
    assert Bar.of(999, 500, 1000) == Bar("99.90", "0.10")


def test_a_bar_of_an_empty_timeline_starts_at_zero() -> None:
    assert Bar.of(5, 5, 0) == Bar("0.00", "0.30")


def test_the_timeline_runs_from_the_first_send_to_the_last_end() -> None:
    sends = [{"t": 100, "d": 50}, {"t": 120, "d": 500}, {"t": 300, "d": 10}]

    assert timeline(sends) == (100, 520)


def test_an_empty_timeline_has_no_length() -> None:
    assert timeline([]) == (0, 0)


def test_milliseconds_have_two_decimals() -> None:
    assert (milliseconds(20), milliseconds(1234567)) == ("0.02", "1234.57")


def test_counts_include_folded_toolbar_and_dropped_sends() -> None:
    assert send_count(stats()) == 3 + 7 + 2 + 4
    assert receiver_count(stats()) == 4 + 3


def test_the_tree_opens_each_send_and_receiver_and_nests_sends_under_their_receiver() -> (
    None
):
    tree = panel_context(stats(), [])["tree"]

    shape = [
        (
            kind,
            item.number if isinstance(item, SendView) else getattr(item, "name", None),
        )
        for kind, item in tree
    ]
    assert shape == [
        ("send", 1),
        ("call", "r1"),
        ("send", 2),
        ("call", "r3"),
        ("end-call", None),
        ("end-send", None),
        ("end-call", None),
        ("call", "r2"),
        ("end-call", None),
        ("end-send", None),
        ("send", 3),
        ("call", "r2"),
        ("end-call", None),
        ("end-send", None),
    ]
    assert [item.depth for kind, item in tree if kind == "send"] == [0, 1, 0]


def test_errors_of_a_send_count_its_own_exception_and_its_receivers() -> None:
    context = panel_context(stats(), [])

    sends = [item for kind, item in context["tree"] if kind == "send"]
    assert [send.errors for send in sends] == [0, 0, 2]
    assert sends[2].exception == "ValueError: no"
    assert context["error_count"] == 2


def test_overview_totals_each_signal_slowest_first() -> None:
    overview = panel_context(stats(), [])["overview"]

    assert [(r.signal, r.sends, r.receivers, r.ms, r.errors) for r in overview] == [
        ("a.sig", 2, 3, "0.44", 2),
        ("b.sig", 1 + 7, 1, "0.15", 0),
    ]


def test_slowest_receivers_come_first_with_their_send() -> None:
    slowest = panel_context(stats(), [])["slowest"]

    assert [(call.name, send.number) for call, send in slowest] == [
        ("r1", 1),
        ("r3", 2),
        ("r2", 1),
        ("r2", 3),
    ]


def test_folded_and_toolbar_lines_read_their_names() -> None:
    context = panel_context(stats(), [])

    assert context["folded"] == [("b.sig", "None", 7)]
    assert context["toolbar"] == [
        {
            "signal": "a.sig",
            "sender": "None",
            "count": 2,
            "receivers": 3,
            "ms": "0.08",
            "errors": 0,
        }
    ]
