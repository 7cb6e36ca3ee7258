"""Demo questionnaire histories: PHQ-9 and GAD-7 every two weeks from admission (most patients
improve, a few do not), one or two BAMs, program schedules, and at most one open alert.

Rows are bulk-created (the demo generator writes thousands of rows; going through the service
would audit each). Scores still come from the instrument modules, so they are always right.
Only one current patient gets an item-9 answer (on their latest PHQ-9), so the dashboard shows
one open alert, not a backlog.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from openiop.questionnaires.instruments import registry
from openiop.questionnaires.instruments.bam import days_to_code
from openiop.questionnaires.models import (
    ClinicalAlert,
    QuestionnaireResponse,
    QuestionnaireSchedule,
)

EVERY = 14


def _spread(rng: random.Random, total: int, n: int, top: int) -> list[int]:
    """``n`` item codes in 0..top adding up to ``total`` (clamped to what fits)."""
    total = max(0, min(total, n * top))
    codes = [0] * n
    for _ in range(total):
        choices = [i for i in range(n) if codes[i] < top]
        codes[rng.choice(choices)] += 1
    return codes


def _trajectory(rng: random.Random, n: int, start: int, top: int, improving: bool) -> list[int]:
    out = []
    value = float(start)
    for _ in range(n):
        out.append(max(0, min(top, round(value + rng.uniform(-1.5, 1.5)))))
        value = value - rng.uniform(1.0, 3.0) if improving else value + rng.uniform(-1.0, 1.2)
        value = max(value, rng.uniform(2, 5) if improving else 6)
    return out


def _bam(rng: random.Random, improving: bool, late: bool) -> list[int]:
    heavy = not late or not improving
    days = {
        "1": rng.randint(1, 3), "2": days_to_code(rng.randint(2, 20)),
        "3": days_to_code(rng.randint(3, 22) if heavy else rng.randint(0, 6)),
        "4": days_to_code(rng.randint(2, 15) if heavy else rng.randint(0, 2)),
        "5": days_to_code(rng.randint(0, 8) if heavy else 0),
        "6": days_to_code(rng.randint(0, 12) if heavy else rng.randint(0, 1)),
        "8": rng.randint(2, 4) if heavy else rng.randint(0, 2),
        "9": rng.randint(1, 2) if heavy else rng.randint(2, 4),
        "10": days_to_code(rng.randint(0, 4) if heavy else rng.randint(6, 20)),
        "11": days_to_code(rng.randint(2, 12) if heavy else rng.randint(0, 3)),
        "12": rng.randint(0, 4), "13": days_to_code(rng.randint(0, 22)),
        "14": rng.choice((0, 4, 4)), "15": rng.randint(1, 3) if heavy else rng.randint(0, 2),
        "16": days_to_code(rng.randint(2, 10) if heavy else rng.randint(8, 28)),
        "17": rng.randint(0, 2) if heavy else rng.randint(2, 4),
    }  # fmt: skip
    codes = []
    for item in registry.get("bam").items:
        if item.label.startswith("7"):
            codes.append(
                days_to_code(rng.randint(0, 10)) if days["6"] and rng.random() < 0.3 else 0
            )
        else:
            codes.append(days[item.label])
    return codes


def seed_questionnaire_history(
    *, organization: Any, episodes: Sequence[Any], rng: random.Random, today: dt.date
) -> int:
    """Give each admitted demo episode a questionnaire history; returns the responses created."""
    programs = {e.program_id for e in episodes}
    for program_id in sorted(programs):
        for key, every, discharge in (("phq9", EVERY, True), ("gad7", EVERY, True),
                                      ("bam", 30, True)):  # fmt: skip
            QuestionnaireSchedule.objects.get_or_create(
                organization=organization, program_id=program_id, instrument=key,
                defaults={"at_admission": True, "every_n_days": every, "at_discharge": discharge},
            )  # fmt: skip
    rows: list[QuestionnaireResponse] = []
    flagged: list[tuple[int, Any]] = []  # (row index, episode) of item-9 answers
    open_alert_given = False
    for episode in sorted(episodes, key=lambda e: e.pk):
        if episode.admitted_on is None or episode.admitted_on > today:
            continue
        end = min(today, episode.discharged_on or today)
        dates = []
        day = episode.admitted_on
        while day <= end:
            dates.append(day)
            day += dt.timedelta(days=EVERY)
        improving = rng.random() < 0.8
        phq = _trajectory(rng, len(dates), rng.randint(10, 21), 27, improving)
        gad = _trajectory(rng, len(dates), rng.randint(8, 17), 21, improving)
        # one current patient with a recent item-9 answer (the demo's single open alert)
        si_at = None
        if not open_alert_given and episode.discharged_on is None and len(dates) >= 2:
            si_at = len(dates) - 1
            open_alert_given = True
        counselor = episode.primary_counselor
        for i, on in enumerate(dates):
            at = dt.datetime.combine(on, dt.time(14, rng.randint(0, 59)), tzinfo=dt.UTC)
            item9 = 1 if i == si_at else 0
            phq_codes = _spread(rng, phq[i] - item9, 8, 3) + [item9]
            for key, codes in (("phq9", phq_codes), ("gad7", _spread(rng, gad[i], 7, 3))):
                definition = registry.get(key)
                score = definition.score(codes)
                rows.append(
                    QuestionnaireResponse(
                        organization=organization,
                        patient_id=episode.patient_id,
                        episode=episode,
                        instrument=key,
                        instrument_version=definition.version,
                        answers=definition.answers_by_link_id(codes),
                        total=score.total,
                        severity=score.severity or "",
                        flags=list(score.flags),
                        positive=score.positive,
                        subscales=dict(score.subscales),
                        administered_at=at + dt.timedelta(minutes=5 if key == "gad7" else 0),
                        administered_by=counselor,
                    )  # fmt: skip
                )
                if score.alert_flags:
                    flagged.append((len(rows) - 1, episode))
        bam_days = [0] + ([2] if len(dates) >= 3 and rng.random() < 0.7 else [])
        for n, index in enumerate(bam_days):
            codes = _bam(rng, improving, late=n > 0)
            score = registry.get("bam").score(codes)
            at = dt.datetime.combine(dates[index], dt.time(14, 30), tzinfo=dt.UTC)
            rows.append(
                QuestionnaireResponse(
                    organization=organization,
                    patient_id=episode.patient_id,
                    episode=episode,
                    instrument="bam",
                    instrument_version="1",
                    answers=registry.get("bam").answers_by_link_id(codes),
                    total=None,
                    severity="",
                    flags=[],
                    positive=None,
                    subscales=dict(score.subscales),
                    administered_at=at,
                    administered_by=counselor,
                )  # fmt: skip
            )
    created = QuestionnaireResponse.objects.bulk_create(rows, batch_size=500)
    for index, episode in flagged:
        response = created[index]
        if response.pk is None:  # backends without RETURNING on bulk insert
            response = QuestionnaireResponse.objects.get(public_id=response.public_id)
        ClinicalAlert.objects.create(
            organization=organization, patient_id=episode.patient_id, episode=episode,
            response=response, kind="suicidal_ideation", raised_at=response.administered_at,
            assigned_to=episode.primary_counselor,
        )  # fmt: skip
    return len(rows)
