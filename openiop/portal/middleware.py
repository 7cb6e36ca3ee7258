"""Keep portal accounts inside the portal, and staff out of it (issue 10, security.md).

A portal user (``User.is_portal``) reaches only ``/portal/``, static files and their own
log-out, password and two-step sign-in (TOTP) pages; every other URL answers 404, exactly as a
record of another organization does, so the staff application's existence reveals nothing.
``/`` sends them to their portal home. Portal pages check the other direction themselves
(``openiop.portal.access.portal_view``): staff get 404 there.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

ALLOWED_PREFIXES = ("/portal/", "/accounts/logout/", "/accounts/password/", "/accounts/mfa/")


class PortalIsolationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "is_portal", False):
            path = request.path
            if path == "/":
                return redirect("portal:home")
            static = settings.STATIC_URL or "/static/"
            if not path.startswith((*ALLOWED_PREFIXES, static)):
                raise Http404("Not found")
        return self.get_response(request)
