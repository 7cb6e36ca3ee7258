"""Co-signing a signed note or group note.

A supervisee's or pre-licensed clinician's note is signed by its author and then needs a
co-signature (``cosign_required``, set by ``note_sign`` when the author has a ``cosigner``). The
co-signature is a separate append-only ``Cosignature`` row: the signed document itself is never
touched (its row refuses every UPDATE), so co-signing cannot alter what was signed.

Who may co-sign: someone with ``note.cosign`` who is the author's ``cosigner``, or a program
director of the same organization (covering for an absent supervisor). Never the author. One
co-signature per document (a one-to-one column; a race between two co-signers ends with one
row and a clear error for the other).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.permissions import Perm, Role, roles_of
from openiop.clinical.models import Cosignature, GroupNote, Note
from openiop.core.access import require_perm
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent

CAT = AuditEvent.Category.CLINICAL
COMMENT_MAX = 2000


@transaction.atomic
def cosign(
    *,
    actor: Any,
    note: Note | None = None,
    group_note: GroupNote | None = None,
    comment: str = "",
    request: HttpRequest | None = None,
) -> Cosignature:
    if (note is None) == (group_note is None):
        raise ValueError("co-sign exactly one of note or group_note")
    require_perm(actor, Perm.NOTE_COSIGN)
    document: Note | GroupNote = note if note is not None else group_note  # type: ignore[assignment]
    if getattr(actor, "organization_id", None) != document.organization_id:
        raise PermissionDenied("the document belongs to another organization")
    model = type(document)
    # Read the state again from the database: the caller's copy may be stale.
    fresh = (
        model.objects.select_related("author")
        .filter(pk=document.pk)
        .values_list("status", "cosign_required", "author_id", "author__cosigner_id")
        .get()
    )
    status, required, author_id, author_cosigner_id = fresh
    if isinstance(document, Note) and document.kind == Note.Kind.SUD_COUNSELING:
        raise PermissionDenied("SUD counseling notes are read by their author only")
    if actor.pk == author_id:
        raise PermissionDenied("the author cannot co-sign their own note")
    if actor.pk != author_cosigner_id and Role.PROGRAM_DIRECTOR not in roles_of(actor):
        raise PermissionDenied("only the author's co-signer or a program director may co-sign")
    if status != model.Status.SIGNED:
        raise ValidationError({"status": "Only a signed note can be co-signed."})
    if not required:
        raise ValidationError({"cosign": "This note does not need a co-signature."})
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError({"comment": f"Keep the comment under {COMMENT_MAX} characters."})
    field = "note" if isinstance(document, Note) else "group_note"
    if Cosignature.objects.filter(**{f"{field}_id": document.pk}).exists():
        raise ValidationError({"cosign": "This note is already co-signed."})
    try:
        with transaction.atomic():
            signature = Cosignature.objects.create(
                organization_id=document.organization_id,
                cosigner=actor,
                cosigned_at=timezone.now(),
                comment=comment,
                created_by=actor,
                updated_by=actor,
                **{field: document},
            )
    except IntegrityError:  # someone co-signed between our check and our insert
        raise ValidationError({"cosign": "This note is already co-signed."}) from None
    audit_log(
        actor=actor,
        action=f"openiop.clinical.{field}.cosign",
        category=CAT,
        obj=document,
        patient=document.patient if isinstance(document, Note) else None,
        request=request,
        detail={"cosignature": str(signature.public_id)},
    )
    return signature
