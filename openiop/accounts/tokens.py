"""API tokens: ``oiop_<random>``; only a SHA-256 digest is kept, so a database leak exposes none."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from openiop.accounts.models import ApiToken, User

PREFIX = "oiop_"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, prefix=raw[: len(PREFIX) + 6], key_hash=_digest(raw), name=name
    )
    return token, raw


def token_authenticate(raw: str) -> User | None:
    if not raw or not raw.startswith(PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "user__organization")
        .filter(key_hash=_digest(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
