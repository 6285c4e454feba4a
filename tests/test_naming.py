from __future__ import annotations

import functools
import gc
from typing import Any

from signalkit.naming import (
    _receiver_names,
    callable_name,
    did_you_mean,
    object_label,
    real_receiver,
    receiver_name,
    suggestion,
)
from testapp.models import Post


def plain(sender: Any, **kwargs: Any) -> None:
    pass


async def coroutine(sender: Any, **kwargs: Any) -> None:
    pass


class Handler:
    def method(self, sender: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        pass


def test_callable_names() -> None:
    handler = Handler()

    assert callable_name(plain) == f"{__name__}.plain"
    assert callable_name(handler.method) == f"{__name__}.Handler.method"
    assert callable_name(handler) == f"{__name__}.Handler()"
    assert callable_name(functools.partial(plain, 1)) == (
        f"functools.partial({__name__}.plain)"
    )
    assert (
        callable_name(lambda: None)
        == f"{__name__}.test_callable_names.<locals>.<lambda>"
    )


def test_receiver_names_are_remembered_while_the_receiver_lives() -> None:
    def short_lived(sender: Any, **kwargs: Any) -> None:
        pass

    handler = Handler()
    name = f"{__name__}.test_receiver_names_are_remembered_while_the_receiver_lives"
    assert receiver_name(short_lived) == f"{name}.<locals>.short_lived"
    assert receiver_name(handler.method) == f"{__name__}.Handler.method"
    key = id(short_lived)
    assert _receiver_names[key] == f"{name}.<locals>.short_lived"
    assert receiver_name(short_lived) == f"{name}.<locals>.short_lived"
    del short_lived
    gc.collect()
    assert key not in _receiver_names  # forgotten with the function


def test_receivers_that_cannot_be_weakly_referenced_are_named_each_time() -> None:
    class Slotted:
        __slots__ = ()

        def __call__(self, sender: Any, **kwargs: Any) -> None:
            pass

    slotted = Slotted()
    assert receiver_name(slotted).endswith("<locals>.Slotted()")
    assert id(slotted) not in _receiver_names


def test_callable_without_module_is_named_by_qualname() -> None:
    class Nameless:
        __module__ = ""

        def __call__(self) -> None:
            pass

    assert callable_name(Nameless()) == (
        "test_callable_without_module_is_named_by_qualname.<locals>.Nameless()"
    )


def test_object_labels_never_call_str() -> None:
    assert object_label(None) == "None"
    assert object_label(Post) == "testapp.Post"
    assert object_label(Handler) == f"{__name__}.Handler"
    assert object_label(plain) == f"{__name__}.plain"
    assert object_label(Post(pk=3)) == "<testapp.models.Post object>"


def test_receiver_names_see_through_functools_wraps_wrappers() -> None:
    # sentry-sdk wraps each sync receiver in a new functools.wraps function
    # on every send: the name is the real receiver's, computed once for it.
    def wrap(func: Any) -> Any:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        return wrapper

    first, second = wrap(plain), wrap(plain)

    assert receiver_name(first) == f"{__name__}.plain"
    assert receiver_name(second) == f"{__name__}.plain"
    assert id(first) not in _receiver_names
    assert _receiver_names[id(plain)] == f"{__name__}.plain"


def test_a_wrapper_that_wraps_itself_does_not_hang() -> None:
    def loop(sender: Any, **kwargs: Any) -> None:
        pass

    loop.__wrapped__ = loop  # type: ignore[attr-defined]

    assert real_receiver(loop) is loop
    assert receiver_name(loop).endswith("<locals>.loop")


def test_objects_without_a_dict_are_their_own_real_receiver() -> None:
    assert real_receiver(print) is print


def test_did_you_mean_lists_the_closest_names() -> None:
    assert did_you_mean("post_sav", ["post_save", "pre_save", "x"]) == (
        " Did you mean 'post_save' or 'pre_save'?"
    )
    assert did_you_mean("zzz", ["post_save"]) == ""
    assert suggestion([]) == ""


def test_app_configs_are_labelled_by_their_label() -> None:
    from django.apps import apps

    assert object_label(apps.get_app_config("testapp")) == "<AppConfig testapp>"
