"""Group-note reads: the one screen a counselor writes a group's notes on, and the lists.

The screen puts, for one session, the shared narrative beside a card per attendee: attendance
status and minutes, the attendee's individualized part, and the objectives of the attendee's
active treatment plan to pick from. It is built with a fixed number of queries whatever the
size of the group (attendance, the session's group notes, their parts, the plan objectives,
plus the audit row), and the read is audited with one row naming every patient shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.http import Http404, HttpRequest

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.attendance.models import AttendanceRecord
from openiop.clinical.models import SECTIONS, GroupNote, Note, NoteFormat, PlanObjective
from openiop.clinical.models import TreatmentPlan as Plan
from openiop.clinical.quality import QualityWarning, check_parts
from openiop.core.access import require_perm
from openiop.core.audit import audit_log_many
from openiop.core.models import AuditEvent
from openiop.patients.models import Patient
from openiop.scheduling.models import Session

CAT = AuditEvent.Category.CLINICAL
GRP_SECTIONS: tuple[str, ...] = SECTIONS[NoteFormat.GROUP]
ATTENDED: tuple[str, ...] = tuple(AttendanceRecord.ATTENDED)


@dataclass(frozen=True)
class ObjectiveOption:
    """One objective a part can name: ``public_id`` is what ``Note.objectives`` stores;
    ``number`` its place in the plan ("2.1.1" = problem 2, goal 1, objective 1)."""

    public_id: str
    number: str
    text: str
    goal: str
    target_on: dt.date | None
    in_active_plan: bool = True

    @property
    def label(self) -> str:
        return f"{self.number} {self.text}".strip()


@dataclass
class AttendeeCard:
    """One patient's card on the screen. ``part`` is None for an attendee whose part will be
    created on the next save (attendance changed since the note was started). ``flagged`` marks
    a part that holds text for a patient who is not (or no longer) marked as attending."""

    key: str
    patient: Patient
    record: AttendanceRecord | None
    part: Note | None
    objectives: list[ObjectiveOption]
    flagged: bool = False
    warnings: list[QualityWarning] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def sections(self) -> dict[str, str]:
        stored = self.part.sections if self.part is not None else {}
        return {name: stored.get(name, "") for name in GRP_SECTIONS}

    @property
    def picked(self) -> list[ObjectiveOption]:
        chosen = set(self.part.objectives) if self.part is not None else set()
        return [o for o in self.objectives if o.public_id in chosen]

    @property
    def attended(self) -> bool:
        return self.record is not None and self.record.status in ATTENDED

    @property
    def is_correction(self) -> bool:
        return self.part is not None and self.part.amends_id is not None


@dataclass
class GroupNoteScreen:
    session: Session
    group_note: GroupNote | None  # the document shown (the original or an amendment)
    original: GroupNote | None
    amendments: list[GroupNote]
    cards: list[AttendeeCard]
    absent: list[AttendanceRecord]  # booked, not attending: "Absent: no note"
    expected: list[AttendanceRecord]  # booked, attendance not taken yet
    attendance_taken: bool
    can_write: bool
    # The latest questionnaire scores per attendee (patient public id -> scores), for the
    # questionnaires app to fill; empty until it does.
    attendee_scores: dict[str, Any] = field(default_factory=dict)
    # Parts of every group note of the session, by group note pk (for the signed view).
    parts_by_note: dict[int, list[Note]] = field(default_factory=dict)
    records: list[AttendanceRecord] = field(default_factory=list)  # the whole roster

    @property
    def undocumented(self) -> list[AttendanceRecord]:
        """Attending patients without a part in this (signed) note or its amendments."""
        documented = {p.patient_id for ps in self.parts_by_note.values() for p in ps}
        return [r for r in self.records if r.status in ATTENDED and r.patient_id not in documented]

    @property
    def flagged(self) -> list[AttendeeCard]:
        return [c for c in self.cards if c.flagged]

    def card(self, key: str) -> AttendeeCard | None:
        return next((c for c in self.cards if c.key == key), None)


def _number_objectives(rows: Iterable[PlanObjective]) -> dict[int, list[tuple[int, Any]]]:
    """Plan-order numbering per plan: {plan pk: [(objective pk, ObjectiveOption)]}."""
    out: dict[int, list[tuple[int, Any]]] = {}
    counters: dict[int, dict[str, Any]] = {}
    for o in rows:
        goal, problem = o.goal, o.goal.problem
        c = counters.setdefault(problem.plan_id, {"problem": None, "goal": None, "p": 0, "g": 0})
        if problem.pk != c["problem"]:
            c.update(problem=problem.pk, goal=None, p=c["p"] + 1, g=0, o=0)
        if goal.pk != c["goal"]:
            c.update(goal=goal.pk, g=c["g"] + 1, o=0)
        c["o"] += 1
        option = ObjectiveOption(
            public_id=str(o.public_id),
            number=f"{c['p']}.{c['g']}.{c['o']}",
            text=o.text,
            goal=goal.text,
            target_on=o.target_on,
            in_active_plan=problem.plan.status == Plan.Status.ACTIVE,
        )
        out.setdefault(problem.plan_id, []).append((o.pk, option))
    return out


def objectives_for_episodes(
    *, organization_id: int, episode_ids: Iterable[int], also: Iterable[str] = ()
) -> dict[int, list[ObjectiveOption]]:
    """The objectives of each episode's active plan, in plan order, keyed by episode pk, plus
    any objective named in ``also`` (already picked on a part, e.g. from a plan that has since
    been revised), so a saved pick is never silently dropped. One query."""
    episode_ids = list(episode_ids)
    also = [a for a in also if a]
    if not episode_ids and not also:
        return {}
    condition = Q(goal__problem__plan__episode_id__in=episode_ids) & Q(
        goal__problem__plan__status=Plan.Status.ACTIVE
    )
    if also:
        condition |= Q(public_id__in=also)
    rows = list(
        PlanObjective.objects.for_org(organization_id)
        .filter(condition)
        .select_related("goal__problem__plan")
        .order_by(
            "goal__problem__plan_id",
            "goal__problem__position",
            "goal__problem_id",
            "goal__position",
            "goal_id",
            "position",
            "id",
        )
    )
    numbered = _number_objectives(rows)
    episode_of_plan = {o.goal.problem.plan_id: o.goal.problem.plan.episode_id for o in rows}
    out: dict[int, list[ObjectiveOption]] = {}
    for plan_id, options in numbered.items():
        episode_id = episode_of_plan[plan_id]
        for _, option in options:
            if option.in_active_plan or option.public_id in also:
                out.setdefault(episode_id, []).append(option)
    return out


def _attendance(session: Session) -> list[AttendanceRecord]:
    return list(
        session.attendance.select_related("patient", "episode").order_by(
            "patient__last_name", "patient__first_name", "id"
        )
    )


def part_has_text(part: Note) -> bool:
    """Whether a part holds anything the counselor wrote or picked."""
    return any((part.sections.get(s) or "").strip() for s in GRP_SECTIONS) or bool(part.objectives)


def group_note_quality(
    group_note: GroupNote, parts: list[Note] | None = None
) -> list[QualityWarning]:
    """The quality warnings for a group note's saved parts (keyed by patient public id).

    An amendment's parts are compared with the latest signed part of every other patient of
    the session too, so a correction cannot copy another attendee's note either; only the
    warnings about the amendment's own patients are returned."""
    if parts is None:
        parts = list(group_note.parts.select_related("patient"))
    texts: dict[str, Mapping[str, str]] = {}
    names: dict[str, str] = {}
    if group_note.amends_id is not None:
        others = (
            Note.objects.filter(
                group_note__session_id=group_note.session_id,
                status=Note.Status.SIGNED,
                kind=Note.Kind.GROUP_INDIVIDUALIZED,
            )
            .select_related("patient")
            .order_by("signed_at", "id")
        )
        for other in others:  # later signatures overwrite earlier ones: the latest text wins
            key = str(other.patient.public_id)
            texts[key], names[key] = other.sections, other.patient.display_name
    own: set[str] = set()
    for part in parts:
        key = str(part.patient.public_id)
        texts[key], names[key] = part.sections, part.patient.display_name
        own.add(key)
    return [w for w in check_parts(texts, names) if w.patient in own]


