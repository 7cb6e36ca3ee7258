"""Score-over-time chart for one patient and instrument: data in -> SVG text out.

Severity bands are shaded behind the line (pale green to red), a screening cut-off is a dashed
line, and flagged administrations are marked with a red ring. Built with ``matplotlib.figure``
(never pyplot: its global state is unsafe across requests), deterministic output, cached by
value; the SVG carries a <title> and a <desc> that states every point in words (same pattern as
``openiop/reports/charts_hours.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from openiop.core.svg import figure_svg  # noqa: E402
from openiop.questionnaires.instruments import registry  # noqa: E402

BAND_COLORS = ("#e3f1e4", "#f3f5dc", "#fdf0d5", "#fbe0cc", "#f8d3d0")
LINE = "#1f5f8b"
FLAG = "#b3261e"


@dataclass(frozen=True)
class Point:
    on: date
    value: int
    flagged: bool = False
    severity: str = ""


def _band_colors(n: int) -> list[str]:
    if n == 0:
        return []  # an instrument without severity bands (e.g. the C-SSRS screener)
    if n <= 1:
        return [BAND_COLORS[0]]
    step = (len(BAND_COLORS) - 1) / (n - 1)
    return [BAND_COLORS[round(i * step)] for i in range(n)]


def metric_label(instrument: str) -> str:
    d = registry.get(instrument)
    return "total" if d.trend_metric == "total" else f"{d.trend_metric} score"


def describe(instrument: str, points: Sequence[Point]) -> str:
    d = registry.get(instrument)
    if not points:
        return f"No {d.short_title} scores recorded."
    parts = []
    for p in points:
        text = f"{p.on:%b} {p.on.day}, {p.on.year}: {p.value}"
        if p.severity:
            text += f" ({p.severity})"
        if p.flagged:
            text += ", flagged"
        parts.append(text)
    change = points[-1].value - points[0].value
    trend = f"change {change:+d} since the first" if len(points) > 1 else "one score"
    bands = ", ".join(f"{b.label} {b.low}-{b.high}" for b in d.bands)
    prefix = f"{d.short_title} {metric_label(instrument)} over time; {trend}."
    if bands:
        prefix += f" Bands: {bands}."
    return prefix + " " + "; ".join(parts) + "."


@functools.lru_cache(maxsize=512)
def _render(instrument: str, points: tuple[Point, ...], small: bool, uid: str) -> str:
    d = registry.get(instrument)
    if d.trend_range is not None:
        low, high = d.trend_range
    else:
        low, high = d.min_total or 0, d.max_total or max([p.value for p in points] + [1])
    fig = Figure(figsize=(3.4, 1.5) if small else (7.2, 2.8), dpi=72)
    ax = fig.add_subplot(1, 1, 1)
    for band, color in zip(d.bands, _band_colors(len(d.bands)), strict=True):
        ax.axhspan(band.low - 0.5 if band.low else low, band.high + 0.5, color=color, lw=0)
        if not small:
            ax.text(
                1.01, (band.low + band.high) / 2, band.label, transform=ax.get_yaxis_transform(),
                fontsize=7, va="center", color="#4a5561",
            )  # fmt: skip
    if d.trend_cutoff is not None:
        ax.axhline(d.trend_cutoff, color="#1d2733", lw=1, ls="--")
        if not small:
            ax.text(
                1.01, d.trend_cutoff, f"cut-off {d.trend_cutoff}",
                transform=ax.get_yaxis_transform(), fontsize=7, va="center",
            )  # fmt: skip
    xs = list(range(len(points)))
    ys = [p.value for p in points]
    ax.plot(xs, ys, color=LINE, lw=1.8, marker="o", ms=3.5 if small else 5)
    for x, p in zip(xs, points, strict=True):
        if p.flagged:
            ax.plot([x], [p.value], marker="o", ms=11, mfc="none", mec=FLAG, mew=1.8)
    ax.set_ylim(low - 0.5, high + 0.5)
    ax.set_xlim(-0.5, max(len(points) - 0.5, 0.5))
    if small:
        ax.set_xticks([])
        ax.tick_params(axis="y", labelsize=6)
    else:
        labels = [f"{p.on:%b} {p.on.day}" for p in points]
        ax.set_xticks(xs, labels, fontsize=8, rotation=45 if len(points) > 8 else 0)
        ax.set_ylabel(metric_label(instrument), fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    title = f"{d.short_title} {metric_label(instrument)} over time"
    return figure_svg(fig, uid=uid, title=title, desc=describe(instrument, points))


def trend_svg(instrument: str, points: Sequence[Point], *, small: bool = False) -> str:
    """An inline ``<svg>`` (no XML prolog) with <title> and <desc>; equal inputs, equal SVG."""
    uid = f"q-{instrument}-{'s' if small else 'l'}"
    return _render(instrument, tuple(points), small, uid)


# -- program outcome: admission -> discharge, one line per person -----------------------------


def describe_change(instrument: str, pairs: Sequence[tuple[int, int]]) -> str:
    d = registry.get(instrument)
    n = len(pairs)
    if not n:
        return f"No {d.short_title} admission and discharge pairs."
    before = sum(a for a, _ in pairs) / n
    after = sum(b for _, b in pairs) / n
    down = sum(1 for a, b in pairs if b < a)
    up = sum(1 for a, b in pairs if b > a)
    text = (
        f"{d.short_title} total at admission and at discharge for {n} "
        f"{'person' if n == 1 else 'people'}: mean {before:.1f} at admission, {after:.1f} at "
        f"discharge; {down} lower, {up} higher, {n - down - up} unchanged."
    )
    if d.clinical_cutoff is not None:
        text += f" Dashed line: clinical cut-off {d.clinical_cutoff}."
    return text


@functools.lru_cache(maxsize=128)
def _render_change(instrument: str, pairs: tuple[tuple[int, int], ...]) -> str:
    d = registry.get(instrument)
    low = d.min_total or 0
    high = d.max_total or max([max(p) for p in pairs] + [1])
    fig = Figure(figsize=(4.8, 3.6), dpi=72)
    ax = fig.add_subplot(1, 1, 1)
    for band, color in zip(d.bands, _band_colors(len(d.bands)), strict=True):
        ax.axhspan(band.low - 0.5 if band.low else low, band.high + 0.5, color=color, lw=0)
        ax.text(
            1.01, (band.low + band.high) / 2, band.label, transform=ax.get_yaxis_transform(),
            fontsize=7, va="center", color="#4a5561",
        )  # fmt: skip
    if d.clinical_cutoff is not None:
        ax.axhline(d.clinical_cutoff, color="#1d2733", lw=1, ls="--")
        ax.text(
            1.01, d.clinical_cutoff, f"cut-off {d.clinical_cutoff}",
            transform=ax.get_yaxis_transform(), fontsize=7, va="center",
        )  # fmt: skip
    for a, b in pairs:
        color = "#2e7d32" if b < a else (FLAG if b > a else "#7a8591")
        ax.plot([0, 1], [a, b], color=color, lw=1, alpha=0.55, marker="o", ms=3)
    if pairs:
        n = len(pairs)
        mean_a = sum(a for a, _ in pairs) / n
        mean_b = sum(b for _, b in pairs) / n
        ax.plot([0, 1], [mean_a, mean_b], color=LINE, lw=3, marker="o", ms=7, label="mean")
    ax.set_xlim(-0.25, 1.25)
    ax.set_ylim(low - 0.5, high + 0.5)
    ax.set_xticks([0, 1], ["Admission", "Discharge"], fontsize=9)
    ax.set_ylabel(f"{d.short_title} total", fontsize=9)
    ax.tick_params(axis="y", labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return figure_svg(
        fig, uid=f"q-change-{instrument}", title=f"{d.short_title}: admission to discharge",
        desc=describe_change(instrument, pairs),
    )  # fmt: skip


def change_svg(instrument: str, pairs: Sequence[tuple[int, int]]) -> str:
    """Paired before/after chart: one thin line per person (green lower, red higher, grey the
    same), the mean as a thick line, severity bands and the clinical cut-off behind. Pairs are
    sorted so the same data in another order gives the same SVG."""
    return _render_change(instrument, tuple(sorted((int(a), int(b)) for a, b in pairs)))
