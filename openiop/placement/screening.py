"""Routing a phone screen (pure; no Django).

The screen decides one thing at once: can this person safely wait for a full assessment, or must
they be sent somewhere else now? The most urgent route wins: danger to self or others →
emergency care; severe withdrawal, or withdrawal symptoms with recent (or undated) use of
alcohol, an opioid or a sedative (typed names included) → withdrawal management; pregnancy →
assessment with prenatal coordination; otherwise → assessment (withdrawal symptoms that do not
route still add a caution reason). Each reason names what drove it.
This is decision support for the intake coordinator, who records the route they actually took.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from openiop.placement import rules

# Substances whose withdrawal can be dangerous or needs medication (alcohol and sedatives can
# cause seizures; opioid withdrawal is the usual moment to start buprenorphine or methadone).
# The checkbox keys are listed here; words typed into "other" ("oxycodone", "xanax", "benzos",
# "etoh", ...) are matched with the rules module's word lists (:func:`withdrawal_risk`).
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
# "Recent" use for the withdrawal route. reference/domain.md gives no withdrawal time course, so
# this is a local default; symptoms after older use still get a caution reason, never "no risk".
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
    return rules.normalize_words(items)


def withdrawal_risk(substance: str) -> bool:
    """A normalized substance word whose withdrawal can be dangerous: alcohol, an opioid, or a
    benzodiazepine / other sedative (checkbox keys and typed names alike)."""
    return (
        substance in WITHDRAWAL_RISK
        or rules.is_opioid(substance)
        or rules.is_alcohol(substance)
        or rules.is_sedative(substance)
    )


def route_screen(answers: ScreenAnswers, today: dt.date) -> ScreenRoute:
    reasons: list[tuple[int, str]] = []
    if answers.suicide_plan_or_intent:
        reasons.append((0, "Suicidal plan or intent: emergency evaluation now (988 or the ED)."))
    if answers.homicidal_ideation:
        reasons.append((0, "Thoughts of harming others: emergency evaluation now."))
    risky = sorted(s.replace("_", " ") for s in answers.substances if withdrawal_risk(s))
    days = None if answers.last_use_on is None else (today - answers.last_use_on).days
    if answers.withdrawal_severe:
        reasons.append((1, "Severe withdrawal symptoms: refer to withdrawal management now."))
    elif answers.withdrawal_symptoms and risky and days is None:
        # Symptoms now are themselves a sign of recent use; an unknown date is no reassurance.
        reasons.append(
            (
                1,
                f"Withdrawal symptoms with {', '.join(risky)} use and no last-use date: "
                "treat as recent and refer to withdrawal management now.",
            )
        )
    elif answers.withdrawal_symptoms and risky and days is not None and days <= RECENT_USE_DAYS:
        reasons.append(
            (
                1,
                f"Withdrawal symptoms with recent {', '.join(risky)} use: "
                "refer to withdrawal management now.",
            )
        )
    elif answers.withdrawal_symptoms:
        if not answers.substances:
            what = "but no substance recorded: ask what was used and when"
        elif days is None:
            what = "with no last-use date: ask when the last use was"
        else:
            what = f"(last use {days} day{'s' if days != 1 else ''} ago)"
        reasons.append(
            (
                3,
                f"Caution: withdrawal symptoms reported {what}; review withdrawal risk "
                "(dimension 1) promptly and call back if they worsen.",
            )
        )
    if answers.pregnant == "yes":
        text = "Pregnant: assess promptly with prenatal care coordination"
        if any(rules.is_opioid(s) for s in answers.substances):
            text += "; opioid use in pregnancy: prioritize a medication (MOUD) evaluation"
        reasons.append((2, text + "."))
    if answers.suicidal_ideation and not answers.suicide_plan_or_intent:
        reasons.append((3, "Suicidal thoughts without a plan: same-day safety assessment."))
    if not reasons:
        reasons.append((3, "No urgent risk reported: continue to a full assessment."))
    reasons.sort(key=lambda r: r[0])
    return ScreenRoute(route=ROUTES[reasons[0][0]], reasons=tuple(text for _, text in reasons))
