"""Clinical note reads, fetched with permission in one call and audited.

Who may read what:

* ``note.view`` (intake, counselors, prescribers, program directors, auditors, admins) reads the
  clinical record; front desk and billing get 403.
* **SUD counseling notes** (kind ``sud_counseling``) are readable ONLY by their author. Everyone
  else, program directors and auditors included, gets a 404 for one (as if it did not exist) and
  never sees one in a list. Why: 42 CFR 2.11 defines "SUD counseling notes" as the counselor's
  own notes kept separate from the rest of the patient's record, and since the 2024 rule
  (89 FR 12472) 42 CFR 2.31(b) lets them be used or disclosed only with a consent that names
  them specifically, separate from any consent for the rest of the record. Our consents never do
  that (yet), so nothing but the author's own screen may show them, and they never go into
  lists, packets, exports or co-signature queues.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.http import HttpRequest

from openiop.accounts.permissions import Perm, Role, roles_of
from openiop.clinical.models import GroupNote, Note
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode

CAT = AuditEvent.Category.CLINICAL
NOTE_VIEW = Perm.NOTE_VIEW


def notes_visible_to(user: Any) -> Any:
    """The user's organization's notes minus other people's SUD counseling notes."""
    return Note.objects.for_org(user.organization_id).exclude(
        Q(kind=Note.Kind.SUD_COUNSELING) & ~Q(author_id=getattr(user, "pk", None))
    )


def episode_for_notes(*, user: Any, public_id: Any, perm: Perm = NOTE_VIEW) -> Episode:
    """The episode whose notes are read or written; 403 without ``perm``, 404 if not ours."""
    qs = Episode.objects.select_related("patient", "program", "program__site")
    return get_for_user_or_404(qs, user, public_id, perm)


def note_get(
    *,
    user: Any,
    public_id: Any,
    perm: Perm = NOTE_VIEW,
    request: HttpRequest | None = None,
    audit: bool = True,
) -> Note:
    """One note, or 404 for another organization's, an unknown id, or someone else's SUD
    counseling note; 403 for a role without ``perm``. The read is audited."""
    require_perm(user, NOTE_VIEW)
    qs = notes_visible_to(user).select_related(
        "patient",
        "author",
        "signed_by",
        "amends",
        "episode",
        "episode__program",
        "episode__program__site",
        "cosignature",
        "cosignature__cosigner",
    )
    note = get_for_user_or_404(qs, user, public_id, perm)
    if audit:
        audit_log(
            actor=user,
            action="openiop.clinical.note.view",
            category=CAT,
            obj=note,
            patient=note.patient,
            request=request,
        )
    return note


def note_amendments(*, user: Any, note: Note) -> list[Note]:
    """The amendments of ``note`` the user may see, oldest first (one query)."""
    return list(
        notes_visible_to(user)
        .filter(amends=note)
        .select_related("author", "signed_by", "cosignature", "cosignature__cosigner")
        .order_by("created_at", "id")
    )


def note_list_for_episode(
    *, user: Any, episode: Episode, request: HttpRequest | None = None
) -> list[Note]:
    """The episode's notes, newest first; each amendment comes right after the note it amends
    (oldest amendment first) with ``depth`` set to 1 (2 for an amendment of an amendment ...).

    One query for the notes (author, signer and co-signature joined) plus the audit row.
    """
    require_perm(user, NOTE_VIEW)
    notes = list(
        notes_visible_to(user)
        .filter(episode=episode)
        .select_related("author", "signed_by", "cosignature", "cosignature__cosigner")
        .order_by("created_at", "id")
    )
    if notes:
        audit_log(
            actor=user,
            action="openiop.clinical.note.list",
            category=CAT,
            obj=episode,
            patient=episode.patient,
            request=request,
            detail={"notes": len(notes)},
        )
    ids = {note.pk for note in notes}
    by_parent: dict[int | None, list[Note]] = {}
    for note in notes:
        parent = note.amends_id if note.amends_id in ids else None
        by_parent.setdefault(parent, []).append(note)
    ordered: list[Note] = []

    def walk(parent: int, depth: int) -> None:
        for child in by_parent.get(parent, []):
            child.depth = depth  # type: ignore[attr-defined]
            ordered.append(child)
            walk(child.pk, depth + 1)

    for root in reversed(by_parent.get(None, [])):
        root.depth = 0  # type: ignore[attr-defined]
        ordered.append(root)
        walk(root.pk, 1)
    return ordered


# --- co-signature queue ---------------------------------------------------------------------


@dataclass(frozen=True)
class CosignItem:
    """One signed document waiting for a co-signature."""

    kind: str  # "note" or "group_note"
    document: Note | GroupNote
    author: Any
    signed_at: dt.datetime
    supervisee: bool  # the author's cosigner is the user looking at the queue

    @property
    def public_id(self) -> Any:
        return self.document.public_id

    @property
    def patient(self) -> Any:
        return self.document.patient if isinstance(self.document, Note) else None


def cosign_queue(
    user: Any, *, request: HttpRequest | None = None, limit: int | None = None
) -> list[CosignItem]:
    """Signed notes and group notes that need a co-signature and have none yet.

    A program director sees every one in the organization, their own supervisees' first; any
    other co-signer (prescriber, admin) sees only the documents of staff whose ``cosigner`` they
    are. Oldest signature first within each part. SUD counseling notes never appear (nobody but
    their author may read them; ``note_sign`` does not ask for their co-signature).

    Two queries for the documents, whatever their number, plus the audit row.
    """
    require_perm(user, Perm.NOTE_COSIGN)
    org = user.organization_id
    notes = (
        Note.objects.for_org(org)
        .filter(status=Note.Status.SIGNED, cosign_required=True, cosignature__isnull=True)
        .exclude(kind=Note.Kind.SUD_COUNSELING)
        .select_related("patient", "author", "episode__program")
    )
    groups = (
        GroupNote.objects.for_org(org)
        .filter(status=GroupNote.Status.SIGNED, cosign_required=True, cosignature__isnull=True)
        .select_related("author", "session")
    )
    if Role.PROGRAM_DIRECTOR not in roles_of(user):
        notes = notes.filter(author__cosigner=user)
        groups = groups.filter(author__cosigner=user)
    items = [
        CosignItem("note", n, n.author, n.signed_at, n.author.cosigner_id == user.pk) for n in notes
    ] + [
        CosignItem("group_note", g, g.author, g.signed_at, g.author.cosigner_id == user.pk)
        for g in groups
    ]
    items.sort(key=lambda i: (not i.supervisee, i.signed_at, i.kind, i.document.pk))
    if limit is not None:
        items = items[:limit]
    audit_log_many(
        actor=user,
        action="openiop.clinical.cosign.list",
        category=CAT,
        patients=[i.patient for i in items if i.patient is not None],
        request=request,
        detail={"documents": [str(i.public_id) for i in items]},
    )
    return items
