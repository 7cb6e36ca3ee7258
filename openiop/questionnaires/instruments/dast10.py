"""DAST-10 (Drug Abuse Screening Test, 10 items; Skinner 1982), past 12 months, drugs other than
alcohol and tobacco.

Answers are coded 1 = yes, 0 = no. Each "yes" scores 1, except item 3 ("Are you always able to
stop using drugs when you want to?") which is reverse-scored: "no" scores 1. The instrument applies
this itself; callers send the answer codes. Total 0-10. Bands: 0 none, 1-2 low, 3-5 moderate,
6-8 substantial, 9-10 severe. ``positive`` is total >= 3 (moderate or higher: further assessment).
"""

from __future__ import annotations

from openiop.questionnaires.instruments.base import (
    NO_YES,
    NO_YES_REVERSED,
    Band,
    Instrument,
    Item,
    Parts,
)

_TEXTS = (
    "Have you used drugs other than those required for medical reasons?",
    "Do you use more than one drug at a time?",
    "Are you always able to stop using drugs when you want to?",
    'Have you had "blackouts" or "flashbacks" as a result of drug use?',
    "Do you ever feel bad or guilty about your drug use?",
    "Does your spouse (or parents) ever complain about your involvement with drugs?",
    "Have you neglected your family because of your use of drugs?",
    "Have you engaged in illegal activities in order to obtain drugs?",
    "Have you ever experienced withdrawal symptoms (felt sick) when you stopped taking drugs?",
    "Have you had medical problems as a result of your drug use (e.g. memory loss, hepatitis, "
    "convulsions, bleeding)?",
)

REVERSED = frozenset({3})

ITEMS = tuple(
    Item(
        link_id=f"dast10-{n}",
        label=str(n),
        text=text,
        options=NO_YES_REVERSED if n in REVERSED else NO_YES,
        reverse_scored=n in REVERSED,
    )
    for n, text in enumerate(_TEXTS, start=1)
)

POSITIVE_AT = 3


def _score(codes: tuple[int, ...], sex: str | None) -> Parts:  # noqa: ARG001
    total = sum(INSTRUMENT.values(codes))
    return Parts(total=total, positive=total >= POSITIVE_AT)


INSTRUMENT = Instrument(
    key="dast10",
    title="Drug Abuse Screening Test (DAST-10)",
    short_title="DAST-10",
    version="1",
    recall_period="past 12 months",
    instructions="These questions refer to the past 12 months and to drug use other than alcohol "
    "and tobacco. Answer yes or no.",
    items=ITEMS,
    scorer=_score,
    panel_loinc="82666-9",
    total_loinc="82667-7",
    bands=(
        Band(0, 0, "none"),
        Band(1, 2, "low"),
        Band(3, 5, "moderate"),
        Band(6, 8, "substantial"),
        Band(9, 10, "severe"),
    ),
    max_total=10,
    cutoff_note="positive at 3 or more",
    source="Skinner HA. Addict Behav 1982;7:363-371.",
)
