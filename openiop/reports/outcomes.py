"""The program outcome report: admissions, discharges, length of stay, retention, hours delivered,
questionnaire change and the six-month use outcome, each with its uncertainty.

The numbers are computed by the pure modules (``reports.stats`` for Wilson intervals and
Kaplan-Meier, ``aftercare.rules`` for the 95% reduction rule and engagement bands,
``reports.teds`` for length of stay); this module only reads the rows, in a fixed number of
queries (never one per patient), and assembles :class:`OutcomeReport`. Every definition is written
out in ``docs/outcomes.md`` and on the page itself; the short version:

* **Treatment episode.** A transfer closes one segment (REASON 4) and opens another that points
  back through ``transferred_from``; the chain of segments is one treatment episode, admitted on
  its first segment's admission day, discharged on its last segment's discharge day with that
  segment's reason, and attributed to the program of its first segment.
* **Cohorts.** *Admissions*: treatment episodes whose first segment was admitted in [from, to].
  *Discharges*: treatment episodes whose last segment was discharged in [from, to].
* **Aftercare groups** (programs that an aftercare plan component points to) are not treatment
  programs: with "all programs" their episodes are left out (and named on the page).
* **Length of stay**: ``teds.los_days`` (both ends counted; ends at the earlier of discharge and
  the last attended session).
* **Retention**: Kaplan-Meier over the admissions; the event is leaving early (REASON 2, 3, 5,
  7); completion, transfer out, death and "still in treatment today" are censored.
* **Six-month outcome**: for discharges (not deaths) whose 180-day follow-up is due by today; a
  patient without a completed 180-day follow-up inside its window is a non-responder, never a
  success.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet, Sum

from openiop.aftercare import rules
from openiop.aftercare.models import AftercareComponent, AftercarePlan, EngagementEntry, FollowUp
from openiop.attendance.models import AttendanceRecord
from openiop.billing.csv_export import neutralise_formula
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program
from openiop.questionnaires.instruments import registry
from openiop.questionnaires.models import QuestionnaireResponse
from openiop.reports import stats, teds
from openiop.scheduling.models import Session

#: REASON codes counted as "leaving early", the event of the retention curve.
EARLY_EXIT_REASONS = frozenset(
    {teds.REASON_DROPPED_OUT, teds.REASON_TERMINATED, teds.REASON_INCARCERATED, teds.REASON_OTHER}
)
#: Days at which retention is read off the curve.
RETENTION_DAYS = (30, 60, 90)
#: Instruments whose admission -> discharge change is reported (lower is better for all three).
CHANGE_INSTRUMENTS = ("phq9", "gad7", "bam")
#: The admission score is the first one within this many days of admission (day 1 = admission).
ADMISSION_SCORE_DAYS = 14
#: Counts from 1 to SMALL_CELL - 1 may be suppressed in a shared CSV (see :func:`csv_rows`).
SMALL_CELL = 11

Progress = Callable[[str], None]


def _noop(_: str) -> None:
    return None


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 months up to today: (today minus 12 months plus one day, today)."""
    return rules.add_months(today, -12) + dt.timedelta(days=1), today


