"""signalkit.panels.SignalkitPanel, driven through the real debug toolbar.

Requests go through ``DebugToolbarMiddleware`` with the test client (WSGI) or
the async test client (ASGI). The panel's HTML is fetched the way the
toolbar's JavaScript fetches it, from the ``render_panel`` view, which rebuilds
the panel from the toolbar's store without a request.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import debug_toolbar
import pytest
from asgiref.sync import async_to_sync
from debug_toolbar.middleware import DebugToolbarMiddleware
from debug_toolbar.panels.signals import SignalsPanel
from debug_toolbar.store import MemoryStore
from debug_toolbar.toolbar import DebugToolbar
from django.contrib.staticfiles import finders
from django.core.signals import request_started
from django.template import engines
from django.test import AsyncClient, Client, RequestFactory
from django.test.signals import template_rendered
from django.urls import resolve
from pytest_django.fixtures import DjangoAssertNumQueries, Settings

import toolbar_urls
from signalkit import registry
from signalkit.panels import SCRIPT, STYLESHEET, SignalkitPanel
from signalkit.panels.view import MIN_BAR_WIDTH
from signalkit.recording import record
from signalkit.summaries import MASK
from testapp.signals import legacy_event, post_published

PANELS = [
    "debug_toolbar.panels.history.HistoryPanel",
    "debug_toolbar.panels.timer.TimerPanel",
    "debug_toolbar.panels.request.RequestPanel",
    "debug_toolbar.panels.sql.SQLPanel",
    "signalkit.panels.SignalkitPanel",
]
PANEL_ID = "SignalkitPanel"


@pytest.fixture(autouse=True)
def toolbar_on(settings: Settings) -> Iterator[None]:
    # pytest-django runs tests with DEBUG off, which hides the toolbar.
    settings.DEBUG = True
    settings.ROOT_URLCONF = "toolbar_urls"
    settings.DEBUG_TOOLBAR_PANELS = PANELS
    settings.DEBUG_TOOLBAR_CONFIG = {"IS_RUNNING_TESTS": False}
    yield
    MemoryStore.clear()


@pytest.fixture
def toolbars() -> Iterator[list[DebugToolbar]]:
    """Every toolbar the middleware creates during the test, in order."""
    created: list[DebugToolbar] = []

    def keep(sender: Any, toolbar: DebugToolbar, **kwargs: Any) -> None:
        created.append(toolbar)

    DebugToolbar._created.connect(keep)
    yield created
    DebugToolbar._created.disconnect(keep)


@pytest.fixture
def connect() -> Iterator[Any]:
    """Connect receivers for one test; disconnected afterwards."""
    connected: list[tuple[Any, Any]] = []

    def connect(signal: Any, receiver: Any) -> Any:
        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
        return receiver

    yield connect
    for signal, receiver in connected:
        signal.disconnect(receiver)


def panel_html(client: Client, toolbar: DebugToolbar) -> str:
    assert toolbar.request_id is not None
    response = client.get(
        "/__debug__/render_panel/",
        {"request_id": toolbar.request_id, "panel_id": PANEL_ID},
    )
    assert response.status_code == 200
    return str(response.json()["content"])


def stored_stats(toolbar: DebugToolbar) -> Any:
    assert toolbar.request_id is not None
    return toolbar.store.panel(toolbar.request_id, PANEL_ID)


def kept(toolbar: DebugToolbar) -> list[dict[str, Any]]:
    """The stored sends, with names in place of indexes into ``names``."""
    stats = stored_stats(toolbar)
    names = stats["names"]
    return [
        {
            **send,
            "signal": names[send["g"]],
            "sender": names[send["f"]],
            "site": names[send["w"]],
            "receivers": [names[call["n"]] for call in send["r"]],
        }
        for send in stats["sends"]
    ]


def sends_of(toolbar: DebugToolbar, signal: str) -> list[dict[str, Any]]:
    return [send for send in kept(toolbar) if send["signal"] == signal]


def folded(toolbar: DebugToolbar) -> dict[tuple[str, str], int]:
    stats = stored_stats(toolbar)
    names = stats["names"]
    return {(names[g], names[f]): count for g, f, count in stats["folded"]}


def send_block(html: str, signal: str) -> str:
    """The ``<details>`` of the first send of *signal*, nested sends included."""
    start = html.rindex("<details", 0, html.index(f'data-send="{signal}"'))
    depth, position = 0, start
    for tag in re.finditer(r"<details|</details>", html[start:]):
        depth += 1 if tag.group() == "<details" else -1
        if depth == 0:
            position = start + tag.end()
            break
    return html[start:position]


def call_block(html: str, receiver: str) -> str:
    """The ``<li>`` of the first receiver call named *receiver* in the timeline."""
    timeline = html.index('<div class="sk-timeline">')
    start = html.rindex("<li", 0, html.index(f"<code>{receiver}</code>", timeline))
    depth, position = 0, start
    for tag in re.finditer(r"<li|</li>", html[start:]):
        depth += 1 if tag.group() == "<li" else -1
        if depth == 0:
            position = start + tag.end()
            break
    return html[start:position]


PUBLISHED = "testapp.signals.post_published"
LEGACY = "testapp.signals.legacy_event"
TEMPLATE_RENDERED = "django.test.signals.template_rendered"


class _TagChecker(HTMLParser):
    VOID = {"br", "meta", "link", "img", "input", "hr"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open, tag
        assert self.open[-1] == tag, (tag, self.open)
        self.open.pop()


def assert_balanced_html(html: str) -> None:
    checker = _TagChecker()
    checker.feed(html)
    checker.close()
    assert checker.open == []


def is_json_native(value: Any) -> bool:
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and is_json_native(item) for key, item in value.items()
        )
    if isinstance(value, list):
        return all(is_json_native(item) for item in value)
    return value is None or isinstance(value, (str, int, float, bool))


def first(*args: Any, **kwargs: Any) -> str:
    return "first"


def second(*args: Any, **kwargs: Any) -> str:
    return "second"


def ms_text(text: str) -> str:
    """The ``N.NN ms`` of a sentence that says how long receivers took."""
    match = re.search(r"in (\d+\.\d+) ms", text)
    assert match is not None, text
    return match.group(1)


# What the request sent


def test_sends_of_the_request_are_listed_with_receivers_in_order(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(post_published, first)
    connect(post_published, second)

    client.get("/publish/")

    html = panel_html(client, toolbars[0])
    assert_balanced_html(html)
    send = send_block(html, PUBLISHED)
    assert (
        send.index("testapp.signals.remember_publication")
        < send.index("test_panel.first")
        < send.index("test_panel.second")
    )
    assert "→ &#x27;remembered&#x27;" in send


def test_a_send_shows_its_sender_arguments_and_site(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/publish/", {"user": "ann"})

    [send] = sends_of(toolbars[0], PUBLISHED)
    assert send["sender"] == "testapp.Post"
    assert send["a"] == {"post": "<testapp.Post pk=5>", "user": "'ann'"}
    # Relative to the directory on sys.path it was imported from.
    assert re.fullmatch(r"toolbar_urls\.py:\d+", send["site"])
    block = send_block(panel_html(client, toolbars[0]), PUBLISHED)
    assert "<b>post</b>=&lt;testapp.Post pk=5&gt;" in block
    assert " <i>testapp.Post</i>" in block
    assert send["site"] in block


def test_sends_that_ran_no_receiver_are_folded_into_counts(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/publish/")

    # Creating the Post in the view sends Django's pre_init and post_init,
    # which no receiver listens to.
    assert [send["signal"] for send in kept(toolbars[0])] == [PUBLISHED]
    assert folded(toolbars[0]) == {
        ("django.db.models.signals.pre_init", "testapp.Post"): 1,
        ("django.db.models.signals.post_init", "testapp.Post"): 1,
    }


def test_a_folded_line_names_the_signal_count_and_sender(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/legacy/", {"times": "500"})

    html = panel_html(client, toolbars[0])
    assert (
        f'<li data-folded="{LEGACY}"><code>{LEGACY}</code> &times;500 &middot; '
        '<span class="sk-sender">None</span> &middot; '
        '<span class="sk-dim">no receivers</span></li>'
    ) in html
    assert html.count(LEGACY) < 10


def test_fold_empty_off_keeps_each_send(
    client: Client, toolbars: list[DebugToolbar], settings: Settings
) -> None:
    settings.SIGNALKIT_PANEL_FOLD_EMPTY = False

    client.get("/publish/")

    assert [send["signal"] for send in kept(toolbars[0])] == [
        "django.db.models.signals.pre_init",
        "django.db.models.signals.post_init",
        PUBLISHED,
    ]
    assert folded(toolbars[0]) == {}
    block = send_block(
        panel_html(client, toolbars[0]), "django.db.models.signals.pre_init"
    )
    assert "<br><i>no receivers</i></p>" in block


def test_a_muted_send_is_kept_and_names_the_receivers_that_did_not_run(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(legacy_event, first)

    client.get("/muted/")

    [send] = sends_of(toolbars[0], LEGACY)
    assert send["receivers"] == []
    block = send_block(panel_html(client, toolbars[0]), LEGACY)
    assert block.startswith(f'<details class="sk-muted" data-send="{LEGACY}" open>')
    assert "<mark>muted</mark> tests.test_panel.first" in block


def test_a_send_with_one_receiver_muted_names_it_and_shows_the_others(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(legacy_event, first)
    connect(legacy_event, toolbar_urls.skipped)

    client.get("/muted-one/")

    [send] = sends_of(toolbars[0], LEGACY)
    assert send["receivers"] == ["tests.test_panel.first"]
    block = send_block(panel_html(client, toolbars[0]), LEGACY)
    assert block.startswith(f'<details data-send="{LEGACY}" open>')
    assert "<mark>muted</mark> toolbar_urls.skipped" in block
    assert "<code>tests.test_panel.first</code>" in block


def test_nav_subtitle_counts_sends_receivers_and_their_time(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(post_published, first)

    client.get("/publish/")

    subtitle = toolbars[0].get_panel_by_id(PANEL_ID).nav_subtitle
    assert re.fullmatch(r"3 sends, 2 receivers run in \d+\.\d\d ms", subtitle)


def test_nav_subtitle_gives_elapsed_and_summed_time_of_concurrent_receivers(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/quiet/")
    panel = toolbars[0].get_panel_by_id(PANEL_ID)

    # An asend() whose two receivers ran at once: 1.85 ms of receivers in 1 ms.
    panel.record_stats(
        {
            "names": [PUBLISHED, "None", "views.py:1", "r"],
            "sends": [
                {
                    "g": 0,
                    "f": 1,
                    "w": 2,
                    "t": 0,
                    "d": 1000,
                    "m": "asend",
                    "r": [{"n": 3, "t": 0, "d": 900}, {"n": 3, "t": 10, "d": 950}],
                }
            ],
            "folded": [],
            "receiver_us": 1850,
        }
    )

    assert panel.nav_subtitle == "1 send, 2 receivers: 1.00 ms elapsed, 1.85 ms summed"
    summary = panel.content[: panel.content.index("</p>")]
    assert "1.00 ms elapsed, 1.85 ms summed over receivers that ran concurrently" in (
        " ".join(summary.split())
    )


def test_nav_subtitle_is_shown_in_the_toolbar(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    response = client.get("/legacy/", {"times": "3"})

    assert re.search(r"3 sends, 0 receivers run in \d+\.\d\d ms", response.text)


def test_a_panel_switched_off_in_the_toolbar_has_no_subtitle(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.cookies["djdt" + PANEL_ID] = "off"

    response = client.get("/publish/")

    assert response.status_code == 200
    panel = toolbars[0].get_panel_by_id(PANEL_ID)
    assert not panel.enabled
    assert panel.nav_subtitle == ""


def test_side_bar_and_body_give_the_time_in_receivers_with_one_precision(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(post_published, first)

    client.get("/publish/")

    subtitle = toolbars[0].get_panel_by_id(PANEL_ID).nav_subtitle
    html = panel_html(client, toolbars[0])
    summary = html[html.index('<p class="sk-summary">') :]
    assert ms_text(subtitle) == ms_text(summary[: summary.index("</p>")])


def test_a_send_made_by_a_receiver_is_nested_under_it(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    def relay(sender: Any, **kwargs: Any) -> None:
        legacy_event.send(sender=None, via="relay")

    connect(post_published, relay)
    connect(legacy_event, first)

    client.get("/publish/")

    outer, inner = kept(toolbars[0])
    assert (outer["signal"], inner["signal"]) == (PUBLISHED, LEGACY)
    assert (inner["p"], inner["q"]) == (0, 1)  # the outer send's second receiver
    relay_name = "tests.test_panel.test_a_send_made_by_a_receiver_is_nested_under_it"
    call = call_block(
        panel_html(client, toolbars[0]), f"{relay_name}.&lt;locals&gt;.relay"
    )
    nested = send_block(call, LEGACY)
    assert nested.startswith(f'<details data-send="{LEGACY}" open>')
    assert "<code>tests.test_panel.first</code>" in nested


def test_time_in_receivers_counts_nested_receivers_once(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    def relay(sender: Any, **kwargs: Any) -> None:
        legacy_event.send(sender=None)

    connect(post_published, relay)
    connect(legacy_event, first)

    client.get("/publish/")

    stats = stored_stats(toolbars[0])
    top_level = sum(
        call["d"] for send in stats["sends"] if "p" not in send for call in send["r"]
    )
    assert stats["receiver_us"] == top_level


def test_a_receiver_exception_stands_out(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    def explode(sender: Any, **kwargs: Any) -> None:
        raise ValueError("<b>boom</b>")

    connect(post_published, explode)
    client.raise_request_exception = False

    response = client.get("/publish/")

    assert response.status_code == 500
    html = panel_html(client, toolbars[0])
    block = send_block(html, PUBLISHED)
    assert block.startswith(f'<details class="sk-err" data-send="{PUBLISHED}" open>')
    assert '<li class="sk-error">' in block
    assert "ValueError: &lt;b&gt;boom&lt;/b&gt;" in block
    # Counted once, where it was raised; the send it passed through says so.
    assert "1 exception</span>" in html
    assert "<em>propagated ValueError: &lt;b&gt;boom&lt;/b&gt;</em>" in block
    assert f'<tr class="sk-err djDebugRowWarning" data-signal="{PUBLISHED}">' in html
    assert "<b>boom" not in html


def test_panel_rendered_within_the_page_shows_the_sends(
    client: Client, settings: Settings
) -> None:
    settings.DEBUG_TOOLBAR_CONFIG = {"IS_RUNNING_TESTS": False, "RENDER_PANELS": True}

    response = client.get("/publish/")

    assert f'data-send="{PUBLISHED}"' in response.text
    assert "testapp.signals.remember_publication" in response.text


def test_a_request_without_sends_says_so(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/quiet/")

    html = panel_html(client, toolbars[0])
    assert "No signals were sent while the toolbar watched this request." in html
    assert toolbars[0].get_panel_by_id(PANEL_ID).nav_subtitle.startswith("0 sends")


def test_the_panel_says_which_sends_it_cannot_see(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(request_started, first)
    connect(request_started, second)

    client.get("/quiet/")

    html = panel_html(client, toolbars[0])
    unseen = html[html.index("Not seen by this panel") :]
    assert "django.core.signals.request_started</code>: sent by Django&#x27;s" in unseen
    # One run of text, not a block per name (the toolbar shows <code> as a block).
    names = re.search(r'<span class="sk-names">([^<]*)</span>', unseen)
    assert names is not None
    assert "tests.test_panel.first, tests.test_panel.second" in names.group(1)
    assert "django.core.signals.request_finished" in unseen
    assert "middleware listed before the toolbar" in unseen


def test_a_panel_that_answers_first_leaves_nothing_recorded(
    client: Client, toolbars: list[DebugToolbar], settings: Settings
) -> None:
    settings.DEBUG_TOOLBAR_PANELS = [
        "toolbar_urls.ShortCircuitPanel",
        "signalkit.panels.SignalkitPanel",
    ]

    response = client.get("/publish/")

    assert "answered by a panel" in response.text
    stats = stored_stats(toolbars[0])
    assert (stats["sends"], stats["folded"]) == ([], [])


# The overview


def test_overview_counts_sends_receivers_and_errors_per_signal(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(post_published, first)
    connect(legacy_event, first)

    client.get("/legacy/", {"times": "2"})
    client.get("/publish/")

    html = panel_html(client, toolbars[1])
    overview = html[html.index('<table class="sk-signals">') :]
    overview = overview[: overview.index("</table>")]
    row = overview[overview.index(f'data-signal="{PUBLISHED}"') :]
    cells = re.findall(r'<td class="sk-num">([^<]*)</td>', row[: row.index("</tr>")])
    assert (cells[0], cells[1], cells[4]) == ("1", "2", "0")
    assert re.fullmatch(r"\d+\.\d\d ms", cells[2])  # time sending
    assert re.fullmatch(r"\d+\.\d\d ms", cells[3])  # time in receivers
    assert 'data-signal="django.db.models.signals.pre_init"' in overview
    assert LEGACY not in overview


def test_overview_names_the_slowest_receivers(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(post_published, first)

    client.get("/publish/")

    html = panel_html(client, toolbars[0])
    slowest = html[html.index('<table class="sk-slowest">') :]
    slowest = slowest[: slowest.index("</table>")]
    assert "<code>tests.test_panel.first</code>" in slowest
    assert "<code>testapp.signals.remember_publication</code>" in slowest
    assert "send #1" in slowest


# The timeline


def test_every_kept_send_and_receiver_has_a_timeline_bar(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(post_published, first)

    client.get("/publish/")

    html = panel_html(client, toolbars[0])
    bars = re.findall(r'<svg><rect x="([\d.]+)%" width="([\d.]+)%"', html)
    assert len(bars) == 1 + 2  # one send, two receivers
    for x, width in bars:
        assert float(x) >= 0
        assert float(width) > 0
        assert float(x) + float(width) <= 100


def test_timeline_bars_follow_the_stored_times(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(post_published, first)

    client.get("/publish/")

    stats = stored_stats(toolbars[0])
    [send] = stats["sends"]
    html = send_block(panel_html(client, toolbars[0]), PUBLISHED)
    # The timeline runs from the start of the first send to the last end.
    assert '<rect x="0.00%" width="100.00%"/>' in html
    for call in send["r"]:
        x = (call["t"] - send["t"]) * 100 / send["d"]
        width = max(call["d"] * 100 / send["d"], MIN_BAR_WIDTH)
        assert f'<rect x="{x:.2f}%" width="{min(width, 100 - x):.2f}%"/>' in html


# The toolbar's own sends


def through_the_toolbar(path: str) -> None:
    """Request *path* through the toolbar's middleware without the test
    client, whose own receiver of ``template_rendered`` would be recorded."""
    request = RequestFactory().get(path)
    DebugToolbarMiddleware(resolve(path).func)(request)


def use_templates_panel(settings: Settings) -> None:
    """Turn on the toolbar's Templates panel, whose receiver of
    ``template_rendered`` makes that send the toolbar's own."""
    settings.DEBUG_TOOLBAR_PANELS = [
        "debug_toolbar.panels.templates.TemplatesPanel",
        *PANELS,
    ]


