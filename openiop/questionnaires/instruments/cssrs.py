"""Columbia Suicide Severity Rating Scale, screener (C-SSRS screen version).

Six yes/no items (1 = yes, 0 = no). Items 1-5 ask about the past month; item 6 asks about
suicidal behaviour in the past 3 months (the screener's "was this within the past 3 months?"
follow-up, asked here directly because it is the part that decides risk). On paper items 3-5 are
skipped when item 2 is "no"; send 0 for a skipped item. A "yes" is never ignored, even on an item
that should have been skipped.

Triage (``severity``):

* ``high``: yes to item 4 (intent) or item 5 (plan), or to item 6 (behaviour in the past
  3 months). Flag ``high_risk``: immediate evaluation and safety precautions; raises an alert.
* ``moderate``: yes to item 3 (thinking about method).
* ``low``: yes to item 1 or 2 only.
* ``none``: no to every item.

``total`` is the number of "yes" answers (0-6), kept for the record; the triage is what counts.
Behaviour more than 3 months ago (moderate in the full triage) is outside this form.
"""

from __future__ import annotations

from openiop.questionnaires.instruments.base import NO_YES, Instrument, Item, Parts

_TEXTS = (
    "Have you wished you were dead or wished you could go to sleep and not wake up?",
    "Have you actually had any thoughts about killing yourself?",
    "Have you thought about how you might do this?",
    "Have you had any intention of acting on these thoughts of killing yourself, as opposed to "
    "you have the thoughts but you definitely would not act on them?",
    "Have you started to work out or worked out the details of how to kill yourself? Did you "
    "intend to carry out this plan?",
    "In the past 3 months, have you done anything, started to do anything, or prepared to do "
    "anything to end your life?",
)

ITEMS = tuple(
    Item(link_id=f"cssrs-{n}", label=str(n), text=text, options=NO_YES)
    for n, text in enumerate(_TEXTS, start=1)
)


def triage(codes: tuple[int, ...]) -> str:
    wish, thoughts, method, intent, plan, behaviour = codes
    if intent or plan or behaviour:
        return "high"
    if method:
        return "moderate"
    if wish or thoughts:
        return "low"
    return "none"


def _score(codes: tuple[int, ...], sex: str | None) -> Parts:  # noqa: ARG001
    level = triage(codes)
    return Parts(
        total=sum(codes),
        severity=level,
        flags=("high_risk",) if level == "high" else (),
    )


INSTRUMENT = Instrument(
    key="cssrs",
    title="Columbia Suicide Severity Rating Scale, screener (C-SSRS)",
    short_title="C-SSRS",
    version="1",
    recall_period="past month; behaviour: past 3 months",
    instructions="Ask questions 1 and 2. If both are no, go to question 6. If question 2 is yes, "
    "ask questions 3, 4, 5 and 6.",
    items=ITEMS,
    scorer=_score,
    panel_loinc=None,  # the full lifetime/recent panel is 93245-9; no screener-specific code
    total_loinc=None,
    max_total=6,
    source="Posner K et al. Am J Psychiatry 2011;168:1266-1277; C-SSRS screener triage guidance.",
)
