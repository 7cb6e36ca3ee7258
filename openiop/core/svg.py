"""Inline chart SVG without inline CSS, so the Content-Security-Policy needs no 'unsafe-inline'.

matplotlib's SVG backend draws with ``style="fill: #x; stroke: ..."`` attributes and one global
``<style>*{stroke-linejoin: round; stroke-linecap: butt}</style>``. A page whose policy says
``style-src 'self'`` ignores both, and the charts would lose their colours. ``css_to_attributes``
rewrites them as SVG presentation attributes (``fill="#x" stroke="..."``), which a CSP does not
govern and which draw the same:

- each ``style`` declaration becomes the attribute of the same name; it replaces an attribute the
  element already had (an inline style wins over a presentation attribute in CSS, too);
- the ``font`` shorthand is split into ``font-style``/``-variant``/``-weight``/``-size``/
  ``-family``;
- the global ``*{...}`` rule applies to every element unless the element's own style says
  otherwise. It becomes inherited attributes on the root ``<svg>``; an element whose ancestor
  overrides one of those properties gets the rule's value written on it, so inheritance cannot
  leak the ancestor's value where the ``*`` rule would have applied;
- any other property, any other ``<style>`` element, or ``!important`` raises ``ValueError``:
  dropping it could change the drawing, and failing loudly in the chart tests is better.

Only tags are rewritten, never text: matplotlib escapes ``<``, ``>`` and ``&`` in text and
attribute values, so a label typed by a user (a program name) cannot form a tag or an attribute
here. New attribute values are escaped again for a double-quoted attribute.

``figure_svg`` is the one way the chart modules turn a ``matplotlib.figure.Figure`` into inline
SVG: deterministic output (fixed hash salt, no date), no XML prolog, ``role="img"`` with an
escaped ``<title>`` and ``<desc>`` for screen readers, and no inline CSS.
"""

from __future__ import annotations

import html
import io
import re
from typing import Any

# SVG 1.1 / SVG 2 presentation attributes (properties that may be written as attributes).
PRESENTATION_ATTRIBUTES = frozenset(
    {
        "alignment-baseline", "baseline-shift", "clip", "clip-path", "clip-rule", "color",
        "color-interpolation", "color-interpolation-filters", "color-rendering", "cursor",
        "direction", "display", "dominant-baseline", "fill", "fill-opacity", "fill-rule",
        "filter", "flood-color", "flood-opacity", "font-family", "font-size", "font-size-adjust",
        "font-stretch", "font-style", "font-variant", "font-weight", "image-rendering",
        "letter-spacing", "lighting-color", "marker-end", "marker-mid", "marker-start", "mask",
        "opacity", "overflow", "paint-order", "pointer-events", "shape-rendering", "stop-color",
        "stop-opacity", "stroke", "stroke-dasharray", "stroke-dashoffset", "stroke-linecap",
        "stroke-linejoin", "stroke-miterlimit", "stroke-opacity", "stroke-width", "text-anchor",
        "text-decoration", "text-rendering", "unicode-bidi", "vector-effect", "visibility",
        "word-spacing", "writing-mode",
    }
)  # fmt: skip

# A start tag, an end tag, or anything else up to the next "<" (text, comments, declarations).
_TOKEN = re.compile(r"<(/?)([A-Za-z][\w:.-]*)((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)"
                    r"\s*(/?)>")  # fmt: skip
_ATTR = re.compile(r"\s+([^\s=/>]+)\s*=\s*(\"[^\"]*\"|'[^']*')")
_STYLE_ELEMENT = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.S | re.I)
_STAR_RULE = re.compile(r"\s*\*\s*\{([^{}]*)\}\s*")
_EMPTY_DEFS = re.compile(r"\s*<defs>\s*</defs>")
_FONT_SIZE = re.compile(r"^(?:\d+(?:\.\d+)?|\.\d+)(?:px|pt|pc|em|ex|rem|%|mm|cm|in)?(?:/.+)?$|^"
                        r"(?:xx-small|x-small|small|medium|large|x-large|xx-large|larger|"
                        r"smaller)(?:/.+)?$")  # fmt: skip
_FONT_WEIGHTS = {"bold", "bolder", "lighter"} | {str(n) for n in range(100, 1000, 100)}
_FONT_STYLES = {"italic", "oblique"}
_FONT_VARIANTS = {"small-caps"}


def _escape_attribute(value: str) -> str:
    """Escape for a double-quoted attribute (``'`` stays readable, e.g. in font names)."""
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts, current, quote, depth = [], [], "", 0
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def _font_shorthand(value: str) -> list[tuple[str, str]]:
    """``font: [style] [variant] [weight] size[/line-height] family`` as separate properties."""
    words = value.split()
    out: list[tuple[str, str]] = []
    for i, word in enumerate(words):
        if _FONT_SIZE.match(word):
            out.append(("font-size", word.split("/", 1)[0]))
            family = " ".join(words[i + 1 :])
            if not family:
                break
            out.append(("font-family", family))
            return out
        if word in _FONT_STYLES:
            out.append(("font-style", word))
        elif word in _FONT_VARIANTS:
            out.append(("font-variant", word))
        elif word in _FONT_WEIGHTS:
            out.append(("font-weight", word))
        elif word != "normal":
            break
    raise ValueError(f"cannot read the font shorthand {value!r}")


