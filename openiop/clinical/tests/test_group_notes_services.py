"""Group notes: start from attendance, save with a version check, roster sync, sign, amend."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.attendance.models import AttendanceRecord
from openiop.attendance.services import AttendanceEntry, attendance_record
from openiop.clinical.models import (
    GroupNote,
    Note,
    NoteSignedError,
    PlanGoal,
    PlanObjective,
    PlanProblem,
    TreatmentPlan,
)
from openiop.clinical.selectors.group_notes import group_note_for_session, group_note_list
from openiop.clinical.services.group_notes import (
    GroupNoteConflict,
    GroupNoteIncomplete,
    GroupNoteQualityWarnings,
    group_note_amend,
    group_note_save,
    group_note_sign,
    group_note_start,
)
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_create
from openiop.patients.services import patient_create
from openiop.scheduling.models import Session
from openiop.scheduling.services import session_book, session_create

START = dt.datetime(2026, 11, 10, 23, 0, tzinfo=dt.UTC)  # 18:00 in New York
DURING = START + dt.timedelta(minutes=30)
AFTER = START + dt.timedelta(hours=4)
NAMES = [
    ("Avery", "Alder"),
    ("Blake", "Birch"),
    ("Casey", "Cedar"),
    ("Devon", "Dogwood"),
    ("Emery", "Elm"),
    ("Finley", "Fir"),
    ("Gray", "Ginkgo"),
    ("Harper", "Hazel"),
]


@dataclass
class Group:
    session: Session
    patients: list
    episodes: list
    objectives: dict  # patient key -> [objective public id]

    def key(self, i: int) -> str:
        return str(self.patients[i].public_id)


def active_plan(episode, counselor, texts=("Attend 3 groups a week", "Name 2 coping skills")):
    plan = TreatmentPlan.objects.create(
        organization=episode.organization,
        episode=episode,
        patient=episode.patient,
        status=TreatmentPlan.Status.ACTIVE,
        clinician_signed_by=counselor,
        clinician_signed_at=START - dt.timedelta(days=5),
        patient_signature=episode.patient.display_name,
        patient_signed_at=START - dt.timedelta(days=5),
        effective_on=dt.date(2026, 11, 5),
        next_review_on=dt.date(2026, 12, 5),
    )
    problem = PlanProblem.objects.create(
        organization=episode.organization, plan=plan, description="Alcohol use", icd10_code="F10.20"
    )
    goal = PlanGoal.objects.create(
        organization=episode.organization, problem=problem, text="I want to stay sober"
    )
    return [
        str(
            PlanObjective.objects.create(
                organization=episode.organization, goal=goal, text=text, position=i
            ).public_id
        )
        for i, text in enumerate(texts)
    ]


def make_group(org, program, counselor, statuses, *, plans=True) -> Group:
    """A group session with one booked patient per status; attendance recorded for every
    status except "expected"."""
    with time_machine.travel(START - dt.timedelta(days=1), tick=False):
        session = session_create(
            actor=None,
            program=program,
            title="Evening process group",
            starts_at=START,
            ends_at=START + dt.timedelta(hours=3),
        )
        patients, episodes, objectives = [], [], {}
        for (first, last), _ in zip(NAMES, statuses, strict=False):
            patient = patient_create(
                actor=None,
                organization=org,
                first_name=first,
                last_name=last,
                date_of_birth=dt.date(1985, 6, 1),
            )
            episode = episode_create(
                actor=None, patient=patient, program=program, admitted_on=dt.date(2026, 11, 2)
            )
            session_book(actor=None, session=session, episode=episode)
            patients.append(patient)
            episodes.append(episode)
            if plans:
                objectives[str(patient.public_id)] = active_plan(episode, counselor)
    entries = [
        AttendanceEntry(patient=p, status=s)
        for p, s in zip(patients, statuses, strict=True)
        if s != "expected"
    ]
    if entries:
        with time_machine.travel(DURING, tick=False):
            attendance_record(actor=counselor, session=session, entries=entries)
    return Group(session, patients, episodes, objectives)


def part_text(name: str, detail: str) -> dict:
    return {
        "sections": {
            "participation": f"{name} shared about {detail} and listened to peers.",
            "response": f"{name} responded to feedback about {detail} with insight.",
            "progress": f"{name} is progressing on the objective about {detail}.",
            "risk": "Denies SI/HI.",
        }
    }


SHARED = {
    "topic": "Relapse prevention",
    "curriculum_module": "Module 3: triggers",
    "interventions": "CBT skills practice; motivational interviewing.",
    "narrative": "The group mapped personal triggers and rehearsed refusal skills.",
}


def change_attendance(group, counselor, i, status):
    with time_machine.travel(DURING, tick=False):
        attendance_record(
            actor=counselor,
            session=group.session,
            entries=[AttendanceEntry(patient=group.patients[i], status=status)],
        )


@pytest.fixture
def group(org, program, counselor) -> Group:
    return make_group(org, program, counselor, ["present", "late", "absent"])


def parts_of(group_note):
    return {str(p.patient.public_id): p for p in group_note.parts.select_related("patient")}


def test_start_needs_attendance_first(org, program, counselor):
    fresh = make_group(org, program, counselor, ["expected", "expected"])
    with pytest.raises(ValidationError, match="Take attendance first"):
        group_note_start(actor=counselor, session=fresh.session)
    assert not GroupNote.objects.exists()


def test_start_gives_a_part_to_each_attendee_and_none_to_the_absent(group, counselor):
    with time_machine.travel(AFTER, tick=False):
        group_note = group_note_start(actor=counselor, session=group.session)
    parts = parts_of(group_note)
    assert set(parts) == {group.key(0), group.key(1)}
    assert all(p.kind == "group_individualized" and p.format == "GRP" for p in parts.values())
    assert all(p.status == "draft" and p.session_id == group.session.pk for p in parts.values())
    assert parts[group.key(0)].episode_id == group.episodes[0].pk
    # Starting again (a double click) returns the same note.
    assert group_note_start(actor=counselor, session=group.session).pk == group_note.pk
    assert GroupNote.objects.count() == 1
    assert AuditEvent.objects.filter(
        action="openiop.clinical.group_note.create", category="clinical"
    ).exists()


def test_start_refuses_a_group_where_nobody_attended(org, program, counselor):
    fresh = make_group(org, program, counselor, ["absent", "excused"])
    with pytest.raises(ValidationError, match="nobody attended"):
        group_note_start(actor=counselor, session=fresh.session)


def test_roles_without_note_write_and_outsiders_cannot_start(group, front_desk, outsider):
    with pytest.raises(PermissionDenied):
        group_note_start(actor=front_desk, session=group.session)
    with pytest.raises(PermissionDenied):
        group_note_start(actor=outsider, session=group.session)


def test_save_writes_shared_text_parts_and_objectives_with_a_version(group, counselor):
    group_note = group_note_start(actor=counselor, session=group.session)
    picked = group.objectives[group.key(0)][:1]
    saved = group_note_save(
        actor=counselor,
        group_note=group_note,
        **SHARED,
        parts={
            group.key(0): {**part_text("Avery", "a family party"), "objectives": picked},
            group.key(1): part_text("Blake", "work stress"),
        },
        expected_version=1,
    )
    assert saved.version == 2
    assert saved.narrative == SHARED["narrative"]
    parts = parts_of(saved)
    assert parts[group.key(0)].objectives == picked
    assert parts[group.key(1)].sections["participation"].startswith("Blake shared")


def test_an_objective_from_another_patients_plan_is_refused(group, counselor):
    group_note = group_note_start(actor=counselor, session=group.session)
    theirs = group.objectives[group.key(1)][0]
    with pytest.raises(ValidationError, match="their own active plan"):
        group_note_save(
            actor=counselor,
            group_note=group_note,
            parts={group.key(0): {"objectives": [theirs]}},
            expected_version=1,
        )
    assert parts_of(group_note)[group.key(0)].objectives == []


def test_a_stale_save_is_a_conflict_that_keeps_the_submitted_text(group, counselor, supervisor):
    group_note = group_note_start(actor=counselor, session=group.session)
    group_note_save(actor=supervisor, group_note=group_note, topic="Theirs", expected_version=1)
    mine = part_text("Avery", "my text")
    with pytest.raises(GroupNoteConflict) as caught:
        group_note_save(
            actor=counselor,
            group_note=group_note,
            topic="Mine",
            parts={group.key(0): mine},
            expected_version=1,
        )
    assert caught.value.current_version == 2
    assert caught.value.shared["topic"] == "Mine"
    assert caught.value.parts[group.key(0)] == mine
    group_note.refresh_from_db()
    assert group_note.topic == "Theirs"
    assert parts_of(group_note)[group.key(0)].sections == {}


def test_roster_follows_attendance_while_draft(group, counselor):
    group_note = group_note_start(actor=counselor, session=group.session)
    # Avery (text) and Blake (empty) are then marked absent; Casey turns out to have attended.
    group_note_save(
        actor=counselor,
        group_note=group_note,
        parts={group.key(0): part_text("Avery", "cravings")},
        expected_version=1,
    )
    change_attendance(group, counselor, 0, "absent")
    change_attendance(group, counselor, 1, "absent")
    change_attendance(group, counselor, 2, "present")
    group_note = group_note_save(actor=counselor, group_note=group_note, expected_version=2)
    parts = parts_of(group_note)
    assert set(parts) == {group.key(0), group.key(2)}  # Blake's empty part is gone
    assert parts[group.key(0)].sections["participation"].startswith("Avery")  # text kept
    screen = group_note_for_session(user=counselor, session=group.session)
    assert [c.patient.last_name for c in screen.flagged] == ["Alder"]
    assert [r.patient.last_name for r in screen.absent] == ["Birch"]
    # The kept part of an absent patient blocks signing until resolved.
    group_note_save(
        actor=counselor,
        group_note=group_note,
        **SHARED,
        parts={group.key(2): part_text("Casey", "sleep")},
        expected_version=group_note.version,
    )
    with pytest.raises(GroupNoteIncomplete) as caught:
        group_note_sign(actor=counselor, group_note=group_note, expected_version=4)
    assert "absent patients get no note" in caught.value.parts[group.key(0)][0]
    # Clearing the text removes the part; then it signs.
    empty = {"sections": dict.fromkeys(("participation", "response", "progress", "risk"), "")}
    group_note = group_note_save(
        actor=counselor, group_note=group_note, parts={group.key(0): empty}, expected_version=4
    )
    assert set(parts_of(group_note)) == {group.key(2)}
    signed = group_note_sign(actor=counselor, group_note=group_note, expected_version=5)
    assert signed.is_signed


def test_sign_refuses_an_empty_narrative_or_required_sections(group, counselor):
    group_note = group_note_start(actor=counselor, session=group.session)
    group_note_save(
        actor=counselor,
        group_note=group_note,
        parts={group.key(0): part_text("Avery", "a party"), group.key(1): {"sections": {}}},
        expected_version=1,
    )
    with pytest.raises(GroupNoteIncomplete) as caught:
        group_note_sign(actor=counselor, group_note=group_note, expected_version=2)
    assert set(caught.value.shared) == {"topic", "interventions", "narrative"}
    assert "write the participation and response" in caught.value.parts[group.key(1)][0]
    assert group.key(0) not in caught.value.parts
    group_note.refresh_from_db()
    assert group_note.status == "draft"


def test_copied_parts_warn_and_need_acknowledging(group, counselor):
    group_note = group_note_start(actor=counselor, session=group.session)
    same = part_text("The patient", "triggers at home")
    group_note_save(
        actor=counselor,
        group_note=group_note,
        **SHARED,
        parts={group.key(0): same, group.key(1): same},
        expected_version=1,
    )
    with pytest.raises(GroupNoteQualityWarnings) as caught:
        group_note_sign(actor=counselor, group_note=group_note, expected_version=2)
    messages = [w.message for w in caught.value.warnings]
    assert any("Avery Alder" in m and "Blake Birch" in m for m in messages)
    group_note.refresh_from_db()
    assert group_note.status == "draft"
    with time_machine.travel(AFTER, tick=False):
        signed = group_note_sign(
            actor=counselor, group_note=group_note, expected_version=2, acknowledge_warnings=True
        )
    assert signed.is_signed
    event = AuditEvent.objects.filter(action="openiop.clinical.group_note.sign").get()
    assert event.detail["acknowledged_warnings"] == messages


def test_sign_signs_the_note_and_every_part_in_one_go(group, counselor, supervisor):
    counselor.cosigner = supervisor
    counselor.save()
    group_note = group_note_start(actor=counselor, session=group.session)
    group_note_save(
        actor=counselor,
        group_note=group_note,
        **SHARED,
        parts={
            group.key(0): part_text("Avery", "a family party"),
            group.key(1): part_text("Blake", "overtime at the warehouse"),
        },
        expected_version=1,
    )
    with pytest.raises(PermissionDenied):
        group_note_sign(actor=supervisor, group_note=group_note, expected_version=2)
    with time_machine.travel(AFTER, tick=False):
        signed = group_note_sign(actor=counselor, group_note=group_note, expected_version=2)
    assert (signed.status, signed.signed_by, signed.cosign_required) == ("signed", counselor, True)
    parts = parts_of(signed)
    assert {p.status for p in parts.values()} == {"signed"}
    late = parts[group.key(1)]  # marked late: from the session start for the minutes recorded
    record = AttendanceRecord.objects.get(session=group.session, patient=group.patients[1])
    assert late.duration_minutes == record.minutes_attended
    assert not Note.objects.filter(patient=group.patients[2]).exists()
    # Signed: no path edits it.
    with pytest.raises(ValidationError):
        group_note_save(actor=counselor, group_note=signed, topic="x", expected_version=3)
    with pytest.raises(NoteSignedError):
        late.save()
    with pytest.raises(ValidationError, match="already signed"):
        group_note_sign(actor=counselor, group_note=signed, expected_version=3)


def signed_group(group, counselor) -> GroupNote:
    group_note = group_note_start(actor=counselor, session=group.session)
    group_note_save(
        actor=counselor,
        group_note=group_note,
        **SHARED,
        parts={
            group.key(0): part_text("Avery", "a family party"),
            group.key(1): part_text("Blake", "overtime at the warehouse"),
        },
        expected_version=1,
    )
    return group_note_sign(actor=counselor, group_note=group_note, expected_version=2)


def test_after_signing_the_roster_changes_only_through_an_amendment(group, counselor):
    original = signed_group(group, counselor)
    change_attendance(group, counselor, 2, "present")  # Casey was there after all
    with pytest.raises(ValidationError, match="reason"):
        group_note_amend(actor=counselor, group_note=original, reason=" ", add_patients=[])
    with pytest.raises(ValidationError, match="already has a part"):
        group_note_amend(
            actor=counselor, group_note=original, reason="Late entry", add_patients=[group.key(0)]
        )
    amendment = group_note_amend(
        actor=counselor,
        group_note=original,
        reason="Casey attended; attendance was corrected.",
        add_patients=[group.key(2)],
        correct_patients=[group.key(1)],
    )
    assert amendment.amends == original and amendment.topic == SHARED["topic"]
    parts = parts_of(amendment)
    assert set(parts) == {group.key(1), group.key(2)}
    correction = parts[group.key(1)]
    assert correction.amends == parts_of(original)[group.key(1)]
    assert correction.sections == parts_of(original)[group.key(1)].sections
    # The amendment is written on the same screen and signed the same way.
    group_note_save(
        actor=counselor,
        group_note=amendment,
        **SHARED,
        parts={
            group.key(1): part_text("Blake", "overtime and a new sponsor"),
            group.key(2): part_text("Casey", "sleep and cravings"),
        },
        expected_version=1,
    )
    group_note_sign(actor=counselor, group_note=amendment, expected_version=2)
    original.refresh_from_db()
    assert original.is_signed and set(parts_of(original)) == {group.key(0), group.key(1)}
    assert parts_of(original)[group.key(1)].sections["participation"].startswith("Blake shared")
    notes = group_note_list(user=counselor, session=group.session)
    assert [n.pk for n in notes] == [original.pk, amendment.pk]


def test_an_amendment_cannot_add_an_absent_patient(group, counselor):
    original = signed_group(group, counselor)
    with pytest.raises(ValidationError, match="marked absent"):
        group_note_amend(
            actor=counselor, group_note=original, reason="Add Casey", add_patients=[group.key(2)]
        )


def test_an_amendment_that_copies_a_signed_part_warns(group, counselor):
    original = signed_group(group, counselor)
    change_attendance(group, counselor, 2, "present")
    amendment = group_note_amend(
        actor=counselor, group_note=original, reason="Missed", add_patients=[group.key(2)]
    )
    copied = {"sections": parts_of(original)[group.key(0)].sections}
    group_note_save(
        actor=counselor,
        group_note=amendment,
        **SHARED,
        parts={group.key(2): copied},
        expected_version=1,
    )
    with pytest.raises(GroupNoteQualityWarnings) as caught:
        group_note_sign(actor=counselor, group_note=amendment, expected_version=2)
    assert {w.patient for w in caught.value.warnings} == {group.key(2)}


def test_the_screen_is_audited_for_every_attendee_shown(group, counselor):
    group_note_start(actor=counselor, session=group.session)
    screen = group_note_for_session(user=counselor, session=group.session)
    assert [c.patient.last_name for c in screen.cards] == ["Alder", "Birch"]
    assert [o.number for o in screen.cards[0].objectives] == ["1.1.1", "1.1.2"]
    assert screen.attendee_scores == {}
    event = AuditEvent.objects.filter(action="openiop.clinical.group_note.view").last()
    assert sorted(event.detail["patients"]) == sorted(str(p.public_id) for p in group.patients)
    assert event.category == "clinical"


def _screen_queries(user, session) -> int:
    with CaptureQueriesContext(connection) as ctx:
        group_note_for_session(user=user, session=session)
    return len(ctx.captured_queries)


def test_the_screen_costs_the_same_queries_for_two_or_eight_attendees(
    org, program, counselor, site
):
    small = make_group(org, program, counselor, ["present", "present"])
    big = make_group(org, program, counselor, ["present"] * 7 + ["absent"])
    for g in (small, big):
        group_note_start(actor=counselor, session=g.session)
    counselor = type(counselor).objects.get(pk=counselor.pk)
    _screen_queries(counselor, small.session)  # warm the role cache
    assert _screen_queries(counselor, big.session) == _screen_queries(counselor, small.session)
    assert _screen_queries(counselor, big.session) <= 12


def test_demo_seeds_signed_varied_notes_for_past_groups_only(org, program, counselor):
    import random

    from openiop.clinical.demo_group_notes import seed_group_notes
    from openiop.clinical.selectors.group_notes import group_note_quality

    past = make_group(org, program, counselor, ["present", "late", "present", "absent"])
    counts = seed_group_notes(
        organization=org,
        sessions=[past.session],
        counselors=[counselor],
        rng=random.Random(7),
        today=dt.date(2026, 11, 11),
    )
    assert counts == {"group_notes": 1, "parts": 3, "today_without_note": 0}
    note = GroupNote.objects.get()
    assert note.is_signed and note.author == counselor and note.narrative
    parts = list(note.parts.select_related("patient"))
    assert {p.status for p in parts} == {"signed"}
    assert group_note_quality(note, parts) == []
    assert all(p.objectives for p in parts)
    # A group on the demo's today is left without a note.
    today = make_group(org, program, counselor, ["present"])
    counts = seed_group_notes(
        organization=org,
        sessions=[today.session],
        counselors=[counselor],
        rng=random.Random(7),
        today=dt.date(2026, 11, 10),
    )
    assert counts == {"group_notes": 0, "parts": 0, "today_without_note": 1}