def test_sends_received_only_by_the_toolbar_are_grouped_apart(
    client: Client, toolbars: list[DebugToolbar], settings: Settings
) -> None:
    use_templates_panel(settings)

    through_the_toolbar("/rendered/")

    stats = stored_stats(toolbars[0])
    names = stats["names"]
    assert stats["sends"] == []
    [(signal, _, count, receivers, _, errors)] = stats["toolbar"]
    assert (names[signal], count, receivers, errors) == (
        "django.test.signals.template_rendered",
        1,
        1,
        0,
    )
    html = panel_html(client, toolbars[0])
    group = html[html.index('<details class="sk-toolbar">') :]
    assert "The toolbar's own: 1 send" in group
    assert 'data-toolbar="django.test.signals.template_rendered"' in group
    assert "1 receiver run in" in group


def test_a_send_a_project_receiver_hears_too_is_the_project_s(
    toolbars: list[DebugToolbar], settings: Settings, connect: Any
) -> None:
    use_templates_panel(settings)
    connect(template_rendered, first)

    through_the_toolbar("/rendered/")

    [send] = kept(toolbars[0])
    assert send["signal"] == "django.test.signals.template_rendered"
    assert stored_stats(toolbars[0])["toolbar"] == []


def test_the_side_bar_counts_none_of_the_toolbars_own_sends(
    toolbars: list[DebugToolbar], settings: Settings
) -> None:
    use_templates_panel(settings)

    through_the_toolbar("/rendered/")

    panel = toolbars[0].get_panel_by_id(PANEL_ID)
    assert panel.nav_subtitle == "0 sends, 0 receivers run in 0.00 ms"
    assert "Sent during this request" not in panel.content  # no empty heading


