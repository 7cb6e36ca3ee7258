"""Group-note writes: start from attendance, save (autosave) the shared narrative and every
attendee's individualized part together, sign them all at once, amend after signing.

A group note is one ``GroupNote`` (the shared narrative of the session) plus one ``Note`` of kind
``group_individualized`` per attendee. Only patients whom attendance marks as attending (present,
late, left early) get a part: absent, excused and not-yet-recorded patients get none.

While the note is a draft its roster follows attendance: every save creates a part for a new
attendee and removes the empty part of a patient now marked absent. A now-absent patient's part
that already holds text is kept (the counselor's words are never thrown away) and flagged; the
note cannot be signed until the counselor clears it or attendance is corrected. After signing,
the roster changes only through ``group_note_amend``: a new GroupNote linked by ``amends``,
holding parts only for the attendees it adds or corrects; the original is untouched.

Concurrent edits are caught with the group note's ``version`` column, as for notes
(``services/notes.py``): a stale save raises ``GroupNoteConflict`` carrying the submitted text,
and nothing of it is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.permissions import Perm
from openiop.attendance.models import AttendanceRecord
from openiop.clinical.models import SECTIONS, GroupNote, Note, NoteFormat
from openiop.clinical.quality import REQUIRED, SECTION_LABELS, QualityWarning
from openiop.clinical.selectors.group_notes import (
    group_note_quality,
    objectives_for_episodes,
    part_has_text,
)
from openiop.core.access import require_perm
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.scheduling.models import Session, SessionKind

CAT = AuditEvent.Category.CLINICAL
GRP_SECTIONS: tuple[str, ...] = SECTIONS[NoteFormat.GROUP]
ATTENDED: tuple[str, ...] = tuple(AttendanceRecord.ATTENDED)
SHARED_FIELDS: tuple[str, ...] = ("topic", "curriculum_module", "interventions", "narrative")
# What a group note must say before it is signed (the curriculum module is optional: not every
# group follows a curriculum).
REQUIRED_SHARED: tuple[str, ...] = ("topic", "interventions", "narrative")
SHARED_LABELS = {
    "topic": "Topic",
    "curriculum_module": "Curriculum module",
    "interventions": "Interventions",
    "narrative": "Group narrative",
}
MAX_LENGTH = {"topic": 200, "curriculum_module": 200, "interventions": 5000, "narrative": 10000}
SECTION_MAX = 5000


class PartInput(TypedDict, total=False):
    """One attendee's individualized part as submitted: sections by name, picked objectives."""

    sections: Mapping[str, str]
    objectives: Sequence[str]


class GroupNoteConflict(ValidationError):
    """Someone else saved the group note first. The submitted text travels with the error
    (``shared`` and ``parts``) so the screen can show it again; none of it was written."""

    def __init__(
        self,
        *,
        current_version: int,
        shared: Mapping[str, str],
        parts: Mapping[str, PartInput],
    ) -> None:
        super().__init__(
            {
                "version": "Someone else saved this group note while you were editing; "
                "your text was kept on screen and nothing was overwritten."
            }
        )
        self.current_version = current_version
        self.shared = dict(shared)
        self.parts = dict(parts)


class GroupNoteIncomplete(ValidationError):
    """Signing refused: required text is missing. ``shared`` holds messages by shared field;
    ``parts`` holds messages by patient public id (to show at that attendee's card)."""

    def __init__(self, *, shared: dict[str, str], parts: dict[str, list[str]]) -> None:
        messages: dict[str, list[str]] = {k: [v] for k, v in shared.items()}
        if parts:
            messages["parts"] = [m for ms in parts.values() for m in ms]
        super().__init__(messages)
        self.shared = shared
        self.parts = parts


class GroupNoteQualityWarnings(ValidationError):
    """Signing paused: the quality check found problems the counselor has not acknowledged."""

    def __init__(self, warnings: list[QualityWarning]) -> None:
        super().__init__({"warnings": [w.message for w in warnings]})
        self.warnings = warnings


def _allow(actor: Any, organization_id: int) -> None:
    if getattr(actor, "organization_id", None) != organization_id:
        raise PermissionDenied("the group note belongs to another organization")
    require_perm(actor, Perm.NOTE_WRITE)