def _build(
    *,
    user: Any,
    session: Session,
    group_note: GroupNote | None,
    include: Iterable[str] = (),
    request: HttpRequest | None,
) -> GroupNoteScreen:
    require_perm(user, Perm.NOTE_VIEW)
    records = _attendance(session)
    notes = list(
        GroupNote.objects.for_org(session.organization_id)
        .filter(session=session)
        .select_related("author", "signed_by", "amends")
        .order_by("created_at", "id")
    )
    original = next((n for n in notes if n.amends_id is None), None)
    if group_note is None:
        group_note = original
    elif original is None or all(n.pk != group_note.pk for n in notes):
        notes.append(group_note)
    parts_by_note: dict[int, list[Note]] = {}
    if notes:
        all_parts = (
            Note.objects.for_org(session.organization_id)
            .filter(group_note__in=[n.pk for n in notes])
            .select_related("patient")
            .order_by("patient__last_name", "patient__first_name", "id")
        )
        for part in all_parts:
            parts_by_note.setdefault(part.group_note_id or 0, []).append(part)
    parts = parts_by_note.get(group_note.pk, []) if group_note is not None else []
    by_patient = {r.patient_id: r for r in records}
    include = set(include)
    cards: list[AttendeeCard] = []
    if group_note is not None:
        part_of = {p.patient_id: p for p in parts}
        if group_note.amends_id is None and not group_note.is_signed:
            # The draft's roster follows attendance: attendees without a part yet get a card
            # (the next save creates their part); a patient asked for by ``include`` too.
            wanted = [
                r
                for r in records
                if r.patient_id not in part_of
                and (r.status in ATTENDED or str(r.patient.public_id) in include)
            ]
        else:
            wanted = []
        for part in parts:
            record = by_patient.get(part.patient_id)
            attended = record is not None and record.status in ATTENDED
            cards.append(
                AttendeeCard(
                    key=str(part.patient.public_id),
                    patient=part.patient,
                    record=record,
                    part=part,
                    objectives=[],
                    flagged=not attended and part.amends_id is None and not group_note.is_signed,
                )
            )
        for record in wanted:
            cards.append(
                AttendeeCard(
                    key=str(record.patient.public_id),
                    patient=record.patient,
                    record=record,
                    part=None,
                    objectives=[],
                    flagged=record.status not in ATTENDED,
                )
            )
        cards.sort(key=lambda c: (c.patient.last_name, c.patient.first_name, c.key))
        episode_ids = {c.part.episode_id if c.part else c.record.episode_id for c in cards}  # type: ignore[union-attr]
        picked = {o for c in cards if c.part for o in c.part.objectives}
        options = objectives_for_episodes(
            organization_id=session.organization_id, episode_ids=episode_ids, also=picked
        )
        for card in cards:
            episode_id = card.part.episode_id if card.part else card.record.episode_id  # type: ignore[union-attr]
            mine = set(card.part.objectives) if card.part else set()
            card.objectives = [
                o for o in options.get(episode_id, []) if o.in_active_plan or o.public_id in mine
            ]
    on_cards = {c.patient.pk for c in cards}
    absent = [
        r
        for r in records
        if r.status not in ATTENDED
        and r.status != AttendanceRecord.Status.EXPECTED
        and r.patient_id not in on_cards
    ]
    expected = [
        r
        for r in records
        if r.status == AttendanceRecord.Status.EXPECTED and r.patient_id not in on_cards
    ]
    shown: dict[int, Patient] = {r.patient_id: r.patient for r in records}
    for note_parts in parts_by_note.values():
        for part in note_parts:
            shown[part.patient_id] = part.patient
    audit_log_many(
        actor=user,
        action="openiop.clinical.group_note.view",
        category=CAT,
        patients=shown.values(),
        request=request,
        detail={
            "session": str(session.public_id),
            "group_note": str(group_note.public_id) if group_note else "",
        },
    )
    return GroupNoteScreen(
        session=session,
        group_note=group_note,
        original=original,
        amendments=[n for n in notes if n.amends_id is not None],
        cards=cards,
        absent=absent,
        expected=expected,
        attendance_taken=any(r.is_recorded for r in records),
        can_write=user_has_perm(user, Perm.NOTE_WRITE),
        attendee_scores={},
        parts_by_note=parts_by_note,
        records=records,
    )


