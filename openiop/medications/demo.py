"""Medication and drug-screen history for the demo clinic.

About a third of the patients with opioid use are on buprenorphine, some on extended-release
naltrexone, one or two dosed with methadone by an outside program; a few others take a
prescribed benzodiazepine or an antidepressant. Every admitted patient gets a weekly
point-of-care urine screen: mostly negative or as prescribed, a few positives for the primary
substance, the odd missed buprenorphine, one dilute specimen, and one positive sent to the lab
for confirmation. Written through the services so interpretations follow the real rule.
Deterministic for a given ``rng`` state.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from openiop.enrollment.models import Episode
from openiop.medications import services
from openiop.medications.models import DrugScreen
from openiop.organizations.models import Organization

OPIOIDS = {5, 6, 7}  # TEDS heroin, non-prescription methadone, other opiates
# TEDS primary substance -> the panel substance a relapse shows up as.
RELAPSE = {
    2: "etg",
    3: "cocaine",
    4: "thc",
    5: "opiates",
    6: "methadone",
    7: "fentanyl",
    10: "methamphetamine",
    11: "amphetamines",
    13: "benzodiazepines",
}
CUP = (
    "amphetamines", "benzodiazepines", "buprenorphine", "cocaine", "fentanyl", "methadone",
    "methamphetamine", "opiates", "oxycodone", "thc", "etg",
)  # fmt: skip


def _collected(day: dt.date, tz: Any, rng: random.Random) -> dt.datetime:
    hour = rng.choice((9, 10, 11, 17, 18))
    return dt.datetime.combine(day, dt.time(hour, rng.choice((0, 15, 30, 45))), tzinfo=tz)


def _start(episode: Episode, **kw: Any) -> Any:
    return services.medication_start(actor=None, patient=episode.patient, episode=episode, **kw)


def seed_medication_history(
    *,
    organization: Organization,
    episodes: Iterable[Episode],
    prescriber: Any,
    rng: random.Random,
    today: dt.date,
) -> dict[str, int]:
    """Write medications and weekly screens for admitted ``episodes`` of ``organization``;
    screens are collected before ``today`` only. Returns counts."""
    counts = {"medications": 0, "mat": 0, "screens": 0, "positive_screens": 0}
    admitted = sorted(
        (
            e
            for e in episodes
            if e.organization_id == organization.pk
            and e.admitted_on is not None
            and e.admitted_on < today
        ),
        key=lambda e: e.pk,
    )
    episodes_qs = Episode.objects.filter(pk__in=[e.pk for e in admitted]).select_related(
        "patient", "program__site"
    )
    by_pk = {e.pk: e for e in episodes_qs}
    confirmed = False
    dilute_done = False
    methadone_left = 2
    for ep in (by_pk[e.pk] for e in admitted):
        tz = ep.program.site.tz
        # The demo's clock: its "today" may run ahead of the real one.
        clock = max(timezone.now(), dt.datetime.combine(today, dt.time.min, tzinfo=tz))
        opioid = ep.primary_substance in OPIOIDS or ep.secondary_substance in OPIOIDS
        mat = ""
        draw = rng.random()
        if opioid and draw < 0.34:
            mat = "buprenorphine"
        elif opioid and draw < 0.5:
            mat = "naltrexone"
        elif opioid and methadone_left and draw < 0.6:
            mat = "methadone"
            methadone_left -= 1
        begun = ep.admitted_on - dt.timedelta(days=rng.randint(0, 30))  # type: ignore[operator]
        if mat == "buprenorphine":
            med = _start(
                ep, name="Buprenorphine/naloxone", dose=rng.choice(("8 mg/2 mg", "16 mg/4 mg")),
                route="sublingual", frequency="once daily", start_on=begun,
                prescriber=prescriber, mat_kind=mat,
                adherence_notes=rng.choice(("", "Takes it each morning; no missed doses.")),
            )  # fmt: skip
            counts["mat"] += 1
            counts["medications"] += 1
            change_on = ep.admitted_on + dt.timedelta(days=rng.randint(7, 21))  # type: ignore[operator]
            if change_on < today and rng.random() < 0.3:
                services.medication_change(
                    actor=None, medication=med, changed_on=change_on, dose="24 mg/6 mg",
                    reason="Afternoon cravings on the lower dose", now=clock,
                )  # fmt: skip
                counts["medications"] += 1
        elif mat == "naltrexone":
            _start(
                ep, name="Naltrexone ER (Vivitrol)", dose="380 mg", route="injection",
                frequency="every 4 weeks", start_on=begun, prescriber=prescriber, mat_kind=mat,
            )  # fmt: skip
            counts["mat"] += 1
            counts["medications"] += 1
        elif mat == "methadone":
            _start(
                ep, name="Methadone", dose=f"{rng.choice((60, 80, 100))} mg",
                frequency="daily at the clinic", start_on=begun - dt.timedelta(days=90),
                outside_prescriber="Capital District Opioid Treatment Program", mat_kind=mat,
            )  # fmt: skip
            counts["mat"] += 1
            counts["medications"] += 1
        if rng.random() < 0.2:
            _start(
                ep, name="Sertraline", dose="50 mg", frequency="once daily",
                start_on=begun, prescriber=prescriber,
            )  # fmt: skip
            counts["medications"] += 1
        elif rng.random() < 0.06:
            _start(
                ep, name="Clonazepam", dose="0.5 mg", frequency="at bedtime as needed",
                start_on=begun, prescriber=prescriber, adherence_notes="Counted weekly.",
            )  # fmt: skip
            counts["medications"] += 1

        last = min(ep.discharged_on or today, today - dt.timedelta(days=1))
        day = ep.admitted_on
        relapse = RELAPSE.get(ep.primary_substance or 0)
        while day is not None and day <= last:
            collect_on = min(day + dt.timedelta(days=rng.randint(0, 4)), last)
            results = []
            positive = False
            for substance in CUP:
                detected = False
                if substance == relapse and rng.random() < 0.08:
                    detected = positive = True
                elif substance == "buprenorphine" and mat == "buprenorphine":
                    detected = rng.random() < 0.93
                elif substance == "methadone" and mat == "methadone":
                    detected = True
                results.append((substance, detected))
            collected_at = _collected(collect_on, tz, rng)
            validity = "valid"
            if not dilute_done and rng.random() < 0.05:
                validity, dilute_done = "dilute", True
            screen = services.drug_screen_record(
                actor=None, patient=ep.patient, episode=ep, collected_at=collected_at,
                method=DrugScreen.Method.PRESUMPTIVE, results=results,
                observed=rng.random() < 0.3, specimen_validity=validity, now=clock,
            )  # fmt: skip
            counts["screens"] += 1
            counts["positive_screens"] += int(positive)
            if positive and not confirmed and relapse:
                services.drug_screen_record(
                    actor=None, patient=ep.patient, episode=ep, method="confirmatory",
                    results=[(relapse, True)], confirms=screen, lab_name="Quest Diagnostics",
                    accession_number=f"QD{rng.randint(10**7, 10**8 - 1)}", now=clock,
                )  # fmt: skip
                confirmed = True
                counts["screens"] += 1
            day = day + dt.timedelta(days=7)
    return counts
