"""Charge capture from the record: attendance, signed notes and drug screens -> charge lines ->
scrubbed, per patient and day. The reads behind the billing screen, claim building and the
``openiop billing export`` command.

For each episode in treatment during the period this module builds the list of
:class:`~openiop.billing.charge_rules.Service` facts and hands them to the pure rules:

* one service per attended session (present / late / left early with minutes > 0, session not
  cancelled), dated on the site-local day it starts: its kind from the session's kind (group,
  individual, family, medication, assessment), its minutes from attendance, video with the
  patient at home when the session was virtual (audio only when the signed note says so),
  group size = the attendees present at a group session, and ``note_signed`` = a signed note
  of that session for that patient exists (the individualized part of the group note, or the
  individual / family / medication note). SUD counseling notes (42 CFR 2.11) never count;
* one service per individual, family or medication-management note written without a session
  (its minutes from the note's start and end), signed or not;
* one service per presumptive (point-of-care) drug screen, documented once a result is entered.

The payer billed is the patient's coverage in force with the lowest priority number (primary
first); the payer's rules (``payer_config``) price the lines; the scrubber then lists what
blocks each one: coverage, member id, authorization (units used before the period counted from
attendance, as on the authorization pages), Medicare certification, unsigned notes, hours.

Weeks are judged whole: services are loaded from the Monday before the period to the Sunday
after it, and only the lines dated inside the period are shown or claimed. Note bodies are
never read here (only ids, kinds, times, status); the loaders take a fixed number of queries
whatever the number of patients (pinned in the tests).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest

from openiop.accounts.permissions import Perm
from openiop.attendance.models import AttendanceRecord
from openiop.billing.charge_rules import (
    ChargeLine,
    ChargeResult,
    Modality,
    PayerRules,
    ProgramKind,
    Service,
    ServiceKind,
    Skipped,
    charge_lines,
    per_diem_rules,
    week_start,
)
from openiop.billing.models import (
    Authorization,
    Certification,
    ClaimLine,
    ClaimStatus,
    Coverage,
    Payer,
    ProgramPayerRule,
)
from openiop.billing.payer_config import RulesError, payer_rules
from openiop.billing.scrubber import (
    AuthorizationFacts,
    CertificationFacts,
    LineReport,
    PayerKind,
    Relationship,
    UnitKind,
    scrub,
)
from openiop.billing.scrubber import Coverage as CoverageFacts
from openiop.billing.selectors import _visits_by_episode, count_units
from openiop.clinical.models import Note
from openiop.core.access import require_perm
from openiop.core.audit import audit_log_many
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.medications.models import DrugScreen
from openiop.scheduling.models import Session, SessionKind

CAT = AuditEvent.Category.BILLING
MAX_DAYS = 62  # the longest period one screen or one claim build covers

SESSION_KINDS: dict[str, ServiceKind] = {
    SessionKind.GROUP: ServiceKind.GROUP,
    SessionKind.INDIVIDUAL: ServiceKind.INDIVIDUAL,
    SessionKind.FAMILY: ServiceKind.FAMILY_WITH_PATIENT,
    SessionKind.MEDICATION: ServiceKind.MEDICATION_MANAGEMENT,
    SessionKind.ASSESSMENT: ServiceKind.ASSESSMENT,
}
NOTE_KINDS: dict[str, ServiceKind] = {
    Note.Kind.INDIVIDUAL: ServiceKind.INDIVIDUAL,
    Note.Kind.FAMILY: ServiceKind.FAMILY_WITH_PATIENT,
    Note.Kind.MEDICATION: ServiceKind.MEDICATION_MANAGEMENT,
}
KIND_LABELS: dict[ServiceKind, str] = {
    ServiceKind.GROUP: "Group therapy",
    ServiceKind.INDIVIDUAL: "Individual therapy",
    ServiceKind.FAMILY_WITH_PATIENT: "Family therapy",
    ServiceKind.FAMILY_WITHOUT_PATIENT: "Family therapy (patient absent)",
    ServiceKind.MULTI_FAMILY_GROUP: "Multi-family group",
    ServiceKind.MEDICATION_MANAGEMENT: "Medication management",
    ServiceKind.DRUG_SCREEN_PRESUMPTIVE: "Drug screen",
    ServiceKind.ASSESSMENT: "Assessment",
    ServiceKind.PSYCHOEDUCATION: "Psychoeducation",
}
MODALITY_WORDS = {
    Modality.IN_PERSON: "in person",
    Modality.VIDEO: "video",
    Modality.AUDIO_ONLY: "audio only",
}


def check_period(start: dt.date | None, end: dt.date | None) -> str:
    """Why a billing period cannot be used ("" when it can)."""
    if start is None or end is None:
        return "Choose the first and last day."
    if end < start:
        return "The last day is before the first day."
    if (end - start).days + 1 > MAX_DAYS:
        return f"Choose at most {MAX_DAYS} days at a time."
    return ""


def window(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """Monday of the first week to Sunday of the last week: whole weeks for the per-diem rule."""
    return week_start(start), week_start(end) + dt.timedelta(days=6)


def source_key(ids: Iterable[str]) -> str:
    return "|".join(sorted(ids))[:400]


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceInfo:
    """What a billing clerk sees of one service: kind, time, minutes, how, documented or not."""

    service: Service

    @property
    def label(self) -> str:
        s = self.service
        parts = [KIND_LABELS.get(s.kind, s.kind.value)]
        if s.starts_at is not None:
            parts.append(f"{s.starts_at:%H:%M}")
        if s.kind != ServiceKind.DRUG_SCREEN_PRESUMPTIVE:
            parts.append(f"{s.minutes} min")
            parts.append(MODALITY_WORDS[s.modality] + (" (home)" if s.patient_at_home else ""))
        if s.group_size is not None:
            parts.append(f"group of {s.group_size}")
        return ", ".join(parts)

    @property
    def documented(self) -> bool:
        return self.service.note_signed

    @property
    def documented_label(self) -> str:
        if self.service.kind == ServiceKind.DRUG_SCREEN_PRESUMPTIVE:
            return "result entered" if self.service.note_signed else "no result yet"
        return "note signed" if self.service.note_signed else "note not signed"


@dataclass(frozen=True)
class LineView:
    report: LineReport
    claim_number: str = ""
    claim_status: str = ""

    @property
    def line(self) -> ChargeLine:
        return self.report.line

    @property
    def blocked(self) -> bool:
        return self.report.blocked

    @property
    def claimed(self) -> bool:
        return bool(self.claim_number)

    @property
    def state(self) -> str:
        if self.claimed:
            return "claimed"
        return "blocked" if self.blocked else "clean"

    @property
    def modifiers(self) -> str:
        return ", ".join(self.line.modifiers)


@dataclass(frozen=True)
class DayView:
    day: dt.date
    services: tuple[ServiceInfo, ...]
    lines: tuple[LineView, ...]
    skipped: tuple[Skipped, ...]


@dataclass
class PatientBilling:
    """One episode's charges for the period with one payer (or none)."""

    episode: Episode
    payer: Payer | None
    coverage: Coverage | None
    rules: PayerRules
    program_kind: ProgramKind
    start: dt.date
    end: dt.date
    services: list[Service] = field(default_factory=list)
    result: ChargeResult | None = None
    reports: list[LineReport] = field(default_factory=list)
    claimed: dict[tuple[dt.date, str, str], tuple[str, str]] = field(default_factory=dict)
    authorizations: list[Authorization] = field(default_factory=list)
    rules_error: str = ""

    @property
    def patient(self) -> Any:
        return self.episode.patient

    def _in_period(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    @property
    def line_views(self) -> list[LineView]:
        out = []
        for r in self.reports:
            if not self._in_period(r.line.service_date):
                continue
            key = (r.line.service_date, r.line.code, source_key(r.line.source_service_ids))
            number, status = self.claimed.get(key, ("", ""))
            out.append(LineView(r, number, status))
        return out

    @property
    def days(self) -> list[DayView]:
        views = self.line_views
        skipped = self.result.skipped if self.result is not None else ()
        dates = sorted(
            {s.service_date for s in self.services if self._in_period(s.service_date)}
            | {v.line.service_date for v in views}
        )
        return [
            DayView(
                day=d,
                services=tuple(ServiceInfo(s) for s in self.services if s.service_date == d),
                lines=tuple(v for v in views if v.line.service_date == d),
                skipped=tuple(s for s in skipped if s.service_date == d),
            )
            for d in dates
        ]

    @property
    def clean_lines(self) -> list[ChargeLine]:
        """Lines in the period with nothing blocking them and not on a claim yet."""
        if self.payer is None or self.payer.is_self_pay:
            return []
        return [v.line for v in self.line_views if not v.blocked and not v.claimed]

    @property
    def counts(self) -> dict[str, int]:
        views = self.line_views
        return {
            "clean": sum(1 for v in views if v.state == "clean"),
            "blocked": sum(1 for v in views if v.state == "blocked"),
            "claimed": sum(1 for v in views if v.state == "claimed"),
        }

    @property
    def clean_total(self) -> Decimal:
        return sum((ln.charge for ln in self.clean_lines), Decimal(0))


# --- loading ------------------------------------------------------------------------------------


def _episodes(
    organization_id: int,
    lo: dt.date,
    hi: dt.date,
    *,
    program: Any = None,
    episode: Episode | None = None,
) -> list[Episode]:
    qs = (
        Episode.objects.for_org(organization_id)
        .filter(admitted_on__isnull=False, admitted_on__lte=hi)
        .filter(Q(discharged_on__isnull=True) | Q(discharged_on__gte=lo))
        .select_related("patient", "program__site")
        .order_by("patient__last_name", "patient__first_name", "id")
    )
    if program is not None:
        qs = qs.filter(program=program)
    if episode is not None:
        qs = qs.filter(pk=episode.pk)
    return list(qs)


def _utc_bounds(lo: dt.date, hi: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """UTC instants a day wider on each side, so every site's local days are covered."""
    return (
        dt.datetime.combine(lo - dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC),
        dt.datetime.combine(hi + dt.timedelta(days=2), dt.time(0), tzinfo=dt.UTC),
    )


def load_services(
    organization_id: int, episodes: Sequence[Episode], lo: dt.date, hi: dt.date
) -> dict[int, list[Service]]:
    """Every billable service of ``episodes`` dated in [lo, hi], by episode pk. Five queries."""
    if not episodes:
        return {}
    by_pk = {e.pk: e for e in episodes}
    first, last = _utc_bounds(lo, hi)
    out: dict[int, list[Service]] = defaultdict(list)

    rows = list(
        AttendanceRecord.objects.for_org(organization_id)
        .filter(
            episode_id__in=list(by_pk),
            status__in=AttendanceRecord.ATTENDED,
            minutes_attended__gt=0,
            session__starts_at__gte=first,
            session__starts_at__lt=last,
        )
        .exclude(session__status=Session.Status.CANCELLED)
        .values_list(
            "public_id", "episode_id", "patient_id", "session_id", "session__kind",
            "session__starts_at", "session__is_virtual", "minutes_attended",
        )
    )  # fmt: skip
    session_ids = {r[3] for r in rows}
    group_ids = [r[3] for r in rows if r[4] == SessionKind.GROUP]
    sizes: dict[int, int] = {}
    if group_ids:
        sizes = dict(
            AttendanceRecord.objects.for_org(organization_id)
            .filter(session_id__in=group_ids, status__in=AttendanceRecord.ATTENDED)
            .values("session_id")
            .annotate(n=Count("id"))
            .values_list("session_id", "n")
        )
    signed: dict[tuple[int, int], str] = {}
    if session_ids:
        for session_id, patient_id, modality in (
            Note.objects.for_org(organization_id)
            .filter(session_id__in=session_ids, status=Note.Status.SIGNED)
            .exclude(kind=Note.Kind.SUD_COUNSELING)
            .values_list("session_id", "patient_id", "modality")
        ):
            signed[(session_id, patient_id)] = modality
    for pid, episode_id, patient_id, session_id, kind, starts_at, virtual, minutes in rows:
        tz = by_pk[episode_id].program.site.tz
        local = starts_at.astimezone(tz)
        day = local.date()
        if not lo <= day <= hi:
            continue
        note_modality = signed.get((session_id, patient_id))
        if note_modality == Note.Modality.AUDIO_ONLY:
            modality = Modality.AUDIO_ONLY
        elif virtual:
            modality = Modality.VIDEO
        else:
            modality = Modality.IN_PERSON
        service_kind = SESSION_KINDS.get(kind, ServiceKind.GROUP)
        out[episode_id].append(
            Service(
                service_id=f"att:{pid}",
                service_date=day,
                kind=service_kind,
                minutes=int(minutes),
                modality=modality,
                patient_at_home=modality != Modality.IN_PERSON,
                note_signed=note_modality is not None,
                group_size=sizes.get(session_id) if service_kind == ServiceKind.GROUP else None,
                session_id=str(session_id),
                starts_at=local.time().replace(second=0, microsecond=0),
            )
        )

    for pid, episode_id, kind, started, ended, modality, status in (
        Note.objects.for_org(organization_id)
        .filter(
            episode_id__in=list(by_pk),
            session__isnull=True,
            amends__isnull=True,
            kind__in=list(NOTE_KINDS),
            started_at__gte=first,
            started_at__lt=last,
            ended_at__isnull=False,
        )
        .values_list("public_id", "episode_id", "kind", "started_at", "ended_at", "modality",
                     "status")
    ):  # fmt: skip
        local = started.astimezone(by_pk[episode_id].program.site.tz)
        if not lo <= local.date() <= hi:
            continue
        mod = Modality(modality) if modality in Modality._value2member_map_ else Modality.IN_PERSON
        out[episode_id].append(
            Service(
                service_id=f"note:{pid}",
                service_date=local.date(),
                kind=NOTE_KINDS[kind],
                minutes=max(0, int((ended - started).total_seconds() // 60)),
                modality=mod,
                patient_at_home=mod != Modality.IN_PERSON,
                note_signed=status == Note.Status.SIGNED,
                starts_at=local.time().replace(second=0, microsecond=0),
            )
        )

    for pid, episode_id, collected_on, collected_at, results in (
        DrugScreen.objects.for_org(organization_id)
        .filter(
            episode_id__in=list(by_pk),
            method=DrugScreen.Method.PRESUMPTIVE,
            collected_on__gte=lo,
            collected_on__lte=hi,
        )
        .annotate(n_results=Count("results"))
        .values_list("public_id", "episode_id", "collected_on", "collected_at", "n_results")
    ):
        local = collected_at.astimezone(by_pk[episode_id].program.site.tz)
        out[episode_id].append(
            Service(
                service_id=f"screen:{pid}",
                service_date=collected_on,
                kind=ServiceKind.DRUG_SCREEN_PRESUMPTIVE,
                minutes=0,
                note_signed=results > 0,
                starts_at=local.time().replace(second=0, microsecond=0),
            )
        )
    return out


def coverage_facts(coverage: Coverage) -> CoverageFacts:
    payer = coverage.payer
    kind = payer.kind if payer.kind in PayerKind._value2member_map_ else PayerKind.OTHER
    relationship = coverage.subscriber_relationship
    if relationship not in Relationship._value2member_map_:
        relationship = Relationship.OTHER
    return CoverageFacts(
        coverage_id=str(coverage.public_id),
        payer_kind=PayerKind(kind),
        payer_name=payer.name,
        member_id=coverage.member_id,
        group_number=coverage.group_number,
        subscriber_relationship=Relationship(relationship),
        priority=coverage.priority,
        effective_on=coverage.effective_on,
        terminates_on=coverage.terminates_on,
        active=coverage.active,
        copay=coverage.copay,
        coinsurance_percent=coverage.coinsurance_percent,
        deductible=coverage.deductible,
    )


def choose_coverage(
    coverages: Sequence[Coverage], start: dt.date, end: dt.date, payer: Payer | None = None
) -> Coverage | None:
    """The coverage billed for a period: of those in force for part of it, the lowest priority
    number (then the latest start); else the most recent one on file, so the scrubber can say
    it expired or has not started. ``payer`` keeps only that payer's coverages."""
    mine = [c for c in coverages if payer is None or c.payer_id == payer.pk]
    if not mine:
        return None

    def overlaps(c: Coverage) -> bool:
        return (
            c.active
            and (c.effective_on is None or c.effective_on <= end)
            and (c.terminates_on is None or c.terminates_on >= start)
        )

    in_force = [c for c in mine if overlaps(c)]
    if in_force:
        return min(
            in_force, key=lambda c: (c.priority, -(c.effective_on or dt.date.min).toordinal())
        )
    return max(mine, key=lambda c: (c.effective_on or dt.date.min, c.pk))


def rules_for(
    payer: Payer, program_rule: ProgramPayerRule | None
) -> tuple[PayerRules, ProgramKind]:
    """The payer's rules for one program (raises RulesError for bad stored settings)."""
    fees = dict(payer.fee_schedule or {})
    kind = ProgramKind.SUD_IOP
    extra: dict[str, Any] | None = None
    if program_rule is not None:
        fees.update(program_rule.fee_overrides or {})
        kind = ProgramKind(program_rule.program_kind)
        extra = program_rule.rules_overrides or None
    rules = payer_rules(
        billing_model=payer.billing_model,
        claim_type=payer.claim_type,
        fee_schedule=fees,
        overrides=payer.rules_overrides or None,
        name=payer.name,
        group_size_cap=payer.group_size_cap,
        extra_overrides=extra,
    )
    return rules, kind


def _auth_matches(auth: Authorization, payer: Payer) -> bool:
    if auth.payer_id is not None:
        return auth.payer_id == payer.pk
    return auth.payer_name.strip().casefold() == payer.name.strip().casefold()


def billing_compute(
    organization_id: int,
    start: dt.date,
    end: dt.date,
    *,
    program: Any = None,
    episode: Episode | None = None,
    payer: Payer | None = None,
    today: dt.date | None = None,
) -> list[PatientBilling]:
    """Charges and their problems for every episode in treatment in [start, end] (optionally one
    program, one episode, one payer). Not audited: callers audit what they show or do."""
    lo, hi = window(start, end)
    episodes = _episodes(organization_id, lo, hi, program=program, episode=episode)
    if not episodes:
        return []
    services = load_services(organization_id, episodes, lo, hi)
    patient_ids = {e.patient_id for e in episodes}
    coverages: dict[int, list[Coverage]] = defaultdict(list)
    for c in (
        Coverage.objects.for_org(organization_id)
        .filter(patient_id__in=patient_ids)
        .select_related("payer")
        .order_by("priority", "id")
    ):
        coverages[c.patient_id].append(c)
    program_rules = {
        (r.payer_id, r.program_id): r
        for r in ProgramPayerRule.objects.for_org(organization_id).filter(
            program_id__in={e.program_id for e in episodes}
        )
    }
    auths: dict[int, list[Authorization]] = defaultdict(list)
    for a in Authorization.objects.for_org(organization_id).filter(
        episode_id__in=[e.pk for e in episodes], status=Authorization.Status.ACTIVE
    ):
        auths[a.episode_id].append(a)
    earliest = min((a.start_on for rows in auths.values() for a in rows), default=lo)
    visits = (
        _visits_by_episode(episodes, earliest, lo - dt.timedelta(days=1)) if earliest < lo else {}
    )
    certs: dict[int, list[CertificationFacts]] = defaultdict(list)
    for c in Certification.objects.for_org(organization_id).filter(
        episode_id__in=[e.pk for e in episodes]
    ):
        certs[c.episode_id].append(
            CertificationFacts(
                signed_on=c.signed_on,
                recertification=c.kind == Certification.Kind.RECERTIFICATION,
                certification_id=str(c.public_id),
            )
        )
    claimed: dict[tuple[int, int], dict[tuple[dt.date, str, str], tuple[str, str]]] = defaultdict(
        dict
    )
    for episode_id, payer_id, day, code, key, number, status in (
        ClaimLine.objects.for_org(organization_id)
        .filter(
            claim__episode_id__in=[e.pk for e in episodes],
            service_date__gte=lo,
            service_date__lte=hi,
        )
        .exclude(claim__status=ClaimStatus.VOID)
        .values_list(
            "claim__episode_id", "claim__payer_id", "service_date", "code", "source_key",
            "claim__claim_number", "claim__status",
        )
    ):  # fmt: skip
        claimed[(episode_id, payer_id)][(day, code, key)] = (number, status)

    out: list[PatientBilling] = []
    for e in episodes:
        chosen = choose_coverage(coverages.get(e.patient_id, []), start, end, payer)
        if payer is not None and chosen is None:
            continue
        local_today = today or e.program.site.today()
        mine = sorted(services.get(e.pk, []), key=lambda s: (s.service_date, s.service_id))
        pb = PatientBilling(
            episode=e,
            payer=chosen.payer if chosen else None,
            coverage=chosen,
            rules=per_diem_rules(name="no payer on file"),
            program_kind=ProgramKind.SUD_IOP,
            start=start,
            end=end,
            services=mine,
        )
        if chosen is not None:
            try:
                pb.rules, pb.program_kind = rules_for(
                    chosen.payer, program_rules.get((chosen.payer_id, e.program_id))
                )
            except RulesError as exc:
                pb.rules_error = f"The payer's settings have a problem: {exc}"
                out.append(pb)
                continue
            pb.claimed = claimed.get((e.pk, chosen.payer_id), {})
        pb.result = charge_lines(
            mine,
            pb.rules,
            program_kind=pb.program_kind,
            today=local_today,
            enrolled=(e.admitted_on, e.discharged_on) if e.admitted_on else None,
        )
        payer_coverages = (
            [coverage_facts(c) for c in coverages[e.patient_id] if c.payer_id == chosen.payer_id]
            if chosen is not None
            else []
        )
        auth_facts = []
        if chosen is not None:
            for a in auths.get(e.pk, []):
                if not _auth_matches(a, chosen.payer):
                    continue
                pb.authorizations.append(a)
                used = Decimal(0)
                if a.start_on < lo:
                    used = count_units(
                        a.unit_kind,
                        visits.get(e.pk, ()),
                        a.start_on,
                        min(a.end_on, lo - dt.timedelta(days=1)),
                    )
                auth_facts.append(
                    AuthorizationFacts(
                        authorization_id=str(a.public_id),
                        code=a.service_code.strip().upper(),
                        units_authorized=Decimal(a.units_authorized),
                        unit_kind=UnitKind(a.unit_kind),
                        start_on=a.start_on,
                        end_on=a.end_on,
                        used_before=used,
                        level_of_care=a.level_of_care,
                        number=a.auth_number,
                    )
                )
        pb.reports = scrub(
            pb.result.lines,
            rules=pb.rules,
            coverages=payer_coverages,
            authorizations=auth_facts,
            certifications=certs.get(e.pk, []),
            today=local_today,
            level_of_care=e.program.level_of_care or None,
        )
        out.append(pb)
    return out


def billing_day_list(
    *,
    user: Any,
    start: dt.date,
    end: dt.date,
    program: Any = None,
    request: HttpRequest | None = None,
) -> list[PatientBilling]:
    """The billing screen: per patient and day, the lines and what blocks them. One audit row
    naming every patient shown."""
    require_perm(user, Perm.BILLING_VIEW)
    rows = billing_compute(user.organization_id, start, end, program=program)
    rows = [r for r in rows if r.services or r.reports]
    audit_log_many(
        actor=user,
        action="openiop.billing.charges.list",
        category=CAT,
        patients=[r.patient for r in rows],
        request=request,
        detail={
            "start": start.isoformat(),
            "end": end.isoformat(),
            "program": str(program.public_id) if program is not None else "",
        },
    )
    return rows
