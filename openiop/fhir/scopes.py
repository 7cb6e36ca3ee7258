"""SMART App Launch scopes, parsed and checked (pure; no Django).

Both syntaxes are accepted: v2 (``patient/Observation.rs``, ``system/*.cruds``) and v1
(``user/Patient.read``, ``system/*.write``, ``user/*.*``). A scope grants interactions on one
resource type (or ``*``) in one context: ``patient``, ``user`` or ``system``. Query
restrictions (``?category=...``) are refused rather than half-honoured.

``c`` create, ``r`` read, ``u`` update, ``d`` delete, ``s`` search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONTEXTS = ("patient", "user", "system")
_V2 = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(c?r?u?d?s?)$")
_V1 = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(read|write|\*)$")
_V1_MAP = {"read": "rs", "write": "cud", "*": "cruds"}


class ScopeError(ValueError):
    pass


@dataclass(frozen=True)
class Scope:
    context: str
    resource: str  # a resource type or "*"
    interactions: frozenset[str]

    def __str__(self) -> str:
        letters = "".join(c for c in "cruds" if c in self.interactions)
        return f"{self.context}/{self.resource}.{letters}"


def parse(text: str) -> tuple[Scope, ...]:
    """Parse a space-separated scope string; non-resource scopes (openid, launch ...) are
    ignored. Raises ``ScopeError`` naming the first malformed scope."""
    out: list[Scope] = []
    for raw in text.split():
        if "/" not in raw:
            continue  # openid, fhirUser, launch, offline_access ...
        if "?" in raw:
            raise ScopeError(f"scope {raw!r}: query restrictions are not supported")
        m = _V2.match(raw)
        if m and m.group(3):
            out.append(Scope(m.group(1), m.group(2), frozenset(m.group(3))))
            continue
        m = _V1.match(raw)
        if m:
            out.append(Scope(m.group(1), m.group(2), frozenset(_V1_MAP[m.group(3)])))
            continue
        raise ScopeError(f"scope {raw!r} is not a SMART scope (e.g. 'user/Patient.rs')")
    return tuple(out)


def allows(scopes: tuple[Scope, ...], context: str, resource: str, interaction: str) -> bool:
    """Does any scope of ``context`` grant ``interaction`` on ``resource``?"""
    if interaction not in "cruds" or len(interaction) != 1:
        raise ValueError(f"unknown interaction {interaction!r}")
    return any(
        s.context == context and s.resource in ("*", resource) and interaction in s.interactions
        for s in scopes
    )


def granted_types(scopes: tuple[Scope, ...], context: str, interaction: str) -> set[str] | None:
    """The resource types granted ``interaction`` (None: every type, through ``*``)."""
    types: set[str] = set()
    for s in scopes:
        if s.context == context and interaction in s.interactions:
            if s.resource == "*":
                return None
            types.add(s.resource)
    return types
