"""The cost estimate's chart: IOP and residential treatment for the same weeks, total charges
and the patient's share, as horizontal bars. Pure (data in, SVG text out), rendered with
``matplotlib.figure.Figure`` (never pyplot) through ``openiop.core.svg.figure_svg``: no inline
CSS (the Content-Security-Policy allows none), deterministic, cached by value.
"""

from __future__ import annotations

import functools
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from openiop.billing.estimate import Estimate  # noqa: E402
from openiop.core.svg import figure_svg  # noqa: E402

COLORS = {"total": "#9fb3c8", "patient": "#1f5f8b"}


def _dollars(value: Decimal) -> str:
    return f"${value:,.0f}"


def bars(est: Estimate) -> tuple[tuple[str, str, str], ...]:
    """(label, kind, amount) rows, top to bottom."""
    you = "You pay" if not est.self_pay else "You pay (self-pay)"
    return (
        ("IOP: total charges", "total", str(est.total)),
        (f"IOP: {you.lower()}", "patient", str(est.share.patient)),
        ("Residential: total charges", "total", str(est.residential_total)),
        (f"Residential: {you.lower()}", "patient", str(est.residential_share.patient)),
    )


def describe(rows: tuple[tuple[str, str, str], ...]) -> str:
    return "; ".join(f"{label} {_dollars(Decimal(amount))}" for label, _, amount in rows) + "."


@functools.lru_cache(maxsize=64)
def _render(rows: tuple[tuple[str, str, str], ...], title: str) -> str:
    fig = Figure(figsize=(7.2, 2.6), dpi=72)
    ax = fig.add_subplot(1, 1, 1)
    values = [float(Decimal(amount)) for _, _, amount in rows]
    ys = list(range(len(rows)))
    ax.barh(ys, values, height=0.6, color=[COLORS[kind] for _, kind, _ in rows])
    top = max([*values, 1.0])
    for y, value in zip(ys, values, strict=True):
        ax.text(value + top * 0.01, y, _dollars(Decimal(str(value))), va="center", fontsize=8)
    ax.set_yticks(ys, [label for label, _, _ in rows], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.18)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return figure_svg(fig, uid="estimate-chart", title=title, desc=describe(rows))


def estimate_chart_svg(est: Estimate, *, title: str = "IOP and residential treatment") -> str:
    """Inline ``<svg>`` with an accessible title and description."""
    return _render(bars(est), title)
