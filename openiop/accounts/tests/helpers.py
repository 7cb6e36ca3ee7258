from __future__ import annotations

from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def password_of(user) -> str:
    return "pw-" + user.username + "-2026"  # conftest.make_user's password


def password_login(client: Client, user, password: str | None = None, **extra):
    """Log in through the real form (not force_login): the password step only."""
    return client.post(
        reverse("login"),
        {"username": user.username, "password": password or password_of(user)},
        **extra,
    )


def current_code(device: TOTPDevice) -> str:
    """What the user's authenticator app shows right now (time_machine moves 'now')."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:06d}"
