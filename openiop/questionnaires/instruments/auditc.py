"""AUDIT-C: the first three AUDIT items (consumption), each coded 0-4; total 0-12.

Positive screen: 4 or more for men, 3 or more for women (the cut-offs in common use; domain.md
marks them as not yet confirmed from the VA/USPSTF text). Without a sex the result is positive at
4 or more, negative at 2 or less, and ``null`` at exactly 3, where the two cut-offs disagree:
the form asks for the patient's sex rather than guessing. AUDIT-C has no severity bands.
"""

from __future__ import annotations

from openiop.questionnaires.instruments.audit import AUDIT_C_ITEMS
from openiop.questionnaires.instruments.base import Instrument, Parts

CUTOFF = {"male": 4, "female": 3}


def _score(codes: tuple[int, ...], sex: str | None) -> Parts:
    total = sum(codes)
    positive: bool | None
    if sex in CUTOFF:
        positive = total >= CUTOFF[sex]
    elif total >= max(CUTOFF.values()):
        positive = True
    elif total < min(CUTOFF.values()):
        positive = False
    else:
        positive = None
    return Parts(total=total, positive=positive)


INSTRUMENT = Instrument(
    key="auditc",
    title="AUDIT-Consumption (AUDIT-C)",
    short_title="AUDIT-C",
    version="1",
    recall_period="past year",
    instructions="Questions about your use of alcoholic beverages during the past year.",
    items=AUDIT_C_ITEMS,
    scorer=_score,
    panel_loinc="72109-2",
    total_loinc="75626-2",
    max_total=12,
    cutoff_note="positive at 4 or more for men, 3 or more for women",
    trend_cutoff=4,
    source="Bush K et al. Arch Intern Med 1998;158:1789-1795.",
)
