"""Intake history for the demo clinic: a referral, phone screen and assessment behind every
admission, consents to treat, and a handful of open referrals at each stage of intake.

Called by ``openiop demo`` after the clinic is written. Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from openiop.accounts.models import User
from openiop.enrollment.models import Episode
from openiop.organizations.models import Organization, Program
from openiop.placement import rules
from openiop.placement.models import Assessment, ConsentToTreat, Referral, Screening
from openiop.placement.screening import ScreenAnswers, route_screen

TEDS_TO_SUBSTANCE = {
    2: "alcohol",
    3: "cocaine",
    4: "marijuana",
    5: "heroin",
    7: "other_opiates",
    10: "methamphetamine",
    13: "benzodiazepines",
}
NOTES = {
    0: "No current concerns in this dimension.",
    1: "Mild, stable; no added structure needed for this dimension.",
    2: "Moderate; needs the structure and frequency of an intensive program.",
    3: "Serious; needs a high level of structure or 24-hour support.",
    4: "Severe and imminent; needs immediate, medically managed care.",
}
URGENCIES = ["routine"] * 6 + ["urgent"] * 3 + ["emergent"]
OPEN_PEOPLE = [
    ("Marcus", "Bell", "court", "new", ["alcohol"], "Court-ordered evaluation after DUI"),
    ("Ines", "Carvalho", "self", "new", ["other_opiates"], "Wants help with pain pills"),
    ("Tomasz", "Nowak", "employer", "screening", ["alcohol"], "EAP referral, missed shifts"),
    ("Grace", "Adeyemi", "hospital", "screening", ["methamphetamine"], "ED visit, agitation"),
    ("Daniel", "Reyes", "family", "assessment", ["cocaine", "alcohol"], "Family concerned"),
    ("Olivia", "Brandt", "detox", "referred_out", ["alcohol"], "Shakes on the phone call"),
]


def _ratings(rng: random.Random, variance: bool) -> dict[str, Any]:
    d = {f"d{n}": rng.choice([0, 1, 1, 2]) for n in range(1, 7)}
    d["d1"] = min(d["d1"], 1)
    d["d2"] = min(d["d2"], 1)
    d[rng.choice(["d4", "d5"])] = 2
    if variance:
        d["d6"] = 3
    return d


def _assessment_data(
    age: int, ratings: dict[str, Any], substances: list[str], works: bool
) -> dict[str, Any]:
    facts = dict.fromkeys(rules.RISK_FACTS, False)
    responsibilities = ["school"] if age < 18 else (["work"] if works else ["family"])
    return {
        "age": age,
        **ratings,
        **facts,
        "responsibilities": responsibilities,
        "substances": substances,
    }


def add_intake_history(
    *, organization: Organization, seed: int, now: dt.datetime, staff: dict[str, User]
) -> int:
    """Write intake records behind the demo episodes; returns the number of referrals."""
    rng = random.Random(seed * 7919 + 3)
    intake = staff.get("intake")
    clinicians = [u for name, u in staff.items() if name.startswith("counselor")] or [intake]
    programs = [
        rules.ProgramInfo(
            key=str(p.public_id),
            name=p.name,
            population=p.population,
            min_age=p.min_age,
            max_age=p.max_age,
            modality=p.modality,
            cohort=p.cohort,
            level_of_care=p.level_of_care,
        )
        for p in Program.objects.for_org(organization)
    ]
    episodes = list(
        Episode.objects.for_org(organization)
        .filter(transferred_from__isnull=True)
        .select_related("patient", "program")
        .prefetch_related("patient__unavailable_windows")
        .order_by("id")
    )
    referrals = 0
    for index, episode in enumerate(episodes):
        patient = episode.patient
        received = episode.referral_date or (episode.admitted_on or now.date())
        status = {
            Episode.Status.WAITLISTED: Referral.Status.WAITLISTED,
        }.get(episode.status, Referral.Status.ADMITTED)
        referral = Referral.objects.create(
            organization=organization,
            patient=patient,
            first_name=patient.first_name,
            last_name=patient.last_name,
            date_of_birth=patient.date_of_birth,
            phone=patient.phone,
            email=patient.email,
            source=episode.referral_source,
            urgency=rng.choice(URGENCIES),
            received_on=received,
            program_requested=episode.program,
            status=status,
            episode=episode,
            assigned_to=intake,
            reason="Referred for intensive outpatient care",
            closed_on=episode.admitted_on if status == Referral.Status.ADMITTED else None,
        )
        referrals += 1
        substance = TEDS_TO_SUBSTANCE.get(episode.primary_substance or 2, "alcohol")
        screened = dt.datetime.combine(received, dt.time(10), tzinfo=dt.UTC)
        answers = ScreenAnswers(
            substances=frozenset({substance}),
            last_use_on=received - dt.timedelta(days=6),
            withdrawal_symptoms=False,
            withdrawal_severe=False,
            suicidal_ideation=False,
            suicide_plan_or_intent=False,
            homicidal_ideation=False,
            pregnant="unknown",
        )
        routed = route_screen(answers, received)
        Screening.objects.create(
            organization=organization,
            referral=referral,
            screened_at=screened,
            screened_by=intake,
            substances=[substance],
            last_use_on=answers.last_use_on,
            insurance=rng.choice(["Medicaid", "Blue Cross PPO", "Aetna", "Self-pay", "Medicare"]),
            route=routed.route,
            route_reasons=list(routed.reasons),
        )
        age = patient.age_on(received)
        works = any(w.kind == "work" for w in patient.unavailable_windows.all())
        variance = index % 11 == 5 and age >= 18 and works
        data = _assessment_data(age, _ratings(rng, variance), [substance], works)
        rec = rules.evaluate(rules.parse_assessment(data), programs)
        assessed_on = min(
            received + dt.timedelta(days=rng.choice([0, 1, 2, 3, 5])),
            episode.admitted_on or now.date(),
        )
        chosen = episode.program.level_of_care
        Assessment.objects.create(
            organization=organization,
            referral=referral,
            patient=patient,
            assessed_on=assessed_on,
            assessed_by=rng.choice(clinicians),
            criteria_edition="3",
            age=age,
            responsibilities=data["responsibilities"],
            substances=[substance],
            mat_interest=episode.mat,
            mat_eligible=episode.mat,
            recommended_level=rec.level,
            recommended_category=rec.level_category,
            recommendation=rec.to_json(),
            chosen_level=chosen,
            chosen_program=episode.program,
            variance_reason=(
                "Works full time and cannot live at a facility; IOP at higher intensity with "
                "sober-living support"
                if chosen != rec.level
                else ""
            ),
            **{k: data[k] for k in rules.RISK_FACTS},
            **{f"d{n}": data[f"d{n}"] for n in range(1, 7)},
            **{f"d{n}_note": NOTES[data[f"d{n}"]] for n in range(1, 7)},
        )
        if episode.admitted_on is not None:
            ConsentToTreat.objects.create(
                organization=organization,
                episode=episode,
                signed_by_patient=f"{patient.first_name} {patient.last_name}",
                signed_by_guardian=(
                    patient.guardians.first().name
                    if age < 18 and patient.guardians.exists()
                    else ""
                ),
                signed_at=dt.datetime.combine(episode.admitted_on, dt.time(14), tzinfo=dt.UTC),
                witnessed_by=intake,
            )
    today = timezone.localtime(now).date()
    for i, (first, last, source, status, substances, reason) in enumerate(OPEN_PEOPLE):
        received = today - dt.timedelta(days=1 + i)
        referral = Referral.objects.create(
            organization=organization,
            first_name=first,
            last_name=last,
            date_of_birth=dt.date(1975 + 3 * i, 1 + i, 10 + i),
            phone=f"(555) 555-01{60 + i}",
            source=source,
            urgency=URGENCIES[(i * 3) % len(URGENCIES)],
            received_on=received,
            reason=reason,
            status=status,
            assigned_to=intake,
            referred_out_to="Riverside Withdrawal Management Unit"
            if status == "referred_out"
            else "",
            closed_on=received if status == "referred_out" else None,
        )
        referrals += 1
        if status in ("screening", "assessment", "referred_out"):
            withdrawal = status == "referred_out"
            answers = ScreenAnswers(
                substances=frozenset(substances),
                last_use_on=received,
                pregnant="no",
                withdrawal_symptoms=withdrawal,
                withdrawal_severe=False,
                suicidal_ideation=False,
                suicide_plan_or_intent=False,
                homicidal_ideation=False,
            )
            routed = route_screen(answers, received)
            Screening.objects.create(
                organization=organization,
                referral=referral,
                substances=sorted(substances),
                screened_at=dt.datetime.combine(received, dt.time(15), tzinfo=dt.UTC),
                screened_by=intake,
                last_use_on=received,
                withdrawal_symptoms=withdrawal,
                pregnant="no",
                route=routed.route,
                route_reasons=list(routed.reasons),
                insurance="Medicaid",
            )
        if status == "assessment":
            age = referral.date_of_birth and (today.year - referral.date_of_birth.year - 1)
            data = _assessment_data(int(age or 40), _ratings(rng, False), substances, True)
            rec = rules.evaluate(rules.parse_assessment(data), programs)
            Assessment.objects.create(
                organization=organization,
                referral=referral,
                assessed_on=received,
                assessed_by=clinicians[0],
                age=data["age"],
                criteria_edition="3",
                responsibilities=data["responsibilities"],
                substances=substances,
                recommended_level=rec.level,
                recommended_category=rec.level_category,
                recommendation=rec.to_json(),
                chosen_level=rec.level,
                **{k: data[k] for k in rules.RISK_FACTS},
                **{f"d{n}": data[f"d{n}"] for n in range(1, 7)},
                **{f"d{n}_note": NOTES[data[f"d{n}"]] for n in range(1, 7)},
            )
    return referrals
