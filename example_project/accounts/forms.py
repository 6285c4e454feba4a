from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User


class SignUpForm(UserCreationForm[User]):
    email = forms.EmailField(
        required=False, help_text="Optional: where the welcome e-mail goes."
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")
