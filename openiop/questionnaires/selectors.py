"""Questionnaire reads: lists, trends, open alerts, what is due, and the contexts of the
reusable template partials (dashboard alerts panel, chart scores panel, attendee scores).

Every read of patient data is audited (one row per read; one row naming every patient for
lists). Scores are part of the clinical record: reading them needs ``Perm.NOTE_VIEW``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, IntegerField, Q, Value, When
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.core.access import require_perm
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program
from openiop.patients.models import Patient
from openiop.questionnaires import charts, outcomes, schedule
from openiop.questionnaires.instruments import registry
from openiop.questionnaires.models import (
    ClinicalAlert,
    QuestionnaireInvitation,
    QuestionnaireResponse,
    QuestionnaireSchedule,
)

CAT = AuditEvent.Category.CLINICAL
ATTENDEE_INSTRUMENTS = ("phq9", "gad7", "bam")


def _points(responses: Iterable[QuestionnaireResponse]) -> list[charts.Point]:
    """Chart points, oldest first, from responses of one instrument."""
    out = []
    for r in sorted(responses, key=lambda r: (r.administered_at, r.pk)):
        value = r.trend_value
        if value is not None:
            out.append(
                charts.Point(
                    on=r.administered_at.date(),
                    value=int(value),
                    flagged=bool(r.alert_flags),
                    severity=r.severity,
                )
            )
    return out


def response_list_for_patient(
    *,
    user: Any,
    patient: Patient,
    instrument: str | None = None,
    request: HttpRequest | None = None,
) -> list[QuestionnaireResponse]:
    """The patient's responses, newest first (optionally one instrument)."""
    require_perm(user, Perm.NOTE_VIEW)
    qs = QuestionnaireResponse.objects.for_org(user.organization_id).filter(patient=patient)
    if instrument:
        qs = qs.filter(instrument=instrument)
    responses = list(qs.select_related("administered_by", "episode"))
    audit_log(
        actor=user,
        action="openiop.questionnaires.response.list",
        category=CAT,
        obj=patient,
        patient=patient,
        request=request,
        detail={"instrument": instrument or "all", "count": len(responses)},
    )
    return responses


def response_get(*, user: Any, public_id: Any, request: HttpRequest | None = None):  # noqa: ANN201
    from openiop.core.access import get_for_user_or_404

    qs = QuestionnaireResponse.objects.select_related("patient", "administered_by", "episode")
    response = get_for_user_or_404(qs, user, public_id, Perm.NOTE_VIEW)
    audit_log(
        actor=user,
        action="openiop.questionnaires.response.view",
        category=CAT,
        obj=response,
        patient=response.patient,
        request=request,
    )
    return response


def score_trend(
    *, user: Any, patient: Patient, instrument: str, request: HttpRequest | None = None
) -> list[charts.Point]:
    """Scores over time (oldest first) for one instrument: the chart's data."""
    responses = response_list_for_patient(
        user=user, patient=patient, instrument=instrument, request=request
    )
    return _points(responses)


