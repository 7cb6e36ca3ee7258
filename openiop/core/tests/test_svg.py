"""Chart SVG without inline CSS (openiop/core/svg.py): the same drawing, as attributes.

The equivalence test resolves every element's styling the way CSS does, before (inline style >
the global ``*`` rule > presentation attribute > inherited) and after (attribute > inherited),
and compares them property by property on a figure that uses what the charts use: bars, hatches,
dashed lines, markers, text, a legend.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET

import matplotlib
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from openiop.core.svg import css_to_attributes, declarations, figure_svg

SVG_NS = "{http://www.w3.org/2000/svg}"
# Properties that are not inherited (CSS): everything else in the drawing is.
NOT_INHERITED = {"opacity", "clip-path", "clip", "mask", "filter", "display", "overflow",
                 "stop-color", "stop-opacity", "text-decoration", "vector-effect"}  # fmt: skip
INLINE_CSS = re.compile(r"<style\b|<[a-z][^>]*\sstyle\s*=", re.I)


def _raw_svg() -> str:
    fig = Figure(figsize=(4, 2), dpi=72)
    ax = fig.add_subplot(1, 1, 1)
    bars = ax.bar([0, 1, 2], [3, 5, 2], color=["#2e7d32", "#b3261e", "#1f5f8b"],
                  edgecolor="white", linewidth=0.5)  # fmt: skip
    bars[1].set_hatch("///")
    ax.axhline(4, color="#1d2733", linewidth=1.2, linestyle="--", label="limit")
    ax.plot([0, 1, 2], [1, 2, 1.5], color="#1f5f8b", lw=1.8, marker="o", alpha=0.55)
    ax.plot([1], [2], marker="o", ms=11, mfc="none", mec="#b3261e", mew=1.8)
    ax.axhspan(0, 1, color="#e3f1e4", lw=0)
    ax.text(1, 4.2, 'cut-off <4> & "more"', fontsize=7, color="#4a5561", ha="center")
    ax.set_xticks([0, 1, 2], ["Nov 2*", "Nov 9", "Nov 16"], fontsize=8, rotation=45)
    ax.legend(handles=[Patch(facecolor="#bbbbbb", hatch="///", label="pro-rated*")], fontsize=7)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "openiop", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]


def _resolved(svg: str, *, css: bool) -> list[tuple[str, dict[str, str]]]:
    """(tag, computed presentation properties) for every element, in document order."""
    root = ET.fromstring(svg)
    star: dict[str, str] = {}
    if css:
        for style in root.iter(SVG_NS + "style"):
            body = re.fullmatch(r"\s*\*\s*\{([^}]*)\}\s*", style.text or "")
            assert body is not None
            star.update(declarations(body.group(1)))
    out: list[tuple[str, dict[str, str]]] = []

    def walk(element: ET.Element, inherited: dict[str, str]) -> None:
        tag = element.tag.replace(SVG_NS, "")
        if tag == "style" or (tag == "defs" and all(c.tag == SVG_NS + "style" for c in element)):
            return  # gone after the rewrite; draws nothing either way
        attrs = {k: v for k, v in element.attrib.items() if k != "style" and "}" not in k}
        mine = {k: v for k, v in attrs.items() if k in _PROPS}
        if css:
            mine.update(star)
            mine.update(declarations(element.attrib.get("style", "")))
        computed = {**{k: v for k, v in inherited.items()}, **mine}
        out.append((tag, computed))
        passed = {k: v for k, v in computed.items() if k not in NOT_INHERITED}
        for child in element:
            walk(child, passed)

    walk(root, {})
    return out


_PROPS = {"fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "stroke-linejoin",
          "stroke-linecap", "stroke-dasharray", "stroke-dashoffset", "opacity", "clip-path",
          "font-size", "font-family", "font-weight", "font-style", "text-anchor"}  # fmt: skip


def test_rewrite_draws_the_same_as_matplotlibs_css():
    raw = _raw_svg()
    assert "<style" in raw and ' style="' in raw  # what the rewrite is for
    converted = css_to_attributes(raw)
    assert INLINE_CSS.search(converted) is None
    before, after = _resolved(raw, css=True), _resolved(converted, css=False)
    assert [t for t, _ in before] == [t for t, _ in after]
    for (tag, want), (_, got) in zip(before, after, strict=True):
        assert got == want, tag
    assert any(p.get("stroke-dasharray") for _, p in after)  # the dashed line kept its dashes
    assert any(p.get("fill", "").startswith("url(#h") for _, p in after)  # and the hatch


def test_text_is_never_rewritten_and_new_values_are_escaped():
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg"><defs><style type="text/css">'
        "*{stroke-linejoin: round; stroke-linecap: butt}</style></defs>"
        '<text style="font: italic bold 8px &quot;Odd &lt;Font&gt;&quot;, sans-serif; fill: red">'
        'a style="fill: blue" &lt;b&gt;</text></svg>'
    )
    out = css_to_attributes(svg)
    assert out == (
        '<svg xmlns="http://www.w3.org/2000/svg" stroke-linejoin="round" stroke-linecap="butt">'
        '<text font-style="italic" font-weight="bold" font-size="8px" '
        'font-family="&quot;Odd &lt;Font&gt;&quot;, sans-serif" fill="red">'
        'a style="fill: blue" &lt;b&gt;</text></svg>'
    )
    ET.fromstring(out)


def test_the_star_rule_beats_attributes_and_does_not_inherit_an_ancestors_override():
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg"><style>*{stroke-linejoin: round}</style>'
        '<g style="stroke-linejoin: miter; stroke: red"><path d="M0 0"/>'
        '<rect stroke-linejoin="bevel" width="1" height="1"/></g><path d="M1 1"/></svg>'
    )
    assert css_to_attributes(svg) == (
        '<svg xmlns="http://www.w3.org/2000/svg" stroke-linejoin="round">'
        '<g stroke-linejoin="miter" stroke="red"><path d="M0 0" stroke-linejoin="round"/>'
        '<rect stroke-linejoin="round" width="1" height="1"/></g><path d="M1 1"/></svg>'
    )


def test_inline_style_beats_an_existing_presentation_attribute():
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><rect fill="blue" style="fill: red"/></svg>'
    want = '<svg xmlns="http://www.w3.org/2000/svg"><rect fill="red"/></svg>'
    assert css_to_attributes(svg) == want


@pytest.mark.parametrize(
    "svg",
    [
        '<svg><rect style="mix-blend-mode: multiply"/></svg>',  # no attribute form
        '<svg><rect style="fill: red !important"/></svg>',
        "<svg><style>rect{fill: red}</style></svg>",  # a selector we cannot apply
        '<svg><text style="font: 8px"/></svg>',  # shorthand without a family
    ],
)
def test_css_that_has_no_faithful_attribute_form_is_an_error(svg):
    with pytest.raises(ValueError):
        css_to_attributes(svg)


def test_figure_svg_is_labelled_escaped_and_deterministic():
    def draw() -> Figure:
        fig = Figure(figsize=(2, 1), dpi=72)
        fig.add_subplot(1, 1, 1).bar([0], [1], color="#2e7d32")
        return fig

    svg = figure_svg(draw(), uid="t-chart", title='Hours <b>"now"</b>', desc="a & b")
    assert svg.startswith('<svg role="img" aria-labelledby="t-chart-title t-chart-desc" ')
    assert '<title id="t-chart-title">Hours &lt;b&gt;&quot;now&quot;&lt;/b&gt;</title>' in svg
    assert '<desc id="t-chart-desc">a &amp; b</desc>' in svg
    assert INLINE_CSS.search(svg) is None and "<?xml" not in svg
    ET.fromstring(svg)
    assert svg == figure_svg(draw(), uid="t-chart", title='Hours <b>"now"</b>', desc="a & b")


XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)> style="x"'


def _charts() -> dict[str, str]:
    from openiop.placement.charts import IntakeBar, intake_days_svg
    from openiop.questionnaires.charts import Point, change_svg, trend_svg
    from openiop.reports.charts import ProgramBar, compliance_summary_svg
    from openiop.reports.charts_hours import WeekBar, weekly_hours_svg

    d = dt.date
    weeks = [
        WeekBar(d(2026, 11, 2), 545, "met", prorated=True),
        WeekBar(d(2026, 11, 9), 300, "below", over_max=True),
        WeekBar(d(2026, 11, 16), 120, "at_risk"),
    ]
    points = [Point(d(2026, 11, 2), 13, True, "moderate"), Point(d(2026, 11, 9), 6)]
    return {
        "hours": weekly_hours_svg(weeks, min_minutes=540, max_minutes=1140),
        "summary": compliance_summary_svg([ProgramBar.of(XSS, {"met": 2, "below": 1})]),
        "intake": intake_days_svg([IntakeBar(XSS, 3.0, None), IntakeBar("Teen", 2.5, 7.0)]),
        "trend": trend_svg("phq9", points),
        "sparkline": trend_svg("phq9", points, small=True),
        "change": change_svg("phq9", [(12, 8), (10, 14), (9, 9)]),
    }


def test_every_chart_is_valid_svg_without_inline_css_and_with_user_text_escaped():
    for name, svg in _charts().items():
        assert INLINE_CSS.search(svg) is None, name
        root = ET.fromstring(svg)  # well-formed XML
        assert root.get("stroke-linejoin") == "round", name
        assert "<script" not in svg and "<img" not in svg, name
        assert 'fill="#' in svg, name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in _charts()["intake"]


@pytest.mark.parametrize("name", ["$\\alert{1}$ group", "Cost $5 to $10", "$x^$"])
def test_program_names_are_plain_text_not_mathtext(name):
    from openiop.placement.charts import IntakeBar, intake_days_svg
    from openiop.reports.charts import ProgramBar, compliance_summary_svg

    for svg in (
        intake_days_svg([IntakeBar(name, 3.0, 4.0)]),
        compliance_summary_svg([ProgramBar.of(name, {"met": 1})]),
    ):
        ET.fromstring(svg)
        assert f">{name}</text>" in svg  # drawn as typed (one <text>, not formula glyphs)
