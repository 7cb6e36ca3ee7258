"""Routing a phone screen (pure; no Django).

The screen decides one thing at once: can this person safely wait for a full assessment, or must
they be sent somewhere else now? The most urgent route wins: danger to self or others →
emergency care; severe or likely-complicated withdrawal → withdrawal management; pregnancy →
assessment with prenatal coordination; otherwise → assessment. Each reason names what drove it.
This is decision support for the intake coordinator, who records the route they actually took.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

# Substances whose withdrawal can be dangerous or needs medication (alcohol and sedatives can
# cause seizures; opioid withdrawal is the usual moment to start buprenorphine or methadone).
WITHDRAWAL_RISK = frozenset(
    {
        "alcohol",
        "benzodiazepines",
        "sedatives",
        "barbiturates",
        "opioids",
        "heroin",
        "fentanyl",
        "methadone",
        "other_opiates",
        "prescription_opioids",
    }
)
RECENT_USE_DAYS = 3

ROUTES = ("emergency", "withdrawal_management", "prenatal", "assess")


@dataclass(frozen=True)
class ScreenAnswers:
    substances: frozenset[str]
    last_use_on: dt.date | None
    withdrawal_symptoms: bool
    withdrawal_severe: bool
    suicidal_ideation: bool
    suicide_plan_or_intent: bool
    homicidal_ideation: bool
    pregnant: str  # "yes" | "no" | "unknown"


@dataclass(frozen=True)
class ScreenRoute:
    route: str
    reasons: tuple[str, ...]


def normalize_substances(items: Iterable[str]) -> frozenset[str]:
    return frozenset(
        s.strip().lower().replace(" ", "_").replace("-", "_") for s in items if s and s.strip()
    )


def route_screen(answers: ScreenAnswers, today: dt.date) -> ScreenRoute:
    reasons: list[tuple[int, str]] = []
    if answers.suicide_plan_or_intent:
        reasons.append((0, "Suicidal plan or intent: emergency evaluation now (988 or the ED)."))
    if answers.homicidal_ideation:
        reasons.append((0, "Thoughts of harming others: emergency evaluation now."))
    risky = sorted(answers.substances & WITHDRAWAL_RISK)
    recent = (
        answers.last_use_on is not None and (today - answers.last_use_on).days <= RECENT_USE_DAYS
    )
    if answers.withdrawal_severe:
        reasons.append((1, "Severe withdrawal symptoms: refer to withdrawal management now."))
    elif answers.withdrawal_symptoms and risky and recent:
        reasons.append(
            (
                1,
                f"Withdrawal symptoms with recent {', '.join(risky)} use: "
                "refer to withdrawal management now.",
            )
        )
    if answers.pregnant == "yes":
        text = "Pregnant: assess promptly with prenatal care coordination"
        if answers.substances & {"opioids", "heroin", "fentanyl", "other_opiates"}:
            text += "; opioid use in pregnancy: prioritize a medication (MOUD) evaluation"
        reasons.append((2, text + "."))
    if answers.suicidal_ideation and not answers.suicide_plan_or_intent:
        reasons.append((3, "Suicidal thoughts without a plan: same-day safety assessment."))
    if not reasons:
        reasons.append((3, "No urgent risk reported: continue to a full assessment."))
    reasons.sort(key=lambda r: r[0])
    return ScreenRoute(route=ROUTES[reasons[0][0]], reasons=tuple(text for _, text in reasons))