def alert_queryset_open(user: Any) -> Any:
    """Open alerts of the user's organization, the user's own first, then oldest first (not
    audited: callers audit what they show)."""
    from openiop.enrollment.caseload import scope_to_caseload

    return (
        scope_to_caseload(ClinicalAlert.objects.for_org(user.organization_id), user)
        .open()
        .select_related("patient", "assigned_to", "response", "episode__program")
        .annotate(
            mine=Case(
                When(assigned_to_id=user.pk, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("mine", "raised_at", "id")
    )


def alert_list_open(
    user: Any, *, request: HttpRequest | None = None, limit: int | None = None
) -> list[ClinicalAlert]:
    """Open alerts in the user's organization: the user's own first, then oldest first.

    Roles that cannot read the clinical record (front desk, billing) get an empty list."""
    if not user_has_perm(user, Perm.NOTE_VIEW):
        return []
    qs = alert_queryset_open(user)
    alerts = list(qs[:limit] if limit else qs)
    audit_log_many(
        actor=user,
        action="openiop.questionnaires.alert.list",
        category=CAT,
        patients=[a.patient for a in alerts],
        request=request,
    )
    return alerts


def alert_get(*, user: Any, public_id: Any, perm: Perm = Perm.NOTE_VIEW, request=None):  # noqa: ANN001, ANN201
    from openiop.core.access import get_for_user_or_404

    qs = ClinicalAlert.objects.select_related(
        "patient", "response", "assigned_to", "followed_up_by", "episode__program"
    )
    alert = get_for_user_or_404(qs, user, public_id, perm)
    audit_log(
        actor=user,
        action="openiop.questionnaires.alert.view",
        category=CAT,
        obj=alert,
        patient=alert.patient,
        request=request,
    )
    return alert


def _rules(organization_id: int, program_id: int) -> list[schedule.Rule]:
    return [
        schedule.Rule(s.instrument, s.at_admission, s.every_n_days, s.at_discharge)
        for s in QuestionnaireSchedule.objects.for_org(organization_id).filter(
            program_id=program_id
        )
    ]


def _given(
    organization_id: int, patient_ids: Iterable[int], instruments: Iterable[str]
) -> dict[int, dict[str, list[dt.date]]]:
    """{patient pk: {instrument: [dates given]}} in one query."""
    out: dict[int, dict[str, list[dt.date]]] = {}
    rows = (
        QuestionnaireResponse.objects.for_org(organization_id)
        .filter(patient_id__in=list(patient_ids), instrument__in=list(instruments))
        .values_list("patient_id", "instrument", "administered_at")
    )
    for patient_id, instrument, at in rows:
        out.setdefault(patient_id, {}).setdefault(instrument, []).append(at.date())
    return out


def _due(episode: Episode, rules: list[schedule.Rule], given: Any, today: dt.date) -> list:
    return schedule.due_items(
        rules,
        admitted_on=episode.admitted_on,
        today=today,
        given=given,
        discharged_on=episode.discharged_on,
    )


def questionnaires_due(episode: Episode, today: dt.date) -> list[schedule.Due]:
    """What the episode's program schedule says is due on ``today`` (not audited: it shows
    instrument names and dates, no scores)."""
    rules = _rules(episode.organization_id, episode.program_id)
    if not rules:
        return []
    given = _given(episode.organization_id, [episode.patient_id], [r.instrument for r in rules])
    return _due(episode, rules, given.get(episode.patient_id, {}), today)


@dataclass(frozen=True)
class DueRow:
    episode: Episode
    items: list[schedule.Due]

    @property
    def days_overdue(self) -> int:
        return max(d.days_overdue for d in self.items)


def schedule_list(*, program: Program) -> list[QuestionnaireSchedule]:
    """A program's schedule rows (configuration, no patient data: not audited)."""
    return list(
        QuestionnaireSchedule.objects.for_org(program.organization_id).filter(program=program)
    )


def questionnaires_due_for_program(
    *, user: Any, program: Program, today: dt.date, request: HttpRequest | None = None
) -> list[DueRow]:
    """Who in ``program`` has a questionnaire due or overdue on ``today``, most overdue first.

    Episodes admitted by ``today`` and not discharged, plus those discharged within the last
    ``schedule.WINDOW_DAYS`` days (their discharge administration may still be given). A fixed
    number of queries whatever the census (rules, episodes, responses). Audited as a list."""
    require_perm(user, Perm.NOTE_VIEW)
    rules = _rules(program.organization_id, program.pk)
    if not rules:
        return []
    since = today - dt.timedelta(days=schedule.WINDOW_DAYS)
    episodes = list(
        Episode.objects.for_org(program.organization_id)
        .filter(program=program, admitted_on__isnull=False, admitted_on__lte=today)
        .filter(Q(discharged_on__isnull=True) | Q(discharged_on__gte=since))
        .exclude(status=Episode.Status.WAITLISTED)
        .select_related("patient", "primary_counselor")
    )
    given = _given(
        program.organization_id, [e.patient_id for e in episodes], [r.instrument for r in rules]
    )
    rows = []
    for episode in episodes:
        items = _due(episode, rules, given.get(episode.patient_id, {}), today)
        if items:
            rows.append(DueRow(episode=episode, items=items))
    rows.sort(
        key=lambda r: (-r.days_overdue, r.episode.patient.last_name, r.episode.patient.first_name)
    )
    audit_log_many(
        actor=user,
        action="openiop.questionnaires.due.list",
        category=CAT,
        patients=[r.episode.patient for r in rows],
        request=request,
        detail={"program": str(program.public_id), "on": today.isoformat()},
    )
    return rows


# -- one-time links ----------------------------------------------------------------------------


def invitation_list_pending(
    *, user: Any, patient: Patient, request: HttpRequest | None = None
) -> list[QuestionnaireInvitation]:
    """The patient's links that can still be opened, newest first (the links themselves are
    never shown again: only the instrument, the first characters and the expiry)."""
    require_perm(user, Perm.QUESTIONNAIRE_RECORD)
    links = list(
        QuestionnaireInvitation.objects.for_org(user.organization_id)
        .filter(patient=patient)
        .pending(timezone.now())
        .select_related("created_by")
    )
    audit_log(
        actor=user,
        action="openiop.questionnaires.invitation.list",
        category=CAT,
        obj=patient,
        patient=patient,
        request=request,
        detail={"count": len(links)},
    )
    return links


def invitation_get(*, user: Any, public_id: Any) -> QuestionnaireInvitation:
    from openiop.core.access import get_for_user_or_404

    qs = QuestionnaireInvitation.objects.select_related("patient")
    return get_for_user_or_404(qs, user, public_id, Perm.QUESTIONNAIRE_RECORD)


# -- program outcomes --------------------------------------------------------------------------

OUTCOME_INSTRUMENTS: tuple[str, ...] = tuple(
    k for k in registry.KEYS if registry.get(k).reliable_change is not None
)


@dataclass
class OutcomeReport:
    program: Program
    instrument: str
    start: dt.date
    end: dt.date
    discharged: int  # discharged episodes in the range
    pairs: list[outcomes.Pair]
    summary: outcomes.Summary
    chart_svg: str = ""

    @property
    def definition(self):  # noqa: ANN201
        return registry.get(self.instrument)

    @property
    def left_out(self) -> int:
        return self.discharged - len(self.pairs)


def outcome_change(
    *,
    user: Any,
    program: Program,
    instrument: str,
    start: dt.date,
    end: dt.date,
    request: HttpRequest | None = None,
) -> OutcomeReport:
    """Admission-to-discharge change for episodes of ``program`` discharged from ``start`` to
    ``end`` (inclusive): pairs, summary and chart (rules in ``outcomes.py``). Three queries.
    Audited as a read naming every patient whose scores were used."""
    require_perm(user, Perm.NOTE_VIEW)
    d = registry.get(instrument)
    if d.reliable_change is None or d.clinical_cutoff is None:
        raise ValueError(f"{instrument} has no reliable-change threshold")
    episodes = list(
        Episode.objects.for_org(program.organization_id)
        .filter(
            program=program,
            status=Episode.Status.DISCHARGED,
            admitted_on__isnull=False,
            discharged_on__gte=start,
            discharged_on__lte=end,
        )
        .select_related("patient")
        .order_by("discharged_on", "id")
    )
    tz = program.site.tz
    by_patient: dict[int, list[outcomes.Scored]] = {}
    if episodes:
        lo = min(e.admitted_on for e in episodes) - dt.timedelta(days=outcomes.ADMISSION_BEFORE)
        hi = max(e.discharged_on for e in episodes) + dt.timedelta(
            days=outcomes.DISCHARGE_AFTER + 1
        )
        rows = (
            QuestionnaireResponse.objects.for_org(program.organization_id)
            .filter(
                patient_id__in={e.patient_id for e in episodes},
                instrument=instrument,
                total__isnull=False,
                administered_at__gte=dt.datetime.combine(lo, dt.time(), tzinfo=tz),
                administered_at__lt=dt.datetime.combine(hi, dt.time(), tzinfo=tz),
            )
            .values_list("pk", "patient_id", "administered_at", "total")
        )
        for pk, patient_id, at, total in rows:
            by_patient.setdefault(patient_id, []).append(
                outcomes.Scored(on=at.astimezone(tz).date(), value=total, key=pk)
            )
    pairs = []
    used = []
    for e in episodes:
        pair = outcomes.pair_for_episode(
            by_patient.get(e.patient_id, ()), admitted_on=e.admitted_on,
            discharged_on=e.discharged_on,
        )  # fmt: skip
        if pair is not None:
            pairs.append(pair)
            used.append(e.patient)
    summary = outcomes.summarize(
        pairs, reliable_change=d.reliable_change, clinical_cutoff=d.clinical_cutoff
    )
    report = OutcomeReport(
        program=program, instrument=instrument, start=start, end=end,
        discharged=len(episodes), pairs=pairs, summary=summary,
    )  # fmt: skip
    if summary.enough:
        report.chart_svg = charts.change_svg(
            instrument, [(p.admission.value, p.discharge.value) for p in pairs]
        )
    audit_log_many(
        actor=user,
        action="openiop.questionnaires.outcome.read",
        category=CAT,
        patients=used,
        request=request,
        detail={
            "program": str(program.public_id), "instrument": instrument,
            "from": start.isoformat(), "to": end.isoformat(), "n": len(pairs),
        },
    )  # fmt: skip
    return report


# -- partial contexts -------------------------------------------------------------------------


@dataclass
class InstrumentScores:
    instrument: str
    title: str
    latest: QuestionnaireResponse
    count: int
    first: QuestionnaireResponse
    chart_svg: str = ""
    metric: str = "total"

    @property
    def change(self) -> int | None:
        a, b = self.first.trend_value, self.latest.trend_value
        if a is None or b is None or self.count < 2:
            return None
        return b - a


@dataclass
class ScoresPanel:
    patient: Patient
    instruments: list[InstrumentScores] = field(default_factory=list)
    open_alerts: list[ClinicalAlert] = field(default_factory=list)
    due: list[schedule.Due] = field(default_factory=list)
    can_record: bool = False
    responses: list[QuestionnaireResponse] = field(default_factory=list)  # oldest first


def scores_panel(
    *,
    user: Any,
    patient: Patient,
    episode: Episode | None = None,
    today: dt.date | None = None,
    small_charts: bool = True,
    request: HttpRequest | None = None,
) -> ScoresPanel:
    """Latest score per instrument with a small trend chart, open alerts, and what is due.

    Context for ``questionnaires/_scores_panel.html`` (variable ``scores_panel``)."""
    require_perm(user, Perm.NOTE_VIEW)
    responses = list(
        QuestionnaireResponse.objects.for_org(user.organization_id)
        .filter(patient=patient)
        .select_related("administered_by")
        .order_by("administered_at", "id")
    )
    by_instrument: dict[str, list[QuestionnaireResponse]] = {}
    for r in responses:
        by_instrument.setdefault(r.instrument, []).append(r)
    panel = ScoresPanel(patient=patient, can_record=user_has_perm(user, Perm.QUESTIONNAIRE_RECORD))
    for key in registry.KEYS:
        rows = by_instrument.get(key)
        if not rows:
            continue
        points = _points(rows)
        d = registry.get(key)
        panel.instruments.append(
            InstrumentScores(
                instrument=key,
                title=d.short_title,
                latest=rows[-1],
                first=rows[0],
                count=len(rows),
                chart_svg=charts.trend_svg(key, points, small=small_charts) if points else "",
                metric=charts.metric_label(key),
            )
        )
    panel.open_alerts = list(
        ClinicalAlert.objects.for_org(user.organization_id)
        .open()
        .filter(patient=patient)
        .select_related("assigned_to")
    )
    if episode is not None and today is not None:
        panel.due = questionnaires_due(episode, today)
    panel.responses = responses
    audit_log(
        actor=user,
        action="openiop.questionnaires.response.list",
        category=CAT,
        obj=patient,
        patient=patient,
        request=request,
        detail={"instrument": "all", "count": len(responses), "view": "scores_panel"},
    )
    return panel


@dataclass(frozen=True)
class LatestScore:
    instrument: str
    title: str
    text: str  # "12 moderate" / "use 3 · risk 10 · protective 14"
    on: dt.date
    flagged: bool
    # Totals of the most recent responses, oldest first (at most SPARK_POINTS), for the
    # sparkline beside each attendee on the group-note screen.
    recent: tuple[int, ...] = ()
    max_total: int = 0

    @property
    def sparkline_points(self) -> str:
        """SVG polyline points in a 60 x 16 box; empty when there are fewer than two totals."""
        if len(self.recent) < 2 or self.max_total <= 0:
            return ""
        step = 60 / (len(self.recent) - 1)
        return " ".join(
            f"{i * step:.1f},{16 - 16 * min(v, self.max_total) / self.max_total:.1f}"
            for i, v in enumerate(self.recent)
        )


SPARK_POINTS = 6


def _latest_text(r: QuestionnaireResponse) -> str:
    if r.total is None:
        return " · ".join(f"{k} {v}" for k, v in r.subscales.items())
    return f"{r.total} {r.severity}".strip()


def latest_scores_for_patients(
    *,
    user: Any,
    patients: Iterable[Patient],
    instruments: tuple[str, ...] = ATTENDEE_INSTRUMENTS,
    request: HttpRequest | None = None,
) -> dict[int, list[LatestScore]]:
    """Latest PHQ-9 / GAD-7 / BAM per patient, keyed by patient pk, in one query (for the
    group-note screen; render each with ``{% attendee_scores scores_by_patient patient %}``).
    Roles without ``NOTE_VIEW`` get an empty mapping."""
    people = list(patients)
    if not people or not user_has_perm(user, Perm.NOTE_VIEW):
        return {}
    rows = (
        QuestionnaireResponse.objects.for_org(user.organization_id)
        .filter(patient__in=people, instrument__in=instruments)
        .order_by("patient_id", "instrument", "-administered_at", "-id")
        .only("patient_id", "instrument", "total", "severity", "subscales", "flags",
              "administered_at")
    )  # fmt: skip
    latest: dict[tuple[int, str], QuestionnaireResponse] = {}
    recent: dict[tuple[int, str], list[int]] = {}
    for r in rows:
        latest.setdefault((r.patient_id, r.instrument), r)
        totals = recent.setdefault((r.patient_id, r.instrument), [])
        if r.total is not None and len(totals) < SPARK_POINTS:
            totals.append(r.total)
    out: dict[int, list[LatestScore]] = {}
    for p in people:
        items = []
        for key in instruments:
            r = latest.get((p.pk, key))
            if r is not None:
                items.append(
                    LatestScore(
                        instrument=key,
                        title=registry.get(key).short_title,
                        text=_latest_text(r),
                        on=r.administered_at.date(),
                        flagged=bool(r.alert_flags),
                        recent=tuple(reversed(recent.get((p.pk, key), []))),
                        max_total=registry.get(key).max_total or 0,
                    )
                )
        out[p.pk] = items
    audit_log_many(
        actor=user,
        action="openiop.questionnaires.response.latest",
        category=CAT,
        patients=[p for p in people if out.get(p.pk)],
        request=request,
    )
    return out