def pct(value: float | None, digits: int = 0) -> str:
    """0.314 -> "31%"; None -> "—"."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


# --------------------------------------------------------------------------------------------
# Treatment episodes (chains of segments)
# --------------------------------------------------------------------------------------------


@dataclass
class Segment:
    """One Episode row, as loaded (``values()``, no model instances)."""

    id: int
    public_id: Any
    patient_id: int
    program_id: int
    status: str
    admitted_on: dt.date | None
    discharged_on: dt.date | None
    discharge_reason: int | None
    transferred_from_id: int | None
    baseline_days_used_30: int | None
    discharge_days_used_30: int | None
    primary_substance: int | None
    next_id: int | None = None


@dataclass(frozen=True)
class TreatmentEpisode:
    """A chain of segments joined by transfers, seen as one course of treatment."""

    root: Segment
    segments: tuple[Segment, ...]

    @property
    def final(self) -> Segment:
        return self.segments[-1]

    @property
    def patient_id(self) -> int:
        return self.root.patient_id

    @property
    def program_id(self) -> int:
        return self.root.program_id

    @property
    def admitted_on(self) -> dt.date:
        assert self.root.admitted_on is not None
        return self.root.admitted_on

    @property
    def is_discharged(self) -> bool:
        return self.final.status == "discharged" and self.final.discharged_on is not None

    @property
    def discharged_on(self) -> dt.date | None:
        return self.final.discharged_on if self.is_discharged else None

    @property
    def reason(self) -> int | None:
        return self.final.discharge_reason if self.is_discharged else None

    @property
    def baseline_days_used_30(self) -> int | None:
        """The root's baseline (use before treatment began); a later segment's if it is blank."""
        for segment in self.segments:
            if segment.baseline_days_used_30 is not None:
                return segment.baseline_days_used_30
        return None

    @property
    def segment_ids(self) -> tuple[int, ...]:
        return tuple(s.id for s in self.segments)


def build_chains(segments: Iterable[Segment]) -> list[TreatmentEpisode]:
    """Join segments by ``transferred_from`` into treatment episodes (roots never admitted, i.e.
    waiting-list removals, are dropped). Cycles cannot occur (one-to-one link to an older row)."""
    by_id = {s.id: s for s in segments}
    for s in by_id.values():
        if s.transferred_from_id is not None and s.transferred_from_id in by_id:
            by_id[s.transferred_from_id].next_id = s.id
    chains: list[TreatmentEpisode] = []
    for s in by_id.values():
        if s.transferred_from_id is not None and s.transferred_from_id in by_id:
            continue  # a continuation: reached from its root
        if s.admitted_on is None:
            continue
        chain = [s]
        seen = {s.id}
        while chain[-1].next_id is not None and chain[-1].next_id not in seen:
            nxt = by_id[chain[-1].next_id]
            seen.add(nxt.id)
            if nxt.admitted_on is None:
                break
            chain.append(nxt)
        chains.append(TreatmentEpisode(root=s, segments=tuple(chain)))
    chains.sort(key=lambda c: (c.admitted_on, c.root.id))
    return chains


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonRow:
    code: int
    label: str
    rate: stats.Proportion

    @property
    def count(self) -> int:
        return self.rate.successes


@dataclass(frozen=True)
class LosRow:
    """Length of stay (days) of one group of discharges."""

    group: str
    days: tuple[int, ...]

    @property
    def n(self) -> int:
        return len(self.days)

    @property
    def median(self) -> float | None:
        return statistics.median(self.days) if self.days else None

    @property
    def quartiles(self) -> tuple[float, float] | None:
        """(25th, 75th percentile), inclusive method; ``None`` below 2 values."""
        if len(self.days) < 2:
            return None
        q1, _, q3 = statistics.quantiles(self.days, n=4, method="inclusive")
        return q1, q3

    @property
    def minimum(self) -> int | None:
        return min(self.days) if self.days else None

    @property
    def maximum(self) -> int | None:
        return max(self.days) if self.days else None


@dataclass(frozen=True)
class RetentionPoint:
    day: int
    at_risk: int
    survival: float | None
    low: float | None
    high: float | None

    @property
    def pct(self) -> str:
        return pct(self.survival)

    @property
    def ci(self) -> str:
        return "—" if self.low is None or self.high is None else f"{pct(self.low)}–{pct(self.high)}"

    @property
    def text(self) -> str:
        if self.survival is None:
            return "not estimable (nobody followed that long)"
        ci = "" if self.low is None else f" (95% CI {pct(self.low)}–{pct(self.high)})"
        return f"{pct(self.survival)}{ci}"


@dataclass(frozen=True)
class Retention:
    n: int
    events: int
    censored_completed: int
    censored_active: int
    censored_other: int
    steps: tuple[stats.KMStep, ...]
    points: tuple[RetentionPoint, ...]
    median_days: float | int | None


@dataclass(frozen=True)
class WeeklyHours:
    cohort: int
    values: tuple[float, ...]  # hours per week, one per treatment episode with attendance
    meets_minimum: stats.Proportion
    minimum: float | None = None  # the programs' weekly minimum when they all share one

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def quartiles(self) -> tuple[float, float] | None:
        if len(self.values) < 2:
            return None
        q1, _, q3 = statistics.quantiles(self.values, n=4, method="inclusive")
        return q1, q3


@dataclass(frozen=True)
class ScoreChange:
    instrument: str
    label: str
    metric: str  # "total" or the BAM composite used
    eligible: int  # discharges in the period
    pairs: tuple[tuple[int, int], ...]  # (admission score, discharge score)

    @property
    def n(self) -> int:
        return len(self.pairs)

    @property
    def mean_first(self) -> float | None:
        return statistics.fmean(a for a, _ in self.pairs) if self.pairs else None

    @property
    def mean_last(self) -> float | None:
        return statistics.fmean(b for _, b in self.pairs) if self.pairs else None

    @property
    def changes(self) -> tuple[int, ...]:
        return tuple(b - a for a, b in self.pairs)

    @property
    def mean_change(self) -> float | None:
        return statistics.fmean(self.changes) if self.pairs else None

    @property
    def sd_change(self) -> float | None:
        return statistics.stdev(self.changes) if len(self.pairs) >= 2 else None

    @property
    def improved(self) -> int:
        return sum(1 for c in self.changes if c < 0)

    @property
    def worse(self) -> int:
        return sum(1 for c in self.changes if c > 0)


@dataclass(frozen=True)
class BandOutcome:
    band: str  # "all", "0", "1", "2+"
    label: str
    summary: stats.OutcomeSummary


@dataclass(frozen=True)
class SixMonthOutcome:
    follow_up_days: int
    threshold_percent: int
    discharged: int  # discharges in the period (all reasons)
    deaths: int  # left out: cannot be followed up
    not_yet_due: int  # follow-up due after today
    completed_late: int  # completed outside the window: counted as non-responders
    still_in_window: int  # non-responders whose window is still open today
    overall: stats.OutcomeSummary
    by_band: tuple[BandOutcome, ...]

    @property
    def eligible(self) -> int:
        return self.overall.eligible

    @property
    def remaining_percent(self) -> int:
        """100 minus the reduction threshold: the most use that still counts (5% of baseline)."""
        return 100 - self.threshold_percent


@dataclass(frozen=True)
class OutcomeReport:
    organization_name: str
    program_name: str  # "All programs" or the program's name
    program_public_id: str  # "" for all programs
    start: dt.date
    end: dt.date
    as_of: dt.date
    excluded_programs: tuple[str, ...]
    admissions: int
    admissions_transferred: int  # admissions whose treatment episode went on in another program
    discharges: int
    reasons: tuple[ReasonRow, ...]
    completion: stats.Proportion
    dropout: stats.Proportion
    los: tuple[LosRow, ...]  # first row: all discharges
    retention: Retention
    hours: WeeklyHours
    questionnaires: tuple[ScoreChange, ...]
    six_month: SixMonthOutcome
    patient_count: int = 0  # distinct patients in any cohort (for the audit detail only)

    @property
    def retention_90(self) -> RetentionPoint | None:
        return next((p for p in self.retention.points if p.day == 90), None)


@dataclass
class _Loaded:
    chains: list[TreatmentEpisode]
    programs: dict[int, Any]  # id -> Program (with site)
    aftercare_program_ids: set[int]
    attendance: dict[int, dict[str, Any]]  # segment id -> minutes, recorded, last attended
    responses: dict[int, list[tuple[str, dt.datetime, int]]]  # patient id -> (instr, at, value)
    plans: dict[int, int]  # episode (segment) id -> plan id
    follow_ups: dict[int, list[dict[str, Any]]]  # plan id -> rows
    # plan id -> (component id, program id, starts_on, ends_on)
    components: dict[int, list[tuple[int, int | None, dt.date, dt.date | None]]]
    entries: dict[int, list[dt.date]]  # component id -> dates
    aftercare_attendance: dict[tuple[int, int], list[dt.date]]  # (patient, program) -> dates


_SEGMENT_FIELDS = (
    "id", "public_id", "patient_id", "program_id", "status", "admitted_on", "discharged_on",
    "discharge_reason", "transferred_from_id", "baseline_days_used_30",
    "discharge_days_used_30", "primary_substance",
)  # fmt: skip


def _local_date(instant: dt.datetime, tz: Any) -> dt.date:
    return instant.astimezone(tz).date()


def _load(organization: Any, start: dt.date, end: dt.date, progress: Progress) -> _Loaded:
    """Every row the report needs, in a fixed number of queries."""
    org_id = organization.pk
    progress("loading programs")
    programs = {p.pk: p for p in Program.objects.for_org(org_id).select_related("site")}
    aftercare_program_ids = set(
        AftercareComponent.objects.for_org(org_id)
        .filter(program__isnull=False)
        .values_list("program_id", flat=True)
        .order_by()
        .distinct()
    )
    # Everyone with a segment admitted or discharged in the period; all their segments are loaded
    # so a chain that began earlier or goes on later is whole.
    patients: QuerySet[Any] = (
        Episode.objects.for_org(org_id)
        .filter(Q(admitted_on__range=(start, end)) | Q(discharged_on__range=(start, end)))
        .values("patient_id")
    )
    progress("loading episodes")
    segments = [
        Segment(**row)
        for row in Episode.objects.for_org(org_id)
        .filter(patient_id__in=patients)
        .values(*_SEGMENT_FIELDS)
    ]
    chains = build_chains(segments)

    progress("loading attendance")
    attended = Q(status__in=AttendanceRecord.ATTENDED)
    attendance: dict[int, dict[str, Any]] = {}
    for row in (
        AttendanceRecord.objects.for_org(org_id)
        .filter(episode__patient_id__in=patients)
        .values("episode_id")
        .annotate(
            minutes=Sum("minutes_attended", filter=attended),
            recorded=Count("id", filter=~Q(status=AttendanceRecord.Status.EXPECTED)),
            last=Max("session__starts_at", filter=attended),
        )
    ):
        attendance[row["episode_id"]] = row

    progress("loading questionnaires")
    metrics = {key: registry.get(key).trend_metric for key in CHANGE_INSTRUMENTS}
    responses: dict[int, list[tuple[str, dt.datetime, int]]] = defaultdict(list)
    for row in (
        QuestionnaireResponse.objects.for_org(org_id)
        .filter(patient_id__in=patients, instrument__in=CHANGE_INSTRUMENTS)
        .values("patient_id", "instrument", "administered_at", "total", "subscales")
        .order_by("administered_at", "id")
    ):
        metric = metrics[row["instrument"]]
        value = row["total"] if metric == "total" else (row["subscales"] or {}).get(metric)
        if isinstance(value, int) and not isinstance(value, bool):
            responses[row["patient_id"]].append((row["instrument"], row["administered_at"], value))

    progress("loading aftercare")
    plans = dict(
        AftercarePlan.objects.for_org(org_id)
        .filter(episode__patient_id__in=patients)
        .values_list("episode_id", "id")
    )
    follow_ups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in (
        FollowUp.objects.for_org(org_id)
        .filter(plan__episode__patient_id__in=patients)
        .values(
            "plan_id",
            "offset_days",
            "due_on",
            "status",
            "contacted_on",
            "any_use_since_last",
            "days_used_30",
        )  # fmt: skip
        .order_by("offset_days")
    ):
        follow_ups[row["plan_id"]].append(row)
    components: dict[int, list[tuple[int, int | None, dt.date, dt.date | None]]]
    components = defaultdict(list)
    for comp_id, plan_id, program_id, starts_on, ends_on in (
        AftercareComponent.objects.for_org(org_id)
        .filter(plan__episode__patient_id__in=patients)
        .values_list("id", "plan_id", "program_id", "starts_on", "ends_on")
    ):
        components[plan_id].append((comp_id, program_id, starts_on, ends_on))
    entries: dict[int, list[dt.date]] = defaultdict(list)
    for comp_id, day in (
        EngagementEntry.objects.for_org(org_id)
        .filter(component__plan__episode__patient_id__in=patients)
        .values_list("component_id", "occurred_on")
    ):
        entries[comp_id].append(day)
    aftercare_attendance: dict[tuple[int, int], list[dt.date]] = defaultdict(list)
    if aftercare_program_ids:
        for patient_id, program_id, starts_at in (
            AttendanceRecord.objects.for_org(org_id)
            .filter(
                patient_id__in=patients,
                session__program_id__in=aftercare_program_ids,
                status__in=AttendanceRecord.ATTENDED,
                minutes_attended__gt=0,
            )
            .exclude(session__status=Session.Status.CANCELLED)
            .values_list("patient_id", "session__program_id", "session__starts_at")
        ):
            tz = programs[program_id].site.tz
            aftercare_attendance[(patient_id, program_id)].append(_local_date(starts_at, tz))
    return _Loaded(
        chains=chains,
        programs=programs,
        aftercare_program_ids=aftercare_program_ids,
        attendance=attendance,
        responses=responses,
        plans=plans,
        follow_ups=follow_ups,
        components=components,
        entries=entries,
        aftercare_attendance=aftercare_attendance,
    )


def _last_contact(chain: TreatmentEpisode, data: _Loaded) -> dt.date | None:
    """The last attended session's local date over the chain's segments (None: no attendance)."""
    last: dt.date | None = None
    for segment in chain.segments:
        row = data.attendance.get(segment.id)
        if row and row["last"] is not None:
            day = _local_date(row["last"], data.programs[segment.program_id].site.tz)
            last = day if last is None else max(last, day)
    return last


def chain_los(chain: TreatmentEpisode, data: _Loaded) -> int:
    """Length of stay of a discharged treatment episode, as TEDS counts it."""
    assert chain.discharged_on is not None
    last = _last_contact(chain, data)
    if last is not None and last < chain.admitted_on:
        last = None  # an attendance row dated before admission: not a contact of this stay
    return teds.los_days(chain.admitted_on, chain.discharged_on, last)


def _in_treatment_on(chain: TreatmentEpisode, as_of: dt.date) -> bool:
    return chain.discharged_on is None or chain.discharged_on > as_of


def _days_in_treatment(chain: TreatmentEpisode, data: _Loaded, as_of: dt.date) -> int:
    """Days from admission to discharge (or to ``as_of`` for someone still in treatment)."""
    if not _in_treatment_on(chain, as_of):
        return chain_los(chain, data)
    return (as_of - chain.admitted_on).days + 1


def _reasons(discharged: Sequence[TreatmentEpisode]) -> tuple[ReasonRow, ...]:
    n = len(discharged)
    counts: dict[int, int] = defaultdict(int)
    for chain in discharged:
        counts[int(chain.reason or teds.REASON_OTHER)] += 1
    return tuple(
        ReasonRow(code, label, stats.proportion(counts.get(code, 0), n))
        for code, label in teds.REASON_LABELS.items()
    )


def _los_rows(discharged: Sequence[TreatmentEpisode], data: _Loaded) -> tuple[LosRow, ...]:
    by_reason: dict[int, list[int]] = defaultdict(list)
    everyone: list[int] = []
    for chain in discharged:
        days = chain_los(chain, data)
        everyone.append(days)
        by_reason[int(chain.reason or teds.REASON_OTHER)].append(days)
    rows = [LosRow("All discharges", tuple(sorted(everyone)))]
    rows.extend(
        LosRow(label, tuple(sorted(by_reason[code])))
        for code, label in teds.REASON_LABELS.items()
        if by_reason.get(code)
    )
    return tuple(rows)


def _retention(admitted: Sequence[TreatmentEpisode], data: _Loaded, as_of: dt.date) -> Retention:
    durations: list[tuple[int, bool]] = []
    completed = active = other = events = 0
    for chain in admitted:
        if chain.admitted_on > as_of:
            continue  # admitted in the future: not yet observed
        days = _days_in_treatment(chain, data, as_of)
        if _in_treatment_on(chain, as_of):
            active += 1
            durations.append((days, False))
        elif chain.reason in EARLY_EXIT_REASONS:
            events += 1
            durations.append((days, True))
        else:
            if chain.reason == teds.REASON_COMPLETED:
                completed += 1
            else:
                other += 1
            durations.append((days, False))
    steps = tuple(stats.kaplan_meier(durations))
    points = []
    for day in RETENTION_DAYS:
        at_risk = sum(1 for t, _ in durations if t >= day)
        if not steps:
            points.append(RetentionPoint(day, 0, None, None, None))
            continue
        if day < steps[0].time:
            points.append(RetentionPoint(day, at_risk, 1.0, 1.0, 1.0))
            continue
        step = stats.km_step_at(steps, day)
        if step is None:
            points.append(RetentionPoint(day, at_risk, None, None, None))
        else:
            points.append(RetentionPoint(day, at_risk, step.survival, step.ci_low, step.ci_high))
    return Retention(
        n=len(durations),
        events=events,
        censored_completed=completed,
        censored_active=active,
        censored_other=other,
        steps=steps,
        points=tuple(points),
        median_days=stats.km_median(steps),
    )


def _weekly_hours(
    admitted: Sequence[TreatmentEpisode], data: _Loaded, as_of: dt.date
) -> WeeklyHours:
    values: list[float] = []
    meets = 0
    minimums: set[float] = set()
    for chain in admitted:
        if chain.admitted_on > as_of:
            continue
        rows = [data.attendance.get(s.id) for s in chain.segments]
        if not any(r and r["recorded"] for r in rows):
            continue
        minutes = sum((r["minutes"] or 0) for r in rows if r)
        weeks = max(_days_in_treatment(chain, data, as_of), 7) / 7
        per_week = minutes / 60 / weeks
        values.append(round(per_week, 2))
        minimum = float(data.programs[chain.program_id].weekly_min_hours)
        minimums.add(minimum)
        if per_week >= minimum:
            meets += 1
    return WeeklyHours(
        cohort=sum(1 for c in admitted if c.admitted_on <= as_of),
        values=tuple(values),
        meets_minimum=stats.proportion(meets, len(values)),
        minimum=minimums.pop() if len(minimums) == 1 else None,
    )


def _score_changes(
    discharged: Sequence[TreatmentEpisode], data: _Loaded
) -> tuple[ScoreChange, ...]:
    pairs: dict[str, list[tuple[int, int]]] = {key: [] for key in CHANGE_INSTRUMENTS}
    for chain in discharged:
        assert chain.discharged_on is not None
        tz = data.programs[chain.program_id].site.tz
        window_end = chain.admitted_on + dt.timedelta(days=ADMISSION_SCORE_DAYS - 1)
        by_instrument: dict[str, list[tuple[dt.datetime, dt.date, int]]] = defaultdict(list)
        for instrument, at, value in data.responses.get(chain.patient_id, ()):
            day = _local_date(at, tz)
            if chain.admitted_on <= day <= chain.discharged_on:
                by_instrument[instrument].append((at, day, value))
        for instrument, scores in by_instrument.items():
            first = scores[0]  # ordered by administered_at
            if first[1] > window_end:
                continue  # no score in the first 14 days: no admission value
            last = scores[-1]
            if last[0] <= first[0]:
                continue  # only one score: no change to measure
            pairs[instrument].append((first[2], last[2]))
    rows = []
    for key in CHANGE_INSTRUMENTS:
        definition = registry.get(key)
        rows.append(
            ScoreChange(
                instrument=key,
                label=definition.short_title,
                metric=definition.trend_metric,
                eligible=len(discharged),
                pairs=tuple(pairs[key]),
            )
        )
    return tuple(rows)


def _plan_for(chain: TreatmentEpisode, data: _Loaded) -> int | None:
    for segment in reversed(chain.segments):  # the final segment's plan first
        if segment.id in data.plans:
            return data.plans[segment.id]
    return None


def _engagement_events(
    chain: TreatmentEpisode, plan_id: int | None, data: _Loaded
) -> list[rules.EngagementEvent]:
    if plan_id is None:
        return []
    events: list[rules.EngagementEvent] = []
    for component_id, program_id, starts_on, ends_on in data.components.get(plan_id, ()):
        events.extend((day, component_id) for day in data.entries.get(component_id, ()))
        if program_id is not None:
            # As on the plan page: sessions of the group attended while the component ran.
            events.extend(
                (day, component_id)
                for day in data.aftercare_attendance.get((chain.patient_id, program_id), ())
                if starts_on <= day and (ends_on is None or day <= ends_on)
            )
    return events


def _outcome_for(
    chain: TreatmentEpisode, plan_id: int | None, data: _Loaded, threshold: Fraction,
    follow_up_days: int,
) -> tuple[rules.Outcome, str]:  # fmt: skip
    """The six-month outcome and how it was reached: "responded", "late" or "missing"."""
    if plan_id is None:
        return rules.Outcome.UNKNOWN, "missing"
    rows = data.follow_ups.get(plan_id, [])
    target = next((r for r in rows if r["offset_days"] == follow_up_days), None)
    if target is None or target["status"] != "completed" or target["contacted_on"] is None:
        return rules.Outcome.UNKNOWN, "missing"
    opens_on, closes_on = rules.follow_up_window(
        target["due_on"],
        window_before=settings.OPENIOP_FOLLOW_UP_WINDOW_BEFORE,
        grace_after=settings.OPENIOP_FOLLOW_UP_GRACE_AFTER,
    )
    if not opens_on <= target["contacted_on"] <= closes_on:
        return rules.Outcome.UNKNOWN, "late"
    # Continuous abstinence: no use reported at any completed contact up to the outcome one.
    answers = [
        r["any_use_since_last"]
        for r in rows
        if r["offset_days"] <= follow_up_days and r["status"] == "completed"
    ]
    any_use: bool | None
    if any(a is True for a in answers):
        any_use = True
    elif any(a is None for a in answers):
        any_use = None
    else:
        any_use = False
    outcome = rules.use_outcome(
        chain.baseline_days_used_30, any_use, target["days_used_30"], threshold
    )
    return outcome, "responded"


def _six_month(
    discharged: Sequence[TreatmentEpisode], data: _Loaded, as_of: dt.date
) -> SixMonthOutcome:
    follow_up_days = int(settings.OPENIOP_OUTCOME_FOLLOW_UP_DAYS)
    percent = int(settings.OPENIOP_REDUCTION_THRESHOLD_PERCENT)
    threshold = Fraction(percent, 100)
    grace = int(settings.OPENIOP_FOLLOW_UP_GRACE_AFTER)
    deaths = not_yet_due = late = in_window = 0
    outcomes: list[rules.Outcome] = []
    bands: dict[str, list[rules.Outcome]] = {band: [] for band in rules.ENGAGEMENT_BANDS}
    for chain in discharged:
        assert chain.discharged_on is not None
        if chain.reason == teds.REASON_DEATH:
            deaths += 1
            continue
        due_on = chain.discharged_on + dt.timedelta(days=follow_up_days)
        if due_on > as_of:
            not_yet_due += 1
            continue
        plan_id = _plan_for(chain, data)
        outcome, how = _outcome_for(chain, plan_id, data, threshold, follow_up_days)
        if how == "late":
            late += 1
        if outcome is rules.Outcome.UNKNOWN and as_of <= due_on + dt.timedelta(days=grace):
            in_window += 1
        outcomes.append(outcome)
        band = rules.outcome_engagement_band(
            chain.discharged_on, _engagement_events(chain, plan_id, data), follow_up_days
        )
        bands[band].append(outcome)
    labels = {"0": "No aftercare component", "1": "1 component", "2+": "2 or more components"}
    return SixMonthOutcome(
        follow_up_days=follow_up_days,
        threshold_percent=percent,
        discharged=len(discharged),
        deaths=deaths,
        not_yet_due=not_yet_due,
        completed_late=late,
        still_in_window=in_window,
        overall=stats.summarize_outcomes(outcomes),
        by_band=tuple(
            BandOutcome(band, labels[band], stats.summarize_outcomes(bands[band]))
            for band in rules.ENGAGEMENT_BANDS
        ),
    )


def outcome_report(
    *,
    organization: Any,
    start: dt.date,
    end: dt.date,
    program: Any = None,
    as_of: dt.date | None = None,
    progress: Progress | None = None,
) -> OutcomeReport:
    """The outcome report of ``program`` (or every treatment program) for ``[start, end]``.

    ``as_of`` is "today" (the organization's local date by default): people still in treatment
    are censored there, and six-month follow-ups due after it are "not yet due". Reads only;
    the caller writes the audit row (the report is aggregate and names no patient).
    """
    if end < start:
        raise ValueError("the period ends before it starts")
    say = progress or _noop
    as_of = as_of or organization.today()
    data = _load(organization, start, end, say)
    say("computing")
    excluded: tuple[str, ...] = ()
    if program is not None:
        chains = [c for c in data.chains if c.program_id == program.pk]
    else:
        chains = [c for c in data.chains if c.program_id not in data.aftercare_program_ids]
        excluded = tuple(
            sorted(data.programs[i].name for i in data.aftercare_program_ids if i in data.programs)
        )
    admitted = [c for c in chains if start <= c.admitted_on <= end]
    discharged = [
        c for c in chains if c.discharged_on is not None and start <= c.discharged_on <= end
    ]
    reasons = _reasons(discharged)
    by_code = {r.code: r for r in reasons}
    patient_ids = {c.patient_id for c in admitted} | {c.patient_id for c in discharged}
    report = OutcomeReport(
        organization_name=str(organization),
        program_name=program.name if program is not None else "All programs",
        program_public_id=str(program.public_id) if program is not None else "",
        start=start,
        end=end,
        as_of=as_of,
        excluded_programs=excluded,
        admissions=len(admitted),
        admissions_transferred=sum(1 for c in admitted if len(c.segments) > 1),
        discharges=len(discharged),
        reasons=reasons,
        completion=by_code[teds.REASON_COMPLETED].rate,
        dropout=by_code[teds.REASON_DROPPED_OUT].rate,
        los=_los_rows(discharged, data),
        retention=_retention(admitted, data, as_of),
        hours=_weekly_hours(admitted, data, as_of),
        questionnaires=_score_changes(discharged, data),
        six_month=_six_month(discharged, data, as_of),
        patient_count=len(patient_ids),
    )
    say("done")
    return report


# --------------------------------------------------------------------------------------------
# CSV: the same numbers as aggregate rows
# --------------------------------------------------------------------------------------------

CSV_HEADER = ("metric", "group", "n", "value", "ci_low", "ci_high")


@dataclass(frozen=True)
class CsvRow:
    metric: str
    group: str
    n: int | None
    value: float | str | None
    ci_low: float | None = None
    ci_high: float | None = None


def _num(value: float | None, digits: int = 4) -> str:
    if value is None:
        return ""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _rate_row(metric: str, group: str, rate: stats.Proportion) -> CsvRow:
    return CsvRow(metric, group, rate.n, rate.estimate, rate.low, rate.high)


def report_rows(report: OutcomeReport) -> list[CsvRow]:
    """Every number of the report as (metric, group, n, value, ci_low, ci_high) rows."""
    rows = [
        CsvRow("organization", report.organization_name, None, None),
        CsvRow("program", report.program_name, None, None),
        CsvRow("period_from", report.start.isoformat(), None, None),
        CsvRow("period_to", report.end.isoformat(), None, None),
        CsvRow("as_of", report.as_of.isoformat(), None, None),
        CsvRow("admissions", "all", report.admissions, report.admissions),
        CsvRow("discharges", "all", report.discharges, report.discharges),
    ]
    for reason in report.reasons:
        rows.append(_rate_row("discharge_reason", f"{reason.code} {reason.label}", reason.rate))
    rows.append(_rate_row("completion_rate", "all", report.completion))
    rows.append(_rate_row("dropout_rate", "all", report.dropout))
    for los in report.los:
        q = los.quartiles
        rows.append(CsvRow("los_median_days", los.group, los.n, los.median,
                           q[0] if q else None, q[1] if q else None))  # fmt: skip
    ret = report.retention
    for point in ret.points:
        rows.append(
            CsvRow(f"retention_{point.day}d", "admissions", ret.n, point.survival, point.low,
                   point.high)
        )  # fmt: skip
    rows.append(CsvRow("retention_median_days", "admissions", ret.n, ret.median_days))
    hours = report.hours
    q = hours.quartiles
    rows.append(CsvRow("weekly_hours_mean", "admissions with attendance", hours.n, hours.mean))
    rows.append(
        CsvRow("weekly_hours_median", "admissions with attendance", hours.n, hours.median,
               q[0] if q else None, q[1] if q else None)
    )  # fmt: skip
    rows.append(_rate_row("weekly_hours_meets_program_minimum", "admissions with attendance",
                          hours.meets_minimum))  # fmt: skip
    for change in report.questionnaires:
        rows.append(CsvRow(f"{change.instrument}_admission_mean", change.metric, change.n,
                           change.mean_first))  # fmt: skip
        rows.append(CsvRow(f"{change.instrument}_discharge_mean", change.metric, change.n,
                           change.mean_last))  # fmt: skip
        rows.append(CsvRow(f"{change.instrument}_change_mean", change.metric, change.n,
                           change.mean_change))  # fmt: skip
    six = report.six_month
    rows.append(CsvRow("outcome_discharged", "all", six.discharged, six.discharged))
    rows.append(CsvRow("outcome_not_yet_due", "all", six.not_yet_due, six.not_yet_due))
    rows.append(CsvRow("outcome_deaths_excluded", "all", six.deaths, six.deaths))
    groups = [("all", six.overall)] + [(b.band, b.summary) for b in six.by_band]
    for group, summary in groups:
        name = "all" if group == "all" else f"engagement {group}"
        rows.append(CsvRow("outcome_eligible", name, summary.eligible, summary.eligible))
        rows.append(_rate_row("outcome_response_rate", name, summary.response))
        rows.append(_rate_row("outcome_success_responders", name, summary.success))
        rows.append(_rate_row("outcome_success_conservative", name, summary.success_floor))
    return rows


def csv_text(
    report: OutcomeReport,
    *,
    suppress_small_cells: bool = False,
    computed_at: dt.datetime | None = None,
) -> str:
    """The CSV file. With ``suppress_small_cells``, a row whose ``n`` is 1-10 shows ``<11`` and
    no value (a basic rule for sharing outside the program; not a de-identification).
    ``computed_at`` (a report served from a snapshot, ADR 0016) adds a ``computed_at`` row
    after ``as_of``, so a downloaded file says when its numbers were computed."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    rows = report_rows(report)
    if computed_at is not None:
        at = next(i for i, r in enumerate(rows) if r.metric == "as_of") + 1
        rows.insert(
            at, CsvRow("computed_at", computed_at.isoformat(timespec="seconds"), None, None)
        )
    for row in rows:
        n = "" if row.n is None else str(row.n)
        # Only text can be read as a formula; a negative number ("-8.5") stays a number.
        value = neutralise_formula(row.value) if isinstance(row.value, str) else _num(row.value)
        low, high = _num(row.ci_low), _num(row.ci_high)
        if suppress_small_cells and row.n is not None and 0 < row.n < SMALL_CELL:
            n, value, low, high = f"<{SMALL_CELL}", "", "", ""
        writer.writerow([row.metric, neutralise_formula(row.group), n, value, low, high])
    return buf.getvalue()
