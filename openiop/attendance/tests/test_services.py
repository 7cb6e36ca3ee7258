from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from openiop.attendance.models import AttendanceRecord
from openiop.attendance.services import AttendanceEntry, attendance_record
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.enrollment.services import episode_create
from openiop.patients.services import patient_create
from openiop.scheduling.models import Session
from openiop.scheduling.services import session_book, session_create

# Wednesday 2026-11-04, 18:00-21:00 in New York = 23:00-02:00 UTC.
START = dt.datetime(2026, 11, 4, 23, 0, tzinfo=dt.UTC)
DURING = START + dt.timedelta(hours=1)


@pytest.fixture
def session(program, episode, room):
    s = session_create(
        actor=None,
        program=program,
        title="Evening group",
        starts_at=START,
        ends_at=START + dt.timedelta(hours=3),
        room=room,
    )
    session_book(actor=None, session=s, episode=episode)
    return s


@pytest.fixture
def second(org, program, session):
    p = patient_create(
        actor=None,
        organization=org,
        first_name="Luis",
        last_name="Ortega",
        date_of_birth=dt.date(1991, 2, 2),
    )
    e = episode_create(actor=None, patient=p, program=program, admitted_on=dt.date(2026, 11, 2))
    session_book(actor=None, session=session, episode=e)
    return p


@time_machine.travel(DURING, tick=False)
def test_present_defaults_to_the_whole_session_and_activates_the_episode(
    session, patient, front_desk
):
    [(record, changed)] = attendance_record(
        actor=front_desk,
        session=session,
        entries=[AttendanceEntry(patient=patient, status="present")],
    )
    assert changed and record.minutes_attended == 180
    assert Episode.objects.get(patient=patient).status == Episode.Status.ACTIVE
    assert Session.objects.get(pk=session.pk).status == Session.Status.HELD
    assert AuditEvent.objects.filter(
        action="openiop.attendance.record.update", patient_id=str(patient.public_id)
    ).exists()


@time_machine.travel(DURING, tick=False)
def test_same_check_in_twice_changes_nothing(session, patient, front_desk):
    entry = AttendanceEntry(patient=patient, status="late", minutes_attended=150)
    attendance_record(actor=front_desk, session=session, entries=[entry])
    audit_rows = AuditEvent.objects.count()
    [(record, changed)] = attendance_record(actor=front_desk, session=session, entries=[entry])
    assert not changed
    assert AttendanceRecord.objects.filter(session=session, patient=patient).count() == 1
    assert record.minutes_attended == 150
    assert AuditEvent.objects.count() == audit_rows


@time_machine.travel(DURING, tick=False)
def test_the_database_refuses_a_second_record_for_the_same_session_and_patient(
    session, patient, front_desk
):
    """Even code that bypasses the service (an import, a second worker racing the first)
    cannot write two attendance rows for one person in one session."""
    entry = AttendanceEntry(patient=patient, status="present")
    [(record, _)] = attendance_record(actor=front_desk, session=session, entries=[entry])
    with pytest.raises(IntegrityError), transaction.atomic():
        AttendanceRecord.objects.create(
            organization=record.organization, session=session, patient=patient,
            episode=record.episode, status="absent", minutes_attended=0,
        )  # fmt: skip
    assert AttendanceRecord.objects.filter(session=session, patient=patient).count() == 1
    record.refresh_from_db()
    assert record.status == "present"


@time_machine.travel(DURING, tick=False)
def test_a_bad_entry_saves_nothing_for_the_whole_group(session, patient, second, front_desk):
    with pytest.raises(ValidationError) as err:
        attendance_record(
            actor=front_desk,
            session=session,
            entries=[
                AttendanceEntry(patient=patient, status="present"),
                AttendanceEntry(patient=second, status="present", minutes_attended=500),
            ],
        )
    assert "Luis Ortega" in str(err.value) and "180 minutes" in str(err.value)
    assert not AttendanceRecord.objects.exclude(status="expected").exists()


@time_machine.travel(DURING, tick=False)
def test_absent_is_zero_minutes_and_late_uses_check_in_time(session, patient, second, front_desk):
    results = attendance_record(
        actor=front_desk,
        session=session,
        entries=[
            AttendanceEntry(patient=patient, status="absent"),
            AttendanceEntry(
                patient=second, status="late", checked_in_at=START + dt.timedelta(minutes=40)
            ),
        ],
    )
    minutes = {rec.patient.last_name: rec.minutes_attended for rec, _ in results}
    assert minutes == {"Whitfield": 0, "Ortega": 140}


@time_machine.travel(START - dt.timedelta(hours=2), tick=False)
def test_attendance_cannot_be_taken_before_the_session(session, patient, front_desk):
    with pytest.raises(ValidationError, match="not started"):
        attendance_record(
            actor=front_desk,
            session=session,
            entries=[AttendanceEntry(patient=patient, status="present")],
        )


@time_machine.travel(DURING, tick=False)
def test_walk_in_from_the_program_is_added_to_the_roster(session, org, program, front_desk):
    p = patient_create(
        actor=None,
        organization=org,
        first_name="Ana",
        last_name="Reyes",
        date_of_birth=dt.date(1985, 3, 3),
    )
    episode_create(actor=None, patient=p, program=program, admitted_on=dt.date(2026, 11, 4))
    attendance_record(
        actor=front_desk, session=session, entries=[AttendanceEntry(patient=p, status="present")]
    )
    assert session.attendance.filter(patient=p, status="present").exists()


@time_machine.travel(DURING, tick=False)
def test_patient_not_in_the_program_is_refused(session, org, front_desk):
    p = patient_create(
        actor=None,
        organization=org,
        first_name="Ned",
        last_name="Nobody",
        date_of_birth=dt.date(1985, 3, 3),
    )
    with pytest.raises(ValidationError, match="not enrolled"):
        attendance_record(
            actor=front_desk,
            session=session,
            entries=[AttendanceEntry(patient=p, status="present")],
        )
