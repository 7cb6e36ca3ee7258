"""Answer scales shared by several instruments."""

from __future__ import annotations

from openiop.questionnaires.instruments.base import options

# LOINC answer list LL358-3 (PHQ-9, GAD-7).
FREQUENCY_2W = options(
    (0, "Not at all", "LA6568-5"),
    (1, "Several days", "LA6569-3"),
    (2, "More than half the days", "LA6570-1"),
    (3, "Nearly every day", "LA6571-9"),
)
