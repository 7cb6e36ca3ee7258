"""Request and response shapes of the questionnaires API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from ninja import Schema
from pydantic import Field, StrictInt

from openiop.core.api_auth import In, Moment, Ref, choices
from openiop.enrollment.schemas import PatientRef  # one component name in the OpenAPI
from openiop.questionnaires.instruments import registry

InstrumentKey = choices(list(registry.KEYS))


class AlertBrief(Schema):
    id: str
    kind: str
    kind_label: str
    raised_at: dt.datetime
    assigned_to: Ref | None
    open: bool


class ResponseOut(Schema):
    id: str
    patient: PatientRef
    episode: str | None = Field(description="Episode id, if the response belongs to one.")
    instrument: str
    instrument_version: str
    answers: dict[str, int] = Field(description="Answer codes keyed by item linkId.")
    total: int | None
    severity: str | None
    flags: list[str]
    positive: bool | None
    subscales: dict[str, int]
    administered_at: dt.datetime
    administered_by: Ref | None
    source: str
    alerts: list[AlertBrief]


class ResponsePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ResponseOut]


class ResponseIn(In):
    instrument: InstrumentKey  # type: ignore[valid-type]
    answers: list[StrictInt] | dict[str, StrictInt] = Field(
        description=(
            "Answer codes in the instrument's published coding: a list in item order, or an "
            "object keyed by item linkId. Reverse scoring is applied by the server."
        ),
    )
    sex: Literal["male", "female"] | None = Field(
        None, description="For sex-specific cut-offs (AUDIT-C); default: the patient's record."
    )
    administered_at: Moment | None = Field(None, description="Default: now.")
    episode: uuid.UUID | None = Field(None, description="Default: the patient's open episode.")


class AlertOut(Schema):
    id: str
    kind: str
    kind_label: str
    patient: PatientRef
    episode: str | None
    response: str
    instrument: str
    raised_at: dt.datetime
    assigned_to: Ref | None
    open: bool
    followed_up_at: dt.datetime | None
    followed_up_by: Ref | None
    follow_up_note: str


class AlertPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AlertOut]


class FollowUpIn(In):
    note: str = Field(min_length=1, max_length=4000, description="Who, what was assessed, done.")
