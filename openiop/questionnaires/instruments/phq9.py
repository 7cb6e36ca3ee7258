"""PHQ-9 (Patient Health Questionnaire, 9 items; Kroenke, Spitzer & Williams 2001).

Total 0-27. Bands: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe.
Item 9 (thoughts of being better off dead or of self-harm) above 0 is flagged
``suicidal_ideation`` whatever the total: it needs immediate follow-up (domain.md section 7).
"""

from __future__ import annotations

from openiop.questionnaires.instruments._likert import FREQUENCY_2W
from openiop.questionnaires.instruments.base import Band, Instrument, Item, Parts

_TEXTS = (
    ("44250-9", "Little interest or pleasure in doing things"),
    ("44255-8", "Feeling down, depressed, or hopeless"),
    ("44259-0", "Trouble falling or staying asleep, or sleeping too much"),
    ("44254-1", "Feeling tired or having little energy"),
    ("44251-7", "Poor appetite or overeating"),
    (
        "44258-2",
        "Feeling bad about yourself - or that you are a failure or have let yourself or your "
        "family down",
    ),
    (
        "44252-5",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
    ),
    (
        "44253-3",
        "Moving or speaking so slowly that other people could have noticed. Or the opposite - "
        "being so fidgety or restless that you have been moving around a lot more than usual",
    ),
    ("44260-8", "Thoughts that you would be better off dead, or of hurting yourself in some way"),
)

ITEMS = tuple(
    Item(link_id=code, label=str(n), text=text, options=FREQUENCY_2W, loinc=code)
    for n, (code, text) in enumerate(_TEXTS, start=1)
)


def _score(codes: tuple[int, ...], sex: str | None) -> Parts:  # noqa: ARG001
    flags = ("suicidal_ideation",) if codes[8] > 0 else ()
    return Parts(total=sum(codes), flags=flags)


INSTRUMENT = Instrument(
    key="phq9",
    title="Patient Health Questionnaire (PHQ-9)",
    short_title="PHQ-9",
    version="1",
    recall_period="last 2 weeks",
    instructions="Over the last 2 weeks, how often have you been bothered by any of the "
    "following problems?",
    items=ITEMS,
    scorer=_score,
    panel_loinc="44249-1",
    total_loinc="44261-6",
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 19, "moderately severe"),
        Band(20, 27, "severe"),
    ),
    max_total=27,
    reliable_change=5,
    clinical_cutoff=10,
    source="Kroenke K, Spitzer RL, Williams JB. J Gen Intern Med 2001;16:606-613.",
)
