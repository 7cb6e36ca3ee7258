"""Recording responses, raising and following up alerts, schedules and the read selectors."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from conftest import make_user
from openiop.accounts.permissions import Role
from openiop.core.models import AuditEvent
from openiop.questionnaires import schedule, selectors, services
from openiop.questionnaires.models import (
    ClinicalAlert,
    QuestionnaireResponse,
    QuestionnaireSchedule,
)
from openiop.scheduling.models import ClinicianProgram

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)
PHQ9_OK = [1, 1, 1, 1, 1, 1, 1, 1, 0]
PHQ9_SI = [2, 2, 1, 2, 1, 2, 1, 1, 1]


def record(actor, episode, instrument="phq9", answers=PHQ9_OK, **kw):
    return services.response_record(
        actor=actor, patient=episode.patient, episode=episode, instrument=instrument,
        answers=answers, **kw,
    )  # fmt: skip


@time_machine.travel(NOW, tick=False)
def test_record_scores_and_stores_answers_by_link_id(counselor, episode):
    response = record(counselor, episode)
    response.refresh_from_db()
    assert (response.total, response.severity, response.flags) == (8, "mild", [])
    assert response.answers["44260-8"] == 0 and len(response.answers) == 9
    assert response.instrument_version == "1"
    assert response.administered_by == counselor
    assert response.administered_at == NOW
    assert not ClinicalAlert.objects.exists()
    event = AuditEvent.objects.filter(action="openiop.questionnaires.response.create").get()
    assert event.category == AuditEvent.Category.CLINICAL
    assert event.patient_id == str(episode.patient.public_id)


@time_machine.travel(NOW, tick=False)
def test_phq9_item9_raises_an_alert_for_the_primary_counselor(supervisor, counselor, episode):
    response = record(supervisor, episode, answers=PHQ9_SI)
    alert = ClinicalAlert.objects.get()
    assert alert.kind == "suicidal_ideation"
    assert alert.response == response and alert.episode == episode
    assert alert.assigned_to == counselor  # the episode's counselor, not whoever gave it
    assert alert.is_open
    assert AuditEvent.objects.filter(action="openiop.questionnaires.alert.raise").count() == 1


def test_cssrs_high_risk_raises_a_high_risk_alert(counselor, episode):
    record(counselor, episode, instrument="cssrs", answers=[1, 1, 1, 0, 1, 0])
    assert list(ClinicalAlert.objects.values_list("kind", flat=True)) == ["high_risk"]


def test_non_safety_flags_raise_no_alert(counselor, episode):
    response = record(
        counselor, episode, instrument="audit", answers=[3, 1, 2, 0, 0, 0, 2, 0, 2, 4]
    )
    assert response.flags == ["harm_in_past_year"]
    assert not ClinicalAlert.objects.exists()


def test_without_an_episode_the_open_episode_is_used_so_the_alert_reaches_a_counselor(
    counselor, episode
):
    services.response_record(
        actor=counselor, patient=episode.patient, episode=None, instrument="phq9",
        answers=PHQ9_SI,
    )  # fmt: skip
    alert = ClinicalAlert.objects.get()
    assert (alert.episode, alert.assigned_to) == (episode, counselor)


def test_patient_sex_is_used_for_auditc_cutoff(counselor, episode):
    # the fixture patient is female: 3 is positive
    response = record(counselor, episode, instrument="auditc", answers=[1, 1, 1])
    assert response.positive is True
    male = record(counselor, episode, instrument="auditc", answers=[1, 1, 1], sex="male")
    assert male.positive is False


def test_bad_answers_raise_validation_error_naming_the_item_and_save_nothing(counselor, episode):
    with pytest.raises(ValidationError) as info:
        record(counselor, episode, answers=[0, 0, 5, 0, 0, 0, 0, 0, 0])
    assert info.value.message_dict == {
        "44259-0": ["item 3 (linkId 44259-0): 5 is not one of 0, 1, 2, 3"]
    }
    with pytest.raises(ValidationError, match="unknown instrument"):
        record(counselor, episode, instrument="phq2", answers=[0, 0])
    assert not QuestionnaireResponse.objects.exists()


def test_another_organizations_staff_cannot_record(outsider, episode):
    with pytest.raises(ValidationError):
        record(outsider, episode)
    assert not QuestionnaireResponse.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_future_administration_is_refused(counselor, episode):
    with pytest.raises(ValidationError, match="future"):
        record(counselor, episode, administered_at=NOW + dt.timedelta(days=1))


def test_follow_up_closes_the_alert_with_who_and_what(counselor, supervisor, episode):
    record(counselor, episode, answers=PHQ9_SI)
    alert = ClinicalAlert.objects.get()
    done = services.alert_follow_up(actor=supervisor, alert=alert, note="Safety plan reviewed.")
    assert not done.is_open
    assert (done.followed_up_by, done.follow_up_note) == (supervisor, "Safety plan reviewed.")
    assert AuditEvent.objects.filter(action="openiop.questionnaires.alert.follow_up").exists()
    with pytest.raises(ValidationError, match="already followed up"):
        services.alert_follow_up(actor=supervisor, alert=alert, note="again")


def test_follow_up_needs_a_note(counselor, episode):
    record(counselor, episode, answers=PHQ9_SI)
    alert = ClinicalAlert.objects.get()
    with pytest.raises(ValidationError, match="Describe the follow-up"):
        services.alert_follow_up(actor=counselor, alert=alert, note="   ")
    alert.refresh_from_db()
    assert alert.is_open


def test_database_refuses_closing_an_alert_without_note_or_person(counselor, episode):
    record(counselor, episode, answers=PHQ9_SI)
    alert = ClinicalAlert.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        ClinicalAlert.objects.filter(pk=alert.pk).update(followed_up_at=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        ClinicalAlert.objects.filter(pk=alert.pk).update(
            followed_up_at=NOW, followed_up_by=counselor, follow_up_note=""
        )
    alert.refresh_from_db()
    assert alert.is_open


# -- selectors -------------------------------------------------------------------------------


def test_alert_list_open_puts_the_users_own_alerts_first(org, counselor, supervisor, episode):
    from openiop.enrollment.services import episode_create
    from openiop.patients.services import patient_create

    other_counselor = make_user("other_c", org, Role.COUNSELOR)
    p2 = patient_create(
        actor=None, organization=org, first_name="Ari", last_name="Stone",
        date_of_birth=dt.date(1990, 1, 1), sex="male", phone="555-0101",
    )  # fmt: skip
    ep2 = episode_create(
        actor=None, patient=p2, program=episode.program, admitted_on=dt.date(2026, 11, 3),
        referral_source="self", primary_substance=2, primary_counselor=other_counselor,
    )  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        record(supervisor, ep2, answers=PHQ9_SI)
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        record(supervisor, episode, answers=PHQ9_SI)
    # A counselor sees only their caseload: outside the program, Ari's alert is not listed.
    assert [a.patient for a in selectors.alert_list_open(counselor)] == [episode.patient]
    # Both counselors lead groups in the program, so both patients are in both caseloads.
    for user in (counselor, other_counselor):
        ClinicianProgram.objects.create(organization=org, user=user, program=episode.program)
    mine = selectors.alert_list_open(counselor)
    assert [a.patient for a in mine] == [episode.patient, p2]
    theirs = selectors.alert_list_open(other_counselor)
    assert [a.patient for a in theirs] == [p2, episode.patient]
    closed = mine[0]
    services.alert_follow_up(actor=counselor, alert=closed, note="Called, safe.")
    assert [a.patient for a in selectors.alert_list_open(counselor)] == [p2]


def test_alert_list_is_empty_for_roles_without_clinical_access(front_desk, counselor, episode):
    record(counselor, episode, answers=PHQ9_SI)
    assert selectors.alert_list_open(front_desk) == []


def test_alert_list_is_scoped_to_the_organization(outsider, counselor, episode):
    record(counselor, episode, answers=PHQ9_SI)
    assert selectors.alert_list_open(outsider) == []


def test_score_trend_is_oldest_first_and_audited(counselor, episode):
    for day, answers in ((2, [3] * 8 + [0]), (16, PHQ9_OK)):
        with time_machine.travel(dt.datetime(2026, 11, day, 15, tzinfo=dt.UTC), tick=False):
            record(counselor, episode, answers=answers)
    points = selectors.score_trend(user=counselor, patient=episode.patient, instrument="phq9")
    assert [(p.on.day, p.value, p.severity) for p in points] == [
        (2, 24, "severe"), (16, 8, "mild"),
    ]  # fmt: skip
    assert AuditEvent.objects.filter(action="openiop.questionnaires.response.list").count() == 1


def test_latest_scores_for_attendees(counselor, episode):
    record(counselor, episode, answers=PHQ9_SI)
    record(counselor, episode, instrument="bam", answers=[1] * 19 + [4] + [1] * 3)
    out = selectors.latest_scores_for_patients(user=counselor, patients=[episode.patient])
    texts = {s.instrument: (s.text, s.flagged) for s in out[episode.patient.pk]}
    assert texts == {
        "phq9": ("13 moderate", True),
        "bam": ("use 3 · risk 6 · protective 9", False),
    }


def test_questionnaires_due_follows_the_program_schedule(counselor, episode):
    QuestionnaireSchedule.objects.create(
        organization=episode.organization, program=episode.program, instrument="phq9",
        at_admission=True, every_n_days=14, at_discharge=True,
    )  # fmt: skip
    due = selectors.questionnaires_due(episode, dt.date(2026, 11, 3))
    assert [(d.instrument, d.reason, d.due_on) for d in due] == [
        ("phq9", "admission", dt.date(2026, 11, 2))
    ]
    with time_machine.travel(dt.datetime(2026, 11, 3, 15, tzinfo=dt.UTC), tick=False):
        record(counselor, episode)
    assert selectors.questionnaires_due(episode, dt.date(2026, 11, 16)) == []
    due = selectors.questionnaires_due(episode, dt.date(2026, 11, 18))
    assert [(d.reason, d.due_on, d.days_overdue) for d in due] == [
        ("periodic", dt.date(2026, 11, 17), 1)
    ]


# -- pure schedule ---------------------------------------------------------------------------

D = dt.date


def test_schedule_nothing_due_before_admission():
    rule = schedule.Rule("phq9", every_n_days=14)
    assert (
        schedule.due_items([rule], admitted_on=D(2026, 11, 2), today=D(2026, 11, 1), given={}) == []
    )


def test_schedule_intake_response_before_admission_counts_for_admission():
    rule = schedule.Rule("phq9", at_admission=True)
    given = {"phq9": [D(2026, 10, 30)]}
    assert (
        schedule.due_items([rule], admitted_on=D(2026, 11, 2), today=D(2026, 11, 2), given=given)
        == []
    )


def test_schedule_periodic_without_admission_rule_counts_from_admission():
    rule = schedule.Rule("gad7", at_admission=False, every_n_days=14)
    kw = {"admitted_on": D(2026, 11, 2), "given": {}}
    assert schedule.due_items([rule], today=D(2026, 11, 15), **kw) == []
    assert schedule.due_items([rule], today=D(2026, 11, 16), **kw) == [
        schedule.Due("gad7", "periodic", D(2026, 11, 16), 0)
    ]


def test_schedule_discharge_due_unless_given_in_the_week_before():
    rule = schedule.Rule("phq9", at_admission=True, every_n_days=14, at_discharge=True)
    kw = {"admitted_on": D(2026, 11, 2), "today": D(2026, 12, 20), "discharged_on": D(2026, 12, 20)}
    assert schedule.due_items([rule], given={"phq9": [D(2026, 11, 2), D(2026, 12, 1)]}, **kw) == [
        schedule.Due("phq9", "discharge", D(2026, 12, 20), 0)
    ]
    assert schedule.due_items([rule], given={"phq9": [D(2026, 12, 15)]}, **kw) == []


def test_latest_scores_carry_recent_totals_for_the_attendee_sparkline(counselor, episode):
    for day, answers in ((2, [3] * 8 + [0]), (9, [2] * 8 + [0]), (16, PHQ9_OK)):
        with time_machine.travel(dt.datetime(2026, 11, day, 15, tzinfo=dt.UTC), tick=False):
            record(counselor, episode, answers=answers)
    (phq9,) = selectors.latest_scores_for_patients(user=counselor, patients=[episode.patient])[
        episode.patient.pk
    ]
    assert phq9.recent == (24, 16, 8) and phq9.max_total == 27
    # The line falls from top-left to lower-right as the score improves.
    first, *_, last = (tuple(map(float, p.split(","))) for p in phq9.sparkline_points.split())
    assert first[0] == 0 and last[0] == 60 and last[1] > first[1]
