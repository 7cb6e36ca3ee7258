"""Request and response shapes of the episodes API."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema
from pydantic import Field

from openiop.core.api_auth import Day, In, Ref, choices
from openiop.enrollment.models import Episode, ReferralSource

EpisodeStatus = choices(Episode.Status.values)
Referral = choices(ReferralSource.values)


class PatientRef(Schema):
    id: str
    name: str
    mrn: str


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    effective_on: dt.date
    changed_at: dt.datetime
    changed_by: str | None
    reason: str


class EpisodeOut(Schema):
    id: str
    patient: PatientRef
    program: Ref
    status: str
    referral_date: dt.date | None
    referral_source: str
    admitted_on: dt.date | None
    discharged_on: dt.date | None
    discharge_reason: int | None = Field(description="TEDS-D reason code 1-7")
    discharge_note: str
    primary_substance: int | None = Field(description="TEDS substance code 1-19")
    secondary_substance: int | None
    mat: bool
    baseline_days_used_30: int | None = Field(
        description="Days of use in the 30 days before admission"
    )
    discharge_days_used_30: int | None = Field(
        description="Days of use in the 30 days before discharge"
    )
    primary_counselor: Ref | None
    transferred_from: str | None
    version: int = Field(description="Send back as `version` on discharge to detect races")


class EpisodeDetailOut(EpisodeOut):
    transferred_to: str | None
    status_history: list[StatusChangeOut]


class EpisodePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[EpisodeOut]


class EpisodeIn(In):
    patient: uuid.UUID
    program: uuid.UUID
    admitted_on: Day | None = Field(
        None, description="Leave out to put the patient on the waitlist"
    )
    referral_date: Day | None = None
    referral_source: Referral = "self"
    primary_substance: int | None = Field(None, ge=1, le=19)
    secondary_substance: int | None = Field(None, ge=1, le=19)
    mat: bool = False
    primary_counselor: uuid.UUID | None = None
    baseline_days_used_30: int | None = Field(
        None,
        ge=0,
        le=30,
        description="Days of use of any substance in the 30 days before admission",
    )


class AdmitIn(In):
    admitted_on: Day


class HoldIn(In):
    effective_on: Day
    reason: str = Field(min_length=1, max_length=300)


class ResumeIn(In):
    effective_on: Day


class TransferIn(In):
    to_program: uuid.UUID
    effective_on: Day
    reason: str = Field("", max_length=300)
    primary_counselor: uuid.UUID | None = None


class DischargeIn(In):
    discharged_on: Day
    reason: int = Field(ge=1, le=7, description="TEDS-D reason: 1 completed ... 7 other")
    note: str = Field("", max_length=5000)
    days_used_30: int | None = Field(
        None, ge=0, le=30, description="Days of use of any substance in the last 30 days"
    )
    version: int | None = Field(
        None, ge=1, le=2**31 - 1, description="The version you read, to catch races"
    )
