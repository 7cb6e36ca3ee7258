"""Weekly-hours chart for one episode: pure, data in -> SVG text out.

Bars are the hours attended in each week since admission, coloured by that week's compliance
status; the program's weekly minimum is a solid line and its maximum a dashed one. Pro-rated weeks
(admission or discharge week) are hatched and starred, because their own minimum is lower than
the line drawn across the chart.

The figure is built with ``matplotlib.figure.Figure`` and the Agg-free SVG canvas, never pyplot:
pyplot keeps global state that is not safe across concurrent requests. Output is deterministic
(fixed hash salt, no date metadata) so equal inputs give byte-equal SVG and can be cached.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from openiop.core.svg import figure_svg  # noqa: E402

# Same palette as app.css (--met, --on_track, ...), so the badges and bars agree.
STATUS_COLORS: dict[str, str] = {
    "met": "#2e7d32",
    "on_track": "#1f5f8b",
    "at_risk": "#c77700",
    "below": "#b3261e",
    "exempt": "#7a7f87",
}
STATUS_LABELS: dict[str, str] = {
    "met": "Met",
    "on_track": "On track",
    "at_risk": "At risk",
    "below": "Below",
    "exempt": "Exempt",
}


@dataclass(frozen=True)
class WeekBar:
    """One bar: a week's attended minutes and its status (a ``compliance.Status`` value)."""

    week_start: date
    minutes_attended: int
    status: str
    prorated: bool = False
    over_max: bool = False


def bars_from_results(results: Sequence[object]) -> tuple[WeekBar, ...]:
    """Adapt ``attendance.compliance.WeekResult`` objects (duck-typed) to chart bars."""
    return tuple(
        WeekBar(
            week_start=r.week_start,  # type: ignore[attr-defined]
            minutes_attended=r.minutes_attended,  # type: ignore[attr-defined]
            status=str(r.status),  # type: ignore[attr-defined]
            prorated=bool(r.prorated),  # type: ignore[attr-defined]
            over_max=bool(r.over_max),  # type: ignore[attr-defined]
        )
        for r in results
    )


def _hours(minutes: int) -> float:
    return round(minutes / 60, 1)


def hours(minutes: int | None) -> str:
    """Minutes as hours with one decimal for display, e.g. 545 -> "9.1"."""
    return "—" if minutes is None else f"{minutes / 60:.1f}"


def week_row(result: object) -> dict[str, object]:
    """A ``WeekResult`` with display hours and a status label, for tables beside the chart."""
    status = str(result.status)  # type: ignore[attr-defined]
    return {
        "result": result,
        "attended": hours(result.minutes_attended),  # type: ignore[attr-defined]
        "required": hours(result.required_minutes),  # type: ignore[attr-defined]
        "remaining": hours(result.minutes_remaining),  # type: ignore[attr-defined]
        "label": STATUS_LABELS.get(status, status),
    }


def describe(bars: Sequence[WeekBar], *, min_minutes: int, max_minutes: int | None) -> str:
    """A one-paragraph text description of the chart (used as the SVG <desc>)."""
    if not bars:
        return "No weeks to show."
    parts = [
        f"week of {b.week_start:%b} {b.week_start.day}: {_hours(b.minutes_attended)} h, "
        f"{STATUS_LABELS.get(b.status, b.status).lower()}"
        + (", pro-rated" if b.prorated else "")
        + (", over maximum" if b.over_max else "")
        for b in bars
    ]
    limits = f"Weekly minimum {_hours(min_minutes)} h"
    if max_minutes is not None:
        limits += f", maximum {_hours(max_minutes)} h"
    return f"{limits}. " + "; ".join(parts) + "."


@functools.lru_cache(maxsize=256)
def _render(
    bars: tuple[WeekBar, ...], min_minutes: int, max_minutes: int | None, title: str
) -> str:
    fig = Figure(figsize=(7.2, 2.8), dpi=72)
    ax = fig.add_subplot(1, 1, 1)
    xs = list(range(len(bars)))
    heights = [_hours(b.minutes_attended) for b in bars]
    colors = [STATUS_COLORS.get(b.status, STATUS_COLORS["exempt"]) for b in bars]
    drawn = ax.bar(xs, heights, color=colors, width=0.7, edgecolor="white", linewidth=0.5)
    for rect, bar in zip(drawn, bars, strict=True):
        if bar.prorated:
            rect.set_hatch("///")
            rect.set_edgecolor("#ffffff")
    min_h = _hours(min_minutes)
    ax.axhline(min_h, color="#1d2733", linewidth=1.4, label=f"minimum {min_h:g} h")
    top = max([*heights, min_h, 1.0])
    if max_minutes is not None:
        max_h = _hours(max_minutes)
        ax.axhline(
            max_h, color="#1d2733", linewidth=1.2, linestyle="--", label=f"maximum {max_h:g} h"
        )
        top = max(top, max_h)
    ax.set_ylim(0, top * 1.12)
    labels = [f"{b.week_start:%b} {b.week_start.day}" + ("*" if b.prorated else "") for b in bars]
    ax.set_xticks(xs, labels, fontsize=8, rotation=45 if len(bars) > 10 else 0)
    ax.set_ylabel("hours", fontsize=9)
    ax.tick_params(axis="y", labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    present = [s for s in STATUS_COLORS if any(b.status == s for b in bars)]
    handles = [Patch(color=STATUS_COLORS[s], label=STATUS_LABELS[s]) for s in present]
    if any(b.prorated for b in bars):
        handles.append(Patch(facecolor="#bbbbbb", hatch="///", label="pro-rated*"))
    line_handles, _ = ax.get_legend_handles_labels()
    ax.legend(
        handles=[*line_handles, *handles], fontsize=7, loc="upper left",
        bbox_to_anchor=(1.0, 1.0), frameon=False,
    )  # fmt: skip
    fig.tight_layout()
    desc = describe(bars, min_minutes=min_minutes, max_minutes=max_minutes)
    return figure_svg(fig, uid="hours-chart", title=title, desc=desc)


def weekly_hours_svg(
    bars: Sequence[WeekBar],
    *,
    min_minutes: int,
    max_minutes: int | None = None,
    title: str = "Hours attended per week",
) -> str:
    """Render the chart as an inline ``<svg>`` element (no XML prolog) with <title> and <desc>.

    Results are cached by value: the same weeks give the same SVG without re-drawing.
    """
    return _render(tuple(bars), int(min_minutes), max_minutes, title)
