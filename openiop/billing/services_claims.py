"""Claim writes: build draft claims from clean charge lines, move them through their statuses,
correct them, and export them as an 837P / 837I / CSV batch.

Statuses and the only moves allowed (``TRANSITIONS``); anything else is a ``ValidationError``
and changes nothing::

    draft -> ready | void          ready -> draft | submitted (by export) | void
    submitted -> paid | denied | corrected          denied -> paid | corrected
    paid -> corrected              corrected, void: final

A correction marks the original "corrected" and creates a replacement draft (frequency 7) that
points at it and carries the payer's claim number of the original (``REF*F8`` in the file).

Control numbers: the organization's one ``ControlNumber`` row is locked (``select_for_update``)
while claim numbers or an interchange number are taken, so two exports never share an ISA13
and a number is never reused, even when an export fails after taking it.

Before a file is written every claim is checked (``validate_batch`` / ``validate_claims``): with
any problem nothing is exported and the problems are returned. Then the 42 CFR Part 2 consent
of each patient for a payment disclosure to the payer is checked (``disclosure_make``): a
patient without a covering consent has their claims left out (the refusal is recorded by the
consent service), the others are exported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.billing import x12
from openiop.billing.charge_capture import PatientBilling, billing_compute, source_key
from openiop.billing.charge_rules import ChargeLine, ClaimType
from openiop.billing.claim_x12 import batch_records, claim_record, profile_records
from openiop.billing.csv_export import build_claims_csv, validate_claims
from openiop.billing.models import (
    BillingProfile,
    Claim,
    ClaimLine,
    ClaimStatus,
    ControlNumber,
    ExportBatch,
    Payer,
)
from openiop.clinical.models import PlanProblem, TreatmentPlan
from openiop.consent.services import DisclosureRefused, disclosure_make
from openiop.core.actors import user_or_none
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent

CAT = AuditEvent.Category.BILLING
S = ClaimStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.READY, S.VOID}),
    S.READY: frozenset({S.DRAFT, S.SUBMITTED, S.VOID}),
    S.SUBMITTED: frozenset({S.PAID, S.DENIED, S.CORRECTED}),
    S.DENIED: frozenset({S.PAID, S.CORRECTED}),
    S.PAID: frozenset({S.CORRECTED}),
    S.CORRECTED: frozenset(),
    S.VOID: frozenset(),
}
MAX_LINES = {ClaimType.PROFESSIONAL: 50, ClaimType.INSTITUTIONAL: 999}
DISCLOSURE_CATEGORIES = ["demographics", "attendance", "diagnoses"]
FORMATS = {"837p": ExportBatch.Format.X837P, "837i": ExportBatch.Format.X837I, "csv": "csv"}


def _check_org(actor: Any, organization_id: int) -> None:
    org = getattr(actor, "organization_id", None)
    if actor is not None and org != organization_id:
        raise ValidationError("That belongs to another organization.")


def billing_profile(organization_id: int) -> BillingProfile | None:
    return (
        BillingProfile.objects.for_org(organization_id).select_related("attending_provider").first()
    )


# --- numbers ------------------------------------------------------------------------------------


def next_numbers(
    organization_id: int, *, interchanges: int = 0, claims: int = 0
) -> tuple[int, int]:
    """Take ``interchanges`` interchange numbers and ``claims`` claim numbers; returns the first
    of each taken (0 when none asked). Must run inside a transaction: the counter row stays
    locked until it commits, so concurrent callers wait and get the next numbers."""
    counter, _ = ControlNumber.objects.select_for_update().get_or_create(
        organization_id=organization_id
    )
    first_isa = counter.last_interchange + 1 if interchanges else 0
    first_claim = counter.last_claim + 1 if claims else 0
    counter.last_interchange += interchanges
    counter.last_claim += claims
    if counter.last_interchange > 999_999_999:
        raise ValidationError("The interchange control numbers are used up (999999999).")
    counter.save(update_fields=["last_interchange", "last_claim", "updated_at"])
    return first_isa, first_claim


def _claim_number(prefix: str, n: int) -> str:
    return f"{prefix}{n:06d}"[:20]


# --- building claims ----------------------------------------------------------------------------


def diagnoses_for(episode_ids: Sequence[int]) -> dict[int, list[str]]:
    """ICD-10-CM codes of each episode's treatment plan problems, in the plan's order: the
    active plan, else the latest plan. One query."""
    rows = (
        PlanProblem.objects.filter(plan__episode_id__in=list(episode_ids))
        .exclude(icd10_code="")
        .values_list("plan__episode_id", "plan_id", "plan__status", "plan__version", "position",
                     "icd10_code")
        .order_by("plan__episode_id", "position", "id")
    )  # fmt: skip
    plans: dict[int, dict[int, tuple[bool, int, list[str]]]] = {}
    for episode_id, plan_id, status, version, _pos, code in rows:
        mine = plans.setdefault(episode_id, {})
        active, ver, codes = mine.get(plan_id, (status == TreatmentPlan.Status.ACTIVE, version, []))
        codes.append(code.strip().upper())
        mine[plan_id] = (active, ver, codes)
    out: dict[int, list[str]] = {}
    for episode_id, mine in plans.items():
        _, _, codes = max(mine.values(), key=lambda p: (p[0], p[1]))
        out[episode_id] = list(dict.fromkeys(codes))[:12]
    return out


@dataclass
class BuildResult:
    created: list[Claim] = field(default_factory=list)
    patients_with_blocked_lines: int = 0
    lines_blocked: int = 0


def _prior_auth(pb: PatientBilling, lines: Sequence[ChargeLine]) -> str:
    for a in pb.authorizations:
        if any(a.service_code.strip().upper() == ln.code for ln in lines) and a.auth_number:
            if any(a.start_on <= ln.service_date <= a.end_on for ln in lines):
                return a.auth_number.strip()
    return ""


@transaction.atomic
def claims_build(
    *,
    actor: Any,
    organization: Any,
    start: dt.date,
    end: dt.date,
    program: Any = None,
    payer: Payer | None = None,
    today: dt.date | None = None,
    request: HttpRequest | None = None,
) -> BuildResult:
    """Draft claims (one per patient, episode and payer for the period, split when a claim
    would pass the format's line limit) from every clean line not already on a claim."""
    _check_org(actor, organization.pk)
    if end < start:
        raise ValidationError({"end": "The last day is before the first day."})
    # Lock the counter first: two builds of the same period run one after the other, so the
    # second sees the first one's lines as already claimed.
    next_numbers(organization.pk)
    rows = billing_compute(organization.pk, start, end, program=program, payer=payer, today=today)
    result = BuildResult()
    todo: list[tuple[PatientBilling, list[ChargeLine]]] = []
    for pb in rows:
        blocked = pb.counts["blocked"]
        if blocked:
            result.patients_with_blocked_lines += 1
            result.lines_blocked += blocked
        lines = sorted(pb.clean_lines, key=lambda ln: (ln.service_date, ln.code))
        if not lines:
            continue
        limit = MAX_LINES[pb.rules.claim_type]
        for i in range(0, len(lines), limit):
            todo.append((pb, lines[i : i + limit]))
    if not todo:
        return result
    profile = billing_profile(organization.pk)
    prefix = profile.claim_prefix if profile else "IOP"
    _, first = next_numbers(organization.pk, claims=len(todo))
    diagnoses = diagnoses_for([pb.episode.pk for pb, _ in todo])
    user = user_or_none(actor)
    claims: list[Claim] = []
    for n, (pb, lines) in enumerate(todo):
        assert pb.payer is not None
        institutional = pb.rules.claim_type == ClaimType.INSTITUTIONAL
        places = Counter(ln.place_of_service or "" for ln in lines)
        claims.append(
            Claim(
                organization=organization,
                patient=pb.patient,
                episode=pb.episode,
                payer=pb.payer,
                coverage=pb.coverage,
                claim_type=pb.rules.claim_type.value,
                claim_number=_claim_number(prefix, first + n),
                period_start=min(ln.service_date for ln in lines),
                period_end=max(ln.service_date for ln in lines),
                total_charge=sum((ln.charge for ln in lines), Decimal(0)),
                diagnosis_codes=diagnoses.get(pb.episode.pk, []),
                prior_authorization=_prior_auth(pb, lines),
                condition_codes=list(pb.rules.condition_codes) if institutional else [],
                place_of_service="" if institutional else places.most_common(1)[0][0],
                status_changed_at=timezone.now(),
                created_by=user,
                updated_by=user,
            )
        )
    # One insert for the claims and one per thousand lines (a month of a large organization's
    # claims is thousands of claims and tens of thousands of lines); an audit row per claim.
    Claim.objects.bulk_create(claims, batch_size=500)
    ClaimLine.objects.bulk_create(
        [
            ClaimLine(
                organization=organization,
                claim=claim,
                position=i,
                service_date=ln.service_date,
                code=ln.code,
                modifiers=list(ln.modifiers),
                units=Decimal(ln.units),
                place_of_service=ln.place_of_service or "",
                revenue_code=ln.revenue_code or "",
                charge=ln.charge,
                minutes=ln.minutes,
                day_category=ln.day_category or "",
                source_ids=list(ln.source_service_ids),
                source_key=source_key(ln.source_service_ids),
                created_by=user,
                updated_by=user,
            )
            for claim, (_, lines) in zip(claims, todo, strict=True)
            for i, ln in enumerate(lines, start=1)
        ],
        batch_size=1000,
    )
    for claim, (pb, lines) in zip(claims, todo, strict=True):
        audit_log(
            actor=actor, action="openiop.billing.claim.create", category=CAT, obj=claim,
            patient=pb.patient, organization=organization, request=request,
            detail={"claim": claim.claim_number, "lines": len(lines), "payer": pb.payer.name,
                    "total": str(claim.total_charge)},
        )  # fmt: skip
        result.created.append(claim)
    return result


# --- status moves -------------------------------------------------------------------------------


def _locked(claim: Claim) -> Claim:
    return (
        Claim.objects.select_for_update(of=("self",))
        .select_related("patient", "episode", "payer", "coverage")
        .get(pk=claim.pk)
    )


def _move(claim: Claim, to: str) -> None:
    if to not in TRANSITIONS.get(claim.status, frozenset()):
        raise ValidationError(
            {
                "status": f"A {claim.get_status_display().lower()} claim cannot become "
                f"{S(to).label.lower()}."
            }
        )


def _save_status(
    claim: Claim,
    to: str,
    actor: Any,
    request: HttpRequest | None,
    *,
    verb: str,
    note: str = "",
    detail: dict[str, Any] | None = None,
    extra_fields: Sequence[str] = (),
) -> Claim:
    before = claim.status
    claim.status = to
    claim.status_changed_at = timezone.now()
    if note:
        claim.status_note = note[:300]
    claim.updated_by = user_or_none(actor)
    claim.save(
        update_fields=[
            "status", "status_changed_at", "status_note", "updated_by", "updated_at",
            *extra_fields,
        ]
    )  # fmt: skip
    audit_log(
        actor=actor, action=f"openiop.billing.claim.{verb}", category=CAT, obj=claim,
        patient=claim.patient, request=request,
        detail={"claim": claim.claim_number, "from": before, "to": to, **(detail or {})},
    )  # fmt: skip
    return claim


def claim_problems(claim: Claim, profile: BillingProfile | None) -> list[str]:
    """What would stop this claim from being exported, in words (the same checks as export)."""
    if profile is None:
        return ["Billing is not set up: enter the billing provider and clearinghouse first."]
    _, _, provider, attending = profile_records(profile)
    record, problems = claim_record(
        claim, profile, lines=list(claim.lines.all()), attending=attending, provider=provider
    )
    if record is None:
        return problems
    kind: x12.ClaimKind = "837I" if record.institutional is not None else "837P"
    return [p.message for p in x12.validate_claim(record, kind)]


def claim_mark_ready(*, actor: Any, claim: Claim, request: HttpRequest | None = None) -> Claim:
    """Draft -> ready, only when the claim passes every export check (else the problems)."""
    result = claims_mark_ready(actor=actor, claims=[claim], request=request)
    if result.refused:
        raise ValidationError({"status": result.refused[claim.claim_number]})
    return result.ready[0]


@dataclass
class ReadyResult:
    ready: list[Claim] = field(default_factory=list)
    refused: dict[str, list[str]] = field(default_factory=dict)  # claim number -> problems


@transaction.atomic
def claims_mark_ready(
    *, actor: Any, claims: Sequence[Claim], request: HttpRequest | None = None
) -> ReadyResult:
    """``claim_mark_ready`` for many claims in one transaction: each is checked exactly as one
    at a time and the ones with problems stay drafts (named in ``refused``). The claims are
    locked and loaded with their lines in two queries and moved in one update; each still gets
    its own audit row. A month of a large organization's claims takes seconds, not minutes."""
    result = ReadyResult()
    if not claims:
        return result
    org_ids = {c.organization_id for c in claims}
    for org_id in org_ids:
        _check_org(actor, org_id)
    locked = list(
        Claim.objects.select_for_update(of=("self",))
        .filter(pk__in=[c.pk for c in claims])
        .select_related("patient", "episode", "payer", "coverage")
        .prefetch_related("lines")
        .order_by("claim_number")
    )
    profiles = {org_id: billing_profile(org_id) for org_id in org_ids}
    passing: list[Claim] = []
    for claim in locked:
        try:
            _move(claim, S.READY)
        except ValidationError as exc:
            result.refused[claim.claim_number] = list(exc.messages)
            continue
        problems = claim_problems(claim, profiles[claim.organization_id])
        if problems:
            result.refused[claim.claim_number] = problems
        else:
            passing.append(claim)
    if not passing:
        return result
    now, user = timezone.now(), user_or_none(actor)
    Claim.objects.filter(pk__in=[c.pk for c in passing]).update(
        status=S.READY, status_changed_at=now, status_note="", updated_by=user, updated_at=now
    )
    for claim in passing:
        before = claim.status
        claim.status, claim.status_changed_at, claim.status_note = S.READY, now, ""
        claim.updated_by, claim.updated_at = user, now
        audit_log(
            actor=actor, action="openiop.billing.claim.ready", category=CAT, obj=claim,
            patient=claim.patient, request=request,
            detail={"claim": claim.claim_number, "from": before, "to": S.READY},
        )  # fmt: skip
    result.ready = passing
    return result


@transaction.atomic
def claim_return_to_draft(*, actor: Any, claim: Claim, request: HttpRequest | None = None) -> Claim:
    _check_org(actor, claim.organization_id)
    locked = _locked(claim)
    _move(locked, S.DRAFT)
    return _save_status(locked, S.DRAFT, actor, request, verb="draft")


@transaction.atomic
def claim_void(
    *, actor: Any, claim: Claim, reason: str, request: HttpRequest | None = None
) -> Claim:
    """Discard a claim that was never sent (its lines can then be claimed again)."""
    _check_org(actor, claim.organization_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the claim is void."})
    locked = _locked(claim)
    _move(locked, S.VOID)
    return _save_status(
        locked, S.VOID, actor, request, verb="void", note=reason, detail={"reason": reason}
    )


def _payer_number(value: str) -> str:
    value = (value or "").strip()
    if len(value) > 50:
        raise ValidationError({"payer_claim_number": "At most 50 characters."})
    if any(ch in value for ch in "*~:^\r\n"):
        raise ValidationError({"payer_claim_number": "Remove the characters * ~ : ^."})
    return value


@transaction.atomic
def claim_record_payment(
    *,
    actor: Any,
    claim: Claim,
    amount: Decimal,
    payer_claim_number: str = "",
    request: HttpRequest | None = None,
) -> Claim:
    """The payer paid (all or part of) a submitted claim."""
    _check_org(actor, claim.organization_id)
    locked = _locked(claim)
    _move(locked, S.PAID)
    if amount is None or amount < 0:
        raise ValidationError({"amount": "Enter the amount paid (0 or more)."})
    if amount > locked.total_charge:
        raise ValidationError({"amount": f"More than the claim's total ({locked.total_charge})."})
    locked.paid_amount = amount
    locked.payer_claim_number = _payer_number(payer_claim_number) or locked.payer_claim_number
    locked.lines.update(status=ClaimLine.Status.PAID)
    return _save_status(
        locked, S.PAID, actor, request, verb="paid", note=f"Paid {amount}",
        detail={"amount": str(amount)}, extra_fields=("paid_amount", "payer_claim_number"),
    )  # fmt: skip


@transaction.atomic
def claim_record_denial(
    *,
    actor: Any,
    claim: Claim,
    reason: str,
    payer_claim_number: str = "",
    request: HttpRequest | None = None,
) -> Claim:
    _check_org(actor, claim.organization_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter the payer's denial reason."})
    locked = _locked(claim)
    _move(locked, S.DENIED)
    locked.payer_claim_number = _payer_number(payer_claim_number) or locked.payer_claim_number
    locked.lines.update(status=ClaimLine.Status.DENIED)
    return _save_status(
        locked, S.DENIED, actor, request, verb="denied", note=reason,
        detail={"reason": reason}, extra_fields=("payer_claim_number",),
    )  # fmt: skip


@transaction.atomic
def claim_correct(
    *,
    actor: Any,
    claim: Claim,
    reason: str,
    original_claim_reference: str = "",
    request: HttpRequest | None = None,
) -> Claim:
    """Replace a sent claim: the original becomes "corrected" and a draft replacement
    (frequency 7) with the same lines is returned, to fix and send. The payer's claim number
    of the original is required (it goes in REF*F8)."""
    _check_org(actor, claim.organization_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say what the correction changes."})
    locked = _locked(claim)
    _move(locked, S.CORRECTED)
    reference = _payer_number(original_claim_reference) or locked.payer_claim_number
    if not reference:
        raise ValidationError(
            {"original_claim_reference": "Enter the payer's claim number of the original claim."}
        )
    _, number = next_numbers(locked.organization_id, claims=1)
    profile = billing_profile(locked.organization_id)
    user = user_or_none(actor)
    replacement = Claim.objects.create(
        organization_id=locked.organization_id,
        patient=locked.patient,
        episode=locked.episode,
        payer=locked.payer,
        coverage=locked.coverage,
        claim_type=locked.claim_type,
        claim_number=_claim_number(profile.claim_prefix if profile else "IOP", number),
        frequency=Claim.Frequency.REPLACEMENT,
        original=locked,
        original_claim_reference=reference,
        period_start=locked.period_start,
        period_end=locked.period_end,
        total_charge=locked.total_charge,
        diagnosis_codes=diagnoses_for([locked.episode_id]).get(
            locked.episode_id, locked.diagnosis_codes
        ),
        prior_authorization=locked.prior_authorization,
        condition_codes=locked.condition_codes,
        place_of_service=locked.place_of_service,
        status_note=f"Replaces {locked.claim_number}: {reason}"[:300],
        status_changed_at=timezone.now(),
        created_by=user,
        updated_by=user,
    )
    ClaimLine.objects.bulk_create(
        [
            ClaimLine(
                organization_id=locked.organization_id, claim=replacement, position=ln.position,
                service_date=ln.service_date, code=ln.code, modifiers=ln.modifiers,
                units=ln.units, place_of_service=ln.place_of_service,
                revenue_code=ln.revenue_code, charge=ln.charge, minutes=ln.minutes,
                day_category=ln.day_category, source_ids=ln.source_ids,
                source_key=ln.source_key, created_by=user, updated_by=user,
            )
            for ln in locked.lines.all()
        ]
    )  # fmt: skip
    locked.payer_claim_number = reference
    _save_status(
        locked, S.CORRECTED, actor, request, verb="correct", note=reason,
        detail={"replacement": replacement.claim_number, "reason": reason},
        extra_fields=("payer_claim_number",),
    )  # fmt: skip
    audit_log(
        actor=actor, action="openiop.billing.claim.create", category=CAT, obj=replacement,
        patient=locked.patient, request=request,
        detail={"claim": replacement.claim_number, "replaces": locked.claim_number},
    )  # fmt: skip
    return replacement


# --- export -------------------------------------------------------------------------------------


@dataclass
class Refusal:
    claim_number: str
    patient: str
    payer: str
    reasons: list[str]


@dataclass
class ExportResult:
    batch: ExportBatch | None = None
    problems: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    considered: int = 0

    @property
    def ok(self) -> bool:
        return self.batch is not None


def export_candidates(
    organization_id: int, fmt: str, start: dt.date, end: dt.date, payer: Payer | None = None
) -> list[Claim]:
    """Ready claims whose period lies inside [start, end], of the format's claim type."""
    qs = (
        Claim.objects.for_org(organization_id)
        .filter(status=S.READY, period_start__gte=start, period_end__lte=end)
        .select_related("patient", "episode", "payer", "coverage")
        .prefetch_related("lines")
        .order_by("payer__name", "patient__last_name", "patient__first_name", "claim_number")
    )
    if fmt == "837p":
        qs = qs.filter(claim_type=Payer.ClaimType.PROFESSIONAL)
    elif fmt == "837i":
        qs = qs.filter(claim_type=Payer.ClaimType.INSTITUTIONAL)
    if payer is not None:
        qs = qs.filter(payer=payer)
    return list(qs)


def _local_now(organization: Any) -> dt.datetime:
    site = organization.sites.order_by("id").first()
    now = timezone.now()
    return now.astimezone(site.tz) if site is not None else now


def claims_export(
    *,
    actor: Any,
    organization: Any,
    fmt: str,
    start: dt.date,
    end: dt.date,
    payer: Payer | None = None,
    request: HttpRequest | None = None,
    progress: Callable[[int], None] | None = None,
    via: str = "web",
) -> ExportResult:
    """Export the ready claims of the period as one file; see the module docstring. ``via``
    ("web", "cli") is recorded in the audit row; ``progress(1)`` is called per claim checked."""
    _check_org(actor, organization.pk)
    if fmt not in FORMATS:
        raise ValidationError({"format": "Choose 837p, 837i or csv."})
    if end < start:
        raise ValidationError({"end": "The last day is before the first day."})
    step = progress or (lambda n: None)
    claims = export_candidates(organization.pk, fmt, start, end, payer)
    result = ExportResult(considered=len(claims))
    if not claims:
        result.problems.append(
            f"No claims are ready to send for {start:%b %-d} to {end:%b %-d, %Y}"
            + (f" ({payer.name})" if payer else "")
            + ": build them and mark them ready first."
        )
        return result
    profile = billing_profile(organization.pk)
    if profile is None:
        result.problems.append(
            "Billing is not set up: enter the billing provider and clearinghouse first."
        )
        return result
    created_at = _local_now(organization)
    kind: x12.ClaimKind = "837I" if fmt == "837i" else "837P"

    def check(records: list[tuple[Claim, x12.Claim]], submitter: Any, receiver: Any) -> list[str]:
        items = [r for _, r in records]
        if fmt == "csv":
            return [str(p) for p in validate_claims(items)]
        batch = x12.ClaimBatch(
            submitter=submitter, receiver=receiver, claims=tuple(items), created_at=created_at,
            usage_indicator=profile.usage_indicator,  # type: ignore[arg-type]
        )  # fmt: skip
        return [str(p) for p in x12.validate_batch(batch, kind)]

    records, problems, submitter, receiver = batch_records(claims, profile, created_at)
    problems += check(records, submitter, receiver) if records else []
    if problems:
        result.problems = problems
        return result

    # 42 CFR Part 2: a payment disclosure to the payer, per patient and payer.
    allowed: list[tuple[Claim, x12.Claim]] = []
    decided: dict[tuple[int, int], list[str] | None] = {}
    for claim, record in records:
        key = (claim.patient_id, claim.payer_id)
        if key not in decided:
            try:
                disclosure_make(
                    actor=actor, patient=claim.patient, recipient="",
                    recipient_organization=claim.payer.name, purpose="payment",
                    categories=DISCLOSURE_CATEGORIES, channel="export", request=request,
                )  # fmt: skip
                decided[key] = None
            except DisclosureRefused as exc:
                decided[key] = list(exc.messages)
        reasons = decided[key]
        if reasons is None:
            allowed.append((claim, record))
        else:
            result.refused.append(
                Refusal(claim.claim_number, claim.patient.display_name, claim.payer.name, reasons)
            )
        step(1)
    if not allowed:
        result.problems.append("No claim has a consent covering its release to the payer.")
        return result
    with transaction.atomic():
        if fmt == "csv":
            content = build_claims_csv([r for _, r in allowed])
            isa = 0
            filename = f"claims-{start:%Y%m%d}-{end:%Y%m%d}-{created_at:%Y%m%d%H%M%S}.csv"
        else:
            isa, _ = next_numbers(organization.pk, interchanges=1)
            batch_in = x12.ClaimBatch(
                submitter=submitter, receiver=receiver, claims=tuple(r for _, r in allowed),
                created_at=created_at,
                usage_indicator=profile.usage_indicator,  # type: ignore[arg-type]
            )  # fmt: skip
            content = x12.build_837(batch_in, x12.ControlNumbers(isa, isa), kind, newline=True)
            filename = f"{fmt}-{isa:09d}-{created_at:%Y%m%d}.x12"
        user = user_or_none(actor)
        batch = ExportBatch.objects.create(
            organization=organization,
            format=FORMATS[fmt],
            interchange_control_number=isa or None,
            group_control_number=isa or None,
            usage_indicator="" if fmt == "csv" else profile.usage_indicator,
            period_start=start,
            period_end=end,
            payer=payer,
            filename=filename,
            sha256=hashlib.sha256(content.encode("utf-8")).hexdigest(),
            content=content,
            claim_count=len(allowed),
            total_charge=sum((c.total_charge for c, _ in allowed), Decimal(0)),
            exported_by=user,
            created_by=user,
            updated_by=user,
        )
        now = timezone.now()
        Claim.objects.filter(pk__in=[c.pk for c, _ in allowed], status=S.READY).update(
            status=S.SUBMITTED, export_batch=batch, submitted_at=now, submitted_by=user,
            status_changed_at=now, updated_by=user, updated_at=now,
        )  # fmt: skip
        audit_log(
            actor=actor, action="openiop.billing.export.create", category=CAT, obj=batch,
            organization=organization, request=request,
            detail={"format": fmt, "claims": [c.claim_number for c, _ in allowed],
                    "patients": sorted({str(c.patient.public_id) for c, _ in allowed}),
                    "sha256": batch.sha256, "refused": [r.claim_number for r in result.refused],
                    "interchange": isa, "via": via},
        )  # fmt: skip
    result.batch = batch
    return result
