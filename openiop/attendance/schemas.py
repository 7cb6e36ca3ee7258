"""Request and response shapes of the attendance and compliance API."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema
from pydantic import Field

from openiop.attendance.models import AttendanceRecord
from openiop.core.api_auth import In, Moment, Ref, choices

RecordedStatus = choices([s for s in AttendanceRecord.Status.values if s != "expected"])


class EntryIn(In):
    patient: uuid.UUID
    status: RecordedStatus
    minutes_attended: int | None = Field(
        None, ge=0, le=24 * 60, description="Default: from check-in/out times, or the whole session"
    )
    checked_in_at: Moment | None = None
    checked_out_at: Moment | None = None
    note: str = Field("", max_length=300)


class AttendanceIn(In):
    entries: list[EntryIn] = Field(min_length=1, max_length=200)


class RecordOut(Schema):
    patient: Ref
    episode: str
    status: str
    minutes_attended: int | None
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    recorded_at: dt.datetime | None
    note: str
    changed: bool = Field(description="False when this entry was already recorded exactly so")


class AttendanceOut(Schema):
    session: str
    session_status: str
    records: list[RecordOut]


class ComplianceRowOut(Schema):
    patient: Ref
    episode: str
    episode_status: str
    minutes_attended: int
    days_attended: int
    minutes_remaining: int
    days_possible: int
    required_minutes: int
    required_days: int
    status: str = Field(description="met, on_track, at_risk, below or exempt")
    over_max: bool
    prorated: bool
    reason: str


class ComplianceOut(Schema):
    week: dt.date
    program: Ref
    weekly_min_minutes: int
    weekly_max_minutes: int
    min_days_per_week: int
    rows: list[ComplianceRowOut]
