"""Sign-up, profiles and follows."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from blog.models import Post

from .forms import SignUpForm
from .models import Follow
from .signals import user_signed_up


def signup(request: HttpRequest) -> HttpResponse:
    """Create an account, log in and announce it with ``user_signed_up``."""
    if request.user.is_authenticated:
        return redirect("blog:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        user_signed_up.send(sender=User, user=user, request=request)
        messages.success(request, f"Welcome, {user.get_username()}!")
        return redirect("blog:home")
    return render(request, "accounts/signup.html", {"form": form})


def profile(request: HttpRequest, username: str) -> HttpResponse:
    author = get_object_or_404(User, username=username)
    posts = Post.objects.published().filter(author=author)
    is_following = (
        request.user.is_authenticated
        and Follow.objects.filter(follower=request.user, author=author).exists()
    )
    return render(
        request,
        "accounts/profile.html",
        {
            "author": author,
            "posts": posts,
            "is_following": is_following,
            "follower_count": author.followers.count(),
        },
    )


@login_required
@require_POST
def follow(request: HttpRequest, username: str) -> HttpResponse:
    """Follow ``username``, or stop following with ``action=unfollow``."""
    author = get_object_or_404(User, username=username)
    assert isinstance(request.user, User)
    if request.POST.get("action") == "unfollow":
        Follow.objects.filter(follower=request.user, author=author).delete()
        messages.info(request, f"You no longer follow {author.get_username()}.")
    elif author == request.user:
        messages.error(request, "You cannot follow yourself.")
    else:
        Follow.objects.get_or_create(follower=request.user, author=author)
        messages.success(request, f"You now follow {author.get_username()}.")
    return redirect("accounts:profile", username=author.get_username())
