"""What the debug toolbar panel costs on real pages, and how much it stores.

Run with ``python benchmarks/panel.py``. Everything runs in one process
through the real django-debug-toolbar with its default panels (the signalkit
panel in place of the toolbar's own signals panel):

- a list page that reads 500 rows into model instances (1,000 sends of
  ``pre_init``/``post_init`` that run no receiver), renders them with a
  template, and sends a custom signal 20 times (3 receivers each): the size
  of the panel's HTML (budget 150 kB) and of what it keeps in the toolbar's
  store (budget 40 kB), and the request with the panel against the same
  toolbar without it, with ``RENDER_PANELS`` off (budget 1.12x) and on
  (budget 1.2x), as ratios of best times, runs interleaved;
- of that, the cost of recording alone: the list view recorded as the panel
  records it (``record(fold_empty=True)``) against the view not recorded;
- a request with 5,000 sends that run receivers, with stacks enabled (the
  toolbar's ENABLE_STACKTRACES, on by default): HTML per kept send (budget
  1 kB, so at most 1 MB at the default cap of 1,000 kept sends).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import django
from _setup import make_receiver, setup_django_with_toolbar, toolbar_panels

WITHOUT_PANEL = toolbar_panels()
WITH_PANEL = [*WITHOUT_PANEL, "signalkit.panels.SignalkitPanel"]
ROWS = 500
CUSTOM_SENDS = 20
BUSY_SENDS = 5_000

setup_django_with_toolbar(panels=WITH_PANEL, root_urlconf=__name__)

from _setup import best_of  # noqa: E402
from debug_toolbar.store import MemoryStore  # noqa: E402
from debug_toolbar.toolbar import DebugToolbar  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.template import engines  # noqa: E402
from django.test import Client, RequestFactory, override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402

from signalkit import Signal, record  # noqa: E402

item_listed = Signal(
    name="benchmarks.item_listed",
    args={"page": "The page number", "position": "Which send of the request"},
)


RECEIVERS = [make_receiver(i) for i in range(3)]
for receiver in RECEIVERS:
    item_listed.connect(receiver)

LIST_TEMPLATE = engines["django"].from_string(
    "<html><body><ul>{% for group in groups %}<li>{{ group.name }}</li>"
    "{% endfor %}</ul></body></html>"
)


def list_view(request: HttpRequest) -> HttpResponse:
    groups = list(Group.objects.all())
    for position in range(CUSTOM_SENDS):
        item_listed.send(sender=Group, page=1, position=position)
    return HttpResponse(LIST_TEMPLATE.render({"groups": groups}))


def busy_view(request: HttpRequest) -> HttpResponse:
    for position in range(BUSY_SENDS):
        item_listed.send(sender=None, page=2, position=position)
    return HttpResponse("<html><body><p>sent</p></body></html>")


urlpatterns = [
    path("list/", list_view),
    path("busy/", busy_view),
    path("__debug__/", include("debug_toolbar.urls")),
]


class Toolbars:
    """The toolbars the middleware creates, newest last."""

    def __init__(self) -> None:
        self.created: list[DebugToolbar] = []
        DebugToolbar._created.connect(self.keep, weak=False)

    def keep(self, sender: Any, toolbar: DebugToolbar, **kwargs: Any) -> None:
        self.created.append(toolbar)


def panel_sizes(client: Client, toolbars: Toolbars, url: str) -> tuple[int, int, int]:
    """Bytes of the panel's HTML and of its stored stats, and kept sends."""
    client.get(url)
    toolbar = toolbars.created[-1]
    request_id = str(toolbar.request_id)
    stored = MemoryStore._request_store[request_id]["SignalkitPanel"]
    content = client.get(
        "/__debug__/render_panel/",
        {"request_id": request_id, "panel_id": "SignalkitPanel"},
    ).json()["content"]
    kept = len(json.loads(stored)["sends"])
    MemoryStore.clear()
    return len(content.encode()), len(stored.encode()), kept


def request_ratio(client: Client, render_panels: bool) -> tuple[float, float]:
    config = {"IS_RUNNING_TESTS": False, "RENDER_PANELS": render_panels}

    def get(panels: list[str]) -> Any:
        def run() -> None:
            with override_settings(DEBUG_TOOLBAR_PANELS=panels):
                response = client.get("/list/")
            assert b"djDebug" in response.content
            MemoryStore.clear()

        return run

    with override_settings(DEBUG_TOOLBAR_CONFIG=config):
        times = best_of(
            {"without": get(WITHOUT_PANEL), "with": get(WITH_PANEL)},
            number=5,
            repeat=15,
            garbage_collection=True,
        )
    return times["without"], times["with"]


def recording_ratio() -> tuple[float, float]:
    """The list view alone, recorded as the panel records it, and not."""
    request = RequestFactory().get("/list/")

    def recorded() -> None:
        with record(fold_empty=True):
            list_view(request)

    times = best_of(
        {"plain": lambda: list_view(request), "recorded": recorded},
        number=5,
        repeat=9,
        garbage_collection=True,
    )
    return times["plain"], times["recorded"]


def main() -> None:
    print(f"Python {sys.version.split()[0]}, Django {django.get_version()}")
    call_command("migrate", verbosity=0)
    Group.objects.bulk_create(Group(name=f"group {i}") for i in range(ROWS))
    client = Client()
    toolbars = Toolbars()

    html, stored, _ = panel_sizes(client, toolbars, "/list/")
    print(f"{'List page: panel HTML':<52} {html / 1000:8.1f} kB  budget <= 150 kB")
    print(f"{'List page: stored stats':<52} {stored / 1000:8.1f} kB  budget <= 40 kB")
    for render_panels, budget in ((False, "1.12x"), (True, "1.2x")):
        without, with_ = request_ratio(client, render_panels)
        title = f"List page, with panel / without, RENDER_PANELS={render_panels}"
        print(
            f"{title:<52} {with_ / without:8.2f}x  "
            f"({with_ * 1e3:.2f} ms vs {without * 1e3:.2f} ms)  budget <= {budget}"
        )

    plain, recorded = recording_ratio()
    print(
        f"{'  of which: the view recorded / not recorded':<52} "
        f"{recorded / plain:8.2f}x  ({recorded * 1e3:.2f} ms vs {plain * 1e3:.2f} ms)"
    )

    html, stored, kept = panel_sizes(client, toolbars, "/busy/")
    print(
        f"{f'{BUSY_SENDS} sends: HTML per kept send ({kept} kept)':<52} "
        f"{html / kept / 1000:8.2f} kB  budget <= 1 kB "
        f"(panel {html / 1e6:.2f} MB, stored {stored / 1e6:.2f} MB)"
    )


if __name__ == "__main__":
    main()
