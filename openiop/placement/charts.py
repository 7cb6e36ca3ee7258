"""Intake report chart: median days from referral to assessment and to the first session, per
program, as grouped horizontal bars.

Pure: data in, SVG text out (no ORM). Same rendering habits as ``openiop.reports.charts``:
``matplotlib.figure.Figure`` (never pyplot), a fixed hash salt and no date metadata, so equal
inputs give byte-equal SVG, cached by value.
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

SERIES = (
    ("to_assessment", "to assessment", "#1f5f8b"),
    ("to_first_session", "to first session", "#c77700"),
)


@dataclass(frozen=True)
class IntakeBar:
    """One program's medians (None = no referral got that far in the period)."""

    name: str
    to_assessment: float | None
    to_first_session: float | None


def _days(value: float | None) -> str:
    return "no data" if value is None else f"{value:g} days"


def describe(bars: Sequence[IntakeBar]) -> str:
    """The chart as one sentence per program (the SVG <desc>, read by screen readers)."""
    if not bars:
        return "No referrals in the period."
    return (
        "; ".join(
            f"{b.name}: median {_days(b.to_assessment)} to assessment, "
            f"{_days(b.to_first_session)} to first session"
            for b in bars
        )
        + "."
    )


@functools.lru_cache(maxsize=64)
def _render(bars: tuple[IntakeBar, ...], title: str) -> str:
    height = 1.0 + 0.6 * max(len(bars), 1)
    fig = Figure(figsize=(7.2, height), dpi=72)
    ax = fig.add_subplot(1, 1, 1)
    ys = list(range(len(bars)))
    bar_h = 0.36
    top = 1.0
    for i, (attr, _label, color) in enumerate(SERIES):
        offset = (i - 0.5) * bar_h
        for y, bar in zip(ys, bars, strict=True):
            value = getattr(bar, attr)
            if value is None:
                ax.text(0.1, y + offset, "—", va="center", fontsize=8, color="#5b6775")
                continue
            ax.barh(y + offset, value, height=bar_h, color=color)
            ax.text(value, y + offset, f" {value:g}", va="center", fontsize=8)
            top = max(top, value)
    # Program names are typed by users: plain text, never mathtext ("$5 to $10" would be
    # parsed as a formula, and an unbalanced one raises).
    ax.set_yticks(ys, [b.name for b in bars], fontsize=9, parse_math=False)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.15 + 0.5)
    ax.set_xlabel("median days from referral", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles = [Patch(color=color, label=label) for _, label, color in SERIES]
    ax.legend(
        handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False
    )
    fig.tight_layout()
    return figure_svg(fig, uid="intake-chart", title=title, desc=describe(bars))


def intake_days_svg(
    bars: Sequence[IntakeBar], *, title: str = "Median days from referral, per program"
) -> str:
    """Inline ``<svg>`` (no XML prolog) with an accessible <title> and <desc>; cached by value."""
    return _render(tuple(bars), title)
