from __future__ import annotations

from django import forms

from openiop.core.forms import ServiceErrorsMixin


class AcceptForm(ServiceErrorsMixin, forms.Form):
    username = forms.CharField(
        label="Choose a user name", max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )  # fmt: skip
    password = forms.CharField(
        label="Choose a password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; not a common password.",
    )
    password_again = forms.CharField(
        label="Password again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


class InviteForm(forms.Form):
    guardian = forms.CharField(required=False, widget=forms.HiddenInput)