def render_a_page(sender: Any, **kwargs: Any) -> str:
    return engines["django"].from_string("<p>{{ sender }}</p>").render({})


def test_a_toolbar_send_made_by_a_project_receiver_sits_under_it_counted_apart(
    toolbars: list[DebugToolbar], settings: Settings, connect: Any
) -> None:
    use_templates_panel(settings)
    connect(legacy_event, render_a_page)

    through_the_toolbar("/legacy/")

    stats = stored_stats(toolbars[0])
    outer, inner = kept(toolbars[0])
    assert (outer["signal"], inner["signal"]) == (LEGACY, TEMPLATE_RENDERED)
    assert (inner["p"], inner["q"], inner["o"]) == (0, 0, 1)
    [(signal, _, count, *_)] = stats["toolbar"]
    assert (stats["names"][signal], count) == (TEMPLATE_RENDERED, 1)
    panel = toolbars[0].get_panel_by_id(PANEL_ID)
    assert panel.nav_subtitle.startswith("1 send, 1 receivers run")
    block = send_block(panel.content, LEGACY)
    assert f'<details class="sk-tb" data-send="{TEMPLATE_RENDERED}" open>' in block
    assert "<mark>the toolbar&#x27;s own</mark>" in block


def test_sends_from_toolbar_code_and_their_nested_sends_are_the_toolbar_s(
    connect: Any,
) -> None:
    from signalkit.panels.stored import stored_stats as build

    def relay(sender: Any, **kwargs: Any) -> None:
        post_published.send(sender=None, post=None, user=None)

    connect(legacy_event, relay)
    # Code compiled with a file name inside the toolbar's package: its sends
    # have their site there, as sends from the toolbar's own code do.
    toolbar_file = os.path.join(os.path.dirname(debug_toolbar.__file__), "made_up.py")
    code = compile("legacy_event.send(sender=None)", toolbar_file, "exec")

    with record() as recorder:
        exec(code, {"legacy_event": legacy_event})

    stats = build(recorder)
    names = stats["names"]
    assert stats["sends"] == []
    assert sorted((names[g], count) for g, _, count, *_ in stats["toolbar"]) == [
        (LEGACY, 1),
        (PUBLISHED, 1),
    ]


