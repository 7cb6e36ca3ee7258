"""Outcome statistics (openiop/reports/stats.py): Wilson intervals, Kaplan-Meier, outcome summary.

Pure: no database. Expected values are worked by hand in the comments, or come from published
output of standard software for textbook data sets (named where used).
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.aftercare.rules import Outcome
from openiop.reports.stats import (
    Z95,
    KMStep,
    kaplan_meier,
    km_median,
    km_step_at,
    km_survival_at,
    proportion,
    summarize_outcomes,
    wilson_interval,
    z_for,
)

Z2 = Z95 * Z95  # 3.8414588206941285


def closed_form(k: int, n: int) -> tuple[float, float]:
    """Wilson (1927) in the textbook form, written out independently of the module."""
    p = k / n
    centre = (p + Z2 / (2 * n)) / (1 + Z2 / n)
    half = (Z95 / (1 + Z2 / n)) * math.sqrt(p * (1 - p) / n + Z2 / (4 * n * n))
    return centre - half, centre + half


def score_statistic(k: int, n: int, pi: float) -> float:
    """|p - pi| / sqrt(pi (1 - pi) / n): equals z exactly at a Wilson limit."""
    return abs(k / n - pi) / math.sqrt(pi * (1 - pi) / n)


# --------------------------------------------------------------------------------------------
# Wilson
# --------------------------------------------------------------------------------------------


def test_z95_is_the_normal_975_quantile() -> None:
    assert Z95 == pytest.approx(1.959964, abs=1e-6)
    assert z_for(0.95) == Z95
    assert z_for(0.90) == pytest.approx(1.644854, abs=1e-6)
    with pytest.raises(ValueError, match="confidence"):
        z_for(1.0)


def test_wilson_none_of_ten() -> None:
    # k = 0: centre = (z²/2)/(n + z²) and half-width = (z·z/2)/(n + z²): low is 0 and
    # high = z²/(n + z²) = 3.841459 / 13.841459 = 0.27753.
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(Z2 / (10 + Z2), abs=1e-15)
    assert high == pytest.approx(0.2775, abs=5e-5)


def test_wilson_all_of_ten_mirrors_none_of_ten() -> None:
    # k = n: low = n/(n + z²) = 10 / 13.841459 = 0.72247, high is exactly 1.
    low, high = wilson_interval(10, 10)
    assert high == 1.0
    assert low == pytest.approx(10 / (10 + Z2), abs=1e-15)
    assert low == pytest.approx(0.7225, abs=5e-5)


def test_wilson_five_of_ten() -> None:
    # centre = (5 + 1.920729)/13.841459 = 0.5 exactly (symmetric);
    # half = 1.959964 · sqrt(5·5/10 + 0.960365) / 13.841459
    #      = 1.959964 · sqrt(3.460365) / 13.841459 = 1.959964 · 1.860206 / 13.841459 = 0.263407
    low, high = wilson_interval(5, 10)
    assert (low + high) / 2 == pytest.approx(0.5, abs=1e-15)
    assert low == pytest.approx(0.2366, abs=5e-5)
    assert high == pytest.approx(0.7634, abs=5e-5)
    assert (low, high) == pytest.approx(closed_form(5, 10), abs=1e-12)


def test_wilson_81_of_263() -> None:
    # p = 0.307985; n + z² = 266.841459
    # centre = (81 + 1.920729) / 266.841459 = 82.920729 / 266.841459 = 0.310749
    # k(n-k)/n = 81·182/263 = 56.053232; + z²/4 = 57.013597; sqrt = 7.550735
    # half = 1.959964 · 7.550735 / 266.841459 = 14.799168 / 266.841459 = 0.055461
    low, high = wilson_interval(81, 263)
    assert low == pytest.approx(0.25529, abs=5e-6)
    assert high == pytest.approx(0.36621, abs=5e-6)
    assert (low, high) == pytest.approx(closed_form(81, 263), abs=1e-12)
    # The textbook Wald interval would be 0.307985 ± 0.055793: Wilson is pulled toward 0.5.
    assert (low + high) / 2 > 81 / 263


def test_wilson_limits_are_where_the_score_test_equals_z() -> None:
    for k, n in [(1, 10), (5, 10), (81, 263), (3, 4), (199, 200)]:
        low, high = wilson_interval(k, n)
        assert score_statistic(k, n, low) == pytest.approx(Z95, rel=1e-9)
        assert score_statistic(k, n, high) == pytest.approx(Z95, rel=1e-9)


def test_wilson_more_data_narrows_the_interval() -> None:
    small = wilson_interval(5, 10)
    large = wilson_interval(50, 100)
    assert large[1] - large[0] < small[1] - small[0]


def test_wilson_no_data_is_the_whole_unit_interval() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("k", "n", "error"),
    [(11, 10, ValueError), (-1, 10, ValueError), (1, -1, ValueError), (True, 3, TypeError),
     (1.0, 3, TypeError)],
)  # fmt: skip
def test_wilson_rejects_impossible_counts(k: int, n: int, error: type[Exception]) -> None:
    with pytest.raises(error):
        wilson_interval(k, n)


def test_wilson_rejects_a_non_positive_z() -> None:
    with pytest.raises(ValueError, match="z"):
        wilson_interval(1, 2, z=0.0)


counts = st.integers(min_value=1, max_value=5000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)


@given(counts)
def test_wilson_contains_the_estimate_and_stays_in_unit_interval(kn: tuple[int, int]) -> None:
    k, n = kn
    low, high = wilson_interval(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0
    assert low < high


@given(counts)
def test_wilson_is_mirror_symmetric(kn: tuple[int, int]) -> None:
    k, n = kn
    low, high = wilson_interval(k, n)
    mirror_low, mirror_high = wilson_interval(n - k, n)
    assert low == pytest.approx(1 - mirror_high, abs=1e-12)
    assert high == pytest.approx(1 - mirror_low, abs=1e-12)


@given(counts)
def test_wilson_matches_the_closed_form_and_the_score_test(kn: tuple[int, int]) -> None:
    k, n = kn
    low, high = wilson_interval(k, n)
    expected_low, expected_high = closed_form(k, n)
    assert low == pytest.approx(max(0.0, expected_low), abs=1e-12)
    assert high == pytest.approx(min(1.0, expected_high), abs=1e-12)
    if 0 < k < n:
        assert score_statistic(k, n, low) == pytest.approx(Z95, rel=1e-6)
        assert score_statistic(k, n, high) == pytest.approx(Z95, rel=1e-6)


def test_proportion_carries_the_estimate_and_interval() -> None:
    p = proportion(81, 263)
    assert (p.successes, p.n) == (81, 263)
    assert p.estimate == pytest.approx(0.307985, abs=1e-6)
    assert (p.low, p.high) == wilson_interval(81, 263)
    assert p.has_data
    assert p.text() == "31% (95% CI 26–37%), 81 of 263"
    assert p.text(1) == "30.8% (95% CI 25.5–36.6%), 81 of 263"


def test_proportion_without_data_shows_no_rate() -> None:
    p = proportion(0, 0)
    assert p.estimate is None
    assert (p.low, p.high) == (0.0, 1.0)
    assert not p.has_data
    assert p.text() == "no data (0 of 0)"


def test_a_lower_confidence_level_gives_a_narrower_interval() -> None:
    p95, p90 = proportion(30, 100), proportion(30, 100, confidence=0.90)
    assert p95.low < p90.low < 0.30 < p90.high < p95.high
    assert p90.text().startswith("30% (90% CI")


# --------------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------------

SIX = [(3, True), (5, False), (7, True), (7, True), (10, False), (12, True)]


def test_kaplan_meier_hand_worked_example() -> None:
    steps = kaplan_meier(SIX)
    # time at_risk events censored  survival
    #   3     6      1      0       1 · (1 - 1/6)       = 5/6
    #   5     5      0      1       5/6 (a censoring only: the curve does not move)
    #   7     4      2      0       5/6 · (1 - 2/4)     = 5/12
    #  10     2      0      1       5/12
    #  12     1      1      0       5/12 · (1 - 1/1)    = 0
    assert [(s.time, s.at_risk, s.events, s.censored) for s in steps] == [
        (3, 6, 1, 0), (5, 5, 0, 1), (7, 4, 2, 0), (10, 2, 0, 1), (12, 1, 1, 0),
    ]  # fmt: skip
    assert [s.survival for s in steps] == [5 / 6, 5 / 6, 5 / 12, 5 / 12, 0.0]

    # Greenwood: Σ d/(n(n-d)) = 1/(6·5) = 1/30 after t=3; + 2/(4·2) = 1/4 -> 17/60 after t=7.
    # std_err(3) = 5/6 · sqrt(1/30)  = 0.833333 · 0.182574 = 0.152145
    # std_err(7) = 5/12 · sqrt(17/60) = 0.416667 · 0.532291 = 0.221788
    assert steps[0].std_err == pytest.approx(5 / 6 * math.sqrt(1 / 30), rel=1e-12)
    assert steps[0].std_err == pytest.approx(0.152145, abs=1e-6)
    assert steps[2].std_err == pytest.approx(5 / 12 * math.sqrt(17 / 60), rel=1e-12)
    assert steps[2].std_err == pytest.approx(0.221788, abs=1e-6)
    assert steps[1].std_err == steps[0].std_err  # censoring leaves the variance alone

    # log-log 95% CI at t=3: log S = ln(5/6) = -0.182322; sqrt(1/30) = 0.182574
    # factor = exp(1.959964 · 0.182574 / 0.182322) = exp(1.962664) = 7.11673
    # low = (5/6)^7.11673 = exp(-1.297537) = 0.273123; high = (5/6)^(1/7.11673) = 0.974712
    assert steps[0].ci_low == pytest.approx(0.273123, abs=1e-6)
    assert steps[0].ci_high == pytest.approx(0.974712, abs=1e-6)

    # Everyone has left at t=12: Greenwood divides by n - d = 0, so no error bars there.
    assert (steps[4].std_err, steps[4].ci_low, steps[4].ci_high) == (None, None, None)

    assert km_median(steps) == 7  # first time with S <= 0.5: S(7) = 5/12
    assert km_survival_at(steps, 0) == 1.0
    assert km_survival_at(steps, 2.9) == 1.0
    assert km_survival_at(steps, 3) == 5 / 6  # right-continuous: the event at 3 counts at 3
    assert km_survival_at(steps, 6.99) == 5 / 6
    assert km_survival_at(steps, 7) == 5 / 12
    assert km_survival_at(steps, 11) == 5 / 12
    assert km_survival_at(steps, 12) == 0.0
    assert km_survival_at(steps, 400) == 0.0  # the curve reached 0: it stays there


# The 6-MP arm of Freireich et al. (1963) (Gehan's leukemia remission data, weeks; "+" censored):
# 6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+
SIX_MP = [
    (6, True), (6, True), (6, True), (6, False), (7, True), (9, False), (10, True), (10, False),
    (11, False), (13, True), (16, True), (17, False), (19, False), (20, False), (22, True),
    (23, True), (25, False), (32, False), (32, False), (34, False), (35, False),
]  # fmt: skip


def test_kaplan_meier_six_mp_textbook_table() -> None:
    # The classic table (e.g. Kleinbaum & Klein; R survfit(..., conf.type = "log-log")):
    # time n.risk n.event survival std.err lower  upper
    #    6    21      3    0.857   0.0764  0.620  0.952
    #    7    17      1    0.807   0.0869  0.563  0.923
    #   10    15      1    0.753   0.0963  0.503  0.889
    #   13    12      1    0.690   0.1068  0.432  0.849
    #   16    11      1    0.627   0.1141  0.368  0.805
    #   22     7      1    0.538   0.1282  0.268  0.747
    #   23     6      1    0.448   0.1346  0.188  0.680
    expected = [
        (6, 21, 3, 0.857, 0.0764, 0.620, 0.952),
        (7, 17, 1, 0.807, 0.0869, 0.563, 0.923),
        (10, 15, 1, 0.753, 0.0963, 0.503, 0.889),
        (13, 12, 1, 0.690, 0.1068, 0.432, 0.849),
        (16, 11, 1, 0.627, 0.1141, 0.368, 0.805),
        (22, 7, 1, 0.538, 0.1282, 0.268, 0.747),
        (23, 6, 1, 0.448, 0.1346, 0.188, 0.680),
    ]
    event_steps = [s for s in kaplan_meier(SIX_MP) if s.events]
    survival = Fraction(1)  # the product limit in exact arithmetic: 18/21, · 16/17, · 14/15 ...
    for step, (time, at_risk, events, surv, se, low, high) in zip(
        event_steps, expected, strict=True
    ):
        survival *= Fraction(at_risk - events, at_risk)
        assert (step.time, step.at_risk, step.events) == (time, at_risk, events)
        assert step.survival == float(survival)
        assert step.survival == pytest.approx(surv, abs=5e-4)
        assert step.std_err == pytest.approx(se, abs=5e-5)
        assert step.ci_low == pytest.approx(low, abs=5e-4)
        assert step.ci_high == pytest.approx(high, abs=5e-4)
    assert round(event_steps[-1].survival, 4) == 0.4482
    assert km_median(kaplan_meier(SIX_MP)) == 23
    # Last observation (35) is censored with S = 0.448: nothing can be said after 35 weeks.
    assert km_survival_at(kaplan_meier(SIX_MP), 35) == pytest.approx(0.448179, abs=1e-6)
    assert km_survival_at(kaplan_meier(SIX_MP), 36) is None


def test_kaplan_meier_gehan_control_matches_stata_sts_list() -> None:
    # Control arm, no censoring: 1 1 2 2 3 4 4 5 5 8 8 8 8 11 11 12 12 15 17 22 23.
    # Stata `sts list` (log-log CI), as published on data.princeton.edu (Gehan data):
    #   1  21  2  0.9048  0.0641  0.6700  0.9753
    #   2  19  2  0.8095  0.0857  0.5689  0.9239
    weeks = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]
    steps = kaplan_meier([(w, True) for w in weeks])
    published = [
        (1, 21, 2, 0.9048, 0.0641, 0.6700, 0.9753),
        (2, 19, 2, 0.8095, 0.0857, 0.5689, 0.9239),
    ]
    for step, (time, at_risk, events, surv, se, low, high) in zip(steps, published, strict=False):
        assert (step.time, step.at_risk, step.events) == (time, at_risk, events)
        assert (step.survival, step.std_err, step.ci_low, step.ci_high) == pytest.approx(
            (surv, se, low, high), abs=5e-5
        )
    # Without censoring the KM curve is the share still in remission: S(8) = 8/21.
    assert km_survival_at(steps, 8) == pytest.approx(8 / 21, rel=1e-15)
    assert km_median(steps) == 8  # S(5) = 12/21 > 0.5, S(8) = 8/21


def test_kaplan_meier_counts_events_before_censorings_at_a_tie() -> None:
    # At t=5 one person leaves and one is censored: both are at risk at 5 (3 at risk, not 2),
    # so S(5) = 1 - 1/3 = 2/3 (had the censoring come first it would be 1 - 1/2).
    steps = kaplan_meier([(5, True), (5, False), (8, True)])
    assert (steps[0].at_risk, steps[0].events, steps[0].censored) == (3, 1, 1)
    assert steps[0].survival == 2 / 3
    assert (steps[1].at_risk, steps[1].survival) == (1, 0.0)


def test_kaplan_meier_median_when_the_curve_sits_exactly_on_one_half() -> None:
    # S(1) = 3/4, S(2) = 3/4 · 2/3 = 1/2 exactly (fractions, no rounding): the median is 2.
    steps = kaplan_meier([(1, True), (2, True), (3, False), (4, False)])
    assert steps[1].survival == 0.5
    assert km_median(steps) == 2


def test_kaplan_meier_with_everyone_censored_stays_at_one() -> None:
    # Everyone still active on the report date: retention is 100% so far, no median yet.
    steps = kaplan_meier([(10, False), (20, False), (30, False)])
    assert [s.survival for s in steps] == [1.0, 1.0, 1.0]
    assert [(s.std_err, s.ci_low, s.ci_high) for s in steps] == [(0.0, 1.0, 1.0)] * 3
    assert km_median(steps) is None
    assert km_survival_at(steps, 30) == 1.0
    assert km_survival_at(steps, 31) is None  # beyond follow-up: not estimable


def test_kaplan_meier_of_nobody() -> None:
    assert kaplan_meier([]) == []
    assert km_survival_at([], 10) is None
    assert km_median([]) is None
    assert km_step_at([], 10) is None


def test_km_step_at_gives_the_interval_in_effect() -> None:
    steps = kaplan_meier(SIX)
    assert km_step_at(steps, 2) is None  # before the first time: S = 1, nothing to show
    step = km_step_at(steps, 8)
    assert isinstance(step, KMStep)
    assert step.time == 7 and step.ci_low is not None


@pytest.mark.parametrize(
    ("durations", "error", "message"),
    [
        ([(-1, True)], ValueError, r"durations\[0\]: time must be a finite number >= 0"),
        ([(1, True), (float("nan"), True)], ValueError, r"durations\[1\]"),
        ([(float("inf"), False)], ValueError, "finite"),
        ([("3", True)], TypeError, "time must be a number"),
        ([(3, 1)], TypeError, "event_observed must be True or False"),
        ([(3,)], ValueError, "pair"),
    ],
)
def test_kaplan_meier_rejects_bad_input(
    durations: list[tuple[object, ...]], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        kaplan_meier(durations)  # type: ignore[arg-type]


durations_strategy = st.lists(
    st.tuples(st.integers(min_value=0, max_value=60), st.booleans()), max_size=60
)


@given(durations_strategy)
def test_kaplan_meier_curve_is_a_valid_survival_curve(durations: list[tuple[int, bool]]) -> None:
    steps = kaplan_meier(durations)
    assert [s.time for s in steps] == sorted({t for t, _ in durations})
    assert sum(s.events + s.censored for s in steps) == len(durations)
    if steps:
        assert steps[0].at_risk == len(durations)
    previous = 1.0
    for i, step in enumerate(steps):
        assert 0.0 <= step.survival <= previous
        previous = step.survival
        if i + 1 < len(steps):
            assert steps[i + 1].at_risk == step.at_risk - step.events - step.censored
        if step.ci_low is not None and step.ci_high is not None:
            assert 0.0 <= step.ci_low <= step.survival <= step.ci_high <= 1.0
        else:
            assert step.survival == 0.0


@given(durations_strategy)
def test_kaplan_meier_without_censoring_is_the_share_remaining(
    durations: list[tuple[int, bool]],
) -> None:
    events_only = [(t, True) for t, _ in durations]
    steps = kaplan_meier(events_only)
    for step in steps:
        remaining = sum(1 for t, _ in events_only if t > step.time)
        assert step.survival == pytest.approx(remaining / len(events_only), abs=1e-12)


@given(durations_strategy, st.randoms(use_true_random=False))
def test_kaplan_meier_ignores_input_order(
    durations: list[tuple[int, bool]], rnd: random.Random
) -> None:
    shuffled = list(durations)
    rnd.shuffle(shuffled)
    assert kaplan_meier(shuffled) == kaplan_meier(durations)


# --------------------------------------------------------------------------------------------
# Outcome summary
# --------------------------------------------------------------------------------------------


def test_summary_never_counts_non_responders_as_successes() -> None:
    # 10 patients due: 3 abstinent, 2 reduced, 2 not met, 3 did not answer.
    outcomes = (
        [Outcome.ABSTINENT] * 3 + [Outcome.REDUCED] * 2 + [Outcome.NOT_MET] * 2
        + [Outcome.UNKNOWN] * 3
    )  # fmt: skip
    summary = summarize_outcomes(outcomes)
    assert (summary.eligible, summary.responded, summary.non_responders) == (10, 7, 3)
    assert (summary.abstinent, summary.reduced, summary.not_met, summary.successes) == (3, 2, 2, 5)
    assert (summary.response.successes, summary.response.n) == (7, 10)
    assert (summary.success.successes, summary.success.n) == (5, 7)
    assert (summary.success_floor.successes, summary.success_floor.n) == (5, 10)
    assert summary.success.estimate == pytest.approx(5 / 7)
    assert summary.success_floor.estimate == 0.5


def test_summary_of_nobody_answering_has_no_success_rate() -> None:
    summary = summarize_outcomes([Outcome.UNKNOWN, Outcome.UNKNOWN])
    assert summary.response.estimate == 0.0
    assert summary.success.estimate is None  # not 0%, not 100%: unknown
    assert summary.success_floor.estimate == 0.0


@given(st.lists(st.sampled_from(list(Outcome)), max_size=50), st.integers(0, 20))
def test_more_non_responders_never_raise_the_success_counts(
    outcomes: list[Outcome], extra_unknown: int
) -> None:
    base = summarize_outcomes(outcomes)
    more = summarize_outcomes(outcomes + [Outcome.UNKNOWN] * extra_unknown)
    assert more.successes == base.successes
    assert more.success == base.success
    assert more.eligible == base.eligible + extra_unknown
    if more.success.estimate is not None and more.success_floor.estimate is not None:
        assert more.success_floor.estimate <= more.success.estimate
