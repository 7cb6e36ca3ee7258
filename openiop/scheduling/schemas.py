"""Request and response shapes of the sessions API. Datetimes carry the site's UTC offset."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema
from pydantic import Field

from openiop.core.api_auth import In, Moment, Ref, choices
from openiop.scheduling.models import Session, SessionKind

Kind = choices(SessionKind.values)
SessionStatus = choices(Session.Status.values)


class RosterRowOut(Schema):
    patient: Ref
    episode: str
    status: str
    minutes_attended: int | None
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    recorded_at: dt.datetime | None
    note: str


class SessionOut(Schema):
    id: str
    program: Ref
    title: str
    kind: str
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    timezone: str
    duration_minutes: int
    room: Ref | None
    is_virtual: bool
    capacity: int
    booked: int = Field(description="Patients on the roster")
    facilitators: list[Ref]
    cancel_reason: str


class SessionDetailOut(SessionOut):
    roster: list[RosterRowOut]


class SessionPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[SessionOut]


class SessionIn(In):
    program: uuid.UUID
    title: str = Field(min_length=1, max_length=200)
    kind: Kind = "group"
    starts_at: Moment
    ends_at: Moment
    room: uuid.UUID | None = None
    is_virtual: bool = False
    facilitators: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    capacity: int | None = Field(None, ge=1, le=1000, description="Default: the group size cap")


class CancelIn(In):
    reason: str = Field(min_length=1, max_length=200)


class BookingIn(In):
    episode: uuid.UUID
