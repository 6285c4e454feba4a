"""Shared set-up for the benchmarks: a minimal Django with signalkit installed."""

from __future__ import annotations

import gc
import timeit
from collections.abc import Callable

import django
from django.conf import settings


def setup_django() -> None:
    if not settings.configured:
        settings.configure(
            INSTALLED_APPS=[
                "django.contrib.contenttypes",
                "django.contrib.auth",
                "signalkit",
            ],
            DATABASES={
                "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
            },
        )
        django.setup()


def toolbar_panels() -> list[str]:
    """django-debug-toolbar's default panels, without its own signals panel
    (signalkit's replaces it)."""
    from debug_toolbar.settings import PANELS_DEFAULTS

    return [
        panel
        for panel in PANELS_DEFAULTS
        if panel != "debug_toolbar.panels.signals.SignalsPanel"
    ]


def setup_django_with_toolbar(*, panels: list[str], root_urlconf: str) -> None:
    """A minimal Django site behind django-debug-toolbar showing *panels*."""
    settings.configure(
        DEBUG=True,
        SECRET_KEY="benchmarks",
        ALLOWED_HOSTS=["testserver"],
        INTERNAL_IPS=["127.0.0.1"],
        ROOT_URLCONF=root_urlconf,
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.staticfiles",
            "debug_toolbar",
            "signalkit",
        ],
        MIDDLEWARE=["debug_toolbar.middleware.DebugToolbarMiddleware"],
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
        },
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
            }
        ],
        STATIC_URL="/static/",
        DEBUG_TOOLBAR_PANELS=panels,
        DEBUG_TOOLBAR_CONFIG={"IS_RUNNING_TESTS": False},
    )
    django.setup()


def make_receiver(index: int) -> Callable[..., int]:
    """A receiver that does nothing but return *index*, named ``receiver_<index>``."""

    def receiver(sender: object, **kwargs: object) -> int:
        return index

    receiver.__qualname__ = f"receiver_{index}"
    return receiver


def best_of(
    functions: dict[str, Callable[[], object]],
    *,
    number: int,
    repeat: int = 7,
    garbage_collection: bool = False,
) -> dict[str, float]:
    """Best time per call of each function, runs interleaved to share the noise.

    timeit turns the garbage collector off; *garbage_collection* keeps it on,
    as in a server, so that the cost of the objects a run leaves is counted.
    """
    setup = "gc.enable()" if garbage_collection else "pass"
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(repeat):
        for name, function in functions.items():
            timer = timeit.Timer(function, setup=setup, globals={"gc": gc})
            best[name] = min(best[name], timer.timeit(number=number) / number)
    return best


def report(
    title: str,
    baseline: float,
    candidate: float,
    goal: float | str | None,
    floor: float | None = None,
) -> None:
    """Print *candidate* / *baseline* against *goal* (a ratio, or words).

    When the goal is missed and a *floor* was timed in the same run (a minimal
    hand-written version of the same work), print the floor's ratio and the
    gap between the candidate and it.
    """
    ratio = candidate / baseline
    if not isinstance(goal, float):
        wanted, met = f"({goal or 'informative'})", ""
    else:
        wanted = f"goal <= {goal:.2f}x"
        met = "  met" if ratio <= goal else "  MISSED"
    print(
        f"{title:<58} {ratio:5.2f}x  "
        f"({candidate * 1e9:7.0f} ns vs {baseline * 1e9:7.0f} ns)  {wanted}{met}"
    )
    if isinstance(goal, float) and ratio > goal and floor is not None:
        print(
            f"{'  floor (minimal hand-written version, same data)':<58} "
            f"{floor / baseline:5.2f}x  ({floor * 1e9:7.0f} ns); "
            f"gap to the floor {candidate / floor:.2f}x"
        )
