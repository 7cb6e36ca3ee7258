"""Trend charts render for every instrument, including those without severity bands."""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.questionnaires.charts import Point, trend_svg
from openiop.questionnaires.instruments import registry


@pytest.mark.parametrize("key", sorted(registry.INSTRUMENTS))
def test_every_instrument_charts_two_scores(key):
    points = [Point(on=dt.date(2026, 11, 2), value=3), Point(on=dt.date(2026, 11, 16), value=1)]
    svg = trend_svg(key, points)  # AUDIT-C, BAM, C-SSRS and PCL-5 have no bands: this crashed
    assert "<svg" in svg and "</svg>" in svg
