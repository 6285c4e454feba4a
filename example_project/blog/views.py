"""Blog pages: each action below triggers one of the project's signals."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import SiteStats

from . import services
from .forms import PostForm
from .models import Post, SearchEntry
from .signals import HOME_CACHE_KEY


def _published_posts() -> list[dict[str, Any]]:
    """Plain data for the home page, cached until ``clear_caches`` runs."""
    posts = cache.get(HOME_CACHE_KEY)
    if posts is None:
        posts = list(
            Post.objects.published().values(
                "title", "slug", "published_at", "author__username"
            )[:50]
        )
        cache.set(HOME_CACHE_KEY, posts, timeout=300)
    return posts  # type: ignore[no-any-return]


def home(request: HttpRequest) -> HttpResponse:
    drafts = (
        Post.objects.drafts().filter(author=request.user)
        if request.user.is_authenticated
        else Post.objects.none()
    )
    return render(
        request,
        "blog/home.html",
        {
            "posts": _published_posts(),
            "drafts": drafts,
            "stats": SiteStats.load(),
        },
    )


def _can_edit(user: Any, post: Post) -> bool:
    return bool(user.is_authenticated and (user.pk == post.author_id or user.is_staff))


def _get_visible_post(request: HttpRequest, slug: str) -> Post:
    post = get_object_or_404(Post.objects.select_related("author"), slug=slug)
    if not post.published and not _can_edit(request.user, post):
        raise Http404("No such post.")
    return post


def detail(request: HttpRequest, slug: str) -> HttpResponse:
    post = _get_visible_post(request, slug)
    return render(
        request,
        "blog/detail.html",
        {"post": post, "can_edit": _can_edit(request.user, post)},
    )


@login_required
def new_post(request: HttpRequest) -> HttpResponse:
    """Create a post; with "publish now" this sends ``post_published``."""
    assert isinstance(request.user, User)
    form = PostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        post = form.save(commit=False)
        post.author = request.user
        post.save()  # post_save with created=True
        if not form.cleaned_data["publish_now"]:
            messages.info(request, "Draft saved.")
            return redirect(post)
        services.publish(post, request.user)  # post_published
        messages.success(request, "Post published.")
        # The demo's main story: the post is shown in answer to the POST that
        # published it, not after a redirect, so the debug toolbar on this
        # page is the publishing request's, and its Signals panel shows
        # post_published with every receiver that ran.
        return render(request, "blog/detail.html", {"post": post, "can_edit": True})
    return render(request, "blog/post_form.html", {"form": form})


@login_required
@require_POST
def publish(request: HttpRequest, slug: str) -> HttpResponse:
    assert isinstance(request.user, User)
    post = _get_visible_post(request, slug)
    if not _can_edit(request.user, post):
        raise PermissionDenied
    if post.published:
        messages.info(request, "This post is already published.")
    else:
        services.publish(post, request.user)
        messages.success(request, "Post published.")
    return redirect(post)


@login_required
def delete(request: HttpRequest, slug: str) -> HttpResponse:
    """Confirm on GET; delete on POST (pre_delete fires for Post and its
    SearchEntry, which goes with it through the cascade)."""
    post = _get_visible_post(request, slug)
    if not _can_edit(request.user, post):
        raise PermissionDenied
    if request.method == "POST":
        post.delete()
        cache.delete(HOME_CACHE_KEY)
        messages.success(request, "Post deleted.")
        return redirect("blog:home")
    return render(request, "blog/post_confirm_delete.html", {"post": post})


def search(request: HttpRequest) -> HttpResponse:
    """Look words up in the index that ``update_search_index`` maintains."""
    query = request.GET.get("q", "").strip()
    entries = SearchEntry.objects.none()
    terms = query.lower().split()
    if terms:
        entries = SearchEntry.objects.select_related("post", "post__author").filter(
            post__published=True
        )
        for term in terms[:5]:
            entries = entries.filter(words__icontains=term)
    return render(
        request,
        "blog/search.html",
        {"query": query, "posts": [entry.post for entry in entries[:50]]},
    )
