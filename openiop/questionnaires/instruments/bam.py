"""BAM (Brief Addiction Monitor; VA VISN 4 MIRECC, Cacciola et al. 2013), 17 items, past 30 days.

Coding: the Likert-coded BAM, every item coded 0-4, which is how the composite ranges below are
published (Use 0-12, Risk 0-24, Protective 0-24):

* day-count items (2-7G, 10, 11, 13, 16) are recorded as the category of the number of days:
  0 = 0 days, 1 = 1-3 days, 2 = 4-8 days, 3 = 9-15 days, 4 = 16-30 days
  (:func:`days_to_code` converts a raw count of days 0-30);
* item 1 (physical health): 0 excellent ... 4 poor; items 8, 9, 12, 15, 17: 0 not at all ...
  4 extremely; item 14 (enough income): 0 = no, 4 = yes.

There is no validated total, so ``total`` and ``severity`` are null. Composites (``subscales``):

* ``use`` = items 4 + 5 + 6 (higher = more use)
* ``risk`` = items 1 + 2 + 3 + 8 + 11 + 15 (higher = more risk)
* ``protective`` = items 9 + 10 + 12 + 13 + 14 + 16 (higher = more protection)

Items 7A-7G elaborate item 6 (ask them only when item 6 is above 0; send 0 otherwise) and item 17
(satisfaction with progress) belong to no composite. The manual asks clinicians to read the
item-level answers; the form shows them.
"""

from __future__ import annotations

from openiop.questionnaires.instruments.base import AnswerOption, Instrument, Item, Parts, options

DAYS = options(
    (0, "0 days"),
    (1, "1-3 days"),
    (2, "4-8 days"),
    (3, "9-15 days"),
    (4, "16-30 days"),
)
HEALTH = options((0, "Excellent"), (1, "Very good"), (2, "Good"), (3, "Fair"), (4, "Poor"))
AMOUNT = options(
    (0, "Not at all"), (1, "Slightly"), (2, "Moderately"), (3, "Considerably"), (4, "Extremely")
)
NO_YES_4 = (AnswerOption(0, "No", 0, "LA32-8"), AnswerOption(4, "Yes", 4, "LA33-6"))

_P30 = "In the past 30 days, "
_DRUGS = (
    ("A", "marijuana (cannabis, pot, weed)"),
    ("B", "sedatives/tranquilizers (e.g. benzos, Valium, Xanax, Ativan, Ambien, barbs)"),
    ("C", "cocaine/crack"),
    ("D", "other stimulants (e.g. amphetamine, methamphetamine, Dexedrine, Ritalin, Adderall)"),
    ("E", "opiates (e.g. heroin, morphine, Dilaudid, Demerol, Oxycontin, oxy, codeine)"),
    ("F", "inhalants (glues, adhesives, nail polish remover, paint thinner, etc.)"),
    ("G", "other drugs (steroids, non-prescription sleep/diet pills, Benadryl, ephedra, other "
     "over-the-counter/unknown medications)"),
)  # fmt: skip

ITEMS = (
    Item("bam-1", "1", _P30 + "would you say your physical health has been:", HEALTH),
    Item("bam-2", "2", _P30 + "how many nights did you have trouble falling asleep or staying "
         "asleep?", DAYS),
    Item("bam-3", "3", _P30 + "how many days have you felt depressed, anxious, angry or very "
         "upset throughout most of the day?", DAYS),
    Item("bam-4", "4", _P30 + "how many days did you drink ANY alcohol?", DAYS),
    Item("bam-5", "5", _P30 + "how many days did you have at least 5 drinks (if you are a man) "
         "or at least 4 drinks (if you are a woman)?", DAYS),
    Item("bam-6", "6", _P30 + "how many days did you use any illegal/street drugs or abuse any "
         "prescription medications?", DAYS),
    *(
        Item(f"bam-7{letter.lower()}", f"7{letter}", _P30 + f"how many days did you use {what}?",
             DAYS, help_text="Ask only if item 6 is above 0 days.")
        for letter, what in _DRUGS
    ),
    Item("bam-8", "8", _P30 + "how much were you bothered by cravings or urges to drink alcohol "
         "or use drugs?", AMOUNT),
    Item("bam-9", "9", "How confident are you in your ability to be completely abstinent (clean) "
         "from alcohol and drugs in the next 30 days?", AMOUNT),
    Item("bam-10", "10", _P30 + "how many days did you attend self-help meetings like AA or NA "
         "to support your recovery?", DAYS),
    Item("bam-11", "11", _P30 + "how many days were you in any situations or with any people "
         "that might put you at an increased risk for using alcohol or drugs (i.e. around risky "
         "\"people, places or things\")?", DAYS),
    Item("bam-12", "12", "Does your religion or spirituality help support your recovery?",
         AMOUNT),
    Item("bam-13", "13", _P30 + "how many days did you spend much of the time at work, school, "
         "or doing volunteer work?", DAYS),
    Item("bam-14", "14", "Do you have enough income (from legal sources) to pay for necessities "
         "such as housing, transportation, food and clothing for yourself and your dependents?",
         NO_YES_4),
    Item("bam-15", "15", _P30 + "how much have you been bothered by arguments or problems "
         "getting along with any family members or friends?", AMOUNT),
    Item("bam-16", "16", _P30 + "how many days were you in contact or spent time with any "
         "family members or friends who are supportive of your recovery?", DAYS),
    Item("bam-17", "17", "How satisfied are you with your progress toward achieving your "
         "recovery goals?", AMOUNT),
)  # fmt: skip

_INDEX = {item.label: i for i, item in enumerate(ITEMS)}
COMPOSITES: dict[str, tuple[str, ...]] = {
    "use": ("4", "5", "6"),
    "risk": ("1", "2", "3", "8", "11", "15"),
    "protective": ("9", "10", "12", "13", "14", "16"),
}


def days_to_code(days: int) -> int:
    """A count of days in the past 30 as the BAM category code 0-4."""
    if not 0 <= days <= 30:
        raise ValueError(f"days must be 0 to 30, got {days}")
    for code, top in enumerate((0, 3, 8, 15)):
        if days <= top:
            return code
    return 4


def _score(codes: tuple[int, ...], sex: str | None) -> Parts:  # noqa: ARG001
    subscales = {
        name: sum(codes[_INDEX[label]] for label in labels) for name, labels in COMPOSITES.items()
    }
    return Parts(total=None, subscales=subscales)


INSTRUMENT = Instrument(
    key="bam",
    title="Brief Addiction Monitor (BAM)",
    short_title="BAM",
    version="1",
    recall_period="past 30 days",
    instructions="Questions about the past 30 days. Day counts are answered as 0, 1-3, 4-8, "
    "9-15 or 16-30 days.",
    items=ITEMS,
    scorer=_score,
    min_total=None,
    max_total=None,
    trend_metric="use",
    trend_range=(0, 12),
    source="Cacciola JS et al. J Subst Abuse Treat 2013;44:256-263; BAM manual, VA VISN 4 MIRECC.",
)
