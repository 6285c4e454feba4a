from __future__ import annotations

from django.db import models


class Post(models.Model):
    title = models.CharField(max_length=200)

    def __str__(self) -> str:
        raise AssertionError("signalkit must never call a model's __str__()")

    def __repr__(self) -> str:
        raise AssertionError("signalkit must never call a model's __repr__()")


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE)
    body = models.TextField()
