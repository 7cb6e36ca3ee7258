"""The shape every instrument shares, and the validation of answers (no Django imports).

An instrument is data (items, answer options, bands, LOINC codes) plus one small scoring function.
Answers are the chosen options' *codes* in the instrument's published coding, in item order (or a
mapping keyed by item ``linkId``); reverse scoring and recoding are the instrument's job, never the
caller's. Bad input raises :class:`AnswerError`, a ``ValueError`` whose message names the item.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Flags that must raise a clinical alert at once (domain.md section 7, "Implementation notes").
ALERT_FLAGS: frozenset[str] = frozenset({"suicidal_ideation", "high_risk"})

SEXES: frozenset[str] = frozenset({"male", "female"})


class AnswerError(ValueError):
    """Answers that cannot be scored. ``item`` is the 1-based item position (None: the set)."""

    def __init__(self, message: str, *, item: int | None = None, link_id: str = "") -> None:
        super().__init__(message)
        self.item = item
        self.link_id = link_id


class UnknownInstrument(KeyError):
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown instrument"


@dataclass(frozen=True)
class AnswerOption:
    """One choice: ``code`` is what is recorded; ``value`` is what it adds to the score."""

    code: int
    text: str
    value: int
    loinc: str | None = None  # LOINC answer code (LA...) where one is known


@dataclass(frozen=True)
class Item:
    link_id: str  # LOINC item code where one exists, else a stable id such as "dast10-3"
    label: str  # the number printed on the form: "9", "7A"
    text: str
    options: tuple[AnswerOption, ...]
    loinc: str | None = None
    reverse_scored: bool = False
    help_text: str = ""

    @property
    def codes(self) -> tuple[int, ...]:
        return tuple(o.code for o in self.options)

    def option(self, code: int) -> AnswerOption:
        for option in self.options:
            if option.code == code:
                return option
        raise KeyError(code)


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    label: str

    def contains(self, total: int) -> bool:
        return self.low <= total <= self.high


@dataclass(frozen=True)
class Score:
    instrument: str
    total: int | None
    severity: str | None
    flags: tuple[str, ...] = ()
    positive: bool | None = None
    subscales: Mapping[str, int] = field(default_factory=dict)

    @property
    def alert_flags(self) -> tuple[str, ...]:
        return tuple(f for f in self.flags if f in ALERT_FLAGS)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of the CLI and the API (key order is part of the contract)."""
        return {
            "instrument": self.instrument,
            "total": self.total,
            "severity": self.severity,
            "flags": list(self.flags),
            "positive": self.positive,
            "subscales": dict(self.subscales),
        }


@dataclass(frozen=True)
class Parts:
    """What an instrument's scoring function returns; severity comes from the bands."""

    total: int | None
    flags: tuple[str, ...] = ()
    positive: bool | None = None
    subscales: Mapping[str, int] = field(default_factory=dict)
    severity: str | None = None  # only for instruments without total bands (C-SSRS triage)


ScoreFn = Callable[[tuple[int, ...], str | None], Parts]


