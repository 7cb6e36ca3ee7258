"""Joining a virtual session from the portal (issue 10, "Join a virtual session").

``session_join`` (POST) sends the patient to the session's video room (``portal.video``) and
records a ``VirtualVisit``: only for a virtual, not cancelled session the account's patient is
booked on (an ``AttendanceRecord`` of that patient, fetched through ``account.patient``; any
other session id answers 404), and only from ``JOIN_EARLY_MINUTES`` before the start until the
end (otherwise a message and back home, nothing recorded). A second join while a visit is still
open reuses it. ``session_leave`` (POST) closes the open visit.

Guardians: the schedule area decides (``@portal_view("schedule")``: a guardian whose account
does not show the schedule gets 404). A guardian who joins is usually on the minor's device or
beside them, so the visit is recorded for the patient all the same; the audit row names the
guardian's user as the actor. The facilitator confirms attendance either way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.attendance.models import AttendanceRecord
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.portal.access import portal_view
from openiop.portal.models import PortalAccount, VirtualVisit
from openiop.portal.video import room_url
from openiop.scheduling.models import Session

CAT = AuditEvent.Category.CLINICAL
JOIN_EARLY_MINUTES = 15


def _my_virtual_session(account: PortalAccount, public_id: Any) -> Session:
    """The virtual session named in the URL, only if the account's own patient is booked on it
    (and it is not cancelled); else 404."""
    record = (
        AttendanceRecord.objects.for_org(account.organization_id)
        .filter(
            patient=account.patient,
            session__public_id=public_id,
            session__organization_id=account.organization_id,
            session__is_virtual=True,
        )
        .exclude(session__status=Session.Status.CANCELLED)
        .select_related("session", "session__program__site")
        .first()
    )
    if record is None:
        raise Http404("Not found")
    return record.session


def join_window(session: Session) -> tuple[dt.datetime, dt.datetime]:
    return session.starts_at - dt.timedelta(minutes=JOIN_EARLY_MINUTES), session.ends_at


def can_join(session: Session, now: dt.datetime | None = None) -> bool:
    opens, closes = join_window(session)
    return opens <= (now or timezone.now()) <= closes


def virtual_visit_join(
    *, actor: Any, account: PortalAccount, session: Session, request: HttpRequest | None = None
) -> VirtualVisit:
    """Record (or reuse the open) visit of the account's patient to ``session``; audited."""
    now = timezone.now()
    with transaction.atomic():
        # Lock the booking so two quick taps make one visit.
        AttendanceRecord.objects.select_for_update(of=("self",)).filter(
            session=session, patient=account.patient
        ).first()
        visit = (
            VirtualVisit.objects.for_org(account.organization_id)
            .filter(session=session, patient=account.patient, left_at__isnull=True)
            .order_by("-joined_at")
            .first()
        )
        reused = visit is not None
        if visit is None:
            visit = VirtualVisit.objects.create(
                organization_id=account.organization_id, session=session,
                patient=account.patient, joined_at=now,
            )  # fmt: skip
        audit_log(
            actor=actor, action="openiop.portal.virtual_visit.join", category=CAT, obj=visit,
            patient=account.patient, request=request,
            detail={"session": str(session.public_id), "kind": account.kind, "reused": reused},
        )  # fmt: skip
    return visit


def virtual_visit_leave(
    *, actor: Any, account: PortalAccount, session: Session, request: HttpRequest | None = None
) -> VirtualVisit | None:
    """Close the patient's open visit to ``session`` (none open: nothing to do)."""
    now = timezone.now()
    with transaction.atomic():
        visit = (
            VirtualVisit.objects.for_org(account.organization_id)
            .select_for_update(of=("self",))
            .filter(session=session, patient=account.patient, left_at__isnull=True)
            .order_by("-joined_at")
            .first()
        )
        if visit is None:
            return None
        visit.left_at = max(now, visit.joined_at)
        visit.save(update_fields=["left_at", "updated_at"])
        audit_log(
            actor=actor, action="openiop.portal.virtual_visit.leave", category=CAT, obj=visit,
            patient=account.patient, request=request,
            detail={"session": str(session.public_id), "kind": account.kind},
        )  # fmt: skip
    return visit


@portal_view("schedule")
@require_POST
def session_join(request: HttpRequest, account: PortalAccount, public_id: Any) -> HttpResponse:
    session = _my_virtual_session(account, public_id)
    if not can_join(session):
        if timezone.now() < session.starts_at:
            messages.error(
                request,
                f"You can join “{session.title}” from {JOIN_EARLY_MINUTES} minutes before it "
                "starts. Please come back closer to the start time.",
            )
        else:
            messages.error(request, f"“{session.title}” has ended; it can no longer be joined.")
        return redirect("portal:home")
    url = room_url(session)
    virtual_visit_join(actor=request.user, account=account, session=session, request=request)
    return HttpResponseRedirect(url)


@portal_view("schedule")
@require_POST
def session_leave(request: HttpRequest, account: PortalAccount, public_id: Any) -> HttpResponse:
    session = _my_virtual_session(account, public_id)
    if virtual_visit_leave(actor=request.user, account=account, session=session, request=request):
        messages.success(request, f"You have left “{session.title}”.")
    return redirect("portal:home")
