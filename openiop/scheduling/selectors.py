"""Reads for sessions: the week view and who can still be booked into a session."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q, QuerySet

from openiop.attendance.models import AttendanceRecord
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program
from openiop.scheduling.models import Session

# Widest UTC offsets on Earth: a window that surely contains every site's local week.
_EAST, _WEST = dt.timedelta(hours=14), dt.timedelta(hours=12)


def session_list_for_week(
    *, organization_id: int, week: dt.date, program: Program | None = None
) -> dict[dt.date, list[Session]]:
    """Sessions whose *local* date (in their own site's zone) falls in the week, by day, with
    ``booked`` and ``recorded`` counts. Sites may be in different zones, so the database window
    is widened by the largest UTC offsets and each session is placed by its own local date."""
    lo = dt.datetime.combine(week, dt.time(0), tzinfo=dt.UTC) - _EAST
    hi = dt.datetime.combine(week + dt.timedelta(days=7), dt.time(0), tzinfo=dt.UTC) + _WEST
    expected = Q(attendance__status=AttendanceRecord.Status.EXPECTED)
    qs = (
        Session.objects.select_related("program", "program__site", "room")
        .filter(organization_id=organization_id, starts_at__gte=lo, starts_at__lt=hi)
        .prefetch_related("facilitators")
        .annotate(booked=Count("attendance"), recorded=Count("attendance", filter=~expected))
        .order_by("starts_at")
    )
    if program is not None:
        qs = qs.filter(program=program)
    days: dict[dt.date, list[Session]] = defaultdict(list)
    for session in qs:
        day = session.local_start.date()
        if week <= day < week + dt.timedelta(days=7):
            days[day].append(session)
    return days


def booking_candidates(*, session: Session, roster: list[AttendanceRecord]) -> QuerySet[Episode]:
    """The program's admitted (not waitlisted, not discharged) episodes not on the roster yet."""
    on_roster = [r.patient_id for r in roster]
    return (
        Episode.objects.for_org(session.organization_id)
        .filter(program_id=session.program_id).open().exclude(status=Episode.Status.WAITLISTED)
        .exclude(patient_id__in=on_roster).select_related("patient")
        .order_by("patient__last_name", "patient__first_name")
    )  # fmt: skip
