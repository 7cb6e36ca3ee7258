"""Outcome report charts: pure, data in -> inline SVG out (no ORM).

* :func:`retention_svg`: the Kaplan-Meier retention curve as a step function with its 95%
  confidence band (log-log, from ``reports.stats``), censoring ticks and guides at 30/60/90 days;
* :func:`reasons_svg`: discharges by TEDS reason, horizontal bars;
* :func:`outcome_bands_svg`: the six-month success rate overall and by aftercare engagement band,
  among responders and with non-responders counted as failures, each with its Wilson interval;
* :func:`hours_svg`: the distribution of average weekly hours attended.

Same house rules as ``reports.charts``: ``matplotlib.figure.Figure`` (never pyplot), rendered by
``core.svg.figure_svg`` (deterministic, no inline CSS, with a <title> and a <desc> that says in
words what the chart shows), cached by value.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from openiop.core.svg import figure_svg  # noqa: E402

INK = "#1d2733"
BRAND = "#1f5f8b"
BAND = "#9cc3df"
MUTED = "#7a7f87"
WARN = "#c77700"
REASON_COLORS = {
    1: "#2e7d32",
    2: "#b3261e",
    3: "#c77700",
    4: "#1f5f8b",
    5: "#6a4c93",
    6: "#3d3d3d",
    7: "#7a7f87",
}


def _pct(value: float | None) -> str:
    return "no data" if value is None else f"{value * 100:.0f}%"


def _tidy(ax: object) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)  # type: ignore[attr-defined]
    ax.tick_params(labelsize=8)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# Retention (Kaplan-Meier)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurvePoint:
    """One Kaplan-Meier step: time (days), survival, CI (None where undefined), censorings."""

    time: float
    survival: float
    low: float | None
    high: float | None
    censored: int = 0

    @classmethod
    def of(cls, step: object) -> CurvePoint:
        """From a ``reports.stats.KMStep`` (duck-typed)."""
        return cls(
            float(step.time),  # type: ignore[attr-defined]
            float(step.survival),  # type: ignore[attr-defined]
            step.ci_low,  # type: ignore[attr-defined]
            step.ci_high,  # type: ignore[attr-defined]
            int(step.censored),  # type: ignore[attr-defined]
        )


def describe_retention(points: Sequence[CurvePoint], marks: Sequence[int]) -> str:
    if not points:
        return "No admissions in the period: no retention curve."
    parts = []
    for day in marks:
        value: float | None = 1.0
        for p in points:
            if p.time <= day:
                value = p.survival
        if day > points[-1].time and points[-1].survival > 0:
            value = None
        parts.append(f"day {day}: {_pct(value) if value is not None else 'not estimable'}")
    return "Share still in the program without leaving early, " + "; ".join(parts) + "."


@functools.lru_cache(maxsize=64)
def _retention(points: tuple[CurvePoint, ...], marks: tuple[int, ...], title: str) -> str:
    fig = Figure(figsize=(7.2, 3.4), dpi=72)
    ax = fig.add_subplot(1, 1, 1)
    times = [0.0] + [p.time for p in points]
    surv = [1.0] + [p.survival for p in points]
    low = [1.0] + [math.nan if p.low is None else p.low for p in points]
    high = [1.0] + [math.nan if p.high is None else p.high for p in points]
    end = max([*times, *marks]) * 1.03 if points else max(marks) * 1.1
    # Extend the last step to the last observed time (it is already there) for the band.
    ax.fill_between(times, low, high, step="post", color=BAND, alpha=0.6, linewidth=0,
                    label="95% confidence band")  # fmt: skip
    ax.step(times, surv, where="post", color=BRAND, linewidth=1.8, label="Retention")
    censored = [(p.time, p.survival) for p in points if p.censored]
    if censored:
        ax.plot([t for t, _ in censored], [s for _, s in censored], linestyle="none",
                marker="|", markersize=8, color=INK, label="censored")  # fmt: skip
    for day in marks:
        ax.axvline(day, color=MUTED, linewidth=0.8, linestyle=":")
        ax.text(day, 1.02, f"{day} d", ha="center", va="bottom", fontsize=7, color=MUTED)
    ax.set_xlim(0, end)
    ax.set_ylim(0, 1.08)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0], ["0%", "25%", "50%", "75%", "100%"])
    ax.set_xlabel("days since admission", fontsize=8)
    ax.set_ylabel("not left early", fontsize=8)
    _tidy(ax)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return figure_svg(fig, uid="retention-chart", title=title, desc=describe_retention(points,
                      marks))  # fmt: skip


def retention_svg(
    steps: Sequence[object],
    *,
    marks: Sequence[int] = (30, 60, 90),
    title: str = "Retention (Kaplan-Meier) with 95% confidence band",
) -> str:
    """The retention curve of ``reports.stats.kaplan_meier`` steps as inline SVG."""
    return _retention(tuple(CurvePoint.of(s) for s in steps), tuple(marks), title)


# --------------------------------------------------------------------------------------------
# Discharge reasons
# --------------------------------------------------------------------------------------------


def describe_reasons(bars: Sequence[tuple[int, str, int]]) -> str:
    total = sum(n for _, _, n in bars)
    if not total:
        return "No discharges in the period."
    shown = [f"{label}: {n} ({n / total * 100:.0f}%)" for _, label, n in bars if n]
    return f"{total} discharges. " + "; ".join(shown) + "."


@functools.lru_cache(maxsize=64)
def _reasons(bars: tuple[tuple[int, str, int], ...], title: str) -> str:
    fig = Figure(figsize=(7.2, 0.7 + 0.34 * max(len(bars), 1)), dpi=72)
    ax = fig.add_subplot(1, 1, 1)
    ys = list(range(len(bars)))
    counts = [n for _, _, n in bars]
    ax.barh(ys, counts, height=0.6, color=[REASON_COLORS.get(c, MUTED) for c, _, _ in bars])
    total = sum(counts)
    for y, n in zip(ys, counts, strict=True):
        if n:
            ax.text(n, y, f" {n} ({n / total * 100:.0f}%)", va="center", ha="left", fontsize=8,
                    color=INK)  # fmt: skip
    ax.set_yticks(ys, [label for _, label, _ in bars], fontsize=8, parse_math=False)
    ax.invert_yaxis()
    ax.set_xlim(0, max([*counts, 1]) * 1.3)
    ax.set_xlabel("discharges", fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _tidy(ax)
    fig.tight_layout()
    return figure_svg(fig, uid="reasons-chart", title=title, desc=describe_reasons(bars))


def reasons_svg(
    bars: Sequence[tuple[int, str, int]], *, title: str = "Discharges by reason (TEDS REASON)"
) -> str:
    """``bars``: (TEDS code, label, count) in display order."""
    return _reasons(tuple((int(c), str(label), int(n)) for c, label, n in bars), title)


# --------------------------------------------------------------------------------------------
# Six-month outcome by engagement band
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BandPoint:
    """One group: success among responders and the conservative rate, each (estimate, low, high);
    the estimate is None when its denominator is 0."""

    label: str
    responders: tuple[float | None, float, float]
    conservative: tuple[float | None, float, float]
    responded: int
    eligible: int


def describe_bands(groups: Sequence[BandPoint]) -> str:
    if not any(g.eligible for g in groups):
        return "Nobody was due for the six-month follow-up in the period."
    parts = []
    for g in groups:
        r, c = g.responders, g.conservative
        parts.append(
            f"{g.label}: {_pct(r[0])} of {g.responded} responders "
            f"({_pct(c[0])} of {g.eligible} counting non-responders as not successful)"
        )
    return "Six-month success. " + "; ".join(parts) + "."


@functools.lru_cache(maxsize=64)
def _bands(groups: tuple[BandPoint, ...], title: str) -> str:
    fig = Figure(figsize=(7.2, 3.6), dpi=72)
    ax = fig.add_subplot(1, 1, 1)
    xs = list(range(len(groups)))
    plotted = False
    for offset, attr, color, marker, label in (
        (-0.12, "responders", BRAND, "o", "among responders"),
        (0.12, "conservative", WARN, "s", "non-responders counted as failures"),
    ):
        px, py, lo, hi = [], [], [], []
        for x, g in zip(xs, groups, strict=True):
            est, low, high = getattr(g, attr)
            if est is None:
                continue
            px.append(x + offset)
            py.append(est)
            lo.append(max(est - low, 0.0))
            hi.append(max(high - est, 0.0))
        if px:
            plotted = True
            ax.errorbar(px, py, yerr=[lo, hi], fmt=marker, color=color, ecolor=color,
                        elinewidth=1.2, capsize=4, markersize=6, label=label)  # fmt: skip
    ax.set_xticks(
        xs, [f"{g.label}\nn={g.eligible}\n{g.responded} responded" for g in groups],
        fontsize=8, parse_math=False,
    )  # fmt: skip
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylim(0, 1.02)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0], ["0%", "25%", "50%", "75%", "100%"])
    ax.set_ylabel("abstinent or ≥95% reduction", fontsize=8)
    _tidy(ax)
    if plotted:
        fig.legend(fontsize=7, loc="lower center", ncol=2, frameon=False)
    else:
        ax.text(0.5, 0.5, "nobody due for the follow-up yet", transform=ax.transAxes,
                ha="center", va="center", fontsize=9, color=MUTED)  # fmt: skip
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return figure_svg(fig, uid="outcome-chart", title=title, desc=describe_bands(groups))


def outcome_bands_svg(
    groups: Sequence[BandPoint],
    *,
    title: str = "Six-month outcome by aftercare engagement, with 95% Wilson intervals",
) -> str:
    return _bands(tuple(groups), title)


# --------------------------------------------------------------------------------------------
# Weekly hours distribution
# --------------------------------------------------------------------------------------------

HOURS_BIN = 3  # hours per bin


def hours_bins(values: Sequence[float]) -> list[tuple[int, int, int]]:
    """(from, to, count) bins of HOURS_BIN hours, up to the largest value: [0,3), [3,6), ..."""
    if not values:
        return []
    top = int(max(values) // HOURS_BIN) + 1
    counts = [0] * top
    for v in values:
        counts[min(int(v // HOURS_BIN), top - 1)] += 1
    return [(i * HOURS_BIN, (i + 1) * HOURS_BIN, n) for i, n in enumerate(counts)]


def describe_hours(values: Sequence[float], minimum: float | None) -> str:
    if not values:
        return "No attendance recorded for the admissions of the period."
    parts = [f"{a}–{b} h: {n}" for a, b, n in hours_bins(values) if n]
    extra = f" Program minimum {minimum:g} h a week." if minimum is not None else ""
    return f"{len(values)} admissions by average weekly hours. " + "; ".join(parts) + "." + extra


@functools.lru_cache(maxsize=64)
def _hours(values: tuple[float, ...], minimum: float | None, title: str) -> str:
    fig = Figure(figsize=(7.2, 2.8), dpi=72)
    ax = fig.add_subplot(1, 1, 1)
    bins = hours_bins(values)
    ax.bar([a for a, _, _ in bins], [n for _, _, n in bins], width=HOURS_BIN * 0.92,
           align="edge", color=BRAND)  # fmt: skip
    if minimum is not None:
        ax.axvline(minimum, color=WARN, linewidth=1.4, linestyle="--")
        ax.text(minimum, ax.get_ylim()[1], f" minimum {minimum:g} h", color=WARN, fontsize=7,
                va="top", ha="left")  # fmt: skip
    edges = [a for a, _, _ in bins] + ([bins[-1][1]] if bins else [])
    ax.set_xticks(edges, [str(e) for e in edges])
    ax.set_xlabel("average hours attended per week", fontsize=8)
    ax.set_ylabel("admissions", fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _tidy(ax)
    fig.tight_layout()
    return figure_svg(fig, uid="hours-chart", title=title, desc=describe_hours(values, minimum))


def hours_svg(
    values: Sequence[float],
    *,
    minimum: float | None = None,
    title: str = "Average weekly hours attended",
) -> str:
    """Histogram of hours per week (one value per admission); ``minimum`` draws a guide."""
    return _hours(tuple(float(v) for v in values), minimum, title)
