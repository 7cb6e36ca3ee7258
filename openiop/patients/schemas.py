"""Request and response shapes of the patients API."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from openiop.core.api_auth import ClockTime, Day, In, Ref, WallTime, choices
from openiop.patients.models import Patient, UnavailableWindow

Sex = choices(Patient.Sex.values)
WindowKind = choices(UnavailableWindow.Kind.values)


class OpenEpisodeOut(Schema):
    id: str
    program: Ref
    status: str


class PatientOut(Schema):
    id: str
    mrn: str
    first_name: str
    last_name: str
    preferred_name: str
    display_name: str
    date_of_birth: dt.date
    sex: str
    phone: str
    email: str
    address: str
    preferred_language: str
    emergency_contact_name: str
    emergency_contact_phone: str
    emergency_contact_relationship: str
    open_episodes: list[OpenEpisodeOut]


class PatientPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PatientOut]


class PatientIn(In):
    mrn: str = Field("", max_length=32, description="Leave empty to have one assigned.")
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    preferred_name: str = Field("", max_length=100)
    date_of_birth: Day
    sex: Sex = "unknown"
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)
    address: str = Field("", max_length=300)
    preferred_language: str = Field("English", min_length=1, max_length=40)
    emergency_contact_name: str = Field("", max_length=200)
    emergency_contact_phone: str = Field("", max_length=32)
    emergency_contact_relationship: str = Field("", max_length=60)


class PatientPatch(In):
    """Only the fields sent are changed. The MRN and the organization cannot be changed."""

    first_name: str = Field(None, min_length=1, max_length=100)
    last_name: str = Field(None, min_length=1, max_length=100)
    preferred_name: str = Field(None, max_length=100)
    date_of_birth: Day = None  # type: ignore[assignment]
    sex: Sex = None
    phone: str = Field(None, max_length=32)
    email: str = Field(None, max_length=254)
    address: str = Field(None, max_length=300)
    preferred_language: str = Field(None, min_length=1, max_length=40)
    emergency_contact_name: str = Field(None, max_length=200)
    emergency_contact_phone: str = Field(None, max_length=32)
    emergency_contact_relationship: str = Field(None, max_length=60)


class WindowIn(In):
    weekday: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")
    start_time: WallTime = Field(description="Site-local wall time, HH:MM")
    end_time: WallTime
    kind: WindowKind = "work"
    note: str = Field("", max_length=200)


class WindowOut(Schema):
    id: str
    weekday: int
    weekday_name: str
    start_time: ClockTime
    end_time: ClockTime
    kind: str
    note: str
