"""Demo histories: realistic series, correct scores, at most one open alert."""

from __future__ import annotations

import datetime as dt
import random

from openiop.questionnaires.demo import seed_questionnaire_history
from openiop.questionnaires.instruments import registry
from openiop.questionnaires.models import (
    ClinicalAlert,
    QuestionnaireResponse,
    QuestionnaireSchedule,
)


def make_episodes(org, program, counselor, n):
    from openiop.enrollment.services import episode_create
    from openiop.patients.services import patient_create

    out = []
    for i in range(n):
        p = patient_create(
            actor=None, organization=org, first_name=f"P{i}", last_name="Demo",
            date_of_birth=dt.date(1980, 1, 1), sex="female", phone="555-0100",
        )  # fmt: skip
        out.append(
            episode_create(
                actor=None,
                patient=p,
                program=program,
                admitted_on=dt.date(2026, 9, 1) + dt.timedelta(days=3 * i),
                referral_source="self",
                primary_substance=2,
                primary_counselor=counselor,
            )  # fmt: skip
        )
    return out


def test_demo_history(org, program, counselor):
    episodes = make_episodes(org, program, counselor, 10)
    today = dt.date(2026, 11, 20)
    n = seed_questionnaire_history(
        organization=org, episodes=episodes, rng=random.Random(7), today=today
    )
    assert n == QuestionnaireResponse.objects.count() > 0
    assert ClinicalAlert.objects.open().count() == 1
    assert QuestionnaireSchedule.objects.filter(program=program).count() == 3
    improved = 0
    for ep in episodes:
        phq = list(
            QuestionnaireResponse.objects.filter(episode=ep, instrument="phq9").order_by(
                "administered_at"
            )
        )
        assert phq[0].administered_at.date() == ep.admitted_on
        gaps = {(b.administered_at.date() - a.administered_at.date()).days
                for a, b in zip(phq, phq[1:], strict=False)}  # fmt: skip
        assert gaps <= {14}
        for r in phq:  # stored scores agree with the instrument module
            assert registry.score("phq9", r.answers).total == r.total
        improved += phq[-1].total < phq[0].total
        assert 1 <= QuestionnaireResponse.objects.filter(episode=ep, instrument="bam").count() <= 2
    assert 6 <= improved < 10  # most improve, not all
