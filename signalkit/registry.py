"""The registry of every known signal, keyed by dotted name.

A plain store with one public way in, :meth:`Registry.register`: signals
declared with :class:`signalkit.Signal` call it when they are made, Django's
built-in signals when signalkit's app is ready, discovery for the plain
signals it finds, and users for signals someone else defined. The registry
also owns the names: a signal made without ``name=`` waits here until the
module that defines it has finished importing, then takes the name of the
module attribute it is assigned to.
"""

from __future__ import annotations

import ast
import difflib
import sys
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType, ModuleType
from typing import overload

from django.apps import apps
from django.dispatch import Signal as DjangoSignal

from signalkit.contract import ArgsSpec, declare
from signalkit.exceptions import (
    DuplicateSignalError,
    SignalDeclarationError,
    SignalNameError,
    UnknownSignalError,
)
from signalkit.naming import suggestion
from signalkit.receivers import ReceiverInfo, receiver_infos


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


@dataclass(frozen=True, eq=False)
class _Pending:
    """A registration waiting for its name: the attribute it is assigned to."""

    signal: weakref.ref[DjangoSignal]
    args: Mapping[str, str]
    optional_args: Mapping[str, str]
    doc: str
    module: str
    defined_at: str


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
        self._pending: dict[int, _Pending] = {}
        # Pending signals whose module finished importing without them.
        self._unbound: dict[int, _Pending] = {}
        # Signals replaced by a re-import of their module: their old name.
        self._former_names: weakref.WeakKeyDictionary[DjangoSignal, str] = (
            weakref.WeakKeyDictionary()
        )
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
        if name is None:
            if self._pending:
                self._resolve_pending()
                name = self._names.get(id(signal))
            if name is None:
                name = self._former_names.get(signal)
        return name

    def entry_for(self, signal: DjangoSignal) -> RegistryEntry | None:
        """The entry of *signal*, or ``None`` if it is not registered."""
        entry = self._entries.get(self.name_of(signal) or "")
        return entry if entry is not None and entry.signal is signal else None

    def require_name(self, signal: DjangoSignal) -> str:
        """The dotted name of *signal*, or :class:`SignalNameError` saying why
        it has none (yet)."""
        name = self.name_of(signal)
        if name is not None:
            return name
        pending = self._waiting(signal)
        if pending is None:
            raise SignalNameError(f"{signal!r} is not registered with signalkit.")
        raise SignalNameError(_unnamed_message(pending))

    def label(self, signal: DjangoSignal) -> str | None:
        """The dotted name of *signal*; ``<signal defined at file:line>`` for a
        signalkit signal still without a name; ``None`` for a signal the
        registry does not know."""
        name = self.name_of(signal)
        if name is not None:
            return name
        pending = self._waiting(signal)
        return None if pending is None else f"<signal defined at {pending.defined_at}>"

    def _waiting(self, signal: DjangoSignal) -> _Pending | None:
        for store in (self._pending, self._unbound):
            pending = store.get(id(signal))
            # Under the id of a dead signal, another object may live now.
            if pending is not None and pending.signal() is signal:
                return pending
        return None

    def _forget(self, dead: weakref.ref[DjangoSignal]) -> None:
        # A pending signal was collected: its id may be reused at once. Run
        # by the garbage collector at any point, so it takes no lock.
        for store in (self._pending, self._unbound):
            for key, pending in list(store.items()):
                if pending.signal is dead:
                    store.pop(key, None)

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

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """The registered dotted names closest to *name*, best first.

        A short name (``"post_save"``) is compared with the last part of
        each dotted name, so it finds ``django.db.models.signals.post_save``.
        """
        self._resolve_pending()
        names = sorted(self._entries)
        by_short: dict[str, list[str]] = {}
        for each in names:
            by_short.setdefault(each.rpartition(".")[2], []).append(each)
        short = name.rpartition(".")[2]
        by_last_part = [
            each
            for close in difflib.get_close_matches(short, by_short, n=limit)
            for each in by_short[close]
        ]
        whole = difflib.get_close_matches(name, names, n=limit)
        # A dotted query is most likely a misspelt dotted name.
        first, second = (whole, by_last_part) if "." in name else (by_last_part, whole)
        return list(dict.fromkeys([*first, *second]))[:limit]

    def _unknown_message(self, name: str) -> str:
        return f"No signal is registered under the name {name!r}." + suggestion(
            self.suggest(name)
        )

    # Registration

    @overload
    def register(
        self,
        signal: DjangoSignal,
        *,
        name: str,
        args: ArgsSpec = (),
        optional_args: ArgsSpec = (),
        doc: str = "",
        module: str | None = None,
        defined_at: str | None = None,
        builtin: bool = False,
        declared: bool = True,
    ) -> RegistryEntry: ...

    @overload
    def register(
        self,
        signal: DjangoSignal,
        *,
        name: None,
        args: ArgsSpec = (),
        optional_args: ArgsSpec = (),
        doc: str = "",
        module: str,
        defined_at: str | None = None,
        builtin: bool = False,
        declared: bool = True,
    ) -> None: ...

    def register(
        self,
        signal: DjangoSignal,
        *,
        name: str | None,
        args: ArgsSpec = (),
        optional_args: ArgsSpec = (),
        doc: str = "",
        module: str | None = None,
        defined_at: str | None = None,
        builtin: bool = False,
        declared: bool = True,
    ) -> RegistryEntry | None:
        """Declare *signal* under the dotted *name*; return its entry.

        Use it for a signal that someone else defined, such as a third-party
        app's: *args* and *optional_args* declare the arguments its senders
        pass (shown in the catalog and the panel; only
        :class:`signalkit.Signal` checks its sends). *module* defaults to
        *name* without its last part, *defined_at* to the caller's
        ``file:line``. ``declared=False`` says the arguments are unknown;
        ``builtin=True`` marks Django's own signals.

        ``name=None`` (what :class:`signalkit.Signal` does when it is given no
        name) registers the signal under ``<module>.<attribute>`` once
        *module* has finished importing, and returns ``None``.

        Raises :class:`~signalkit.exceptions.SignalDeclarationError` for a
        bad declaration and :class:`~signalkit.exceptions.DuplicateSignalError`
        for a name taken by another signal, changing nothing either way.
        """
        if not isinstance(signal, DjangoSignal):
            raise TypeError(
                f"registry.register() takes a django.dispatch.Signal, not "
                f"{signal!r} ({type(signal).__name__})."
            )
        owner = name if name is not None else f"Signal defined at {defined_at}"
        if name is not None and (
            not isinstance(name, str)
            or not all(part.isidentifier() for part in name.split("."))
        ):
            raise SignalDeclarationError(
                f"Signal name {name!r} must be a dotted name such as "
                f"'blog.signals.post_published'."
            )
        if not isinstance(doc, str):
            raise SignalDeclarationError(f"{owner}: doc must be a string, not {doc!r}.")
        required, optional = declare(args, optional_args, owner=owner)
        if defined_at is None:
            defined_at = caller_site(1)
        if name is None:
            if module is None:
                raise TypeError("registry.register(name=None) needs module=.")
            with self._lock:
                self._pending[id(signal)] = _Pending(
                    weakref.ref(signal, self._forget),
                    required,
                    optional,
                    doc,
                    module,
                    defined_at,
                )
            return None
        entry = RegistryEntry(
            name=name,
            signal=signal,
            args=MappingProxyType(required),
            optional_args=MappingProxyType(optional),
            doc=doc,
            module=module or name.rpartition(".")[0],
            defined_at=defined_at,
            builtin=builtin,
            declared=declared,
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

    def _add(self, entry: RegistryEntry) -> None:
        """Store *entry*, or raise without changing anything."""
        with self._lock:
            existing = self._entries.get(entry.name)
            same_signal_name = self._names.get(id(entry.signal))
            if same_signal_name is not None and same_signal_name != entry.name:
                if getattr(entry.signal, "registers_itself", False):
                    raise TypeError(
                        f"{entry.name}: signalkit.Signal objects register "
                        f"themselves (this one as {same_signal_name!r}); pass "
                        f"name= to Signal() instead of calling "
                        f"registry.register()."
                    )
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
                # import under another path): the new object takes the name,
                # and the old one, still referenced elsewhere, keeps it too.
                del self._names[id(existing.signal)]
                self._former_names[existing.signal] = entry.name
            self._entries[entry.name] = entry
            self._names[id(entry.signal)] = entry.name
            self._pending.pop(id(entry.signal), None)
            self._unbound.pop(id(entry.signal), None)

    def _name_pending(self, pending: _Pending, name: str) -> None:
        signal = pending.signal()
        assert signal is not None
        self._add(
            RegistryEntry(
                name=name,
                signal=signal,
                args=MappingProxyType(dict(pending.args)),
                optional_args=MappingProxyType(dict(pending.optional_args)),
                doc=pending.doc,
                module=pending.module,
                defined_at=pending.defined_at,
            )
        )

    def _resolve_pending(self) -> None:
        if not self._pending:
            return
        with self._lock:
            not_found: list[tuple[int, _Pending, DjangoSignal]] = []
            for key, pending in list(self._pending.items()):
                # A dead signal's entry is taken out by _forget().
                signal = pending.signal()
                module = sys.modules.get(pending.module)
                if signal is None or module is None or _is_importing(module):
                    continue
                attribute = _attribute_of(module, signal)
                if attribute is None:
                    not_found.append((key, pending, signal))
                    continue
                self._name_pending(pending, f"{module.__name__}.{attribute}")
            for key, pending, signal in not_found:
                self._pending.pop(key, None)
                twin = self._name_defined_at(pending.defined_at)
                if twin is not None:
                    # The module was imported again: its new signal took the
                    # name, and the old object keeps answering to it.
                    self._former_names[signal] = twin
                else:
                    self._unbound[key] = pending

    def _name_defined_at(self, defined_at: str) -> str | None:
        for entry in self._entries.values():
            if entry.defined_at == defined_at:
                return entry.name
        return None

    def discover_module(self, module: ModuleType) -> None:
        """Register the signals defined as attributes of *module*.

        signalkit signals that have no name yet (made by a factory function
        in another module) are named after the attribute; plain
        ``django.dispatch.Signal`` objects not known yet are registered with
        unknown arguments.
        """
        self._resolve_pending()
        for attribute, value in list(vars(module).items()):
            if not isinstance(value, DjangoSignal) or id(value) in self._names:
                continue
            name = f"{module.__name__}.{attribute}"
            waiting = self._waiting(value)
            if waiting is not None:
                # Made by a factory function elsewhere: named where it lands.
                self._name_pending(waiting, name)
                continue
            self.register(
                value,
                name=name,
                module=module.__name__,
                defined_at=getattr(module, "__file__", None),
                declared=False,
            )

    def check_all_named(self, modules: Sequence[str]) -> None:
        """Raise for a signalkit signal defined in *modules* that has no name."""
        self._resolve_pending()
        for pending in list(self._unbound.values()):
            if pending.module in modules and pending.signal() is not None:
                raise SignalNameError(_unnamed_message(pending))


def _is_importing(module: ModuleType) -> bool:
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def _attribute_of(module: ModuleType, signal: DjangoSignal) -> str | None:
    for attribute, value in list(vars(module).items()):
        if value is signal:
            return attribute
    return None


def _unnamed_message(pending: _Pending) -> str:
    module = sys.modules.get(pending.module)
    if module is not None and _is_importing(module):
        reason = f"module {pending.module!r} has not finished importing"
    else:
        replaced = None if module is None else _replaced_by(module, pending)
        if replaced is not None:
            reason = (
                f"module {pending.module!r} assigned another signal to "
                f"{replaced!r} afterwards, replacing this one"
            )
        else:
            reason = f"it is not assigned to an attribute of module {pending.module!r}"
    return (
        f"The signal defined at {pending.defined_at} has no name yet: {reason}. "
        f"Pass name='...' to signalkit.Signal() to name it explicitly."
    )


def _replaced_by(module: ModuleType, pending: _Pending) -> str | None:
    """The attribute the signal was assigned to, if the module later assigned
    another signal to it (``x = Signal(); x = Signal()``)."""
    filename, _, line = pending.defined_at.rpartition(":")
    try:
        with open(filename, encoding="utf-8") as source:
            tree = ast.parse(source.read())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and node.lineno <= int(line) <= (node.end_lineno or node.lineno)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            attribute = node.targets[0].id
            current = getattr(module, attribute, None)
            if isinstance(current, DjangoSignal):
                return attribute
    return None


registry = Registry()
