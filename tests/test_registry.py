from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.dispatch import Signal as DjangoSignal
from django.dispatch import receiver

from signalkit import registry
from signalkit.exceptions import (
    DuplicateSignalError,
    SignalDeclarationError,
    SignalNameError,
    UnknownSignalError,
)
from signalkit.registry import Registry


@pytest.fixture
def plain() -> Iterator[DjangoSignal]:
    signal = DjangoSignal()
    yield signal
    if signal in registry:
        registry.unregister(signal)


def test_lookup_by_dotted_name() -> None:
    entry = registry["testapp.signals.post_published"]

    assert entry.name == "testapp.signals.post_published"
    assert dict(entry.args) == {
        "post": "The Post that was published",
        "user": "Who published it",
    }
    assert entry.doc == "Sent after a blog post is published."
    assert entry.module == "testapp.signals"
    assert entry.app_label == "testapp"
    assert entry.builtin is False
    assert entry.declared is True
    assert entry.defined_at is not None
    path, _, line = entry.defined_at.rpartition(":")
    assert path.endswith("testapp/signals.py")
    assert 11 <= int(line) <= 14  # The call spans lines 11-14.


def test_get_and_contains() -> None:
    from testapp.signals import post_published

    assert registry.get("testapp.signals.post_published") is not None
    assert registry.get("no.such.signal") is None
    assert "testapp.signals.post_published" in registry
    assert post_published in registry
    assert DjangoSignal() not in registry


def test_unknown_name_raises_with_suggestions() -> None:
    with pytest.raises(UnknownSignalError) as info:
        registry["testapp.signals.post_publishd"]

    # Other tests may register similar names; the closest comes first.
    assert str(info.value).startswith(
        "No signal is registered under the name 'testapp.signals.post_publishd'. "
        "Did you mean 'testapp.signals.post_published'"
    )
    assert isinstance(info.value, LookupError)


def test_unknown_name_without_close_match() -> None:
    with pytest.raises(UnknownSignalError, match=r"'zzz'\.$"):
        registry["zzz"]


def test_iteration_is_in_name_order() -> None:
    names = [entry.name for entry in registry]

    assert names == sorted(names)
    assert len(names) == len(registry)
    assert "django.db.models.signals.post_save" in names


def test_name_of_and_entry_for() -> None:
    from django.db.models.signals import post_save

    assert registry.name_of(post_save) == "django.db.models.signals.post_save"
    entry = registry.entry_for(post_save)
    assert entry is not None
    assert entry.builtin
    assert registry.name_of(DjangoSignal()) is None
    assert registry.entry_for(DjangoSignal()) is None


def test_resolve_accepts_signals_and_names() -> None:
    from django.db.models.signals import post_save

    assert registry.resolve(post_save) is post_save
    assert registry.resolve("django.db.models.signals.post_save") is post_save
    with pytest.raises(UnknownSignalError):
        registry.resolve("nope")
    with pytest.raises(TypeError, match=r"not 42 \(int\)"):
        registry.resolve(42)  # type: ignore[arg-type]


def test_register_a_plain_signal(plain: DjangoSignal) -> None:
    entry = registry.register(
        plain,
        name="thirdparty.signals.thing_happened",
        args={"thing": "The thing"},
        optional_args=["when"],
        doc="Sent when a thing happens.",
    )

    assert registry["thirdparty.signals.thing_happened"] is entry
    assert entry.module == "thirdparty.signals"
    assert entry.all_args == ("thing", "when")
    assert entry.defined_at is not None
    assert entry.defined_at.startswith(__file__)
    assert entry.app_label is None


def test_register_with_explicit_module(plain: DjangoSignal) -> None:
    entry = registry.register(plain, name="x.y", module="elsewhere")
    assert entry.module == "elsewhere"


def test_registering_the_same_signal_again_replaces_its_declaration(
    plain: DjangoSignal,
) -> None:
    registry.register(plain, name="thirdparty.again", args=["a"])
    registry.register(plain, name="thirdparty.again", args=["a", "b"])

    assert list(registry["thirdparty.again"].args) == ["a", "b"]


