"""The registry of every known signal, keyed by dotted name."""

from __future__ import annotations

import difflib
import keyword
import sys
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, TypeAlias, Union

from django.apps import apps
from django.dispatch import Signal as DjangoSignal

from signalkit.exceptions import (
    DuplicateSignalError,
    SignalDeclarationError,
    SignalNameError,
    UnknownSignalError,
)
from signalkit.receivers import ReceiverInfo, receiver_infos

if TYPE_CHECKING:
    from signalkit.signals import Signal

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


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'a' or 'b'?`` for the closest candidates, or ``""``."""
    close = difflib.get_close_matches(word, list(candidates), n=3)
    return f" Did you mean {' or '.join(map(repr, close))}?" if close else ""


def caller_site(depth: int) -> str:
    """``file:line`` of the frame *depth* levels above the caller."""
    frame = sys._getframe(depth + 1)
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


@dataclass(frozen=True, eq=False)
class RegistryEntry:
    """Everything signalkit knows about one signal."""

    name: str
    """Dotted name, such as ``"blog.signals.post_published"``."""
    signal: DjangoSignal
    """The signal object (a ``django.dispatch.Signal``)."""
    args: Mapping[str, str]
    """Required arguments, name to one-line description (``""`` if none)."""
    optional_args: Mapping[str, str]
    """Arguments a send may leave out."""
    doc: str
    """What the signal means and when it is sent."""
    module: str
    """The module that defines the signal."""
    defined_at: str | None
    """``file:line`` of the definition or registration, when known."""
    builtin: bool = False
    """Whether this is one of Django's own signals."""
    declared: bool = True
    """Whether the arguments are known; ``False`` for discovered plain signals."""

    @property
    def app_label(self) -> str | None:
        """Label of the installed app whose package defines the signal."""
        if not apps.apps_ready:
            return None
        config = apps.get_containing_app_config(self.module)
        return None if config is None else config.label

    @property
    def all_args(self) -> tuple[str, ...]:
        """Required then optional argument names."""
        return (*self.args, *self.optional_args)

    def receivers(self) -> list[ReceiverInfo]:
        """The receivers connected right now, in connection order."""
        return receiver_infos(self.signal)


