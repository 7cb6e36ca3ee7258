from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from conftest import NY
from openiop.attendance.models import AttendanceRecord
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode, TedsDischargeReason
from openiop.enrollment.services import (
    episode_create,
    episode_discharge,
    episode_hold,
    episode_resume,
    episode_transfer,
)
from openiop.organizations.models import Program
from openiop.patients.services import patient_create
from openiop.scheduling.services import series_create, series_enroll

NOW = dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC)
S = Episode.Status


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_admission_records_the_status_history_and_an_audit_row(episode, counselor):
    assert episode.status == S.ADMITTED
    assert episode.admitted_on == dt.date(2026, 11, 2)
    history = [(c.from_status, c.to_status) for c in episode.status_changes.all()]
    assert history == [("", S.WAITLISTED), (S.WAITLISTED, S.ADMITTED)]
    actions = set(
        AuditEvent.objects.filter(patient_id=str(episode.patient.public_id)).values_list(
            "action", flat=True
        )
    )
    assert {"openiop.enrollment.episode.create", "openiop.enrollment.episode.admit"} <= actions


def test_waitlisted_when_no_admission_date(patient, program):
    episode = episode_create(actor=None, patient=patient, program=program)
    assert episode.status == S.WAITLISTED
    assert episode.admitted_on is None


def test_a_patient_cannot_have_two_open_episodes(episode, site):
    other = Program.objects.create(organization=site.organization, site=site, name="Adult Day IOP")
    with pytest.raises(ValidationError) as err:
        episode_create(actor=None, patient=episode.patient, program=other, admitted_on=NOW.date())
    assert "already has an open episode" in str(err.value)
    assert Episode.objects.filter(patient=episode.patient).count() == 1


def test_adolescent_track_refuses_an_adult(patient, site):
    teens = Program.objects.create(
        organization=site.organization,
        site=site,
        name="Adolescent IOP",
        population=Program.Population.ADOLESCENT,
        min_age=14,
        max_age=17,
        weekly_min_hours=Decimal("6.0"),
    )
    with pytest.raises(ValidationError) as err:
        episode_create(actor=None, patient=patient, program=teens, admitted_on=NOW.date())
    assert "ages 14-17" in str(err.value)


def test_discharge_needs_a_teds_reason_and_a_sane_date(episode):
    with pytest.raises(ValidationError):
        episode_discharge(actor=None, episode=episode, discharged_on=NOW.date(), reason=9)
    with pytest.raises(ValidationError) as err:
        episode_discharge(
            actor=None,
            episode=episode,
            discharged_on=dt.date(2026, 10, 1),
            reason=TedsDischargeReason.COMPLETED,
        )
    assert "before admission" in str(err.value)
    episode.refresh_from_db()
    assert episode.status == S.ADMITTED


def test_discharge_releases_future_bookings_but_keeps_taken_attendance(episode, program, room):
    series = series_create(
        actor=None,
        program=program,
        title="Evening group",
        weekdays=[0, 2, 3],
        start_time=dt.time(18),
        duration_minutes=180,
        start_date=dt.date(2026, 11, 2),
        end_date=dt.date(2026, 11, 30),
        room=room,
    )
    booked = series_enroll(
        actor=None, series=series, episode=episode, from_date=dt.date(2026, 11, 2)
    )
    assert booked == 13
    past = AttendanceRecord.objects.filter(episode=episode).order_by("session__starts_at").first()
    AttendanceRecord.objects.filter(pk=past.pk).update(status="present", minutes_attended=180)
    episode_discharge(
        actor=None,
        episode=episode,
        discharged_on=dt.date(2026, 11, 18),
        reason=TedsDischargeReason.DROPPED_OUT,
    )
    remaining = AttendanceRecord.objects.filter(episode=episode)
    assert remaining.filter(status="present").count() == 1
    latest = max(r.session.starts_at for r in remaining.select_related("session"))
    assert latest.astimezone(NY).date() <= dt.date(2026, 11, 18)


def test_hold_and_resume_are_in_the_history(episode):
    with pytest.raises(ValidationError):
        episode_hold(actor=None, episode=episode, effective_on=NOW.date(), reason=" ")
    episode_hold(actor=None, episode=episode, effective_on=dt.date(2026, 11, 9), reason="Surgery")
    episode_resume(actor=None, episode=episode, effective_on=dt.date(2026, 11, 16))
    assert [c.to_status for c in episode.status_changes.all()][-2:] == [S.ON_HOLD, S.ACTIVE]


def test_stale_version_is_refused_not_overwritten(episode):
    stale_version = episode.version
    episode_hold(actor=None, episode=episode, effective_on=NOW.date(), reason="Travel")
    with pytest.raises(ValidationError) as err:
        episode_discharge(
            actor=None,
            episode=Episode.objects.get(pk=episode.pk),
            discharged_on=NOW.date(),
            reason=1,
            expected_version=stale_version,
        )
    assert "Someone else changed" in str(err.value)
    assert Episode.objects.get(pk=episode.pk).status == S.ON_HOLD


def test_transfer_closes_one_segment_and_opens_the_next(episode, site):
    day = Program.objects.create(organization=site.organization, site=site, name="Adult Day IOP")
    new = episode_transfer(
        actor=None,
        episode=episode,
        to_program=day,
        effective_on=dt.date(2026, 11, 16),
        reason="Step up",
    )
    old = Episode.objects.get(pk=episode.pk)
    assert old.status == S.DISCHARGED
    assert old.discharge_reason == TedsDischargeReason.TRANSFERRED
    assert new.program == day and new.status == S.ADMITTED
    assert new.transferred_from == old
    assert new.admitted_on == old.discharged_on == dt.date(2026, 11, 16)
    assert new.primary_substance == old.primary_substance


def test_patient_in_another_org_cannot_join_our_program(other_org, program):
    stranger = patient_create(
        actor=None,
        organization=other_org,
        first_name="A",
        last_name="B",
        date_of_birth=dt.date(1990, 1, 1),
    )
    with pytest.raises(ValidationError):
        episode_create(actor=None, patient=stranger, program=program, admitted_on=NOW.date())


def test_discharge_stops_the_patients_calendar_link_but_transfer_keeps_it(episode, site):
    from openiop.scheduling.feeds import calendar_feed_active, calendar_feed_create

    calendar_feed_create(actor=None, patient=episode.patient)
    day = Program.objects.create(organization=site.organization, site=site, name="Adult Day IOP")
    new = episode_transfer(
        actor=None, episode=episode, to_program=day, effective_on=dt.date(2026, 11, 16)
    )
    assert calendar_feed_active(patient=episode.patient) is not None
    episode_discharge(
        actor=None,
        episode=new,
        discharged_on=dt.date(2026, 11, 18),
        reason=TedsDischargeReason.COMPLETED,
    )
    assert calendar_feed_active(patient=episode.patient) is None
