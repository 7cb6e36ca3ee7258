"""Checks shared by the security tests: a fingerprint of the database (T2: "the DB is unchanged"),
XSS payloads and a scanner for them in HTML (T6), and the CSP header."""

from __future__ import annotations

import hashlib
import re
import zlib
from html.parser import HTMLParser
from typing import Any

from django.apps import apps

# Rows that legitimately change on every request: the audit log (denied accesses are audited),
# API tokens (last use), sessions and lockout bookkeeping are not domain data.
_NOT_FINGERPRINTED = {
    "core.auditevent",
    "core.audithead",
    "accounts.apitoken",
    "sessions.session",
    "admin.logentry",
}
_APP_PREFIXES = ("openiop.", "django.contrib.auth")


def _fingerprinted_models() -> list[Any]:
    models = []
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label_lower
        if label in _NOT_FINGERPRINTED:
            continue
        module = model._meta.app_config.module.__name__
        if module.startswith(_APP_PREFIXES) or module == "django.contrib.auth":
            models.append(model)
    return models


def db_fingerprint() -> dict[str, tuple[int, str]]:
    """Per table: (row count, SHA-256 over every row in primary-key order)."""
    out = {}
    for model in _fingerprinted_models():
        rows = list(model._base_manager.order_by("pk").values_list())
        digest = hashlib.sha256(repr(rows).encode()).hexdigest()
        out[model._meta.db_table] = (len(rows), digest)
    return out


def fingerprint_diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))


# --- XSS ----------------------------------------------------------------------------------------

# Stored-XSS payloads (security.md T6): HTML, attribute break-outs, URL schemes, SVG, JS string
# break-outs, template injection, and a matplotlib mathtext trap (``$...$``) for chart labels.
PAYLOADS: tuple[str, ...] = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><img src=x onerror=alert(2)>",
    "javascript:alert(3)",
    "<svg onload=alert(4)>",
    "<svg><script>alert(5)</script></svg>",
    "'-alert(6)-'",
    '";alert(7);//',
    "</textarea><script>alert(8)</script>",
    "</title><script>alert(9)</script>",
    "</script><script>alert(10)</script>",
    '" autofocus onfocus="alert(11)',
    "' autofocus onfocus='alert(12)",
    "<iframe src=javascript:alert(13)>",
    "<a href=javascript:alert(14)>x</a>",
    "<body onload=alert(15)>",
    "<details open ontoggle=alert(16)>",
    "<math><mtext><img src=x onerror=alert(17)>",
    "<style>@import'//evil.example'</style>",
    "<object data=javascript:alert(18)>",
    "<base href=//evil.example/>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(19)">',
    "{{91823|add:1}}",
    "{{7*7}}${7*7}",
    "{% debug %}",
    "$\\alert{20}$ $x^$",
    "&lt;script&gt;alert(21)&lt;/script&gt;",
    "%3Cscript%3Ealert(22)%3C/script%3E",
    "<img src=x onerror=&#97;lert(23)>",
    "\u202e<script>alert(24)</script>\u0000",
)
# Raw presence of these is itself the bug (Django escapes < > " ' &).
_RAW_MARKERS = ("<", ">", '"')
# Template injection: evaluated text would show these numbers.
_TEMPLATE_EVALUATED = ("91824",)
# Text that is already entity-encoded must come out double-encoded (``&amp;lt;``); seeing it as
# stored means the field was output without escaping.
_UNESCAPED_LITERALS = ("&lt;script&gt;alert(21)",)
_HANDLER_CALL = re.compile(r"(alert|confirm|prompt)\s*\(|&#97;lert", re.I)
_URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcdoc"}
_FORBIDDEN_TAGS = {"iframe", "object", "embed", "base", "frame", "frameset"}


def payload_text(world: int) -> Any:
    """``text(key, limit)`` for the XSS worlds. A field without a length limit gets every
    payload (rotated by ``world``); a limited field gets as many whole payloads as fit, starting
    at a place that depends on the field and the world, so across worlds each field sees many."""
    n = len(PAYLOADS)

    def text(key: str, limit: int | None = None) -> str:
        if limit is None:
            order = [storable(PAYLOADS[(world + i) % n]) for i in range(n)]
            return " ".join(order)
        start = (zlib.crc32(key.encode()) + world * 7) % n
        chosen: list[str] = []
        for i in range(n):
            candidate = storable(PAYLOADS[(start + i) % n])
            if len(" ".join([*chosen, candidate])) <= limit:
                chosen.append(candidate)
        return " ".join(chosen) or storable(PAYLOADS[start])[:limit]

    return text


def storable(payload: str) -> str:
    """PostgreSQL cannot store NUL; the API and forms refuse it. Store what they would keep."""
    return payload.replace("\x00", "")


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []
        self._script: list[str] | None = None
        self._script_is_data = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _FORBIDDEN_TAGS:
            self.findings.append(f"<{tag}> element")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") and _HANDLER_CALL.search(value):
                self.findings.append(f"<{tag} {name}={value!r}>")
            if name in _URL_ATTRS:
                scheme = re.sub(r"[\s\x00-\x1f]", "", value).lower()
                if scheme.startswith(("javascript:", "data:text/html", "vbscript:")):
                    self.findings.append(f"<{tag} {name}={value!r}>")
            if name == "http-equiv" and value.lower() == "refresh":
                self.findings.append(f"<{tag} http-equiv=refresh>")
        if tag == "script":
            kind = dict(attrs).get("type") or ""
            self._script_is_data = kind in ("application/json", "application/ld+json")
            self._script = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self._script = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            text = "".join(self._script)
            if not self._script_is_data and _HANDLER_CALL.search(text):
                self.findings.append(f"<script> running {text[:80]!r}")
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)


def xss_findings(body: str, payloads: tuple[str, ...] = PAYLOADS) -> list[str]:
    """What in ``body`` would run or redirect if a browser loaded it, plus any payload that
    came through unescaped."""
    findings = []
    for payload in payloads:
        payload = storable(payload)
        if any(m in payload for m in _RAW_MARKERS) and payload in body:
            findings.append(f"raw payload {payload!r}")
    for marker in _TEMPLATE_EVALUATED:
        if marker in body:
            findings.append(f"template evaluated user text ({marker})")
    for literal in _UNESCAPED_LITERALS:
        if literal in body:
            findings.append(f"entity-encoded text output unescaped ({literal!r})")
    scanner = _Scanner()
    scanner.feed(body)
    scanner.close()
    return findings + scanner.findings


# --- CSP ----------------------------------------------------------------------------------------


def csp_policy(response: Any) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy", "")
    policy: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split() or [""]
        if name:
            policy[name.lower()] = values
    return policy


def csp_problems(response: Any) -> list[str]:
    policy = csp_policy(response)
    if not policy:
        return ["no Content-Security-Policy header"]
    scripts = policy.get("script-src", policy.get("default-src"))
    if scripts is None:
        return ["no script-src or default-src"]
    bad = [v for v in scripts if v.strip("'") in ("unsafe-inline", "unsafe-eval", "*")]
    return [f"script-src allows {v}" for v in bad]
