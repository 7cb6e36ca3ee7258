from __future__ import annotations

import datetime as dt
import random

import pytest

from openiop.enrollment.services import episode_create
from openiop.medications.demo import seed_medication_history
from openiop.medications.models import DrugScreen, DrugScreenResult, Medication
from openiop.medications.tests.conftest import TODAY
from openiop.patients.services import patient_create

pytestmark = pytest.mark.django_db


def opioid_episodes(org, program, n):
    out = []
    for i in range(n):
        p = patient_create(
            actor=None, organization=org, first_name=f"P{i}", last_name="Demo",
            date_of_birth=dt.date(1985, 1, 1), sex="male",
        )  # fmt: skip
        out.append(
            episode_create(
                actor=None,
                patient=p,
                program=program,
                admitted_on=dt.date(2026, 10, 5),
                referral_source="self",
                primary_substance=7,
            )  # fmt: skip
        )
    return out


def seed(org, episodes, prescriber, seed=6):
    return seed_medication_history(
        organization=org, episodes=episodes, prescriber=prescriber,
        rng=random.Random(seed), today=TODAY,
    )  # fmt: skip


def test_demo_history_is_realistic(org, program, prescriber, episode):
    episodes = [*opioid_episodes(org, program, 24), episode]
    counts = seed(org, episodes, prescriber)
    bup = Medication.objects.filter(mat_kind="buprenorphine").values("patient").distinct().count()
    assert 4 <= bup <= 14  # about a third of 24
    assert Medication.objects.filter(mat_kind="naltrexone").exists()
    assert counts["screens"] >= 24 * 5
    kinds = dict.fromkeys(DrugScreenResult.Interpretation.values, 0)
    for value in DrugScreenResult.objects.values_list("interpretation", flat=True):
        kinds[value] += 1
    assert kinds["negative"] > 10 * kinds["positive"] > 0
    assert kinds["expected"] > 0
    assert DrugScreen.objects.filter(method="confirmatory", confirms__isnull=False).count() == 1
    assert not DrugScreen.objects.filter(collected_on__gte=TODAY).exists()


def test_demo_is_deterministic(org, program, prescriber):
    episodes = opioid_episodes(org, program, 6)
    first = seed(org, episodes, prescriber, seed=3)
    rows = list(DrugScreenResult.objects.order_by("id").values_list("substance", "detected"))
    DrugScreenResult.objects.all().delete()
    DrugScreen.objects.filter(confirms__isnull=False).delete()
    DrugScreen.objects.all().delete()
    Medication.objects.filter(replaces__isnull=False).delete()
    Medication.objects.all().delete()
    assert seed(org, episodes, prescriber, seed=3) == first
    again = list(DrugScreenResult.objects.order_by("id").values_list("substance", "detected"))
    assert again == rows
