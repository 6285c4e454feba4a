"""The differential test in a process of its own, observers installed for good.

``python -m differential.process ORDER`` (from tests/, with
``DJANGO_SETTINGS_MODULE=settings``) installs sentry-sdk's Django
integration (``signals_spans=True``, every transaction sampled, envelopes
dropped), signalkit's OpenTelemetry tracer (real SDK, sampled) and the
slow-receiver log (threshold 0 ms), either all before ``django.setup()``
(ORDER ``before``: as ``opentelemetry-instrument`` or a ``manage.py`` that
instruments first does, sentry-sdk first) or all after it (``after``:
sentry-sdk last, its patch on top of signalkit's). It then runs generated
programs under all of them plus ``record()``, ``capture()`` and a mute of
another signal, each against plain Django: Django's own methods, saved when
this module starts, are put back for the baseline run (and sentry-sdk's
per-receiver wrappers are seen through in responses). At the end, with the
tracer and the slow log removed, ``django.dispatch.Signal`` must hold
Django's methods again (and sentry-sdk's ``_live_receivers``, which stays
for good). Its own process, because sentry-sdk cannot be uninstalled and
"before" means before the only ``django.setup()`` of a process.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from django.dispatch import Signal as DjangoSignal

# Before anything else can patch it.
DJANGOS = {
    name: DjangoSignal.__dict__[name]
    for name in ("send", "send_robust", "asend", "asend_robust", "_live_receivers")
}


@contextmanager
def plain_django() -> Iterator[list[Any]]:
    """Django's own methods on ``Signal`` for one run, then what was there."""
    current = {name: DjangoSignal.__dict__[name] for name in DJANGOS}
    for name, method in DJANGOS.items():
        setattr(DjangoSignal, name, method)
    try:
        yield []
    finally:
        for name, method in current.items():
            setattr(DjangoSignal, name, method)


def main(order: str) -> None:
    import django
    import sentry_sdk
    from opentelemetry.sdk.trace import TracerProvider
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.transport import Transport

    # No handler: send_robust() failures and slow receivers are expected.
    logging.basicConfig(handlers=[logging.NullHandler()])

    class Drop(Transport):
        def capture_envelope(self, envelope: Any) -> None:
            pass

    provider = TracerProvider()

    def install() -> tuple[Any, Any]:
        from signalkit import pipeline
        from signalkit.contrib.opentelemetry import SignalkitInstrumentor
        from signalkit.slow import SlowReceiverLog

        if order == "before":
            start_sentry()
        instrumentor = SignalkitInstrumentor()
        instrumentor.instrument(tracer_provider=provider)
        slow = SlowReceiverLog(0)
        pipeline.add_observer(slow)
        if order == "after":
            start_sentry()
        return instrumentor, slow

    def start_sentry() -> None:
        sentry_sdk.init(
            dsn="https://key@sentry.invalid/1",
            transport=Drop,
            traces_sample_rate=1.0,
            default_integrations=False,
            auto_enabling_integrations=False,
            integrations=[DjangoIntegration(signals_spans=True)],
        )

    if order == "before":
        instrumentor, slow = install()
    django.setup()
    if order == "after":
        instrumentor, slow = install()

    from hypothesis import given

    from differential.found import found_examples
    from differential.observers import SETUPS, assert_same_as_django, dispatch_state
    from differential.program import DIFFERENTIAL, Program, programs
    from signalkit import pipeline

    @contextmanager
    def everything() -> Iterator[list[Any]]:
        with ExitStack() as stack:
            stack.enter_context(sentry_sdk.start_transaction(name="differential"))
            tracer = provider.get_tracer("differential")
            stack.enter_context(tracer.start_as_current_span("request"))
            checks: list[Any] = []
            for name in ("record", "capture", "mute another signal"):
                checks += stack.enter_context(SETUPS[name]())
            yield checks

    @DIFFERENTIAL
    @found_examples
    @given(program=programs())
    def check(program: Program) -> None:
        assert_same_as_django(program, everything, plain=plain_django)

    check()
    instrumentor.uninstrument()
    pipeline.remove_observer(slow)
    left = dispatch_state()
    sentrys = left.pop("_live_receivers")
    assert sentrys.__qualname__.endswith("_sentry_live_receivers"), sentrys
    assert left == {n: m for n, m in DJANGOS.items() if n != "_live_receivers"}
    assert not pipeline.is_patched()
    print(f"{order}: every program ran the same as on plain Django")


if __name__ == "__main__":
    main(sys.argv[1])
