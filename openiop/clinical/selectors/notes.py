"""Clinical note reads, fetched with permission in one call and audited.

There is no note permission in ``accounts.permissions`` yet; ``ASSESSMENT_RECORD`` (intake,
counselor, prescriber, program director, admin) stands in for it so that front desk and billing
cannot read notes.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from openiop.accounts.permissions import Perm
from openiop.clinical.models import Note
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode

NOTE_VIEW = Perm.ASSESSMENT_RECORD


def note_get(*, user: Any, public_id: Any, request: HttpRequest | None = None) -> Note:
    """One note, or 404 for another organization's or an unknown id; the read is audited."""
    qs = Note.objects.select_related("patient", "author", "signed_by", "amends")
    note = get_for_user_or_404(qs, user, public_id, NOTE_VIEW)
    audit_log(
        actor=user,
        action="openiop.clinical.note.view",
        category=AuditEvent.Category.EPISODE,
        obj=note,
        patient=note.patient,
        request=request,
    )
    return note


def note_list_for_episode(
    *, user: Any, episode: Episode, request: HttpRequest | None = None
) -> list[Note]:
    """The episode's notes, oldest first, each amendment listed after the note it amends."""
    require_perm(user, NOTE_VIEW)
    notes = list(
        Note.objects.for_org(user.organization_id)
        .filter(episode=episode)
        .select_related("author", "signed_by")
        .order_by("created_at", "id")
    )
    if notes:
        audit_log(
            actor=user,
            action="openiop.clinical.note.list",
            category=AuditEvent.Category.EPISODE,
            obj=episode,
            patient=episode.patient,
            request=request,
            detail={"notes": len(notes)},
        )
    by_parent: dict[int | None, list[Note]] = {}
    for note in notes:
        by_parent.setdefault(note.amends_id, []).append(note)
    ordered: list[Note] = []

    def walk(parent: int | None) -> None:
        for child in by_parent.get(parent, []):
            ordered.append(child)
            walk(child.pk)

    walk(None)
    return ordered
