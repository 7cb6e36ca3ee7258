"""Billing set-up writes: payers and their rules, program-specific rules, patient coverage,
Medicare IOP certifications and the organization's billing profile. Each validates, saves and
writes one audit row; bad input is a ``ValidationError`` naming the field and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from openiop.billing.models import (
    BillingProfile,
    Certification,
    Coverage,
    Payer,
    PayerKind,
    ProgramPayerRule,
)
from openiop.billing.payer_config import RulesError, payer_rules
from openiop.billing.x12.model import FILING_INDICATORS
from openiop.billing.x12.validate import npi_is_valid, text_problem
from openiop.core.actors import user_or_none
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.patients.models import Patient

CAT = AuditEvent.Category.BILLING
_IDENT = re.compile(r"^[A-Za-z0-9 .\-/]*$")


def _check_org(actor: Any, organization_id: int) -> None:
    org = getattr(actor, "organization_id", None)
    if actor is not None and org != organization_id:
        raise ValidationError("That belongs to another organization.")


def _ident(errors: dict[str, str], name: str, value: str, label: str) -> str:
    value = (value or "").strip()
    if value and not _IDENT.match(value):
        errors[name] = f"{label} may hold letters, digits, spaces and . - / only."
    return value


# --- payers -------------------------------------------------------------------------------------


@transaction.atomic
def payer_save(
    *,
    actor: Any,
    organization: Any,
    payer: Payer | None = None,
    name: str,
    kind: str,
    payer_id: str,
    claim_filing_indicator: str,
    billing_model: str,
    claim_type: str,
    rules_overrides: Any = None,
    fee_schedule: Any = None,
    group_size_cap: int | None = None,
    active: bool = True,
    request: HttpRequest | None = None,
) -> Payer:
    """Create (``payer=None``) or update a payer. The rules and fee schedule are checked by
    building the rules the billing screen will use."""
    _check_org(actor, organization.pk)
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Name the payer."
    elif text_problem(name):
        errors["name"] = f"The name {text_problem(name)}."
    if kind not in PayerKind.values:
        errors["kind"] = "Choose the kind of payer."
    payer_id = _ident(errors, "payer_id", payer_id, "The payer id")
    if kind != PayerKind.SELF_PAY and len(payer_id) < 2:
        errors["payer_id"] = "Enter the payer id the clearinghouse publishes (2+ characters)."
    indicator = (claim_filing_indicator or "").strip().upper()
    if indicator not in FILING_INDICATORS:
        errors["claim_filing_indicator"] = "Use an X12 claim filing code: CI, MC, MA, MB, BL, HM..."
    if group_size_cap is not None and not 1 <= group_size_cap <= 100:
        errors["group_size_cap"] = "A group cap is from 1 to 100 members."
    try:
        rules = payer_rules(
            billing_model=billing_model, claim_type=claim_type, fee_schedule=fee_schedule,
            overrides=rules_overrides, name=name or "payer", group_size_cap=group_size_cap,
        )  # fmt: skip
    except RulesError as exc:
        for key, message in exc.errors.items():
            target = key if key in ("billing_model", "claim_type") else (
                "fee_schedule" if key.startswith("fee_schedule") else "rules_overrides"
            )  # fmt: skip
            errors.setdefault(target, f"{key} {message}".strip())
        rules = None
    if rules is not None and billing_model == Payer.BillingModel.MEDICARE_IOP:
        if claim_type != Payer.ClaimType.INSTITUTIONAL:
            errors["claim_type"] = "Medicare IOP is billed on institutional (837I) claims."
    if errors:
        raise ValidationError(errors)
    values = {
        "name": name, "kind": kind, "payer_id": payer_id, "claim_filing_indicator": indicator,
        "billing_model": billing_model, "claim_type": claim_type,
        "rules_overrides": rules_overrides or {},
        "fee_schedule": {k.strip().upper(): str(v) for k, v in (fee_schedule or {}).items()},
        "group_size_cap": group_size_cap, "active": active,
    }  # fmt: skip
    user = user_or_none(actor)
    try:
        with transaction.atomic():
            if payer is None:
                payer = Payer.objects.create(
                    organization=organization, created_by=user, updated_by=user, **values
                )
                verb = "create"
            else:
                locked = Payer.objects.select_for_update().get(pk=payer.pk)
                for key, value in values.items():
                    setattr(locked, key, value)
                locked.updated_by = user
                locked.save()
                payer, verb = locked, "update"
    except IntegrityError:
        raise ValidationError({"name": "Another payer already has this name."}) from None
    audit_log(
        actor=actor, action=f"openiop.billing.payer.{verb}", category=CAT, obj=payer,
        organization=organization, request=request,
        detail={"name": name, "billing_model": billing_model, "claim_type": claim_type},
    )  # fmt: skip
    return payer


@transaction.atomic
def program_rule_save(
    *,
    actor: Any,
    payer: Payer,
    program: Any,
    program_kind: str,
    rules_overrides: Any = None,
    fee_overrides: Any = None,
    request: HttpRequest | None = None,
) -> ProgramPayerRule:
    """What ``payer`` does differently for ``program`` (created or replaced)."""
    _check_org(actor, payer.organization_id)
    if program.organization_id != payer.organization_id:
        raise ValidationError({"program": "Choose a program of this organization."})
    if program_kind not in ProgramPayerRule.ProgramKind.values:
        raise ValidationError({"program_kind": "Choose substance use or psychiatric IOP."})
    fees = {**(payer.fee_schedule or {}), **(fee_overrides or {})}
    try:
        payer_rules(
            billing_model=payer.billing_model, claim_type=payer.claim_type, fee_schedule=fees,
            overrides=payer.rules_overrides or None, extra_overrides=rules_overrides,
        )  # fmt: skip
    except RulesError as exc:
        raise ValidationError({"rules_overrides": str(exc)}) from None
    rule, _ = ProgramPayerRule.objects.update_or_create(
        organization_id=payer.organization_id, payer=payer, program=program,
        defaults={"program_kind": program_kind, "rules_overrides": rules_overrides or {},
                  "fee_overrides": fee_overrides or {}, "updated_by": user_or_none(actor)},
    )  # fmt: skip
    audit_log(
        actor=actor, action="openiop.billing.program_rule.save", category=CAT, obj=rule,
        request=request, detail={"payer": payer.name, "program": program.name},
    )  # fmt: skip
    return rule


# --- coverage -----------------------------------------------------------------------------------


@transaction.atomic
def coverage_save(
    *,
    actor: Any,
    patient: Patient,
    coverage: Coverage | None = None,
    payer: Payer,
    member_id: str = "",
    group_number: str = "",
    subscriber_relationship: str = Coverage.Relationship.SELF,
    subscriber_first_name: str = "",
    subscriber_last_name: str = "",
    subscriber_date_of_birth: dt.date | None = None,
    subscriber_sex: str = Coverage.Sex.UNKNOWN,
    priority: int = 1,
    effective_on: dt.date | None = None,
    terminates_on: dt.date | None = None,
    active: bool = True,
    copay: Decimal | None = None,
    coinsurance_percent: Decimal | None = None,
    deductible: Decimal | None = None,
    deductible_met: Decimal = Decimal(0),
    out_of_pocket_max: Decimal | None = None,
    out_of_pocket_met: Decimal = Decimal(0),
    request: HttpRequest | None = None,
) -> Coverage:
    """Record or correct a patient's coverage. A missing member id is allowed (it is what the
    payer's card is waiting for) but every line billed on it is blocked until it is entered."""
    _check_org(actor, patient.organization_id)
    errors: dict[str, str] = {}
    if payer.organization_id != patient.organization_id:
        errors["payer"] = "Choose a payer of this organization."
    member_id = _ident(errors, "member_id", member_id, "The member id")
    group_number = _ident(errors, "group_number", group_number, "The group number")
    if subscriber_relationship not in Coverage.Relationship.values:
        errors["subscriber_relationship"] = "Choose the patient's relationship to the subscriber."
    elif subscriber_relationship != Coverage.Relationship.SELF:
        for key, value in (
            ("subscriber_first_name", subscriber_first_name),
            ("subscriber_last_name", subscriber_last_name),
        ):
            if not (value or "").strip():
                errors[key] = "Enter the subscriber's name (the patient is not the subscriber)."
            elif text_problem(value):
                errors[key] = f"The name {text_problem(value)}."
    if subscriber_sex not in Coverage.Sex.values:
        errors["subscriber_sex"] = "Choose F, M or U."
    if priority not in (1, 2, 3):
        errors["priority"] = "Choose primary, secondary or tertiary."
    if effective_on and terminates_on and terminates_on < effective_on:
        errors["terminates_on"] = "The coverage cannot end before it starts."
    if coinsurance_percent is not None and not 0 <= coinsurance_percent <= 100:
        errors["coinsurance_percent"] = "Coinsurance is from 0 to 100 percent."
    for key, value in (
        ("copay", copay), ("deductible", deductible), ("deductible_met", deductible_met),
        ("out_of_pocket_max", out_of_pocket_max), ("out_of_pocket_met", out_of_pocket_met),
    ):  # fmt: skip
        if value is not None and value < 0:
            errors[key] = "Must not be negative."
    if errors:
        raise ValidationError(errors)
    values: dict[str, Any] = {
        "payer": payer, "member_id": member_id, "group_number": group_number,
        "subscriber_relationship": subscriber_relationship,
        "subscriber_first_name": (subscriber_first_name or "").strip(),
        "subscriber_last_name": (subscriber_last_name or "").strip(),
        "subscriber_date_of_birth": subscriber_date_of_birth, "subscriber_sex": subscriber_sex,
        "priority": priority, "effective_on": effective_on, "terminates_on": terminates_on,
        "active": active, "copay": copay, "coinsurance_percent": coinsurance_percent,
        "deductible": deductible, "deductible_met": deductible_met or Decimal(0),
        "out_of_pocket_max": out_of_pocket_max, "out_of_pocket_met": out_of_pocket_met or 0,
    }  # fmt: skip
    user = user_or_none(actor)
    if coverage is None:
        coverage = Coverage.objects.create(
            organization_id=patient.organization_id, patient=patient, created_by=user,
            updated_by=user, **values,
        )  # fmt: skip
        verb = "create"
    else:
        coverage = Coverage.objects.select_for_update().get(pk=coverage.pk)
        for key, value in values.items():
            setattr(coverage, key, value)
        coverage.updated_by = user
        coverage.save()
        verb = "update"
    audit_log(
        actor=actor, action=f"openiop.billing.coverage.{verb}", category=CAT, obj=coverage,
        patient=patient, request=request,
        detail={"payer": payer.name, "priority": priority, "member_id_set": bool(member_id)},
    )  # fmt: skip
    return coverage


