"""Every instrument by key. Adding one: see CONTRIBUTING.md, "Adding an instrument"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openiop.questionnaires.instruments import audit, auditc, bam, cssrs, dast10, gad7, pcl5, phq9
from openiop.questionnaires.instruments.base import Instrument, Score, UnknownInstrument

INSTRUMENTS: dict[str, Instrument] = {
    m.INSTRUMENT.key: m.INSTRUMENT for m in (phq9, gad7, audit, auditc, dast10, bam, cssrs, pcl5)
}

KEYS: tuple[str, ...] = tuple(INSTRUMENTS)


def get(key: str) -> Instrument:
    try:
        return INSTRUMENTS[key]
    except KeyError:
        raise UnknownInstrument(
            f"unknown instrument {key!r}; choose one of {', '.join(KEYS)}"
        ) from None


def choices() -> list[tuple[str, str]]:
    return [(i.key, i.short_title) for i in INSTRUMENTS.values()]


def score(key: str, answers: Sequence[Any] | Mapping[str, Any], sex: str | None = None) -> Score:
    return get(key).score(answers, sex=sex)