def _attendance(session: Session) -> dict[str, AttendanceRecord]:
    records = session.attendance.select_related("patient", "episode")
    return {str(r.patient.public_id): r for r in records}


def part_times(session: Session, record: AttendanceRecord | None) -> tuple[dt.datetime, ...]:
    """When the attendee was in the group: from check-in (never before the start) for the
    minutes attendance recorded; the whole session when attendance says nothing finer."""
    start = session.starts_at
    if record is not None and record.checked_in_at is not None:
        start = min(max(record.checked_in_at, session.starts_at), session.ends_at)
    minutes = record.minutes_attended if record is not None else None
    end = start + dt.timedelta(minutes=minutes) if minutes else session.ends_at
    if end <= start:
        end = start + dt.timedelta(minutes=max(minutes or 0, 1))
    return start, end


def _clean_shared(shared: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for name in SHARED_FIELDS:
        if name not in shared:
            continue
        value = shared[name]
        if not isinstance(value, str):
            errors[name] = f"{SHARED_LABELS[name]} must be text."
            continue
        if len(value) > MAX_LENGTH[name]:
            limit = MAX_LENGTH[name]
            errors[name] = f"Keep {SHARED_LABELS[name].lower()} under {limit} characters."
        clean[name] = value.strip()
    if errors:
        raise ValidationError(errors)
    return clean


def _clean_part(name: str, part: Any) -> tuple[dict[str, str] | None, list[str] | None]:
    if not isinstance(part, Mapping):
        raise ValidationError({"parts": f"{name}: the part must be a mapping."})
    sections = part.get("sections")
    clean: dict[str, str] | None = None
    if sections is not None:
        if not isinstance(sections, Mapping):
            raise ValidationError({"parts": f"{name}: sections must be a mapping of name to text."})
        unknown = sorted(str(k) for k in sections if k not in GRP_SECTIONS)
        if unknown:
            raise ValidationError(
                {
                    "parts": f"{name}: a group part has no section {', '.join(unknown)}; "
                    f"its sections are {', '.join(GRP_SECTIONS)}."
                }
            )
        clean = {}
        for key, text in sections.items():
            if not isinstance(text, str):
                raise ValidationError({"parts": f"{name}: {key} must be text."})
            if len(text) > SECTION_MAX:
                raise ValidationError(
                    {"parts": f"{name}: keep {key} under {SECTION_MAX} characters."}
                )
            clean[key] = text.strip()
    objectives = part.get("objectives")
    picked: list[str] | None = None
    if objectives is not None:
        if isinstance(objectives, str) or not isinstance(objectives, Sequence):
            raise ValidationError({"parts": f"{name}: objectives must be a list of ids."})
        picked = list(dict.fromkeys(str(o) for o in objectives))
    return clean, picked


def _lock_version(group_note: GroupNote, expected_version: int, **fields: Any) -> bool:
    """Write ``fields`` if the group note is still a draft at ``expected_version``."""
    updated = GroupNote.objects.filter(
        pk=group_note.pk, version=expected_version, status=GroupNote.Status.DRAFT
    ).update(**fields, updated_at=timezone.now(), version=F("version") + 1)
    return updated == 1


def _refuse_stale(group_note: GroupNote, expected_version: int, **submitted: Any) -> None:
    current = GroupNote.objects.filter(pk=group_note.pk).values_list("version", "status").first()
    if current is not None and current[1] == GroupNote.Status.SIGNED:
        raise ValidationError({"status": "The group note is signed; write an amendment instead."})
    raise GroupNoteConflict(
        current_version=current[0] if current else expected_version,
        shared=submitted.get("shared", {}),
        parts=submitted.get("parts", {}),
    )


def _create_part(
    *,
    actor: Any,
    group_note: GroupNote,
    record: AttendanceRecord,
    sections: Mapping[str, str] | None = None,
    objectives: Sequence[str] = (),
    amends: Note | None = None,
    reason: str = "",
    request: HttpRequest | None,
) -> Note:
    start, end = part_times(group_note.session, record)
    part = Note.objects.create(
        organization_id=group_note.organization_id,
        episode_id=amends.episode_id if amends is not None else record.episode_id,
        patient_id=record.patient_id,
        session_id=group_note.session_id,
        kind=Note.Kind.GROUP_INDIVIDUALIZED,
        format=NoteFormat.GROUP,
        sections=dict(sections or {}),
        objectives=list(objectives),
        started_at=start,
        ended_at=end,
        author=actor,
        group_note=group_note,
        amends=amends,
        amendment_reason=reason,
        created_by=actor,
        updated_by=actor,
    )
    audit_log(
        actor=actor,
        action="openiop.clinical.group_note.part_create",
        category=CAT,
        obj=part,
        patient=record.patient,
        request=request,
        detail={
            "group_note": str(group_note.public_id),
            "amends": str(amends.public_id) if amends else "",
        },
    )
    return part


@transaction.atomic
def group_note_start(
    *, actor: Any, session: Session, request: HttpRequest | None = None
) -> GroupNote:
    """Start the session's group note from its attendance: the draft shared narrative and one
    empty draft part per attendee. Starting again returns the note already started."""
    _allow(actor, session.organization_id)
    # One starter at a time: two counselors pressing Start together get the same note.
    session = (
        Session.objects.select_for_update(of=("self",))
        .select_related("program", "program__site")
        .get(pk=session.pk)
    )
    existing = GroupNote.objects.filter(session=session, amends__isnull=True).first()
    if existing is not None:
        return existing
    if session.kind != SessionKind.GROUP:
        raise ValidationError(
            {"session": "Group notes are written for group sessions; write an individual note."}
        )
    if session.status == Session.Status.CANCELLED:
        raise ValidationError({"session": "The session was cancelled; there is no group note."})
    records = list(_attendance(session).values())
    if not any(r.is_recorded for r in records):
        raise ValidationError(
            {"session": "Take attendance first: the group note is written for who attended."}
        )
    attended = [r for r in records if r.status in ATTENDED]
    if not attended:
        raise ValidationError(
            {"session": "Attendance shows nobody attended, so there is no group note to write."}
        )
    group_note = GroupNote.objects.create(
        organization_id=session.organization_id,
        session=session,
        author=actor,
        started_at=session.starts_at,
        ended_at=session.ends_at,
        created_by=actor,
        updated_by=actor,
    )
    for record in sorted(attended, key=lambda r: (r.patient.last_name, r.patient.first_name)):
        _create_part(actor=actor, group_note=group_note, record=record, request=request)
    audit_log(
        actor=actor,
        action="openiop.clinical.group_note.create",
        category=CAT,
        obj=group_note,
        request=request,
        detail={
            "session": str(session.public_id),
            "patients": sorted(str(r.patient.public_id) for r in attended),
        },
    )
    return group_note


def _allowed_objectives(group_note: GroupNote, episode_ids: set[int]) -> dict[int, set[str]]:
    options = objectives_for_episodes(
        organization_id=group_note.organization_id, episode_ids=episode_ids
    )
    return {episode: {o.public_id for o in opts} for episode, opts in options.items()}


@transaction.atomic
def group_note_save(
    *,
    actor: Any,
    group_note: GroupNote,
    topic: str | None = None,
    curriculum_module: str | None = None,
    interventions: str | None = None,
    narrative: str | None = None,
    parts: Mapping[str, PartInput] | None = None,
    expected_version: int,
    request: HttpRequest | None = None,
) -> GroupNote:
    """Save the shared narrative and the parts (keyed by patient public id) in one go, if
    nobody saved since ``expected_version``; then bring a draft original's roster in line with
    attendance. A stale version raises ``GroupNoteConflict`` with the submitted text.

    Shared fields left as None, parts not named, and sections not given keep what is saved."""
    _allow(actor, group_note.organization_id)
    if group_note.is_signed:
        raise ValidationError({"status": "The group note is signed; write an amendment instead."})
    parts = dict(parts or {})
    given = {
        "topic": topic,
        "curriculum_module": curriculum_module,
        "interventions": interventions,
        "narrative": narrative,
    }
    shared = _clean_shared({k: v for k, v in given.items() if v is not None})
    session = group_note.session
    records = _attendance(session)
    existing = {str(p.patient.public_id): p for p in group_note.parts.select_related("patient")}
    cleaned: dict[str, tuple[dict[str, str] | None, list[str] | None]] = {}
    for key, part in parts.items():
        key = str(key)
        record = records.get(key)
        label = (
            existing[key].patient.display_name
            if key in existing
            else record.patient.display_name
            if record is not None
            else key
        )
        if key not in existing and (record is None or group_note.amends_id is not None):
            raise ValidationError({"parts": f"{label} has no part in this group note."})
        cleaned[key] = _clean_part(label, part)
    # Objectives: those of the attendee's active plan, or already picked on the part.
    episode_of = {k: p.episode_id for k, p in existing.items()}
    episode_of.update({k: r.episode_id for k, r in records.items() if k not in episode_of})
    allowed = _allowed_objectives(group_note, {episode_of[k] for k in cleaned if k in episode_of})
    for key, (_, picked) in cleaned.items():
        if picked is None:
            continue
        ok = allowed.get(episode_of[key], set()) | set(
            existing[key].objectives if key in existing else []
        )
        unknown = [o for o in picked if o not in ok]
        if unknown:
            who = existing[key].patient if key in existing else records[key].patient
            raise ValidationError(
                {"parts": f"{who.display_name}: pick objectives from their own active plan."}
            )
    if not _lock_version(group_note, expected_version, updated_by=actor, **shared):
        _refuse_stale(group_note, expected_version, shared=shared, parts=parts)
    group_note.refresh_from_db()
    changed: list[str] = []
    now = timezone.now()
    for key, (sections, picked) in cleaned.items():
        part = existing.get(key)
        if part is None:
            record = records[key]
            has_text = any((sections or {}).values()) or bool(picked)
            if record.status not in ATTENDED and not has_text:
                continue
            existing[key] = _create_part(
                actor=actor,
                group_note=group_note,
                record=record,
                sections=sections,
                objectives=picked or [],
                request=request,
            )
            changed.append(key)
            continue
        new_sections = {**part.sections, **sections} if sections is not None else part.sections
        new_objectives = picked if picked is not None else part.objectives
        if new_sections == part.sections and new_objectives == part.objectives:
            continue
        updated = Note.objects.filter(pk=part.pk, status=Note.Status.DRAFT).update(
            sections=new_sections,
            objectives=new_objectives,
            updated_by=actor,
            updated_at=now,
            version=F("version") + 1,
        )
        if updated != 1:
            raise ValidationError({"parts": f"{part.patient.display_name}'s part is signed."})
        part.sections, part.objectives = new_sections, new_objectives
        changed.append(key)
        audit_log(
            actor=actor,
            action="openiop.clinical.group_note.part_save",
            category=CAT,
            obj=part,
            patient=part.patient,
            request=request,
            detail={"group_note": str(group_note.public_id)},
        )
    if group_note.amends_id is None:
        _sync_roster(actor=actor, group_note=group_note, records=records, parts=existing,
                     request=request)  # fmt: skip
    audit_log(
        actor=actor,
        action="openiop.clinical.group_note.save",
        category=CAT,
        obj=group_note,
        request=request,
        detail={"version": group_note.version, "parts_changed": sorted(changed)},
    )
    return group_note


def _sync_roster(
    *,
    actor: Any,
    group_note: GroupNote,
    records: dict[str, AttendanceRecord],
    parts: dict[str, Note],
    request: HttpRequest | None,
) -> None:
    """A new attendee gets a part; a now-absent patient's empty part goes; one with text stays
    (the screen flags it)."""
    for key, record in records.items():
        if record.status in ATTENDED and key not in parts:
            parts[key] = _create_part(
                actor=actor, group_note=group_note, record=record, request=request
            )
    for key, part in list(parts.items()):
        record = records.get(key)
        if (record is None or record.status not in ATTENDED) and not part_has_text(part):
            audit_log(
                actor=actor,
                action="openiop.clinical.group_note.part_remove",
                category=CAT,
                obj=part,
                patient=part.patient,
                request=request,
                detail={
                    "group_note": str(group_note.public_id),
                    "attendance": record.status if record else "",
                },
            )
            part.delete()
            del parts[key]


def _incomplete(
    group_note: GroupNote, parts: list[Note], records: dict[str, AttendanceRecord]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    shared: dict[str, str] = {}
    for name in REQUIRED_SHARED:
        if not (getattr(group_note, name) or "").strip():
            shared[name] = f"Write the {SHARED_LABELS[name].lower()} before signing."
    problems: dict[str, list[str]] = {}
    have = {str(p.patient.public_id) for p in parts}
    if group_note.amends_id is None:
        for key, record in records.items():
            if record.status in ATTENDED and key not in have:
                problems.setdefault(key, []).append(
                    f"{record.patient.display_name} attended: save the note to add their part."
                )
        if not parts:
            shared.setdefault("parts", "A group note needs at least one attendee's part.")
    for part in parts:
        key = str(part.patient.public_id)
        name = part.patient.display_name
        record = records.get(key)
        status = record.get_status_display().lower() if record else "not on the roster"
        if part.amends_id is None and (record is None or record.status not in ATTENDED):
            problems.setdefault(key, []).append(
                f"{name} is marked {status}: absent patients get no note. Clear their part, "
                "or correct attendance, before signing."
            )
            continue
        text = {s: (part.sections.get(s) or "").strip() for s in GRP_SECTIONS}
        if part.amends_id is not None:
            if not any(text.values()):
                problems.setdefault(key, []).append(f"{name}: the correction has no text.")
            continue
        blank = [SECTION_LABELS[s].lower() for s in REQUIRED if not text[s]]
        if blank:
            problems.setdefault(key, []).append(f"{name}: write the {' and '.join(blank)}.")
    return shared, problems


@transaction.atomic
def group_note_sign(
    *,
    actor: Any,
    group_note: GroupNote,
    expected_version: int,
    acknowledge_warnings: bool = False,
    request: HttpRequest | None = None,
) -> GroupNote:
    """Sign the group note and every part in one transaction.

    Refused (``GroupNoteIncomplete``) while the shared narrative or any attendee's required
    sections are empty, or a part belongs to a patient not marked as attending. The quality
    check's warnings (``GroupNoteQualityWarnings``) stop the signature until the counselor
    acknowledges them; the acknowledged warnings are kept in the audit row. Only the author
    signs. When the author's notes need a co-signature, the group note waits in the co-signer's
    queue (``cosign_required`` on the GroupNote; one co-signature covers its parts)."""
    _allow(actor, group_note.organization_id)
    group_note.refresh_from_db()
    if group_note.is_signed:
        raise ValidationError({"status": "The group note is already signed."})
    if getattr(actor, "pk", None) != group_note.author_id:
        raise PermissionDenied("only the group note's author can sign it")
    if group_note.version != expected_version:
        _refuse_stale(group_note, expected_version)
    records = _attendance(group_note.session)
    parts = list(group_note.parts.select_related("patient"))
    shared_errors, part_errors = _incomplete(group_note, parts, records)
    if shared_errors or part_errors:
        raise GroupNoteIncomplete(shared=shared_errors, parts=part_errors)
    warnings = group_note_quality(group_note, parts)
    if warnings and not acknowledge_warnings:
        raise GroupNoteQualityWarnings(warnings)
    now = timezone.now()
    cosign = getattr(actor, "cosigner_id", None) is not None
    if not _lock_version(
        group_note,
        expected_version,
        status=GroupNote.Status.SIGNED,
        signed_at=now,
        signed_by=actor,
        cosign_required=cosign,
        updated_by=actor,
    ):
        _refuse_stale(group_note, expected_version)
    group_note.refresh_from_db()
    for part in parts:
        start, end = (
            (part.started_at, part.ended_at)
            if part.amends_id is not None and part.started_at and part.ended_at
            else part_times(group_note.session, records.get(str(part.patient.public_id)))
        )
        updated = Note.objects.filter(pk=part.pk, status=Note.Status.DRAFT).update(
            status=Note.Status.SIGNED,
            signed_at=now,
            signed_by=actor,
            started_at=start,
            ended_at=end,
            updated_by=actor,
            updated_at=now,
            version=F("version") + 1,
        )
        if updated != 1:
            raise ValidationError({"parts": f"{part.patient.display_name}'s part changed."})
        audit_log(
            actor=actor,
            action="openiop.clinical.group_note.part_sign",
            category=CAT,
            obj=part,
            patient=part.patient,
            request=request,
            detail={"group_note": str(group_note.public_id)},
        )
    audit_log(
        actor=actor,
        action="openiop.clinical.group_note.sign",
        category=CAT,
        obj=group_note,
        request=request,
        detail={
            "version": group_note.version,
            "parts": len(parts),
            "cosign_required": cosign,
            "amends": str(group_note.amends.public_id) if group_note.amends else "",
            "acknowledged_warnings": [w.message for w in warnings],
        },
    )
    return group_note


@transaction.atomic
def group_note_amend(
    *,
    actor: Any,
    group_note: GroupNote,
    reason: str,
    add_patients: Sequence[str] = (),
    correct_patients: Sequence[str] = (),
    request: HttpRequest | None = None,
) -> GroupNote:
    """Start an amendment of a signed group note; the signed note and its parts are untouched.

    The amendment is a draft GroupNote linked by ``amends`` with the shared narrative copied (to
    correct if needed) and parts only for the attendees it concerns: ``add_patients`` (public
    ids of patients attendance marks as attending who have no part yet, e.g. a walk-in entered
    late) get an empty part; ``correct_patients`` get a correction (``Note.amends`` = their
    latest signed part, its text copied to edit). It is edited on the same screen and signed
    with ``group_note_sign``."""
    _allow(actor, group_note.organization_id)
    if not group_note.is_signed:
        raise ValidationError({"amends": "Only a signed group note is amended; edit the draft."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for the amendment."})
    if len(reason) > 2000:
        raise ValidationError({"reason": "Keep the reason under 2000 characters."})
    session = group_note.session
    pending = GroupNote.objects.filter(
        session=session, amends__isnull=False, status=GroupNote.Status.DRAFT
    ).first()
    if pending is not None:
        raise ValidationError(
            {"amends": "An amendment of this group note is already in progress; finish it first."}
        )
    records = _attendance(session)
    latest: dict[str, Note] = {}
    signed_parts = (
        Note.objects.filter(
            group_note__session=session,
            status=Note.Status.SIGNED,
            kind=Note.Kind.GROUP_INDIVIDUALIZED,
        )
        .select_related("patient")
        .order_by("signed_at", "id")
    )
    for part in signed_parts:
        latest[str(part.patient.public_id)] = part
    add = list(dict.fromkeys(str(k) for k in add_patients))
    correct = list(dict.fromkeys(str(k) for k in correct_patients))
    errors: list[str] = []
    for key in add:
        record = records.get(key)
        if record is None:
            errors.append("A patient to add is not on this session's roster.")
        elif key in latest:
            errors.append(f"{record.patient.display_name} already has a part: correct it instead.")
        elif record.status not in ATTENDED:
            errors.append(
                f"{record.patient.display_name} is marked {record.get_status_display().lower()}:"
                " correct attendance first; absent patients get no note."
            )
    for key in correct:
        if key not in latest:
            errors.append("A patient to correct has no signed part in this group note.")
    if set(add) & set(correct):
        errors.append("A patient is both added and corrected.")
    if errors:
        raise ValidationError({"patients": errors})
    amendment = GroupNote.objects.create(
        organization_id=group_note.organization_id,
        session=session,
        author=actor,
        topic=group_note.topic,
        curriculum_module=group_note.curriculum_module,
        interventions=group_note.interventions,
        narrative=group_note.narrative,
        started_at=group_note.started_at,
        ended_at=group_note.ended_at,
        amends=group_note,
        amendment_reason=reason,
        created_by=actor,
        updated_by=actor,
    )
    for key in add:
        _create_part(actor=actor, group_note=amendment, record=records[key], request=request)
    for key in correct:
        original = latest[key]
        record = records.get(key)
        if record is None:  # no attendance row any more: keep the original's episode and times
            record = AttendanceRecord(
                session=session, patient=original.patient, episode_id=original.episode_id
            )
        part = _create_part(
            actor=actor,
            group_note=amendment,
            record=record,
            sections=original.sections,
            objectives=original.objectives,
            amends=original,
            reason=reason,
            request=request,
        )
        if original.started_at and original.ended_at:
            Note.objects.filter(pk=part.pk).update(
                started_at=original.started_at, ended_at=original.ended_at
            )
    audit_log(
        actor=actor,
        action="openiop.clinical.group_note.amend",
        category=CAT,
        obj=amendment,
        request=request,
        detail={
            "amends": str(group_note.public_id),
            "add": sorted(add),
            "correct": sorted(correct),
        },
    )
    return amendment
