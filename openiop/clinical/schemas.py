"""Request and response shapes of the clinical notes API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import AfterValidator, Field, StrictInt

from openiop.clinical.models import Note
from openiop.core.api_auth import In, Moment, Ref, choices
from openiop.enrollment.schemas import PatientRef

Kind = choices([k for k in Note.Kind.values if k != Note.Kind.GROUP_INDIVIDUALIZED])
Format = choices(["DAP", "BIRP", "SOAP"])
Modality = choices(Note.Modality.values)


def _sections(value: dict[str, str]) -> dict[str, str]:
    # In's own NUL check sees only top-level strings, not the values of a mapping.
    for name, text in value.items():
        if "\x00" in name or "\x00" in text:
            raise ValueError("must not contain NUL characters")
        if len(text) > 20000:
            raise ValueError(f"section {name} is longer than 20000 characters")
    return value


Sections = Annotated[dict[str, str], AfterValidator(_sections)]


class CosignatureOut(Schema):
    cosigner: Ref
    cosigned_at: dt.datetime
    comment: str


class NoteOut(Schema):
    id: str
    episode: str
    patient: PatientRef
    kind: str
    format: str
    sections: dict[str, str]
    section_names: list[str]
    modality: str
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration_minutes: int | None
    psychotherapy_band: str | None = Field(
        description="CPT psychotherapy time band (16-37, 38-52, 53+) for individual and family "
        "notes; null otherwise or under 16 minutes."
    )
    status: str
    version: int
    author: Ref
    signed_at: dt.datetime | None
    signed_by: Ref | None
    amends: str | None
    amendment_reason: str
    cosign_required: bool
    cosignature: CosignatureOut | None


class NotePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[NoteOut]


class NoteIn(In):
    """A new draft. ``format`` defaults to the program's; ``sections`` may be given at once."""

    kind: Kind = "individual"  # type: ignore[valid-type]
    format: Format | None = None  # type: ignore[valid-type]
    modality: Modality = "in_person"  # type: ignore[valid-type]
    started_at: Moment | None = None
    ended_at: Moment | None = None
    sections: Sections | None = None


class NotePatchIn(In):
    """Save the draft. ``version`` is the version you last read; a stale one is a 409 that
    carries the current version, and nothing is written. Sections given replace those
    sections; omitted fields keep their saved value (send ``null`` to clear a time)."""

    version: StrictInt = Field(ge=1)
    sections: Sections | None = None
    modality: Modality | None = None  # type: ignore[valid-type]
    started_at: Moment | None = None
    ended_at: Moment | None = None


class SignIn(In):
    version: StrictInt = Field(ge=1)


class AmendIn(In):
    reason: str = Field(min_length=1, max_length=1000)
    sections: Sections = Field(default_factory=dict)


class CosignIn(In):
    comment: str = Field(default="", max_length=2000)


class CosignOut(Schema):
    id: str
    note: str
    cosigner: Ref
    cosigned_at: dt.datetime
    comment: str


class ConflictOut(Schema):
    detail: str
    current_version: int | None = None
