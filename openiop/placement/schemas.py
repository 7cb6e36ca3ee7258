"""Request and response shapes of the intake and placement API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, Field, StrictBool, StrictInt, field_validator

from openiop.core.api_auth import ClockTime, Day, In, Ref, choices
from openiop.enrollment.models import ReferralSource
from openiop.enrollment.schemas import PatientRef
from openiop.placement import rules
from openiop.placement.models import Referral, Urgency

ReferralStatus = choices([*Referral.Status.values, "open"])
Source = choices(ReferralSource.values)
UrgencyChoice = choices(Urgency.values)
Edition = Literal["3", "4"]
Pregnant = Literal["yes", "no", "unknown"]
CloseStatus = Literal["declined", "lost_to_contact"]


def _no_nul(value: str) -> str:
    # In's own NUL check sees only top-level strings, not the items of a list.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Word = Annotated[str, Field(min_length=1, max_length=60), AfterValidator(_no_nul)]
Rating = Annotated[StrictInt, Field(ge=0, le=4, description="0 (no need) ... 4 (highest)")]
Note = Annotated[str, Field(min_length=1, max_length=5000)]


# --- evaluate -----------------------------------------------------------------------------------


# Documentation only: the endpoint hands the raw body to ``rules.parse_assessment``, the same
# validator as the command line, so both accept and refuse exactly the same input.
class EvaluateIn(Schema):
    """One six-dimension assessment, as for ``openiop placement evaluate`` (docs/placement.md).
    Every field except ``criteria_edition`` is required; ratings are whole numbers 0-4 and risk
    facts true or false; unknown fields are refused."""

    age: int = Field(ge=0, le=120)
    d1: int = Field(ge=0, le=4)
    d2: int = Field(ge=0, le=4)
    d3: int = Field(ge=0, le=4)
    d4: int = Field(ge=0, le=4)
    d5: int = Field(ge=0, le=4)
    d6: int = Field(ge=0, le=4)
    needs_detox_now: bool
    needs_24h_supervision: bool
    toxic_home: bool
    harmful_environment: bool
    serious_co_occurring: bool
    medically_unstable: bool
    responsibilities: list[Literal["work", "school", "childcare", "family", "caregiving"]]
    substances: list[str]
    criteria_edition: Edition = "3"


class ReasonOut(Schema):
    driver: str = Field(description="The input that drove it (d1..d6, a fact, age, ...)")
    text: str


class ProgramMatchOut(Schema):
    key: str = Field(description="The program id")
    name: str
    level_of_care: str
    population: str
    modality: str
    cohort: str
    is_full: bool
    fit: list[str]


class RecommendationOut(Schema):
    level: str
    level_category: str
    population: str
    reasons: list[ReasonOut]
    variance_allowed: bool
    mat_evaluation: bool
    level_name: str
    intensity_rank: int
    guardian_required: bool
    min_weekly_hours: int | None
    criteria_edition: str
    ratings_3rd_edition: dict[str, int]
    programs: list[ProgramMatchOut]
    variance_options: list[ProgramMatchOut]
    disclaimer: str


# --- referrals ----------------------------------------------------------------------------------


class ReferralIn(In):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    received_on: Day
    date_of_birth: Day | None = None
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)
    source: Source = "self"
    urgency: UrgencyChoice = "routine"
    referrer_name: str = Field("", max_length=200)
    referrer_contact: str = Field("", max_length=200)
    reason: str = Field("", max_length=5000)
    program_requested: uuid.UUID | None = None
    patient: uuid.UUID | None = Field(None, description="An existing patient record, if any")


class ReferralOut(Schema):
    id: str
    first_name: str
    last_name: str
    display_name: str
    date_of_birth: dt.date | None
    phone: str
    email: str
    source: str
    referrer_name: str
    referrer_contact: str
    reason: str
    urgency: str
    received_on: dt.date
    status: str
    program_requested: Ref | None
    patient: PatientRef | None
    episode: str | None = Field(description="The episode id once waitlisted or admitted")
    assigned_to: Ref | None
    referred_out_to: str
    outcome_note: str
    closed_on: dt.date | None


class ReferralPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ReferralOut]


class ScreeningIn(In):
    substances: list[Word] = Field(default_factory=list, max_length=20)
    last_use_on: Day | None = None
    withdrawal_symptoms: bool = False
    withdrawal_severe: bool = False
    suicidal_ideation: bool = False
    suicide_plan_or_intent: bool = False
    homicidal_ideation: bool = False
    pregnant: Pregnant = "unknown"
    insurance: str = Field("", max_length=200)
    notes: str = Field("", max_length=5000)


class ScreeningOut(Schema):
    id: str
    screened_at: dt.datetime
    screened_by: Ref | None
    substances: list[str]
    last_use_on: dt.date | None
    withdrawal_symptoms: bool
    withdrawal_severe: bool
    suicidal_ideation: bool
    suicide_plan_or_intent: bool
    homicidal_ideation: bool
    pregnant: str
    insurance: str
    route: str = Field(description="assess | withdrawal_management | emergency | prenatal")
    route_label: str
    reasons: list[str]
    notes: str


class AssessmentIn(In):
    """Every dimension needs its rating and a justification, and every risk fact is stated (a
    missing fact is never taken as "no"). ``chosen_level`` is the clinician's choice; when it
    differs from the recommendation, ``variance_reason`` says why."""

    assessed_on: Day
    criteria_edition: Edition
    d1: Rating
    d2: Rating
    d3: Rating
    d4: Rating
    d5: Rating
    d6: Rating
    d1_note: Note
    d2_note: Note
    d3_note: Note
    d4_note: Note
    d5_note: Note
    d6_note: Note
    needs_detox_now: StrictBool
    needs_24h_supervision: StrictBool
    toxic_home: StrictBool
    harmful_environment: StrictBool
    serious_co_occurring: StrictBool
    medically_unstable: StrictBool
    age: StrictInt | None = Field(
        None, ge=0, le=120, description="Leave out to compute it from the date of birth"
    )
    responsibilities: list[Word] = Field(
        default_factory=list,
        max_length=5,
        description="Any of work, school, childcare, family, caregiving",
    )
    substances: list[Word] = Field(default_factory=list, max_length=20)
    mat_interest: StrictBool = False
    mat_eligible: StrictBool = False
    chosen_level: str = Field(
        min_length=1, max_length=8, description="A level code, e.g. 2.1, 2.5, 3.5, 3.7-WM"
    )
    chosen_program: uuid.UUID | None = None
    variance_reason: str = Field("", max_length=5000)

    @field_validator("chosen_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = rules.normalize_level(value)
        if level not in rules.LEVELS:
            raise ValueError(f"unknown level of care; use one of {', '.join(rules.LEVELS)}")
        return level


class AssessmentOut(Schema):
    id: str
    assessed_on: dt.date
    assessed_by: Ref | None
    criteria_edition: str
    age: int
    d1: int
    d2: int
    d3: int
    d4: int
    d5: int
    d6: int
    d1_note: str
    d2_note: str
    d3_note: str
    d4_note: str
    d5_note: str
    d6_note: str
    needs_detox_now: bool
    needs_24h_supervision: bool
    toxic_home: bool
    harmful_environment: bool
    serious_co_occurring: bool
    medically_unstable: bool
    responsibilities: list[str]
    substances: list[str]
    mat_interest: bool
    mat_eligible: bool
    recommended_level: str
    recommended_category: str
    recommendation: dict[str, Any] = Field(description="As POST /placement/evaluate returns it")
    chosen_level: str
    chosen_program: Ref | None
    variance: bool = Field(description="The chosen level differs from the recommendation")
    variance_reason: str
    supersedes: str | None = Field(description="The earlier assessment this one replaces")


class ReferralDetailOut(ReferralOut):
    screenings: list[ScreeningOut]
    assessments: list[AssessmentOut] = Field(description="Newest first; the first is current")


# --- seats, waitlist, admission, closing -------------------------------------------------------


class ClashOut(Schema):
    weekday: int
    start: ClockTime
    end: ClockTime
    label: str


class NextSessionOut(Schema):
    id: str
    starts_at: dt.datetime = Field(description="In the site's time zone")


class SeatOfferOut(Schema):
    id: str = Field(description="The group (session series) id; send it in `series` to admit")
    title: str
    weekdays: list[int] = Field(description="0 = Monday ... 6 = Sunday")
    start_time: ClockTime
    duration_minutes: int
    next_session: NextSessionOut | None
    free_seats: int
    fits: bool
    clashes: list[ClashOut] = Field(description="The person's weekly windows it collides with")


class SeatOffersOut(Schema):
    referral: str
    program: Ref
    from_date: dt.date
    offers: list[SeatOfferOut] = Field(description="Fitting groups first")


class ProgramIn(In):
    program: uuid.UUID


class ReferralAdmitIn(In):
    program: uuid.UUID
    admitted_on: Day
    consent_signed_by: str = Field(min_length=1, max_length=200)
    guardian_signed_by: str = Field("", max_length=200, description="Required for a minor")
    series: list[uuid.UUID] = Field(
        default_factory=list, max_length=20, description="Groups to book from the admission day"
    )
    primary_counselor: uuid.UUID | None = None
    primary_substance: int | None = Field(None, ge=1, le=19, description="TEDS code 1-19")
    mat: bool = False


class AdmitOut(Schema):
    referral: str
    status: str
    episode: str
    patient: PatientRef
    program: Ref
    booked: int = Field(description="Group sessions booked by this admission")


class ReferOutIn(In):
    to: str = Field(min_length=1, max_length=200, description="Where the person was referred")
    note: str = Field("", max_length=5000)


class CloseIn(In):
    status: CloseStatus
    note: str = Field(min_length=1, max_length=5000)


class WaitingOut(Schema):
    position: int
    episode: str
    referral: str | None
    patient: PatientRef
    urgency: str | None
    waiting_since: dt.date


class OpenGroupOut(Schema):
    id: str
    title: str
    weekdays: list[int]
    start_time: ClockTime
    duration_minutes: int
    next_session: NextSessionOut | None
    free_seats: int
    first_fit: WaitingOut | None = Field(description="The first waiting person it fits")


class WaitlistOut(Schema):
    program: Ref
    waiting: list[WaitingOut] = Field(description="In offer order: urgency, then date")
    open_groups: list[OpenGroupOut] = Field(description="Groups with a free seat")
