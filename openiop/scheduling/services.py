"""Sessions: create one, create a weekly series, cancel, and book patients into them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from openiop.attendance.models import AttendanceRecord
from openiop.core.actors import user_or_none as _user
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program, Room
from openiop.scheduling.models import Session, SessionKind, SessionSeries

CAT = AuditEvent.Category.SCHEDULE


def local_datetime(day: dt.date, at: dt.time, tz: Any) -> dt.datetime:
    """Site-local wall time -> aware datetime. A wall time skipped by a DST jump (02:30 on a
    spring-forward night) resolves forward, as a clock on the wall would read it."""
    naive = dt.datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz)
    roundtrip = aware.astimezone(dt.UTC).astimezone(tz)
    if roundtrip.replace(tzinfo=None) != naive:  # nonexistent local time
        aware = roundtrip
    return aware


def _validate(
    *,
    program: Program,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    room: Room | None,
    is_virtual: bool,
    capacity: int,
    facilitators: Sequence[Any],
    exclude_series: SessionSeries | None = None,
) -> None:
    errors: dict[str, str] = {}
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationError({"starts_at": "Times must include a time zone."})
    if ends_at <= starts_at:
        errors["ends_at"] = "The session must end after it starts."
    elif ends_at - starts_at > dt.timedelta(hours=8):
        errors["ends_at"] = "A session cannot be longer than 8 hours."
    if capacity < 1:
        errors["capacity"] = "Capacity must be at least 1."
    elif capacity > program.group_size_cap:
        errors["capacity"] = f"{program} allows at most {program.group_size_cap} people in a group."
    if is_virtual and room is not None:
        errors["room"] = "A virtual session has no room."
    if room is not None:
        if room.organization_id != program.organization_id:
            errors["room"] = "Unknown room."
        elif room.site_id != program.site_id:
            errors["room"] = f"{room} is not at {program.site}."
        elif capacity > room.capacity:
            errors["capacity"] = f"{room} holds {room.capacity}; capacity cannot be {capacity}."
        elif "ends_at" not in errors:
            clash = (
                Session.objects.for_org(program.organization)
                .not_cancelled()
                .filter(room=room, starts_at__lt=ends_at, ends_at__gt=starts_at)
            )
            if exclude_series is not None:
                clash = clash.exclude(series=exclude_series)
            first = clash.first()
            if first is not None:
                errors["room"] = f"{room} is booked for {first.title} at that time."
    for person in facilitators:
        if person.organization_id != program.organization_id:
            errors["facilitators"] = "Unknown staff member."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def session_create(
    *,
    actor: Any,
    program: Program,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    kind: str = SessionKind.GROUP,
    room: Room | None = None,
    is_virtual: bool = False,
    facilitators: Sequence[Any] = (),
    capacity: int | None = None,
    request: HttpRequest | None = None,
) -> Session:
    capacity = program.group_size_cap if capacity is None else capacity
    if kind not in SessionKind.values:
        raise ValidationError({"kind": f"Unknown session kind {kind!r}."})
    _validate(
        program=program,
        starts_at=starts_at,
        ends_at=ends_at,
        room=room,
        is_virtual=is_virtual,
        capacity=capacity,
        facilitators=facilitators,
    )
    session = Session(
        organization_id=program.organization_id,
        program=program,
        kind=kind,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        room=room,
        is_virtual=is_virtual,
        capacity=capacity,
        created_by=_user(actor),
    )
    session.full_clean(exclude=["organization", "program", "room", "created_by", "updated_by"])
    session.save()
    session.facilitators.set(facilitators)
    audit_log(
        actor=actor,
        action="openiop.scheduling.session.create",
        category=CAT,
        obj=session,
        request=request,
    )
    return session


@transaction.atomic
def series_create(
    *,
    actor: Any,
    program: Program,
    title: str,
    weekdays: Sequence[int],
    start_time: dt.time,
    duration_minutes: int,
    start_date: dt.date,
    end_date: dt.date,
    kind: str = SessionKind.GROUP,
    room: Room | None = None,
    is_virtual: bool = False,
    facilitators: Sequence[Any] = (),
    capacity: int | None = None,
    request: HttpRequest | None = None,
) -> SessionSeries:
    """A recurring weekly pattern (like an RRULE ``FREQ=WEEKLY;BYDAY=...``) over a date range,
    materialized as one Session per occurrence in the site's local time, so 18:00 stays 18:00
    across a daylight-saving change."""
    capacity = program.group_size_cap if capacity is None else capacity
    days = sorted(set(weekdays))
    errors: dict[str, str] = {}
    if kind not in SessionKind.values:
        errors["kind"] = f"Unknown session kind {kind!r}."
    if not days or any(d < 0 or d > 6 for d in days):
        errors["weekdays"] = "Choose at least one weekday (0=Monday ... 6=Sunday)."
    if end_date < start_date:
        errors["end_date"] = "The series must end on or after its first day."
    elif (end_date - start_date).days > 366:
        errors["end_date"] = "A series can cover at most one year."
    if duration_minutes < 1:
        errors["duration_minutes"] = "Duration must be at least one minute."
    if errors:
        raise ValidationError(errors)
    series = SessionSeries.objects.create(
        organization_id=program.organization_id,
        program=program,
        kind=kind,
        title=title,
        weekdays=",".join(str(d) for d in days),
        start_time=start_time,
        duration_minutes=duration_minutes,
        room=room,
        is_virtual=is_virtual,
        capacity=capacity,
        start_date=start_date,
        end_date=end_date,
        created_by=_user(actor),
    )
    series.facilitators.set(facilitators)
    tz = program.site.tz
    day = start_date
    count = 0
    while day <= end_date:
        if day.weekday() in days:
            starts_at = local_datetime(day, start_time, tz)
            ends_at = starts_at + dt.timedelta(minutes=duration_minutes)
            _validate(
                program=program,
                starts_at=starts_at,
                ends_at=ends_at,
                room=room,
                is_virtual=is_virtual,
                capacity=capacity,
                facilitators=facilitators,
                exclude_series=series,
            )
            session = Session.objects.create(
                organization_id=program.organization_id,
                program=program,
                series=series,
                kind=kind,
                title=title,
                starts_at=starts_at,
                ends_at=ends_at,
                room=room,
                is_virtual=is_virtual,
                capacity=capacity,
                created_by=_user(actor),
            )
            session.facilitators.set(facilitators)
            count += 1
        day += dt.timedelta(days=1)
    if count == 0:
        raise ValidationError({"weekdays": "No session falls on those weekdays in that range."})
    audit_log(
        actor=actor,
        action="openiop.scheduling.series.create",
        category=CAT,
        obj=series,
        request=request,
        detail={"sessions": count},
    )
    return series


@transaction.atomic
def session_cancel(
    *, actor: Any, session: Session, reason: str, request: HttpRequest | None = None
) -> Session:
    if session.status == Session.Status.CANCELLED:
        return session
    if not reason.strip():
        raise ValidationError({"reason": "Say why the session is cancelled."})
    if session.attendance.exclude(status=AttendanceRecord.Status.EXPECTED).exists():
        raise ValidationError({"status": "Attendance was already taken; the session was held."})
    session.status = Session.Status.CANCELLED
    session.cancel_reason = reason
    session.updated_by = _user(actor)
    session.save(update_fields=["status", "cancel_reason", "updated_by", "updated_at"])
    audit_log(
        actor=actor,
        action="openiop.scheduling.session.cancel",
        category=CAT,
        obj=session,
        request=request,
        detail={"reason": reason},
    )
    return session


def _book(session: Session, episode: Episode, actor: Any) -> AttendanceRecord | None:
    if session.attendance.filter(patient_id=episode.patient_id).exists():
        return None
    return AttendanceRecord.objects.create(
        organization_id=session.organization_id,
        session=session,
        patient_id=episode.patient_id,
        episode=episode,
        created_by=_user(actor),
    )


def _check_bookable(session: Session, episode: Episode) -> None:
    if episode.organization_id != session.organization_id:
        raise ValidationError({"episode": "Unknown episode."})
    if not episode.is_open or episode.status == Episode.Status.WAITLISTED:
        raise ValidationError({"episode": "Only admitted patients can be booked into sessions."})
    if episode.program_id != session.program_id:
        raise ValidationError({"episode": f"The patient is not enrolled in {session.program}."})
    if session.status == Session.Status.CANCELLED:
        raise ValidationError({"session": "The session is cancelled."})
    day = session.local_start.date()
    if episode.admitted_on and day < episode.admitted_on:
        raise ValidationError({"episode": "The session is before the patient's admission."})


@transaction.atomic
def session_book(
    *, actor: Any, session: Session, episode: Episode, request: HttpRequest | None = None
) -> AttendanceRecord:
    """Put a patient on a session's roster (an EXPECTED attendance row). Idempotent.

    The session row is locked first so two coordinators booking the last seat at once cannot
    both get it (PostgreSQL; SQLite's IMMEDIATE transactions already serialize writers)."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    _check_bookable(session, episode)
    existing = session.attendance.filter(patient_id=episode.patient_id).first()
    if existing is not None:
        return existing
    if session.attendance.count() >= session.capacity:
        raise ValidationError({"session": f"The session is full ({session.capacity})."})
    record = _book(session, episode, actor)
    assert record is not None
    audit_log(
        actor=actor,
        action="openiop.scheduling.booking.create",
        category=CAT,
        obj=record,
        patient=episode.patient,
        request=request,
    )
    return record


@transaction.atomic
def series_enroll(
    *,
    actor: Any,
    series: SessionSeries,
    episode: Episode,
    from_date: dt.date,
    request: HttpRequest | None = None,
) -> int:
    """Book the patient into every not-cancelled session of the series from ``from_date`` on.
    Sessions already full are skipped and reported in the audit detail."""
    booked = 0
    full: list[str] = []
    tz = series.program.site.tz
    cutoff = dt.datetime.combine(from_date, dt.time(0), tzinfo=tz)
    sessions = series.sessions.not_cancelled().filter(starts_at__gte=cutoff)
    for session in sessions:
        _check_bookable(session, episode)
        if session.attendance.count() >= session.capacity:
            full.append(session.starts_at.isoformat())
            continue
        if _book(session, episode, actor) is not None:
            booked += 1
    audit_log(
        actor=actor,
        action="openiop.scheduling.booking.enroll",
        category=CAT,
        obj=series,
        patient=episode.patient,
        request=request,
        detail={"booked": booked, "full": full},
    )
    return booked
