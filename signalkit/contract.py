"""The argument contract of a declared signal: what it sends, checked at send.

A declaration is a sequence of argument names or a mapping of name to a
one-line description; :func:`declare` turns ``args`` and ``optional_args``
into ``{name: description}`` or raises
:class:`~signalkit.exceptions.SignalDeclarationError` naming the problem.
:func:`argument_error` words the error of a send that breaks the contract.
"""

from __future__ import annotations

import difflib
import keyword
import re
import types
from collections.abc import Collection, Mapping, Sequence
from typing import Annotated, Literal, TypeAlias, Union, get_args, get_origin

from signalkit.exceptions import SignalArgumentError, SignalDeclarationError

ArgsSpec: TypeAlias = Union[Sequence[str], Mapping[str, str]]  # noqa: UP007

# Django passes these itself; a declared argument of the same name could never
# be sent.
RESERVED_ARGS = frozenset({"sender", "signal"})


def normalize_args(spec: ArgsSpec, *, owner: str, what: str) -> dict[str, str]:
    """Turn an ``args`` declaration into ``{name: description}``.

    *owner* names the signal (or its definition site) in error messages and
    *what* the parameter, ``args`` or ``optional_args``.
    """
    if isinstance(spec, Mapping):
        items = list(spec.items())
    elif isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence):
        raise SignalDeclarationError(
            f"{owner}: {what} must be a list of argument names or a mapping of "
            f"name to description, not {spec!r} ({type(spec).__name__})."
        )
    else:
        items = [(name, "") for name in spec]
    declared: dict[str, str] = {}
    for name, description in items:
        if (
            not isinstance(name, str)
            or not name.isidentifier()
            or keyword.iskeyword(name)
        ):
            raise SignalDeclarationError(
                f"{owner}: {what} contains {name!r}, which is not a valid "
                f"keyword argument name."
            )
        if name in RESERVED_ARGS:
            raise SignalDeclarationError(
                f"{owner}: {what} contains {name!r}, which Django passes to every "
                f"receiver itself; remove it from the declaration."
            )
        if not isinstance(description, str):
            raise SignalDeclarationError(
                f"{owner}: the description of argument {name!r} must be a string, "
                f"not {description!r}."
            )
        if name in declared:
            raise SignalDeclarationError(f"{owner}: {what} declares {name!r} twice.")
        declared[name] = description
    return declared


def declare(
    args: ArgsSpec, optional_args: ArgsSpec, *, owner: str
) -> tuple[dict[str, str], dict[str, str]]:
    """The required and optional arguments of a declaration, checked together."""
    required = normalize_args(args, owner=owner, what="args")
    optional = normalize_args(optional_args, owner=owner, what="optional_args")
    both = [name for name in required if name in optional]
    if both:
        raise SignalDeclarationError(
            f"{owner}: {', '.join(map(repr, both))} cannot be both required "
            f"(args) and optional (optional_args)."
        )
    return required, optional


def argument_error(
    label: str,
    method: str,
    sent: Collection[str],
    required: Sequence[str],
    optional: Sequence[str],
) -> SignalArgumentError:
    """The error for a send of *label* whose arguments *sent* break the contract.

    Missing arguments are listed in declared order, unexpected ones in the
    order they were passed; an unexpected name close to a declared one gets a
    suggestion.
    """
    missing = [name for name in required if name not in sent]
    allowed = {*required, *optional}
    unexpected = [name for name in sent if name not in allowed]
    problems = []
    if missing:
        plural = "s" if len(missing) > 1 else ""
        problems.append(f"missing required argument{plural} {_quote(missing)}")
    if unexpected:
        plural = "s" if len(unexpected) > 1 else ""
        problems.append(f"got unexpected argument{plural} {_quote(unexpected)}")
    declared = ", ".join(required) or "none"
    if optional:
        declared += "; optional: " + ", ".join(optional)
    unused = [name for name in (*required, *optional) if name not in sent]
    hints = "".join(_suggestion(name, unused) for name in unexpected)
    return SignalArgumentError(
        f"{label}.{method}() {' and '.join(problems)} (declared: {declared}){hints}"
    )


def type_text(annotation: object) -> str:
    """How an argument's type reads in the catalog, the panel and the docs:
    ``Post``, ``type[Post]``, ``User | None``, ``Literal['draft', 'live']``.

    A string (an annotation under ``from __future__ import annotations``) is
    shown as written; classes by their name, without their module.
    """
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, list):  # the parameters of a Callable[[...], R]
        return f"[{', '.join(type_text(argument) for argument in annotation)}]"
    if annotation is None or annotation is types.NoneType:
        return "None"
    origin = get_origin(annotation)
    arguments = get_args(annotation)
    if origin is Annotated:
        return type_text(arguments[0])
    if origin is Union or origin is types.UnionType:
        return " | ".join(type_text(argument) for argument in arguments)
    if origin is Literal:
        return f"Literal[{', '.join(map(repr, arguments))}]"
    if origin is not None and arguments:
        head = type_text(origin)
        return f"{head}[{', '.join(type_text(argument) for argument in arguments)}]"
    if isinstance(annotation, type):
        return annotation.__qualname__
    if hasattr(annotation, "__supertype__"):  # typing.NewType
        return str(getattr(annotation, "__name__", annotation))
    if annotation is Ellipsis:
        return "..."
    # typing.Any, a TypeVar, a NewType...: their repr, without "typing.".
    return re.sub(r"\btyping(?:_extensions)?\.", "", repr(annotation))


def _quote(names: Sequence[str]) -> str:
    return ", ".join(map(repr, names))


def _suggestion(name: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1)
    return f". Did you mean {close[0]!r} instead of {name!r}?" if close else ""
