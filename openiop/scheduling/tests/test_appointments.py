"""Individual sessions and medication visits booked around a published week (issue #4)."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from conftest import login, make_user
from openiop.accounts.permissions import Role
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_create
from openiop.organizations.models import Room
from openiop.patients.models import UnavailableWindow
from openiop.patients.services import patient_create
from openiop.scheduling import week
from openiop.scheduling.appointments import appointments_schedule_week
from openiop.scheduling.availability import Window, conflicts
from openiop.scheduling.models import (
    ClinicianProgram,
    ClinicianSlot,
    ScheduleBlock,
    ScheduleDraft,
    Session,
)

NY = zoneinfo.ZoneInfo("America/New_York")
WEEK = dt.date(2026, 11, 9)  # a Monday

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def clinic(org, site, program, room, counselor, prescriber):
    """Evening groups Mon-Fri 18:00-21:00 led by ``counselor``; an office for individual work.
    Avery (counselor) is free; Blake (lead2, MAT) works 08:00-17:00; Casey (MAT) has no primary
    counselor; Drew cannot come Mon-Fri 08:00-22:00 at all."""
    program.weekly_max_hours = program.weekly_min_hours  # three groups each
    program.save()
    office = Room.objects.create(organization=org, site=site, name="Office 1", capacity=2)
    ClinicianProgram.objects.create(organization=org, user=counselor, program=program)
    for day in range(5):
        block = ScheduleBlock.objects.create(
            organization=org, site=site, day=day, start=dt.time(18), minutes=180,
            part_of_day="evening",
        )  # fmt: skip
        ClinicianSlot.objects.create(organization=org, user=counselor, block=block)
    lead2 = make_user("lead2", org, Role.COUNSELOR)
    people = [("Avery", counselor, False), ("Blake", lead2, True), ("Casey", None, True),
              ("Drew", counselor, False)]  # fmt: skip
    episodes = {}
    for i, (name, primary, mat) in enumerate(people):
        p = patient_create(actor=None, organization=org, first_name=name, last_name="Tester",
                           date_of_birth=dt.date(1990, 1, 1 + i))  # fmt: skip
        episodes[name] = episode_create(
            actor=None, patient=p, program=program, admitted_on=dt.date(2026, 10, 1),
            primary_counselor=primary, mat=mat,
        )  # fmt: skip
    for day in range(5):
        UnavailableWindow.objects.create(
            organization=org, patient=episodes["Blake"].patient, weekday=day,
            start_time=dt.time(8), end_time=dt.time(17), kind="work",
        )  # fmt: skip
        UnavailableWindow.objects.create(
            organization=org, patient=episodes["Drew"].patient, weekday=day,
            start_time=dt.time(8), end_time=dt.time(22), kind="work",
        )  # fmt: skip
    return {"program": program, "episodes": episodes, "office": office, "lead2": lead2}


def _draft(program, publish=True):
    draft = week.draft_create(actor=None, program=program, week_start=WEEK)
    draft = week.draft_solve(actor=None, draft=draft, time_limit=10)
    if publish:
        week.draft_publish(actor=None, draft=draft)
        draft.refresh_from_db()
    return draft


def _sessions_of(patient, kind=None):
    qs = Session.objects.filter(attendance__patient=patient).not_cancelled()
    return list(qs.filter(kind=kind) if kind else qs)


def _disjoint(sessions):
    return all(
        not (a.starts_at < b.ends_at and b.starts_at < a.ends_at)
        for a, b in itertools.combinations(sessions, 2)
    )


def test_books_one_individual_session_per_patient_without_overlaps(clinic, counselor, prescriber):
    _draft(clinic["program"])
    result = appointments_schedule_week(actor=None, program=clinic["program"], week_start=WEEK)
    assert result.individual == 3 and result.medication == 2
    eps = clinic["episodes"]
    expected_counselor = {"Avery": counselor, "Blake": clinic["lead2"], "Casey": counselor}
    for name, clinician in expected_counselor.items():
        patient = eps[name].patient
        [individual] = _sessions_of(patient, "individual")
        assert individual.title == "Individual session"
        assert list(individual.facilitators.all()) == [clinician]
        assert individual.duration_minutes == 50
        if individual.room != clinic["office"]:  # the smallest room, unless it is taken
            assert Session.objects.filter(
                room=clinic["office"], starts_at__lt=individual.ends_at,
                ends_at__gt=individual.starts_at,
            ).exists()  # fmt: skip
        local = individual.local_start
        assert local.weekday() < 5 and local.minute in (0, 30) and local.time() >= dt.time(8)
        assert WEEK <= local.date() < WEEK + dt.timedelta(days=7)
        mine = _sessions_of(patient)
        assert any(s.kind == "group" for s in mine)
        assert _disjoint(mine)  # never on top of their groups or their other visit
        windows = [Window(w.weekday, w.start_time, w.end_time)
                   for w in patient.unavailable_windows.all()]  # fmt: skip
        for s in mine:
            assert not conflicts([s.local_start.weekday()], s.local_start.time(),
                                 s.duration_minutes, windows)  # fmt: skip
    assert Session.objects.filter(kind="individual", room=clinic["office"]).exists()
    for user in (counselor, clinic["lead2"], prescriber):
        assert _disjoint(list(user.facilitated_sessions.all()))
    for room in Room.objects.all():
        assert _disjoint(list(Session.objects.filter(room=room)))


def test_prefers_a_slot_next_to_the_patients_group(clinic):
    _draft(clinic["program"])
    appointments_schedule_week(actor=None, program=clinic["program"], week_start=WEEK)
    blake = clinic["episodes"]["Blake"].patient
    [individual] = _sessions_of(blake, "individual")
    groups = _sessions_of(blake, "group")
    gap = dt.timedelta(minutes=30)
    assert any(dt.timedelta(0) <= g.starts_at - individual.ends_at <= gap for g in groups)


def test_mat_patients_get_a_medication_visit_with_the_prescriber(clinic, prescriber):
    _draft(clinic["program"])
    appointments_schedule_week(actor=None, program=clinic["program"], week_start=WEEK)
    eps = clinic["episodes"]
    for name in ("Blake", "Casey"):
        [visit] = _sessions_of(eps[name].patient, "medication")
        assert visit.title == "Medication visit" and visit.duration_minutes == 30
        assert list(visit.facilitators.all()) == [prescriber]
    assert _sessions_of(eps["Avery"].patient, "medication") == []


def test_running_twice_books_nothing_new(clinic):
    _draft(clinic["program"])
    appointments_schedule_week(actor=None, program=clinic["program"], week_start=WEEK)
    count = Session.objects.count()
    again = appointments_schedule_week(actor=None, program=clinic["program"], week_start=WEEK)
    assert (again.individual, again.medication) == (0, 0)
    assert Session.objects.count() == count


def test_a_patient_with_no_possible_slot_is_reported_with_a_reason(clinic):
    _draft(clinic["program"])
    result = appointments_schedule_week(actor=None, program=clinic["program"], week_start=WEEK)
    [unplaced] = result.unplaced
    assert unplaced.patient == clinic["episodes"]["Drew"].patient
    assert unplaced.kind == "individual"
    assert "work hours" in unplaced.reason and "Counselor Tester" in unplaced.reason
    assert _sessions_of(unplaced.patient, "individual") == []
    event = AuditEvent.objects.get(action="openiop.scheduling.appointments.schedule")
    assert event.detail["individual"] == 3


def test_a_week_without_published_groups_is_refused(clinic):
    _draft(clinic["program"], publish=False)
    with pytest.raises(ValidationError):
        appointments_schedule_week(actor=None, program=clinic["program"], week_start=WEEK)
    assert not Session.objects.exists()


def test_missing_prescriber_is_reported(clinic, prescriber):
    prescriber.groups.clear()
    _draft(clinic["program"])
    result = appointments_schedule_week(actor=None, program=clinic["program"], week_start=WEEK)
    reasons = {(u.patient.first_name, u.kind): u.reason for u in result.unplaced}
    assert "prescriber" in reasons[("Blake", "medication")]
    assert result.medication == 0


def _url(draft):
    return reverse("scheduling:board-appointments", args=[draft.public_id])


def test_view_books_and_redirects_to_the_board(client, clinic, supervisor):
    draft = _draft(clinic["program"])
    login(client, supervisor)
    response = client.post(_url(draft), follow=True)
    assert response.redirect_chain[-1][0] == reverse("scheduling:board-draft",
                                                     args=[draft.public_id])  # fmt: skip
    text = response.content.decode()
    assert "Booked 3 individual sessions and 2 medication visits" in text
    assert "Drew" in text and "work hours" in text
    assert Session.objects.filter(kind="individual").count() == 3


def test_board_shows_the_button_only_when_published(client, clinic, supervisor):
    login(client, supervisor)
    draft = _draft(clinic["program"], publish=False)
    page = reverse("scheduling:board-draft", args=[draft.public_id])
    assert _url(draft) not in client.get(page).content.decode()
    response = client.post(_url(draft), follow=True)
    assert "Publish the week first" in response.content.decode()
    assert not Session.objects.filter(kind="individual").exists()
    week.draft_publish(actor=None, draft=draft)
    assert _url(draft) in client.get(page).content.decode()


def test_view_requires_login(client, clinic):
    draft = _draft(clinic["program"])
    response = client.post(_url(draft))
    assert response.status_code == 302 and "login" in response["Location"]


def test_view_without_session_manage_is_403(client, clinic, counselor):
    draft = _draft(clinic["program"])
    login(client, counselor)
    assert client.post(_url(draft)).status_code == 403
    assert not Session.objects.filter(kind="individual").exists()


def test_outsider_gets_404(client, clinic, outsider):
    draft = _draft(clinic["program"])
    login(client, outsider)
    assert client.post(_url(draft)).status_code == 404
    assert ScheduleDraft.objects.get().status == "published"
