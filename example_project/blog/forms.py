from __future__ import annotations

from django import forms

from .models import Post


class PostForm(forms.ModelForm[Post]):
    publish_now = forms.BooleanField(
        required=False,
        initial=True,
        label="Publish now",
        help_text="Sends blog.signals.post_published; untick to keep a draft.",
    )

    class Meta:
        model = Post
        fields = ("title", "body")
        widgets = {"body": forms.Textarea(attrs={"rows": 10})}
