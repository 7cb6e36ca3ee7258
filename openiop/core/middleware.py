from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


def audit_refusal(request: HttpRequest, exc: Exception) -> None:
    """Write one audit row for a refused request: 403 (role lacks the permission) or 404 (unknown
    record, or another organization's). Attempts to reach records are part of the trail
    (security.md T3), not only successful looks."""
    from django.core.exceptions import PermissionDenied

    from openiop.core.audit import audit_log
    from openiop.core.models import AuditEvent

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    denied = isinstance(exc, PermissionDenied)
    audit_log(
        actor=user,
        action="openiop.core.access." + ("deny" if denied else "not_found"),
        category=AuditEvent.Category.ADMINISTRATIVE,
        outcome=AuditEvent.Outcome.DENIED if denied else AuditEvent.Outcome.FAILED,
        request=request,
        detail={"method": request.method, "path": request.path[:300], "reason": str(exc)[:200]},
    )


class AuditRefusalMiddleware:
    """Audits every 403 and 404 raised by a staff page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        from django.core.exceptions import PermissionDenied
        from django.http import Http404

        if isinstance(exception, PermissionDenied | Http404):
            audit_refusal(request, exception)


class NoStoreMiddleware:
    """Pages with patient data must not be kept in browser or proxy caches (back button after
    log-out must not show PHI)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response.setdefault("Cache-Control", "no-store, private")
        return response