class Registry:
    """Every known signal, by dotted name.

    Signals declared with :class:`signalkit.Signal` register themselves;
    Django's built-in signals are registered when signalkit's app is ready;
    plain ``django.dispatch.Signal`` objects found by autodiscovery are
    registered under ``<module>.<attribute>``.
    """

    def __init__(self) -> None:
        self._entries: dict[str, RegistryEntry] = {}
        self._names: dict[int, str] = {}
        self._pending: list[weakref.ref[Signal]] = []
        self._unbound: weakref.WeakSet[Signal] = weakref.WeakSet()
        self._lock = threading.RLock()

    # Lookups

    def __getitem__(self, name: str) -> RegistryEntry:
        entry = self.get(name)
        if entry is None:
            raise UnknownSignalError(self._unknown_message(name))
        return entry

    def get(
        self, name: str, default: RegistryEntry | None = None
    ) -> RegistryEntry | None:
        """The entry registered under *name*, or *default*."""
        self._resolve_pending()
        return self._entries.get(name, default)

    def __contains__(self, item: object) -> bool:
        self._resolve_pending()
        if isinstance(item, str):
            return item in self._entries
        return id(item) in self._names

    def __iter__(self) -> Iterator[RegistryEntry]:
        self._resolve_pending()
        entries = dict(self._entries)
        return iter([entries[name] for name in sorted(entries)])

    def __len__(self) -> int:
        self._resolve_pending()
        return len(self._entries)

    def name_of(self, signal: DjangoSignal) -> str | None:
        """The dotted name of *signal*, or ``None`` if it is not registered."""
        name = self._names.get(id(signal))
        if name is None and self._pending:
            self._resolve_pending()
            name = self._names.get(id(signal))
        return name

    def entry_for(self, signal: DjangoSignal) -> RegistryEntry | None:
        """The entry of *signal*, or ``None`` if it is not registered."""
        name = self.name_of(signal)
        return None if name is None else self._entries.get(name)

    def resolve(self, signal: DjangoSignal | str) -> DjangoSignal:
        """Return the signal for a signal object or a dotted name.

        An unknown name raises :class:`~signalkit.exceptions.UnknownSignalError`;
        anything that is neither a signal nor a string raises ``TypeError``.
        """
        if isinstance(signal, DjangoSignal):
            return signal
        if isinstance(signal, str):
            return self[signal].signal
        raise TypeError(
            f"Expected a signal or a dotted signal name, not {signal!r} "
            f"({type(signal).__name__})."
        )

    def _unknown_message(self, name: str) -> str:
        return f"No signal is registered under the name {name!r}." + did_you_mean(
            name, self._entries
        )

    # Registration

    def register(
        self,
        signal: DjangoSignal,
        *,
        name: str,
        args: ArgsSpec = (),
        optional_args: ArgsSpec = (),
        doc: str = "",
        module: str | None = None,
    ) -> RegistryEntry:
        """Declare a signal that someone else defined, such as a third-party app's.

        *name* is its dotted name; *args* and *optional_args* declare the
        arguments its senders pass (shown in the catalog and the panel, not
        checked at send: only :class:`signalkit.Signal` checks its sends).
        """
        from signalkit.signals import Signal

        if not isinstance(signal, DjangoSignal):
            raise TypeError(
                f"registry.register() takes a django.dispatch.Signal, not "
                f"{signal!r} ({type(signal).__name__})."
            )
        if isinstance(signal, Signal):
            raise TypeError(
                f"{name}: signalkit.Signal objects register themselves; pass "
                f"name= to Signal() instead of calling registry.register()."
            )
        entry = self._make_entry(
            signal,
            name=name,
            args=args,
            optional_args=optional_args,
            doc=doc,
            module=module or name.rpartition(".")[0],
            defined_at=caller_site(1),
        )
        self._add(entry)
        return entry

    def unregister(self, signal: DjangoSignal | str) -> None:
        """Forget a signal, by object or dotted name (mostly for tests)."""
        with self._lock:
            if isinstance(signal, str):
                entry = self._entries.pop(signal, None)
                if entry is None:
                    raise UnknownSignalError(self._unknown_message(signal))
                del self._names[id(entry.signal)]
                return
            name = self._names.pop(id(signal), None)
            if name is None:
                raise UnknownSignalError(f"{signal!r} is not registered.")
            del self._entries[name]

    def _make_entry(
        self,
        signal: DjangoSignal,
        *,
        name: str,
        args: ArgsSpec,
        optional_args: ArgsSpec,
        doc: str,
        module: str,
        defined_at: str | None,
        builtin: bool = False,
        declared: bool = True,
    ) -> RegistryEntry:
        if not isinstance(name, str) or not all(
            part.isidentifier() for part in name.split(".")
        ):
            raise SignalDeclarationError(
                f"Signal name {name!r} must be a dotted name such as "
                f"'blog.signals.post_published'."
            )
        if not isinstance(doc, str):
            raise SignalDeclarationError(f"{name}: doc must be a string, not {doc!r}.")
        required = normalize_args(args, owner=name, what="args")
        optional = normalize_args(optional_args, owner=name, what="optional_args")
        both = sorted(set(required) & set(optional))
        if both:
            raise SignalDeclarationError(
                f"{name}: {', '.join(map(repr, both))} cannot be both required "
                f"(args) and optional (optional_args)."
            )
        return RegistryEntry(
            name=name,
            signal=signal,
            args=MappingProxyType(required),
            optional_args=MappingProxyType(optional),
            doc=doc,
            module=module,
            defined_at=defined_at,
            builtin=builtin,
            declared=declared,
        )

    def _add(self, entry: RegistryEntry) -> None:
        """Store *entry*, or raise without changing anything."""
        with self._lock:
            existing = self._entries.get(entry.name)
            same_signal_name = self._names.get(id(entry.signal))
            if same_signal_name is not None and same_signal_name != entry.name:
                raise DuplicateSignalError(
                    f"The signal registered as {same_signal_name!r} cannot also be "
                    f"registered as {entry.name!r}."
                )
            if existing is not None and existing.signal is not entry.signal:
                reimported = (
                    existing.defined_at is not None
                    and existing.defined_at == entry.defined_at
                )
                if not reimported:
                    raise DuplicateSignalError(
                        f"Two different signals are named {entry.name!r}: one "
                        f"defined at {existing.defined_at or existing.module}, "
                        f"the other at {entry.defined_at or entry.module}. Give "
                        f"one of them another name with name='...'."
                    )
                # The module was imported again (importlib.reload, or a second
                # import under another path): the new object takes the name.
                del self._names[id(existing.signal)]
            self._entries[entry.name] = entry
            self._names[id(entry.signal)] = entry.name

    # signalkit.Signal objects without an explicit name wait here until the
    # module that defines them has finished importing and the attribute they
    # are bound to can be found.

    def _add_pending(self, signal: Signal) -> None:
        with self._lock:
            self._pending.append(weakref.ref(signal))

    def _resolve_pending(self) -> None:
        if not self._pending:
            return
        with self._lock:
            still_pending = []
            for ref in self._pending:
                signal = ref()
                if signal is None or signal._name is not None:
                    continue
                module = sys.modules.get(signal._module)
                if module is None or _is_importing(module):
                    still_pending.append(ref)
                    continue
                attribute = _attribute_of(module, signal)
                if attribute is None:
                    self._unbound.add(signal)
                    continue
                signal._bind_name(f"{module.__name__}.{attribute}")
            self._pending = still_pending

    def discover_module(self, module: ModuleType) -> None:
        """Register the signals defined as attributes of *module*.

        signalkit signals that have no name yet (made by a factory function
        in another module) are named after the attribute; plain
        ``django.dispatch.Signal`` objects not known yet are registered with
        unknown arguments.
        """
        from signalkit.signals import Signal

        self._resolve_pending()
        for attribute, value in list(vars(module).items()):
            if not isinstance(value, DjangoSignal) or id(value) in self._names:
                continue
            if isinstance(value, Signal):
                # Made by a factory function elsewhere: named where it lands.
                value._bind_name(f"{module.__name__}.{attribute}")
                self._unbound.discard(value)
                continue
            self._add(
                self._make_entry(
                    value,
                    name=f"{module.__name__}.{attribute}",
                    args=(),
                    optional_args=(),
                    doc="",
                    module=module.__name__,
                    defined_at=getattr(module, "__file__", None),
                    declared=False,
                )
            )

    def check_all_bound(self, modules: Sequence[str]) -> None:
        """Raise for a signalkit signal defined in *modules* that has no name."""
        self._resolve_pending()
        for signal in list(self._unbound):
            if signal._module in modules:
                raise SignalNameError(signal._unnamed_message())


def _is_importing(module: ModuleType) -> bool:
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def _attribute_of(module: ModuleType, signal: DjangoSignal) -> str | None:
    for attribute, value in list(vars(module).items()):
        if value is signal:
            return attribute
    return None


registry = Registry()