def test_register_rejects_a_second_name_for_one_signal(plain: DjangoSignal) -> None:
    registry.register(plain, name="thirdparty.first")
    with pytest.raises(
        DuplicateSignalError,
        match=r"'thirdparty\.first' cannot also be registered as 'thirdparty\.second'",
    ):
        registry.register(plain, name="thirdparty.second")
    assert "thirdparty.second" not in registry


def test_register_rejects_a_taken_name(plain: DjangoSignal) -> None:
    with pytest.raises(
        DuplicateSignalError,
        match=r"Two different signals are named 'testapp\.signals\.post_published'",
    ):
        registry.register(plain, name="testapp.signals.post_published")
    assert plain not in registry


def test_register_rejects_non_signals() -> None:
    with pytest.raises(
        TypeError, match=r"takes a django.dispatch.Signal, not 'x' \(str\)"
    ):
        registry.register("x", name="a.b")  # type: ignore[call-overload]


def test_register_rejects_signalkit_signals() -> None:
    from testapp.signals import post_published

    with pytest.raises(TypeError, match="register themselves"):
        registry.register(post_published, name="a.b")


def test_bad_registration_leaves_nothing_behind(plain: DjangoSignal) -> None:
    before = len(registry)
    with pytest.raises(SignalDeclarationError):
        registry.register(plain, name="thirdparty.bad", args=["ok", "not ok"])
    assert len(registry) == before
    assert plain not in registry


def test_unregister_by_name_and_object(plain: DjangoSignal) -> None:
    registry.register(plain, name="thirdparty.gone")
    registry.unregister("thirdparty.gone")
    assert plain not in registry
    registry.register(plain, name="thirdparty.gone")
    registry.unregister(plain)
    assert "thirdparty.gone" not in registry


def test_unregister_unknown_raises(plain: DjangoSignal) -> None:
    with pytest.raises(UnknownSignalError):
        registry.unregister("thirdparty.never")
    with pytest.raises(UnknownSignalError, match="is not registered"):
        registry.unregister(plain)


def test_entry_lists_connected_receivers(plain: DjangoSignal) -> None:
    entry = registry.register(plain, name="thirdparty.with_receivers")

    @receiver(plain, dispatch_uid="listen-once")
    def listen(sender: Any, **kwargs: Any) -> None:
        pass

    infos = entry.receivers()
    assert [(i.name, i.dispatch_uid, i.weak) for i in infos] == [
        (
            f"{__name__}.test_entry_lists_connected_receivers.<locals>.listen",
            "listen-once",
            True,
        )
    ]


def test_a_fresh_registry_is_empty() -> None:
    fresh = Registry()
    assert len(fresh) == 0
    assert list(fresh) == []


def test_pending_signal_of_a_dead_object_is_dropped() -> None:
    fresh = Registry()
    signal = DjangoSignal()
    fresh.register(signal, name=None, module=__name__)
    del signal
    assert len(fresh) == 0
    assert fresh._pending == {}


def test_app_label_is_unknown_before_apps_are_ready(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.apps import apps

    monkeypatch.setattr(apps, "apps_ready", False)
    assert registry["testapp.signals.post_published"].app_label is None


def test_suggest_finds_dotted_names_from_short_ones() -> None:
    assert registry.suggest("post_save")[0] == "django.db.models.signals.post_save"
    assert "testapp.signals.post_published" in registry.suggest("post_publishd")
    assert registry.suggest("testapp.signals.post_publishd")[0] == (
        "testapp.signals.post_published"
    )
    assert registry.suggest("zzzzzzzz") == []


def test_unknown_short_name_is_answered_with_the_dotted_name() -> None:
    with pytest.raises(UnknownSignalError) as info:
        registry["post_save"]

    assert str(info.value).startswith(
        "No signal is registered under the name 'post_save'. Did you mean "
        "'django.db.models.signals.post_save'"
    )


def test_require_name_of_an_unregistered_signal_says_so(plain: DjangoSignal) -> None:
    with pytest.raises(SignalNameError, match="is not registered with signalkit"):
        registry.require_name(plain)


def test_register_without_name_needs_the_module(plain: DjangoSignal) -> None:
    with pytest.raises(TypeError, match=r"register\(name=None\) needs module="):
        registry.register(plain, name=None)  # type: ignore[call-overload]
    assert plain not in registry
