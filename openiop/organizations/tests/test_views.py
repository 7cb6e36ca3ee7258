"""Program pages: list with census and rules, weekly compliance table, editing thresholds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from conftest import NY, login, make_user
from openiop.attendance.models import AttendanceRecord
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_create, episode_hold
from openiop.organizations.models import Program, Site
from openiop.patients.services import patient_create
from openiop.scheduling.models import Session

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=NY)  # Friday of the week of Monday Nov 16


def _patient(org, last: str, first: str = "Pat"):
    return patient_create(actor=None, organization=org, first_name=first, last_name=last,
                          date_of_birth=dt.date(1985, 5, 5))  # fmt: skip


def _session(program, day: dt.date, hour: int = 18) -> Session:
    start = dt.datetime.combine(day, dt.time(hour, 0), tzinfo=NY)
    return Session.objects.create(
        organization=program.organization, program=program, title="Evening group",
        starts_at=start, ends_at=start + dt.timedelta(hours=3),
    )  # fmt: skip


def _record(episode, session: Session, minutes: int | None) -> AttendanceRecord:
    status = (
        AttendanceRecord.Status.EXPECTED if minutes is None else AttendanceRecord.Status.PRESENT
    )
    return AttendanceRecord.objects.create(
        organization=episode.organization, session=session, patient=episode.patient,
        episode=episode, status=status, minutes_attended=minutes,
    )  # fmt: skip


def _detail(program, week: str | None = None) -> str:
    url = reverse("organizations:program-detail", args=[program.public_id])
    return url + (f"?week={week}" if week else "")


# --- program list -------------------------------------------------------------------------------


def test_program_list_shows_census_and_weekly_rules(client, counselor, org, program, episode):
    waiting = _patient(org, "Queue")
    episode_create(actor=None, patient=waiting, program=program)
    held = _patient(org, "Paused")
    e = episode_create(actor=None, patient=held, program=program, admitted_on=dt.date(2026, 11, 2))
    episode_hold(actor=None, episode=e, effective_on=dt.date(2026, 11, 10), reason="surgery")
    response = login(client, counselor).get(reverse("organizations:program-list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Adult Evening IOP" in body
    assert "<td>0</td><td>1</td><td>1</td><td>1</td>" in body  # active, admitted, on hold, waitlist
    assert "9–19 h" in body and "≥ 3" in body and "180 min" in body and "Evening" in body
    assert "Downtown" in body


def test_program_list_hides_other_organizations_programs(client, counselor, other_org, program):
    site = Site.objects.create(organization=other_org, name="Lake", timezone="America/Chicago")
    Program.objects.create(organization=other_org, site=site, name="Lakeside Secret IOP")
    body = login(client, counselor).get(reverse("organizations:program-list")).content.decode()
    assert "Adult Evening IOP" in body and "Lakeside Secret IOP" not in body


def test_program_list_requires_login(client, program):
    assert client.get(reverse("organizations:program-list")).status_code == 302


def test_program_list_role_without_permission_gets_403(client, org, program):
    nobody = make_user("norole", org)
    assert login(client, nobody).get(reverse("organizations:program-list")).status_code == 403


def test_program_list_query_count_is_fixed(
    client, counselor, site, program, django_assert_max_num_queries
):
    for i in range(15):
        Program.objects.create(organization=site.organization, site=site, name=f"Track {i}")
    client = login(client, counselor)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("organizations:program-list"))
    assert response.content.decode().count("Track ") == 15


# --- program detail: weekly compliance ---------------------------------------------------------


@pytest.fixture
def week_data(org, program, episode):
    """Week of Nov 16: Dana met (3 x 3 h); Ezra attended once with one session left (at risk);
    Faye has enough sessions left (on track)."""
    mon, tue, wed, fri, sat = (dt.date(2026, 11, d) for d in (16, 17, 18, 20, 21))
    for day in (mon, tue, wed):
        _record(episode, _session(program, day), 180)
    ezra = episode_create(actor=None, patient=_patient(org, "Aldana", "Ezra"), program=program,
                          admitted_on=dt.date(2026, 11, 2))  # fmt: skip
    faye = episode_create(actor=None, patient=_patient(org, "Brook", "Faye"), program=program,
                          admitted_on=dt.date(2026, 11, 2))  # fmt: skip
    s_mon = Session.objects.filter(starts_at__date=mon).first()
    _record(ezra, s_mon, 180)
    s_fri, s_sat = _session(program, fri), _session(program, sat, hour=10)
    _record(ezra, s_fri, None)
    _record(faye, Session.objects.filter(starts_at__date=tue).first(), 180)
    _record(faye, Session.objects.filter(starts_at__date=wed).first(), 180)
    _record(faye, s_fri, None)
    _record(faye, s_sat, None)
    return {"dana": episode, "ezra": ezra, "faye": faye}


def _row(body: str, last_name: str) -> str:
    start = body.index(f"{last_name},")
    return body[start : body.index("</tr>", start)]


@time_machine.travel(NOW, tick=False)
def test_compliance_table_shows_each_patients_status(client, counselor, program, week_data):
    response = login(client, counselor).get(_detail(program))
    assert response.status_code == 200
    body = response.content.decode()
    assert "week of Nov 16–Nov 22, 2026" in body and "(this week)" in body
    dana = _row(body, "Whitfield")
    assert (
        '<span class="badge met">Met</span>' in dana and "9.0 / 9.0 h" in dana and "3 / 3" in dana
    )
    ezra = _row(body, "Aldana")
    assert '<span class="badge at_risk">At risk</span>' in ezra
    assert "3.0 h" in ezra  # remaining scheduled: the Friday session
    faye = _row(body, "Brook")
    assert '<span class="badge on_track">On track</span>' in faye
    assert "1 met · 1 on track · 1 at risk · 0 below · 0 exempt" in body
    link = reverse("patients:patient-detail", args=[week_data["dana"].patient.public_id])
    assert link in body


@time_machine.travel(NOW, tick=False)
def test_compliance_table_for_a_past_week_shows_below(client, counselor, program, week_data):
    body = login(client, counselor).get(_detail(program, "2026-11-11")).content.decode()
    assert "week of Nov 9–Nov 15, 2026" in body  # a Wednesday snaps to its Monday
    assert body.count('<span class="badge below">Below</span>') == 3
    assert "?week=2026-11-02" in body and "?week=2026-11-16" in body


@time_machine.travel(NOW, tick=False)
def test_compliance_table_flags_over_maximum(client, counselor, program, episode):
    for day in range(16, 21):  # 5 x 3 h + 1 x 3 h on Friday morning = 18 h; lower the max
        _record(episode, _session(program, dt.date(2026, 11, day), hour=8), 180)
    Program.objects.filter(pk=program.pk).update(weekly_max_hours=Decimal("12.0"))
    body = login(client, counselor).get(_detail(program)).content.decode()
    row = _row(body, "Whitfield")
    assert "Over max" in row and "over the 12.0 h maximum" in row


@time_machine.travel(NOW, tick=False)
def test_compliance_table_writes_one_audit_row_listing_patients(
    client, counselor, program, week_data
):
    before = AuditEvent.objects.count()
    login(client, counselor).get(_detail(program))
    assert AuditEvent.objects.count() == before + 1
    row = AuditEvent.objects.last()
    assert row.action == "openiop.attendance.compliance.list"
    assert row.detail["patients"] == sorted(str(e.patient.public_id) for e in week_data.values())
    assert row.detail["week"] == "2026-11-16"


@time_machine.travel(NOW, tick=False)
def test_program_detail_query_count_is_fixed(
    client, counselor, org, program, week_data, django_assert_max_num_queries
):
    for i in range(10):
        e = episode_create(actor=None, patient=_patient(org, f"Extra{i}"), program=program,
                           admitted_on=dt.date(2026, 11, 2))  # fmt: skip
        _record(e, Session.objects.filter(starts_at__date=dt.date(2026, 11, 16)).first(), 180)
    client = login(client, counselor)
    with django_assert_max_num_queries(14):
        response = client.get(_detail(program))
    assert response.content.decode().count("Extra") == 10


def test_program_detail_shows_census_and_rules(client, front_desk, program, episode):
    body = login(client, front_desk).get(_detail(program)).content.decode()
    assert "Census" in body and "<strong>1</strong> admitted" in body
    assert "9–19 h" in body and "at least 3" in body
    assert "Edit rules" not in body


def test_outsider_gets_404_on_program(client, outsider, program):
    assert login(client, outsider).get(_detail(program)).status_code == 404


def test_program_detail_requires_login(client, program):
    assert client.get(_detail(program)).status_code == 302


def test_malformed_week_falls_back_to_this_week(client, counselor, program):
    with time_machine.travel(NOW, tick=False):
        body = login(client, counselor).get(_detail(program, "not-a-date")).content.decode()
    assert "week of Nov 16–Nov 22, 2026" in body


# --- editing thresholds -------------------------------------------------------------------------


def _rules(**changes) -> dict[str, str]:
    data = {
        "weekly_min_hours": "9.0", "weekly_max_hours": "19.0", "min_days_per_week": "3",
        "typical_session_minutes": "180", "typical_length_weeks": "6", "group_size_cap": "10",
        "min_age": "18", "max_age": "", "is_active": "on",
    }  # fmt: skip
    data.update(changes)
    return data


def test_program_director_edits_thresholds(client, supervisor, program):
    url = reverse("organizations:program-edit", args=[program.public_id])
    client = login(client, supervisor)
    assert "Weekly rules of Adult Evening IOP" in client.get(url).content.decode()
    response = client.post(url, _rules(weekly_min_hours="12.0", min_days_per_week="4"))
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.weekly_min_hours == Decimal("12.0") and program.min_days_per_week == 4
    row = AuditEvent.objects.filter(action="openiop.organizations.program.update").last()
    assert row.detail["fields"] == ["min_days_per_week", "weekly_min_hours"]
    page = client.get(response["Location"]).content.decode()
    assert "Saved the rules of Adult Evening IOP." in page and "12–19 h" in page


def test_minimum_above_maximum_shows_error_and_changes_nothing(client, supervisor, program):
    url = reverse("organizations:program-edit", args=[program.public_id])
    response = login(client, supervisor).post(url, _rules(weekly_min_hours="20.0"))
    assert response.status_code == 200
    assert "Maximum hours must not be below the minimum." in response.content.decode()
    program.refresh_from_db()
    assert program.weekly_min_hours == Decimal("9.0")


def test_days_per_week_out_of_range_shows_error(client, supervisor, program):
    url = reverse("organizations:program-edit", args=[program.public_id])
    response = login(client, supervisor).post(url, _rules(min_days_per_week="8"))
    assert "Choose between 1 and 7 days." in response.content.decode()
    program.refresh_from_db()
    assert program.min_days_per_week == 3


def test_counselor_cannot_edit_thresholds(client, counselor, program):
    url = reverse("organizations:program-edit", args=[program.public_id])
    client = login(client, counselor)
    assert client.get(url).status_code == 403
    assert client.post(url, _rules(weekly_min_hours="3.0")).status_code == 403
    program.refresh_from_db()
    assert program.weekly_min_hours == Decimal("9.0")


def test_outsider_gets_404_editing_program(client, outsider, program):
    url = reverse("organizations:program-edit", args=[program.public_id])
    assert login(client, outsider).post(url, _rules(weekly_min_hours="3.0")).status_code == 404


def test_program_edit_requires_login(client, program):
    url = reverse("organizations:program-edit", args=[program.public_id])
    assert client.get(url).status_code == 302