def declarations(css: str) -> list[tuple[str, str]]:
    """``"fill: #fff; font: 8px 'DejaVu Sans'"`` -> ``[("fill", "#fff"), ("font-size", ...)]``.

    Raises ``ValueError`` for a property that has no presentation attribute, or ``!important``.
    """
    out: list[tuple[str, str]] = []
    for chunk in _split_outside_quotes(css, ";"):
        if not chunk.strip():
            continue
        name, colon, value = chunk.partition(":")
        name, value = name.strip().lower(), value.strip()
        if not colon or not name or not value:
            raise ValueError(f"cannot read the CSS declaration {chunk.strip()!r}")
        if "!important" in value.lower():
            raise ValueError(f"!important has no attribute form: {chunk.strip()!r}")
        if name == "font":
            out.extend(_font_shorthand(value))
        elif name in PRESENTATION_ATTRIBUTES:
            out.append((name, value))
        else:
            raise ValueError(f"{name!r} is not an SVG presentation attribute")
    return out


def _global_rule(svg: str) -> tuple[str, dict[str, str]]:
    """Remove the ``<style>*{...}</style>`` element(s); return the SVG and the rule's properties."""
    rule: dict[str, str] = {}

    def take(match: re.Match[str]) -> str:
        body = html.unescape(match.group(1))
        star = _STAR_RULE.fullmatch(body)
        if star is None:
            raise ValueError(f"only a '*{{...}}' style element can be rewritten: {body[:80]!r}")
        rule.update(declarations(star.group(1)))
        return ""

    return _STYLE_ELEMENT.sub(take, svg), rule


def css_to_attributes(svg: str) -> str:
    """The same drawing with every ``style`` attribute and ``<style>`` element as attributes."""
    svg, rule = _global_rule(svg)
    # One entry per open element: the rule properties it (or an ancestor) set to another value.
    stack: list[tuple[str, frozenset[str]]] = []
    seen_root = False

    def rewrite(match: re.Match[str]) -> str:
        nonlocal seen_root
        closing, name, attrs_text, self_closing = match.groups()
        if closing:
            while stack:
                if stack.pop()[0] == name:
                    break
            return match.group(0)
        attrs: dict[str, str] = {}  # name -> escaped value (as it stands between the quotes)
        for attr, quoted in _ATTR.findall(attrs_text):
            attrs[attr] = _escape_attribute(html.unescape(quoted[1:-1]))
        style = attrs.pop("style", None)
        changed = style is not None
        for prop in rule.keys() & attrs.keys():
            # The * rule beat a presentation attribute (any CSS rule does): keep its value.
            attrs[prop] = _escape_attribute(rule[prop])
            changed = True
        if style is not None:
            for prop, value in declarations(html.unescape(style)):
                attrs[prop] = _escape_attribute(value)
        inherited_override = stack[-1][1] if stack else frozenset()
        if not seen_root and name.lower() == "svg":
            seen_root = True
            for prop, value in rule.items():
                attrs.setdefault(prop, _escape_attribute(value))
            changed = changed or bool(rule)
        else:
            # The * rule reached this element directly; an ancestor's value must not leak in.
            for prop in inherited_override:
                if prop not in attrs:
                    attrs[prop] = _escape_attribute(rule[prop])
                    changed = True
        overrides = frozenset(
            p for p, v in rule.items() if p in attrs and attrs[p] != _escape_attribute(v)
        )
        if not self_closing:
            stack.append((name, overrides))
        if not changed:
            return match.group(0)
        rendered = "".join(f' {k}="{v}"' for k, v in attrs.items())
        return f"<{name}{rendered}{'/' if self_closing else ''}>"

    out = _TOKEN.sub(rewrite, svg)
    out = _EMPTY_DEFS.sub("", out)
    if re.search(r"<[A-Za-z][^>]*\sstyle\s*=|<style\b", out, re.I):
        raise ValueError("a tag this module cannot read still carries a style")
    return out


def figure_svg(fig: Any, *, uid: str, title: str, desc: str) -> str:
    """``fig`` as inline ``<svg>``: no prolog, no inline CSS, labelled for screen readers.

    ``<title id="{uid}-title">`` and ``<desc id="{uid}-desc">`` hold ``title`` and ``desc``
    (escaped). Equal figures give byte-equal SVG.
    """
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "openiop", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    svg = css_to_attributes(svg[svg.index("<svg") :])
    uid = html.escape(uid)
    head_end = svg.index(">") + 1
    opening = svg[:head_end].replace(
        "<svg ", f'<svg role="img" aria-labelledby="{uid}-title {uid}-desc" ', 1
    )
    accessible = (
        f'<title id="{uid}-title">{html.escape(title)}</title>'
        f'<desc id="{uid}-desc">{html.escape(desc)}</desc>'
    )
    return opening + accessible + svg[head_end:]
