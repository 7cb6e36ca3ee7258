"""Every resource type the FHIR facade serves: where its rows come from, how they are loaded,
which search parameters it answers, who may see it, and which mapper renders it.

A ``Spec`` is the single place that knows these facts for one type; ``openiop.fhir.selectors``
applies the access rules and paging, ``openiop.fhir.views`` speaks HTTP.

* ``patient_path``: the lookup from a row to its patient (``"pk"`` for Patient itself); None for
  resources that hold no patient data (Organization, Location, HealthcareService, Practitioner).
  Patient tokens are narrowed along it, counselors' caseloads too, and outside clients see only
  rows of patients whose Part 2 consent covers ``category``.
* ``perm``: what a staff member's role must grant for ``user/`` tokens.
* ``category``: the kind of information (``openiop.consent.rules.CATEGORIES``) a consent must
  cover for an outside client to receive it.
* ``render(rows, ctx, today)``: load what the mappers need for one page of rows in a fixed
  number of queries, then map each row (the mappers run no query).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from openiop.accounts.permissions import Perm
from openiop.fhir.mappers import (
    appointment,
    audit_event,
    careplan,
    condition,
    consent,
    coverage,
    document_reference,
    encounter,
    episode_of_care,
    goal,
    group,
    healthcare_service,
    location,
    medication,
    observation,
    organization,
    patient,
    practitioner,
    questionnaire_response,
)
from openiop.fhir.mappers.common import MapContext


class SearchError(ValueError):
    """A search parameter the server does not support or cannot parse (400 OperationOutcome)."""


Filter = Callable[[QuerySet[Any], str], QuerySet[Any]]


@dataclass
class Spec:
    type: str
    queryset: Callable[[int], QuerySet[Any]]  # organization id -> base rows, loaded for mapping
    render: Callable[[list[Any], MapContext, dict[str, Any]], list[dict[str, Any]]]
    perm: Perm
    patient_path: str | None
    category: str | None
    params: dict[str, Filter] = field(default_factory=dict)
    id_field: str = "public_id"
    updated_field: str = "updated_at"
    date_field: str | None = None  # what `date` / `authored` / `period` search compares

    def filter_id(self, qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        return qs.filter(**{self.id_field: value})


# --- parameter parsing ---------------------------------------------------------------------------

_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")
_DATE = re.compile(r"^(eq|ne|gt|lt|ge|le|sa|eb)?(\d{4}(-\d{2}(-\d{2})?)?)(T[0-9:.+\-Z]+)?$")


def parse_date_param(value: str) -> tuple[str, dt.datetime, dt.datetime]:
    """``ge2026-11-01`` -> (prefix, start, end) of the instant range the value denotes (UTC)."""
    m = _DATE.match(value)
    if not m:
        raise SearchError(f"not a FHIR date search value: {value!r} (e.g. ge2026-11-01)")
    prefix = m.group(1) or "eq"
    text = m.group(2) + (m.group(5) or "")
    try:
        if m.group(5):
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise SearchError(f"{value!r}: a time needs a time zone (Z or +hh:mm)")
            return prefix, moment, moment + dt.timedelta(seconds=1)
        parts = [int(p) for p in m.group(2).split("-")]
        if len(parts) == 1:
            start = dt.date(parts[0], 1, 1)
            end = dt.date(parts[0] + 1, 1, 1)
        elif len(parts) == 2:
            start = dt.date(parts[0], parts[1], 1)
            end = dt.date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
        else:
            start = dt.date(*parts)
            end = start + dt.timedelta(days=1)
    except (ValueError, OverflowError) as exc:
        raise SearchError(f"{value!r}: {exc}") from None
    as_dt = lambda d: dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)  # noqa: E731
    return prefix, as_dt(start), as_dt(end)


def date_filter(path: str, *, is_date: bool = False) -> Filter:
    def apply(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        prefix, start, end = parse_date_param(value)
        lo, hi = (start.date(), end.date()) if is_date else (start, end)
        if prefix == "eq":
            return qs.filter(**{f"{path}__gte": lo, f"{path}__lt": hi})
        if prefix == "ne":
            return qs.exclude(**{f"{path}__gte": lo, f"{path}__lt": hi})
        if prefix in ("gt", "sa"):
            return qs.filter(**{f"{path}__gte": hi})
        if prefix == "ge":
            return qs.filter(**{f"{path}__gte": lo})
        if prefix in ("lt", "eb"):
            return qs.filter(**{f"{path}__lt": lo})
        return qs.filter(**{f"{path}__lt": hi})  # le

    return apply


def _ref_id(value: str, resource_type: str) -> str:
    """``Patient/<uuid>``, ``<uuid>`` or an absolute URL ending so -> the uuid."""
    text = value.rsplit("/", 2)
    if len(text) >= 2 and text[-2] not in (resource_type,) and "/" in value:
        raise SearchError(f"{value!r} is not a {resource_type} reference")
    ident = text[-1]
    if not re.fullmatch(r"[0-9a-fA-F-]{36}", ident):
        raise SearchError(f"{value!r} is not a {resource_type} id")
    return ident


def ref_filter(path: str, resource_type: str = "Patient") -> Filter:
    def apply(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        ids = [_ref_id(v, resource_type) for v in value.split(",")]
        return qs.filter(**{f"{path}__in": ids})

    return apply


def token_filter(mapping: Callable[[str, str], Q]) -> Filter:
    """A token parameter ``[system|]code`` (comma = or) through ``mapping(system, code) -> Q``."""

    def apply(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        # An empty Q() means "any row"; OR-ing it into another Q would silently drop it.
        parts = [mapping(*part.rpartition("|")[::2]) for part in value.split(",")]
        if any(not q for q in parts):
            return qs
        combined = parts[0]
        for q in parts[1:]:
            combined |= q
        return qs.filter(combined)

    return apply


def string_filter(*paths: str) -> Filter:
    """FHIR string search: case-insensitive "starts with" on any of the fields, per word."""

    def apply(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        for word in value.split():
            q = Q()
            for path in paths:
                q |= Q(**{f"{path}__istartswith": word})
            qs = qs.filter(q)
        return qs

    return apply


def _fixed(codes: dict[str, Q], name: str) -> Callable[[str, str], Q]:
    def mapping(system: str, code: str) -> Q:  # noqa: ARG001
        if code not in codes:
            raise SearchError(f"{name}: unsupported code {code!r} (one of {', '.join(codes)})")
        return codes[code]

    return mapping


# --- rendering helpers ---------------------------------------------------------------------------


def _each(fn: Callable[..., dict[str, Any]], **fixed: Any) -> Callable[..., list[dict[str, Any]]]:
    def render(rows: list[Any], ctx: MapContext, env: dict[str, Any]) -> list[dict[str, Any]]:
        extra = {k: env[v] for k, v in fixed.items()}
        return [fn(row, ctx=ctx, **extra) for row in rows]

    return render


def _render_episodes(rows: list[Any], ctx: MapContext, env: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        episode_of_care.to_fhir(
            e, ctx=ctx, status_changes=list(e.status_changes.all()), today=env["today"]
        )
        for e in rows
    ]


def _render_encounters(
    rows: list[Any], ctx: MapContext, env: dict[str, Any]
) -> list[dict[str, Any]]:
    """Load each page's sessions once (not a 7-way join per attendance row)."""
    from openiop.scheduling.models import Session

    ids = {r.session_id for r in rows}
    sessions = {
        s.pk: s
        for s in Session.objects.filter(pk__in=ids)
        .select_related("program__site", "room")
        .prefetch_related("facilitators")
    }
    out = []
    for r in rows:
        r.session = sessions[r.session_id]
        r.organization = env["organization"]
        out.append(encounter.to_fhir(r, ctx=ctx))
    return out


