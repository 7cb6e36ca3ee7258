"""A payer's stored settings -> charge rules (pure): overrides applied, bad ones named."""

from __future__ import annotations

from decimal import Decimal

import pytest

from openiop.billing.charge_rules import BillingModel, ClaimType, Modality, ProgramKind
from openiop.billing.payer_config import RulesError, check_fee_schedule, payer_rules


def test_overrides_and_fees_become_rules():
    rules = payer_rules(
        billing_model="per_diem", claim_type="professional", name="Acme",
        fee_schedule={"h0015": "185"}, group_size_cap=8,
        overrides={"per_diem_min_minutes": 150, "video_modifier": "gt",
                   "allowed_modalities": ["in_person", "video"],
                   "per_diem_codes": {"sud_iop": "H2036"}},
        extra_overrides={"per_diem_min_minutes": 120},
    )  # fmt: skip
    assert rules.name == "Acme" and rules.billing_model == BillingModel.PER_DIEM
    assert rules.fees == {"H0015": Decimal("185.00")} and rules.max_group_size == 8
    assert rules.per_diem_min_minutes == 120  # the program's rule wins
    assert rules.video_modifier == "GT"
    assert rules.allowed_modalities == frozenset({Modality.IN_PERSON, Modality.VIDEO})
    assert rules.per_diem_codes == {ProgramKind.SUD_IOP: "H2036"}


def test_medicare_iop_base_is_institutional_with_condition_code_92():
    rules = payer_rules(billing_model="medicare_iop", claim_type="institutional")
    assert rules.claim_type == ClaimType.INSTITUTIONAL and rules.condition_codes == ("92",)
    assert rules.certification_required


def test_every_bad_setting_is_named():
    with pytest.raises(RulesError) as err:
        payer_rules(
            billing_model="per_diem", claim_type="professional",
            fee_schedule={"H0015": "-1", "XX": "10"},
            overrides={"per_diem_min_minutes": "3 hours", "bands": {}, "video_modifier": "95x"},
        )  # fmt: skip
    errors = err.value.errors
    assert errors["per_diem_min_minutes"].startswith("must be a whole number")
    assert errors["bands"] == "is not a rule a payer can set"
    assert "2-character modifier" in errors["video_modifier"]
    assert "must be above 0" in errors["fee_schedule.H0015"]
    assert "HCPCS/CPT" in errors["fee_schedule.XX"]


def test_inconsistent_overrides_are_refused():
    with pytest.raises(RulesError) as err:
        payer_rules(
            billing_model="medicare_iop", claim_type="institutional",
            overrides={"medicare_min_services_per_day": 4, "medicare_higher_category_min": 4},
        )  # fmt: skip
    assert "medicare_higher_category_min" in str(err.value)


def test_fee_schedule_must_be_an_object():
    assert check_fee_schedule(None) == {}
    with pytest.raises(RulesError):
        check_fee_schedule(["H0015", 185])
