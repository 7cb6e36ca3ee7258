"""Reads for the claim, coverage and estimate pages. Each list loads in a fixed number of
queries and is audited with one row naming the patients shown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpRequest

from openiop.accounts.permissions import Perm
from openiop.billing import estimate as est
from openiop.billing.charge_capture import rules_for
from openiop.billing.charge_rules import BillingModel
from openiop.billing.models import (
    BillingProfile,
    Certification,
    Claim,
    ClaimStatus,
    Coverage,
    ExportBatch,
    Payer,
    ProgramPayerRule,
)
from openiop.billing.payer_config import RulesError
from openiop.core.access import require_perm
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode

CAT = AuditEvent.Category.BILLING
LIST_LIMIT = 300


def claim_list(
    *,
    user: Any,
    status: str = "",
    payer: Payer | None = None,
    request: HttpRequest | None = None,
) -> list[Claim]:
    """The newest claims (at most LIST_LIMIT), optionally of one status or payer."""
    require_perm(user, Perm.BILLING_VIEW)
    qs = Claim.objects.for_org(user.organization_id).select_related(
        "patient", "payer", "export_batch", "original"
    )
    if status in ClaimStatus.values:
        qs = qs.filter(status=status)
    if payer is not None:
        qs = qs.filter(payer=payer)
    claims = list(qs.order_by("-period_start", "-id")[:LIST_LIMIT])
    audit_log_many(
        actor=user, action="openiop.billing.claim.list", category=CAT,
        patients=[c.patient for c in claims], request=request,
        detail={"status": status, "claims": len(claims)},
    )  # fmt: skip
    return claims


def claim_status_counts(organization_id: int) -> dict[str, int]:
    from django.db.models import Count

    rows = Claim.objects.for_org(organization_id).values("status").annotate(n=Count("id"))
    return {r["status"]: r["n"] for r in rows}


def claim_view(*, user: Any, claim: Claim, request: HttpRequest | None = None) -> None:
    audit_log(
        actor=user, action="openiop.billing.claim.view", category=CAT, obj=claim,
        patient=claim.patient, request=request, detail={"claim": claim.claim_number},
    )  # fmt: skip


def batch_claims(
    *, user: Any, batch: ExportBatch, request: HttpRequest | None = None
) -> list[Claim]:
    claims = list(batch.claims.select_related("patient", "payer").order_by("claim_number"))
    audit_log_many(
        actor=user, action="openiop.billing.export.view", category=CAT,
        patients=[c.patient for c in claims], request=request,
        detail={"batch": str(batch.public_id), "file": batch.filename},
    )  # fmt: skip
    return claims


def batch_download(*, user: Any, batch: ExportBatch, request: HttpRequest | None = None) -> None:
    """A download releases every patient on the file again: audited with their ids."""
    patients = sorted({str(p) for p in batch.claims.values_list("patient__public_id", flat=True)})
    audit_log(
        actor=user, action="openiop.billing.export.download", category=CAT, obj=batch,
        request=request, detail={"file": batch.filename, "sha256": batch.sha256,
                                 "patients": patients},
    )  # fmt: skip


@dataclass(frozen=True)
class CoverageRow:
    coverage: Coverage
    today: dt.date

    @property
    def state(self) -> str:
        c = self.coverage
        if not c.active:
            return "inactive"
        if c.terminates_on is not None and c.terminates_on < self.today:
            return "ended"
        if c.effective_on is not None and c.effective_on > self.today:
            return "future"
        if not c.member_id and not c.payer.is_self_pay:
            return "no member id"
        return "in force"


def coverage_list_for_patient(
    *, user: Any, patient: Any, today: dt.date, request: HttpRequest | None = None
) -> tuple[list[CoverageRow], list[Certification], list[Episode]]:
    require_perm(user, Perm.BILLING_VIEW)
    coverages = list(
        Coverage.objects.for_org(user.organization_id)
        .filter(patient=patient)
        .select_related("payer")
        .order_by("priority", "-effective_on", "id")
    )
    episodes = list(
        Episode.objects.for_org(user.organization_id)
        .filter(patient=patient)
        .select_related("program")
        .order_by("-admitted_on", "-id")
    )
    certs = list(
        Certification.objects.for_org(user.organization_id)
        .filter(patient=patient)
        .select_related("episode__program", "signed_by")
    )
    audit_log(
        actor=user, action="openiop.billing.coverage.list", category=CAT, obj=patient,
        patient=patient, request=request, detail={"coverages": len(coverages)},
    )  # fmt: skip
    return [CoverageRow(c, today) for c in coverages], certs, episodes


# --- the cost estimate --------------------------------------------------------------------------


@dataclass(frozen=True)
class EstimateChoice:
    key: str  # a coverage public id, or "self"
    label: str
    coverage: Coverage | None


def estimate_choices(episode: Episode, today: dt.date) -> list[EstimateChoice]:
    """The patient's coverages in force (or starting later), then self-pay."""
    coverages = (
        Coverage.objects.for_org(episode.organization_id)
        .filter(patient_id=episode.patient_id, active=True)
        .select_related("payer")
        .order_by("priority", "id")
    )
    out = [
        EstimateChoice(
            str(c.public_id),
            f"{c.payer.name} ({c.get_priority_display().lower()})",
            c,
        )
        for c in coverages
        if (c.terminates_on is None or c.terminates_on >= today) and not c.payer.is_self_pay
    ]
    out.append(EstimateChoice("self", "Self-pay / no insurance (Good Faith Estimate)", None))
    return out


