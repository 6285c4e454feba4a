from __future__ import annotations

import functools
import gc
from typing import Any

import django
import pytest
from django.dispatch import Signal as DjangoSignal

from signalkit.receivers import receiver_infos
from testapp.models import Post
from testapp.receivers_zoo import Listener, asynchronous, plain

ZOO = "testapp.receivers_zoo"


def test_receiver_infos_describe_each_connection() -> None:
    signal = DjangoSignal()
    handler = Listener()
    signal.connect(plain)
    signal.connect(asynchronous, sender=Post)
    signal.connect(handler.method, dispatch_uid="method-uid")
    signal.connect(handler, weak=False)
    signal.connect(functools.partial(plain), weak=False)

    infos = receiver_infos(signal)

    assert [(i.name, i.sender, i.dispatch_uid, i.weak, i.is_async) for i in infos] == [
        (f"{ZOO}.plain", None, None, True, False),
        (f"{ZOO}.asynchronous", "testapp.Post", None, True, True),
        (f"{ZOO}.Listener.method", None, "method-uid", True, False),
        (f"{ZOO}.Listener()", None, None, False, False),
        (f"functools.partial({ZOO}.plain)", None, None, False, False),
    ]
    assert infos[0].receiver is plain
    assert not infos[0].dead


def test_dead_weak_receivers_are_listed_as_dead() -> None:
    signal = DjangoSignal()

    def short_lived(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(short_lived)
    del short_lived
    gc.collect()

    [info] = receiver_infos(signal)
    assert info.dead
    assert info.name == "<dead weak reference>"
    assert info.dispatch_uid is None


def test_unknown_sender_is_shown_by_id() -> None:
    signal = DjangoSignal()
    sender = object()
    signal.connect(plain, sender=sender)

    [info] = receiver_infos(signal)
    # Django 6 keeps a weak reference to senders that allow one; object()
    # does not, so the sender is known only by its id on every version.
    assert info.sender == f"<sender id {id(sender)!r}>"


def test_plain_class_sender_is_named() -> None:
    signal = DjangoSignal()
    signal.connect(plain, sender=Listener)

    [info] = receiver_infos(signal)
    # Only Django 6.0+ keeps a (weak) reference to the sender itself.
    if django.VERSION >= (6, 0):
        assert info.sender == f"{ZOO}.Listener"
    else:
        assert info.sender == f"<sender id {id(Listener)!r}>"


def test_senders_are_not_looked_up_before_models_are_ready(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.apps import apps

    signal = DjangoSignal()
    signal.connect(plain, sender=Post)
    monkeypatch.setattr(apps, "models_ready", False)

    [info] = receiver_infos(signal)
    if django.VERSION < (6, 0):
        assert info.sender == f"<sender id {id(Post)!r}>"


def test_an_app_config_sender_is_named() -> None:
    from django.apps import apps

    signal = DjangoSignal()
    config = apps.get_app_config("testapp")
    signal.connect(plain, sender=config)

    (info,) = receiver_infos(signal)

    assert info.sender == "<AppConfig testapp>"
