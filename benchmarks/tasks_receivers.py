"""Signals and receivers of benchmarks/tasks.py; workers import them by path.

One signal per Tasks backend, each with one background receiver that notes
when it ran (``time.time()``) in the file named by ``SIGNALKIT_BENCH_LOG``.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from signalkit import Signal, receiver

in_process = Signal(name="benchmarks.in_process", args=["user", "note"])
BACKENDS = ("default", "database", "rq", "celery")
signals = {
    backend: Signal(name=f"benchmarks.to_{backend}", args=["user", "note"])
    for backend in BACKENDS
}


@receiver(in_process)
def plain(sender: Any, **kwargs: Any) -> None:
    pass


def note_arrival(note: str) -> None:
    log = os.environ.get("SIGNALKIT_BENCH_LOG")
    if log:
        with open(log, "a") as file:
            file.write(json.dumps({"note": note, "at": time.time()}) + "\n")


@receiver(signals["default"], background=True)
def on_dummy(sender: Any, note: str, **kwargs: Any) -> None:
    note_arrival(note)


@receiver(signals["database"], background=True, backend="database")
def on_database(sender: Any, note: str, **kwargs: Any) -> None:
    note_arrival(note)


@receiver(signals["rq"], background=True, backend="rq")
def on_rq(sender: Any, note: str, **kwargs: Any) -> None:
    note_arrival(note)


@receiver(signals["celery"], background=True, backend="celery")
def on_celery(sender: Any, note: str, **kwargs: Any) -> None:
    note_arrival(note)
