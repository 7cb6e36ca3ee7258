"""Episode pages: open an episode, the episode page, and admit / hold / resume / transfer /
discharge."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from conftest import NY, login
from openiop.attendance.models import AttendanceRecord
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.enrollment.services import episode_create, episode_hold
from openiop.organizations.models import Program
from openiop.scheduling.models import Session

S = Episode.Status
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=NY)
pytestmark = pytest.mark.usefixtures("_frozen")


@pytest.fixture
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def teen_program(site) -> Program:
    return Program.objects.create(
        organization=site.organization, site=site, name="Teen After-school IOP",
        population=Program.Population.ADOLESCENT, min_age=14, max_age=17,
        weekly_min_hours=Decimal("6.0"), cohort=Program.Cohort.AFTER_SCHOOL,
    )  # fmt: skip


@pytest.fixture
def step_down(site) -> Program:
    return Program.objects.create(organization=site.organization, site=site, name="Adult OP")


def _url(name: str, episode: Episode) -> str:
    return reverse(f"enrollment:episode-{name}", args=[episode.public_id])


def _fresh(episode: Episode) -> Episode:
    return Episode.objects.get(pk=episode.pk)


# --- new episode --------------------------------------------------------------------------------


def test_intake_admits_patient_to_program(client, intake, patient, program, counselor):
    url = reverse("enrollment:episode-create", args=[patient.public_id])
    client = login(client, intake)
    form = client.get(url).content.decode()
    assert "New episode for Dana Whitfield" in form and "Adult Evening IOP" in form
    response = client.post(url, {
        "program": program.public_id, "admitted_on": "2026-11-18", "referral_source": "court",
        "primary_substance": "7", "mat": "on", "primary_counselor": counselor.public_id,
        "baseline_days_used_30": "22",
    })  # fmt: skip
    episode = Episode.objects.get(patient=patient)
    assert episode.baseline_days_used_30 == 22
    assert response.status_code == 302
    assert response["Location"] == _url("detail", episode)
    assert episode.status == S.ADMITTED and episode.admitted_on == dt.date(2026, 11, 18)
    assert episode.mat and episode.primary_substance == 7
    assert episode.primary_counselor == counselor
    page = client.get(response["Location"]).content.decode()
    assert "Admitted to Adult Evening IOP." in page


def test_blank_admission_date_puts_patient_on_waitlist(client, intake, patient, program):
    login(client, intake).post(
        reverse("enrollment:episode-create", args=[patient.public_id]),
        {"program": program.public_id, "referral_source": "self"},
    )
    assert Episode.objects.get(patient=patient).status == S.WAITLISTED


def test_program_for_wrong_age_shows_error_and_opens_nothing(client, intake, patient, teen_program):
    response = login(client, intake).post(
        reverse("enrollment:episode-create", args=[patient.public_id]),
        {"program": teen_program.public_id, "admitted_on": "2026-11-18", "referral_source": "self"},
    )
    assert response.status_code == 200
    assert (
        "Teen After-school IOP is for ages 14-17; the patient is 38." in response.content.decode()
    )
    assert not Episode.objects.exists()


def test_billing_cannot_open_episode(client, billing, patient, program):
    response = login(client, billing).post(
        reverse("enrollment:episode-create", args=[patient.public_id]),
        {"program": program.public_id, "referral_source": "self"},
    )
    assert response.status_code == 403
    assert not Episode.objects.exists()


def test_outsider_gets_404_opening_episode(client, outsider, patient):
    url = reverse("enrollment:episode-create", args=[patient.public_id])
    assert login(client, outsider).get(url).status_code == 404


def test_new_episode_requires_login(client, patient):
    url = reverse("enrollment:episode-create", args=[patient.public_id])
    assert client.get(url).status_code == 302


# --- episode page -------------------------------------------------------------------------------


def test_episode_page_shows_status_history_and_attendance_hours(client, counselor, episode):
    start = dt.datetime(2026, 11, 16, 18, 0, tzinfo=NY)
    session = Session.objects.create(
        organization=episode.organization, program=episode.program, title="Relapse prevention",
        starts_at=start, ends_at=start + dt.timedelta(hours=3),
    )  # fmt: skip
    AttendanceRecord.objects.create(
        organization=episode.organization, session=session, patient=episode.patient,
        episode=episode, status=AttendanceRecord.Status.LATE, minutes_attended=150,
    )  # fmt: skip
    response = login(client, counselor).get(_url("detail", episode))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Adult Evening IOP" in body and "Dana Whitfield" in body
    assert "Waitlisted → Admitted" in body
    assert "Relapse prevention" in body and "Mon Nov 16, 2026 18:00" in body  # site-local time
    assert "2.5" in body and "Late" in body
    assert "Put on hold" in body and "Discharge" in body


def test_episode_page_writes_audit_row(client, counselor, episode):
    login(client, counselor).get(_url("detail", episode))
    row = AuditEvent.objects.filter(action="openiop.enrollment.episode.read").last()
    assert row.patient_id == str(episode.patient.public_id)


def test_episode_page_hides_actions_from_roles_that_cannot_manage(client, billing, episode):
    body = login(client, billing).get(_url("detail", episode)).content.decode()
    assert "Adult Evening IOP" in body
    assert "Put on hold" not in body


def test_outsider_gets_404_on_episode_page(client, outsider, episode):
    assert login(client, outsider).get(_url("detail", episode)).status_code == 404


def test_episode_page_requires_login(client, episode):
    assert client.get(_url("detail", episode)).status_code == 302


# --- life cycle ---------------------------------------------------------------------------------


def test_admit_waitlisted_episode(client, intake, patient, program):
    waiting = episode_create(actor=None, patient=patient, program=program)
    response = login(client, intake).post(
        _url("admit", waiting), {"admit-admitted_on": "2026-11-20"}
    )
    assert response.status_code == 302
    assert _fresh(waiting).status == S.ADMITTED


def test_admission_before_referral_shows_error_and_changes_nothing(
    client, intake, patient, program
):
    waiting = episode_create(actor=None, patient=patient, program=program)  # referred Nov 20
    response = login(client, intake).post(
        _url("admit", waiting), {"admit-admitted_on": "2026-11-01"}
    )
    assert response.status_code == 200
    assert "Admission cannot be before the referral date." in response.content.decode()
    assert _fresh(waiting).status == S.WAITLISTED and _fresh(waiting).admitted_on is None


def test_counselor_puts_episode_on_hold_and_resumes(client, counselor, episode):
    client = login(client, counselor)
    response = client.post(
        _url("hold", episode), {"hold-effective_on": "2026-11-18", "hold-reason": "hospitalized"}
    )
    assert response.status_code == 302
    assert _fresh(episode).status == S.ON_HOLD
    page = client.get(response["Location"]).content.decode()
    assert "Episode put on hold." in page and "hospitalized" in page and "Resume" in page
    response = client.post(_url("resume", episode), {"resume-effective_on": "2026-11-20"})
    assert response.status_code == 302
    assert _fresh(episode).status == S.ACTIVE


def test_hold_without_reason_shows_error_and_changes_nothing(client, counselor, episode):
    response = login(client, counselor).post(
        _url("hold", episode), {"hold-effective_on": "2026-11-18", "hold-reason": ""}
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert _fresh(episode).status == S.ADMITTED


def test_resume_of_discharged_episode_shows_error_and_changes_nothing(client, counselor, episode):
    from openiop.enrollment.services import episode_discharge

    episode_discharge(actor=None, episode=_fresh(episode), discharged_on=dt.date(2026, 11, 19),
                      reason=2)  # fmt: skip
    response = login(client, counselor).post(_url("resume", episode),
                                             {"resume-effective_on": "2026-11-20"})  # fmt: skip
    assert response.status_code == 200
    assert "Only an episode on hold can be resumed." in response.content.decode()
    assert _fresh(episode).status == S.DISCHARGED


def test_counselor_discharges_patient(client, counselor, episode):
    response = login(client, counselor).post(_url("discharge", episode), {
        "discharge-discharged_on": "2026-11-20", "discharge-reason": "1",
        "discharge-note": "completed all goals", "discharge-version": episode.version,
        "discharge-days_used_30": "0",
    })  # fmt: skip
    assert response.status_code == 302
    done = _fresh(episode)
    assert done.status == S.DISCHARGED and done.discharge_reason == 1
    assert done.discharged_on == dt.date(2026, 11, 20)
    assert done.discharge_days_used_30 == 0
    page = login(client, counselor).get(_url("detail", done)).content.decode()
    assert "Days of use, last 30 days at discharge" in page


DAYS_ERRORS = {
    "31": "Ensure this value is less than or equal to 30.",
    "-1": "Ensure this value is greater than or equal to 0.",
    "many": "Enter a whole number.",
}


@pytest.mark.parametrize("days", sorted(DAYS_ERRORS))
def test_baseline_days_outside_0_to_30_is_refused(client, intake, patient, program, days):
    response = login(client, intake).post(
        reverse("enrollment:episode-create", args=[patient.public_id]),
        {"program": program.public_id, "referral_source": "self", "baseline_days_used_30": days},
    )
    assert response.status_code == 200
    assert DAYS_ERRORS[days] in response.content.decode()
    assert not Episode.objects.filter(patient=patient).exists()


@pytest.mark.parametrize("days", sorted(DAYS_ERRORS))
def test_discharge_days_outside_0_to_30_is_refused_and_changes_nothing(
    client, counselor, episode, days
):
    response = login(client, counselor).post(_url("discharge", episode), {
        "discharge-discharged_on": "2026-11-20", "discharge-reason": "1",
        "discharge-version": episode.version, "discharge-days_used_30": days,
    })  # fmt: skip
    assert response.status_code == 200
    assert DAYS_ERRORS[days] in response.content.decode()
    unchanged = _fresh(episode)
    assert unchanged.status != S.DISCHARGED and unchanged.discharge_days_used_30 is None


def test_service_refuses_days_of_use_above_30(patient, program):
    from django.core.exceptions import ValidationError

    from openiop.enrollment.services import episode_create

    with pytest.raises(ValidationError, match="between 0 and 30"):
        episode_create(actor=None, patient=patient, program=program, baseline_days_used_30=31)
    assert not Episode.objects.filter(patient=patient).exists()


def test_discharge_before_admission_shows_error_and_changes_nothing(client, counselor, episode):
    response = login(client, counselor).post(_url("discharge", episode), {
        "discharge-discharged_on": "2026-10-01", "discharge-reason": "2",
        "discharge-version": episode.version,
    })  # fmt: skip
    assert response.status_code == 200
    assert "Discharge cannot be before admission." in response.content.decode()
    unchanged = _fresh(episode)
    assert unchanged.status == S.ADMITTED and unchanged.discharged_on is None


def test_stale_discharge_form_is_refused(client, counselor, episode):
    stale = episode.version
    episode_hold(actor=None, episode=_fresh(episode), effective_on=dt.date(2026, 11, 19),
                 reason="travel")  # fmt: skip
    response = login(client, counselor).post(_url("discharge", episode), {
        "discharge-discharged_on": "2026-11-20", "discharge-reason": "2",
        "discharge-version": stale,
    })  # fmt: skip
    assert "Someone else changed this episode" in response.content.decode()
    assert _fresh(episode).status == S.ON_HOLD


def test_billing_cannot_discharge(client, billing, episode):
    response = login(client, billing).post(_url("discharge", episode), {
        "discharge-discharged_on": "2026-11-20", "discharge-reason": "1",
        "discharge-version": episode.version,
    })  # fmt: skip
    assert response.status_code == 403
    assert _fresh(episode).status == S.ADMITTED


def test_outsider_gets_404_on_discharge(client, outsider, episode):
    response = login(client, outsider).post(_url("discharge", episode), {
        "discharge-discharged_on": "2026-11-20", "discharge-reason": "1",
        "discharge-version": episode.version,
    })  # fmt: skip
    assert response.status_code == 404
    assert _fresh(episode).status == S.ADMITTED


@pytest.mark.parametrize("action", ["admit", "hold", "resume", "transfer", "discharge"])
def test_actions_require_login_and_post(client, counselor, episode, action):
    assert client.post(_url(action, episode), {}).status_code == 302
    assert login(client, counselor).get(_url(action, episode)).status_code == 405


def test_transfer_steps_down_and_opens_linked_episode(client, counselor, episode, step_down):
    response = login(client, counselor).post(_url("transfer", episode), {
        "transfer-to_program": step_down.public_id, "transfer-effective_on": "2026-11-20",
        "transfer-reason": "stable, step down",
    })  # fmt: skip
    old = _fresh(episode)
    new = Episode.objects.get(transferred_from=old)
    assert response.status_code == 302 and response["Location"] == _url("detail", new)
    assert old.status == S.DISCHARGED and old.discharge_reason == 4
    assert new.program == step_down and new.status == S.ADMITTED
    page = client.get(response["Location"]).content.decode()
    assert "Patient transferred." in page and "Transferred from" in page


def test_transfer_to_program_for_wrong_age_shows_error_and_changes_nothing(
    client, counselor, episode, teen_program
):
    response = login(client, counselor).post(_url("transfer", episode), {
        "transfer-to_program": teen_program.public_id, "transfer-effective_on": "2026-11-20",
    })  # fmt: skip
    assert response.status_code == 200
    assert "does not accept a patient aged 38" in response.content.decode()
    assert _fresh(episode).status == S.ADMITTED
    assert Episode.objects.count() == 1
