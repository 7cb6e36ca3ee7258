"""Patient pages: list and search, new patient, chart, demographics, guardians, windows."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from conftest import NY, login, make_user
from openiop.attendance.models import AttendanceRecord
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_create
from openiop.patients.models import Guardian, Patient, UnavailableWindow
from openiop.patients.services import patient_create
from openiop.scheduling.models import Session

FRIDAY_NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=NY)


def _patient(org, first: str, last: str, mrn: str = "", born: dt.date | None = None) -> Patient:
    return patient_create(
        actor=None, organization=org, first_name=first, last_name=last, mrn=mrn,
        date_of_birth=born or dt.date(1990, 1, 1),
    )  # fmt: skip


def _attend(episode, day: dt.date, minutes: int = 180) -> AttendanceRecord:
    start = dt.datetime.combine(day, dt.time(18, 0), tzinfo=NY)
    session = Session.objects.create(
        organization=episode.organization, program=episode.program, title="Evening group",
        starts_at=start, ends_at=start + dt.timedelta(hours=3),
    )  # fmt: skip
    return AttendanceRecord.objects.create(
        organization=episode.organization, session=session, patient=episode.patient,
        episode=episode, status=AttendanceRecord.Status.PRESENT, minutes_attended=minutes,
    )  # fmt: skip


# --- list and search ---------------------------------------------------------------------------


def test_patient_list_shows_program_status_and_counselor(client, counselor, episode):
    response = login(client, counselor).get(reverse("patients:patient-list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Whitfield, Dana" in body
    assert episode.patient.mrn in body
    assert "Adult Evening IOP" in body
    assert "Admitted" in body
    assert "Counselor Tester" in body


def test_patient_list_requires_login(client, patient):
    response = client.get(reverse("patients:patient-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_patient_list_role_without_permission_gets_403(client, org, patient):
    nobody = make_user("norole", org)
    assert login(client, nobody).get(reverse("patients:patient-list")).status_code == 403


def test_search_finds_by_mrn_and_by_last_name(client, counselor, org, patient):
    other = _patient(org, "Marco", "Oyelaran", mrn="RB-777001")
    client = login(client, counselor)
    by_mrn = client.get(reverse("patients:patient-list"), {"q": "777001"}).content.decode()
    assert "Oyelaran" in by_mrn and "Whitfield" not in by_mrn
    by_name = client.get(reverse("patients:patient-list"), {"q": "whitf"}).content.decode()
    assert "Whitfield" in by_name and other.last_name not in by_name


def test_search_never_shows_another_organizations_patient(client, counselor, other_org, patient):
    _patient(other_org, "Dana", "Whitfield-Stranger", mrn="LK-000001")
    body = login(client, counselor).get(reverse("patients:patient-list"), {"q": "Whitfield"})
    text = body.content.decode()
    assert "Whitfield, Dana" in text
    assert "Whitfield-Stranger" not in text and "LK-000001" not in text


def test_patient_list_writes_one_audit_row_naming_every_patient_shown(client, counselor, org):
    shown = [_patient(org, "Ann", f"Zeta{i}") for i in range(3)]
    before = AuditEvent.objects.count()
    login(client, counselor).get(reverse("patients:patient-list"))
    assert AuditEvent.objects.count() == before + 1
    row = AuditEvent.objects.last()
    assert row.action == "openiop.patients.patient.list"
    assert row.detail["patients"] == sorted(str(p.public_id) for p in shown)


def test_patient_list_paginates_fifty_a_page(client, counselor, org):
    for i in range(55):
        _patient(org, "Pat", f"Page{i:02d}")
    client = login(client, counselor)
    first = client.get(reverse("patients:patient-list")).content.decode()
    assert "Page 1 of 2" in first and "Page49" in first and "Page50" not in first
    second = client.get(reverse("patients:patient-list"), {"page": 2}).content.decode()
    assert "Page50" in second and "Page54" in second


def test_patient_list_query_count_does_not_grow_with_patients(
    client, counselor, org, program, django_assert_max_num_queries
):
    for i in range(30):
        p = _patient(org, "Many", f"Patient{i:02d}")
        episode_create(actor=None, patient=p, program=program, admitted_on=dt.date(2026, 11, 2),
                       primary_counselor=counselor)  # fmt: skip
    client = login(client, counselor)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("patients:patient-list"))
    assert response.content.decode().count("Adult Evening IOP") == 30


# --- new patient --------------------------------------------------------------------------------


def test_intake_creates_patient_with_first_unavailable_window(client, intake):
    response = login(client, intake).post(
        reverse("patients:patient-create"),
        {
            "first_name": "Lena", "last_name": "Marsh", "date_of_birth": "1991-06-03",
            "sex": "female", "preferred_language": "English",
            "window_weekday": "0", "window_start_time": "09:00", "window_end_time": "17:00",
            "window_kind": "work",
        },
    )  # fmt: skip
    patient = Patient.objects.get(last_name="Marsh")
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:patient-detail", args=[patient.public_id])
    assert patient.mrn.startswith("RI-")
    window = UnavailableWindow.objects.get(patient=patient)
    assert (window.weekday, window.start_time) == (0, dt.time(9, 0))


def test_new_patient_form_requires_login(client):
    response = client.get(reverse("patients:patient-create"))
    assert response.status_code == 302


def test_auditor_cannot_create_patients(client, auditor):
    client = login(client, auditor)
    assert client.get(reverse("patients:patient-create")).status_code == 403
    post = client.post(
        reverse("patients:patient-create"),
        {"first_name": "A", "last_name": "B", "date_of_birth": "1990-01-01"},
    )
    assert post.status_code == 403
    assert not Patient.objects.filter(last_name="B").exists()


def test_new_patient_with_future_birth_date_shows_error_and_saves_nothing(client, intake):
    response = login(client, intake).post(
        reverse("patients:patient-create"),
        {"first_name": "Ivy", "last_name": "Future", "date_of_birth": "2999-01-01",
         "sex": "unknown", "preferred_language": "English"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Date of birth cannot be in the future." in response.content.decode()
    assert not Patient.objects.filter(last_name="Future").exists()


def test_duplicate_mrn_shows_error_on_mrn(client, intake, patient):
    response = login(client, intake).post(
        reverse("patients:patient-create"),
        {"mrn": patient.mrn, "first_name": "Ivy", "last_name": "Dup", "date_of_birth": "1990-01-01",
         "sex": "unknown", "preferred_language": "English"},
    )  # fmt: skip
    assert f"MRN {patient.mrn} is already in use" in response.content.decode()
    assert not Patient.objects.filter(last_name="Dup").exists()


def test_half_filled_window_saves_neither_patient_nor_window(client, intake):
    response = login(client, intake).post(
        reverse("patients:patient-create"),
        {"first_name": "Ivy", "last_name": "Half", "date_of_birth": "1990-01-01", "sex": "unknown",
         "preferred_language": "English", "window_weekday": "2"},
    )  # fmt: skip
    assert "Fill in the day, start and end of the window" in response.content.decode()
    assert not Patient.objects.filter(last_name="Half").exists()
    assert not UnavailableWindow.objects.exists()


# --- chart --------------------------------------------------------------------------------------


@time_machine.travel(FRIDAY_NOON, tick=False)
def test_chart_shows_demographics_episodes_and_weekly_hours_chart(client, counselor, episode):
    for day in (16, 17, 18):
        _attend(episode, dt.date(2026, 11, day))
    response = login(client, counselor).get(
        reverse("patients:patient-detail", args=[episode.patient.public_id])
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Dana Whitfield" in body and "555-0100" in body
    assert "Adult Evening IOP" in body
    assert "<svg" in body and "Hours attended per week in Adult Evening IOP</title>" in body
    assert "Weekly hours as a table" in body
    # This week (Nov 16-22): 9 h on 3 days meets the 9 h / 3-day minimum.
    assert '<span class="badge met">Met</span>' in body
    assert "9.0 / 9.0 h" in body
    assert "meets the 9.0 h / 3-day minimum" in body


@time_machine.travel(FRIDAY_NOON, tick=False)
def test_chart_marks_a_week_below_the_minimum(client, counselor, episode):
    _attend(episode, dt.date(2026, 11, 10))  # one 3 h session in the week of Nov 9
    body = (
        login(client, counselor)
        .get(reverse("patients:patient-detail", args=[episode.patient.public_id]))
        .content.decode()
    )
    assert '<span class="badge below">Below</span>' in body
    assert "attended 3.0 h on 1 day; minimum 9.0 h on 3 days" in body


def test_reading_chart_writes_audit_row_naming_the_patient(client, counselor, patient):
    login(client, counselor).get(reverse("patients:patient-detail", args=[patient.public_id]))
    row = AuditEvent.objects.filter(action="openiop.patients.patient.read").last()
    assert row is not None
    assert row.patient_id == str(patient.public_id)
    assert row.actor == counselor


def test_chart_requires_login(client, patient):
    response = client.get(reverse("patients:patient-detail", args=[patient.public_id]))
    assert response.status_code == 302


def test_outsider_gets_404_on_chart(client, outsider, patient):
    response = login(client, outsider).get(
        reverse("patients:patient-detail", args=[patient.public_id])
    )
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(
        patient_id=str(patient.public_id), action="openiop.patients.patient.read"
    ).exists()


def test_role_without_permission_gets_403_on_chart(client, org, patient):
    nobody = make_user("norole", org)
    response = login(client, nobody).get(
        reverse("patients:patient-detail", args=[patient.public_id])
    )
    assert response.status_code == 403


def test_chart_shows_transfer_chain_and_history(client, supervisor, patient, program, site):
    from openiop.enrollment.services import episode_transfer
    from openiop.organizations.models import Program

    step_down = Program.objects.create(organization=site.organization, site=site,
                                       name="Step-down OP")  # fmt: skip
    first = episode_create(actor=None, patient=patient, program=program,
                           admitted_on=dt.date(2026, 11, 2))  # fmt: skip
    episode_transfer(actor=None, episode=first, to_program=step_down,
                     effective_on=dt.date(2026, 11, 16), reason="doing well")  # fmt: skip
    body = (
        login(client, supervisor)
        .get(reverse("patients:patient-detail", args=[patient.public_id]))
        .content.decode()
    )
    assert "Transferred from" in body and "Transferred to" in body
    assert body.index("Step-down OP") < body.index("Transferred from")
    assert "Transferred to another program or facility" in body


# --- edit demographics --------------------------------------------------------------------------


def _demographics(patient: Patient, **changes) -> dict[str, str]:
    data = {
        "first_name": patient.first_name, "last_name": patient.last_name,
        "preferred_name": patient.preferred_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex, "phone": patient.phone, "email": patient.email,
        "address": patient.address, "preferred_language": patient.preferred_language,
        "emergency_contact_name": "", "emergency_contact_phone": "",
        "emergency_contact_relationship": "",
    }  # fmt: skip
    data.update(changes)
    return data


def test_front_desk_edits_demographics(client, front_desk, patient):
    url = reverse("patients:patient-edit", args=[patient.public_id])
    client = login(client, front_desk)
    assert "Edit demographics" in client.get(url).content.decode()
    response = client.post(url, _demographics(patient, phone="555-0199",
                                              emergency_contact_name="Sam Whitfield"))  # fmt: skip
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "555-0199"
    assert patient.emergency_contact_name == "Sam Whitfield"
    assert AuditEvent.objects.filter(action="openiop.patients.patient.update").exists()


def test_bad_email_shows_error_and_changes_nothing(client, front_desk, patient):
    url = reverse("patients:patient-edit", args=[patient.public_id])
    response = login(client, front_desk).post(url, _demographics(patient, email="not-an-email",
                                                                 phone="555-0999"))  # fmt: skip
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    patient.refresh_from_db()
    assert patient.phone == "555-0100"


def test_billing_cannot_edit_demographics(client, billing, patient):
    url = reverse("patients:patient-edit", args=[patient.public_id])
    response = login(client, billing).post(url, _demographics(patient, phone="555-0199"))
    assert response.status_code == 403
    patient.refresh_from_db()
    assert patient.phone == "555-0100"


def test_outsider_gets_404_on_edit(client, outsider, patient):
    url = reverse("patients:patient-edit", args=[patient.public_id])
    assert login(client, outsider).get(url).status_code == 404


def test_edit_requires_login(client, patient):
    url = reverse("patients:patient-edit", args=[patient.public_id])
    assert client.get(url).status_code == 302


# --- guardians and unavailable windows ---------------------------------------------------------


@pytest.fixture
def minor(org):
    return _patient(org, "Theo", "Young", born=dt.date(2011, 3, 4))


def test_chart_of_minor_offers_guardian_form_and_intake_adds_one(client, intake, minor):
    client = login(client, intake)
    chart = client.get(reverse("patients:patient-detail", args=[minor.public_id])).content.decode()
    assert "a minor needs one" in chart and "Add guardian" in chart
    response = client.post(
        reverse("patients:guardian-create", args=[minor.public_id]),
        {"guardian-name": "Rita Young", "guardian-relationship": "Mother",
         "guardian-phone": "555-0142"},
    )  # fmt: skip
    assert response.status_code == 302
    assert Guardian.objects.get(patient=minor).name == "Rita Young"


def test_guardian_without_name_shows_error_and_adds_nothing(client, intake, minor):
    response = login(client, intake).post(
        reverse("patients:guardian-create", args=[minor.public_id]),
        {"guardian-name": "", "guardian-relationship": "Mother"},
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Guardian.objects.exists()


def test_billing_cannot_add_guardian(client, billing, minor):
    response = login(client, billing).post(
        reverse("patients:guardian-create", args=[minor.public_id]),
        {"guardian-name": "Rita Young", "guardian-relationship": "Mother"},
    )
    assert response.status_code == 403
    assert not Guardian.objects.exists()


def test_outsider_gets_404_adding_guardian(client, outsider, minor):
    response = login(client, outsider).post(
        reverse("patients:guardian-create", args=[minor.public_id]),
        {"guardian-name": "X", "guardian-relationship": "Y"},
    )
    assert response.status_code == 404
    assert not Guardian.objects.exists()


def test_guardian_add_requires_login(client, minor):
    response = client.post(reverse("patients:guardian-create", args=[minor.public_id]), {})
    assert response.status_code == 302


def test_intake_adds_unavailable_window(client, intake, patient):
    response = login(client, intake).post(
        reverse("patients:unavailable-window-create", args=[patient.public_id]),
        {"window-weekday": "3", "window-start_time": "08:00", "window-end_time": "15:30",
         "window-kind": "school", "window-note": "classes"},
    )  # fmt: skip
    assert response.status_code == 302
    chart = client.get(reverse("patients:patient-detail", args=[patient.public_id]))
    assert "Thursday" in chart.content.decode() and "08:00–15:30" in chart.content.decode()


def test_window_ending_before_it_starts_shows_error_and_adds_nothing(client, intake, patient):
    response = login(client, intake).post(
        reverse("patients:unavailable-window-create", args=[patient.public_id]),
        {"window-weekday": "3", "window-start_time": "15:00", "window-end_time": "08:00",
         "window-kind": "work"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "End time must be after the start time." in response.content.decode()
    assert not UnavailableWindow.objects.exists()


def test_billing_cannot_add_window_and_outsider_gets_404(client, billing, outsider, patient):
    url = reverse("patients:unavailable-window-create", args=[patient.public_id])
    data = {"window-weekday": "3", "window-start_time": "08:00", "window-end_time": "15:00",
            "window-kind": "work"}  # fmt: skip
    assert login(client, billing).post(url, data).status_code == 403
    assert login(client, outsider).post(url, data).status_code == 404
    assert not UnavailableWindow.objects.exists()