@transaction.atomic
def certification_create(
    *,
    actor: Any,
    episode: Episode,
    signed_on: dt.date,
    kind: str = Certification.Kind.CERTIFICATION,
    signed_by: Any = None,
    signed_by_name: str = "",
    request: HttpRequest | None = None,
) -> Certification:
    """Record a physician's (re)certification of the need for IOP (Medicare, domain.md §2.2)."""
    _check_org(actor, episode.organization_id)
    errors: dict[str, str] = {}
    if kind not in Certification.Kind.values:
        errors["kind"] = "Choose certification or recertification."
    if signed_on is None:
        errors["signed_on"] = "Enter the day the physician signed."
    elif episode.admitted_on is not None and signed_on < episode.admitted_on - dt.timedelta(30):
        errors["signed_on"] = "The certification is more than 30 days before admission."
    if signed_by is None and not (signed_by_name or "").strip():
        errors["signed_by_name"] = "Name the physician who signed."
    if signed_by is not None and signed_by.organization_id != episode.organization_id:
        errors["signed_by"] = "Choose a physician of this organization."
    if errors:
        raise ValidationError(errors)
    user = user_or_none(actor)
    cert = Certification.objects.create(
        organization_id=episode.organization_id, episode=episode, patient_id=episode.patient_id,
        kind=kind, signed_on=signed_on, signed_by=signed_by,
        signed_by_name=(signed_by_name or "").strip(), created_by=user, updated_by=user,
    )  # fmt: skip
    audit_log(
        actor=actor, action="openiop.billing.certification.create", category=CAT, obj=cert,
        patient=episode.patient, request=request,
        detail={"kind": kind, "signed_on": signed_on.isoformat()},
    )  # fmt: skip
    return cert


