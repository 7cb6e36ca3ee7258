"""Program outcomes: change from admission to discharge. Pure (no Django imports).

For each discharged episode we take one score near admission and one near discharge:

* **admission score**: the earliest score from ``ADMISSION_BEFORE`` days before admission (an
  intake score counts) to ``ADMISSION_AFTER`` days after it;
* **discharge score**: the latest score from ``DISCHARGE_BEFORE`` days before discharge to
  ``DISCHARGE_AFTER`` days after it, later than the admission score and not the same response.

An episode without both is left out (the page says how many were). Change = discharge minus
admission, so a negative change is an improvement for every instrument used here (higher
scores mean more symptoms).

* **Improved** / **worsened**: the score moved by at least the instrument's
  ``reliable_change`` (PHQ-9 5, GAD-7 4, PCL-5 10 points; see docs/questionnaires.md).
* **Moved below the cut-off**: of those at or above ``clinical_cutoff`` at admission (PHQ-9 10,
  GAD-7 10, PCL-5 33), the share below it at discharge.

Under ``MIN_N`` pairs (and under ``MIN_N`` people above the cut-off for that share) the figures
are not computed: a mean of three people is an anecdote, so the page says "too few to compare".
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ADMISSION_BEFORE = 7
ADMISSION_AFTER = 14
DISCHARGE_BEFORE = 14
DISCHARGE_AFTER = 7
MIN_N = 5


@dataclass(frozen=True)
class Scored:
    on: dt.date
    value: int
    key: int = 0  # tells two responses on the same day apart (the response's pk)


@dataclass(frozen=True)
class Pair:
    admission: Scored
    discharge: Scored

    @property
    def change(self) -> int:
        return self.discharge.value - self.admission.value


def pair_for_episode(
    scores: Iterable[Scored], *, admitted_on: dt.date, discharged_on: dt.date
) -> Pair | None:
    """The (admission, discharge) scores of one episode, or None when either is missing."""
    ordered = sorted(scores, key=lambda s: (s.on, s.key))
    lo = admitted_on - dt.timedelta(days=ADMISSION_BEFORE)
    hi = admitted_on + dt.timedelta(days=ADMISSION_AFTER)
    first = next((s for s in ordered if lo <= s.on <= hi), None)
    if first is None:
        return None
    lo = discharged_on - dt.timedelta(days=DISCHARGE_BEFORE)
    hi = discharged_on + dt.timedelta(days=DISCHARGE_AFTER)
    after = [s for s in ordered if lo <= s.on <= hi and (s.on, s.key) > (first.on, first.key)]
    if not after or after[-1].on <= first.on:
        return None
    return Pair(first, after[-1])


@dataclass(frozen=True)
class Summary:
    n: int
    enough: bool
    mean_change: float | None = None
    median_change: float | None = None
    improved: int | None = None
    worsened: int | None = None
    improved_pct: float | None = None
    worsened_pct: float | None = None
    above_at_admission: int | None = None
    moved_below: int | None = None
    moved_below_pct: float | None = None
    mean_admission: float | None = None
    mean_discharge: float | None = None

    @property
    def enough_above(self) -> bool:
        return self.above_at_admission is not None and self.above_at_admission >= MIN_N


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 1)


def summarize(pairs: Sequence[Pair], *, reliable_change: int, clinical_cutoff: int) -> Summary:
    n = len(pairs)
    if n < MIN_N:
        return Summary(n=n, enough=False)
    changes = [p.change for p in pairs]
    improved = sum(1 for c in changes if c <= -reliable_change)
    worsened = sum(1 for c in changes if c >= reliable_change)
    above = [p for p in pairs if p.admission.value >= clinical_cutoff]
    below = sum(1 for p in above if p.discharge.value < clinical_cutoff)
    enough_above = len(above) >= MIN_N
    return Summary(
        n=n,
        enough=True,
        mean_change=round(statistics.fmean(changes), 1),
        median_change=float(statistics.median(changes)),
        improved=improved,
        worsened=worsened,
        improved_pct=_pct(improved, n),
        worsened_pct=_pct(worsened, n),
        above_at_admission=len(above),
        moved_below=below if enough_above else None,
        moved_below_pct=_pct(below, len(above)) if enough_above else None,
        mean_admission=round(statistics.fmean(p.admission.value for p in pairs), 1),
        mean_discharge=round(statistics.fmean(p.discharge.value for p in pairs), 1),
    )
