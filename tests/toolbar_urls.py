"""Views and URLs for the debug toolbar panel tests (tests/test_panel.py).

Each view sends signals of ``testapp.signals`` and returns a small HTML page
the toolbar can be inserted into.
"""

from __future__ import annotations

from collections.abc import Callable
from secrets import token_urlsafe
from typing import Any

from debug_toolbar.panels import Panel
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import URLPattern, URLResolver, include, path

from signalkit import Signal, receiver
from signalkit.testing import mute
from testapp.models import Post
from testapp.signals import legacy_event, post_published

item_listed = Signal(
    name="toolbar_urls.item_listed",
    args={"position": "Where the item is on the page"},
    doc="Sent for each highlighted item of the list page.",
)


@receiver(item_listed)
def count_item(sender: Any, position: int, **kwargs: Any) -> int:
    return position


@receiver(item_listed)
def index_item(sender: Any, position: int, **kwargs: Any) -> str:
    return f"indexed #{position}"


@receiver(item_listed)
def cache_item(sender: Any, position: int, **kwargs: Any) -> None:
    return None


PAGE = "<!doctype html><html><head><title>t</title></head><body>{}</body></html>"


def publish(request: HttpRequest) -> HttpResponse:
    """Send ``post_published`` for an unsaved post (no SQL)."""
    post = Post(pk=5, title="<script>alert('title')</script>")
    post_published.send(sender=Post, post=post, user=request.GET.get("user", "ann"))
    return HttpResponse(PAGE.format("published"))


async def apublish(request: HttpRequest) -> HttpResponse:
    post = Post(pk=6, title="async")
    await post_published.asend(sender=Post, post=post, user="ann")
    return HttpResponse(PAGE.format("published"))


def legacy(request: HttpRequest) -> HttpResponse:
    """Send the plain ``legacy_event`` with the query string as arguments, as
    many times as ``?times=`` says."""
    arguments = request.GET.dict()
    times = int(arguments.pop("times", "1"))
    for _ in range(times):
        legacy_event.send(sender=None, **arguments)
    return HttpResponse(PAGE.format("sent"))


def muted(request: HttpRequest) -> HttpResponse:
    """Send ``legacy_event`` with its receivers muted."""
    with mute(legacy_event):
        legacy_event.send(sender=None, mood="quiet")
    return HttpResponse(PAGE.format("muted"))


def skipped(**kwargs: Any) -> str:
    """A receiver that ``muted_one`` skips."""
    return "skipped"


def muted_one(request: HttpRequest) -> HttpResponse:
    """Send ``legacy_event`` with one of its receivers, :func:`skipped`, muted."""
    with mute(legacy_event, receiver=skipped):
        legacy_event.send(sender=None, mood="quiet")
    return HttpResponse(PAGE.format("muted one"))


def rendered(request: HttpRequest) -> HttpResponse:
    """Render a template, which the toolbar's Templates panel records through
    ``template_rendered``."""
    template = engines["django"].from_string("<p>{{ word }}</p>")
    return HttpResponse(PAGE.format(template.render({"word": "rendered"})))


def listing(request: HttpRequest) -> HttpResponse:
    """A list page: 500 model instances (a ``pre_init`` and a ``post_init``
    each, which no receiver hears) and 20 sends of ``item_listed``."""
    posts = [Post(pk=number, title=f"Post {number}") for number in range(500)]
    for position in range(20):
        item_listed.send(sender=Post, position=position)
    return HttpResponse(PAGE.format(f"<h1>{len(posts)} posts</h1>"))


def relay(sender: Any, **kwargs: Any) -> str:
    """A receiver of ``post_published`` that sends ``legacy_event``, whose
    receivers send ``item_listed``: sends nested two deep."""
    legacy_event.send(sender=None, via="relay")
    return "relayed"


def list_items(sender: Any, **kwargs: Any) -> None:
    for position in range(2):
        item_listed.send(sender=Post, position=position)


def fail(sender: Any, **kwargs: Any) -> None:
    raise ValueError("the <search index> is down")


