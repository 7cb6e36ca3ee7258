"""Patient cost estimates: worked numbers (pure), then the page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from conftest import login
from openiop.billing.estimate import (
    GFE_NOTICE,
    CostSharing,
    TreatmentPlan,
    estimate,
    split_cost,
)
from openiop.billing.tests.claims_fixtures import (
    FROZEN,
    SENTINEL,
)

ADULT = TreatmentPlan(weeks=6, hours_per_week=Decimal(9), days_per_week=3)
D = Decimal


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(FROZEN, tick=False):
        yield


def test_self_pay_six_weeks_of_nine_hours_at_45_an_hour_is_a_good_faith_estimate():
    e = estimate(plan=ADULT, price_per_hour=D("45"))
    assert e.is_good_faith_estimate and e.notices == GFE_NOTICE
    assert (e.plan.days, e.plan.hours) == (18, D(54))
    assert len(e.items) == 6 and e.items[0].total == D("405.00")
    assert e.total == D("2430.00") and e.share.patient == D("2430.00")
    assert e.patient_per_week == D("405.00")
    assert e.dispute_threshold == D("2830.00")  # $400 above the estimate
    # Residential: the same 6 weeks, 7 days a week, at $575 a day.
    assert (e.residential_days, e.residential_total) == (42, D("24150.00"))
    assert e.savings == D("21720.00")
    assert any("$400 or more" in n and "120 calendar days" in n for n in e.notices)


def test_insured_per_diem_split_deductible_then_copay_then_coinsurance():
    sharing = CostSharing(
        copay_per_day=D("30"), coinsurance_percent=D("20"), deductible_remaining=D("700")
    )
    e = estimate(plan=ADULT, day_rate=D("185"), code="H0015", sharing=sharing)
    assert not e.is_good_faith_estimate
    assert e.total == D("3330.00")  # 18 days x $185
    s = e.share
    assert (s.deductible, s.copay, s.coinsurance) == (D("700.00"), D("540.00"), D("418.00"))
    assert (s.patient, s.payer) == (D("1658.00"), D("1672.00"))
    assert e.price_per_hour == D("61.67")  # $185 for a 3-hour day
    assert e.items[0].unit == "day" and e.items[0].code == "H0015"


def test_the_out_of_pocket_maximum_caps_the_patients_share():
    sharing = CostSharing(
        coinsurance_percent=D("20"), deductible_remaining=D("1500"),
        out_of_pocket_remaining=D("1000"),
    )  # fmt: skip
    share = split_cost(D("3330"), 18, sharing)
    assert share.patient == D("1000.00") and share.capped and share.payer == D("2330.00")


def test_bad_estimate_inputs_are_refused():
    with pytest.raises(ValueError):
        TreatmentPlan(weeks=0, hours_per_week=D(9), days_per_week=3)
    with pytest.raises(ValueError):
        CostSharing(coinsurance_percent=D("120"))
    with pytest.raises(ValueError):
        estimate(plan=ADULT, day_rate=D("0"))


@given(
    charges=st.decimals(min_value=0, max_value=100_000, places=2),
    days=st.integers(min_value=1, max_value=365),
    copay=st.decimals(min_value=0, max_value=500, places=2),
    pct=st.decimals(min_value=0, max_value=100, places=2),
    deductible=st.decimals(min_value=0, max_value=20_000, places=2),
)
def test_the_patient_never_pays_more_than_the_charges_nor_less_than_nothing(
    charges, days, copay, pct, deductible
):
    share = split_cost(charges, days, CostSharing(copay, pct, deductible))
    assert D(0) <= share.patient <= share.charges
    assert share.patient + share.payer == share.charges


# --- the page ---------------------------------------------------------------------------------


def url(episode, **params):
    base = reverse("billing:estimate", args=[episode.public_id])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_estimate_page_uses_the_payers_rate_and_coverage(client, intake, clinic):
    body = login(client, intake).get(url(clinic["episode"])).content.decode()
    # 6 weeks x 3 days x $185 = $3,330; deductible 700 left, copay 30/day, 20% coinsurance.
    assert "$3,330.00" in body and "$1,658.00" in body
    assert "Compared with residential treatment" in body and "$24,150.00" in body
    assert "<svg" in body and 'role="img"' in body
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert not re.search(r"\sstyle=", svg) and "<style" not in svg
    assert SENTINEL not in body


def test_estimate_page_self_pay_is_a_good_faith_estimate(client, intake, clinic):
    response = login(client, intake).get(
        url(clinic["episode"], coverage="self", weeks=8, hours_per_week=9, days_per_week=3)
    )
    body = response.content.decode()
    assert "Good Faith Estimate" in body and "$400 or more" in body
    assert "$3,240.00" in body  # 8 x 9 h x $45
    assert "NPI 1234567893" in body and "diagnosis codes F10.20" in body


def test_estimate_page_bad_input_is_a_form_error(client, intake, clinic):
    response = login(client, intake).get(
        url(clinic["episode"], coverage="self", weeks=0, hours_per_week=9, days_per_week=3)
    )
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()


def test_estimate_page_access(client, clinic, front_desk, counselor, outsider, billing):
    target = url(clinic["episode"])
    assert client.get(target).status_code == 302
    assert login(client, front_desk).get(target).status_code == 403
    assert login(client, counselor).get(target).status_code == 403
    assert login(client, outsider).get(target).status_code == 404  # a director elsewhere
    assert login(client, billing).get(target).status_code == 200
