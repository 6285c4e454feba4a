"""signalkit beside sentry-sdk's Django integration (signals_spans on).

sentry-sdk patches ``Signal._live_receivers`` once per process and wraps
every sync receiver in a new function on every send: the recorder must keep
its patch, see through its wrappers, and return what Django returns with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
import sentry_sdk
from django.dispatch import Signal as DjangoSignal
from sentry_sdk.envelope import Envelope
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.django.signals_handlers import patch_signals
from sentry_sdk.transport import Transport

from signalkit import naming, pipeline, record
from signalkit.pipeline import is_patched, lifecycle, loops


def ok(sender: Any, **kwargs: Any) -> str:
    return "fine"


async def answer(sender: Any, **kwargs: Any) -> int:
    return 42


@pytest.fixture
def signal() -> DjangoSignal:
    return DjangoSignal()


class MemoryTransport(Transport):
    """Keeps sentry-sdk's envelopes in memory instead of sending them."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)


@pytest.fixture(scope="module")
def sentry() -> Iterator[MemoryTransport]:
    """sentry-sdk's Django integration, set up while a recording is open.

    sentry-sdk patches ``Signal._live_receivers`` once per process, so the
    module's tests share it; the patch is taken off again afterwards.
    """
    django_live_receivers = DjangoSignal.__dict__["_live_receivers"]
    transport = MemoryTransport()
    with record():
        sentry_sdk.init(
            dsn="https://public@127.0.0.1/1",
            transport=transport,
            integrations=[DjangoIntegration(signals_spans=True)],
            default_integrations=False,
            auto_enabling_integrations=False,
            traces_sample_rate=1.0,
        )
    try:
        yield transport
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)
        DjangoSignal._live_receivers = django_live_receivers  # type: ignore[method-assign]
        lifecycle._stranded.discard("_live_receivers")


def _receiver_spans(transport: MemoryTransport) -> list[str]:
    sentry_sdk.flush()
    return [
        span["description"]
        for envelope in transport.envelopes
        if (event := envelope.get_transaction_event()) is not None
        for span in cast(list[dict[str, Any]], event["spans"])
        if span["op"] == "event.django"
    ]


def test_sentrys_patch_made_during_a_recording_outlives_it(
    sentry: MemoryTransport,
) -> None:
    live_receivers = DjangoSignal.__dict__["_live_receivers"]
    assert live_receivers.__qualname__.endswith("_sentry_live_receivers")
    assert not is_patched()


def test_sentrys_receiver_spans_appear_after_a_recording(
    sentry: MemoryTransport, signal: DjangoSignal
) -> None:
    sentry.envelopes.clear()
    signal.connect(ok)
    with sentry_sdk.start_transaction(name="after a recording"):
        [(receiver, response)] = signal.send(sender=None)

    assert (receiver.__wrapped__, response) == (ok, "fine")  # type: ignore[attr-defined]
    assert _receiver_spans(sentry) == [f"{__name__}.ok"]


def test_a_recording_under_sentry_names_real_receivers_and_returns_sentrys_wrappers(
    sentry: MemoryTransport, signal: DjangoSignal
) -> None:
    sentry.envelopes.clear()
    signal.connect(ok)
    with sentry_sdk.start_transaction(name="recorded"), record() as recorder:
        [(receiver, response)] = signal.send(sender=None)
        [(again, _)] = signal.send(sender=None)

    assert receiver is not again  # sentry wraps every receiver on every send
    assert (receiver.__wrapped__, response) == (ok, "fine")  # type: ignore[attr-defined]
    assert [send.receivers[0].name for send in recorder.sends] == [f"{__name__}.ok"] * 2
    assert _receiver_spans(sentry) == [f"{__name__}.ok"] * 2


def test_a_recording_on_top_of_sentry_keeps_its_patch(
    sentry: MemoryTransport, signal: DjangoSignal, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sentry-sdk patched before anything recorded: its patch is below ours.
    monkeypatch.setattr(
        DjangoSignal, "_live_receivers", loops.original["_live_receivers"]
    )
    monkeypatch.setattr(lifecycle, "_stranded", set())
    for name, replaced in list(loops.original.items()):
        monkeypatch.setitem(loops.original, name, replaced)
    patch_signals()
    sentrys = DjangoSignal.__dict__["_live_receivers"]
    sentry.envelopes.clear()
    signal.connect(ok)
    with sentry_sdk.start_transaction(name="recorded"), record() as recorder:
        assert DjangoSignal.__dict__["_live_receivers"] is not sentrys
        [(receiver, response)] = signal.send(sender=None)

    assert DjangoSignal.__dict__["_live_receivers"] is sentrys
    # Named once per real receiver: sentry's per-send wrapper is not cached.
    assert id(receiver) not in naming._receiver_names
    assert naming._receiver_names[id(ok)] == f"{__name__}.ok"
    assert (receiver.__wrapped__, response) == (ok, "fine")  # type: ignore[attr-defined]
    assert recorder.sends[0].receivers[0].name == f"{__name__}.ok"
    assert _receiver_spans(sentry) == [f"{__name__}.ok"]


class EachReceiver(pipeline.Observer, pipeline.SendObserver):
    """Asks for every receiver's events, as a tracer does."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def send_started(self, send: pipeline.Send) -> pipeline.SendObserver:
        return self

    def receiver_started(self, index: int, receiver: pipeline.Receiver) -> None:
        self.names.append(receiver.name)


def test_an_observer_of_each_receiver_under_sentry_gets_real_names_and_its_wrappers(
    sentry: MemoryTransport, signal: DjangoSignal
) -> None:
    # With an async receiver too, Django's method runs the send: each
    # receiver is wrapped for the send, and sentry wraps the wrapper.
    sentry.envelopes.clear()
    signal.connect(ok)
    signal.connect(answer)
    observer = EachReceiver()
    with sentry_sdk.start_transaction(name="traced"), pipeline.observing(observer):
        responses: list[tuple[Any, Any]] = signal.send(sender=None)
    [(receiver, response), (_, answered)] = responses

    assert receiver.__wrapped__ is ok
    assert (response, answered) == ("fine", 42)
    assert (receiver.__module__, receiver.__doc__) == (ok.__module__, ok.__doc__)
    assert observer.names == [f"{__name__}.ok", f"{__name__}.answer"]
    assert _receiver_spans(sentry) == [f"{__name__}.ok"]


def test_an_observer_of_each_receiver_under_sentry_sees_sentrys_wrappers_run(
    sentry: MemoryTransport, signal: DjangoSignal
) -> None:
    # Sync receivers only: the pipeline's loop runs sentry's wrappers.
    sentry.envelopes.clear()
    signal.connect(ok)
    observer = EachReceiver()
    with sentry_sdk.start_transaction(name="traced"), pipeline.observing(observer):
        [(receiver, response)] = signal.send(sender=None)

    assert (receiver.__wrapped__, response) == (ok, "fine")  # type: ignore[attr-defined]
    assert observer.names == [f"{__name__}.ok"]
    assert _receiver_spans(sentry) == [f"{__name__}.ok"]
