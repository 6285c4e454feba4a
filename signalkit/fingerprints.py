"""Which functions are ``django.dispatch.Signal``'s own ``send`` and
``send_robust``: a fingerprint of their source, per supported Django.

Both :class:`signalkit.Signal` (to skip a second call where Django's own
method would return ``[]`` at once) and the send-event pipeline (to run its
one copy of Django's sync loop) ask :func:`is_djangos` about the method in
place when a send runs; nothing is saved at import.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import textwrap
from typing import Any


def fingerprint(function: Any) -> str | None:
    """A SHA-256 of the source of *function*'s body (its docstring left out),
    or ``None`` when its source cannot be read.

    Source, not bytecode: it is the same under every Python version.
    """
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return None
    node = ast.parse(source).body[0]
    if not isinstance(node, ast.FunctionDef):
        return None
    body = node.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    lines = source.splitlines()[body[0].lineno - 1 : node.end_lineno]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


# The bodies of Django's send() and send_robust() whose sync receiver loop
# signalkit.pipeline.loops.run_send() copies, by fingerprint, with the
# Django versions that have them. Async receivers always go to Django's own method, so the
# differences between versions (gather or _run_parallel) do not matter here.
DJANGO_LOOPS: dict[str, dict[str, tuple[str, ...]]] = {
    "send": {
        "40ce1b66f1a43cbb26fef6cfa742332c89fed0a3afd409e86a140e559f5fa7aa": (
            "5.2",
            "6.0",
        ),
        "3c39e1ba906366ce74be7500372f06adf825c5e39dc4af92d896e8bf768e0b8c": ("6.1",),
    },
    "send_robust": {
        "626d17c2edb492195d61999f1d020981ca12c8ddefe9a4d94bcd51d300d83f5f": (
            "5.2",
            "6.0",
        ),
        "ea8c7113038a082732d1fba3404520e83e9fdb244de6f671bc8bf1daa6b05ccd": ("6.1",),
    },
}

# Per method: function -> whether it is Django's own.
_checked: dict[str, dict[Any, bool]] = {method: {} for method in DJANGO_LOOPS}


def is_djangos(function: Any, method: str) -> bool:
    """Whether *function* is ``django.dispatch.Signal.<method>`` as a
    supported Django has it (``"send"`` or ``"send_robust"``), decided once
    per function by :func:`fingerprint`.

    Anything else, such as a method that signalkit's pipeline, another
    library or a newer Django put there, is not.
    """
    checked = _checked[method]
    known = checked.get(function)
    if known is None:
        known = checked[function] = fingerprint(function) in DJANGO_LOOPS[method]
    return known


def known(method: str) -> dict[Any, bool]:
    """What :func:`is_djangos` found so far for *method*, by function: read
    directly where a function call would cost more than the send."""
    return _checked[method]