# --- billing profile ----------------------------------------------------------------------------

PROFILE_FIELDS = (
    "billing_name", "npi", "tax_id", "taxonomy", "address_line1", "address_line2", "city",
    "state", "zip_code", "submitter_id", "contact_name", "contact_phone", "contact_email",
    "receiver_name", "receiver_id", "usage_indicator", "facility_type_code",
    "attending_provider", "claim_prefix", "price_per_hour", "residential_daily_rate",
)  # fmt: skip


@transaction.atomic
def billing_profile_save(
    *,
    actor: Any,
    organization: Any,
    values: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> BillingProfile:
    """Set the billing provider, clearinghouse ids and list prices (keys of PROFILE_FIELDS;
    organization configuration, no patient data)."""
    _check_org(actor, organization.pk)
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown settings: {', '.join(sorted(unknown))}")
    errors: dict[str, str] = {}
    npi = str(values.get("npi", "")).strip()
    if not npi_is_valid(npi):
        errors["npi"] = "Not a valid NPI (10 digits with a correct check digit)."
    if len(re.sub(r"\D", "", str(values.get("tax_id", "")))) != 9:
        errors["tax_id"] = "The EIN has 9 digits."
    if len(re.sub(r"\D", "", str(values.get("zip_code", "")))) != 9:
        errors["zip_code"] = "The billing provider needs the 9-digit ZIP+4."
    if len(re.sub(r"\D", "", str(values.get("contact_phone", "")))) != 10:
        errors["contact_phone"] = "Enter a 10-digit phone number."
    for key in ("billing_name", "address_line1", "address_line2", "city", "contact_name",
                "receiver_name"):  # fmt: skip
        why = text_problem(str(values.get(key, "")))
        if why:
            errors[key] = f"This {why}."
    for key in ("submitter_id", "receiver_id"):
        value = str(values.get(key, "")).strip()
        if not 2 <= len(value) <= 15 or text_problem(value, fold=False):
            errors[key] = "2 to 15 letters or digits."
    prefix = str(values.get("claim_prefix", "")).strip()
    if not re.fullmatch(r"[A-Z0-9]{1,6}", prefix):
        errors["claim_prefix"] = "1 to 6 capital letters or digits."
    if not re.fullmatch(r"[1-8][0-9]", str(values.get("facility_type_code", ""))):
        errors["facility_type_code"] = "Two digits, e.g. 13 hospital outpatient or 76 CMHC."
    doctor = values.get("attending_provider")
    if doctor is not None:
        if doctor.organization_id != organization.pk:
            errors["attending_provider"] = "Choose a staff member of this organization."
        elif not npi_is_valid((doctor.npi or "").strip()):
            errors["attending_provider"] = "This staff member has no valid NPI on their account."
    if errors:
        raise ValidationError(errors)
    user = user_or_none(actor)
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    profile = BillingProfile.objects.select_for_update().filter(organization=organization).first()
    if profile is None:
        profile = BillingProfile.objects.create(
            organization=organization, created_by=user, updated_by=user, **clean
        )
    else:
        for key, value in clean.items():
            setattr(profile, key, value)
        profile.updated_by = user
        profile.save()
    audit_log(
        actor=actor, action="openiop.billing.profile.save", category=CAT, obj=profile,
        organization=organization, request=request, detail={"fields": sorted(values)},
    )  # fmt: skip
    return profile
