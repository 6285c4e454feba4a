"""``@signalkit.signal``: a signal declared as a function signature.

::

    @signal
    def post_published(sender: type[Post], *, post: Post, user: User) -> None:
        \"\"\"Sent after a blog post is published.

        Args:
            post: The Post that was published.
            user: Who published it.
        \"\"\"

makes ``post_published`` a :class:`signalkit.Signal` whose type is
``Signal[(sender: type[Post], *, post: Post, user: User)]``: type checkers
hold every send and receiver to that signature. The keyword-only parameters
are the arguments (one with a default is optional; the default is never
sent), the docstring gives the signal's doc and each argument's
description, unless ``Annotated[T, "description"]`` does. Anything that
does not fit is refused here, at import, naming the function.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from typing import Annotated, Any, get_args, get_origin, overload

from signalkit.contract import type_text
from signalkit.exceptions import SignalDeclarationError
from signalkit.runtime_types import ArgumentTypes
from signalkit.signals import P, Signal

__all__ = ["signal"]


def _documented() -> None:
    """A docstring, as a declaration has."""


def _undocumented() -> None: ...


# A body of a docstring, pass or ... compiles to one of these on every
# supported Python; anything else does something.
_EMPTY_BODIES = frozenset(
    {_documented.__code__.co_code, _undocumented.__code__.co_code}
)


@overload
def signal(function: Callable[P, None], /) -> Signal[P]: ...


@overload
def signal(
    *, name: str | None = None, use_caching: bool = False
) -> Callable[[Callable[P, None]], Signal[P]]: ...


def signal(
    function: Callable[..., None] | None = None,
    /,
    *,
    name: str | None = None,
    use_caching: bool = False,
) -> Any:
    """Declare a signal by writing its send as a function signature.

    The first parameter is ``sender``; the keyword-only parameters after
    ``*`` are the arguments every send passes (a default makes one optional:
    a send may leave it out, and receivers then do not get it). The body is
    the docstring alone: what the signal means, then the arguments in a
    Google-style ``Args:`` section or as Sphinx ``:param name:`` lines.

    :param name: dotted name; defaults to ``"<module>.<function name>"``.
    :param use_caching: as for ``django.dispatch.Signal``.
    :raises SignalDeclarationError: for a function that does not declare a
        signal this way, naming it and what to write instead.
    """

    def declare(function: Callable[..., None]) -> Signal[...]:
        return _declare(function, name, use_caching)

    if function is None:
        return declare
    return declare(function)


def _declare(
    function: Callable[..., Any], name: str | None, use_caching: bool
) -> Signal[...]:
    if not inspect.isfunction(function):
        raise SignalDeclarationError(
            f"@signal decorates a function (def name(sender, *, argument: "
            f"Type) -> None), not {type(function).__name__}."
        )
    where = f"{function.__module__}.{function.__qualname__}"
    arguments = _arguments(function, where)
    _check_body(function, where)
    doc, described = _parse_docstring(inspect.getdoc(function) or "", where)
    # Describing sender is fine: it is a parameter, just not an argument.
    unknown = [each for each in described if each not in {*arguments, "sender"}]
    if unknown:
        raise SignalDeclarationError(
            f"{where}: the docstring describes {', '.join(map(repr, unknown))}, "
            f"which is not a keyword-only parameter (declared: "
            f"{', '.join(arguments) or 'none'})."
        )
    required: dict[str, str] = {}
    optional: dict[str, str] = {}
    annotations: dict[str, object] = {}
    texts: dict[str, str] = {}
    for argument, parameter in arguments.items():
        text, annotated = _annotation_parts(parameter.annotation)
        description = annotated or described.get(argument, "")
        target = optional if parameter.default is not parameter.empty else required
        target[argument] = description
        if parameter.annotation is not parameter.empty:
            annotations[argument] = parameter.annotation
            texts[argument] = text
    if name is None and "<locals>" not in function.__qualname__:
        # Inside a function there is no importable name: like a Signal()
        # made there, the signal is named only if a module attribute gets it.
        name = where
    code = function.__code__
    return Signal._declared(
        name=name,
        args=required,
        optional_args=optional,
        doc=doc,
        use_caching=use_caching,
        module=function.__module__,
        defined_at=f"{code.co_filename}:{code.co_firstlineno}",
        types=ArgumentTypes(annotations, texts, function.__globals__),
    )


def _arguments(
    function: Callable[..., Any], where: str
) -> dict[str, inspect.Parameter]:
    """The keyword-only parameters, after checking the others."""
    short = function.__name__
    parameters = list(inspect.signature(function).parameters.values())
    first = parameters[0] if parameters else None
    if (
        first is None
        or first.name != "sender"
        or first.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD
        or first.default is not first.empty
    ):
        raise SignalDeclarationError(
            f"{where}: the first parameter must be sender (with no default); "
            f"write def {short}(sender: type[Model], *, argument: Type) -> None."
        )
    arguments: dict[str, inspect.Parameter] = {}
    for parameter in parameters[1:]:
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            arguments[parameter.name] = parameter
            continue
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            fix = "signals send keyword arguments only; declare each one after *"
            spelled = f"*{parameter.name}"
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            fix = "declare each argument by name after *, so that sends are checked"
            spelled = f"**{parameter.name}"
        else:
            fix = f"make it keyword-only: def {short}(sender, *, {parameter.name}...)"
            spelled = parameter.name
        raise SignalDeclarationError(
            f"{where}: parameter {spelled!r} cannot be part of a signal "
            f"declaration; {fix}."
        )
    returns = inspect.signature(function).return_annotation
    if returns not in (inspect.Signature.empty, None, "None"):
        raise SignalDeclarationError(
            f"{where}: a signal declaration returns None (receivers' return "
            f"values are not part of it); write -> None, not -> {type_text(returns)}."
        )
    return arguments


def _check_body(function: Callable[..., Any], where: str) -> None:
    if function.__code__.co_code not in _EMPTY_BODIES:
        raise SignalDeclarationError(
            f"{where}: the body of a signal declaration is its docstring only "
            f"(it is never called); move the code into a receiver "
            f"(@receiver({function.__name__}))."
        )


_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Keyword Args|Keyword Arguments):\s*$"
)
_GOOGLE_ITEM = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def _parse_docstring(docstring: str, where: str) -> tuple[str, dict[str, str]]:
    """The signal's doc (the docstring without its argument descriptions)
    and each described argument's one-line description."""
    lines = docstring.splitlines()
    doc: list[str] = []
    described: dict[str, str] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        sphinx = _SPHINX_PARAM.match(line.strip())
        if _SECTION.match(line):
            index = _google_section(lines, index + 1, described, where)
            continue
        if sphinx:
            index = _continued(lines, index, sphinx, described, where)
            continue
        doc.append(line)
        index += 1
    return "\n".join(doc).strip(), described


