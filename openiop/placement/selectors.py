"""Intake reads: referrals, open seats that fit a patient's week, the waitlist in order, and the
time from referral to assessment and to the first session."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Min, Q, QuerySet, Value, When

from openiop.accounts.permissions import Perm
from openiop.attendance.models import AttendanceRecord
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program
from openiop.patients.models import Patient
from openiop.placement.models import URGENCY_ORDER, Assessment, Referral, ReferralQuerySet
from openiop.scheduling.availability import Window, conflicts
from openiop.scheduling.models import Session, SessionSeries


def referral_list(*, user: Any, status: str = "", search: str = "") -> ReferralQuerySet:
    require_perm(user, Perm.REFERRAL_VIEW)
    qs = Referral.objects.for_org(user.organization_id).select_related(
        "program_requested", "patient", "episode__program", "assigned_to"
    )
    if status == "open":
        qs = qs.open()
    elif status:
        qs = qs.filter(status=status)
    for word in search.split():
        qs = qs.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    return qs


def referral_get(*, user: Any, public_id: Any, perm: Perm = Perm.REFERRAL_VIEW) -> Referral:
    qs = Referral.objects.select_related("patient", "program_requested", "episode__program")
    return get_for_user_or_404(qs, user, public_id, perm)


def patient_windows(patient: Patient | None) -> list[Window]:
    if patient is None:
        return []
    return [
        Window(w.weekday, w.start_time, w.end_time, w.get_kind_display())
        for w in patient.unavailable_windows.all()
    ]


@dataclass(frozen=True)
class SeatOffer:
    series: SessionSeries
    next_session: Session | None
    free_seats: int
    clashes: tuple[Window, ...] = field(default=())

    @property
    def fits(self) -> bool:
        return not self.clashes and self.free_seats > 0 and self.next_session is not None


def seat_offers(
    *, program: Program, windows: Iterable[Window], from_date: dt.date
) -> list[SeatOffer]:
    """Every group of the program that still meets on or after ``from_date``, with its free seats
    at the next meeting and the patient's windows it collides with; fitting groups first."""
    windows = list(windows)
    tz = program.site.tz
    start = dt.datetime.combine(from_date, dt.time(0), tzinfo=tz)
    offers: list[SeatOffer] = []
    groups = (
        SessionSeries.objects.for_org(program.organization_id)
        .filter(program=program, end_date__gte=from_date)
        .order_by("start_time", "title")
    )
    for group in groups:
        upcoming = (
            group.sessions.not_cancelled()
            .filter(starts_at__gte=start)
            .annotate(booked=Count("attendance"))
            .order_by("starts_at")
            .first()
        )
        free = max(0, upcoming.capacity - upcoming.booked) if upcoming is not None else 0
        clashes = conflicts(group.weekday_list, group.start_time, group.duration_minutes, windows)
        offers.append(SeatOffer(group, upcoming, free, tuple(clashes)))
    offers.sort(key=lambda o: (not o.fits, o.series.start_time))
    return offers


def _urgency_rank() -> Case:
    return Case(
        *[When(referral__urgency=u, then=Value(rank)) for u, rank in URGENCY_ORDER.items()],
        default=Value(9),
        output_field=IntegerField(),
    )


def waitlist_for_program(*, program: Program) -> QuerySet[Episode]:
    """Waiting patients in the order seats are offered: most urgent first, then longest waiting."""
    return (
        Episode.objects.for_org(program.organization_id)
        .filter(program=program, status=Episode.Status.WAITLISTED)
        .select_related("patient", "referral")
        .prefetch_related("patient__unavailable_windows")
        .annotate(urgency_rank=_urgency_rank())
        .order_by("urgency_rank", "referral_date", "created_at")
    )


def waitlist_first_fit(
    *, series: SessionSeries, waiting: Iterable[Episode] | None = None
) -> Episode | None:
    """The first waiting patient (in waitlist order) whose week the group fits. Pass the already
    loaded waitlist as ``waiting`` to check several groups without querying again."""
    if waiting is None:
        waiting = waitlist_for_program(program=series.program)
    for episode in waiting:
        windows = patient_windows(episode.patient)
        if not conflicts(series.weekday_list, series.start_time, series.duration_minutes, windows):
            return episode
    return None


def assessment_variances(
    *, organization_id: int, start: dt.date, end: dt.date
) -> QuerySet[Assessment]:
    """Assessments in [start, end] whose chosen level differs from the recommendation: the
    variance list a program director and an auditor review."""
    return (
        Assessment.objects.for_org(organization_id)
        .filter(assessed_on__gte=start, assessed_on__lte=end)
        .exclude(chosen_level=F("recommended_level"))
        .select_related("referral", "patient", "chosen_program", "assessed_by")
        .order_by("-assessed_on", "-created_at")
    )


@dataclass(frozen=True)
class IntakeTimes:
    program: Program
    referrals: int
    assessed: int
    admitted: int
    median_days_to_assessment: float | None
    median_days_to_first_session: float | None


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def intake_times(*, user: Any, start: dt.date, end: dt.date) -> list[IntakeTimes]:
    """Per program, for referrals received in [start, end]: how many, how long (median days) from
    referral to the first assessment and to the first attended session."""
    require_perm(user, Perm.REFERRAL_VIEW)
    referrals = list(
        Referral.objects.for_org(user.organization_id)
        .filter(received_on__gte=start, received_on__lte=end)
        .annotate(first_assessed=Min("assessments__assessed_on"))
        .select_related("episode", "program_requested")
    )
    episode_ids = [r.episode_id for r in referrals if r.episode_id]
    first_session = {
        row["episode_id"]: row["first"]
        for row in AttendanceRecord.objects.filter(
            episode_id__in=episode_ids, status__in=AttendanceRecord.ATTENDED
        )
        .values("episode_id")
        .annotate(first=Min("session__starts_at"))
    }
    programs = list(Program.objects.for_org(user.organization_id).select_related("site"))
    by_program: dict[int, list[Referral]] = {p.pk: [] for p in programs}
    for referral in referrals:
        program_id = (
            referral.episode.program_id if referral.episode else referral.program_requested_id
        )
        if program_id in by_program:
            by_program[program_id].append(referral)
    rows = []
    for program in programs:
        items = by_program[program.pk]
        to_assess = [(r.first_assessed - r.received_on).days for r in items if r.first_assessed]
        to_session = []
        for r in items:
            first = first_session.get(r.episode_id)
            if first is not None:
                to_session.append((first.astimezone(program.site.tz).date() - r.received_on).days)
        rows.append(
            IntakeTimes(
                program=program,
                referrals=len(items),
                assessed=len(to_assess),
                admitted=sum(1 for r in items if r.status == Referral.Status.ADMITTED),
                median_days_to_assessment=_median(to_assess),
                median_days_to_first_session=_median(to_session),
            )
        )
    return rows
