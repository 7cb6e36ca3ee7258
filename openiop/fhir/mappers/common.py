"""What every mapper shares: the context, references, ``meta`` with Part 2 security labels,
and date/time formatting."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

# HL7 v3 security labels for 42 CFR Part 2 (docs/fhir.md, ecosystem.md section 2). Everything the
# program creates is Part 2 data: restricted confidentiality, the 42CFRPart2 policy, substance-use
# sensitivity (SUD, plus the older ETH for consumers that only know that code), and "no
# redisclosure without consent".
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

PART2_LABELS: tuple[dict[str, str], ...] = (
    {"system": CONFIDENTIALITY, "code": "R", "display": "restricted"},
    {"system": ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"},
    {
        "system": ACT_CODE,
        "code": "SUD",
        "display": "substance use disorder information sensitivity",
    },
    {"system": ACT_CODE, "code": "ETH", "display": "substance abuse information sensitivity"},
    {
        "system": ACT_CODE,
        "code": "NORDSCLCD",
        "display": "no redisclosure without consent directive",
    },
)

# Identifier systems. A patient's MRN is unique within an organization, so the system names it.
OPENIOP_ID_SYSTEM = "urn:openiop:id"  # public UUIDs, for every resource


def mrn_system(organization_public_id: Any) -> str:
    return f"urn:openiop:org:{organization_public_id}:mrn"


@dataclass(frozen=True)
class MapContext:
    """How a mapper renders: ``base`` is the absolute FHIR base URL (no trailing slash), used
    only for ``fullUrl``; references inside resources are relative (``Patient/<id>``)."""

    base: str = "http://testserver/fhir/r4"


def ref(resource_type: str, public_id: Any, display: str | None = None) -> dict[str, str]:
    out = {"reference": f"{resource_type}/{public_id}"}
    if display:
        out["display"] = display
    return out


def instant(value: dt.datetime) -> str:
    """An aware datetime as a FHIR instant (UTC, seconds, ``Z``)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a FHIR mapper")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fhir_date(value: dt.date) -> str:
    return value.isoformat()


def version_id(updated_at: dt.datetime | None) -> str:
    """A version id that changes whenever the row changes: derived from ``updated_at``
    (microseconds since the epoch). Used for ``meta.versionId`` and the ETag."""
    if updated_at is None:
        return "1"
    return str(int(updated_at.timestamp() * 1_000_000))


def meta(row: Any, *, labels: bool = True) -> dict[str, Any]:
    """``meta`` for a row with ``updated_at``: versionId, lastUpdated, and the Part 2 labels."""
    updated = getattr(row, "updated_at", None)
    out: dict[str, Any] = {"versionId": version_id(updated)}
    if updated is not None:
        out["lastUpdated"] = instant(updated)
    if labels:
        out["security"] = [dict(c) for c in PART2_LABELS]
    return out


def etag(resource: dict[str, Any]) -> str:
    return f'W/"{resource.get("meta", {}).get("versionId", "1")}"'


def narrative(text: str) -> dict[str, str]:
    """A generated narrative (US Core asks for one on some resources). ``text`` is escaped."""
    from django.utils.html import escape

    return {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{escape(text)}</div>',
    }


def stable_hash(*parts: Any) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:16]
