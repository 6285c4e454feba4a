"""What recording costs: signalkit.record() and the debug toolbar panel.

Run with ``python benchmarks/recording.py``. Every comparison runs both sides
in the same process, interleaved, and prints the ratio of their best times:

- a plain ``django.dispatch.Signal.send`` with signalkit installed and no
  recorder active, against Django's own ``send`` called directly (goal 1.00x:
  while nothing records, Django runs unpatched);
- the same send while ``signalkit.record()`` records it, against recording
  off, with 5 receivers (goal <= 1.5x) and with none; and with none under
  ``record(fold_empty=True)``, which only counts such sends (goal <= 2.0x);
- a request through the test client and django-debug-toolbar to a view that
  sends 200 signals, with the signalkit panel against the same toolbar
  without it (goal <= +5%), with the garbage collector on as in a server.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import django
from django.conf import settings

TOOLBAR_PANELS = [
    "debug_toolbar.panels.history.HistoryPanel",
    "debug_toolbar.panels.versions.VersionsPanel",
    "debug_toolbar.panels.timer.TimerPanel",
    "debug_toolbar.panels.settings.SettingsPanel",
    "debug_toolbar.panels.headers.HeadersPanel",
    "debug_toolbar.panels.request.RequestPanel",
    "debug_toolbar.panels.sql.SQLPanel",
    "debug_toolbar.panels.templates.TemplatesPanel",
    "debug_toolbar.panels.cache.CachePanel",
]
SENDS_PER_REQUEST = 200

settings.configure(
    DEBUG=True,
    SECRET_KEY="benchmarks",
    ALLOWED_HOSTS=["testserver"],
    INTERNAL_IPS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.staticfiles",
        "debug_toolbar",
        "signalkit",
    ],
    MIDDLEWARE=["debug_toolbar.middleware.DebugToolbarMiddleware"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    TEMPLATES=[
        {"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}
    ],
    STATIC_URL="/static/",
    DEBUG_TOOLBAR_PANELS=TOOLBAR_PANELS,
    DEBUG_TOOLBAR_CONFIG={"IS_RUNNING_TESTS": False},
)
django.setup()

from _setup import best_of, report  # noqa: E402
from debug_toolbar.store import MemoryStore  # noqa: E402
from django.dispatch import Signal as DjangoSignal  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402

from signalkit import Signal, record  # noqa: E402

DJANGO_SEND = DjangoSignal.__dict__["send"]

page_viewed = Signal(
    name="benchmarks.page_viewed",
    args={"path": "The path", "number": "Which send of the request"},
)


def make_receiver(index: int) -> Any:
    def receiver(sender: Any, **kwargs: Any) -> int:
        return index

    return receiver


RECEIVERS = [make_receiver(i) for i in range(5)]
for receiver in RECEIVERS[:2]:
    page_viewed.connect(receiver)


def busy_view(request: HttpRequest) -> HttpResponse:
    for number in range(SENDS_PER_REQUEST):
        page_viewed.send(sender=None, path=request.path, number=number)
    return HttpResponse("<html><body><p>sent</p></body></html>")


urlpatterns = [
    path("busy/", busy_view),
    path("__debug__/", include("debug_toolbar.urls")),
]


def dispatch() -> None:
    plain = DjangoSignal()
    for receiver in RECEIVERS:
        plain.connect(receiver)
    # Enter and leave a recording once, so "off" means "patched once, then
    # restored", the state of a process after the toolbar showed a request.
    with record():
        plain.send(sender=None)
    times = best_of(
        {
            "unpatched": lambda: DJANGO_SEND(plain, sender=None, post=1, user=2),
            "off": lambda: plain.send(sender=None, post=1, user=2),
        },
        number=20_000,
    )
    report(
        "Signal.send, recording off / unpatched, 5 receivers",
        times["unpatched"],
        times["off"],
        "1.00x",
    )
    for count in (5, 0):
        signal = DjangoSignal()
        for receiver in RECEIVERS[:count]:
            signal.connect(receiver)
        with record(max_sends=10**9) as recorder:
            # Recording on: the recorder keeps every send, as the panel does.
            def on(signal: DjangoSignal = signal, recorder: Any = recorder) -> None:
                signal.send(sender=None, post=1, user=2)
                if len(recorder.sends) > 100_000:
                    recorder.sends.clear()

            def off(signal: DjangoSignal = signal) -> None:
                DJANGO_SEND(signal, sender=None, post=1, user=2)

            times = best_of({"off": off, "on": on}, number=10_000 if count else 50_000)
        report(
            f"Signal.send, recording on / off, {count} receivers",
            times["off"],
            times["on"],
            "<= 1.5x" if count else "(informative)",
        )
    # What the panel records: sends that run no receiver are only counted.
    empty = DjangoSignal()
    with record(max_sends=10**9, fold_empty=True):
        times = best_of(
            {
                "off": lambda: DJANGO_SEND(empty, sender=None, post=1, user=2),
                "on": lambda: empty.send(sender=None, post=1, user=2),
            },
            number=50_000,
        )
    report(
        "Signal.send, record(fold_empty=True) / off, 0 receivers",
        times["off"],
        times["on"],
        "<= 2.0x",
    )


def request() -> None:
    client = Client()
    with_panel = [*TOOLBAR_PANELS, "signalkit.panels.SignalkitPanel"]

    def get(panels: list[str]) -> Any:
        def run() -> None:
            with override_settings(DEBUG_TOOLBAR_PANELS=panels):
                response = client.get("/busy/")
            assert b"djDebug" in response.content
            MemoryStore.clear()

        return run

    times = best_of(
        {"without": get(TOOLBAR_PANELS), "with": get(with_panel)},
        number=20,
        repeat=9,
        garbage_collection=True,
    )
    without, with_ = times["without"], times["with"]
    print(
        f"{'Request, toolbar with panel / without, 200 sends':<52} "
        f"{with_ / without:5.2f}x  ({with_ * 1e3:8.2f} ms vs {without * 1e3:8.2f} ms)"
        f"  goal <= 1.05x (+{(with_ / without - 1) * 100:.1f}%)"
    )


def main() -> None:
    print(f"Python {sys.version.split()[0]}, Django {django.get_version()}")
    dispatch()
    request()


if __name__ == "__main__":
    main()
