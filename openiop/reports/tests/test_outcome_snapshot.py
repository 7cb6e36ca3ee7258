"""The outcome report served from a precomputed snapshot (ADR 0016).

Within ``OPENIOP_REPORT_SNAPSHOT_MAX_AGE_SECONDS`` a reload shows the stored report (and says
when it was computed); "Recompute" (``refresh=1``) or an older snapshot computes it again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import login
from openiop.core.models import AuditEvent, PanelSnapshot
from openiop.reports.tests.test_outcomes import build_cohort, day, make_episode, make_patient

pytestmark = pytest.mark.django_db

# 2027-12-31 17:00 UTC is noon in New York (the organization's site).
NOW = dt.datetime(2027, 12, 31, 17, 0, tzinfo=dt.UTC)
URL = "/reports/outcomes/"
Q1 = {"from": "2027-01-01", "to": "2027-03-31"}
NBSP = "\xa0"  # Django's timesince keeps "3 minutes" on one line


@pytest.fixture
def cohort(org, site, program, other_org):
    return build_cohort(org, site, program, other_org)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def cached(settings):
    settings.OPENIOP_REPORT_SNAPSHOT_MAX_AGE_SECONDS = 900


def params(cohort, **extra):
    return {**Q1, "program": str(cohort.p.public_id), **extra}


def discharges(response) -> int:
    """The "Discharges" key figure, as the page shows it."""
    match = re.search(r"<dt>Discharges</dt><dd>(\d+)</dd>", response.content.decode())
    assert match, "no Discharges figure on the page"
    return int(match.group(1))


def computed_line(response) -> str:
    match = re.search(
        r'<p class="muted small report-computed">(.*?)</p>', response.content.decode()
    )
    assert match, "no 'Computed' line on the page"
    return re.sub(r"<[^>]+>", "", match.group(1))


def add_discharge(cohort, name: str = "New") -> None:
    """One more drop-out in program P, discharged in the first quarter."""
    make_episode(cohort.org, make_patient(cohort.org, name), cohort.p, day("2027-02-10"),
                 los=10, reason=2, baseline=7)  # fmt: skip


def csv_rows(response) -> dict[tuple[str, str], list[str]]:
    return {(r[0], r[1]): r[2:] for r in csv.reader(io.StringIO(response.content.decode()))}


def test_a_reload_within_the_age_shows_the_stored_report_until_recompute(
    client, supervisor, cohort, clock, cached
):
    login(client, supervisor)
    first = client.get(URL, params(cohort))
    assert first.status_code == 200 and discharges(first) == 9
    assert computed_line(first) == "Computed 12:00 (just now) · Recompute"

    add_discharge(cohort)
    clock.shift(dt.timedelta(minutes=3))
    second = client.get(URL, params(cohort))
    assert discharges(second) == 9  # the stored numbers, and it says how old they are
    assert computed_line(second) == f"Computed 12:00 (3{NBSP}minutes ago) · Recompute"

    # The link recomputes with the same program and period.
    href = re.search(r'href="\?([^"]+)" title="Compute the report again', second.content.decode())
    assert href
    query = href.group(1).replace("&amp;", "&")
    assert "refresh=1" in query and f"program={cohort.p.public_id}" in query
    assert "from=2027-01-01" in query and "to=2027-03-31" in query
    third = client.get(f"{URL}?{query}")
    assert discharges(third) == 10
    assert computed_line(third) == "Computed 12:03 (just now) · Recompute"
    # ... and that result is what the next plain load shows.
    clock.shift(dt.timedelta(minutes=1))
    assert discharges(client.get(URL, params(cohort))) == 10


def test_an_older_snapshot_is_computed_again(client, supervisor, cohort, clock, cached):
    login(client, supervisor)
    assert discharges(client.get(URL, params(cohort))) == 9
    add_discharge(cohort)
    clock.shift(dt.timedelta(seconds=900))
    assert discharges(client.get(URL, params(cohort))) == 9  # 15 minutes old: still served
    clock.shift(dt.timedelta(seconds=1))
    response = client.get(URL, params(cohort))
    assert discharges(response) == 10
    assert computed_line(response) == "Computed 12:15 (just now) · Recompute"


def test_max_age_zero_always_computes(client, supervisor, cohort, clock, settings):
    settings.OPENIOP_REPORT_SNAPSHOT_MAX_AGE_SECONDS = 0
    login(client, supervisor)
    assert discharges(client.get(URL, params(cohort))) == 9
    add_discharge(cohort)
    assert discharges(client.get(URL, params(cohort))) == 10


def test_yesterdays_snapshot_is_not_todays_report(client, supervisor, cohort, clock, settings):
    settings.OPENIOP_REPORT_SNAPSHOT_MAX_AGE_SECONDS = 3 * 86400
    login(client, supervisor)
    with time_machine.travel(NOW - dt.timedelta(hours=14), tick=False):  # 22:00 the day before
        assert client.get(URL, params(cohort)).context["report"].as_of == dt.date(2027, 12, 30)
    add_discharge(cohort)
    # The key holds the day ("as of"): today's report is computed, whatever the maximum age.
    response = client.get(URL, params(cohort))
    assert response.context["report"].as_of == dt.date(2027, 12, 31)
    assert discharges(response) == 10
    assert computed_line(response) == "Computed 12:00 (just now) · Recompute"


def test_the_csv_has_the_numbers_of_the_page(client, supervisor, cohort, clock, cached):
    login(client, supervisor)
    page = client.get(URL, params(cohort))
    add_discharge(cohort)  # not in the snapshot yet
    response = client.get(URL, params(cohort, format="csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    report = page.context["report"]
    assert rows[("discharges", "all")][:2] == [str(discharges(page))] * 2 == ["9", "9"]
    assert rows[("completion_rate", "all")][:2] == [str(report.completion.n), "0.4444"]
    assert rows[("dropout_rate", "all")][0] == "9"
    # The file says when its numbers were computed (they may be minutes old).
    stamp = PanelSnapshot.objects.get().computed_at.isoformat(timespec="seconds")
    assert [group for metric, group in rows if metric == "computed_at"] == [stamp]
    # Recompute on the page, and the CSV follows.
    client.get(URL, params(cohort, refresh="1"))
    rows = csv_rows(client.get(URL, params(cohort, format="csv")))
    assert rows[("discharges", "all")][:2] == ["10", "10"]


def test_another_program_or_period_is_another_snapshot(client, supervisor, cohort, clock, cached):
    login(client, supervisor)
    assert discharges(client.get(URL, params(cohort))) == 9
    add_discharge(cohort)
    # Every treatment program, same period: computed now, so the new discharge is in it.
    everyone = client.get(URL, Q1)
    assert everyone.context["report"].program_name == "All programs"
    assert discharges(everyone) == 10  # A1-A8, B1 and the new one
    # The same program over a longer period: computed now too.
    half = client.get(URL, params(cohort, to="2027-06-30"))
    assert half.context["report"].end == dt.date(2027, 6, 30)
    assert discharges(half) == 11  # and A10 (admitted to P, transferred, ended 04-30)
    # The first one is still the stored one.
    assert discharges(client.get(URL, params(cohort))) == 9
    keys = set(PanelSnapshot.objects.filter(organization=cohort.org).values_list("key", flat=True))
    assert keys == {
        f"outcomes:{cohort.p.public_id}:2027-01-01:2027-03-31:2027-12-31",
        "outcomes:all:2027-01-01:2027-03-31:2027-12-31",
        f"outcomes:{cohort.p.public_id}:2027-01-01:2027-06-30:2027-12-31",
    }


def test_another_organization_never_gets_this_organizations_snapshot(
    client, supervisor, outsider, cohort, clock, cached
):
    login(client, supervisor)
    ours = client.get(URL, Q1)  # the "all programs" snapshot of our organization
    assert discharges(ours) == 9
    client.logout()
    login(client, outsider)
    theirs = client.get(URL, Q1)  # the same key, in their organization
    assert theirs.status_code == 200
    assert theirs.context["report"].organization_name == "Lakeside Behavioral"
    assert discharges(theirs) == 3
    assert "Riverbend" not in theirs.content.decode()
    # Our program is not one of theirs: a form error as before, and nothing of ours.
    response = client.get(URL, params(cohort))
    assert response.status_code == 200 and response.context["report"] is None
    assert "Select a valid choice" in response.content.decode()
    assert "report-computed" not in response.content.decode()
    assert set(PanelSnapshot.objects.values_list("organization_id", "key")) == {
        (cohort.org.pk, "outcomes:all:2027-01-01:2027-03-31:2027-12-31"),
        (outsider.organization.pk, "outcomes:all:2027-01-01:2027-03-31:2027-12-31"),
    }


def test_a_snapshot_hit_is_still_audited(client, supervisor, cohort, clock, cached):
    login(client, supervisor)
    before = AuditEvent.objects.count()
    client.get(URL, params(cohort))
    clock.shift(dt.timedelta(minutes=2))
    client.get(URL, params(cohort))
    client.get(URL, params(cohort, format="csv"))
    rows = list(AuditEvent.objects.order_by("id")[before:])
    assert [r.action for r in rows] == ["openiop.reports.outcomes.read"] * 3
    assert [r.detail["format"] for r in rows] == ["html", "html", "csv"]
    computed = NOW.isoformat()
    for row in rows:
        assert row.actor_username == "director" and row.patient_id == ""
        assert row.detail["program"] == str(cohort.p.public_id)
        assert row.detail["from"] == "2027-01-01" and row.detail["to"] == "2027-03-31"
        assert row.detail["patients_counted"] == rows[0].detail["patients_counted"] > 0
        assert row.detail["snapshot_computed_at"] == computed  # the first load's snapshot


def test_an_invalid_form_computes_and_stores_nothing(client, supervisor, cohort, clock, cached):
    login(client, supervisor)
    before = AuditEvent.objects.count()
    response = client.get(URL, {"from": "2027-03-31", "to": "2027-01-01", "refresh": "1"})
    assert response.status_code == 200 and response.context["report"] is None
    assert "report-computed" not in response.content.decode()
    assert client.get(URL, {"from": "bad", "format": "csv"}).status_code == 400
    assert not PanelSnapshot.objects.exists()
    assert AuditEvent.objects.count() == before


def test_a_snapshot_of_an_older_report_shape_is_computed_again(
    client, supervisor, cohort, clock, cached
):
    key = f"outcomes:{cohort.p.public_id}:2027-01-01:2027-03-31:2027-12-31"
    PanelSnapshot.objects.create(organization=cohort.org, key=key, computed_at=NOW, data={
        "schema": "an older OutcomeReport", "report": {"admissions": 1}})  # fmt: skip
    login(client, supervisor)
    assert discharges(client.get(URL, params(cohort))) == 9
    assert PanelSnapshot.objects.get(key=key).data["report"]["discharges"] == 9
    # Data that claims the current shape but does not read back is recomputed too (no 500).
    from openiop.reports.views_outcomes import REPORT_SCHEMA

    PanelSnapshot.objects.filter(key=key).update(
        data={"schema": REPORT_SCHEMA, "report": {"admissions": "many"}}
    )
    assert discharges(client.get(URL, params(cohort))) == 9


def test_a_snapshot_hit_takes_few_queries_whatever_the_patients(
    client, supervisor, cohort, clock, cached, django_assert_max_num_queries
):
    login(client, supervisor)
    client.get(URL, params(cohort))  # computes and stores; warms sessions and caches
    with CaptureQueriesContext(connection) as computing:
        client.get(URL, params(cohort, refresh="1"))
    # Session, user, roles, organization, its site (time zone), the programs of the form, the
    # snapshot, and the audit row (organization, savepoint, chain head, insert, update, release).
    with django_assert_max_num_queries(13):
        hit = client.get(URL, params(cohort))
    assert discharges(hit) == 9
    for i in range(10):
        add_discharge(cohort, f"N{i}")
    client.get(URL, params(cohort, refresh="1"))
    with CaptureQueriesContext(connection) as small_hit:
        client.get(URL, params(cohort))
    with django_assert_max_num_queries(len(small_hit)):
        bigger = client.get(URL, params(cohort))
    assert discharges(bigger) == 19
    assert len(small_hit) < len(computing)
