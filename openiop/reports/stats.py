"""Statistics for the outcome report: proportions with Wilson intervals, Kaplan-Meier retention.

Pure: standard library only (no Django, no NumPy), so every number the outcome report shows can be
recomputed by hand from this file and its tests.

Proportions and the Wilson score interval
=========================================

A rate in the report (completion, follow-up response, six-month success) is a
:class:`Proportion`: ``successes`` out of ``n`` with a 95% confidence interval by the **Wilson
score** method (Wilson 1927; recommended over the textbook "p ± 1.96·SE" Wald interval by Brown,
Cai & DasGupta 2001 because it stays inside [0, 1] and keeps its coverage for small ``n`` and for
rates near 0% or 100%, which is what small programs have). With ``p = k / n`` and ``z`` the
standard normal quantile (1.959964 for 95%)::

    centre     = (k + z²/2) / (n + z²)
    half-width = z · sqrt(k·(n − k)/n + z²/4) / (n + z²)
    interval   = centre ± half-width

The limits are the two values of the true rate at which the score test ``|p − π| / sqrt(π(1−π)/n)``
equals ``z`` (the tests check exactly this). Properties: ``low <= p <= high``; both in [0, 1];
``0 of n`` has ``low == 0`` and ``n of n`` has ``high == 1`` exactly; and the interval is mirror
symmetric: the interval for ``n − k`` successes is ``(1 − high, 1 − low)``.

**No data** (``n == 0``): :func:`wilson_interval` returns ``(0.0, 1.0)``, the limit of the formula
and the honest "anything is possible". :func:`proportion` returns a :class:`Proportion` whose
``estimate`` is ``None`` (there is no rate to show) with that same ``(0.0, 1.0)`` interval; a
renderer shows "no data" rather than 0%.

Kaplan-Meier retention
======================

:func:`kaplan_meier` takes one ``(time, event_observed)`` pair per person. For retention in the
program, ``time`` is days from admission and ``event_observed`` is ``True`` when the person left the
program before completing; a person still active on the report date (or who completed, or who
transferred, if the caller decides so) is **censored** (``event_observed=False``): we know they
stayed at least that long, not when they would have left.

For each distinct time ``t`` (in increasing order) with ``n`` people at risk just before ``t``,
``d`` events and ``c`` censorings at ``t``::

    S(t)      = S(previous) · (1 − d / n)                     (product-limit estimator)
    Var       = S(t)² · Σ d_i / (n_i · (n_i − d_i))             (Greenwood), std_err = sqrt(Var)
    95% CI    = S(t) ^ exp(± z · sqrt(Σ d_i / (n_i(n_i − d_i))) / |log S(t)|)     (log-log)

**Ties**: at a time with both events and censorings, the events come first: people censored at
``t`` are still counted at risk at ``t`` (the standard convention, as in R's ``survival`` and
Stata's ``sts``). After ``t`` the number at risk drops by ``d + c``.

The survival value is computed with exact fractions and rounded once to a float, so a curve that
truly reaches one half is exactly 0.5 (this matters for the median). The log-log interval (the
Kalbfleisch-Prentice transform, Stata's default and R's ``conf.type="log-log"``) always lies
inside [0, 1]; it is also clipped to [0, 1] against rounding. Where it is undefined we say so:

* before any event (``S = 1``): ``std_err = 0`` and the interval is ``(1.0, 1.0)``;
* once the curve reaches 0 (everyone left): ``std_err``, ``ci_low`` and ``ci_high`` are ``None``
  (Greenwood's sum divides by ``n − d = 0``).

The result has one :class:`KMStep` per distinct time, including times with only censorings
(survival unchanged there), so the at-risk table under a chart can be read off directly.
:func:`km_survival_at` reads the curve at any time (right-continuous: the value *at* an event time
already includes that event), and returns ``None`` past the last observed time unless the curve
has reached 0 (beyond the end of follow-up the estimator says nothing). :func:`km_median` is the
first time at which the survival is at or below 0.5, ``None`` if the curve never gets there. When
the curve sits exactly on 0.5 over a stretch of time, some software (recent versions of R's
``survival``) reports the middle of that stretch; we report its start.

Six-month outcome summary
=========================

:func:`summarize_outcomes` turns one :class:`~openiop.aftercare.rules.Outcome` per patient due for
the follow-up into the three rates the report prints side by side: the response rate, the success
rate among responders, and the success rate with every non-responder counted as *not* a success
(a floor). A non-responder (``Outcome.UNKNOWN``) is never a success.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist
from typing import Final

from openiop.aftercare.rules import Outcome

#: The standard normal 97.5% quantile: the ``z`` of a two-sided 95% interval.
Z95: Final = 1.959963984540054


def z_for(confidence: float) -> float:
    """The two-sided standard normal quantile for a confidence level in (0, 1) (0.95 -> 1.96)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    if confidence == 0.95:
        return Z95
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval ``(low, high)`` for ``successes`` out of ``n``.

    ``n == 0`` gives ``(0.0, 1.0)`` (no information). Raises ``ValueError`` for negative counts,
    ``successes > n`` or a non-positive ``z``.
    """
    _check_count("successes", successes)
    _check_count("n", n)
    if successes > n:
        raise ValueError(f"successes ({successes}) cannot exceed n ({n})")
    if not (z > 0 and math.isfinite(z)):
        raise ValueError(f"z must be a positive number, got {z!r}")
    if n == 0:
        return (0.0, 1.0)
    z2 = z * z
    denominator = n + z2
    centre = (successes + z2 / 2.0) / denominator
    half = z * math.sqrt(successes * (n - successes) / n + z2 / 4.0) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


@dataclass(frozen=True)
class Proportion:
    """``successes`` of ``n`` with its Wilson interval; ``estimate`` is ``None`` when ``n == 0``."""

    successes: int
    n: int
    estimate: float | None
    low: float
    high: float
    confidence: float = 0.95

    @property
    def has_data(self) -> bool:
        return self.n > 0

    def text(self, digits: int = 0) -> str:
        """Human text, e.g. ``"31% (95% CI 25–37%), 81 of 263"`` or ``"no data (0 of 0)"``."""
        if self.estimate is None:
            return f"no data ({self.successes} of {self.n})"
        level = f"{self.confidence * 100:g}%"
        return (
            f"{self.estimate * 100:.{digits}f}% ({level} CI {self.low * 100:.{digits}f}–"
            f"{self.high * 100:.{digits}f}%), {self.successes} of {self.n}"
        )


def proportion(successes: int, n: int, *, confidence: float = 0.95) -> Proportion:
    """Build a :class:`Proportion` (validates like :func:`wilson_interval`)."""
    low, high = wilson_interval(successes, n, z_for(confidence))
    estimate = successes / n if n else None
    return Proportion(successes, n, estimate, low, high, confidence)


# --------------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KMStep:
    """The Kaplan-Meier curve at one distinct observed time (see the module docstring)."""

    time: float | int
    at_risk: int
    events: int
    censored: int
    survival: float
    std_err: float | None
    ci_low: float | None
    ci_high: float | None


def _check_duration(index: int, item: tuple[float | int, bool]) -> tuple[float | int, bool]:
    try:
        time, event = item
    except (TypeError, ValueError):
        raise ValueError(f"durations[{index}] must be a (time, event_observed) pair") from None
    if isinstance(time, bool) or not isinstance(time, int | float):
        raise TypeError(f"durations[{index}]: time must be a number, got {type(time).__name__}")
    if not math.isfinite(time) or time < 0:
        raise ValueError(f"durations[{index}]: time must be a finite number >= 0, got {time!r}")
    if not isinstance(event, bool):
        raise TypeError(f"durations[{index}]: event_observed must be True or False, got {event!r}")
    return time, event


def _log_fraction(value: Fraction) -> float:
    """``log(value)`` for 0 < value < 1 without cancellation near 1 or underflow near 0."""
    if value > Fraction(1, 2):
        return math.log1p(float(value - 1))
    return math.log(value.numerator) - math.log(value.denominator)


def kaplan_meier(durations: Iterable[tuple[float | int, bool]], z: float = Z95) -> list[KMStep]:
    """The Kaplan-Meier step function for ``(time, event_observed)`` pairs.

    Returns one :class:`KMStep` per distinct time, in increasing order (empty input -> ``[]``).
    ``event_observed=False`` means censored. Raises ``TypeError``/``ValueError`` naming the bad
    item for a negative, infinite or non-numeric time or a non-bool event flag.
    """
    if not (z > 0 and math.isfinite(z)):
        raise ValueError(f"z must be a positive number, got {z!r}")
    # time -> [events, censored]
    counts: dict[float | int, list[int]] = {}
    total = 0
    for index, item in enumerate(durations):
        time, event = _check_duration(index, item)
        slot = counts.setdefault(time, [0, 0])
        slot[0 if event else 1] += 1
        total += 1

    steps: list[KMStep] = []
    at_risk = total
    survival = Fraction(1)
    greenwood = 0.0  # Σ d / (n (n - d)) over event times so far
    for time in sorted(counts):
        events, censored = counts[time]
        if events:
            survival *= Fraction(at_risk - events, at_risk)
            if at_risk > events:
                greenwood += events / (at_risk * (at_risk - events))
        s = float(survival)
        std_err: float | None
        ci_low: float | None
        ci_high: float | None
        if survival == 1:
            std_err, ci_low, ci_high = 0.0, 1.0, 1.0
        elif survival == 0:
            std_err, ci_low, ci_high = None, None, None
        else:
            std_err = s * math.sqrt(greenwood)
            # log-log transform: exponent factor exp(z * sqrt(Σ) / |log S|)
            log_s = _log_fraction(survival)
            factor = math.exp(z * math.sqrt(greenwood) / abs(log_s))
            ci_low = min(1.0, max(0.0, s**factor))
            ci_high = min(1.0, max(0.0, s ** (1.0 / factor)))
        steps.append(KMStep(time, at_risk, events, censored, s, std_err, ci_low, ci_high))
        at_risk -= events + censored
    return steps


def km_step_at(steps: Sequence[KMStep], t: float) -> KMStep | None:
    """The step in effect at ``t`` (the last one with ``time <= t``), or ``None``.

    ``None`` before the first observed time (the survival there is 1) and past the last observed
    time when the curve has not reached 0 (not estimable there).
    """
    if not steps or t < steps[0].time:
        return None
    last = steps[-1]
    if t > last.time:
        return last if last.survival == 0.0 else None
    lo, hi = 0, len(steps) - 1  # binary search: the last index with time <= t
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if steps[mid].time <= t:
            lo = mid
        else:
            hi = mid - 1
    return steps[lo]


def km_survival_at(steps: Sequence[KMStep], t: float) -> float | None:
    """The Kaplan-Meier survival at time ``t`` (right-continuous).

    1.0 before the first observed time; ``None`` for an empty curve, and past the last observed
    time unless the curve has reached 0 there (then 0.0).
    """
    if not steps:
        return None
    if t < steps[0].time:
        return 1.0
    step = km_step_at(steps, t)
    return None if step is None else step.survival


def km_median(steps: Sequence[KMStep]) -> float | int | None:
    """The first time at which survival is at or below 0.5; ``None`` if it never gets there."""
    for step in steps:
        if step.survival <= 0.5:
            return step.time
    return None


# --------------------------------------------------------------------------------------------
# Six-month outcome summary
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeSummary:
    """Counts and rates for one group of patients due for an outcome follow-up.

    ``eligible``: patients due (one outcome each). ``responded``: outcome known (not UNKNOWN).
    ``response``: responded / eligible. ``success``: (abstinent + reduced) / responded.
    ``success_floor``: (abstinent + reduced) / eligible, every non-responder counted as not a
    success (the lowest rate consistent with the data).
    """

    eligible: int
    responded: int
    abstinent: int
    reduced: int
    not_met: int
    response: Proportion
    success: Proportion
    success_floor: Proportion

    @property
    def successes(self) -> int:
        return self.abstinent + self.reduced

    @property
    def non_responders(self) -> int:
        return self.eligible - self.responded


def summarize_outcomes(outcomes: Iterable[Outcome], *, confidence: float = 0.95) -> OutcomeSummary:
    """Summarize one outcome per eligible patient (see :class:`OutcomeSummary`)."""
    tally = dict.fromkeys(Outcome, 0)
    for outcome in outcomes:
        tally[Outcome(outcome)] += 1
    eligible = sum(tally.values())
    responded = eligible - tally[Outcome.UNKNOWN]
    successes = tally[Outcome.ABSTINENT] + tally[Outcome.REDUCED]
    return OutcomeSummary(
        eligible=eligible,
        responded=responded,
        abstinent=tally[Outcome.ABSTINENT],
        reduced=tally[Outcome.REDUCED],
        not_met=tally[Outcome.NOT_MET],
        response=proportion(responded, eligible, confidence=confidence),
        success=proportion(successes, responded, confidence=confidence),
        success_floor=proportion(successes, eligible, confidence=confidence),
    )
