"""signalkit.panels.view: what the panel's template shows, from stored stats."""

from __future__ import annotations

from typing import Any

from signalkit.panels.view import (
    OPEN_ROWS,
    Bar,
    SendView,
    milliseconds,
    panel_context,
    project_figures,
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
        "stacks": [],
        "dropped": 4,
        "max_sends": 1000,
    }
    return {**base, **overrides}


def test_a_bar_starts_at_its_offset_and_is_as_wide_as_its_duration() -> None:
    assert Bar.of(250, 500, 1000) == Bar("25.00", "50.00")


def test_a_bar_of_no_measurable_time_is_still_drawn() -> None:
    assert Bar.of(100, 0, 1000) == Bar("10.00", "0.30")


def test_a_bar_ends_at_the_end_of_the_timeline() -> None:
    assert Bar.of(990, 500, 1000) == Bar("99.00", "1.00")


def test_a_bar_at_the_very_end_of_the_timeline_is_still_drawn() -> None:
    # A receiver of no measurable time that started as the last send ended
    # (CI drew it zero wide): it is drawn at its narrowest, ending at the end.
    assert Bar.of(1000, 0, 1000) == Bar("99.70", "0.30")
    assert Bar.of(999, 500, 1000) == Bar("99.70", "0.30")


def test_a_bar_of_an_empty_timeline_starts_at_zero() -> None:
    assert Bar.of(5, 5, 0) == Bar("0.00", "0.30")


def test_the_timeline_runs_from_the_first_send_to_the_last_end() -> None:
    sends = [{"t": 100, "d": 50}, {"t": 120, "d": 500}, {"t": 300, "d": 10}]

    assert timeline(sends) == (100, 520)


def test_an_empty_timeline_has_no_length() -> None:
    assert timeline([]) == (0, 0)


def test_milliseconds_have_two_decimals() -> None:
    assert (milliseconds(20), milliseconds(1234567)) == ("0.02", "1234.57")


def test_counts_include_folded_and_dropped_sends_not_the_toolbars_own() -> None:
    assert send_count(stats()) == 3 + 7 + 4
    assert receiver_count(stats()) == 4


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


def test_an_exception_a_receiver_raised_counts_once_not_again_on_its_send() -> None:
    context = panel_context(stats(), [])

    sends = [item for kind, item in context["tree"] if kind == "send"]
    assert [send.errors for send in sends] == [0, 0, 1]
    assert sends[2].exception == "ValueError: no"
    assert sends[2].propagated
    assert context["error_count"] == 1


