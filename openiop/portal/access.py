"""Who a portal request is, and what they may see (issue 10).

``portal_view`` wraps every portal page: log-in required (anonymous visitors go to the log-in
page), staff accounts get 404, a disabled account is logged out. The view receives the
``PortalAccount``; everything it shows is read through ``account.patient``, never from an id in
the URL, so a patient cannot name another patient's record at all. ``sees(account, area)`` says
whether a guardian's account shows an area (schedule, questionnaires, plan, consents); a
patient's own account sees all of them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from openiop.portal.models import PortalAccount

AREAS = ("schedule", "questionnaires", "plan", "consents", "aftercare")


def account_for(user: Any) -> PortalAccount | None:
    if not getattr(user, "is_portal", False):
        return None
    try:
        return PortalAccount.objects.select_related(
            "patient", "patient__organization", "guardian"
        ).get(user=user)
    except PortalAccount.DoesNotExist:
        return None


def sees(account: PortalAccount, area: str) -> bool:
    if area not in AREAS:
        raise ValueError(f"unknown portal area {area!r}")
    if not account.is_guardian:
        return True
    if area == "aftercare":
        return account.sees_plan
    return bool(getattr(account, f"sees_{area}"))


def portal_view(
    area: str | None = None,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a portal view ``view(request, account, ...)``; ``area`` limits guardians."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            account = account_for(request.user)
            if account is None:
                raise Http404("Not found")
            if not account.is_active:
                logout(request)
                return redirect("login")
            if area is not None and not sees(account, area):
                raise Http404("Not found")
            return view(request, account, *args, **kwargs)

        return wrapped

    return decorate
