"""Response shapes of the programs API (programs are configured in the admin, not via the API)."""

from __future__ import annotations

from ninja import Schema

from openiop.core.api_auth import Ref


class Census(Schema):
    waitlisted: int
    admitted: int
    active: int
    on_hold: int


class ProgramOut(Schema):
    id: str
    name: str
    site: Ref
    timezone: str
    level_of_care: str
    population: str
    min_age: int
    max_age: int | None
    modality: str
    cohort: str
    weekly_min_hours: float
    weekly_max_hours: float
    min_days_per_week: int
    typical_session_minutes: int
    typical_length_weeks: int
    group_size_cap: int
    is_active: bool
    census: Census


class ProgramPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ProgramOut]