def group_note_for_session(
    *,
    user: Any,
    session: Session,
    include: Iterable[str] = (),
    request: HttpRequest | None = None,
) -> GroupNoteScreen:
    """The session's group-note screen (its original group note, or none yet), audited.

    ``include`` names patients (public ids) to give a card even when not attending, so text
    posted for them is shown again rather than dropped."""
    if session.organization_id != getattr(user, "organization_id", None):
        require_perm(user, Perm.NOTE_VIEW)
        raise Http404("not found")
    return _build(user=user, session=session, group_note=None, include=include, request=request)


def group_note_screen(
    *,
    user: Any,
    group_note: GroupNote,
    include: Iterable[str] = (),
    request: HttpRequest | None = None,
) -> GroupNoteScreen:
    """The screen for one group note (an original or an amendment), audited."""
    if group_note.organization_id != getattr(user, "organization_id", None):
        require_perm(user, Perm.NOTE_VIEW)
        raise Http404("not found")
    return _build(
        user=user,
        session=group_note.session,
        group_note=group_note,
        include=include,
        request=request,
    )


def group_note_list(
    *, user: Any, session: Session, request: HttpRequest | None = None
) -> list[GroupNote]:
    """The session's group notes: the original first, then its amendments, oldest first.

    Audited with one row naming every patient with a part in any of them."""
    require_perm(user, Perm.NOTE_VIEW)
    notes = list(
        GroupNote.objects.for_org(user.organization_id)
        .filter(session=session)
        .select_related("author", "signed_by", "amends")
        .order_by("created_at", "id")
    )
    notes.sort(key=lambda n: (n.amends_id is not None, n.created_at, n.pk))
    if notes:
        patients = Patient.objects.for_org(user.organization_id).filter(
            notes__group_note__in=[n.pk for n in notes]
        )
        audit_log_many(
            actor=user,
            action="openiop.clinical.group_note.list",
            category=CAT,
            patients=list(patients.distinct()),
            request=request,
            detail={"session": str(session.public_id), "group_notes": len(notes)},
        )
    return notes
