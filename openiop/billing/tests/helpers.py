"""Test helpers shared by the billing and the UR / discharge tests: sessions with attendance."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from openiop.attendance.models import AttendanceRecord
from openiop.enrollment.models import Episode
from openiop.enrollment.services import episode_create
from openiop.organizations.models import Program
from openiop.patients.services import patient_create
from openiop.scheduling.models import Session, SessionKind

NY = zoneinfo.ZoneInfo("America/New_York")
ATTENDED = ("present", "late", "left_early")


def attend(
    episode: Episode,
    day: dt.date,
    *,
    at: dt.time = dt.time(18, 0),
    minutes: int = 180,
    status: str = "present",
    length: int = 180,
    cancelled: bool = False,
    kind: str = SessionKind.GROUP,
) -> AttendanceRecord:
    """A session of the episode's program on ``day`` (site-local ``at``) and the patient's
    attendance at it."""
    program: Program = episode.program
    tz = program.site.tz
    starts = dt.datetime.combine(day, at, tzinfo=tz)
    session = Session.objects.create(
        organization_id=program.organization_id,
        program=program,
        kind=kind,
        title="Evening group" if kind == SessionKind.GROUP else "Individual session",
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=length),
        status=Session.Status.CANCELLED if cancelled else Session.Status.HELD,
    )
    return AttendanceRecord.objects.create(
        organization_id=program.organization_id,
        session=session,
        patient_id=episode.patient_id,
        episode=episode,
        status=status,
        minutes_attended=minutes if status in ATTENDED else 0,
    )


def second_episode(org, program, *, first="Luis", last="Ortega", admitted=dt.date(2026, 11, 2)):  # noqa: ANN001, ANN201
    patient = patient_create(
        actor=None, organization=org, first_name=first, last_name=last,
        date_of_birth=dt.date(1990, 1, 1),
    )  # fmt: skip
    return episode_create(actor=None, patient=patient, program=program, admitted_on=admitted)
