"""Short, safe text for values seen by a recording.

A summary never runs SQL, never evaluates a QuerySet or a lazy object and
never calls a model's ``__str__``/``__repr__``: a model instance reads
``<blog.Post pk=5>``. Values of a few types whose ``repr`` is harmless (and
of their subclasses) are shown with it, an exception with its ``str()``, any
other object as ``<module.Class object>``. Whatever raises while it is
described (a subclass's ``__repr__``, an exception's ``__str__``, a
property) is shown as ``<unprintable ...>``: a summary never raises.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import functools
import pathlib
import re
import uuid
from collections.abc import Callable, Mapping, Sequence, Set
from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.functional import LazyObject, Promise, empty

from signalkit.naming import callable_name, remember

MASK = "********"

_SAFE_REPR = (
    str,
    bytes,
    int,
    float,
    complex,
    bool,
    type(None),
    decimal.Decimal,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
    pathlib.PurePath,
)
_MAX_ITEMS = 10

PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})
"""Exact types summarised by their repr. Their values are immutable and cannot
be weakly referenced, so keeping one changes nothing anyone can observe."""


_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def is_sensitive(name: str, sensitive: Sequence[str]) -> bool:
    """Whether argument *name* holds something secret.

    A term matches a whole word of the name (``api_key``, ``authToken``), and a
    term of five letters or more also matches inside a word (``userpassword``);
    so ``key`` masks ``session_key`` but not ``monkey``, and ``auth`` masks
    ``auth_header`` but not ``author``.
    """
    return _is_sensitive(name, tuple(sensitive))


# Recordings ask about the same few argument names on every send.
@functools.lru_cache(maxsize=1024)
def _is_sensitive(name: str, sensitive: tuple[str, ...]) -> bool:
    words = {word.lower() for word in _WORD.findall(name)}
    lowered = name.lower()
    return any(
        term.lower() in words or (len(term) >= 5 and term.lower() in lowered)
        for term in sensitive
    )


def _truncate(text: str, max_length: int) -> str:
    if len(text) <= max_length:
        return text
    return text[: max(max_length - 1, 0)] + "…"


def _model_label(model: type[Model]) -> str:
    return str(model._meta.label)


_class_labels: dict[int, str] = {}


def _class_label(cls: type) -> str:
    if issubclass(cls, Model):
        return _model_label(cls)
    return f"{cls.__module__}.{cls.__qualname__}"


def _describe(value: Any, sensitive: Sequence[str], depth: int) -> str:
    # issubclass(type(value), ...) rather than isinstance(): isinstance() reads
    # __class__, which evaluates a LazyObject such as request.user (SQL).
    cls = type(value)
    if cls in PLAIN_TYPES:  # the most common values first
        return repr(value)
    if issubclass(cls, Model):
        return f"<{_model_label(cls)} pk={value.pk!r}>"
    if issubclass(cls, type):  # a class, such as a model as the sender
        label = _class_labels.get(id(value))
        if label is None:
            label = remember(_class_labels, value, _class_label(value))
        return label
    if issubclass(cls, LazyObject):
        wrapped = value._wrapped
        if wrapped is empty:
            return f"<{cls.__name__}, not evaluated>"
        return _describe(wrapped, sensitive, depth)
    if issubclass(cls, enum.Enum):
        return f"{cls.__qualname__}.{value.name}"
    if issubclass(cls, _SAFE_REPR):
        return repr(value)
    if issubclass(cls, QuerySet):
        label = _model_label(value.model)
        cache = value._result_cache
        if cache is None:
            return f"<QuerySet of {label}, not evaluated>"
        return f"<QuerySet of {label}, {len(cache)} rows>"
    if issubclass(cls, Promise):
        return f"<lazy {cls.__name__}>"
    if issubclass(cls, HttpRequest):
        return f"<{cls.__name__} {value.method} {value.path!r}>"
    if issubclass(cls, BaseException):
        return f"{cls.__qualname__}: {_truncate(str(value), 200)}"
    if depth < 2:
        if issubclass(cls, Mapping):
            return _describe_mapping(value, sensitive, depth)
        if issubclass(cls, (list, tuple, Set)):
            return _describe_items(value, sensitive, depth)
    if callable(value) and hasattr(value, "__qualname__"):
        return callable_name(value)
    return f"<{cls.__module__}.{cls.__qualname__} object>"


def _describe_mapping(
    value: Mapping[Any, Any], sensitive: Sequence[str], depth: int
) -> str:
    parts = []
    for index, (key, item) in enumerate(value.items()):
        if index == _MAX_ITEMS:
            parts.append(f"… {len(value) - _MAX_ITEMS} more")
            break
        shown = (
            MASK
            if isinstance(key, str) and is_sensitive(key, sensitive)
            else _describe(item, sensitive, depth + 1)
        )
        parts.append(f"{_describe(key, sensitive, depth + 1)}: {shown}")
    return "{" + ", ".join(parts) + "}"


def _describe_items(value: Any, sensitive: Sequence[str], depth: int) -> str:
    parts = []
    for index, item in enumerate(value):
        if index == _MAX_ITEMS:
            parts.append(f"… {len(value) - _MAX_ITEMS} more")
            break
        parts.append(_describe(item, sensitive, depth + 1))
    opening, closing = (
        ("[", "]")
        if isinstance(value, list)
        else ("(", ")")
        if isinstance(value, tuple)
        else ("{", "}")
    )
    return opening + ", ".join(parts) + closing


def summarize(value: Any, *, max_length: int, sensitive: Sequence[str] = ()) -> str:
    """Describe *value* in at most *max_length* characters, safely."""
    try:
        text = _describe(value, sensitive, 0)
    except Exception as error:  # A summary must never break a send.
        text = f"<unprintable {type(value).__qualname__}: {type(error).__name__}>"
    return _truncate(text, max_length)


def summarize_arguments(
    arguments: Mapping[str, Any], *, max_length: int, sensitive: Sequence[str]
) -> dict[str, str]:
    """Summaries of a send's keyword arguments, masking sensitive names."""
    return Summarizer(max_length, sensitive).summarize_arguments(arguments)


