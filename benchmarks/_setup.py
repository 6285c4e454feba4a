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


def report(title: str, baseline: float, candidate: float, goal: str) -> None:
    print(
        f"{title:<52} {candidate / baseline:5.2f}x  "
        f"({candidate * 1e9:8.0f} ns vs {baseline * 1e9:8.0f} ns)  goal {goal}"
    )
