"""The signalkit panel in a real browser, on the example project.

Serves ``example_project`` with ``runserver`` against a fresh SQLite database,
publishes a post whose title is ``<script>`` markup, and reads the panel
through django-debug-toolbar's own UI with Playwright driving Debian's
Chromium. Skipped when Chromium is missing, unless
``SIGNALKIT_REQUIRE_BROWSER=1`` (set by ``.ci/run``). The screenshot goes to
``artifacts/panel.png``; with ``SIGNALKIT_UPDATE_SCREENSHOT=1`` it also
replaces the one in the docs, ``docs/_static/panel.png``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "artifacts" / "panel.png"
DOCS_SCREENSHOT = ROOT / "docs" / "_static" / "panel.png"
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


@pytest.fixture
def example_site(tmp_path: Path) -> Iterator[str]:
    """The example project on a free port, with its sample data."""
    _require_browser()
    (tmp_path / "browser_settings.py").write_text(
        "from example.settings import *  # noqa: F403\n\n"
        f"DATABASES['default']['NAME'] = {str(tmp_path / 'db.sqlite3')!r}\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "browser_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(EXAMPLE)]),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PYTEST_VERSION", None)
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput"], ["load_sample_data"]):
        subprocess.run(
            [*manage, *command], cwd=EXAMPLE, env=env, check=True, capture_output=True
        )
    port = _free_port()
    log = (tmp_path / "runserver.log").open("wb")
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=EXAMPLE,
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


def test_panel_lists_receivers_of_a_published_post_and_runs_no_script(
    example_site: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from playwright.sync_api import Dialog, expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        # CI runs this beside other tox environments; give slow moments room.
        page.set_default_timeout(30_000)
        expect.set_options(timeout=15_000)
        dialogs: list[str] = []

        def on_dialog(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        try:
            # Log in and publish a post; the POST redirects to the post.
            page.goto(f"{example_site}/accounts/login/")
            page.fill("input[name=username]", "alice")
            page.fill("input[name=password]", "signalkit")
            page.click("main button[type=submit]")
            page.goto(f"{example_site}/posts/new/")
            page.fill("input[name=title]", TITLE)
            page.fill("textarea[name=body]", "Published from the browser test.")
            page.click("main button[type=submit]")
            expect(page.locator("main h1")).to_contain_text("Escaping matters")

            # The redirect's target shows the toolbar; the publishing POST is
            # in its history.
            page.click("#djdt-HistoryPanel a")
            # The toolbar loads history.js as an async module after the panel's
            # HTML; a Switch click before it has run does nothing. Importing
            # the same URL resolves once that module has been evaluated.
            history_js = page.locator('script[src*="debug_toolbar/js/history.js"]')
            history_js.wait_for(state="attached")
            page.evaluate(
                "async (src) => { await import(src); }",
                history_js.evaluate("s => s.src"),
            )
            post_row = (
                page.locator("#djDebug tr[data-request-id]")
                .filter(has_text="/posts/new/")
                .filter(has=page.locator("td:nth-child(2) p", has_text="POST"))
            )
            post_request_id = post_row.get_attribute("data-request-id")
            post_row.locator("button.switchHistory").click()
            # The switch fetches the POST's panels; wait until it has landed.
            expect(page.locator("#djDebug")).to_have_attribute(
                "data-request-id", post_request_id or ""
            )
            page.click("#djdt-SignalkitPanel a")
            send = page.locator(
                '#signalkit-panel tr[data-send="blog.signals.post_published"]'
            )
            expect(send).to_have_count(1)
            names = send.locator("li.sk-receiver code.sk-receiver-name")
            expect(names).to_have_text(PUBLISHED_RECEIVERS)
            send.evaluate("row => row.scrollIntoView({block: 'center'})")

            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            with capsys.disabled():  # CI keeps the file: show where it is
                print(f"\nscreenshot of the signalkit panel: {SCREENSHOT}")
            if os.environ.get("SIGNALKIT_UPDATE_SCREENSHOT") == "1":
                shutil.copyfile(SCREENSHOT, DOCS_SCREENSHOT)

            assert page.evaluate("window.signalkitPwned") is None
            assert dialogs == []
        finally:
            browser.close()
