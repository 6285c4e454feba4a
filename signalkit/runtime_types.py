"""The argument types of a typed signal, checked at send when asked for.

:class:`ArgumentTypes` holds the annotations of a :func:`signalkit.signal`
declaration as written. With ``SIGNALKIT_CHECK_TYPES`` on, each send checks
its arguments against them: classes, unions, ``Optional``, ``type[X]``,
``Literal``, ``Annotated`` and the class of a generic (``list[int]`` checks
for a list). Annotations are resolved on first use, so that a forward
reference to a class defined later in the module works; one that cannot be
resolved at run time (a name imported under ``TYPE_CHECKING``) is skipped,
and the ``signalkit.W010`` check lists it.
"""

from __future__ import annotations

import threading
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from signalkit.exceptions import SignalArgumentTypeError

Predicate = Callable[[object], bool]

# Values small and plain enough to quote in an error message; anything else
# is named by its type only, so that no user __repr__ runs.
_QUOTABLE = (bool, int, float, str, bytes, types.NoneType)


class ArgumentTypes:
    """The annotation of each argument of a typed signal.

    :param annotations: argument name to annotation, as the function has it
        (a string under ``from __future__ import annotations``).
    :param texts: argument name to the type as it reads in the declaration.
    :param namespace: the globals of the declaring module, to resolve
        string annotations in.
    """

    def __init__(
        self,
        annotations: Mapping[str, object],
        texts: Mapping[str, str],
        namespace: Mapping[str, Any],
    ) -> None:
        self._annotations = dict(annotations)
        self.texts: Mapping[str, str] = dict(texts)
        self._namespace = namespace
        self._checks: dict[str, tuple[str, Predicate]] | None = None
        self._unresolved: dict[str, str] = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._annotations)

    def unresolved(self) -> dict[str, str]:
        """Argument name to why its annotation cannot be resolved at run time."""
        self._resolve()
        return dict(self._unresolved)

    def check(self, label: str, method: str, named: Mapping[str, Any]) -> None:
        """Raise :class:`SignalArgumentTypeError` for the first argument in
        *named* whose value does not match its annotation."""
        checks = self._resolve()
        for name, value in named.items():
            found = checks.get(name)
            if found is not None and not found[1](value):
                raise SignalArgumentTypeError(
                    f"{label}.{method}(): argument {name!r} must be {found[0]}, "
                    f"got {_describe(value)}."
                )

    def _resolve(self) -> dict[str, tuple[str, Predicate]]:
        checks = self._checks
        if checks is not None:
            return checks
        with self._lock:
            checks = {}
            for name, annotation in self._annotations.items():
                try:
                    resolved = _evaluate(annotation, self._namespace)
                except Exception as error:  # whatever evaluating the text raises
                    self._unresolved[name] = f"{type(error).__name__}: {error}"
                    continue
                predicate = predicate_for(resolved)
                if predicate is not None:
                    checks[name] = (self.texts[name], predicate)
            self._checks = checks
            return checks


def _evaluate(annotation: object, namespace: Mapping[str, Any]) -> object:
    # What typing.get_type_hints() does with a string annotation, one argument
    # at a time so that one unresolvable name spoils only its own. A quoted
    # annotation under the __future__ import is a string twice over.
    for _ in range(2):
        if isinstance(annotation, str):
            annotation = eval(annotation, dict(namespace))
    return annotation


def predicate_for(annotation: object) -> Predicate | None:
    """A function telling whether a value matches *annotation*; ``None`` when
    the annotation says nothing checkable (``Any``, a ``TypeVar``, a
    ``Protocol`` that is not runtime-checkable...)."""
    if annotation is None or annotation is types.NoneType:
        return _is_none
    supertype = getattr(annotation, "__supertype__", None)
    if supertype is not None:  # typing.NewType
        return predicate_for(supertype)
    origin = get_origin(annotation)
    arguments = get_args(annotation)
    if origin is Annotated:
        return predicate_for(arguments[0])
    if origin is Union or origin is types.UnionType:
        each = [predicate_for(argument) for argument in arguments]
        if any(predicate is None for predicate in each):
            return None
        return lambda value: any(predicate(value) for predicate in each)  # type: ignore[misc]
    if origin is Literal:
        return lambda value: any(
            value == allowed and type(value) is type(allowed) for allowed in arguments
        )
    if origin is type:
        return _subclass_predicate(arguments[0] if arguments else Any)
    if isinstance(origin, type):
        return _instance_predicate(origin)
    if isinstance(annotation, type):
        return _instance_predicate(annotation)
    return None


def _is_none(value: object) -> bool:
    return value is None


def _instance_predicate(cls: type) -> Predicate | None:
    try:
        isinstance(None, cls)
    except TypeError:  # a Protocol that is not runtime-checkable
        return None
    return lambda value: isinstance(value, cls)


def _subclass_predicate(argument: object) -> Predicate | None:
    if get_origin(argument) in (Union, types.UnionType):
        members = get_args(argument)
    else:
        members = (argument,)
    if any(member is Any or not isinstance(member, type) for member in members):
        # type[Any], type[T]: any class will do.
        return lambda value: isinstance(value, type)
    classes = typing.cast(tuple[type, ...], members)
    return lambda value: isinstance(value, type) and issubclass(value, classes)


def _describe(value: object) -> str:
    if isinstance(value, type):
        return f"the class {_class_name(value)}"
    if type(value) in _QUOTABLE and len(str(value)) <= 40:
        return repr(value)
    return f"a {_class_name(type(value))}"


def _class_name(cls: type) -> str:
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"
