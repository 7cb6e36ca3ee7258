"""Portal test helpers: a portal log-in made through the real invitation path, and a client
signed in with it."""

from __future__ import annotations

from django.test import Client

from openiop.portal import services

PASSWORD = "a-long-portal-passphrase-2026"


def make_account(patient, staff, guardian=None, username="dana-w"):  # noqa: ANN001, ANN201
    _, token = services.invitation_create(actor=staff, patient=patient, guardian=guardian)
    invitation = services.invitation_for_token(token)
    return services.invitation_accept(invitation=invitation, username=username, password=PASSWORD)


def signed_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client
