"""The utilization-review packet: one episode, one date range, assembled from the record.

A payer's reviewer spends minutes per case (domain.md §5.3), so the packet maps the patient's
current picture to the criteria in a fixed order: who and what is authorized, the six-dimension
placement, attendance and weekly hours, plan progress, signed services, drug screens,
questionnaire trends, and the clinician's summary. It is assembled each time from the data, so
it always matches the record (``UtilizationReview`` keeps only the period, the summary and the
payer's answer).

What it never contains: SUD counseling notes (42 CFR 2.11). They are kept apart from the rest of
the record and never leave their author, so the note query excludes the kind outright (a test
proves it). Notes appear as dates, kinds and durations only: no note text leaves in a packet.

Reading the packet is one audited read (``openiop.clinical.ur_packet.<verb>``). The drug-screen
and questionnaire sections come from their apps' selectors, which need ``Perm.NOTE_VIEW`` and
audit their own reads; for a role without it (billing) or the command line they are marked as
not included rather than silently empty.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.attendance.compliance import (
    EpisodeWeek,
    Occurrence,
    WeeklyHours,
    WeekResult,
    local_week_bounds,
    week_start_for,
)
from openiop.attendance.models import AttendanceRecord
from openiop.attendance.selectors import rule_for
from openiop.billing.selectors import Usage, authorization_in_force
from openiop.clinical.models import (
    Note,
    ObjectiveProgress,
    PlanGoal,
    PlanObjective,
    PlanProblem,
    TreatmentPlan,
    UtilizationReview,
)
from openiop.core.access import require_perm
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.enrollment.selectors import hold_days
from openiop.placement import rules as placement_rules
from openiop.placement.models import Assessment
from openiop.reports.charts_hours import STATUS_LABELS, bars_from_results, hours, weekly_hours_svg
from openiop.scheduling.models import Session

CAT = AuditEvent.Category.CLINICAL
MAX_DAYS = 366

# 42 CFR 2.32 notice that must accompany a disclosure of Part 2 records (domain.md §6.1): the
# long form, which includes the short-form sentence. The 2024 rule's verbatim wording is marked
# unverified in the domain notes; keep this text in step with the consent app when it exists.
REDISCLOSURE_NOTICE = (
    "42 CFR part 2 prohibits unauthorized use or disclosure of these records. This information "
    "has been disclosed to you from records protected by federal confidentiality rules "
    "(42 CFR part 2). These records, and testimony relaying their content, may not be used or "
    "disclosed in any civil, criminal, administrative or legislative proceeding against the "
    "patient without the patient's written consent or a court order. A general authorization "
    "for the release of medical or other information is NOT sufficient for this purpose. A "
    "recipient holding these records under a treatment, payment and health care operations "
    "consent may redisclose them only as HIPAA permits and never for use against the patient."
)

LATEST = "latest"


# --- the packet --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionRow:
    number: int
    name: str
    rating: int
    justification: str


@dataclass(frozen=True)
class PlacementSection:
    assessment: Assessment
    edition_label: str
    dimensions: tuple[DimensionRow, ...]
    recommended_level: str
    chosen_level: str
    variance_reason: str


@dataclass(frozen=True)
class WeekRow:
    week_start: dt.date
    week_end: dt.date
    attended_hours: str
    required_hours: str
    days_attended: int
    required_days: int
    status: str
    status_label: str
    reason: str
    prorated: bool


@dataclass(frozen=True)
class AttendanceSection:
    sessions_attended: int
    sessions_missed: int  # absent
    sessions_excused: int
    days_attended: int
    minutes_attended: int
    weeks: tuple[WeekRow, ...]
    chart_svg: str

    @property
    def hours_attended(self) -> str:
        return hours(self.minutes_attended)


@dataclass(frozen=True)
class ObjectiveRow:
    objective: PlanObjective
    rating: str  # "" when never reviewed
    rating_label: str
    reviewed_on: dt.date | None
    comment: str


@dataclass(frozen=True)
class GoalRow:
    goal: PlanGoal
    objectives: tuple[ObjectiveRow, ...]


@dataclass(frozen=True)
class ProblemRow:
    problem: PlanProblem
    goals: tuple[GoalRow, ...]


@dataclass(frozen=True)
class PlanSection:
    plan: TreatmentPlan
    problems: tuple[ProblemRow, ...]
    last_reviewed_on: dt.date | None


@dataclass(frozen=True)
class NoteRow:
    on: dt.date
    kind: str
    kind_label: str
    minutes: int | None
    modality_label: str
    author: str


@dataclass(frozen=True)
class OptionalSection:
    """A section another app provides. ``state`` is "shown", "none" (nothing recorded),
    "restricted" (the reader's role may not read it) or "unavailable" (the app is missing)."""

    state: str
    data: Any = None
    message: str = ""


@dataclass
class URPacket:
    episode: Episode
    start: dt.date
    end: dt.date
    generated_at: dt.datetime
    authorization: Usage | None
    placement: PlacementSection | None
    attendance: AttendanceSection
    plan: PlanSection | None
    notes: list[NoteRow]
    notes_by_kind: list[tuple[str, int, str]]  # (kind label, count, hours)
    drug_screens: OptionalSection
    questionnaires: OptionalSection
    review: UtilizationReview | None
    redisclosure_notice: str = REDISCLOSURE_NOTICE
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def patient(self) -> Any:
        return self.episode.patient

    @property
    def program(self) -> Any:
        return self.episode.program

    @property
    def level_of_care(self) -> str:
        return self.episode.program.level_of_care


# --- pieces ------------------------------------------------------------------------------------


def _local_bounds(
    episode: Episode, start: dt.date, end: dt.date
) -> tuple[dt.datetime, dt.datetime]:
    tz = episode.program.site.tz
    lo = dt.datetime.combine(start, dt.time(0), tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return lo, hi


def latest_assessment(episode: Episode, on: dt.date) -> Assessment | None:
    """The patient's latest six-dimension assessment made on or before ``on``."""
    return (
        Assessment.objects.for_org(episode.organization_id)
        .filter(patient_id=episode.patient_id, assessed_on__lte=on)
        .order_by("-assessed_on", "-created_at")
        .first()
    )


def _placement(episode: Episode, end: dt.date) -> PlacementSection | None:
    a = latest_assessment(episode, end)
    if a is None:
        return None
    edition = a.criteria_edition if a.criteria_edition in placement_rules.DIMENSION_NAMES else "3"
    names = placement_rules.DIMENSION_NAMES[edition]
    return PlacementSection(
        assessment=a,
        edition_label=a.get_criteria_edition_display(),
        dimensions=tuple(DimensionRow(n, names[n], rating, note) for n, rating, note in a.ratings),
        recommended_level=a.recommended_level,
        chosen_level=a.chosen_level,
        variance_reason=a.variance_reason,
    )


def _occurrence(record: AttendanceRecord) -> Occurrence:
    # The same reading of a record as attendance.selectors (compliance): EXPECTED = not yet
    # recorded; any other status = the minutes recorded (0 for absent / excused).
    session = record.session
    attended = (
        None
        if record.status == AttendanceRecord.Status.EXPECTED
        else (record.minutes_attended or 0)
    )
    return Occurrence(
        start=session.starts_at,
        end=session.ends_at,
        attended_minutes=attended,
        cancelled=session.status == Session.Status.CANCELLED,
    )


def _attendance(
    episode: Episode, start: dt.date, end: dt.date, now: dt.datetime
) -> AttendanceSection:
    """Totals for the range, and weekly hours for every local week that overlaps it."""
    program = episode.program
    tz = program.site.tz
    first_week, last_week = week_start_for(start), week_start_for(end)
    lo, _ = local_week_bounds(first_week, tz)
    _, hi = local_week_bounds(last_week, tz)
    records = list(
        AttendanceRecord.objects.filter(
            episode=episode, session__starts_at__gte=lo, session__starts_at__lt=hi
        ).select_related("session")
    )
    changes = list(episode.status_changes.order_by("effective_on", "id"))
    by_week: dict[dt.date, list[Occurrence]] = defaultdict(list)
    attended = missed = excused = minutes = 0
    days: set[dt.date] = set()
    for r in records:
        day = r.session.starts_at.astimezone(tz).date()
        by_week[week_start_for(day)].append(_occurrence(r))
        if not start <= day <= end or r.session.status == Session.Status.CANCELLED:
            continue
        if r.status in AttendanceRecord.ATTENDED and (r.minutes_attended or 0) > 0:
            attended += 1
            minutes += r.minutes_attended or 0
            days.add(day)
        elif r.status == AttendanceRecord.Status.ABSENT:
            missed += 1
        elif r.status == AttendanceRecord.Status.EXCUSED:
            excused += 1
    results: list[WeekResult] = []
    week = first_week
    while week <= last_week:
        calc = WeeklyHours(rule_for(program), week, tz, now)
        calc.add(
            EpisodeWeek(
                key=episode.pk,
                admitted_on=episode.admitted_on,
                discharged_on=episode.discharged_on,
                on_hold_days=hold_days(changes, week, week + dt.timedelta(days=6)),
                occurrences=tuple(by_week.get(week, ())),
            )
        )
        results.append(calc.compute()[episode.pk])
        week += dt.timedelta(days=7)
    rows = tuple(
        WeekRow(
            week_start=r.week_start,
            week_end=r.week_start + dt.timedelta(days=6),
            attended_hours=hours(r.minutes_attended),
            required_hours=hours(r.required_minutes),
            days_attended=r.days_attended,
            required_days=r.required_days,
            status=str(r.status),
            status_label=STATUS_LABELS.get(str(r.status), str(r.status)),
            reason=r.reason,
            prorated=r.prorated,
        )
        for r in results
    )
    svg = weekly_hours_svg(
        bars_from_results(results),
        min_minutes=program.weekly_min_minutes,
        max_minutes=program.weekly_max_minutes,
        title=f"Hours attended per week, {start:%b} {start.day} to {end:%b} {end.day}, {end.year}",
    )
    return AttendanceSection(attended, missed, excused, len(days), minutes, rows, svg)


def plan_in_force(episode: Episode, on: dt.date) -> TreatmentPlan | None:
    """The signed plan in force on ``on``: the active one, or the latest superseded one that
    took effect by then."""
    return (
        TreatmentPlan.objects.for_org(episode.organization_id)
        .filter(episode=episode, status__in=[TreatmentPlan.Status.ACTIVE,
                                             TreatmentPlan.Status.SUPERSEDED])
        .filter(effective_on__lte=on)
        .order_by("-effective_on", "-id")
        .first()
    )  # fmt: skip


def plan_progress(plan: TreatmentPlan, on: dt.date) -> PlanSection:
    """Problems, goals and objectives with the latest review rating per objective up to ``on``.
    Four queries."""
    problems = list(PlanProblem.objects.filter(plan=plan).prefetch_related("goals__objectives"))
    latest: dict[int, ObjectiveProgress] = {}
    for p in (
        ObjectiveProgress.objects.filter(
            objective__goal__problem__plan=plan, review__reviewed_on__lte=on
        )
        .select_related("review")
        .order_by("review__reviewed_on", "review_id")
    ):
        latest[p.objective_id] = p
    rows = []
    for problem in problems:
        goals = []
        for goal in problem.goals.all():
            objectives = []
            for o in goal.objectives.all():
                p = latest.get(o.pk)
                objectives.append(
                    ObjectiveRow(
                        objective=o,
                        rating=p.rating if p else "",
                        rating_label=p.get_rating_display() if p else "Not yet reviewed",
                        reviewed_on=p.review.reviewed_on if p else None,
                        comment=p.comment if p else "",
                    )
                )
            goals.append(GoalRow(goal, tuple(objectives)))
        rows.append(ProblemRow(problem, tuple(goals)))
    reviewed = [p.review.reviewed_on for p in latest.values()]
    return PlanSection(plan, tuple(rows), max(reviewed) if reviewed else None)


def signed_notes(episode: Episode, start: dt.date, end: dt.date) -> list[Note]:
    """Signed original notes of the episode whose service date is in the range, oldest first.

    SUD counseling notes are excluded here, at the query: they never leave their author."""
    lo, hi = _local_bounds(episode, start, end)
    return list(
        Note.objects.for_org(episode.organization_id)
        .filter(
            episode=episode,
            status=Note.Status.SIGNED,
            amends__isnull=True,
            started_at__gte=lo,
            started_at__lt=hi,
        )
        .exclude(kind=Note.Kind.SUD_COUNSELING)
        .select_related("author")
        .order_by("started_at", "id")
    )


def _notes(episode: Episode, start: dt.date, end: dt.date) -> tuple[list[NoteRow], list[Any]]:
    tz = episode.program.site.tz
    rows = [
        NoteRow(
            on=n.started_at.astimezone(tz).date(),
            kind=n.kind,
            kind_label=n.get_kind_display(),
            minutes=n.duration_minutes,
            modality_label=n.get_modality_display(),
            author=n.author.get_full_name() or n.author.get_username(),
        )
        for n in signed_notes(episode, start, end)
    ]
    counts: Counter[str] = Counter()
    mins: Counter[str] = Counter()
    for r in rows:
        counts[r.kind_label] += 1
        mins[r.kind_label] += r.minutes or 0
    summary = [(label, counts[label], hours(mins[label])) for label in counts]
    return rows, summary


def _drug_screens(
    user: Any, episode: Episode, start: dt.date, end: dt.date, request: HttpRequest | None
) -> OptionalSection:
    try:
        from openiop.medications.selectors import drug_screen_summary
    except ImportError:
        return OptionalSection("unavailable", message="No drug-screen data recorded.")
    if user is None or not user_has_perm(user, Perm.NOTE_VIEW):
        return OptionalSection(
            "restricted",
            message="Not included: drug-screen results need clinical-record access "
            "(a clinician can print the packet with them).",
        )
    summary = drug_screen_summary(user=user, episode=episode, start=start, end=end, request=request)
    if not summary.specimens:
        return OptionalSection("none", summary, "No drug screens recorded in this period.")
    return OptionalSection("shown", summary)


def _questionnaires(user: Any, episode: Episode, request: HttpRequest | None) -> OptionalSection:
    try:
        from openiop.questionnaires.selectors import scores_panel
    except ImportError:
        return OptionalSection("unavailable", message="No questionnaire data recorded.")
    if user is None or not user_has_perm(user, Perm.NOTE_VIEW):
        return OptionalSection(
            "restricted",
            message="Not included: questionnaire scores need clinical-record access "
            "(a clinician can print the packet with them).",
        )
    panel = scores_panel(user=user, patient=episode.patient, small_charts=True, request=request)
    if not panel.instruments:
        return OptionalSection("none", panel, "No questionnaires recorded.")
    return OptionalSection("shown", panel)


def default_period(episode: Episode, today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 30 days of treatment up to ``today`` (or up to discharge), from admission."""
    end = min(today, episode.discharged_on or today)
    start = end - dt.timedelta(days=29)
    if episode.admitted_on is not None:
        start = max(start, episode.admitted_on)
        end = max(end, episode.admitted_on)
    return start, end


def latest_review(episode: Episode) -> UtilizationReview | None:
    return (
        UtilizationReview.objects.for_org(episode.organization_id)
        .filter(episode=episode)
        .select_related("prepared_by", "authorization")
        .order_by("-period_end", "-created_at")
        .first()
    )


def check_period(start: dt.date, end: dt.date) -> str | None:
    """An error message for a period the packet cannot cover, or None."""
    if end < start:
        return "The end date must not be before the start date."
    if (end - start).days >= MAX_DAYS:
        return f"A packet covers at most {MAX_DAYS} days."
    return None


def ur_packet(
    user: Any,
    episode: Episode,
    start: dt.date,
    end: dt.date,
    request: HttpRequest | None = None,
    *,
    review: UtilizationReview | None | str = LATEST,
    verb: str = "view",
    audit_detail: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> URPacket:
    """Assemble the packet for ``episode`` between ``start`` and ``end`` (site-local dates,
    both included). ``user`` needs ``Perm.UR_PACKET``; ``user=None`` is the command line (the
    caller has decided access). ``review`` is the UtilizationReview whose clinician summary is
    printed: pass one, None for none, or leave the default for the latest.

    One audit row (``openiop.clinical.ur_packet.<verb>``); the drug-screen and questionnaire
    selectors add their own when the reader may see them. A fixed number of queries.
    """
    if user is not None:
        require_perm(user, Perm.UR_PACKET)
        if user.organization_id != episode.organization_id:
            raise PermissionDenied("the episode belongs to another organization")
    problem = check_period(start, end)
    if problem:
        raise ValueError(problem)
    now = now or timezone.now()
    today = now.astimezone(episode.program.site.tz).date()
    shown: UtilizationReview | None = latest_review(episode) if isinstance(review, str) else review
    placement = _placement(episode, end)
    attendance = _attendance(episode, start, end, now)
    plan = plan_in_force(episode, end)
    notes, notes_by_kind = _notes(episode, start, end)
    packet = URPacket(
        episode=episode,
        start=start,
        end=end,
        generated_at=now,
        authorization=authorization_in_force(episode=episode, on=min(end, today), today=today),
        placement=placement,
        attendance=attendance,
        plan=plan_progress(plan, end) if plan is not None else None,
        notes=notes,
        notes_by_kind=notes_by_kind,
        drug_screens=_drug_screens(user, episode, start, end, request),
        questionnaires=_questionnaires(user, episode, request),
        review=shown,
    )
    audit_log(
        actor=user,
        action=f"openiop.clinical.ur_packet.{verb}",
        category=CAT,
        obj=shown if shown is not None else episode,
        patient=episode.patient,
        request=request,
        detail={
            "episode": str(episode.public_id),
            "start": start.isoformat(),
            "end": end.isoformat(),
            "notes": len(notes),
            **(audit_detail or {}),
        },
    )
    return packet


def ur_list_for_episode(
    *, user: Any, episode: Episode, request: HttpRequest | None = None
) -> list[UtilizationReview]:
    """The episode's utilization reviews, newest period first. One query + audit."""
    require_perm(user, Perm.UR_PACKET)
    reviews = list(
        UtilizationReview.objects.for_org(user.organization_id)
        .filter(episode=episode)
        .select_related("prepared_by", "authorization")
        .order_by("-period_end", "-created_at")
    )
    audit_log(
        actor=user, action="openiop.clinical.utilization_review.list", category=CAT, obj=episode,
        patient=episode.patient, request=request, detail={"reviews": len(reviews)},
    )  # fmt: skip
    return reviews


def pdf_available() -> bool:
    """WeasyPrint is optional (not a dependency): PDF export appears only where it is installed."""
    import importlib.util

    return importlib.util.find_spec("weasyprint") is not None


def packet_html(
    packet: URPacket,
    *,
    standalone: bool = True,
    back_url: str = "",
    download_url: str = "",
    pdf_url: str = "",
    csrf_token: str = "",
    download_fields: list[tuple[str, str]] | None = None,
) -> str:
    """The packet as one HTML document (inline CSS, inline SVG): the web page, the downloaded
    file and the command line all use this one template."""
    from django.template.loader import render_to_string

    return render_to_string(
        "clinical/ur_packet.html",
        {
            "packet": packet,
            "standalone": standalone,
            "back_url": back_url,
            "download_url": download_url,
            "pdf_url": pdf_url,
            "csrf_token": csrf_token,
            "download_fields": download_fields or [],
        },
    )


def packet_filename(packet: URPacket, ext: str = "html") -> str:
    return f"ur-packet-{packet.start:%Y%m%d}-{packet.end:%Y%m%d}.{ext}"
