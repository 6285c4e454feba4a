"""signalkit.panels.SignalkitPanel, driven through the real debug toolbar.

Requests go through ``DebugToolbarMiddleware`` with the test client (WSGI) or
the async test client (ASGI). The panel's HTML is fetched the way the
toolbar's JavaScript fetches it, from the ``render_panel`` view, which rebuilds
the panel from the toolbar's store without a request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from debug_toolbar.panels.signals import SignalsPanel
from debug_toolbar.store import MemoryStore
from debug_toolbar.toolbar import DebugToolbar
from django.core.signals import request_started
from django.test import AsyncClient, Client
from pytest_django.fixtures import DjangoAssertNumQueries, Settings

from signalkit import registry
from signalkit.panels import SignalkitPanel
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


def sends_of(toolbar: DebugToolbar, signal: str) -> list[dict[str, Any]]:
    return [s for s in stored_stats(toolbar)["sends"] if s["signal"] == signal]


def send_row(html: str, signal: str) -> str:
    """The HTML row of the first send of *signal*."""
    start = html.index(f'data-send="{signal}"')
    return html[start : html.index("</tr>", start)]


PUBLISHED = "testapp.signals.post_published"
LEGACY = "testapp.signals.legacy_event"


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


# What the request sent


def test_sends_of_the_request_are_listed_with_receivers_in_order(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(post_published, first)
    connect(post_published, second)

    client.get("/publish/")

    html = panel_html(client, toolbars[0])
    assert_balanced_html(html)
    send = send_row(html, PUBLISHED)
    assert (
        send.index("testapp.signals.remember_publication")
        < send.index("test_panel.first")
        < send.index("test_panel.second")
    )
    assert "&rarr; &#x27;remembered&#x27;" in send


def test_a_send_shows_its_sender_arguments_and_site(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/publish/", {"user": "ann"})

    [send] = sends_of(toolbars[0], PUBLISHED)
    assert send["sender"] == "testapp.Post"
    assert send["arguments"] == {"post": "<testapp.Post pk=5>", "user": "'ann'"}
    assert re.search(r"toolbar_urls\.py:\d+$", send["site"])
    row = send_row(panel_html(client, toolbars[0]), PUBLISHED)
    assert "<dt>post</dt><dd>&lt;testapp.Post pk=5&gt;</dd>" in row
    assert send["site"] in row


def test_sends_are_listed_in_the_order_they_started(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/publish/")

    signals = [send["signal"] for send in stored_stats(toolbars[0])["sends"]]
    # Creating the Post in the view sends Django's pre_init and post_init.
    assert signals == [
        "django.db.models.signals.pre_init",
        "django.db.models.signals.post_init",
        PUBLISHED,
    ]


def test_nav_subtitle_counts_sends_receivers_and_their_time(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    connect(post_published, first)

    client.get("/publish/")

    subtitle = toolbars[0].get_panel_by_id(PANEL_ID).nav_subtitle
    assert re.fullmatch(r"3 sends, 2 receivers run in \d+\.\d ms", subtitle)


def test_nav_subtitle_is_shown_in_the_toolbar(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    response = client.get("/legacy/", {"times": "3"})

    assert re.search(r"3 sends, 0 receivers run in \d+\.\d ms", response.text)


def test_a_send_made_by_a_receiver_is_nested_under_it(
    client: Client, toolbars: list[DebugToolbar], connect: Any
) -> None:
    def relay(sender: Any, **kwargs: Any) -> None:
        legacy_event.send(sender=None, via="relay")

    connect(post_published, relay)

    client.get("/publish/")

    sends = stored_stats(toolbars[0])["sends"]
    outer, inner = sends[-2:]
    assert (outer["signal"], inner["signal"]) == (PUBLISHED, LEGACY)
    assert (outer["depth"], inner["depth"]) == (0, 1)
    assert inner["parent"] == len(sends) - 2
    nested = send_row(panel_html(client, toolbars[0]), LEGACY)
    assert 'data-depth="1"' in nested
    assert 'data-djdt-styles="paddingLeft:2em"' in nested
    assert (
        "from tests.test_panel.test_a_send_made_by_a_receiver_is_nested_under_it"
        in nested
    )
    assert f"(send #{len(sends) - 1})" in nested


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
        call["duration_us"]
        for send in stats["sends"]
        if send["depth"] == 0
        for call in send["receivers"]
    )
    assert stats["receiver_time_us"] == top_level


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
    row = send_row(html, PUBLISHED)
    assert 'class="sk-send sk-error djDebugRowWarning"' in html
    assert "sk-status-error" in row
    assert "ValueError: &lt;b&gt;boom&lt;/b&gt;" in row
    assert "2 exceptions" in html  # the receiver's, and the send's own
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

    client.get("/quiet/")

    html = panel_html(client, toolbars[0])
    unseen = html[html.index("Not seen by this panel") :]
    assert "django.core.signals.request_started</code>: sent by Django&#x27;s" in unseen
    assert "test_panel.first" in unseen
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
    assert stored_stats(toolbars[0])["sends"] == []


# The catalog of every registered signal


def test_catalog_lists_declared_arguments_docs_and_receivers(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/quiet/")

    html = panel_html(client, toolbars[0])
    catalog = html[html.index("Registered signals") :]
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
    catalog = html[html.index("Registered signals") :]
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
    assert send["method"] == "asend"
    # Django starts async receivers before or after sync ones depending on its
    # version.
    assert sorted((call["name"], call["is_async"]) for call in send["receivers"]) == [
        ("testapp.signals.remember_publication", False),
        (
            "tests.test_panel.test_asgi_request_records_async_receivers.<locals>.listen",
            True,
        ),
    ]
    html = panel_html(client, toolbars[0])
    assert '&lt;locals&gt;.listen</code> <span class="sk-muted">async</span>' in html


def test_asgi_request_to_a_sync_view_is_recorded(
    async_client: AsyncClient, toolbars: list[DebugToolbar]
) -> None:
    async_to_sync(async_client.get)("/publish/")

    [send] = sends_of(toolbars[0], PUBLISHED)
    assert send["method"] == "send"


def test_panel_is_enabled_on_asgi_requests(
    async_client: AsyncClient, toolbars: list[DebugToolbar]
) -> None:
    async_to_sync(async_client.get)("/quiet/")

    enabled = [panel.panel_id for panel in toolbars[0].enabled_panels]
    assert PANEL_ID in enabled


# History and the toolbar's store


def test_an_older_request_in_the_history_shows_its_own_sends(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/publish/")
    client.get("/legacy/", {"marker": "second"})

    older, newer = (panel_html(client, toolbar) for toolbar in toolbars)
    assert f'data-send="{PUBLISHED}"' in older
    assert f'data-send="{LEGACY}"' not in older
    assert f'data-send="{LEGACY}"' in newer
    assert "&#x27;second&#x27;" in newer
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
    assert re.search(r"3 sends, 1 receivers run in \d+\.\d ms", button)


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
    assert rebuilt.content == live.content
    assert rebuilt.nav_subtitle == live.nav_subtitle


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
    assert "<dt>user</dt><dd>&#x27;dora&#x27;</dd>" in send_row(html, PUBLISHED)


# Caps, masking, SQL and escaping


def test_sends_beyond_the_cap_are_counted_not_kept(
    client: Client, toolbars: list[DebugToolbar], settings: Settings
) -> None:
    settings.SIGNALKIT_RECORD_MAX_SENDS = 3

    client.get("/legacy/", {"times": "5"})

    stats = stored_stats(toolbars[0])
    assert (len(stats["sends"]), stats["dropped"]) == (3, 2)
    html = panel_html(client, toolbars[0])
    assert "2 more sends were not recorded" in html
    assert "only the first 3 are kept (SIGNALKIT_RECORD_MAX_SENDS)" in html
    assert toolbars[0].get_panel_by_id(PANEL_ID).nav_subtitle.startswith("5 sends")


def test_long_arguments_are_cut_to_the_summary_length(
    client: Client, toolbars: list[DebugToolbar], settings: Settings
) -> None:
    settings.SIGNALKIT_SUMMARY_MAX_LENGTH = 12

    client.get("/legacy/", {"text": "x" * 500})

    assert sends_of(toolbars[0], LEGACY)[0]["arguments"] == {"text": "'xxxxxxxxxx…"}


def test_sensitive_arguments_are_masked_in_store_and_html(
    client: Client, toolbars: list[DebugToolbar]
) -> None:
    client.get("/legacy/", {"password": "hunter2", "api_token": "t0k3n"})

    toolbar = toolbars[0]
    raw = MemoryStore._request_store[str(toolbar.request_id)][PANEL_ID]
    assert "hunter2" not in raw
    assert "t0k3n" not in raw
    html = panel_html(client, toolbar)
    assert f"<dt>password</dt><dd>{MASK}</dd>" in html
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