def _render_appointments(
    rows: list[Any],
    ctx: MapContext,
    env: dict[str, Any],  # noqa: ARG001
) -> list[dict[str, Any]]:
    out = []
    for s in rows:
        bookings = list(s.attendance.all())
        # Another patient's booking is their data: a patient or outside client sees only the
        # bookings of patients it may see.
        visible = {p.pk for p in env["allowed_members"]([b.patient for b in bookings])}
        shown = [b for b in bookings if b.patient_id in visible]
        out.append(appointment.to_fhir(s, ctx=ctx, bookings=shown))
    return out


def _render_careplans(
    rows: list[Any],
    ctx: MapContext,
    env: dict[str, Any],  # noqa: ARG001
) -> list[dict[str, Any]]:
    out = []
    for plan in rows:
        problems = list(plan.problems.all())
        goals = [g for p in problems for g in p.goals.all()]
        interventions = [
            i for g in goals for o in g.objectives.all() for i in o.interventions.all()
        ]
        out.append(
            careplan.to_fhir(
                plan, ctx=ctx, problems=problems, goals=goals, interventions=interventions
            )
        )
    return out


def _render_goals(
    rows: list[Any],
    ctx: MapContext,
    env: dict[str, Any],  # noqa: ARG001
) -> list[dict[str, Any]]:
    return [goal.to_fhir(g, ctx=ctx, objectives=list(g.objectives.all())) for g in rows]