@dataclass(frozen=True)
class Instrument:
    key: str
    title: str
    short_title: str
    version: str
    recall_period: str
    instructions: str
    items: tuple[Item, ...]
    scorer: ScoreFn = field(repr=False, compare=False)
    panel_loinc: str | None = None
    total_loinc: str | None = None
    bands: tuple[Band, ...] = ()
    min_total: int | None = 0
    max_total: int | None = None
    cutoff_note: str = ""  # how ``positive`` is decided, in words
    trend_metric: str = "total"  # "total" or a subscale name: what a trend chart plots
    trend_range: tuple[int, int] | None = None
    trend_cutoff: int | None = None  # a screening cut-off line for charts (e.g. PCL-5 33)
    #: Admission-to-discharge outcome (``outcomes.py``): a drop of at least ``reliable_change``
    #: points counts as improved; ``clinical_cutoff`` is the total at or above which a score is
    #: in the clinical range. Both None: the instrument is not used for program outcomes.
    reliable_change: int | None = None
    clinical_cutoff: int | None = None
    source: str = ""

    def __post_init__(self) -> None:
        ids = [i.link_id for i in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.key}: duplicate linkIds")

    # -- answers -------------------------------------------------------------------------
    def _where(self, index: int) -> str:
        item = self.items[index]
        return f"item {item.label} (linkId {item.link_id})"

    def _coerce(self, index: int, raw: Any) -> int:
        if isinstance(raw, bool):
            raw = int(raw)
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            raw = int(raw.strip())
        if not isinstance(raw, int):
            shown = repr(raw) if isinstance(raw, str) else str(raw)
            raise AnswerError(
                f"{self._where(index)}: {shown} is not a whole number",
                item=index + 1,
                link_id=self.items[index].link_id,
            )
        codes = self.items[index].codes
        if raw not in codes:
            allowed = ", ".join(str(c) for c in codes)
            raise AnswerError(
                f"{self._where(index)}: {raw} is not one of {allowed}",
                item=index + 1,
                link_id=self.items[index].link_id,
            )
        return raw

    def validate(self, answers: Sequence[Any] | Mapping[str, Any]) -> tuple[int, ...]:
        """The answers as a tuple of codes in item order, or :class:`AnswerError`."""
        n = len(self.items)
        if isinstance(answers, Mapping):
            known = {i.link_id for i in self.items}
            extra = sorted(str(k) for k in answers if k not in known)
            if extra:
                raise AnswerError(f"{self.short_title} has no item with linkId {extra[0]}")
            for index, item in enumerate(self.items):
                if item.link_id not in answers:
                    raise AnswerError(
                        f"{self._where(index)} is missing", item=index + 1, link_id=item.link_id
                    )
            ordered = [answers[i.link_id] for i in self.items]
        else:
            ordered = list(answers)
            if len(ordered) < n:
                missing = len(ordered)
                raise AnswerError(
                    f"{self.short_title} has {n} items, got {len(ordered)} answers: "
                    f"{self._where(missing)} is missing",
                    item=missing + 1,
                    link_id=self.items[missing].link_id,
                )
            if len(ordered) > n:
                raise AnswerError(
                    f"{self.short_title} has {n} items, got {len(ordered)} answers "
                    f"(answer {n + 1} has no item)",
                    item=n + 1,
                )
        return tuple(self._coerce(i, raw) for i, raw in enumerate(ordered))

    def answers_by_link_id(self, codes: Sequence[int]) -> dict[str, int]:
        return {item.link_id: int(code) for item, code in zip(self.items, codes, strict=True)}

    # -- scoring -------------------------------------------------------------------------
    def severity_for(self, total: int | None) -> str | None:
        if total is None:
            return None
        for band in self.bands:
            if band.contains(total):
                return band.label
        return None

    def score(self, answers: Sequence[Any] | Mapping[str, Any], sex: str | None = None) -> Score:
        if sex is not None and sex not in SEXES:
            raise AnswerError(f"sex must be male or female, got {sex!r}")
        codes = self.validate(answers)
        parts = self.scorer(codes, sex)
        severity = parts.severity if parts.severity is not None else self.severity_for(parts.total)
        return Score(
            instrument=self.key,
            total=parts.total,
            severity=severity,
            flags=tuple(parts.flags),
            positive=parts.positive,
            subscales=dict(parts.subscales),
        )

    def values(self, codes: Sequence[int]) -> tuple[int, ...]:
        """Scored value of each (validated) answer code, reverse scoring applied."""
        return tuple(item.option(code).value for item, code in zip(self.items, codes, strict=True))


def options(*pairs: tuple[int, str] | tuple[int, str, str | None]) -> tuple[AnswerOption, ...]:
    """Options whose value equals their code: ``options((0, "Not at all", "LA6568-5"), ...)``."""
    out = []
    for pair in pairs:
        code, text = pair[0], pair[1]
        loinc = pair[2] if len(pair) > 2 else None  # type: ignore[misc]
        out.append(AnswerOption(code=code, text=text, value=code, loinc=loinc))
    return tuple(out)


NO_YES = (
    AnswerOption(0, "No", 0, "LA32-8"),
    AnswerOption(1, "Yes", 1, "LA33-6"),
)
NO_YES_REVERSED = (
    AnswerOption(0, "No", 1, "LA32-8"),
    AnswerOption(1, "Yes", 0, "LA33-6"),
)
