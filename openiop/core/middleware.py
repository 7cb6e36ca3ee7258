from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed


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
        if getattr(request, "_openiop_logged_out", False):
            # The browser drops its cached pages and any script storage of this origin too.
            # ("cookies" is left out: it would clear every cookie of the whole site, sibling apps
            # included; the session cookie is worthless once its server-side row is gone.)
            response["Clear-Site-Data"] = '"cache", "storage"'
        return response


def _end_session(request: HttpRequest, reason: str) -> HttpResponse:
    """Log the user out (deleting the server-side session row) and send them to the log-in page,
    or, for htmx and API calls, tell them so without a page."""
    from django.conf import settings
    from django.contrib.auth import logout
    from django.http import JsonResponse
    from django.shortcuts import redirect
    from django.utils.http import urlencode

    request._openiop_logout_reason = reason  # type: ignore[attr-defined]
    logout(request)  # audits the log-out (openiop.accounts.signals) and flushes the session
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Your session has ended; log in again."}, status=401)
    query = {"expired": reason}
    if request.method == "GET" and not request.headers.get("HX-Request"):
        query["next"] = request.get_full_path()
    url = f"{settings.LOGIN_URL}?{urlencode(query)}"
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
    else:
        response = redirect(url)
    response["Clear-Site-Data"] = '"cache", "storage"'
    response["Cache-Control"] = "no-store, private"
    return response


TOUCH_SECONDS = 60


class SessionTimeoutMiddleware:
    """Ends a staff session after OPENIOP_IDLE_TIMEOUT_MINUTES without a request (default 15) and
    OPENIOP_SESSION_MAX_HOURS after log-in however active (default 12), and the sessions of a
    disabled account at their next request (security.md T4, ONC d5, HIPAA automatic log-off).

    Query strings and headers cannot skip the check. A request sending ``X-OpenIOP-Poll: 1``
    (an htmx ``every 2s`` poller) is checked but does not count as activity. Activity is recorded
    at most once a minute (TOUCH_SECONDS), so the time-out can come up to a minute early."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        import time

        from django.conf import settings
        from django.contrib.auth import SESSION_KEY

        from openiop.accounts.signals import AUTH_AT_SESSION_KEY, LAST_SEEN_SESSION_KEY

        session = request.session
        if SESSION_KEY not in session:
            return self.get_response(request)
        if not request.user.is_authenticated:
            # The session names a user who can no longer log in (disabled, deleted, or their
            # password was changed elsewhere): delete the session row, not only ignore it.
            session.flush()
            return self.get_response(request)
        now = time.time()
        auth_at = session.get(AUTH_AT_SESSION_KEY)
        last_seen = session.get(LAST_SEEN_SESSION_KEY)
        if not isinstance(auth_at, int | float) or not isinstance(last_seen, int | float):
            return _end_session(request, "invalid")
        if now - last_seen > settings.OPENIOP_IDLE_TIMEOUT_MINUTES * 60:
            return _end_session(request, "idle")
        if now - auth_at > settings.OPENIOP_SESSION_MAX_HOURS * 3600:
            return _end_session(request, "max")
        # Activity is recorded to the minute (a session write per minute, not per request), so
        # a session can end up to a minute early, never late.
        if now - last_seen >= TOUCH_SECONDS and request.headers.get("X-OpenIOP-Poll") != "1":
            session[LAST_SEEN_SESSION_KEY] = now
        return self.get_response(request)


class MfaRequiredMiddleware:
    """A session that logged in with a password alone reaches only the second step: the TOTP
    page for a user who enrolled, the enrolment page for a user whose role requires MFA and who
    has not enrolled yet (openiop.accounts.mfa.mfa_required). Everything else redirects there
    (API calls get 403), so no page with patient data is one request away (security.md T4)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return self.get_response(request)
        target = self._second_step(request)
        if target is None or self._exempt(request, target):
            return self.get_response(request)
        return self._refuse(request, target)

    @staticmethod
    def _second_step(request: HttpRequest) -> str | None:
        from django.urls import reverse

        from openiop.accounts.mfa import ENROLLED_SESSION_KEY, mfa_required

        if request.session.get(ENROLLED_SESSION_KEY):
            return reverse("accounts:mfa-verify")
        if mfa_required(request.user):
            return reverse("accounts:mfa-setup")
        return None

    @staticmethod
    def _exempt(request: HttpRequest, target: str) -> bool:
        from django.conf import settings
        from django.urls import reverse

        path = request.path
        static = "/" + settings.STATIC_URL.lstrip("/")
        if path.startswith("/fhir/"):
            return True  # bearer tokens only there: a session opens nothing anyway
        return path == target or path.startswith(static) or path in {reverse("logout")}

    @staticmethod
    def _refuse(request: HttpRequest, target: str) -> HttpResponse:
        from django.http import JsonResponse
        from django.shortcuts import redirect
        from django.utils.http import urlencode

        if request.path.startswith("/api/"):
            return JsonResponse({"detail": "Two-factor verification required."}, status=403)
        url = target
        if request.method == "GET" and not request.headers.get("HX-Request"):
            url += "?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)


class DeclaredMethodsMiddleware:
    """Answer 405 to a method the access policy does not declare for a page (security.md T1).

    ``openiop.core.url_policy.POLICY`` lists, per URL name, the methods each page serves; the
    matrix test proves every declared method. Here the same table refuses the rest before the
    view runs, so a read-only page never answers POST/PUT/PATCH/DELETE like a GET. HEAD follows
    GET. API operations (django-ninja answers 405 per path) and the Django admin are left alone;
    the API's schema pages are covered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        from openiop.core.url_policy import POLICY

        match = request.resolver_match
        name = match.view_name if match else ""
        if not name or name.startswith("admin:"):
            return None
        if name.startswith("api-") and not name.endswith(("openapi-json", "openapi-view", "root")):
            return None  # an API operation: the router answers 405 per path
        declared = POLICY.get(name)
        if declared is None:
            return None
        allowed = set(declared) | ({"HEAD"} if "GET" in declared else set())
        if request.method in allowed:
            return None
        return HttpResponseNotAllowed(sorted(allowed))
