"""What a portal page shows. Everything is read through the account's own patient."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from openiop.attendance.compliance import WeekResult
from openiop.attendance.models import AttendanceRecord
from openiop.attendance.selectors import compliance_for_episode
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.portal.models import PortalAccount
from openiop.scheduling.models import Session

CAT = AuditEvent.Category.CLINICAL
UPCOMING_DAYS = 14


@dataclass(frozen=True)
class UpcomingSession:
    record: AttendanceRecord
    session: Session
    starts_local: dt.datetime
    ends_local: dt.datetime
    tz_name: str


@dataclass(frozen=True)
class MyWeek:
    episode: Episode | None
    upcoming: list[UpcomingSession]
    this_week: WeekResult | None
    minimum_hours: Any


def open_episode(account: PortalAccount) -> Episode | None:
    return (
        Episode.objects.for_org(account.organization_id)
        .filter(patient=account.patient)
        .exclude(status__in=[Episode.Status.DISCHARGED, Episode.Status.WAITLISTED])
        .select_related("program", "program__site")
        .order_by("-admitted_on")
        .first()
    )


def my_week(
    account: PortalAccount, *, request: HttpRequest | None = None, now: dt.datetime | None = None
) -> MyWeek:
    """The patient's booked sessions for the next two weeks, in the program site's time zone,
    and this week's hours against the program minimum. One audit row."""
    now = now or timezone.now()
    episode = open_episode(account)
    records = list(
        AttendanceRecord.objects.for_org(account.organization_id)
        .filter(
            patient=account.patient,
            session__ends_at__gte=now,
            session__starts_at__lt=now + dt.timedelta(days=UPCOMING_DAYS),
        )
        .exclude(session__status=Session.Status.CANCELLED)
        .select_related("session", "session__program__site", "session__room")
        .order_by("session__starts_at")
    )
    upcoming = []
    for record in records:
        tz = record.session.program.site.tz
        upcoming.append(
            UpcomingSession(
                record=record,
                session=record.session,
                starts_local=record.session.starts_at.astimezone(tz),
                ends_local=record.session.ends_at.astimezone(tz),
                tz_name=str(tz),
            )  # fmt: skip
        )
    week = None
    if episode is not None:
        weeks = compliance_for_episode(episode=episode, now=now, max_weeks=1)
        week = weeks[-1] if weeks else None
    audit_log(
        actor=account.user, action="openiop.portal.week.read", category=CAT,
        obj=account.patient, patient=account.patient, request=request,
    )  # fmt: skip
    return MyWeek(
        episode=episode, upcoming=upcoming, this_week=week,
        minimum_hours=episode.program.weekly_min_hours if episode else None,
    )  # fmt: skip
