"""The dashboard chart is pure: no database."""

from __future__ import annotations

from openiop.reports.charts import ProgramBar, compliance_summary_svg, describe


def test_chart_is_inline_svg_with_title_and_description():
    svg = compliance_summary_svg(
        [ProgramBar.of("Adult IOP", {"met": 4, "at_risk": 2}), ProgramBar.of("Teen IOP", {})],
        title="Status <this week>",
    )
    assert svg.startswith('<svg role="img"') and svg.rstrip().endswith("</svg>")
    assert '<title id="summary-chart-title">Status &lt;this week&gt;</title>' in svg
    assert "Adult IOP: 4 met, 2 at risk; Teen IOP: no patients." in svg
    assert "<?xml" not in svg


def test_equal_data_gives_byte_equal_svg():
    bars = [ProgramBar.of("Adult IOP", {"on_track": 3, "below": 1})]
    assert compliance_summary_svg(bars) == compliance_summary_svg(list(bars))
    assert compliance_summary_svg(bars) != compliance_summary_svg(
        [ProgramBar.of("Adult IOP", {"on_track": 2, "below": 2})]
    )


def test_describe_without_programs():
    assert describe([]) == "No active programs."
    assert ProgramBar.of("X", {"met": 2, "exempt": 1, "unknown": 9}).total == 3
