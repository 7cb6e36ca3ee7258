"""Program schedule page (add / remove rows) and the program's "due today" list."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from conftest import login
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_create
from openiop.patients.services import patient_create
from openiop.questionnaires import services
from openiop.questionnaires.models import QuestionnaireSchedule

# 2026-11-30 at 15:00 UTC is 10:00 in New York (the site's zone).
NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)
# session, user, roles, program, schedule, episodes, responses, organization, audit (4 with the
# savepoint): the same for 1 patient or 100.
DUE_QUERIES = 13


def schedule_url(program) -> str:
    return reverse("questionnaires:schedule-list", args=[program.public_id])


def due_url(program) -> str:
    return reverse("questionnaires:due-list", args=[program.public_id])


def test_manager_adds_a_row_and_sees_it(client, supervisor, program):
    login(client, supervisor)
    done = client.post(
        schedule_url(program),
        {"instrument": "phq9", "at_admission": "on", "every_n_days": "14", "at_discharge": "on"},
        follow=True,
    )
    html = done.content.decode()
    assert "PHQ-9 added to the schedule" in html and "every 14 days" in html
    row = QuestionnaireSchedule.objects.get()
    assert (row.program, row.at_admission, row.every_n_days, row.at_discharge) == (
        program, True, 14, True,
    )  # fmt: skip
    event = AuditEvent.objects.get(action="openiop.questionnaires.schedule.create")
    assert event.detail["instrument"] == "phq9"


def test_adding_the_same_instrument_twice_is_a_form_error(client, supervisor, program):
    services.schedule_add(actor=supervisor, program=program, instrument="gad7")
    page = login(client, supervisor).post(
        schedule_url(program), {"instrument": "gad7", "at_admission": "on"}
    )
    assert page.status_code == 400
    assert "already on the schedule" in page.content.decode()
    assert QuestionnaireSchedule.objects.count() == 1


def test_a_row_that_is_never_due_is_refused(client, supervisor, program):
    page = login(client, supervisor).post(schedule_url(program), {"instrument": "gad7"})
    assert page.status_code == 400
    assert "Choose when it is given" in page.content.decode()
    assert not QuestionnaireSchedule.objects.exists()


def test_bad_interval_is_a_form_error(client, supervisor, program):
    page = login(client, supervisor).post(
        schedule_url(program), {"instrument": "gad7", "every_n_days": "0"}
    )
    assert page.status_code == 400
    assert not QuestionnaireSchedule.objects.exists()


def test_schedule_add_checks_the_organization(outsider, program):
    with pytest.raises(ValidationError):
        services.schedule_add(actor=outsider, program=program, instrument="phq9")


def test_manager_removes_a_row(client, supervisor, program):
    row = services.schedule_add(actor=supervisor, program=program, instrument="phq9")
    url = reverse("questionnaires:schedule-remove", args=[row.public_id])
    done = login(client, supervisor).post(url, follow=True)
    assert "PHQ-9 removed" in done.content.decode()
    assert not QuestionnaireSchedule.objects.exists()
    assert AuditEvent.objects.filter(action="openiop.questionnaires.schedule.delete").exists()


def test_schedule_page_access(client, counselor, supervisor, outsider, program):
    row = services.schedule_add(actor=supervisor, program=program, instrument="phq9")
    url, remove = (
        schedule_url(program),
        reverse("questionnaires:schedule-remove", args=[row.public_id]),
    )
    assert client.get(url).status_code == 302
    assert client.post(remove).status_code == 302
    page = login(client, counselor).get(url)  # everyone may read the schedule ...
    assert page.status_code == 200 and "PHQ-9" in page.content.decode()
    assert "Add to schedule" not in page.content.decode()
    assert client.post(url, {"instrument": "gad7", "at_admission": "on"}).status_code == 403
    assert client.post(remove).status_code == 403  # ... only program managers change it
    assert login(client, outsider).get(url).status_code == 404
    assert client.post(remove).status_code == 404
    assert list(QuestionnaireSchedule.objects.values_list("instrument", flat=True)) == ["phq9"]


# -- due list ------------------------------------------------------------------------------------


def admit(org, program, counselor, last: str, admitted_on: dt.date):
    p = patient_create(
        actor=None, organization=org, first_name="Pat", last_name=last,
        date_of_birth=dt.date(1990, 1, 1), sex="male",
    )  # fmt: skip
    return episode_create(
        actor=None, patient=p, program=program, admitted_on=admitted_on,
        primary_counselor=counselor,
    )  # fmt: skip


@time_machine.travel(NOW, tick=False)
def test_due_list_shows_who_is_due_and_overdue(
    client, org, program, supervisor, counselor, django_assert_max_num_queries
):
    services.schedule_add(
        actor=supervisor, program=program, instrument="phq9", at_admission=True, every_n_days=14
    )
    new = admit(org, program, counselor, "Newcomer", dt.date(2026, 11, 27))  # admission, 3 late
    given = admit(org, program, counselor, "Current", dt.date(2026, 11, 20))
    services.response_record(
        actor=counselor,
        patient=given.patient,
        episode=given,
        instrument="phq9",
        answers=[0] * 9,
        administered_at=dt.datetime(2026, 11, 20, 15, tzinfo=dt.UTC),
    )  # fmt: skip  (next due Dec 4: not yet)
    late = admit(org, program, counselor, "Periodic", dt.date(2026, 11, 2))
    services.response_record(
        actor=counselor,
        patient=late.patient,
        episode=late,
        instrument="phq9",
        answers=[0] * 9,
        administered_at=dt.datetime(2026, 11, 3, 15, tzinfo=dt.UTC),
    )  # fmt: skip  (next due Nov 17: 13 days overdue)
    login(client, counselor)
    with django_assert_max_num_queries(DUE_QUERIES):
        page = client.get(due_url(program))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Current" not in html
    assert html.index("Periodic") < html.index("Newcomer")  # most overdue first
    assert "13 days overdue" in html and "3 days overdue" in html
    assert "Send link" in html
    event = AuditEvent.objects.get(action="openiop.questionnaires.due.list")
    assert sorted(event.detail["patients"]) == sorted(
        [str(new.patient.public_id), str(late.patient.public_id)]
    )


@time_machine.travel(NOW, tick=False)
def test_due_list_query_count_does_not_grow_with_the_census(
    client, org, program, supervisor, counselor, django_assert_max_num_queries
):
    services.schedule_add(actor=supervisor, program=program, instrument="phq9")
    services.schedule_add(actor=supervisor, program=program, instrument="gad7", every_n_days=7)
    for n in range(12):
        admit(org, program, counselor, f"Person{n:02d}", dt.date(2026, 11, 10 + n))
    login(client, counselor)
    with django_assert_max_num_queries(DUE_QUERIES):
        page = client.get(due_url(program))
    assert page.content.decode().count("Person") == 12


@time_machine.travel(NOW, tick=False)
def test_due_list_without_a_schedule_says_so(client, counselor, program, episode):
    page = login(client, counselor).get(due_url(program))
    assert "no questionnaire schedule" in page.content.decode()


def test_due_list_access(client, front_desk, outsider, program):
    url = due_url(program)
    assert client.get(url).status_code == 302
    assert login(client, front_desk).get(url).status_code == 403
    assert login(client, outsider).get(url).status_code == 404
