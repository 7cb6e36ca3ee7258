"""Billing for the demo clinic: payer authorizations (``seed_authorizations``, called by
``openiop demo`` after attendance exists) and payers, coverage and claims (``seed_billing``).

Most episodes in treatment get authorizations in four-week blocks from admission, as a payer's
concurrent review would grant them (earlier blocks ended, the current one in force); one is
about to run out (one unit left) and one has none, so the dashboard's alerts have something to
show. Deterministic for a given ``rng`` state. Written directly (no audit rows): generating
fictitious data is not a read or write of anyone's record.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from openiop.billing.models import Authorization
from openiop.billing.selectors import usages_for
from openiop.enrollment.models import Episode

PAYERS = (
    ("Blue River Health Plan", "BRH"),
    ("Keystone Medicaid", "KMC"),
    ("Summit Commercial", "SUM"),
    ("Evergreen Behavioral (managed care)", "EVB"),
)
BLOCK_DAYS = 28


def seed_authorizations(
    *, organization: Any, episodes: Iterable[Episode], rng: random.Random, today: dt.date
) -> int:
    """Write authorizations for the open, admitted ``episodes``; returns how many were written."""
    active = sorted(
        (
            e for e in episodes
            if e.organization_id == organization.pk and e.status != Episode.Status.DISCHARGED
            and e.admitted_on is not None and e.admitted_on <= today
        ),
        key=lambda e: e.pk,
    )  # fmt: skip
    if not active:
        return 0
    missing = active[-1] if len(active) > 2 else None
    running_out = active[0]
    written: list[Authorization] = []
    for episode in active:
        if episode is missing:
            continue
        payer, prefix = rng.choice(PAYERS)
        kind = (
            Authorization.UnitKind.SESSIONS if rng.random() < 0.2 else Authorization.UnitKind.DAYS
        )
        code = "S9480" if payer.startswith("Summit") else "H0015"
        start = episode.admitted_on
        assert start is not None
        block = 0
        while start <= today:
            end = start + dt.timedelta(days=BLOCK_DAYS - 1)
            per_week = rng.choice((4, 4, 5)) if kind == Authorization.UnitKind.DAYS else 5
            written.append(
                Authorization.objects.create(
                    organization=organization,
                    episode=episode,
                    patient_id=episode.patient_id,
                    payer_name=payer,
                    auth_number=f"{prefix}-{rng.randint(100000, 999999)}",
                    level_of_care=episode.program.level_of_care,
                    service_code=code,
                    unit_kind=kind,
                    units_authorized=per_week * 4,
                    start_on=start,
                    end_on=end,
                    notes="Initial authorization" if block == 0 else "Concurrent review",
                )
            )
            start = end + dt.timedelta(days=1)
            block += 1
    # One authorization in force with a single unit left: the "running low" alert.
    current = [
        a for a in written
        if a.episode_id == running_out.pk and a.start_on <= today <= a.end_on
    ]  # fmt: skip
    if current:
        auth = current[-1]
        auth.episode = running_out
        used = usages_for([auth], today)[0].used
        auth.units_authorized = max(1, int(used) + 1)
        auth.notes = "Concurrent review; payer granted a short extension"
        auth.save(update_fields=["units_authorized", "notes", "updated_at"])
    return len(written)


# --- payers, coverage, claims (issue #8) ---------------------------------------------------------

DEMO_PAYERS: tuple[dict[str, Any], ...] = (
    dict(name="Blue River Health Plan", kind="commercial", payer_id="BRHP1",
         claim_filing_indicator="CI", billing_model="per_diem", claim_type="professional",
         fee_schedule={"H0015": "185.00", "S9480": "210.00"}),
    dict(name="Keystone Medicaid", kind="medicaid", payer_id="KSMCD",
         claim_filing_indicator="MC", billing_model="per_service", claim_type="professional",
         group_size_cap=12,
        rules_overrides={"authorization_required_for": []},
         fee_schedule={"90853": "55.00", "90832": "70.00", "90834": "95.00", "90837": "130.00",
                       "90846": "100.00", "90847": "110.00", "90791": "160.00",
                       "99212": "60.00", "99213": "85.00", "99214": "120.00", "99215": "160.00",
                       "80305": "18.00"}),
    dict(name="Summit Commercial", kind="commercial", payer_id="SUMMT",
         claim_filing_indicator="CI", billing_model="per_diem", claim_type="professional",
         rules_overrides={"per_diem_codes": {"sud_iop": "S9480", "psych_iop": "S9480"},
                          "video_modifier": "GT"},
         fee_schedule={"S9480": "225.00"}),
    dict(name="Evergreen Behavioral (managed care)", kind="medicaid", payer_id="EVBMC",
         claim_filing_indicator="MC", billing_model="per_diem", claim_type="professional",
         rules_overrides={"code_modifiers": {"H0015": ["HF"]}},
         fee_schedule={"H0015": "160.00"}),
    dict(name="Medicare", kind="medicare", payer_id="MCRA1", claim_filing_indicator="MA",
         billing_model="medicare_iop", claim_type="institutional",
         fee_schedule={"90853": "120.00", "90832": "90.00", "90834": "120.00",
                       "90837": "150.00", "90846": "110.00", "90847": "120.00",
                       "90791": "200.00", "99212": "70.00", "99213": "95.00",
                       "99214": "130.00", "99215": "170.00"}),
    dict(name="Self-pay", kind="self_pay", payer_id="", claim_filing_indicator="ZZ",
         billing_model="per_diem", claim_type="professional", fee_schedule={"H0015": "135.00"}),
)  # fmt: skip
COMMERCIAL = ("Blue River Health Plan", "Summit Commercial")


def _member_id(rng: random.Random, payer: str) -> str:
    letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
    return f"{letters}{rng.randint(10_000_000, 99_999_999)}" if payer != "Medicare" else (
        f"{rng.randint(1, 9)}{letters[:2]}{rng.randint(0, 9)}{letters[2]}{rng.randint(10, 99)}"
        f"MK{rng.randint(10, 99)}"
    )  # fmt: skip


def seed_billing(
    *,
    organization: Any,
    episodes: Iterable[Episode],
    staff: Any,
    rng: random.Random,
    today: dt.date,
) -> dict[str, int]:
    """Payers, the billing profile, coverage for every admitted patient (linked to the payer of
    their authorizations), Medicare certifications, and claims: the week before last built,
    sent as an 837P, then paid / denied / corrected; last week built and marked ready, so
    ``openiop billing export --format 837p --from <last Monday> --to <last Sunday>`` has
    something to write. Call it after consents, notes, screens and authorizations exist."""
    from openiop.accounts.models import User
    from openiop.accounts.permissions import Role, roles_of
    from openiop.billing.charge_rules import week_start
    from openiop.billing.models import (
        BillingProfile,
        Certification,
        Claim,
        Coverage,
        Payer,
        ProgramPayerRule,
    )
    from openiop.billing.services_claims import (
        claim_correct,
        claim_mark_ready,
        claim_record_denial,
        claim_record_payment,
        claims_build,
        claims_export,
    )
    from openiop.billing.x12.validate import npi_check_digit
    from openiop.organizations.models import Program

    users = list(staff.values()) if isinstance(staff, dict) else list(staff)
    biller = next((u for u in users if Role.BILLING in roles_of(u)), None)
    doctor = next((u for u in users if Role.PRESCRIBER in roles_of(u) and u.npi), None)
    payers = {
        spec["name"]: Payer.objects.create(organization=organization, **spec)
        for spec in DEMO_PAYERS
    }
    BillingProfile.objects.create(
        organization=organization, billing_name=organization.name[:60],
        npi="123456789" + npi_check_digit("123456789"), tax_id="16-4021988",
        address_line1="410 Water Street", city="Riverbend", state="NY", zip_code="12901-4410",
        submitter_id="RIVERBEND01", contact_name="Billing Office", contact_phone="5185550140",
        contact_email="billing@riverbend.example.org", receiver_name="Example Clearinghouse",
        receiver_id="CLEARHOUSE01", facility_type_code="76", attending_provider=doctor,
    )  # fmt: skip
    # The adolescent track meets 2 hours a day: its per-diem payers accept a 2-hour day.
    for program in Program.objects.for_org(organization.pk):
        if program.population == Program.Population.ADOLESCENT:
            for name in ("Blue River Health Plan", "Evergreen Behavioral (managed care)"):
                ProgramPayerRule.objects.create(
                    organization=organization, payer=payers[name], program=program,
                    rules_overrides={"per_diem_min_minutes": 120},
                )  # fmt: skip

    admitted = sorted(
        (e for e in episodes if e.organization_id == organization.pk and e.admitted_on
         and e.admitted_on <= today),
        key=lambda e: (e.admitted_on, e.pk),
    )  # fmt: skip
    auths = Authorization.objects.for_org(organization.pk).filter(episode__in=admitted)
    auth_payer: dict[int, str] = {}
    for a in auths:
        if a.payer_name in payers:
            auth_payer[a.patient_id] = a.payer_name
    for name, payer in payers.items():
        auths.filter(payer_name=name).update(payer=payer)

    coverages = 0
    seen: set[int] = set()
    missing_member_id_done = False
    for e in admitted:
        if e.patient_id in seen:
            continue
        seen.add(e.patient_id)
        patient = e.patient
        program = e.program
        name = auth_payer.get(patient.pk)
        if name is None:
            roll = rng.random()
            in_person_adult = (
                program.population == Program.Population.ADULT
                and program.modality != Program.Modality.VIRTUAL
            )
            if in_person_adult and roll < 0.2:
                name = "Medicare"
            elif roll < 0.3:
                name = "Self-pay"
            else:
                name = rng.choice(("Blue River Health Plan", "Keystone Medicaid",
                                   "Evergreen Behavioral (managed care)"))  # fmt: skip
        payer = payers[name]
        minor = patient.age_on(today) < 18
        guardian = patient.guardians.first() if minor else None
        sub_first, _, sub_last = (guardian.name if guardian else "").partition(" ")
        member = "" if payer.is_self_pay else _member_id(rng, name)
        if not payer.is_self_pay and not missing_member_id_done and name in COMMERCIAL:
            member, missing_member_id_done = "", True  # the card is still awaited
        commercial = payer.kind == "commercial"
        Coverage.objects.create(
            organization=organization, patient=patient, payer=payer, member_id=member,
            group_number=f"G{rng.randint(1000, 9999)}" if commercial else "",
            subscriber_relationship="child" if guardian else "self",
            subscriber_first_name=sub_first if guardian else "",
            subscriber_last_name=(sub_last or patient.last_name) if guardian else "",
            subscriber_date_of_birth=(
                dt.date(patient.date_of_birth.year - 30, 6, 1) if guardian else None
            ),
            effective_on=dt.date((e.admitted_on or today).year - 1, 1, 1),
            copay=Decimal("30.00") if commercial else None,
            coinsurance_percent=Decimal("20") if commercial or name == "Medicare" else None,
            deductible=Decimal("1500.00") if commercial else (
                Decimal("240.00") if name == "Medicare" else None),
            deductible_met=Decimal(rng.choice((0, 250, 800, 1500))) if commercial else Decimal(0),
            out_of_pocket_max=Decimal("6000.00") if commercial else None,
        )  # fmt: skip
        coverages += 1
        if name == "Medicare" and e.admitted_on:
            signed = e.admitted_on
            kind = Certification.Kind.CERTIFICATION
            while signed <= today:
                Certification.objects.create(
                    organization=organization, episode=e, patient=patient, kind=kind,
                    signed_on=signed, signed_by=doctor,
                    signed_by_name="" if doctor else "Attending physician",
                )  # fmt: skip
                signed += dt.timedelta(days=55)
                kind = Certification.Kind.RECERTIFICATION

    counts = {"payers": len(payers), "coverages": coverages, "claims": 0, "exported": 0}
    if biller is None or not isinstance(biller, User):
        return counts
    last_monday = week_start(today) - dt.timedelta(days=7)
    older = last_monday - dt.timedelta(days=7)
    sent: list[Claim] = []
    for monday in (older, last_monday):
        built = claims_build(
            actor=biller, organization=organization, start=monday,
            end=monday + dt.timedelta(days=6), today=today,
        )  # fmt: skip
        counts["claims"] += len(built.created)
        for claim in built.created:
            try:
                claim_mark_ready(actor=biller, claim=claim)
            except ValidationError:
                continue  # e.g. no diagnosis on the plan yet: stays a draft, as in real life
        if monday == older:
            for fmt in ("837p", "837i"):
                result = claims_export(
                    actor=biller, organization=organization, fmt=fmt, start=monday,
                    end=monday + dt.timedelta(days=6),
                )  # fmt: skip
                if result.batch is not None:
                    counts["exported"] += result.batch.claim_count
                    sent += list(result.batch.claims.all())
    for i, claim in enumerate(sorted(sent, key=lambda c: c.claim_number)):
        number = f"{claim.payer.payer_id or 'PY'}{rng.randint(10**9, 10**10 - 1)}"
        if i % 4 in (0, 1):
            claim_record_payment(
                actor=biller, claim=claim, payer_claim_number=number,
                amount=(claim.total_charge * Decimal("0.8")).quantize(Decimal("0.01")),
            )  # fmt: skip
        elif i % 4 == 2:
            claim_record_denial(
                actor=biller, claim=claim, payer_claim_number=number,
                reason="CO-197: precertification/authorization absent",
            )  # fmt: skip
            if i == 2:
                claim_correct(
                    actor=biller, claim=claim, original_claim_reference=number,
                    reason="Authorization number added",
                )  # fmt: skip
    return counts