def _day_rate(coverage: Coverage, program: Any) -> tuple[Decimal | None, str]:
    """The payer's per-diem rate and code for this program, if it pays per diem."""
    payer = coverage.payer
    if payer.billing_model != Payer.BillingModel.PER_DIEM:
        return None, ""
    rule = (
        ProgramPayerRule.objects.for_org(payer.organization_id)
        .filter(payer=payer, program=program)
        .first()
    )
    try:
        rules, kind = rules_for(payer, rule)
    except RulesError:
        return None, ""
    if rules.billing_model != BillingModel.PER_DIEM:
        return None, ""
    code = rules.per_diem_codes.get(kind, "")
    return rules.fees.get(code), code


def sharing_for(coverage: Coverage) -> est.CostSharing:
    oop_left = None
    if coverage.out_of_pocket_max is not None:
        oop_left = max(Decimal(0), coverage.out_of_pocket_max - (coverage.out_of_pocket_met or 0))
    return est.CostSharing(
        copay_per_day=coverage.copay or Decimal(0),
        coinsurance_percent=coverage.coinsurance_percent or Decimal(0),
        deductible_remaining=coverage.deductible_remaining,
        out_of_pocket_remaining=oop_left,
    )


@dataclass(frozen=True)
class EstimateView:
    estimate: est.Estimate
    choice: EstimateChoice
    day_rate_used: bool
    code: str


def episode_estimate(
    *,
    user: Any,
    episode: Episode,
    choice: EstimateChoice,
    plan: est.TreatmentPlan,
    price_per_hour: Decimal | None,
    profile: BillingProfile | None,
    request: HttpRequest | None = None,
) -> EstimateView:
    """The estimate shown on the page (one audit row: the patient's coverage is read)."""
    require_perm(user, Perm.COST_ESTIMATE)
    program = episode.program
    price = price_per_hour or (profile.price_per_hour if profile else est.DEFAULT_PRICE_PER_HOUR)
    residential = profile.residential_daily_rate if profile else est.DEFAULT_RESIDENTIAL_DAILY_RATE
    day_rate: Decimal | None = None
    code = ""
    sharing = None
    if choice.coverage is not None:
        sharing = sharing_for(choice.coverage)
        if price_per_hour is None:
            day_rate, code = _day_rate(choice.coverage, program)
    result = est.estimate(
        plan=plan, price_per_hour=price, day_rate=day_rate, code=code, sharing=sharing,
        self_pay=choice.coverage is None, residential_daily_rate=residential,
        program_name=program.name,
    )  # fmt: skip
    audit_log(
        actor=user, action="openiop.billing.estimate.view", category=CAT, obj=episode,
        patient=episode.patient, request=request,
        detail={"coverage": choice.key, "weeks": plan.weeks,
                "hours_per_week": str(plan.hours_per_week), "total": str(result.total)},
    )  # fmt: skip
    return EstimateView(result, choice, day_rate is not None, code)


def billing_panel_context(user: Any) -> dict[str, Any]:
    """Context for ``billing/_billing_panel.html`` on the dashboard: claims by status (counts
    only, no patient data, so no audit row). ``None`` hides the panel for roles without
    ``billing.view``. One query."""
    from openiop.accounts.permissions import user_has_perm

    if not user_has_perm(user, Perm.BILLING_VIEW):
        return {"billing_panel": None}
    counts = claim_status_counts(user.organization_id)
    shown = (ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.SUBMITTED, ClaimStatus.DENIED)
    return {
        "billing_panel": {
            "rows": [(s.value, s.label, counts.get(s.value, 0)) for s in shown],
            "can_manage": user_has_perm(user, Perm.BILLING_MANAGE),
        }
    }
