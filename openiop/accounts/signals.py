"""Log-in, log-out, failed log-in and lock-out: each one audit row (security.md T3/T4), and the
session clocks used by SessionTimeoutMiddleware started at log-in."""

from __future__ import annotations

import time
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent

AUTH_AT_SESSION_KEY = "_openiop_auth_at"
LAST_SEEN_SESSION_KEY = "_openiop_last_seen"


def _username(credentials: dict[str, Any] | None, fallback: str = "") -> str:
    return str((credentials or {}).get("username") or fallback)[:150]


@receiver(user_logged_in, dispatch_uid="openiop.accounts.login")
def on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    from openiop.accounts.mfa import ENROLLED_SESSION_KEY, has_mfa

    session = getattr(request, "session", None)
    if session is not None:
        now = time.time()
        session[AUTH_AT_SESSION_KEY] = now
        session[LAST_SEEN_SESSION_KEY] = now
        if has_mfa(user):
            session[ENROLLED_SESSION_KEY] = True
    if request is None or not request.method:
        # Not an HTTP log-in: the test client's force_login() builds a bare HttpRequest.
        return
    audit_log(
        actor=user,
        action="openiop.accounts.session.login",
        category=AuditEvent.Category.ADMINISTRATIVE,
        request=request,
    )


@receiver(user_logged_out, dispatch_uid="openiop.accounts.logout")
def on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None:
        request._openiop_logged_out = True  # type: ignore[attr-defined]  (Clear-Site-Data)
    if user is None:
        return
    audit_log(
        actor=user,
        action="openiop.accounts.session.logout",
        category=AuditEvent.Category.ADMINISTRATIVE,
        request=request,
        detail={"reason": getattr(request, "_openiop_logout_reason", "logout")},
    )


@receiver(user_login_failed, dispatch_uid="openiop.accounts.login_failed")
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    locked = bool(getattr(request, "axes_locked_out", False))
    audit_log(
        actor=None,
        action="openiop.accounts.session.login",
        category=AuditEvent.Category.ADMINISTRATIVE,
        outcome=AuditEvent.Outcome.DENIED if locked else AuditEvent.Outcome.FAILED,
        request=request,
        detail={"username": _username(credentials), "locked_out": locked},
    )


@receiver(user_locked_out, dispatch_uid="openiop.accounts.locked_out")
def on_locked_out(
    sender: Any, request: HttpRequest | None, username: str | None = None, **kwargs: Any
) -> None:
    audit_log(
        actor=None,
        action="openiop.accounts.session.lockout",
        category=AuditEvent.Category.ADMINISTRATIVE,
        outcome=AuditEvent.Outcome.DENIED,
        request=request,
        detail={"username": str(username or "")[:150], "ip": kwargs.get("ip_address") or ""},
    )
