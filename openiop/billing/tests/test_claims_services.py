"""Claims from the record: drafts from clean lines, status moves, corrections, control numbers,
and exports that pyx12 accepts (or problems reported and nothing exported)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from openiop.billing.models import Claim, ClaimLine, ClaimStatus, ControlNumber, Coverage
from openiop.billing.services_claims import (
    claim_correct,
    claim_mark_ready,
    claim_record_denial,
    claim_record_payment,
    claim_return_to_draft,
    claim_void,
    claims_build,
    claims_export,
    claims_mark_ready,
    next_numbers,
)
from openiop.billing.services_setup import certification_create
from openiop.billing.tests.claims_fixtures import (
    FROZEN,
    WEEK1,
    WEEK2,
    cover,
    documented_day,
    medicare,
    ready_patient,
)
from openiop.billing.tests.helpers import second_episode
from openiop.billing.x12.pyx12_check import pyx12_errors
from openiop.consent.models import Consent, Disclosure
from openiop.scheduling.models import SessionKind

MON1, SUN2 = dt.date(2026, 11, 2), dt.date(2026, 11, 15)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(FROZEN, tick=False):
        yield


def build(org, billing, start=MON1, end=SUN2, **kw):
    return claims_build(actor=billing, organization=org, start=start, end=end, **kw)


def ready_all(billing, claims):
    return [claim_mark_ready(actor=billing, claim=c) for c in claims]


def test_build_makes_one_draft_claim_per_patient_and_payer_from_clean_lines(org, billing, clinic):
    result = build(org, billing)
    [claim] = result.created
    assert claim.status == ClaimStatus.DRAFT and claim.frequency == "1"
    assert (claim.period_start, claim.period_end) == (WEEK1[0], WEEK2[-1])
    assert claim.total_charge == Decimal("1110.00")
    assert claim.diagnosis_codes == ["F10.20"] and claim.prior_authorization == "PA-7781"
    assert claim.place_of_service == "57" and claim.coverage == clinic["coverage"]
    lines = list(claim.lines.all())
    assert [ln.service_date for ln in lines] == WEEK1 + WEEK2
    assert all(ln.source_ids[0].startswith("att:") for ln in lines)
    # Building again claims nothing twice.
    assert build(org, billing).created == []


def test_claim_numbers_are_unique_and_increasing(org, billing, clinic, program, counselor):
    other = second_episode(org, program)
    cover(other.patient, clinic["payer"])
    from openiop.billing.tests.claims_fixtures import authorize

    authorize(other, clinic["payer"])
    for day in WEEK1:
        documented_day(other, day, counselor)
    numbers = [c.claim_number for c in build(org, billing).created]
    assert len(set(numbers)) == 2 and numbers == sorted(numbers)
    assert all(len(n) <= 20 for n in numbers)
    assert ControlNumber.objects.get(organization=org).last_claim == 2


def test_control_numbers_never_repeat(org):
    from django.db import transaction

    with transaction.atomic():
        first, _ = next_numbers(org.pk, interchanges=1)
    with transaction.atomic():
        second, _ = next_numbers(org.pk, interchanges=1)
    assert (first, second) == (1, 2)


def test_ready_requires_every_export_check_and_a_bad_move_changes_nothing(org, billing, clinic):
    [claim] = build(org, billing).created
    with pytest.raises(ValidationError) as err:
        claim_record_payment(actor=billing, claim=claim, amount=Decimal("10"))
    assert "A draft claim cannot become paid" in " ".join(err.value.messages)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DRAFT and claim.paid_amount is None

    Claim.objects.filter(pk=claim.pk).update(diagnosis_codes=[])
    claim.refresh_from_db()
    with pytest.raises(ValidationError) as err:
        claim_mark_ready(actor=billing, claim=claim)
    assert "The claim has no diagnosis." in err.value.messages
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.DRAFT

    Claim.objects.filter(pk=claim.pk).update(diagnosis_codes=["F10.20"])
    claim.refresh_from_db()
    claim = claim_mark_ready(actor=billing, claim=claim)
    assert claim.status == ClaimStatus.READY
    claim = claim_return_to_draft(actor=billing, claim=claim)
    assert claim.status == ClaimStatus.DRAFT


def test_void_frees_the_lines_to_be_claimed_again(org, billing, clinic):
    [claim] = build(org, billing).created
    with pytest.raises(ValidationError):
        claim_void(actor=billing, claim=claim, reason=" ")
    claim_void(actor=billing, claim=claim, reason="built for the wrong period")
    [again] = build(org, billing).created
    assert again.claim_number != claim.claim_number and again.lines.count() == 6


def test_export_837p_is_pyx12_valid_and_marks_claims_submitted(org, billing, clinic):
    [claim] = ready_all(billing, build(org, billing).created)
    result = claims_export(actor=billing, organization=org, fmt="837p", start=MON1, end=SUN2)
    assert result.problems == [] and result.refused == []
    batch = result.batch
    assert batch.claim_count == 1 and batch.interchange_control_number == 1
    assert pyx12_errors(batch.content) == []
    assert "CLM*" + claim.claim_number + "*1110*" in batch.content
    assert "SV1*HC:H0015*185*UN*1***1~" in batch.content
    assert "REF*G1*PA-7781~" in batch.content
    import hashlib

    assert batch.sha256 == hashlib.sha256(batch.content.encode()).hexdigest()
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED and claim.export_batch == batch
    assert Disclosure.objects.get().purpose == "payment"
    # Nothing left to send: a second export reports it and takes no interchange number.
    again = claims_export(actor=billing, organization=org, fmt="837p", start=MON1, end=SUN2)
    assert again.batch is None and "No claims are ready" in again.problems[0]
    assert ControlNumber.objects.get(organization=org).last_interchange == 1


def test_export_837i_for_medicare_iop_is_pyx12_valid(org, billing, program, counselor, prescriber):
    from openiop.accounts.models import User
    from openiop.billing.tests.claims_fixtures import make_profile, npi

    User.objects.filter(pk=prescriber.pk).update(npi=npi("176543210"))
    prescriber.refresh_from_db()
    make_profile(org, attending_provider=prescriber)
    payer = medicare(org)
    episode = second_episode(org, program)
    cover(episode.patient, payer, member_id="1EG4TE5MK73")
    ready_patient(episode.patient, episode, diagnosis="F33.1")
    certification_create(actor=None, episode=episode, signed_on=WEEK1[0], signed_by=prescriber)
    for day in WEEK1:
        for hour in (9, 11, 13):
            documented_day(episode, day, counselor, minutes=60, at=dt.time(hour))
    documented_day(episode, WEEK1[0], counselor, minutes=45, kind=SessionKind.INDIVIDUAL,
                   at=dt.time(15))  # fmt: skip
    [claim] = ready_all(billing, build(org, billing).created)
    assert claim.claim_type == "institutional" and claim.condition_codes == ["92"]
    assert claim.lines.count() == 10
    result = claims_export(actor=billing, organization=org, fmt="837i", start=MON1, end=SUN2)
    text = result.batch.content
    assert pyx12_errors(text) == []
    assert "005010X223A2" in text and "HI*BG:92~" in text and "CLM*" in text
    assert "SV2*0905*HC:90853*120*UN*1~" in text
    # The professional export of the same period does not pick the institutional claim up.
    none = claims_export(actor=billing, organization=org, fmt="837p", start=MON1, end=SUN2)
    assert none.batch is None


def test_missing_member_id_is_reported_and_nothing_is_exported(org, billing, clinic):
    [claim] = ready_all(billing, build(org, billing).created)
    Coverage.objects.filter(pk=clinic["coverage"].pk).update(member_id="")
    result = claims_export(actor=billing, organization=org, fmt="837p", start=MON1, end=SUN2)
    assert result.batch is None
    assert any("has no member id" in p for p in result.problems)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.READY
    assert not Disclosure.objects.exists()  # nothing released
    assert not ControlNumber.objects.filter(organization=org, last_interchange__gt=0).exists()


def test_a_patient_without_consent_is_left_out_and_the_others_exported(
    org, billing, clinic, program, counselor
):
    from openiop.billing.tests.claims_fixtures import authorize

    other = second_episode(org, program)
    cover(other.patient, clinic["payer"], member_id="BRX99")
    ready_patient(other.patient, other)
    Consent.objects.filter(patient=other.patient).delete()
    authorize(other, clinic["payer"])
    for day in WEEK1:
        documented_day(other, day, counselor)
    claims = ready_all(billing, build(org, billing).created)
    result = claims_export(actor=billing, organization=org, fmt="837p", start=MON1, end=SUN2)
    assert result.batch.claim_count == 1
    [refusal] = result.refused
    assert refusal.patient == other.patient.display_name
    refused = next(c for c in claims if c.patient_id == other.patient_id)
    refused.refresh_from_db()
    assert refused.status == ClaimStatus.READY  # still waiting for a consent
    assert Disclosure.objects.filter(patient=other.patient, status="refused").exists()
    assert other.patient.last_name.upper() not in result.batch.content


def test_payment_denial_and_correction_make_a_replacement_claim(org, billing, clinic):
    [claim] = ready_all(billing, build(org, billing).created)
    claims_export(actor=billing, organization=org, fmt="837p", start=MON1, end=SUN2)
    claim.refresh_from_db()
    claim = claim_record_denial(
        actor=billing, claim=claim, reason="CO-16 missing information", payer_claim_number="ICN77"
    )
    assert claim.status == ClaimStatus.DENIED
    assert set(claim.lines.values_list("status", flat=True)) == {ClaimLine.Status.DENIED}
    with pytest.raises(ValidationError):
        claim_void(actor=billing, claim=claim, reason="too late to void")
    replacement = claim_correct(actor=billing, claim=claim, reason="modifier fixed")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.CORRECTED
    assert replacement.frequency == "7" and replacement.original == claim
    assert replacement.original_claim_reference == "ICN77"
    assert replacement.lines.count() == 6 and replacement.status == ClaimStatus.DRAFT
    claim_mark_ready(actor=billing, claim=replacement)
    result = claims_export(actor=billing, organization=org, fmt="837p", start=MON1, end=SUN2)
    assert pyx12_errors(result.batch.content) == []
    assert ":B:7*" in result.batch.content and "REF*F8*ICN77~" in result.batch.content
    assert result.batch.interchange_control_number == 2
    replacement.refresh_from_db()
    paid = claim_record_payment(actor=billing, claim=replacement, amount=Decimal("900"))
    assert paid.status == ClaimStatus.PAID and paid.paid_amount == Decimal("900")
    with pytest.raises(ValidationError):
        claim_record_payment(actor=billing, claim=paid, amount=Decimal("1"))


def test_csv_export_has_one_row_per_line(org, billing, clinic):
    ready_all(billing, build(org, billing).created)
    result = claims_export(actor=billing, organization=org, fmt="csv", start=MON1, end=SUN2)
    rows = result.batch.content.strip().split("\r\n")
    assert rows[0].startswith("claim_id,claim_type")
    assert len(rows) == 7 and result.batch.interchange_control_number is None


def test_an_outsider_cannot_build_or_move_another_organizations_claims(
    org, billing, clinic, outsider
):
    [claim] = build(org, billing).created
    with pytest.raises(ValidationError):
        claim_void(actor=outsider, claim=claim, reason="x")
    with pytest.raises(ValidationError):
        claims_build(actor=outsider, organization=org, start=MON1, end=SUN2)


def test_marking_many_ready_checks_each_and_leaves_the_ones_with_problems_as_drafts(
    org, billing, clinic, program, counselor
):
    from openiop.billing.tests.claims_fixtures import authorize
    from openiop.core.models import AuditEvent

    other = second_episode(org, program)
    card = cover(other.patient, clinic["payer"], member_id="BRX99")
    ready_patient(other.patient, other)
    authorize(other, clinic["payer"])
    for day in WEEK1:
        documented_day(other, day, counselor)
    claims = build(org, billing).created
    assert len(claims) == 2
    Coverage.objects.filter(pk=card.pk).update(member_id="")  # the card on file was wrong
    before = AuditEvent.objects.filter(action="openiop.billing.claim.ready").count()
    result = claims_mark_ready(actor=billing, claims=claims)
    [ready] = result.ready
    assert ready.patient_id == clinic["episode"].patient_id
    [(number, problems)] = result.refused.items()
    refused = next(c for c in claims if c.claim_number == number)
    assert refused.patient_id == other.patient_id
    assert any("member id" in p for p in problems)
    statuses = dict(Claim.objects.filter(pk__in=[c.pk for c in claims]).values_list("id", "status"))
    assert statuses == {ready.pk: ClaimStatus.READY, refused.pk: ClaimStatus.DRAFT}
    rows = AuditEvent.objects.filter(action="openiop.billing.claim.ready")
    assert rows.count() == before + 1
    assert rows.order_by("-id").first().detail["claim"] == ready.claim_number
    # A claim already ready cannot be made ready again; nothing changes.
    again = claims_mark_ready(actor=billing, claims=[ready])
    assert again.ready == [] and "cannot become" in " ".join(again.refused[ready.claim_number])
    # The same checks as one at a time: the export takes the ready one.
    out = claims_export(actor=billing, organization=org, fmt="837p", start=MON1, end=SUN2)
    assert out.batch is not None and out.batch.claim_count == 1
