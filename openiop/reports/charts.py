"""Dashboard chart: weekly-hours status counts per program as horizontal stacked bars.

Pure: data in, SVG text out (no ORM). Built on ``matplotlib.figure.Figure`` (never pyplot, whose
global state is not safe across concurrent requests) and rendered deterministically (fixed hash
salt, no date metadata), so equal inputs give byte-equal SVG and are cached by value.
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
from openiop.reports.charts_hours import STATUS_COLORS, STATUS_LABELS  # noqa: E402

ORDER = ("met", "on_track", "at_risk", "below", "exempt")


@dataclass(frozen=True)
class ProgramBar:
    """One program's row: its name and how many patients have each weekly-hours status."""

    name: str
    counts: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, name: str, counts: dict[str, int]) -> ProgramBar:
        return cls(name, tuple((s, int(counts.get(s, 0))) for s in ORDER))

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


def describe(bars: Sequence[ProgramBar]) -> str:
    """The chart as one sentence per program (the SVG <desc>, read by screen readers)."""
    if not bars:
        return "No active programs."
    parts = []
    for bar in bars:
        shown = [f"{n} {STATUS_LABELS[s].lower()}" for s, n in bar.counts if n]
        parts.append(f"{bar.name}: " + (", ".join(shown) if shown else "no patients"))
    return "; ".join(parts) + "."


@functools.lru_cache(maxsize=128)
def _render(bars: tuple[ProgramBar, ...], title: str) -> str:
    height = 0.9 + 0.42 * max(len(bars), 1)
    fig = Figure(figsize=(7.2, height), dpi=72)
    ax = fig.add_subplot(1, 1, 1)
    ys = list(range(len(bars)))
    left = [0] * len(bars)
    for status in ORDER:
        widths = [dict(b.counts).get(status, 0) for b in bars]
        if not any(widths):
            continue
        ax.barh(
            ys, widths, left=left, height=0.6, color=STATUS_COLORS[status],
            edgecolor="white", linewidth=0.6,
        )  # fmt: skip
        for y, x0, w in zip(ys, left, widths, strict=True):
            if w:
                ax.text(x0 + w / 2, y, str(w), ha="center", va="center", color="white", fontsize=8)
        left = [a + w for a, w in zip(left, widths, strict=True)]
    # Program names are typed by users: plain text, never mathtext ("$5 to $10" would be
    # parsed as a formula, and an unbalanced one raises).
    ax.set_yticks(ys, [b.name for b in bars], fontsize=9, parse_math=False)
    ax.invert_yaxis()
    ax.set_xlim(0, max([*left, 1]))
    ax.set_xlabel("patients", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.xaxis.get_major_locator().set_params(integer=True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles = [Patch(color=STATUS_COLORS[s], label=STATUS_LABELS[s]) for s in ORDER]
    ax.legend(
        handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False
    )
    fig.tight_layout()
    return figure_svg(fig, uid="summary-chart", title=title, desc=describe(bars))


def compliance_summary_svg(
    bars: Sequence[ProgramBar], *, title: str = "Weekly hours status by program"
) -> str:
    """Inline ``<svg>`` (no XML prolog) with an accessible <title> and <desc>; cached by value."""
    return _render(tuple(bars), title)
