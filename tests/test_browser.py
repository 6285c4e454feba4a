"""The signalkit panel in a real browser.

Playwright drives Debian's Chromium through django-debug-toolbar's own UI,
against ``runserver`` on a free port:

- the example project, on a fresh SQLite database: publish a post whose
  title is ``<script>`` markup (the page that shows it is the publishing
  request's, so its panel lists ``post_published`` at once), and sign up
  (a redirect: that panel is read from the toolbar's History);
- the test project's list page (500 model instances, 20 sends with 3
  receivers each), a page with nested sends and a failing receiver, and a
  story of 8 receivers with a nested send and an error, in the toolbar's
  light and dark themes, under a strict Content-Security-Policy that allows
  only the styles and scripts carrying the page's nonce; and an older
  request picked in History under that policy.

What the panel's first screen must answer, which receivers ran, in what
order, with which arguments, is read as visible text, without a click in the
panel. Skipped when Chromium is missing, unless ``SIGNALKIT_REQUIRE_BROWSER=1``
(set by ``.ci/run``). Screenshots go to ``artifacts/``; with
``SIGNALKIT_UPDATE_SCREENSHOT=1`` they also replace the ones in the docs,
``docs/_static/``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project"
TESTS = ROOT / "tests"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
SCREENSHOT = ARTIFACTS / "panel.png"
DOCS_STATIC = ROOT / "docs" / "_static"
# The screenshots docs/panel.rst shows.
DOCS_SCREENSHOTS = {
    "panel.png",
    "panel-list-light.png",
    "panel-nested-dark.png",
    "panel-story-light.png",
}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TITLE = "<script>window.signalkitPwned = true</script> Escaping matters"
# In the order blog/signals.py connects them.
PUBLISHED_RECEIVERS = [
    "blog.signals.notify_followers",
    "blog.signals.announce_post",  # background: shown as enqueued
    "blog.signals.update_search_index",
    "blog.signals.clear_caches",
    "blog.signals.count_published_post",
]
SIGNED_UP_RECEIVERS = [
    "accounts.signals.send_welcome_email",
    "accounts.signals.update_signup_stats",
    "accounts.signals.log_signup",
]
# The story view's receivers, as they run: archive_receipt in the send that
# mail_receipt made.
STORY_RECEIVERS = [
    "shop.receivers.reserve_stock",
    "shop.receivers.mail_receipt",
    "shop.receivers.archive_receipt",
    "shop.receivers.charge_card",
    "shop.receivers.notify_warehouse",
    "shop.receivers.update_ledger",
    "shop.receivers.award_points",
    "shop.receivers.clear_basket",
    "shop.receivers.log_payment",
]

pytestmark = pytest.mark.browser


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("SIGNALKIT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SIGNALKIT_REQUIRE_BROWSER=1 but {CHROMIUM} is not installed")
    pytest.skip(f"{CHROMIUM} is not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"runserver exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail("runserver did not start within 30 seconds")


def _serve(
    tmp_path: Path, cwd: Path, env: dict[str, str], setup: list[list[str]]
) -> Iterator[str]:
    """Run *setup* commands, then ``runserver`` on a free port until done."""
    # Keep the caller's PYTHONPATH after the site's own directories.
    inherited = [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []
    env = {
        **os.environ,
        **env,
        "PYTHONPATH": os.pathsep.join([env["PYTHONPATH"], *inherited]),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PYTEST_VERSION", None)
    manage = (
        [sys.executable, "manage.py"]
        if (cwd / "manage.py").exists()
        else [
            sys.executable,
            "-m",
            "django",
        ]
    )
    for command in setup:
        subprocess.run(
            [*manage, *command], cwd=cwd, env=env, check=True, capture_output=True
        )
    port = _free_port()
    log = (tmp_path / "runserver.log").open("wb")
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@pytest.fixture
def example_site(tmp_path: Path) -> Iterator[str]:
    """The example project on a free port, with its sample data."""
    _require_browser()
    (tmp_path / "browser_settings.py").write_text(
        "from example.settings import *  # noqa: F403\n\n"
        f"DATABASES['default']['NAME'] = {str(tmp_path / 'db.sqlite3')!r}\n"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "browser_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(EXAMPLE)]),
    }
    setup = [["migrate", "--noinput"], ["load_sample_data"]]
    yield from _serve(tmp_path, EXAMPLE, env, setup)


@pytest.fixture
def test_site(tmp_path: Path) -> Iterator[str]:
    """The views of ``tests/toolbar_urls.py`` behind the toolbar's default
    panels (signalkit's in place of its SignalsPanel), on a free port."""
    _require_browser()
    (tmp_path / "browser_settings.py").write_text(
        "from debug_toolbar.settings import PANELS_DEFAULTS\n"
        "from settings import *  # noqa: F403\n\n"
        "DEBUG = True\n"
        "ROOT_URLCONF = 'toolbar_urls'\n"
        "MIDDLEWARE = ['toolbar_urls.CspNonceMiddleware', *MIDDLEWARE]\n"
        "DEBUG_TOOLBAR_CONFIG = {}\n"
        "DEBUG_TOOLBAR_PANELS = [\n"
        "    'signalkit.panels.SignalkitPanel' if path.endswith('.SignalsPanel')\n"
        "    else path for path in PANELS_DEFAULTS\n"
        "]\n"
        f"DATABASES['default']['NAME'] = {str(tmp_path / 'db.sqlite3')!r}\n"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "browser_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(TESTS)]),
    }
    yield from _serve(tmp_path, tmp_path, env, [["migrate", "--noinput"]])


def _screenshot(page: Any, path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Save a screenshot in artifacts/, and in the docs when asked to."""
    path.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(path))
    with capsys.disabled():  # CI keeps the file: show where it is
        print(f"\nscreenshot of the signalkit panel: {path}")
    update = os.environ.get("SIGNALKIT_UPDATE_SCREENSHOT") == "1"
    if update and path.name in DOCS_SCREENSHOTS:
        shutil.copyfile(path, DOCS_STATIC / path.name)


def _receiver_names(send: Any, *, nested: bool = False) -> Any:
    """The names of the receivers of a send, and with *nested* those of the
    sends they made."""
    scope = "" if nested else ":scope > ol > "
    return send.locator(f"{scope}li > div > span > code:first-child")


def _switch_history(page: Any, path: str, method: str) -> None:
    """Pick the request of *path* and *method* in the toolbar's History."""
    from playwright.sync_api import expect

    page.click("#djdt-HistoryPanel a")
    # The toolbar loads history.js as an async module after the panel's
    # HTML; a Switch click before it has run does nothing. Importing the same
    # URL resolves once that module has been evaluated.
    history_js = page.locator('script[src*="debug_toolbar/js/history.js"]')
    history_js.wait_for(state="attached")
    page.evaluate(
        "async (src) => { await import(src); }",
        history_js.evaluate("s => s.src"),
    )
    row = (
        page.locator("#djDebug tr[data-request-id]")
        .filter(has_text=path)
        .filter(has=page.locator("td:nth-child(2) p", has_text=method))
    )
    request_id = row.get_attribute("data-request-id")
    row.locator("button.switchHistory").click()
    # The switch fetches the request's panels; wait until they have landed.
    expect(page.locator("#djDebug")).to_have_attribute(
        "data-request-id", request_id or ""
    )


def test_the_demo_shows_who_heard_publishing_and_signing_up_and_runs_no_script(
    example_site: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from playwright.sync_api import Dialog, expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        # CI runs this beside other tox environments; give slow moments room.
        page.set_default_timeout(30_000)
        expect.set_options(timeout=15_000)
        dialogs: list[str] = []

        def on_dialog(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        try:
            # The home page says what to click.
            page.goto(example_site)
            expect(page.locator("#tour")).to_contain_text("Publish a post")
            expect(page.locator("#tour")).to_contain_text("Signals")

            # Log in and publish a post: the page that shows it answers the
            # POST, so its toolbar is the publishing request's.
            page.goto(f"{example_site}/accounts/login/")
            page.fill("input[name=username]", "alice")
            page.fill("input[name=password]", "signalkit")
            page.click("main button[type=submit]")
            page.goto(f"{example_site}/posts/new/")
            page.fill("input[name=title]", TITLE)
            page.fill("textarea[name=body]", "Published from the browser test.")
            page.click("main button[type=submit]")
            expect(page.locator("main h1")).to_contain_text("Escaping matters")

            page.click("#djdt-SignalkitPanel a")
            send = page.locator(
                '#signalkit-panel details[data-send="blog.signals.post_published"]'
            )
            expect(send).to_have_count(1)
            # Open without a click: names, order and arguments are visible.
            expect(_receiver_names(send)).to_have_text(PUBLISHED_RECEIVERS)
            for name in _receiver_names(send).all():
                expect(name).to_be_visible()
            arguments = send.locator(":scope > p")
            expect(arguments).to_be_visible()
            expect(arguments).to_contain_text("post=<blog.Post pk=")
            expect(arguments).to_contain_text("user=<auth.User pk=")
            expect(arguments).to_contain_text("blog/services.py:")
            send.evaluate("details => details.scrollIntoView({block: 'start'})")
            _screenshot(page, SCREENSHOT, capsys)

            assert page.evaluate("window.signalkitPwned") is None

            # Sign up, as someone new (a redirect): its panel is picked in
            # History.
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on("dialog", on_dialog)
            page.goto(f"{example_site}/accounts/signup/")
            page.fill("input[name=username]", "erin")
            page.fill("input[name=email]", "erin@example.com")
            page.fill("input[name=password1]", "a long passphrase")
            page.fill("input[name=password2]", "a long passphrase")
            page.click("main button[type=submit]")
            expect(page.locator("#djDebug")).to_have_count(1)
            _switch_history(page, "/accounts/signup/", "POST")
            page.click("#djdt-SignalkitPanel a")
            send = page.locator(
                '#signalkit-panel details[data-send="accounts.signals.user_signed_up"]'
            )
            expect(_receiver_names(send)).to_have_text(SIGNED_UP_RECEIVERS)
            expect(_receiver_names(send).first).to_be_visible()
            expect(send.locator(":scope > p")).to_contain_text("user=<auth.User pk=")

            assert page.evaluate("window.signalkitPwned") is None
            assert dialogs == []
        finally:
            browser.close()


# In the page: where every element of the panel ends up, what the browser
# blocked, and how readable the text is.
OVERFLOWS = """panel => {
    for (const details of panel.querySelectorAll("details")) details.open = true;
    const scroll = panel.closest(".djdt-scroll");
    const sidebar = panel.getRootNode().querySelector("#djDebugToolbar");
    const limit = Math.min(
        scroll.getBoundingClientRect().right, sidebar.getBoundingClientRect().left
    );
    const overflowing = [];
    for (const element of panel.querySelectorAll("*")) {
        const box = element.getBoundingClientRect();
        if (box.width > 0 && box.right > limit + 1) {
            overflowing.push(element.outerHTML.slice(0, 120));
        }
        const style = getComputedStyle(element);
        if (style.overflowX === "hidden" && element.scrollWidth > element.clientWidth + 1) {
            overflowing.push("clipped: " + element.outerHTML.slice(0, 120));
        }
    }
    if (scroll.scrollWidth > scroll.clientWidth + 1) overflowing.push("scrolls sideways");
    return overflowing;
}"""
# The contrast ratio (WCAG) of an element's text against the first opaque
# background behind it.
CONTRAST = """element => {
    const parse = (value) => value.match(/[\\d.]+/g).map(Number);
    let node = element;
    let backdrop = [255, 255, 255];
    while (node) {
        const parts = parse(getComputedStyle(node).backgroundColor);
        if (parts.length < 4 || parts[3] > 0.5) { backdrop = parts; break; }
        node = node.parentElement;
    }
    const luminance = (rgb) => {
        const [R, G, B] = rgb.slice(0, 3).map((c) => {
            c /= 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * R + 0.7152 * G + 0.0722 * B;
    };
    const a = luminance(parse(getComputedStyle(element).color));
    const b = luminance(backdrop);
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""
WATCH_CSP = """() => {
    window.blocked = [];
    document.addEventListener("securitypolicyviolation", (event) => {
        window.blocked.push(event.blockedURI + " " + event.violatedDirective);
    });
}"""


def _open_panel(playwright: Any, url: str, theme: str, width: int) -> tuple[Any, Any]:
    from playwright.sync_api import expect

    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
    )
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(30_000)
    expect.set_options(timeout=15_000)
    page.add_init_script(f"localStorage.setItem('djdt.user-theme', '{theme}');")
    page.add_init_script(f"({WATCH_CSP})()")
    page.goto(url)
    expect(page.locator("#djDebug")).to_have_attribute("data-theme", theme)
    page.click("#djdt-SignalkitPanel a")
    expect(page.locator("#signalkit-panel")).to_be_visible()
    return browser, page


@contextmanager
def _panel_page(url: str, theme: str) -> Iterator[Any]:
    """A 1280 px wide page of *url* in *theme*, with the panel open."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser, page = _open_panel(playwright, url, theme, 1280)
        try:
            yield page
        finally:
            browser.close()


def _assert_fits_and_reads(page: Any) -> None:
    from playwright.sync_api import expect

    panel = page.locator("#signalkit-panel")
    # The stylesheet loaded under the strict policy: rows are laid out as grids
    # (waited for: a panel fetched later gets it linked by the panel's script).
    summary = panel.locator(".sk-timeline summary").first
    expect(summary).to_have_css("display", "grid")
    assert page.evaluate("window.blocked.filter(b => b.includes('signalkit'))") == []
    for width in (1280, 1400):
        page.set_viewport_size({"width": width, "height": 900})
        assert panel.evaluate(OVERFLOWS) == [], f"at {width} px"
    for text in (summary.locator("code"), panel.locator(".sk-summary")):
        assert text.first.evaluate(CONTRAST) >= 4.5


def _bars(page: Any) -> list[dict[str, Any]]:
    """Each timeline bar's box, and the box of the chart it is drawn in."""
    bars: list[dict[str, Any]] = page.locator(
        "#signalkit-panel .sk-timeline rect"
    ).evaluate_all(
        """rects => rects.map((rect) => {
            const box = rect.getBoundingClientRect();
            const chart = rect.ownerSVGElement.getBoundingClientRect();
            return {left: box.left, right: box.right, width: box.width,
                    chartLeft: chart.left, chartRight: chart.right,
                    fill: getComputedStyle(rect).fill};
        })"""
    )
    return bars


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_list_page_folds_model_signals_and_fits_the_window(
    test_site: str, theme: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from playwright.sync_api import expect

    with _panel_page(f"{test_site}/list/?csp=strict", theme) as page:
        panel = page.locator("#signalkit-panel")
        for signal in ("pre_init", "post_init"):
            folded = panel.locator(
                f'li[data-folded="django.db.models.signals.{signal}"]'
            )
            expect(folded).to_contain_text("\N{MULTIPLICATION SIGN}500")
            expect(folded).to_contain_text("testapp.Post")
        expect(panel.locator("details[data-send]")).to_have_count(20)
        expect(
            panel.locator('.sk-signals tr[data-signal="toolbar_urls.item_listed"]')
        ).to_contain_text("20")
        # More sends than fit a screen or two: the first ones are open, the
        # others closed, each naming its receivers in its summary.
        sends = panel.locator("details[data-send]")
        expect(sends.first).to_have_attribute("open", "")
        expect(sends.last).not_to_have_attribute("open", "")
        receivers = sends.last.locator(":scope > summary .sk-to")
        expect(receivers).to_be_visible()
        expect(receivers).to_have_text("→ count_item, index_item, cache_item")
        expect(sends.first.locator(":scope > summary .sk-to")).to_be_hidden()
        _screenshot(page, ARTIFACTS / f"panel-list-{theme}.png", capsys)
        _assert_fits_and_reads(page)
        bars = _bars(page)
        assert len(bars) == 20 + 20 * 3  # every send and every receiver
        for bar in bars:
            assert bar["width"] > 0
            assert bar["chartLeft"] - 1 <= bar["left"] <= bar["right"]
            assert bar["right"] <= bar["chartRight"] + 1
            assert bar["fill"] not in ("none", "rgb(0, 0, 0)")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_nested_sends_sit_under_their_receiver_and_errors_stand_out(
    test_site: str, theme: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from playwright.sync_api import expect

    with _panel_page(f"{test_site}/nested/?csp=strict", theme) as page:
        panel = page.locator("#signalkit-panel")
        published = panel.locator('details[data-send="testapp.signals.post_published"]')
        expect(published).to_have_class("sk-err")
        expect(published).to_have_attribute("open", "")
        relay = published.locator(":scope > ol > li", has_text="toolbar_urls.relay")
        legacy = relay.locator(
            ':scope > details[data-send="testapp.signals.legacy_event"]'
        )
        expect(legacy).to_have_count(1)
        listed = legacy.locator(
            ':scope > ol > li > details[data-send="toolbar_urls.item_listed"]'
        )
        expect(listed).to_have_count(2)
        failed = published.locator(":scope > ol > li.sk-error")
        expect(failed).to_contain_text("ValueError: the <search index> is down")
        expect(panel.locator(".sk-summary")).to_contain_text("1 exception")
        _assert_fits_and_reads(page)
        # A nested send starts after the receiver that made it, and its bar
        # is drawn no earlier.
        relay_bar = relay.locator(":scope > div rect").bounding_box()
        legacy_bar = legacy.locator(":scope > summary rect").bounding_box()
        assert relay_bar is not None
        assert legacy_bar is not None
        assert legacy_bar["x"] >= relay_bar["x"] - 1
        page.set_viewport_size({"width": 1280, "height": 900})
        _screenshot(page, ARTIFACTS / f"panel-nested-{theme}.png", capsys)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_eight_receivers_a_nested_send_and_an_error_read_at_first_sight(
    test_site: str, theme: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from playwright.sync_api import expect

    with _panel_page(f"{test_site}/story/?csp=strict", theme) as page:
        panel = page.locator("#signalkit-panel")
        paid = panel.locator('details[data-send="toolbar_urls.order_paid"]')
        names = _receiver_names(paid, nested=True)
        expect(names).to_have_text(STORY_RECEIVERS)
        for name in names.all():
            expect(name).to_be_visible()
        arguments = paid.locator(":scope > p")
        expect(arguments).to_be_visible()
        expect(arguments).to_contain_text("order=<testapp.Post pk=42>")
        expect(arguments).to_contain_text("amount=1999")
        mailed = paid.locator('details[data-send="toolbar_urls.receipt_mailed"]')
        expect(mailed.locator(":scope > p")).to_be_visible()
        failed = paid.locator(":scope > ol > li.sk-error")
        expect(failed).to_contain_text("ConnectionError: the warehouse is offline")
        # One error, counted once, in the summary and the overview.
        expect(panel.locator(".sk-summary")).to_contain_text("1 exception")
        expect(panel.locator(".sk-summary")).not_to_contain_text("exceptions")
        row = panel.locator('.sk-signals tr[data-signal="toolbar_urls.order_paid"]')
        expect(row.locator("td").last).to_have_text("1")
        paid.evaluate("details => details.scrollIntoView({block: 'start'})")
        _screenshot(page, ARTIFACTS / f"panel-story-{theme}.png", capsys)
        # The full stack, on demand: shown in place, the view's frame first.
        paid.locator(":scope > p > a.sk-stk").click()
        stack = paid.locator(":scope > p > ol.sk-stack li")
        expect(stack.first).to_be_visible()
        expect(stack.first).to_have_text(re.compile(r"^toolbar_urls\.py:\d+ in story$"))
        paid.locator(":scope > p > a.sk-stk").click()
        expect(stack).to_have_count(0)
        _assert_fits_and_reads(page)


def test_an_older_request_picked_in_history_is_styled_under_a_strict_policy(
    test_site: str,
) -> None:
    from playwright.sync_api import expect

    with _panel_page(f"{test_site}/story/?csp=strict", "light") as page:
        page.goto(f"{test_site}/list/?csp=strict")
        _switch_history(page, "/story/", "GET")
        page.click("#djdt-SignalkitPanel a")
        panel = page.locator("#signalkit-panel")
        paid = panel.locator('details[data-send="toolbar_urls.order_paid"]')
        expect(_receiver_names(paid, nested=True)).to_have_text(STORY_RECEIVERS)
        # Styled: the stylesheet was linked with this page's nonce, and
        # nothing of signalkit's was blocked.
        summary = paid.locator(":scope > summary")
        # The panel's script links the stylesheet once the panel is in the
        # page: wait for it to load rather than read the style at once.
        expect(summary).to_have_css("display", "grid")
        blocked = page.evaluate("window.blocked")
        assert [entry for entry in blocked if "signalkit" in entry] == []