def nested(request: HttpRequest) -> HttpResponse:
    """Publish a post to receivers that send signals of their own, one of
    which fails (``send_robust``)."""
    post_published.connect(relay, dispatch_uid="toolbar_urls.relay")
    post_published.connect(fail, dispatch_uid="toolbar_urls.fail")
    legacy_event.connect(list_items, dispatch_uid="toolbar_urls.list_items")
    try:
        post = Post(pk=7, title="Nested")
        post_published.send_robust(sender=Post, post=post, user="ann")
    finally:
        post_published.disconnect(dispatch_uid="toolbar_urls.relay")
        post_published.disconnect(dispatch_uid="toolbar_urls.fail")
        legacy_event.disconnect(dispatch_uid="toolbar_urls.list_items")
    return HttpResponse(PAGE.format("<h1>published</h1>"))


order_paid = Signal(
    name="toolbar_urls.order_paid",
    args={"order": "The order that was paid", "amount": "What was paid, in cents"},
    doc="Sent when an order is paid: eight receivers in the story view.",
)
receipt_mailed = Signal(
    name="toolbar_urls.receipt_mailed",
    args={"order": "The order whose receipt was mailed"},
    doc="Sent by the receipt mailer of order_paid.",
)


def story_receiver(name: str, result: Any = None) -> Callable[..., Any]:
    def receive(sender: Any, **kwargs: Any) -> Any:
        return result

    receive.__name__ = receive.__qualname__ = name
    return receive


def mail_receipt(sender: Any, order: Any, **kwargs: Any) -> str:
    receipt_mailed.send(sender=sender, order=order)
    return "mailed"


def notify_warehouse(sender: Any, **kwargs: Any) -> None:
    raise ConnectionError("the warehouse is offline")


# The order_paid receivers of the story view, in the order they run.
STORY_RECEIVERS: list[Callable[..., Any]] = [
    story_receiver("reserve_stock", "3 items"),
    mail_receipt,
    story_receiver("charge_card", "charged"),
    notify_warehouse,
    story_receiver("update_ledger"),
    story_receiver("award_points", 12),
    story_receiver("clear_basket"),
    story_receiver("log_payment"),
]
archive_receipt = story_receiver("archive_receipt", "archived")
for story_receiver_function in [*STORY_RECEIVERS, archive_receipt]:
    story_receiver_function.__module__ = "shop.receivers"
for story_receiver_function in STORY_RECEIVERS:
    order_paid.connect(story_receiver_function, weak=False)
receipt_mailed.connect(archive_receipt, weak=False)


def story(request: HttpRequest) -> HttpResponse:
    """An order paid: eight receivers, one of which sends a nested signal and
    one of which fails (``send_robust``)."""
    post = Post(pk=42, title="Order 42")
    order_paid.send_robust(sender=Post, order=post, amount=1999)
    return HttpResponse(PAGE.format("<h1>paid</h1>"))


def quiet(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE.format("nothing sent"))


class ShortCircuitPanel(Panel):
    """Answers every request itself, as a caching or redirecting panel may."""

    is_async = True
    has_content = False
    title = "Short circuit"

    def process_request(self, request: HttpRequest) -> Any:
        return HttpResponse(PAGE.format("answered by a panel"))


class CspNonceMiddleware:
    """Gives each request a Content-Security-Policy nonce the way django-csp
    does (``request.csp_nonce``, read by the toolbar), and with
    ``?csp=strict`` a policy that allows only scripts and styles carrying it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = "n0nc3" if request.GET.get("csp") != "strict" else token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if request.GET.get("csp") == "strict":
            response["Content-Security-Policy"] = (
                f"default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic'; "
                f"style-src 'nonce-{nonce}'"
            )
        return response


urlpatterns: list[URLPattern | URLResolver] = [
    path("publish/", publish),
    path("apublish/", apublish),
    path("legacy/", legacy),
    path("quiet/", quiet),
    path("muted/", muted),
    path("muted-one/", muted_one),
    path("rendered/", rendered),
    path("list/", listing),
    path("nested/", nested),
    path("story/", story),
    path("__debug__/", include("debug_toolbar.urls")),
]