def test_overview_totals_each_signal_slowest_first() -> None:
    overview = panel_context(stats(), [])["overview"]

    assert [
        (r.signal, r.sends, r.receivers, r.ms, r.elapsed_ms, r.errors) for r in overview
    ] == [
        ("a.sig", 2, 3, "0.44", "0.55", 1),
        ("b.sig", 1 + 7, 1, "0.15", "0.20", 0),
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


def sent(start: int, duration: int, calls: list[tuple[int, int]], **more: Any) -> Any:
    """A stored send of a.sig (name 0) from None (1) at views.py:1 (2), whose
    receivers r1 (3) ran at the given (start, duration)."""
    return {
        "g": 0,
        "f": 1,
        "w": 2,
        "t": start,
        "d": duration,
        "r": [{"n": 3, "t": t, "d": d} for t, d in calls],
        **more,
    }


def sends(context: dict[str, Any]) -> list[SendView]:
    return [item for kind, item in context["tree"] if kind == "send"]


def test_an_exception_raised_two_sends_down_counts_once_where_raised() -> None:
    # r1 of send #1 made send #2, whose r3 raised; it passed through send #2,
    # through r1 and out of send #1: one exception, three places.
    error = ["ValueError", "down"]
    data = stats(
        sends=[
            {**sent(0, 500, [(10, 300)]), "x": error},
            {
                **sent(20, 200, [(30, 150)], p=0, q=0),
                "g": 5,
                "x": error,
            },
        ],
        folded=[],
    )
    data["sends"][0]["r"][0].update(s="error", x=error)
    data["sends"][1]["r"][0].update(n=6, s="error", x=error)

    context = panel_context(data, [])

    outer, inner = sends(context)
    assert context["error_count"] == 1
    assert (outer.errors, inner.errors) == (0, 1)
    assert outer.propagated
    assert inner.propagated
    assert outer.calls[0].propagated
    assert not inner.calls[0].propagated
    assert [(row.signal, row.errors) for row in context["overview"]] == [
        ("a.sig", 0),
        ("b.sig", 1),
    ]


def test_a_send_that_raised_before_any_receiver_counts_its_own_exception() -> None:
    data = stats(sends=[{**sent(0, 5, []), "x": ["SignalArgumentError", "x"]}])

    [send] = sends(panel_context(data, []))

    assert (send.errors, send.propagated) == (1, False)


def test_concurrent_receivers_report_elapsed_and_summed_time_apart() -> None:
    data = stats(
        sends=[sent(0, 1000, [(10, 900), (20, 950), (30, 400)], m="asend")],
        receiver_us=2250,
        folded=[],
    )

    context = panel_context(data, [])
    figures = project_figures(data)

    [send] = sends(context)
    assert send.concurrent
    assert (send.ms, send.receiver_ms) == ("1.00", "2.25")
    assert (context["elapsed_ms"], context["receiver_ms"]) == ("1.00", "2.25")
    assert context["concurrent"]
    [row] = context["overview"]
    assert (row.elapsed_ms, row.ms, row.concurrent) == ("1.00", "2.25", True)
    assert (figures.elapsed_ms, figures.receiver_ms, figures.concurrent) == (
        "1.00",
        "2.25",
        True,
    )


def test_receivers_one_after_the_other_are_not_concurrent() -> None:
    # Starts and durations are rounded apart: a microsecond of overlap is not.
    data = stats(sends=[sent(0, 500, [(10, 101), (110, 200), (310, 100)])])

    [send] = sends(panel_context(data, []))

    assert not send.concurrent
    assert not project_figures(data).concurrent


def test_elapsed_time_counts_overlapping_top_level_sends_once() -> None:
    data = stats(
        sends=[
            sent(0, 100, []),
            sent(50, 100, []),
            sent(60, 20, []),  # within the two before
            sent(400, 10, []),
        ],
        toolbar=[],
    )

    assert panel_context(data, [])["elapsed_ms"] == milliseconds(150 + 10)
    assert project_figures(data).elapsed_ms == milliseconds(150 + 10)


def test_equal_sends_of_a_signal_are_flagged_as_duplicates() -> None:
    same = {"a": {"post": "<Post pk=1>"}}
    data = stats(
        sends=[
            sent(0, 5, [], **same),
            sent(10, 5, [], **same),
            sent(20, 5, [], a={"post": "<Post pk=2>"}),
            sent(30, 5, [], **same),
            {**sent(40, 5, []), "g": 5},
        ],
        folded=[],
    )

    overview = panel_context(data, [])["overview"]

    assert {row.signal: row.duplicates for row in overview} == {"a.sig": 3, "b.sig": 0}


def test_a_receiver_that_ran_twice_in_one_send_knows_it() -> None:
    data = stats(sends=[sent(0, 50, [(1, 1), (3, 1)])])
    data["sends"][0]["r"].append({"n": 4, "t": 5, "d": 1})

    [send] = sends(panel_context(data, []))

    assert [call.repeats for call in send.calls] == [2, 2, 1]


def test_every_send_is_open_when_they_fit_a_screen_or_two() -> None:
    data = stats(sends=[sent(i * 10, 5, [(i * 10, 1)]) for i in range(10)])

    assert all(send.is_open for send in sends(panel_context(data, [])))


def test_beyond_a_screen_or_two_the_first_sends_are_open_the_rest_closed() -> None:
    count = OPEN_ROWS  # three rows each: a summary, its details, a receiver
    data = stats(sends=[sent(i * 10, 5, [(i * 10, 1)]) for i in range(count)])

    opened = [send.is_open for send in sends(panel_context(data, []))]

    assert opened == [True] * (OPEN_ROWS // 3) + [False] * (count - OPEN_ROWS // 3)


def test_a_send_too_long_for_the_screen_still_opens_when_first() -> None:
    calls = [(i, 1) for i in range(OPEN_ROWS + 5)]
    data = stats(sends=[sent(0, 500, calls), sent(600, 5, [(600, 1)])])

    assert [send.is_open for send in sends(panel_context(data, []))] == [True, False]


def test_the_toolbars_send_under_a_project_receiver_is_shown_not_counted() -> None:
    data = stats(
        sends=[
            sent(0, 500, [(10, 300)]),
            {**sent(20, 100, [(30, 50)], p=0, q=0), "g": 5, "o": 1},
        ],
        folded=[],
        toolbar=[[5, 1, 1, 1, 0, 0]],
        dropped=0,
    )

    context = panel_context(data, [])

    project, toolbar = sends(context)
    assert toolbar.toolbar
    assert toolbar.depth == 1
    assert project.calls[0].sends == [toolbar]
    assert (send_count(data), receiver_count(data)) == (1, 1)
    assert [row.signal for row in context["overview"]] == ["a.sig"]
    assert [call.name for call, _ in context["slowest"]] == ["r1"]
    assert context["toolbar_count"] == 1


def test_stacks_read_their_frames_names() -> None:
    data = stats(stacks=[[2, 0]])

    assert panel_context(data, [])["stacks"] == [["views.py:1", "a.sig"]]
