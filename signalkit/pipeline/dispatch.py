"""The functions that replace ``django.dispatch.Signal``'s send methods and
``_live_receivers`` while something observes or mutes (see
:mod:`signalkit.pipeline.lifecycle`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from django.dispatch import Signal as DjangoSignal
from django.dispatch.dispatcher import NO_RECEIVERS

from signalkit.pipeline import scopes
from signalkit.pipeline.loops import (
    _live_receivers,
    arun_wrapped,
    original,
    own_loop,
    run_send,
    run_timed,
    run_wrapped,
)
from signalkit.pipeline.observers import observer_failed
from signalkit.pipeline.scopes import (
    context,
    finish_send,
    observers_for,
    start_send,
    unheard,
)


def _make_sync(method: str) -> Callable[..., list[tuple[Any, Any]]]:
    def patched(self: DjangoSignal, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        # Read once: add_observer() and remove_observer() replace it whole.
        wide, declining, timer = scopes.wide
        scope = context.get()
        if scope is not None and not scope.open:
            scope = scope.reopened()  # the rule of current_scope(), written out
        if (
            not self.receivers
            or self.sender_receivers_cache.get(sender) is NO_RECEIVERS
        ):
            # Django returns [] at once: decide that before building anything.
            if scope is None and (not wide or timer is not None):
                send = None  # a timer has nothing to time
            elif (
                scope is not None
                and not wide
                and len(scope.observers) == 1
                and self not in scope.muted
            ):
                # One observer (a recording) and no mute: written out.
                observer = scope.observers[0]
                try:
                    dealt_with = observer.send_unheard(self, sender)
                except Exception as error:
                    observer_failed(observer, "send_unheard", error)
                    dealt_with = True
                send = (
                    None
                    if dealt_with
                    else start_send(self, method, sender, named, scope.observers, False)
                )
            else:
                send = unheard(self, method, sender, named)
            if not own_loop[method]:
                if send is None:
                    return original[method](self, sender, **named)  # type: ignore[no-any-return]
                return run_wrapped(self, send, sender, named)
            if send is not None:
                finish_send(send, None)
            return []  # what Django's method returns here
        if scope is None:
            if not wide:
                return original[method](self, sender, **named)  # type: ignore[no-any-return]
            if timer is not None and own_loop[method]:
                # The slow-receiver log alone: stamps, no send built.
                responses = run_timed(self, method, sender, named, timer)
                if responses is not None:
                    return responses
            if declining and len(wide) == 1:
                # A lone tracer outside a sampled trace: written out, as it
                # is every send of a production process.
                observer = wide[0]
                try:
                    declined = observer.declines(self, sender)
                except Exception as error:
                    observer_failed(observer, "declines", error)
                    declined = True
                if declined:
                    return original[method](self, sender, **named)  # type: ignore[no-any-return]
            send = start_send(self, method, sender, named, wide, False)
        else:
            observers = wide + scope.observers if wide else scope.observers
            send = start_send(
                self, method, sender, named, observers, self in scope.muted
            )
        if send is None:
            return original[method](self, sender, **named)  # type: ignore[no-any-return]
        return run_send(self, send, sender, named)

    patched.__name__ = patched.__qualname__ = method
    return patched


def _make_async(method: str) -> Callable[..., Awaitable[list[tuple[Any, Any]]]]:
    async def patched(
        self: DjangoSignal, sender: Any, **named: Any
    ) -> list[tuple[Any, Any]]:
        if (
            not self.receivers
            or self.sender_receivers_cache.get(sender) is NO_RECEIVERS
        ):
            send = unheard(self, method, sender, named)
        else:
            observers, muted = observers_for(self)
            send = start_send(self, method, sender, named, observers, muted)
        if send is None:
            return await original[method](self, sender, **named)  # type: ignore[no-any-return]
        return await arun_wrapped(self, send, sender, named)

    patched.__name__ = patched.__qualname__ = method
    return patched


PATCHES: dict[str, Any] = {
    "send": _make_sync("send"),
    "send_robust": _make_sync("send_robust"),
    "asend": _make_async("asend"),
    "asend_robust": _make_async("asend_robust"),
    "_live_receivers": _live_receivers,
}


for _function in PATCHES.values():
    # Like the toolbar's _djdt_cursor: says whose function this is.
    _function._signalkit_pipeline = True