class Summarizer:
    """:func:`summarize` and :func:`summarize_arguments` with fixed limits.

    A recording makes one and asks it about every send; it remembers which
    argument names it masks, since sends repeat the same few names.
    """

    def __init__(self, max_length: int, sensitive: Sequence[str]) -> None:
        self.max_length = max_length
        self.sensitive = tuple(sensitive)
        self._masked: dict[str, bool] = {}

    def summarize(self, value: Any) -> str:
        if type(value) in PLAIN_TYPES:  # the usual case, without the walk
            try:
                text = repr(value)
            except ValueError:  # an int too long to convert
                pass
            else:
                if len(text) <= self.max_length:
                    return text
        else:
            # A class described before (a model as the sender, on every
            # send): only classes alive are in _class_labels, so no other
            # live object has the same id.
            label = _class_labels.get(id(value))
            if label is not None and len(label) <= self.max_length:
                return label
        return summarize(value, max_length=self.max_length, sensitive=self.sensitive)

    def summarize_arguments(self, arguments: Mapping[str, Any]) -> dict[str, str]:
        summaries = {}
        for name, value in arguments.items():
            masked = self._masked.get(name)
            if masked is None:
                masked = self._masked[name] = is_sensitive(name, self.sensitive)
            summaries[name] = MASK if masked else self.summarize(value)
        return summaries


def safe_text(make: Callable[[], str], cls: type) -> str:
    """``make()``, or a placeholder naming *cls* when it raises."""
    try:
        return make()
    except Exception as error:  # a user's __str__ must never break a send
        return f"<unprintable {cls.__qualname__}: {type(error).__name__}>"


def error_summary(error: BaseException, max_length: int) -> tuple[str, str]:
    """The exception's type name and its message, summarised without quotes.

    An exception whose ``__str__`` raises gets a placeholder message.
    """
    cls = type(error)
    message = safe_text(lambda: str(error), cls)
    return cls.__qualname__, summarize(message, max_length=max_length).strip("'\"")