def test_a_request_with_eight_receivers_a_nested_send_and_an_error(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/story/")

    panel = toolbars[0].get_panel_by_id(PANEL_ID)
    html = panel_html(client, toolbars[0])
    block = send_block(html, "toolbar_urls.order_paid")
    # Open at once, with every receiver in order and the arguments.
    assert block.startswith(
        '<details class="sk-err" data-send="toolbar_urls.order_paid" open>'
    )
    names = re.findall(
        r"<li[^>]*><div><span><code>shop\.receivers\.(\w+)</code>", block
    )
    assert names == [
        "reserve_stock",
        "mail_receipt",
        "archive_receipt",  # in the send mail_receipt made, under it
        "charge_card",
        "notify_warehouse",
        "update_ledger",
        "award_points",
        "clear_basket",
        "log_payment",
    ]
    assert "<b>order</b>=&lt;testapp.Post pk=42&gt; <b>amount</b>=1999" in block
    assert "1 exception</span>" in html
    # The two sends, and the pre_init and post_init of the order.
    assert panel.nav_subtitle.startswith("4 sends, 9 receivers run in ")


# Stacks, as the SQL panel shows them


def stack_of(toolbar: DebugToolbar, send: dict[str, Any]) -> list[str]:
    stats = stored_stats(toolbar)
    return [stats["names"][frame] for frame in stats["stacks"][send["k"]]]


def test_a_send_keeps_its_stack_from_its_site_up_without_hidden_modules(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/publish/")

    [send] = sends_of(toolbars[0], PUBLISHED)
    stack = stack_of(toolbars[0], send)
    assert re.fullmatch(r"toolbar_urls\.py:\d+ in publish", stack[0])
    assert stack[0].startswith(send["site"] + " ")
    # The test that made the request is in it; the toolbar's frames and
    # Django's handlers (HIDE_IN_STACKTRACES) are not, nor absolute paths.
    assert any(" in test_a_send_keeps_its_stack" in frame for frame in stack)
    assert not any("debug_toolbar/" in frame for frame in stack)
    assert not any("django/core/handlers" in frame for frame in stack)
    assert not any(frame.startswith("/") for frame in stack)
    html = panel_html(client, toolbars[0])
    assert f'<a class="sk-stk" href="#sk-stack-{send["k"]}"' in html
    assert f'<ol class="sk-stack" id="sk-stack-{send["k"]}"><li>{stack[0]}' in html


def test_sends_from_one_place_share_one_stored_stack(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(legacy_event, first)

    client.get("/legacy/", {"times": "3"})

    assert {send["k"] for send in sends_of(toolbars[0], LEGACY)} == {0}
    assert len(stored_stats(toolbars[0])["stacks"]) == 1


def test_stacks_obey_the_toolbars_hide_in_stacktraces(
    client: Client, toolbars: list[DebugToolbar], settings: Settings
) -> None:
    settings.DEBUG_TOOLBAR_CONFIG = {
        "IS_RUNNING_TESTS": False,
        "HIDE_IN_STACKTRACES": ("toolbar_urls", "django"),
    }

    client.get("/publish/")

    [send] = sends_of(toolbars[0], PUBLISHED)
    stack = stack_of(toolbars[0], send)
    assert not any(frame.startswith("toolbar_urls.py") for frame in stack)
    assert not any(frame.startswith("site-packages/django/") for frame in stack)
    # The setting replaces the toolbar's default, which hides the toolbar.
    assert any(frame.startswith("site-packages/debug_toolbar/") for frame in stack)
    # signalkit's own frames are machinery, never shown.
    assert not any(frame.startswith("signalkit/") for frame in stack)


def test_with_stacks_disabled_the_panel_records_no_stack(
    client: Client, toolbars: list[DebugToolbar], settings: Settings
) -> None:
    settings.DEBUG_TOOLBAR_CONFIG = {
        "IS_RUNNING_TESTS": False,
        "ENABLE_STACKTRACES": False,
    }

    client.get("/publish/")

    [send] = sends_of(toolbars[0], PUBLISHED)
    assert "k" not in send
    assert stored_stats(toolbars[0])["stacks"] == []
    html = panel_html(client, toolbars[0])
    assert "sk-stk" not in html
    assert "sk-stacks" not in html


# Duplicates, as the SQL panel flags them


def test_a_signal_sent_again_with_the_same_arguments_is_flagged(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(legacy_event, first)

    client.get("/legacy/", {"times": "3", "mood": "same"})

    html = panel_html(client, toolbars[0])
    row = html[html.index(f'<tr data-signal="{LEGACY}">') :]
    row = row[: row.index("</tr>")]
    assert '<mark class="sk-dup">sent 3 times with the same arguments</mark>' in row


def test_one_function_connected_twice_is_flagged_in_its_send(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    legacy_event.connect(first, dispatch_uid="tests.first.mail")
    legacy_event.connect(first, dispatch_uid="tests.first.mail-again")
    try:
        client.get("/legacy/")
    finally:
        legacy_event.disconnect(dispatch_uid="tests.first.mail")
        legacy_event.disconnect(dispatch_uid="tests.first.mail-again")

    block = send_block(panel_html(client, toolbars[0]), LEGACY)
    assert block.count('<mark class="sk-dup">ran twice in one send</mark>') == 2


# The catalog of every registered signal


def test_catalog_lists_declared_arguments_docs_and_receivers(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/quiet/")

    html = panel_html(client, toolbars[0])
    catalog = html[html.index('<details class="sk-registered">') :]
    row = catalog[catalog.index('data-signal="testapp.signals.post_published"') :]
    row = row[: row.index("</tr>")]
    assert "The Post that was published" in row
    assert "Sent after a blog post is published." in row
    assert "testapp.signals.remember_publication" in row
    legacy = catalog[catalog.index('data-signal="testapp.signals.legacy_event"') :]
    assert "not declared" in legacy[: legacy.index("</tr>")]


def test_catalog_is_a_superset_of_the_toolbar_signals_panel(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/quiet/")

    html = panel_html(client, toolbars[0])
    catalog = html[html.index('<details class="sk-registered">') :]
    builtin = {registry.name_of(signal) for signal in SignalsPanel.SIGNALS.values()}
    assert None not in builtin
    for name in builtin:
        assert f'data-signal="{name}"' in catalog


# ASGI


def test_asgi_request_records_async_receivers(
    async_client: AsyncClient,
    client: Client,
    toolbars: list[DebugToolbar],
    connect: Any,
) -> None:
    calls: list[str] = []

    async def listen(sender: Any, **kwargs: Any) -> str:
        calls.append("listen")
        return "heard"

    connect(post_published, listen)

    response = async_to_sync(async_client.get)("/apublish/")

    assert response.status_code == 200
    assert calls == ["listen"]
    [send] = sends_of(toolbars[0], PUBLISHED)
    assert send["m"] == "asend"
    listen_name = (
        "tests.test_panel.test_asgi_request_records_async_receivers.<locals>.listen"
    )
    # Django starts async receivers before or after sync ones depending on its
    # version.
    assert sorted(send["receivers"]) == [
        "testapp.signals.remember_publication",
        listen_name,
    ]
    [async_call] = [call for call in send["r"] if call.get("a") == 1]
    assert stored_stats(toolbars[0])["names"][async_call["n"]] == listen_name
    html = panel_html(client, toolbars[0])
    assert "&lt;locals&gt;.listen</code> <i>async</i>" in html


def test_asgi_request_to_a_sync_view_is_recorded(
    async_client: AsyncClient, toolbars: list[DebugToolbar]
) -> None:
    async_to_sync(async_client.get)("/publish/")

    [send] = sends_of(toolbars[0], PUBLISHED)
    assert "m" not in send  # send(), the default


def test_asgi_request_folds_sends_that_ran_no_receiver(
    async_client: AsyncClient, toolbars: list[DebugToolbar]
) -> None:
    async_to_sync(async_client.get)("/legacy/", {"times": "4"})

    assert folded(toolbars[0]) == {(LEGACY, "None"): 4}


def test_panel_is_enabled_on_asgi_requests(
    async_client: AsyncClient, toolbars: list[DebugToolbar]
) -> None:
    async_to_sync(async_client.get)("/quiet/")

    enabled = [panel.panel_id for panel in toolbars[0].enabled_panels]
    assert PANEL_ID in enabled


# History and the toolbar's store


def test_an_older_request_in_the_history_shows_its_own_sends(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(legacy_event, first)

    client.get("/publish/")
    client.get("/legacy/", {"marker": "second"})

    older, newer = (panel_html(client, toolbar) for toolbar in toolbars)
    assert f'data-send="{PUBLISHED}"' in older
    assert f'data-send="{LEGACY}"' not in older
    assert f'data-send="{LEGACY}"' in newer
    assert "<b>marker</b>=&#x27;second&#x27;" in newer
    assert f'data-send="{PUBLISHED}"' not in newer


def test_history_sidebar_lists_the_panel_for_an_older_request(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/publish/")
    client.get("/quiet/")

    assert toolbars[0].request_id is not None
    response = client.get(
        "/__debug__/history_sidebar/", {"request_id": toolbars[0].request_id}
    )

    button = response.json()[PANEL_ID]["button"]
    assert re.search(r"3 sends, 1 receivers run in \d+\.\d\d ms", button)


def test_stats_are_json_native_and_survive_the_store(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(post_published, first)
    client.get("/publish/")
    toolbar = toolbars[0]
    live = toolbar.get_panel_by_id(PANEL_ID)

    assert toolbar.request_id is not None
    stored = DebugToolbar.fetch(toolbar.request_id, PANEL_ID)

    assert stored is not None
    assert is_json_native(live.get_stats())
    assert json.loads(json.dumps(live.get_stats())) == live.get_stats()
    rebuilt = stored.get_panel_by_id(PANEL_ID)
    assert rebuilt.toolbar.request is None
    # The same, but for the stylesheet link only a page-rendered panel makes.
    assert live.content.startswith("<link ")
    assert rebuilt.content.partition("\n")[2] == live.content.partition("\n")[2]
    assert rebuilt.nav_subtitle == live.nav_subtitle


def test_stored_format_names_each_string_once_and_leaves_defaults_out(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(legacy_event, first)

    client.get("/legacy/", {"times": "3"})

    stats = stored_stats(toolbars[0])
    assert stats["names"].count(LEGACY) == 1
    assert stats["names"].count("tests.test_panel.first") == 1
    send = stats["sends"][0]
    # No method, arguments... and its stack (the toolbar's ENABLE_STACKTRACES).
    assert sorted(send) == ["d", "f", "g", "k", "r", "t", "w"]
    assert sorted(send["r"][0]) == ["d", "n", "r", "t"]  # status "ok" left out


@pytest.mark.django_db
def test_database_store_round_trip(
    client: Client, toolbars: list[DebugToolbar], settings: Settings
) -> None:
    settings.DEBUG_TOOLBAR_CONFIG = {
        "IS_RUNNING_TESTS": False,
        "TOOLBAR_STORE_CLASS": "debug_toolbar.store.DatabaseStore",
    }

    client.get("/publish/", {"user": "dora"})

    html = panel_html(client, toolbars[0])
    assert "<b>user</b>=&#x27;dora&#x27;" in send_block(html, PUBLISHED)
    assert 'data-folded="django.db.models.signals.pre_init"' in html


# Styles


def test_the_stylesheet_is_a_static_file_linked_from_the_panel(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/publish/")

    html = panel_html(client, toolbars[0])
    assert finders.find(STYLESHEET) is not None
    # Fetched later, the panel's script links it with the page's nonce.
    assert f'data-stylesheet="/static/{STYLESHEET}"' in html
    assert "<link" not in html


def test_the_panel_has_no_inline_style(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(post_published, first)

    client.get("/publish/")

    html = panel_html(client, toolbars[0])
    assert "<style" not in html
    assert " style=" not in html
    assert "data-djdt-styles" not in html  # needs the toolbar's script to apply


def test_rendered_within_the_page_the_stylesheet_link_carries_its_nonce(
    client: Client, settings: Settings
) -> None:
    settings.MIDDLEWARE = ["toolbar_urls.CspNonceMiddleware", *settings.MIDDLEWARE]
    settings.DEBUG_TOOLBAR_CONFIG = {"IS_RUNNING_TESTS": False, "RENDER_PANELS": True}

    response = client.get("/publish/")

    link = f'<link rel="stylesheet" href="/static/{STYLESHEET}" nonce="n0nc3">'
    assert link in response.text


def test_rendered_later_the_panel_links_no_stylesheet_with_a_stale_nonce(
    client: Client, toolbars: list[DebugToolbar], settings: Settings
) -> None:
    # The request's nonce is not the nonce of the page that shows the panel
    # when it is picked in History: the panel's script links the stylesheet.
    settings.MIDDLEWARE = ["toolbar_urls.CspNonceMiddleware", *settings.MIDDLEWARE]

    client.get("/publish/")

    html = panel_html(client, toolbars[0])
    assert "n0nc3" not in html
    assert "<link" not in html
    response = client.get(
        "/__debug__/render_panel/",
        {"request_id": str(toolbars[0].request_id), "panel_id": PANEL_ID},
    )
    assert response.json()["scripts"] == [f"/static/{SCRIPT}"]
    assert finders.find(SCRIPT) is not None


# Caps, masking, SQL and escaping


def test_sends_beyond_the_cap_are_counted_not_kept(
    client: Client, toolbars: list[DebugToolbar], settings: Settings, connect: Any
) -> None:
    settings.SIGNALKIT_RECORD_MAX_SENDS = 3
    connect(legacy_event, first)

    client.get("/legacy/", {"times": "5"})

    stats = stored_stats(toolbars[0])
    assert (len(stats["sends"]), stats["dropped"]) == (3, 2)
    html = panel_html(client, toolbars[0])
    assert "2 more sends were not recorded" in html
    assert "only the first 3 are kept (SIGNALKIT_RECORD_MAX_SENDS)" in html
    assert toolbars[0].get_panel_by_id(PANEL_ID).nav_subtitle.startswith("5 sends")


def test_long_arguments_are_cut_to_the_summary_length(
    client: Client, toolbars: list[DebugToolbar], settings: Settings, connect: Any
) -> None:
    settings.SIGNALKIT_SUMMARY_MAX_LENGTH = 12
    connect(legacy_event, first)

    client.get("/legacy/", {"text": "x" * 500})

    assert sends_of(toolbars[0], LEGACY)[0]["a"] == {"text": "'xxxxxxxxxx…"}


def test_sensitive_arguments_are_masked_in_store_and_html(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(legacy_event, first)

    client.get("/legacy/", {"password": "hunter2", "api_token": "t0k3n"})

    toolbar = toolbars[0]
    assert sends_of(toolbar, LEGACY)[0]["a"] == {"password": MASK, "api_token": MASK}
    raw = MemoryStore._request_store[str(toolbar.request_id)][PANEL_ID]
    assert "hunter2" not in raw
    assert "t0k3n" not in raw
    html = panel_html(client, toolbar)
    assert f"<b>password</b>={MASK}" in html
    assert "hunter2" not in html


@pytest.mark.django_db
def test_recording_and_rendering_run_no_sql(
    client: Client,
    toolbars: list[DebugToolbar],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    # testapp.Post's __str__ and __repr__ raise: the panel must not call them.
    with django_assert_num_queries(0):
        client.get("/publish/")
        html = panel_html(client, toolbars[0])

    assert "&lt;testapp.Post pk=5&gt;" in html


def test_user_controlled_strings_are_escaped(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    def shout(sender: Any, **kwargs: Any) -> str:
        return "<img src=x onerror=alert(2)>"

    connect(legacy_event, shout)

    client.get("/legacy/", {"title": "<script>alert(1)</script>"})

    html = panel_html(client, toolbars[0])
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert_balanced_html(html)


def test_panel_keeps_the_toolbar_panel_id_distinct() -> None:
    assert SignalkitPanel.panel_id == PANEL_ID != SignalsPanel.panel_id