def _google_section(
    lines: list[str], index: int, described: dict[str, str], where: str
) -> int:
    item_indent: int | None = None
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            break
        if item_indent is None:
            item_indent = indent
        item = _GOOGLE_ITEM.match(line.strip())
        if indent == item_indent and item is not None:
            index = _continued(lines, index, item, described, where)
            continue
        index += 1
    return index


def _continued(
    lines: list[str],
    index: int,
    match: re.Match[str],
    described: dict[str, str],
    where: str,
) -> int:
    """Record one argument's description with its continuation lines (those
    indented deeper); return the index of the line after them."""
    name, text = match.group(1), [match.group(2).strip()]
    first_indent = len(lines[index]) - len(lines[index].lstrip())
    index += 1
    while index < len(lines):
        line = lines[index]
        if not line.strip() or len(line) - len(line.lstrip()) <= first_indent:
            break
        text.append(line.strip())
        index += 1
    if name in described:
        raise SignalDeclarationError(
            f"{where}: the docstring describes {name!r} twice."
        )
    described[name] = " ".join(part for part in text if part)
    return index


def _annotation_parts(annotation: object) -> tuple[str, str]:
    """The type as it reads, and the description an ``Annotated`` gives."""
    if annotation is inspect.Parameter.empty:
        return "", ""
    if isinstance(annotation, str):
        return _string_annotation_parts(annotation)
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        return type_text(base), _description(metadata)
    return type_text(annotation), ""


def _string_annotation_parts(annotation: str) -> tuple[str, str]:
    # Under `from __future__ import annotations` the annotation is source
    # text, possibly naming what only exists under TYPE_CHECKING: read it
    # without evaluating it.
    try:
        tree = ast.parse(annotation, mode="eval").body
    except SyntaxError:
        return annotation, ""
    if isinstance(tree, ast.Constant) and isinstance(tree.value, str):
        # A quoted annotation under the __future__ import: "'User'".
        return _string_annotation_parts(tree.value)
    if (
        isinstance(tree, ast.Subscript)
        and isinstance(tree.slice, ast.Tuple)
        and ast.unparse(tree.value).rpartition(".")[2] == "Annotated"
        and tree.slice.elts
    ):
        base, *metadata = tree.slice.elts
        constants = [each.value for each in metadata if isinstance(each, ast.Constant)]
        return ast.unparse(base), _description(constants)
    return annotation, ""


def _description(metadata: list[Any]) -> str:
    return next((each for each in metadata if isinstance(each, str)), "")
