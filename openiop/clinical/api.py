"""Clinical notes API: an episode's notes, drafts saved with a version check, signing,
amendments and co-signatures.

Thin: reads go through ``openiop.clinical.selectors`` (permission, SUD-note privacy and the audit
row are there), writes through ``openiop.clinical.services`` (which audit them). A stale
``version`` is a 409 with the current version; writing to a signed note is a 409 too (the note
exists but cannot change: write an amendment). Someone else's SUD counseling note is a 404, as
if it did not exist (42 CFR 2.11, see ``selectors/notes.py``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Query, Router, Status

from openiop.accounts.permissions import Perm
from openiop.clinical.models import Note
from openiop.clinical.schemas import (
    AmendIn,
    ConflictOut,
    CosignIn,
    CosignOut,
    NoteIn,
    NoteOut,
    NotePage,
    NotePatchIn,
    SignIn,
)
from openiop.clinical.selectors.notes import (
    episode_for_notes,
    note_get,
    note_list_for_episode,
    notes_visible_to,
)
from openiop.clinical.services.cosign import cosign
from openiop.clinical.services.notes import (
    NoteConflict,
    note_amend,
    note_create_draft,
    note_save_draft,
    note_sign,
)
from openiop.core.api_auth import ERRORS, page_size, ref

router = Router()
SIGNED = "The note is signed and cannot be changed; write an amendment instead."


def _responses(ok: Any, code: int = 200) -> dict[int, Any]:
    return {code: ok, **ERRORS, 409: ConflictOut}


def note_out(note: Note) -> dict[str, Any]:
    patient = note.patient
    cosignature = getattr(note, "cosignature", None) if note.is_signed else None
    return {
        "id": str(note.public_id),
        "episode": str(note.episode.public_id),
        "patient": {"id": str(patient.public_id), "name": patient.display_name, "mrn": patient.mrn},
        "kind": note.kind,
        "format": note.format,
        "sections": dict(note.sections),
        "section_names": list(note.section_names),
        "modality": note.modality,
        "started_at": note.started_at,
        "ended_at": note.ended_at,
        "duration_minutes": note.duration_minutes,
        "psychotherapy_band": (
            note.psychotherapy_band
            if note.kind in (Note.Kind.INDIVIDUAL, Note.Kind.FAMILY)
            else None
        ),
        "status": note.status,
        "version": note.version,
        "author": ref(note.author),
        "signed_at": note.signed_at,
        "signed_by": ref(note.signed_by),
        "amends": str(note.amends.public_id) if note.amends_id else None,
        "amendment_reason": note.amendment_reason,
        "cosign_required": note.cosign_required,
        "cosignature": (
            {
                "cosigner": ref(cosignature.cosigner),
                "cosigned_at": cosignature.cosigned_at,
                "comment": cosignature.comment,
            }
            if cosignature is not None
            else None
        ),
    }


def _reload(user: Any, note: Note) -> Note:
    return (
        notes_visible_to(user)
        .select_related(
            "patient", "episode", "author", "signed_by", "amends", "cosignature__cosigner"
        )
        .get(pk=note.pk)
    )


def _conflict(detail: str, version: int | None) -> Status[dict[str, Any]]:
    return Status(409, {"detail": detail, "current_version": version})


def _write_target(request: HttpRequest, note_id: uuid.UUID) -> Note:
    return note_get(
        user=request.user, public_id=note_id, perm=Perm.NOTE_WRITE, request=request, audit=False
    )


@router.get(
    "episodes/{episode_id}/notes",
    response=_responses(NotePage),
    summary="An episode's notes, newest first, each amendment right after the note it amends",
)
def list_notes(
    request: HttpRequest,
    episode_id: uuid.UUID,
    limit: Annotated[int | None, Query(ge=1, description="Page size (capped)")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    episode = episode_for_notes(user=request.user, public_id=episode_id)
    notes = note_list_for_episode(user=request.user, episode=episode, request=request)
    size = page_size() if limit is None else min(limit, page_size())
    by_pk = {n.pk: n for n in notes}
    for note in notes:  # the selector joined author, signer, co-signature; add the rest
        note.episode = episode
        note.patient = episode.patient
        if note.amends_id is not None:
            # An amendment has its original's kind, so the user sees the original too.
            note.amends = by_pk.get(note.amends_id) or Note.objects.get(pk=note.amends_id)
    page = notes[offset : offset + size]
    items = [note_out(n) for n in page]
    return {"count": len(notes), "limit": size, "offset": offset, "items": items}


@router.post(
    "episodes/{episode_id}/notes",
    response=_responses(NoteOut, 201),
    summary="Start a note (a draft); the format defaults to the program's",
)
def create_note(
    request: HttpRequest, episode_id: uuid.UUID, payload: NoteIn
) -> Status[dict[str, Any]]:
    user = request.user
    episode = episode_for_notes(user=user, public_id=episode_id, perm=Perm.NOTE_WRITE)
    note = note_create_draft(
        actor=user,
        episode=episode,
        kind=payload.kind,
        format=payload.format,
        modality=payload.modality,
        started_at=payload.started_at,
        ended_at=payload.ended_at,
        request=request,
    )
    if payload.sections:
        note = note_save_draft(
            actor=user,
            note=note,
            sections=payload.sections,
            started_at=payload.started_at,
            ended_at=payload.ended_at,
            expected_version=note.version,
            request=request,
        )
    return Status(201, note_out(_reload(user, note)))


@router.get("notes/{note_id}", response=_responses(NoteOut), summary="Read a note")
def get_note(request: HttpRequest, note_id: uuid.UUID) -> dict[str, Any]:
    note = note_get(user=request.user, public_id=note_id, request=request)
    return note_out(note)


@router.patch(
    "notes/{note_id}",
    response=_responses(NoteOut),
    summary="Save a draft (autosave) with the version you last read",
    description="A stale `version` is a 409 whose body carries `current_version`; nothing is "
    "written. A signed note is a 409 too: write an amendment.",
)
def patch_note(request: HttpRequest, note_id: uuid.UUID, payload: NotePatchIn) -> Any:
    user = request.user
    note = _write_target(request, note_id)
    if note.is_signed:
        return _conflict(SIGNED, note.version)
    given = payload.model_fields_set
    sections = {**note.sections, **(payload.sections or {})}
    try:
        note = note_save_draft(
            actor=user,
            note=note,
            sections=sections,
            started_at=payload.started_at if "started_at" in given else note.started_at,
            ended_at=payload.ended_at if "ended_at" in given else note.ended_at,
            modality=payload.modality,
            expected_version=payload.version,
            request=request,
        )
    except NoteConflict as exc:
        return _conflict(
            "Someone else saved this note first; read it again and reapply your change.",
            exc.current_version,
        )
    except ValidationError as exc:
        if "status" in getattr(exc, "error_dict", {}):  # signed meanwhile
            return _conflict(SIGNED, None)
        raise
    return note_out(_reload(user, note))


@router.post(
    "notes/{note_id}/sign",
    response=_responses(NoteOut),
    summary="Sign the note (its author only); it can never change afterwards",
)
def sign_note(request: HttpRequest, note_id: uuid.UUID, payload: SignIn) -> Any:
    user = request.user
    note = _write_target(request, note_id)
    if note.is_signed:
        return _conflict("The note is already signed.", note.version)
    try:
        note = note_sign(actor=user, note=note, expected_version=payload.version, request=request)
    except NoteConflict as exc:
        return _conflict("Someone else saved this note first; read it again.", exc.current_version)
    return note_out(_reload(user, note))


@router.post(
    "notes/{note_id}/amendments",
    response=_responses(NoteOut, 201),
    summary="Start an amendment (a new linked draft) to a signed note",
)
def amend_note(request: HttpRequest, note_id: uuid.UUID, payload: AmendIn) -> Any:
    user = request.user
    note = _write_target(request, note_id)
    if not note.is_signed:
        return _conflict("The note is still a draft: edit it instead.", note.version)
    amendment = note_amend(
        actor=user, note=note, sections=payload.sections, reason=payload.reason, request=request
    )
    return Status(201, note_out(_reload(user, amendment)))


@router.post(
    "notes/{note_id}/cosign",
    response=_responses(CosignOut, 201),
    summary="Co-sign a signed note (the author's co-signer or a program director)",
)
def cosign_note(request: HttpRequest, note_id: uuid.UUID, payload: CosignIn) -> Any:
    user = request.user
    note = note_get(
        user=user, public_id=note_id, perm=Perm.NOTE_COSIGN, request=request, audit=False
    )
    signature = cosign(actor=user, note=note, comment=payload.comment, request=request)
    return Status(
        201,
        {
            "id": str(signature.public_id),
            "note": str(note.public_id),
            "cosigner": ref(user),
            "cosigned_at": signature.cosigned_at,
            "comment": signature.comment,
        },
    )
