"""AUDIT (Alcohol Use Disorders Identification Test, WHO; Babor et al. 2001).

Ten items, past year. Items 1-8 are coded 0-4; items 9-10 are coded 0, 2 or 4 (the code *is* the
score, as printed on the WHO form). Total 0-40 in the four WHO risk zones:

* zone I 0-7 "low risk" (alcohol education)
* zone II 8-15 "hazardous" (simple advice)
* zone III 16-19 "harmful" (simple advice plus brief counselling and continued monitoring)
* zone IV 20-40 "possible dependence" (referral for diagnostic evaluation and treatment)

``positive`` is total >= 8, the WHO cut-off for hazardous or harmful drinking. Item-level rules
from the WHO manual are flags (they move a patient to the next zone's intervention, they do not
raise an alert): ``dependence_symptoms`` when any of items 4-6 scores 2 or more, and
``harm_in_past_year`` when item 9 or 10 scores 4.

Items 1-3 carry their LOINC item codes (shared with AUDIT-C); items 4-10 use stable ids
``audit-4`` ... ``audit-10`` until their LOINC codes are verified at loinc.org.
"""

from __future__ import annotations

from openiop.questionnaires.instruments.base import (
    AnswerOption,
    Band,
    Instrument,
    Item,
    Parts,
    options,
)

HOW_OFTEN_DRINK = options(
    (0, "Never", "LA6270-8"),
    (1, "Monthly or less", "LA18926-8"),
    (2, "2 to 4 times a month", "LA18927-6"),
    (3, "2 to 3 times a week", "LA18928-4"),
    (4, "4 or more times a week"),
)
DRINKS_TYPICAL_DAY = options(
    (0, "1 or 2"),
    (1, "3 or 4"),
    (2, "5 or 6"),
    (3, "7 to 9"),
    (4, "10 or more"),
)
FREQUENCY = options(
    (0, "Never", "LA6270-8"),
    (1, "Less than monthly"),
    (2, "Monthly", "LA18876-5"),
    (3, "Weekly", "LA18891-4"),
    (4, "Daily or almost daily", "LA18934-2"),
)
NO_YES_YEAR = (
    AnswerOption(0, "No", 0, "LA32-8"),
    AnswerOption(2, "Yes, but not in the last year", 2),
    AnswerOption(4, "Yes, during the last year", 4),
)

AUDIT_C_ITEMS = (
    Item("68518-0", "1", "How often do you have a drink containing alcohol?", HOW_OFTEN_DRINK,
         loinc="68518-0"),
    Item("68519-8", "2", "How many drinks containing alcohol do you have on a typical day when "
         "you are drinking?", DRINKS_TYPICAL_DAY, loinc="68519-8"),
    Item("68520-6", "3", "How often do you have six or more drinks on one occasion?", FREQUENCY,
         loinc="68520-6"),
)  # fmt: skip

_LAST_YEAR = (
    "How often during the last year have you found that you were not able to stop drinking once "
    "you had started?",
    "How often during the last year have you failed to do what was normally expected from you "
    "because of drinking?",
    "How often during the last year have you needed a first drink in the morning to get yourself "
    "going after a heavy drinking session?",
    "How often during the last year have you had a feeling of guilt or remorse after drinking?",
    "How often during the last year have you been unable to remember what happened the night "
    "before because you had been drinking?",
)

ITEMS = (
    *AUDIT_C_ITEMS,
    *(
        Item(f"audit-{n}", str(n), text, FREQUENCY)
        for n, text in enumerate(_LAST_YEAR, start=4)
    ),
    Item("audit-9", "9", "Have you or someone else been injured as a result of your drinking?",
         NO_YES_YEAR),
    Item("audit-10", "10", "Has a relative or friend or a doctor or another health worker been "
         "concerned about your drinking or suggested you cut down?", NO_YES_YEAR),
)  # fmt: skip

POSITIVE_AT = 8


def _score(codes: tuple[int, ...], sex: str | None) -> Parts:  # noqa: ARG001
    total = sum(codes)
    flags: list[str] = []
    if any(c >= 2 for c in codes[3:6]):
        flags.append("dependence_symptoms")
    if 4 in (codes[8], codes[9]):
        flags.append("harm_in_past_year")
    return Parts(total=total, flags=tuple(flags), positive=total >= POSITIVE_AT)


INSTRUMENT = Instrument(
    key="audit",
    title="Alcohol Use Disorders Identification Test (AUDIT)",
    short_title="AUDIT",
    version="1",
    recall_period="past year",
    instructions="Questions about your use of alcoholic beverages during the past year.",
    items=ITEMS,
    scorer=_score,
    panel_loinc=None,  # 72110-0 is believed to be the panel; unverified (domain.md section 7)
    total_loinc="75624-7",
    bands=(
        Band(0, 7, "low risk"),
        Band(8, 15, "hazardous"),
        Band(16, 19, "harmful"),
        Band(20, 40, "possible dependence"),
    ),
    max_total=40,
    cutoff_note="positive at 8 or more (WHO)",
    source="Babor TF et al. AUDIT: Guidelines for Use in Primary Care, 2nd ed. WHO 2001.",
)
