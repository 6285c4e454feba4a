"""What giving Django its methods back costs over a long process.

Run with ``python benchmarks/restores.py``. Each ``record()`` block patches
``django.dispatch.Signal`` and gives Django's methods back when it ends.
Python 3.13+ lets a class change about 1,000 times (it gets a new version
tag after each change a lookup sees) and then never caches lookups on it or
its subclasses again. So the pipeline gives Django's methods back a limited
number of times (``signalkit.pipeline.lifecycle.RESTORES``) and then leaves
its own in place, passing every send to Django's while nothing observes.

Two child processes each time a plain ``send()`` to 5 receivers, a
``send()`` to none, ``has_listeners()`` and a declared ``send()`` to 5
receivers, before and after 1,200 ``record()`` blocks: one with the limit
(as shipped), one without it. Both are facts, not goals: with the limit,
what the methods left in place cost while nothing observes; without it, on
Python 3.13+, what a class that lost its attribute cache costs (on any
attribute of any signal, not only these).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

BLOCKS = 1_200


def measure(limited: bool) -> dict[str, tuple[float, float]]:
    """In this process: each measure before and after the blocks, in ns."""
    from _setup import best_of, make_receiver, setup_django

    setup_django()
    from django.dispatch import Signal as DjangoSignal

    from signalkit import Signal, record
    from signalkit.pipeline import lifecycle

    if not limited:
        lifecycle._restores_left = sys.maxsize
    plain, empty = DjangoSignal(), DjangoSignal()
    declared = Signal(name="benchmarks.restores.declared", args=["post"])
    for index in range(5):
        plain.connect(make_receiver(index), weak=False)
        declared.connect(make_receiver(index), weak=False)
    functions = {
        "send, 5 receivers": lambda: plain.send(sender=None, post=1),
        "send, no receiver": lambda: empty.send(sender=None, post=1),
        "has_listeners()": lambda: plain.has_listeners(sender=None),
        "declared send, 5 receivers": lambda: declared.send(sender=None, post=1),
    }
    before = best_of(functions, number=20_000)
    for _ in range(BLOCKS):
        with record():
            plain.send(sender=None, post=1)
        plain.send(sender=None, post=1)
    after = best_of(functions, number=20_000)
    return {name: (before[name], after[name]) for name in functions}


def main() -> None:
    import django
    from _setup import report

    print(
        f"Python {sys.version.split()[0]}, Django {django.get_version()}, "
        f"{BLOCKS} record() blocks"
    )
    for limited in (True, False):
        found = json.loads(
            subprocess.run(
                [sys.executable, __file__, "--child", str(limited)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        title = "with the limit" if limited else "without the limit"
        for name, (before, after) in found.items():
            report(f"{name}, after / before, {title}", before, after, None)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(measure(sys.argv[2] == "True")))
    else:
        main()
