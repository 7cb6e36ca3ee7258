"""Clinical note writes: create a draft, autosave it, sign it, amend a signed note.

Every write runs in one transaction with its audit row. Concurrent edits are caught with the
``version`` column (``UPDATE ... WHERE id = ? AND version = ?``; a row count of 0 means someone
else saved first), so nothing is ever silently overwritten (DESIGN.md §4, security.md §2.4).
Audit rows use the CLINICAL category and never carry note text.

SUD counseling notes (kind ``sud_counseling``, 42 CFR 2.11) are written only by staff with
``sud_note.write`` and, once written, are touched by nobody but their author: the 2024 Part 2
rule keeps them apart from the rest of the record (they need their own consent to be disclosed,
42 CFR 2.31), so even a program director cannot edit, sign or amend another person's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.permissions import Perm
from openiop.clinical.models import SECTIONS, Note, NoteFormat
from openiop.core.access import require_perm
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.scheduling.models import Session

CAT = AuditEvent.Category.CLINICAL


class NoteConflict(ValidationError):
    """Someone else saved the note first.

    The rejected text travels with the error (``sections``, ``started_at``, ``ended_at``) so the
    caller can show it again as the user's draft next to the current version; nothing of it was
    written.
    """

    def __init__(
        self,
        *,
        current_version: int,
        sections: dict[str, str] | None = None,
        started_at: dt.datetime | None = None,
        ended_at: dt.datetime | None = None,
    ) -> None:
        super().__init__(
            {"version": "Someone else saved this note first; your text was kept as a draft."}
        )
        self.current_version = current_version
        self.sections = dict(sections or {})
        self.started_at = started_at
        self.ended_at = ended_at


def _check_same_org(actor: Any, organization_id: int) -> None:
    if getattr(actor, "organization_id", None) != organization_id:
        raise PermissionDenied("the note belongs to another organization")


def _check_writer(actor: Any, note: Note) -> None:
    """Same organization, ``note.write``, and for an SUD counseling note: its author only."""
    _check_same_org(actor, note.organization_id)
    require_perm(actor, Perm.NOTE_WRITE)
    if note.kind == Note.Kind.SUD_COUNSELING and getattr(actor, "pk", None) != note.author_id:
        raise PermissionDenied("only its author may touch an SUD counseling note")


def _clean_sections(fmt: str, sections: Any) -> dict[str, str]:
    if not isinstance(sections, dict):
        raise ValidationError({"sections": "Sections must be a mapping of name to text."})
    allowed = SECTIONS[fmt]
    unknown = sorted(str(name) for name in sections if name not in allowed)
    if unknown:
        raise ValidationError(
            {
                "sections": f"A {fmt} note has no section {', '.join(unknown)}; "
                f"its sections are {', '.join(allowed)}."
            }
        )
    bad = sorted(name for name, text in sections.items() if not isinstance(text, str))
    if bad:
        raise ValidationError({"sections": f"Section {', '.join(bad)} must be text."})
    return {name: sections[name] for name in allowed if name in sections}


def _check_times(started_at: dt.datetime | None, ended_at: dt.datetime | None) -> None:
    for name, value in (("started_at", started_at), ("ended_at", ended_at)):
        if value is not None and timezone.is_naive(value):
            raise ValidationError({name: "The time must include a time zone."})
    if started_at is not None and ended_at is not None and ended_at <= started_at:
        raise ValidationError({"ended_at": "The end must be after the start."})


def _update_versioned(note: Note, expected_version: int, **fields: Any) -> None:
    """Write ``fields`` only if the note is still a draft at ``expected_version``."""
    updated = Note.objects.filter(
        pk=note.pk, version=expected_version, status=Note.Status.DRAFT
    ).update(**fields, updated_at=timezone.now(), version=F("version") + 1)
    if updated != 1:
        current = Note.objects.filter(pk=note.pk).values_list("version", "status").first()
        if current is not None and current[1] == Note.Status.SIGNED:
            raise ValidationError({"status": "The note is signed; write an amendment instead."})
        raise NoteConflict(
            current_version=current[0] if current else expected_version,
            sections=fields.get("sections"),
            started_at=fields.get("started_at"),
            ended_at=fields.get("ended_at"),
        )
    note.refresh_from_db()


@transaction.atomic
def note_create_draft(
    *,
    actor: Any,
    episode: Episode,
    kind: str,
    format: str | None = None,
    session: Session | None = None,
    modality: str = Note.Modality.IN_PERSON,
    started_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Note:
    """A new draft. ``format`` defaults to the program's choice (``Program.note_format``); the
    individualized part of a group note is always GRP. An SUD counseling note needs
    ``sud_note.write``."""
    _check_same_org(actor, episode.organization_id)
    require_perm(actor, Perm.NOTE_WRITE)
    if kind not in Note.Kind.values:
        raise ValidationError({"kind": f"Unknown note kind {kind!r}."})
    if kind == Note.Kind.SUD_COUNSELING:
        require_perm(actor, Perm.SUD_NOTE_WRITE)
    if format is None or format == "":
        if kind == Note.Kind.GROUP_INDIVIDUALIZED:
            format = NoteFormat.GROUP
        else:
            format = episode.program.note_format or NoteFormat.DAP
    if format not in SECTIONS:
        raise ValidationError({"format": f"Unknown note format {format!r}; use DAP, BIRP or SOAP."})
    if (kind == Note.Kind.GROUP_INDIVIDUALIZED) != (format == NoteFormat.GROUP):
        allowed = "GRP" if kind == Note.Kind.GROUP_INDIVIDUALIZED else "DAP, BIRP or SOAP"
        raise ValidationError({"format": f"A {kind} note is written in {allowed}."})
    _check_times(started_at, ended_at)
    if modality not in Note.Modality.values:
        raise ValidationError({"modality": f"Unknown modality {modality!r}."})
    if session is not None and (
        session.organization_id != episode.organization_id
        or session.program_id != episode.program_id
    ):
        raise ValidationError({"session": "The session is not in this episode's program."})
    note = Note.objects.create(
        organization_id=episode.organization_id,
        episode=episode,
        patient_id=episode.patient_id,
        session=session,
        kind=kind,
        format=format,
        modality=modality,
        started_at=started_at,
        ended_at=ended_at,
        author=actor,
        created_by=actor,
        updated_by=actor,
    )
    audit_log(
        actor=actor,
        action="openiop.clinical.note.create",
        category=CAT,
        obj=note,
        patient=episode.patient,
        request=request,
        detail={"kind": kind, "format": format, "modality": modality},
    )
    return note


@transaction.atomic
def note_save_draft(
    *,
    actor: Any,
    note: Note,
    sections: dict[str, str],
    started_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
    modality: str | None = None,
    expected_version: int,
    request: HttpRequest | None = None,
) -> Note:
    """Autosave: replace the draft's sections and times (and modality, when given) if nobody
    saved since ``expected_version``.

    A stale version raises ``NoteConflict`` carrying the rejected text; a signed note is refused.
    """
    _check_writer(actor, note)
    if note.is_signed:
        raise ValidationError({"status": "The note is signed; write an amendment instead."})
    clean = _clean_sections(note.format, sections)
    _check_times(started_at, ended_at)
    fields: dict[str, Any] = {}
    if modality is not None:
        if modality not in Note.Modality.values:
            raise ValidationError({"modality": f"Unknown modality {modality!r}."})
        fields["modality"] = modality
    _update_versioned(
        note,
        expected_version,
        sections=clean,
        started_at=started_at,
        ended_at=ended_at,
        updated_by=actor,
        **fields,
    )
    audit_log(
        actor=actor,
        action="openiop.clinical.note.save",
        category=CAT,
        obj=note,
        patient=note.patient,
        request=request,
        detail={"version": note.version, "sections": sorted(clean)},
    )
    return note


@transaction.atomic
def note_sign(
    *, actor: Any, note: Note, expected_version: int, request: HttpRequest | None = None
) -> Note:
    """Lock the note. Only its author signs, and only a complete note.

    An original note needs every section of its format; an amendment needs at least one, since
    it holds only what it adds or corrects. Individual, family, medication and SUD counseling
    notes need their start and end time (the psychotherapy duration band and billing come from
    them) and a modality.

    When the author has a ``cosigner`` (a supervisee or pre-licensed clinician), the note is
    marked ``cosign_required`` in the same UPDATE that signs it: after that the row can never
    change (the triggers refuse it), so the flag could not be set later. The co-signature itself
    is a separate ``Cosignature`` row (``services.cosign``). SUD counseling notes are the
    exception: nobody but the author may read one (42 CFR 2.11), so nobody could co-sign it.
    """
    _check_writer(actor, note)
    if note.is_signed:
        raise ValidationError({"status": "The note is already signed."})
    if getattr(actor, "pk", None) is None or actor.pk != note.author_id:
        raise PermissionDenied("only the note's author can sign it")
    filled = [name for name in note.section_names if (note.sections.get(name) or "").strip()]
    empty = [name for name in note.section_names if name not in filled]
    errors: dict[str, str] = {}
    if note.amends_id is None and empty:
        errors["sections"] = f"Complete every section before signing; empty: {', '.join(empty)}."
    elif note.amends_id is not None and not filled:
        errors["sections"] = "An amendment needs text in at least one section."
    if note.started_at is None or note.ended_at is None:
        errors["started_at"] = "Enter the start and end time before signing."
    elif note.ended_at <= note.started_at:
        errors["ended_at"] = "The end must be after the start."
    if note.modality not in Note.Modality.values:
        errors["modality"] = "Choose the modality: in person, video or audio only."
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    cosign = bool(actor.cosigner_id) and note.kind != Note.Kind.SUD_COUNSELING
    _update_versioned(
        note,
        expected_version,
        status=Note.Status.SIGNED,
        signed_at=now,
        signed_by=actor,
        updated_by=actor,
        cosign_required=cosign,
    )
    audit_log(
        actor=actor,
        action="openiop.clinical.note.sign",
        category=CAT,
        obj=note,
        patient=note.patient,
        request=request,
        detail={
            "version": note.version,
            "amends": str(note.amends.public_id) if note.amends else "",
            "cosign_required": cosign,
        },
    )
    return note


@transaction.atomic
def note_amend(
    *,
    actor: Any,
    note: Note,
    sections: dict[str, str],
    reason: str,
    request: HttpRequest | None = None,
) -> Note:
    """Start an amendment (addendum) to a signed note; the original is not touched.

    The amendment is a new draft linked through ``amends`` that copies the original's kind,
    format, session, modality and times; its author signs it later with ``note_sign``.
    """
    _check_writer(actor, note)
    if not note.is_signed:
        raise ValidationError({"amends": "Only a signed note is amended; edit the draft instead."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for the amendment."})
    clean = _clean_sections(note.format, sections)
    amendment = Note.objects.create(
        organization_id=note.organization_id,
        episode_id=note.episode_id,
        patient_id=note.patient_id,
        session_id=note.session_id,
        kind=note.kind,
        format=note.format,
        modality=note.modality,
        started_at=note.started_at,
        ended_at=note.ended_at,
        sections=clean,
        author=actor,
        amends=note,
        amendment_reason=reason,
        created_by=actor,
        updated_by=actor,
    )
    audit_log(
        actor=actor,
        action="openiop.clinical.note.amend",
        category=CAT,
        obj=amendment,
        patient=note.patient,
        request=request,
        detail={"amends": str(note.public_id), "sections": sorted(clean)},
    )
    return amendment
