"""Sessions API: list by date, create, read with roster, cancel, book a patient.

No session selector exists yet, so the organization-scoped queries live here and always filter
on ``request.user.organization``. Date filters are site-local days: a program's 18:00 group on
4 November is "on 4 November" whatever UTC says.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm
from openiop.attendance.models import AttendanceRecord
from openiop.attendance.selectors import roster_for_session
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.core.api_auth import Day, paginate, ref, responses
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.models import AuditEvent
from openiop.enrollment.api import resolve
from openiop.enrollment.models import Episode
from openiop.organizations.api import program_for
from openiop.organizations.models import Program, Room, Site
from openiop.scheduling import services
from openiop.scheduling.models import Session
from openiop.scheduling.schemas import (
    BookingIn,
    CancelIn,
    RosterRowOut,
    SessionDetailOut,
    SessionIn,
    SessionPage,
    SessionStatus,
)

router = Router()


def sessions_for(user: Any, perm: Perm = Perm.SESSION_VIEW) -> QuerySet[Session]:
    require_perm(user, perm)
    return (
        Session.objects.for_org(user.organization)
        .select_related("program", "program__site", "room")
        .prefetch_related("facilitators")
        .annotate(booked=Count("attendance"))
    )


def session_for(user: Any, public_id: Any, perm: Perm) -> Session:
    return get_for_user_or_404(sessions_for(user, perm), user, public_id, perm)


def _local(moment: dt.datetime | None, tz: Any) -> dt.datetime | None:
    return moment.astimezone(tz) if moment is not None else None


def session_out(session: Session) -> dict[str, Any]:
    room = session.room
    return {
        "id": str(session.public_id),
        "program": ref(session.program),
        "title": session.title,
        "kind": session.kind,
        "status": session.status,
        "starts_at": session.local_start,
        "ends_at": session.local_end,
        "timezone": session.program.site.timezone,
        "duration_minutes": session.duration_minutes,
        "room": {"id": str(room.public_id), "name": room.name} if room else None,
        "is_virtual": session.is_virtual,
        "capacity": session.capacity,
        "booked": session.booked,  # type: ignore[attr-defined]  # annotated by sessions_for
        "facilitators": [ref(u) for u in session.facilitators.all()],
        "cancel_reason": session.cancel_reason,
    }


def roster_row(record: AttendanceRecord, tz: Any) -> dict[str, Any]:
    return {
        "patient": {"id": str(record.patient.public_id), "name": record.patient.display_name},
        "episode": str(record.episode.public_id),
        "status": record.status,
        "minutes_attended": record.minutes_attended,
        "checked_in_at": _local(record.checked_in_at, tz),
        "checked_out_at": _local(record.checked_out_at, tz),
        "recorded_at": _local(record.recorded_at, tz),
        "note": record.note,
    }


def session_detail(request: HttpRequest, session: Session) -> dict[str, Any]:
    roster = roster_for_session(session=session)
    audit_log_many(
        actor=request.user,
        action="openiop.scheduling.session.read",
        category=AuditEvent.Category.SCHEDULE,
        patients=[r.patient for r in roster],
        request=request,
        detail={"session": str(session.public_id)},
    )
    out = session_out(session)
    out["booked"] = len(roster)
    return {**out, "roster": [roster_row(r, session.tz) for r in roster]}


def _day_window(organization: Any, first: dt.date | None, last: dt.date | None) -> Q:
    """Sessions starting on site-local days first..last, for every site of the organization."""
    query = Q(pk__in=[])
    for site in Site.objects.for_org(organization):
        part = Q(program__site=site)
        if first is not None:
            part &= Q(starts_at__gte=dt.datetime.combine(first, dt.time(0), tzinfo=site.tz))
        if last is not None:
            end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=site.tz)
            part &= Q(starts_at__lt=end)
        query |= part
    return query


@router.get("", response=responses(SessionPage), summary="List sessions")
def list_sessions(
    request: HttpRequest,
    date_from: Annotated[Day | None, Query(description="First site-local day (YYYY-MM-DD)")] = None,
    date_to: Annotated[Day | None, Query(description="Last site-local day, inclusive")] = None,
    program: Annotated[uuid.UUID | None, Query(description="Program id")] = None,
    status: Annotated[SessionStatus | None, Query()] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    qs = sessions_for(request.user)
    if date_from and date_to and date_to < date_from:
        raise ValidationError({"date_to": "The last day must not be before the first day."})
    if program is not None:
        qs = qs.filter(program=program_for(request.user, program))
    if status:
        qs = qs.filter(status=status)
    if date_from or date_to:
        qs = qs.filter(_day_window(request.user.organization, date_from, date_to))
    count, sessions, size = paginate(qs.order_by("starts_at", "id"), limit, offset)
    return {
        "count": count,
        "limit": size,
        "offset": offset,
        "items": [session_out(s) for s in sessions],
    }


@router.post("", response=responses(SessionDetailOut, 201), summary="Schedule a session")
def create_session(request: HttpRequest, payload: SessionIn) -> Status[dict[str, Any]]:
    user = request.user
    require_perm(user, Perm.SESSION_MANAGE)
    program = resolve(
        Program.objects.select_related("site"), user, payload.program, "program", "program"
    )
    room = resolve(Room.objects.all(), user, payload.room, "room", "room")
    wanted = set(payload.facilitators)
    facilitators = list(
        User.objects.filter(
            organization_id=user.organization_id, is_active=True, public_id__in=wanted
        )
    )
    if len(facilitators) != len(wanted):
        raise ValidationError({"facilitators": "Unknown staff member."})
    session = services.session_create(
        actor=user,
        program=program,
        title=payload.title,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        kind=payload.kind,
        room=room,
        is_virtual=payload.is_virtual,
        facilitators=facilitators,
        capacity=payload.capacity,
        request=request,
    )
    return Status(
        201, session_detail(request, session_for(user, session.public_id, Perm.SESSION_VIEW))
    )


@router.get("/{session_id}", response=responses(SessionDetailOut), summary="Read with roster")
def get_session(request: HttpRequest, session_id: uuid.UUID) -> dict[str, Any]:
    return session_detail(request, session_for(request.user, session_id, Perm.SESSION_VIEW))


@router.post("/{session_id}/cancel", response=responses(SessionDetailOut), summary="Cancel")
def cancel_session(request: HttpRequest, session_id: uuid.UUID, payload: CancelIn) -> dict:
    session = session_for(request.user, session_id, Perm.SESSION_MANAGE)
    services.session_cancel(
        actor=request.user, session=session, reason=payload.reason, request=request
    )
    return session_detail(request, session_for(request.user, session_id, Perm.SESSION_VIEW))


@router.post(
    "/{session_id}/bookings",
    response={200: RosterRowOut, 201: RosterRowOut, **responses(RosterRowOut)},
    summary="Put a patient on the roster",
    description="Idempotent: booking a patient already on the roster returns the row with 200.",
)
def book_session(
    request: HttpRequest, session_id: uuid.UUID, payload: BookingIn
) -> Status[dict[str, Any]]:
    user = request.user
    session = session_for(user, session_id, Perm.SESSION_MANAGE)
    episode = resolve(
        Episode.objects.select_related("patient"), user, payload.episode, "episode", "episode"
    )
    existed = session.attendance.filter(patient_id=episode.patient_id).exists()
    record = services.session_book(actor=user, session=session, episode=episode, request=request)
    record = AttendanceRecord.objects.select_related("patient", "episode").get(pk=record.pk)
    if existed:  # no booking was written, but the answer shows who is on the roster
        audit_log(
            actor=user,
            action="openiop.scheduling.booking.read",
            category=AuditEvent.Category.SCHEDULE,
            obj=record,
            patient=record.patient,
            request=request,
        )
    return Status(200 if existed else 201, roster_row(record, session.tz))
