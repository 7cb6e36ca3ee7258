"""The outcome report page (HTML and CSV) and the TEDS discharge file download."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import login, make_user
from openiop.accounts.permissions import Role
from openiop.core.models import AuditEvent
from openiop.reports.tests.test_outcomes import (
    build_cohort,
    day,
    make_episode,
    make_patient,
)

pytestmark = pytest.mark.django_db

# 2027-12-31 at noon in New York: every first-quarter discharge is past its 180-day follow-up.
NOW = dt.datetime(2027, 12, 31, 17, 0, tzinfo=dt.UTC)
URL = "/reports/outcomes/"
Q1 = {"from": "2027-01-01", "to": "2027-03-31"}


@pytest.fixture
def cohort(org, site, program, other_org):
    return build_cohort(org, site, program, other_org)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_director_sees_the_report_with_its_uncertainty(client, supervisor, cohort):
    login(client, supervisor)
    response = client.get(URL, {**Q1, "program": str(cohort.p.public_id)})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Outcome report" in body and "Adult Evening IOP" in body
    assert "as of Dec 31, 2027" in body
    # Completion 4 of 9 with its Wilson interval (18.9%-73.3%), drop-out 3 of 9.
    assert "44%" in body and "95% CI 19%–73% · 4 of 9" in body
    assert "3 of 9" in body
    # Retention read off the curve, six-month outcome with the response rate beside it.
    assert "60%" in body and "Retained at 90 days" in body
    assert "5 of 9 due" in body  # response rate
    assert "Non-responders are never counted as successes." in body
    assert "2 or more components" in body
    # Charts are inline SVG with a text description; the print stylesheet is linked.
    assert body.count('<svg role="img"') == 4
    assert 'id="retention-chart-title"' in body and 'id="outcome-chart-desc"' in body
    assert "openiop/outcomes_print.css" in body
    assert ' style="' not in body and "<style" not in body  # CSP: no inline CSS
    assert "How each number is defined" in body
    assert "Cohort" not in body  # aggregate only: no patient's name


def test_reading_the_report_writes_one_aggregate_audit_row(client, supervisor, cohort):
    login(client, supervisor)
    before = AuditEvent.objects.count()
    client.get(URL, {**Q1, "program": str(cohort.p.public_id)})
    rows = list(AuditEvent.objects.order_by("id")[before:])
    assert [r.action for r in rows] == ["openiop.reports.outcomes.read"]
    row = rows[0]
    assert row.category == AuditEvent.Category.COMPLIANCE and row.patient_id == ""
    assert row.actor_username == "director" and row.organization_id == cohort.org.pk
    assert row.detail["program"] == str(cohort.p.public_id) and row.detail["from"] == "2027-01-01"
    assert "patients" not in row.detail


def test_defaults_are_all_programs_and_the_last_twelve_months(client, auditor, cohort):
    login(client, auditor)  # the auditor role may read the report too
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<strong>All programs</strong>" in body
    assert "period Jan 1, 2027 – Dec 31, 2027" in body
    assert "Aftercare groups are not counted as treatment: Alumni group." in body
    # 2027-01-01 .. 2027-12-31: A1-A10 and R1 (B1 came in 2026; the alumni group is left out).
    assert response.context["report"].admissions == 11
    assert response.context["report"].discharges == 10  # A1-A8, B1 and A10 (ended 04-30)


def test_csv_download_has_the_same_numbers(client, supervisor, cohort):
    login(client, supervisor)
    response = client.get(URL, {**Q1, "program": str(cohort.p.public_id), "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert (
        'attachment; filename="outcomes_2027-01-01_2027-03-31.csv"'
        == (response["Content-Disposition"])
    )
    rows = {(r[0], r[1]): r[2:] for r in csv.reader(io.StringIO(response.content.decode()))}
    assert rows[("completion_rate", "all")][:2] == ["9", "0.4444"]
    assert rows[("outcome_success_responders", "all")][:2] == ["5", "0.8"]
    action = AuditEvent.objects.order_by("-id").first()
    assert action.action == "openiop.reports.outcomes.read" and action.detail["format"] == "csv"


def test_csv_can_hide_small_counts(client, supervisor, cohort):
    login(client, supervisor)
    response = client.get(
        URL, {**Q1, "program": str(cohort.p.public_id), "format": "csv", "suppress": "on"}
    )
    assert "completion_rate,all,<11,,," in response.content.decode().splitlines()


def test_a_bad_date_is_a_form_error_not_a_500(client, supervisor, cohort):
    login(client, supervisor)
    before = AuditEvent.objects.count()
    response = client.get(URL, {"from": "2027-13-01", "to": "2027-03-31"})
    assert response.status_code == 200
    assert "Enter a valid date." in response.content.decode()
    assert response.context["report"] is None
    response = client.get(URL, {"from": "2027-03-31", "to": "2027-01-01"})
    assert "The period ends before it starts." in response.content.decode()
    response = client.get(URL, {"from": "yesterday", "format": "csv"})
    assert response.status_code == 400 and b"from" in response.content
    assert AuditEvent.objects.count() == before  # nothing was read


def test_login_required(client, cohort):
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response["Location"]
    response = client.get("/reports/teds.csv")
    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.parametrize("role", [Role.COUNSELOR, Role.FRONT_DESK, Role.BILLING, Role.INTAKE])
def test_roles_without_the_permission_get_403(client, org, cohort, role):
    login(client, make_user(f"u-{role.value}", org, role))
    assert client.get(URL).status_code == 403
    assert client.get("/reports/teds.csv").status_code == 403


def test_auditor_may_read_the_report_but_not_export_teds(client, auditor, cohort):
    login(client, auditor)
    assert client.get(URL).status_code == 200
    assert client.get("/reports/teds.csv").status_code == 403


def test_another_organization_sees_only_its_own_numbers(client, outsider, cohort):
    login(client, outsider)
    response = client.get(URL, Q1)
    assert response.status_code == 200
    report = response.context["report"]
    assert report.organization_name == "Lakeside Behavioral"
    assert report.admissions == 3 and report.discharges == 3  # its own three drop-outs
    assert report.dropout.successes == 3
    # Our program's id is not one of theirs: a form error, and no number of ours.
    response = client.get(URL, {**Q1, "program": str(cohort.p.public_id)})
    assert response.status_code == 200 and response.context["report"] is None
    assert "Select a valid choice" in response.content.decode()
    # The TEDS file holds their discharges only.
    outsider_teds = client.get("/reports/teds.csv", Q1).content.decode().splitlines()
    assert len(outsider_teds) == 1 + 3
    assert str(cohort.e["A1"].public_id) not in "\n".join(outsider_teds)


def test_report_page_query_count_does_not_grow_with_patients(
    client, supervisor, cohort, django_assert_max_num_queries
):
    login(client, supervisor)
    params = {**Q1, "program": str(cohort.p.public_id)}
    client.get(URL, params)  # warm caches (sessions, chart cache)
    with CaptureQueriesContext(connection) as small:
        client.get(URL, params)
    for i in range(10):
        make_episode(cohort.org, make_patient(cohort.org, f"N{i}"), cohort.p,
                     day("2027-01-03") + dt.timedelta(days=i), los=15 + i, reason=1 + i % 2,
                     baseline=12)  # fmt: skip
    with django_assert_max_num_queries(30):
        response = client.get(URL, params)
    assert response.context["report"].admissions == 20
    with CaptureQueriesContext(connection) as big:
        client.get(URL, params)
    assert len(big) == len(small)


def test_teds_file_has_one_coded_row_per_discharge(client, supervisor, cohort):
    login(client, supervisor)
    response = client.get("/reports/teds.csv", Q1)
    assert response.status_code == 200
    assert (
        response["Content-Disposition"] == 'attachment; filename="teds-d_2027-01-01_2027-03-31.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    # A1-A8, B1, and A10's first segment (transferred on 03-20); not the alumni group episode.
    assert len(rows) == 10
    a1 = next(r for r in rows if r["CASEID"] == str(cohort.e["A1"].public_id))
    assert a1 == {
        "CASEID": str(cohort.e["A1"].public_id), "DISYR": "2027", "SERVICES": "6",
        "SERVICES_D": "6", "REASON": "1", "LOS": "31", "SUB1": "2", "FREQ1": "2",
        "FREQ1_D": "1", "EMPLOY": "-9", "EMPLOY_D": "-9", "LIVARAG": "-9", "LIVARAG_D": "-9",
        "ARRESTS": "-9", "ARRESTS_D": "-9",
    }  # fmt: skip
    a10 = next(r for r in rows if r["CASEID"] == str(cohort.e["A10"].public_id))
    assert (a10["REASON"], a10["LOS"]) == ("4", "20")
    export = AuditEvent.objects.order_by("-id").first()
    assert export.action == "openiop.reports.teds.export"
    assert export.category == AuditEvent.Category.COMPLIANCE
    assert len(export.detail["patients"]) == 10 and export.detail["rows"] == 10
    assert str(cohort.e["A1"].patient.public_id) in export.detail["patients"]


def test_teds_file_refuses_a_discharge_that_cannot_be_coded(client, supervisor, cohort, org):
    bad = make_episode(org, make_patient(org, "Contradiction"), cohort.p, day("2027-02-01"),
                       los=10, reason=2, baseline=5, substance=1)  # fmt: skip
    login(client, supervisor)
    response = client.get("/reports/teds.csv", Q1)
    assert response.status_code == 422
    body = response.content.decode()
    assert "nothing exported" in body and "Cohort, Contradiction" in body
    assert "SUB1=1 (no substance) contradicts FREQ1=2" in body
    assert f"/episodes/{bad.public_id}/" in body
    row = AuditEvent.objects.order_by("-id").first()
    assert row.action == "openiop.reports.teds.problems"
    assert row.detail["patients"] == [str(bad.patient.public_id)]


def test_teds_bad_dates_are_a_400(client, supervisor, cohort):
    login(client, supervisor)
    response = client.get("/reports/teds.csv", {"from": "2027-03-31", "to": "2027-01-01"})
    assert response.status_code == 400
    assert b"The period ends before it starts." in response.content


def test_download_links_carry_the_shown_program_and_period(client, supervisor, cohort):
    login(client, supervisor)
    body = client.get(URL, {**Q1, "program": str(cohort.p.public_id)}).content.decode()
    assert (
        f'href="?from=2027-01-01&amp;to=2027-03-31&amp;program={cohort.p.public_id}&amp;format=csv"'
    ) in body
    assert 'href="/reports/teds.csv?from=2027-01-01&amp;to=2027-03-31"' in body
    assert "data-print" in body


def test_auditor_sees_no_teds_link(client, auditor, cohort):
    login(client, auditor)
    assert "/reports/teds.csv" not in client.get(URL, Q1).content.decode()


def test_an_unknown_format_is_a_visible_error(client, supervisor, cohort):
    login(client, supervisor)
    response = client.get(URL, {**Q1, "format": "pdf"})
    assert response.status_code == 200 and response.context["report"] is None
    assert "Format:" in response.content.decode()


def test_program_names_are_escaped_and_do_not_break_the_charts(client, supervisor, cohort):
    cohort.p.name = '<img src=x onerror=alert(1)> "$5 to $10"'
    cohort.p.save()
    login(client, supervisor)
    response = client.get(URL, {**Q1, "program": str(cohort.p.public_id)})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body
