"""What recording costs: signalkit.record() and the debug toolbar panel.

Run with ``python benchmarks/recording.py``. Every comparison runs both sides
in the same process, interleaved, and prints the ratio of their best times:

- a plain ``django.dispatch.Signal.send`` with signalkit installed and no
  recorder active, against Django's own ``send`` called directly (goal 1.00x:
  while nothing records, Django runs unpatched);
- the same send while ``signalkit.record()`` records it, against recording
  off, with 5 receivers (goal <= 1.8x) and with none; and with none under
  ``record(fold_empty=True)``, which only counts such sends (goal <= 1.8x),
  both inside an open recording and as a whole block: entering
  ``record(fold_empty=True)``, 100 sends, leaving it (goal <= 1.8x);
- a request through the test client and django-debug-toolbar to a view that
  sends 200 signals and does nothing else, with the signalkit panel against
  the same toolbar without it, with the garbage collector on as in a server
  (informative: a worst case made of sends only; the panel's budgets are
  measured on a real list page by ``benchmarks/panel.py``).

Where a goal is missed, a floor is printed beside it: a minimal hand-written
version of the same work (Django's loop keeping the same data, or a counter),
timed in the same run, and the gap between signalkit and that floor.
"""

from __future__ import annotations

import operator
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import django
from _setup import make_receiver, setup_django_with_toolbar, toolbar_panels

TOOLBAR_PANELS = toolbar_panels()
SENDS_PER_REQUEST = 200

setup_django_with_toolbar(panels=TOOLBAR_PANELS, root_urlconf=__name__)

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


# The floors: minimal hand-written versions of the same work, timed in the
# same run, to tell what any pure-Python recorder must pay from what ours adds.
_floor_kept: list[tuple[Any, ...]] = []
_floor_running: dict[int, Any] = {}
_floor_names: dict[int, str] = {
    id(receiver): f"{receiver.__module__}.{receiver.__qualname__}"
    for receiver in RECEIVERS
}
_floor_folded: dict[tuple[Any, Any], int] = {}
_now_ns = time.perf_counter_ns
_response = operator.itemgetter(1)


def floor_send(signal: DjangoSignal, sender: Any, **named: Any) -> Any:
    """Django's sync send, keeping what a recording keeps, and nothing more.

    The send site (code object and instruction offset), the parent running
    in this thread, start and end stamps, a stamp per receiver, the
    receivers' names and their results, in one tuple per send.
    """
    if not signal.receivers:
        return []
    frame = sys._getframe(1)
    key = threading.get_ident()
    parent = _floor_running.get(key)
    started = _now_ns()
    receivers, _ = signal._live_receivers(sender)  # type: ignore[attr-defined]
    responses = []
    stamps = [_now_ns()]
    _floor_running[key] = responses
    for receiver in receivers:
        response = receiver(signal=signal, sender=sender, **named)
        stamps.append(_now_ns())
        responses.append((receiver, response))
    if parent is None:
        del _floor_running[key]
    else:
        _floor_running[key] = parent
    _floor_kept.append(
        (
            signal,
            sender,
            named,
            frame.f_code,
            frame.f_lasti,
            parent,
            started,
            _now_ns(),
            stamps,
            list(map(_floor_names.get, map(id, receivers))),
            list(map(_response, responses)),
        )
    )
    if len(_floor_kept) > 100_000:
        _floor_kept.clear()
    return responses


def floor_fold(signal: DjangoSignal, sender: Any, **named: Any) -> Any:
    """Django's send to no receiver, counted by signal and sender."""
    if not signal.receivers:
        key = (signal, sender)
        _floor_folded[key] = _floor_folded.get(key, 0) + 1
        return []
    return DJANGO_SEND(signal, sender, **named)


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
    # Not a ratio to meet but a fact: Django's own method is back in place.
    assert DjangoSignal.__dict__["send"] is DJANGO_SEND
    report(
        "Signal.send, recording off / unpatched, 5 receivers",
        times["unpatched"],
        times["off"],
        "goal 1.00x: Django's own method runs",
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

            def floor(signal: DjangoSignal = signal) -> None:
                floor_send(signal, sender=None, post=1, user=2)

            times = best_of(
                {"off": off, "on": on, "floor": floor},
                number=10_000 if count else 50_000,
            )
        report(
            f"Signal.send, recording on / off, {count} receivers",
            times["off"],
            times["on"],
            1.8 if count else None,
            times["floor"],
        )
    # What the panel records: sends that run no receiver are only counted.
    empty = DjangoSignal()
    with record(max_sends=10**9, fold_empty=True):
        times = best_of(
            {
                "off": lambda: DJANGO_SEND(empty, sender=None, post=1, user=2),
                "on": lambda: empty.send(sender=None, post=1, user=2),
                "floor": lambda: floor_fold(empty, sender=None, post=1, user=2),
            },
            number=50_000,
        )
    report(
        "Signal.send, record(fold_empty=True) / off, 0 receivers",
        times["off"],
        times["on"],
        1.8,
        times["floor"],
    )

    # The same as a whole block, as a request of the panel has it.
    def block_on() -> None:
        with record(fold_empty=True):
            for _ in range(100):
                empty.send(sender=None, post=1, user=2)

    def block_off() -> None:
        for _ in range(100):
            DJANGO_SEND(empty, sender=None, post=1, user=2)

    def block_floor() -> None:
        for _ in range(100):
            floor_fold(empty, sender=None, post=1, user=2)

    times = best_of(
        {"off": block_off, "on": block_on, "floor": block_floor}, number=1_000
    )
    report(
        "record(fold_empty=True) block of 100 sends, 0 receivers / off",
        times["off"],
        times["on"],
        1.8,
        times["floor"],
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
    report(
        "Request, toolbar with panel / without, 200 sends",
        times["without"],
        times["with"],
        "informative: a view made of sends only; the panel's budgets: "
        "benchmarks/panel.py",
    )


def main() -> None:
    print(f"Python {sys.version.split()[0]}, Django {django.get_version()}")
    dispatch()
    request()


if __name__ == "__main__":
    main()
