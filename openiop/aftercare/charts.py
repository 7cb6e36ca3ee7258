"""Aftercare plan chart: components engaged per aftercare month, coloured by band (0 / 1 / 2+).

Pure: month data in, SVG text out (no ORM). Built on ``matplotlib.figure.Figure`` (never
pyplot) and rendered through ``openiop.core.svg.figure_svg`` (no inline CSS, so the page's CSP
needs no 'unsafe-inline'); equal inputs give byte-equal SVG and are cached by value.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from openiop.core.svg import figure_svg  # noqa: E402

BAND_COLORS = {"0": "#b3261e", "1": "#c77700", "2+": "#2e7d32"}
BAND_LABELS = {"0": "no component", "1": "1 component", "2+": "2 or more components"}


@dataclass(frozen=True)
class MonthBar:
    """One aftercare month: its number, a short label ("Dec"), components engaged, band."""

    index: int
    label: str
    components: int
    band: str
    partial: bool = False


def describe(bars: Sequence[MonthBar]) -> str:
    """The chart as text (the SVG <desc>, read by screen readers)."""
    if not bars:
        return "Aftercare has not started yet."
    parts = [
        f"month {b.index} ({b.label}{', so far' if b.partial else ''}): "
        f"{b.components} component{'s' if b.components != 1 else ''}"
        for b in bars
    ]
    return "Components engaged per aftercare month: " + "; ".join(parts) + "."


@functools.lru_cache(maxsize=128)
def _render(bars: tuple[MonthBar, ...], title: str) -> str:
    fig = Figure(figsize=(7.2, 2.4), dpi=72)
    ax = fig.add_subplot(1, 1, 1)
    xs = list(range(len(bars)))
    heights = [b.components for b in bars]
    colors = [BAND_COLORS[b.band] for b in bars]
    drawn = ax.bar(xs, heights, color=colors, width=0.7, edgecolor="white", linewidth=0.5)
    for bar, patch in zip(bars, drawn, strict=True):
        if bar.partial:
            patch.set_hatch("//")
            patch.set_edgecolor("#ffffff")
    ax.set_xticks(xs, [f"M{b.index}\n{b.label}" for b in bars], fontsize=8, parse_math=False)
    top = max([*heights, 2])
    ax.set_ylim(0, top + 0.5)
    ax.set_yticks(range(0, top + 1))
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylabel("components", fontsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles = [Patch(color=BAND_COLORS[k], label=BAND_LABELS[k]) for k in BAND_COLORS]
    ax.legend(
        handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False
    )
    fig.tight_layout()
    return figure_svg(fig, uid="engagement-chart", title=title, desc=describe(bars))


def engagement_chart_svg(
    bars: Sequence[MonthBar], *, title: str = "Aftercare engagement by month"
) -> str:
    """Inline ``<svg>`` with an accessible <title> and <desc>; "" when there is no month yet."""
    if not bars:
        return ""
    return _render(tuple(bars), title)
