"""What declaring a signal costs: signalkit.Signal.send vs django.dispatch.Signal.send.

Run with ``python benchmarks/dispatch.py``. Both signals run in the same
process, interleaved, and the ratio of their best times is printed: absolute
times on a shared machine mean little. Goals: <= 1.05x with 5 receivers,
<= 1.2x with none; where one is missed, the floor printed beside it is a
minimal hand-written subclass that checks the argument names and calls
Django's ``send``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _setup import best_of, make_receiver, report, setup_django

setup_django()

import django  # noqa: E402
from django.dispatch import Signal as DjangoSignal  # noqa: E402

from signalkit import Signal  # noqa: E402


class _Checked(DjangoSignal):
    """The floor: a Django signal that checks its argument names, no more."""

    def __init__(self, required: frozenset[str]) -> None:
        super().__init__()
        self.required = required

    def send(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        if named.keys() != self.required:
            raise TypeError(sorted(named))
        return super().send(sender, **named)


def main() -> None:
    receivers = [make_receiver(i) for i in range(5)]
    print(f"Python {sys.version.split()[0]}, Django {django.get_version()}")
    for count in (5, 0):
        plain = DjangoSignal()
        declared = Signal(name=f"benchmarks.declared_{count}", args=["post", "user"])
        checked = _Checked(frozenset({"post", "user"}))
        for receiver in receivers[:count]:
            plain.connect(receiver)
            declared.connect(receiver)
            checked.connect(receiver)
        times = best_of(
            {
                "django": lambda plain=plain: plain.send(sender=None, post=1, user=2),
                "signalkit": lambda declared=declared: declared.send(
                    sender=None, post=1, user=2
                ),
                "floor": lambda checked=checked: checked.send(
                    sender=None, post=1, user=2
                ),
            },
            number=20_000 if count else 200_000,
        )
        report(
            f"signalkit.Signal.send / Signal.send, {count} receivers",
            times["django"],
            times["signalkit"],
            1.05 if count else 1.2,
            times["floor"],
        )


if __name__ == "__main__":
    main()
