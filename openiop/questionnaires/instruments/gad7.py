"""GAD-7 (Generalized Anxiety Disorder, 7 items; Spitzer et al. 2006).

Total 0-21. Bands: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe. No critical item.
``positive`` stays null, as for the PHQ-9: the severity band is what clinicians act on (a total of
10 or more is the usual referral point, shown by the "moderate" band).
"""

from __future__ import annotations

from openiop.questionnaires.instruments._likert import FREQUENCY_2W
from openiop.questionnaires.instruments.base import Band, Instrument, Item, Parts

_TEXTS = (
    ("69725-0", "Feeling nervous, anxious, or on edge"),
    ("68509-9", "Not being able to stop or control worrying"),
    ("69733-4", "Worrying too much about different things"),
    ("69734-2", "Trouble relaxing"),
    ("69735-9", "Being so restless that it is hard to sit still"),
    ("69689-8", "Becoming easily annoyed or irritable"),
    ("69736-7", "Feeling afraid, as if something awful might happen"),
)

ITEMS = tuple(
    Item(link_id=code, label=str(n), text=text, options=FREQUENCY_2W, loinc=code)
    for n, (code, text) in enumerate(_TEXTS, start=1)
)


def _score(codes: tuple[int, ...], sex: str | None) -> Parts:  # noqa: ARG001
    return Parts(total=sum(codes))


INSTRUMENT = Instrument(
    key="gad7",
    title="Generalized Anxiety Disorder scale (GAD-7)",
    short_title="GAD-7",
    version="1",
    recall_period="last 2 weeks",
    instructions="Over the last 2 weeks, how often have you been bothered by the following "
    "problems?",
    items=ITEMS,
    scorer=_score,
    panel_loinc="69737-5",
    total_loinc="70274-6",
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 21, "severe"),
    ),
    max_total=21,
    reliable_change=4,
    clinical_cutoff=10,
    source="Spitzer RL, Kroenke K, Williams JB, Lowe B. Arch Intern Med 2006;166:1092-1097.",
)
