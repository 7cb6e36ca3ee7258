"""Calendar feed pages: the public ``.ics`` endpoint, the patient chart's "Calendar feed" box,
and a staff member's own feed page (``/sessions/my-calendar/``).

The ``.ics`` endpoint is deliberately outside login: the token in the URL is the credential.
Its 404 carries no body, so it tells a guesser nothing (not even whether a token once existed).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.core.access import require_perm
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.patients.models import Patient
from openiop.patients.selectors import patient_get
from openiop.scheduling import feeds
from openiop.scheduling.models import CalendarFeed

FEED_HEADERS = {
    "Cache-Control": "no-store, private",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


# --- the feed itself ---------------------------------------------------------------------------


@require_safe
def calendar_feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    body = feeds.calendar_feed_fetch(token=token, request=request)
    if body is None:
        return HttpResponseNotFound(
            b"", content_type="text/plain; charset=utf-8", headers=FEED_HEADERS
        )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8", headers=FEED_HEADERS)
    response["Content-Disposition"] = 'inline; filename="appointments.ics"'
    return response


def _feed_url(request: HttpRequest, raw: str) -> str:
    return request.build_absolute_uri(reverse("calendar:feed", kwargs={"token": raw}))


def _show_once(request: HttpRequest, raw: str, verb: str) -> None:
    messages.success(
        request,
        f"Calendar link {verb}. Copy it now; it is not stored and will not be shown again: "
        f"{_feed_url(request, raw)}",
    )


# --- a patient's feed (chart box) --------------------------------------------------------------


def _patient_context(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    return {
        "patient": patient,
        "feed": feeds.calendar_feed_active(patient=patient),
        "can_manage": user_has_perm(request.user, Perm.PATIENT_EDIT),
        "actions": {
            "create": reverse("scheduling:patient-calendar-create", args=[patient.public_id]),
            "rotate": reverse("scheduling:patient-calendar-rotate", args=[patient.public_id]),
            "revoke": reverse("scheduling:patient-calendar-revoke", args=[patient.public_id]),
        },
        "back": "chart",
    }


@login_required
@require_safe
def patient_calendar_feed(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The chart's "Calendar feed" box (htmx) or, without JavaScript, a page with the same box."""
    patient = patient_get(user=request.user, public_id=public_id)
    context = _patient_context(request, patient)
    audit_log(
        actor=request.user, action="openiop.scheduling.calendar_feed.view",
        category=AuditEvent.Category.SCHEDULE, obj=context["feed"], patient=patient,
        request=request,
    )  # fmt: skip
    if getattr(request, "htmx", False):
        return render(request, "scheduling/_calendar_feed.html#feed-box", context)
    context.update(back="page", title=f"Calendar feed · {patient.display_name}")
    return render(request, "scheduling/calendar_feed.html", context)


def _patient_back(request: HttpRequest, patient: Patient) -> HttpResponse:
    if request.POST.get("back") == "page":
        return redirect("scheduling:patient-calendar", public_id=patient.public_id)
    return redirect("patients:patient-detail", public_id=patient.public_id)


@login_required
@require_POST
def patient_calendar_create(request: HttpRequest, public_id: Any) -> HttpResponse:
    patient = patient_get(user=request.user, public_id=public_id)
    require_perm(request.user, Perm.PATIENT_EDIT)
    try:
        _, raw = feeds.calendar_feed_create(actor=request.user, patient=patient, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        _show_once(request, raw, "created")
    return _patient_back(request, patient)


@login_required
@require_POST
def patient_calendar_rotate(request: HttpRequest, public_id: Any) -> HttpResponse:
    patient = patient_get(user=request.user, public_id=public_id)
    require_perm(request.user, Perm.PATIENT_EDIT)
    _, raw = feeds.calendar_feed_rotate(actor=request.user, patient=patient, request=request)
    _show_once(request, raw, "replaced; the old link no longer works")
    return _patient_back(request, patient)


@login_required
@require_POST
def patient_calendar_revoke(request: HttpRequest, public_id: Any) -> HttpResponse:
    patient = patient_get(user=request.user, public_id=public_id)
    require_perm(request.user, Perm.PATIENT_EDIT)
    feed = feeds.calendar_feed_active(patient=patient)
    if feed is not None:
        feeds.calendar_feed_revoke(actor=request.user, feed=feed, request=request)
    messages.success(request, "Calendar link revoked; calendars subscribed to it stop updating.")
    return _patient_back(request, patient)


# --- a staff member's own feed -----------------------------------------------------------------


def _require_staff(request: HttpRequest) -> None:
    require_perm(request.user, Perm.SESSION_VIEW)  # every staff role; no organization -> 403


@login_required
@require_safe
def my_calendar(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    feed: CalendarFeed | None = feeds.calendar_feed_active(user=request.user)
    return render(request, "scheduling/calendar_feed.html", {
        "feed": feed, "can_manage": True, "back": "page", "title": "My calendar feed",
        "actions": {
            "create": reverse("scheduling:my-calendar-create"),
            "rotate": reverse("scheduling:my-calendar-rotate"),
            "revoke": reverse("scheduling:my-calendar-revoke"),
        },
    })  # fmt: skip


@login_required
@require_POST
def my_calendar_create(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    try:
        _, raw = feeds.calendar_feed_create(actor=request.user, user=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        _show_once(request, raw, "created")
    return redirect("scheduling:my-calendar")


@login_required
@require_POST
def my_calendar_rotate(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    _, raw = feeds.calendar_feed_rotate(actor=request.user, user=request.user, request=request)
    _show_once(request, raw, "replaced; the old link no longer works")
    return redirect("scheduling:my-calendar")


@login_required
@require_POST
def my_calendar_revoke(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    feed = feeds.calendar_feed_active(user=request.user)
    if feed is not None:
        feeds.calendar_feed_revoke(actor=request.user, feed=feed, request=request)
    messages.success(request, "Calendar link revoked; calendars subscribed to it stop updating.")
    return redirect("scheduling:my-calendar")