def _render_notes(rows: list[Any], ctx: MapContext, env: dict[str, Any]) -> list[dict[str, Any]]:
    from openiop.attendance.models import AttendanceRecord

    sessions = {n.session_id for n in rows if n.session_id}
    records: dict[tuple[int, int], Any] = {}
    if sessions:
        for rec in AttendanceRecord.objects.for_org(env["organization"].pk).filter(
            session_id__in=sessions
        ):
            records[(rec.session_id, rec.patient_id)] = rec
    return [
        document_reference.to_fhir(n, ctx=ctx, encounter=records.get((n.session_id, n.patient_id)))
        for n in rows
    ]


def _render_groups(rows: list[Any], ctx: MapContext, env: dict[str, Any]) -> list[dict[str, Any]]:
    members = env["group_members"]
    return [group.to_fhir(p, ctx=ctx, members=members(p)) for p in rows]


def _render_audit(rows: list[Any], ctx: MapContext, env: dict[str, Any]) -> list[dict[str, Any]]:
    return [audit_event.to_fhir(e, ctx=ctx, organization=env["organization"]) for e in rows]


# --- the specs -----------------------------------------------------------------------------------


def _specs() -> dict[str, Spec]:
    from openiop.accounts.models import User
    from openiop.attendance.models import AttendanceRecord
    from openiop.billing.models import Coverage
    from openiop.clinical.models import (
        Note,
        PlanGoal,
        PlanObjective,
        PlanProblem,
        TreatmentPlan,
    )
    from openiop.consent.models import Consent
    from openiop.core.models import AuditEvent
    from openiop.enrollment.models import Episode
    from openiop.medications.models import Medication
    from openiop.organizations.models import Organization, Program, Site
    from openiop.patients.models import Patient
    from openiop.questionnaires.instruments import registry as instruments
    from openiop.questionnaires.models import QuestionnaireResponse
    from openiop.scheduling.models import Session

    loinc_to_instrument = {
        i.total_loinc: key for key, i in instruments.INSTRUMENTS.items() if i.total_loinc
    }

    def obs_code(system: str, code: str) -> Q:
        if code in loinc_to_instrument and system in ("", "http://loinc.org"):
            return Q(instrument=loinc_to_instrument[code])
        if system in ("", observation.SCORES_SYSTEM) and code in instruments.INSTRUMENTS:
            return Q(instrument=code)
        return Q(pk__in=[])

    def qr_questionnaire(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        key = value.rstrip("/").rsplit("/", 1)[-1]
        panels = {i.panel_loinc: k for k, i in instruments.INSTRUMENTS.items() if i.panel_loinc}
        return qs.filter(instrument=panels.get(key, key))

    def patient_identifier(system: str, code: str) -> Q:
        is_uuid = re.fullmatch(r"(urn:uuid:)?[0-9a-fA-F-]{36}", code) is not None
        if system == "urn:openiop:id":
            return Q(public_id=code.removeprefix("urn:uuid:")) if is_uuid else Q(pk__in=[])
        if system == "" and is_uuid:
            return Q(mrn=code) | Q(public_id=code.removeprefix("urn:uuid:"))
        if system == "" or system.startswith("urn:openiop:org:"):
            return Q(mrn=code)
        return Q(pk__in=[])

    gender = {
        "male": Q(sex="male"), "female": Q(sex="female"),
        "other": ~Q(sex__in=["male", "female", ""]), "unknown": Q(sex=""),
    }  # fmt: skip

    episode_status = {
        "waitlist": Q(status="waitlisted"),
        "active": Q(status__in=["admitted", "active"]),
        "onhold": Q(status="on_hold"),
        "finished": Q(status="discharged", admitted_on__isnull=False),
        "cancelled": Q(status="discharged", admitted_on__isnull=True),
    }
    plans_shown = ~Q(status=TreatmentPlan.Status.DRAFT)

    specs = [
        Spec(
            "Patient",
            lambda org: Patient.objects.for_org(org).select_related("organization"),
            _each(patient.to_fhir),
            Perm.PATIENT_VIEW,
            "pk",
            "demographics",
            params={
                "identifier": token_filter(patient_identifier),
                "name": string_filter("first_name", "last_name", "preferred_name"),
                "family": string_filter("last_name"),
                "given": string_filter("first_name", "preferred_name"),
                "birthdate": date_filter("date_of_birth", is_date=True),
                "gender": token_filter(_fixed(gender, "gender")),
            },
        ),
        Spec(
            "EpisodeOfCare",
            lambda org: (
                Episode.objects.for_org(org)
                .select_related("organization", "patient", "program", "primary_counselor")
                .prefetch_related("status_changes")
            ),
            _render_episodes,
            Perm.EPISODE_VIEW,
            "patient",
            "attendance",
            params={"status": token_filter(_fixed(episode_status, "status"))},
            date_field="admitted_on",
        ),
        Spec(
            "Encounter",
            lambda org: (
                AttendanceRecord.objects.for_org(org)
                .select_related(
                    "organization", "patient", "episode", "session__program__site", "session__room"
                )
                .prefetch_related("session__facilitators")
            ),
            _each(encounter.to_fhir),
            Perm.EPISODE_VIEW,
            "patient",
            "attendance",
            params={"date": date_filter("session__starts_at")},
        ),
        Spec(
            "Appointment",
            lambda org: (
                Session.objects.for_org(org)
                .select_related("program__site")
                .prefetch_related(
                    "facilitators",
                    Prefetch("attendance", AttendanceRecord.objects.select_related("patient")),
                )
            ),
            _render_appointments,
            Perm.SESSION_VIEW,
            "attendance__patient",
            "attendance",
            params={
                "date": date_filter("starts_at"),
                "actor": ref_filter("attendance__patient__public_id"),
            },
        ),
        Spec(
            "Group",
            lambda org: Program.objects.for_org(org).select_related("organization"),
            _render_groups,
            Perm.EPISODE_VIEW,
            None,
            "attendance",
            params={"name": string_filter("name")},
        ),
        Spec(
            "HealthcareService",
            lambda org: Program.objects.for_org(org).select_related("organization", "site"),
            _each(healthcare_service.to_fhir),
            Perm.PROGRAM_VIEW,
            None,
            None,
            params={"name": string_filter("name")},
        ),
        Spec(
            "Location",
            lambda org: Site.objects.for_org(org).select_related("organization"),
            _each(location.to_fhir),
            Perm.PROGRAM_VIEW,
            None,
            None,
            params={"name": string_filter("name")},
        ),
        Spec(
            "Organization",
            lambda org: Organization.objects.filter(pk=org),
            _each(organization.to_fhir),
            Perm.PROGRAM_VIEW,
            None,
            None,
            params={"name": string_filter("name")},
        ),
        Spec(
            "Practitioner",
            lambda org: (
                User.objects.filter(organization_id=org, is_portal=False, is_active=True)
                .exclude(fhir_clients__kind="system")
                .distinct()
            ),
            _each(practitioner.to_fhir),
            Perm.PROGRAM_VIEW,
            None,
            None,
            params={
                "name": string_filter("first_name", "last_name", "username"),
                "identifier": token_filter(lambda s, c: Q(npi=c)),
            },
            updated_field="date_joined",
        ),
        Spec(
            "CarePlan",
            lambda org: (
                TreatmentPlan.objects.for_org(org)
                .filter(plans_shown)
                .select_related("patient", "clinician_signed_by", "supersedes")
                .prefetch_related(
                    "problems__goals__objectives__interventions__objective__goal",
                    "problems__goals__objectives__interventions__responsible",
                )
            ),
            _render_careplans,
            Perm.NOTE_VIEW,
            "patient",
            "treatment_plan",
            params={
                "category": token_filter(lambda s, c: Q() if c == "assess-plan" else Q(pk__in=[]))
            },
        ),
        Spec(
            "Goal",
            lambda org: (
                PlanGoal.objects.for_org(org)
                .filter(problem__plan__status__in=["active", "superseded"])
                .select_related("problem__plan__patient")
                .prefetch_related(
                    Prefetch("objectives", PlanObjective.objects.order_by("position", "id"))
                )
            ),
            _render_goals,
            Perm.NOTE_VIEW,
            "problem__plan__patient",
            "treatment_plan",
        ),
        Spec(
            "Condition",
            lambda org: (
                PlanProblem.objects.for_org(org)
                .filter(plan__status__in=["active", "superseded"])
                .select_related("plan__patient")
            ),
            _each(condition.to_fhir),
            Perm.NOTE_VIEW,
            "plan__patient",
            "diagnoses",
            params={
                "category": token_filter(
                    lambda s, c: Q() if c == "problem-list-item" else Q(pk__in=[])
                ),
                "code": token_filter(lambda s, c: Q(icd10_code__iexact=c)),
            },
        ),
        Spec(
            "QuestionnaireResponse",
            lambda org: QuestionnaireResponse.objects.for_org(org).select_related(
                "patient", "administered_by"
            ),
            _each(questionnaire_response.to_fhir),
            Perm.NOTE_VIEW,
            "patient",
            "questionnaire_scores",
            params={
                "authored": date_filter("administered_at"),
                "questionnaire": qr_questionnaire,
            },
        ),
        Spec(
            "Observation",
            lambda org: QuestionnaireResponse.objects.for_org(org).select_related(
                "patient", "administered_by"
            ),
            _each(observation.to_fhir),
            Perm.NOTE_VIEW,
            "patient",
            "questionnaire_scores",
            params={
                "category": token_filter(lambda s, c: Q() if c == "survey" else Q(pk__in=[])),
                "code": token_filter(obs_code),
                "date": date_filter("administered_at"),
            },
        ),
        Spec(
            "MedicationStatement",
            lambda org: Medication.objects.for_org(org).select_related(
                "patient", "episode", "prescriber"
            ),
            _each(medication.statement_to_fhir, today="today"),
            Perm.NOTE_VIEW,
            "patient",
            "medications",
        ),
        Spec(
            "MedicationRequest",
            lambda org: Medication.objects.for_org(org).select_related(
                "patient", "episode", "prescriber"
            ),
            _each(medication.request_to_fhir, today="today"),
            Perm.NOTE_VIEW,
            "patient",
            "medications",
            params={
                "intent": token_filter(
                    _fixed(
                        {"order": Q(prescriber__isnull=False), "plan": Q(prescriber__isnull=True)},
                        "intent",
                    )  # fmt: skip
                ),
                "status": token_filter(
                    _fixed(
                        {
                            "active": Q(stop_on__isnull=True),
                            "stopped": Q(stop_on__isnull=False) & ~Q(stop_reason=""),
                            "completed": Q(stop_on__isnull=False, stop_reason=""),
                        },
                        "status",
                    )  # fmt: skip
                ),
            },
        ),
        Spec(
            "DocumentReference",
            lambda org: (
                Note.objects.for_org(org)
                .filter(status=Note.Status.SIGNED)
                .exclude(kind=Note.Kind.SUD_COUNSELING)
                .select_related("patient", "episode", "author", "signed_by", "amends")
            ),
            _render_notes,
            Perm.NOTE_VIEW,
            "patient",
            "notes_summary",
            params={
                "category": token_filter(
                    lambda s, c: Q() if c == "clinical-note" else Q(pk__in=[])
                ),
                "type": token_filter(lambda s, c: Q() if c == "11506-3" else Q(pk__in=[])),
                "date": date_filter("signed_at"),
            },
        ),
        Spec(
            "Consent",
            lambda org: Consent.objects.for_org(org).select_related("organization", "patient"),
            _each(consent.to_fhir, today="today", tz="tz"),
            Perm.CONSENT_VIEW,
            "patient",
            "demographics",
        ),
        Spec(
            "Coverage",
            lambda org: Coverage.objects.for_org(org).select_related("patient", "payer"),
            _each(coverage.to_fhir),
            Perm.BILLING_VIEW,
            "patient",
            "demographics",
        ),
        Spec(
            "AuditEvent",
            lambda org: AuditEvent.objects.filter(organization_id=org).select_related("actor"),
            _render_audit,
            Perm.AUDIT_VIEW,
            None,
            None,
            params={
                "date": date_filter("occurred_at"),
                "patient": lambda qs, v: qs.filter(
                    patient_id__in=[_ref_id(x, "Patient") for x in v.split(",")]
                ),
            },
            id_field="hash",
            updated_field="occurred_at",
        ),
    ]
    return {s.type: s for s in specs}


_SPECS: dict[str, Spec] | None = None


def specs() -> dict[str, Spec]:
    global _SPECS
    if _SPECS is None:
        _SPECS = _specs()
    return _SPECS


def get(resource_type: str) -> Spec | None:
    return specs().get(resource_type)


# Search parameters every patient-linked type answers, and the paging/meta ones.
PATIENT_PARAMS = ("patient", "subject")
COMMON_PARAMS = ("_id", "_lastUpdated", "_count", "_cursor", "_format", "_summary")


def supported_params(spec: Spec) -> Sequence[str]:
    out = list(spec.params)
    if spec.patient_path is not None and spec.type != "Patient":
        out += list(PATIENT_PARAMS)
    return out + list(COMMON_PARAMS)


def patient_filter(spec: Spec) -> Filter:
    path = "public_id" if spec.patient_path == "pk" else f"{spec.patient_path}__public_id"
    return ref_filter(path)
