"""Claim rows -> the X12 writer's records (``openiop.billing.x12``), and nothing else.

The writers never reach into the database; this module maps a loaded :class:`Claim` (with its
patient, episode, payer, coverage and lines) and the organization's :class:`BillingProfile`
onto the frozen dataclasses the 837P / 837I / CSV writers take. Anything it cannot map (an
address it cannot read, no coverage) is returned as a sentence for billing staff; the writers'
own checks (``validate_batch``) catch the rest (member id, NPI check digit, diagnoses...).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from openiop.billing import x12
from openiop.billing.models import BillingProfile, Claim, ClaimLine, Coverage, Payer

_STATE_ZIP = re.compile(r"^([A-Za-z]{2})\s+(\d{5}(?:-?\d{4})?)$")
RELATIONSHIP_CODES = {"spouse": "01", "child": "19", "other": "G8"}
SEXES = {"female": "F", "male": "M"}


def parse_address(text: str) -> x12.Address | None:
    """ "12 Oak Avenue, Apt 2, Springfield, IL 62702" -> Address; None when it cannot be read.

    The last comma-separated part must be "ST ZIP", the one before it the city; the rest is the
    street (first part) and the second line (anything between)."""
    parts = [p.strip() for p in (text or "").replace("\n", ",").split(",") if p.strip()]
    if len(parts) < 3:
        return None
    match = _STATE_ZIP.match(parts[-1])
    if match is None:
        return None
    state, zip_code = match.groups()
    line2 = ", ".join(parts[1:-2])
    return x12.Address(parts[0], parts[-2], state.upper(), zip_code, line2=line2)


def profile_records(
    profile: BillingProfile,
) -> tuple[x12.Submitter, x12.Receiver, x12.BillingProvider, x12.Practitioner | None]:
    submitter = x12.Submitter(
        name=profile.billing_name,
        id=profile.submitter_id,
        contact_name=profile.contact_name,
        contact_phone=profile.contact_phone,
        contact_email=profile.contact_email,
    )
    receiver = x12.Receiver(name=profile.receiver_name, id=profile.receiver_id)
    provider = x12.BillingProvider(
        organization_name=profile.billing_name,
        npi=profile.npi.strip(),
        tax_id=profile.tax_id,
        address=x12.Address(
            profile.address_line1,
            profile.city,
            profile.state,
            profile.zip_code,
            line2=profile.address_line2,
        ),
        taxonomy=profile.taxonomy.strip(),
    )
    attending = None
    doctor = profile.attending_provider
    if doctor is not None:
        attending = x12.Practitioner(
            last_name=doctor.last_name, first_name=doctor.first_name, npi=(doctor.npi or "").strip()
        )
    return submitter, receiver, provider, attending


def _line(line: ClaimLine, institutional: bool, number: str) -> x12.ServiceLine:
    return x12.ServiceLine(
        service_date=line.service_date,
        procedure_code=line.code,
        charge=line.charge,
        units=Decimal(line.units),
        modifiers=tuple(line.modifiers or ()),
        place_of_service="" if institutional else line.place_of_service,
        revenue_code=line.revenue_code if institutional else "",
        diagnosis_pointers=() if institutional else (1,),
        line_id=f"{number}-{line.position}"[:30],
    )


def claim_record(
    claim: Claim,
    profile: BillingProfile,
    *,
    lines: list[ClaimLine],
    attending: x12.Practitioner | None,
    provider: x12.BillingProvider,
) -> tuple[x12.Claim | None, list[str]]:
    """The writer's record for one claim, or the reasons it cannot be made."""
    problems: list[str] = []
    patient = claim.patient
    coverage: Coverage | None = claim.coverage
    payer: Payer = claim.payer
    who = f"Claim {claim.claim_number} ({patient.first_name} {patient.last_name})"
    if coverage is None:
        return None, [f"{who}: no coverage is linked to the claim; rebuild it."]
    address = parse_address(patient.address)
    if address is None:
        problems.append(
            f"{who}: the patient's address must read 'street, city, ST ZIP' "
            f"(it is '{patient.address or 'empty'}'); correct it on the patient's page."
        )
    institutional = claim.claim_type == Payer.ClaimType.INSTITUTIONAL
    if institutional and attending is None:
        problems.append(
            f"{who}: an institutional claim needs an attending provider; choose one in the "
            "billing settings."
        )
    if problems:
        return None, problems
    assert address is not None
    sex = SEXES.get(patient.sex, "U")
    if coverage.subscriber_relationship == Coverage.Relationship.SELF:
        subscriber = x12.Subscriber(
            last_name=patient.last_name,
            first_name=patient.first_name,
            member_id=coverage.member_id,
            birth_date=patient.date_of_birth,
            sex=sex,
            address=address,
            group_number=coverage.group_number,
        )
        dependent = None
    else:
        subscriber = x12.Subscriber(
            last_name=coverage.subscriber_last_name,
            first_name=coverage.subscriber_first_name,
            member_id=coverage.member_id,
            birth_date=coverage.subscriber_date_of_birth,
            sex=coverage.subscriber_sex or "U",
            group_number=coverage.group_number,
        )
        dependent = x12.Patient(
            last_name=patient.last_name,
            first_name=patient.first_name,
            birth_date=patient.date_of_birth,
            sex=sex,
            address=address,
            relationship=RELATIONSHIP_CODES.get(coverage.subscriber_relationship, "G8"),
        )
    info = None
    if institutional:
        assert attending is not None
        discharged = claim.episode.discharged_on
        info = x12.InstitutionalInfo(
            facility_type_code=profile.facility_type_code,
            statement_from=claim.period_start,
            statement_to=claim.period_end,
            attending_provider=attending,
            patient_status_code="01" if discharged and discharged <= claim.period_end else "30",
            admission_source_code="1",
            condition_codes=tuple(claim.condition_codes or ()),
        )
    record = x12.Claim(
        claim_id=claim.claim_number,
        billing_provider=provider,
        subscriber=subscriber,
        payer=x12.Payer(payer.name, payer.payer_id, payer.claim_filing_indicator),
        diagnosis_codes=tuple(claim.diagnosis_codes or ()),
        lines=tuple(_line(ln, institutional, claim.claim_number) for ln in lines),
        patient=dependent,
        place_of_service="" if institutional else claim.place_of_service,
        frequency_code=claim.frequency,
        original_claim_reference=claim.original_claim_reference,
        prior_authorization=claim.prior_authorization,
        institutional=info,
        total_charge=claim.total_charge,
    )
    return record, []


def batch_records(
    claims: list[Claim], profile: BillingProfile, created_at: dt.datetime
) -> tuple[list[tuple[Claim, x12.Claim]], list[str], x12.Submitter, x12.Receiver]:
    """Records for every claim that could be mapped, and the problems of the others.
    ``claims`` must have ``lines`` prefetched."""
    submitter, receiver, provider, attending = profile_records(profile)
    ok: list[tuple[Claim, x12.Claim]] = []
    problems: list[str] = []
    for claim in claims:
        record, why = claim_record(
            claim, profile, lines=list(claim.lines.all()), attending=attending, provider=provider
        )
        if record is None:
            problems.extend(why)
        else:
            ok.append((claim, record))
    return ok, problems, submitter, receiver
