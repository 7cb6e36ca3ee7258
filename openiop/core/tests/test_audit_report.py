"""The compliance officer's audit report (ONC (d)(3), security.md T3): filters, sort by each field,
pagination, organization isolation, permissions, CSV export with its digest, the chain check, and
"who looked at this patient and who received the record"."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import uuid

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory

from conftest import NY, login, make_user
from openiop.accounts.permissions import Role
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.core.selectors_audit import SORT_FIELDS, ReportFilters, event_queryset

NOW = dt.datetime(2026, 11, 10, 15, 0, tzinfo=dt.UTC)  # 10:00 in New York
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _req(ip: str = "10.0.0.1"):
    return RequestFactory().get("/", REMOTE_ADDR=ip, HTTP_USER_AGENT="pytest")


def _event(actor, *, action="openiop.test.thing.read", category="clinical", patient=None,
           outcome="success", ip="10.0.0.1", detail=None, organization=None, at=None):  # fmt: skip
    if at is not None:
        with time_machine.travel(at, tick=False):
            return _event(
                actor, action=action, category=category, patient=patient, outcome=outcome,
                ip=ip, detail=detail, organization=organization,
            )  # fmt: skip
    return audit_log(
        actor=actor, action=action, category=category, patient=patient, outcome=outcome,
        request=_req(ip), detail=detail, organization=organization, obj=patient,
    )  # fmt: skip


def _rows(response):
    return [r.event for r in response.context["page"].rows]


def _make_patient(org, first="Evan", last="Marsh", mrn=None):
    from openiop.patients.services import patient_create

    return patient_create(
        actor=None, organization=org, first_name=first, last_name=last,
        date_of_birth=dt.date(1990, 1, 1), sex="male", **({"mrn": mrn} if mrn else {}),
    )  # fmt: skip


# --- access ---------------------------------------------------------------------------------------


def test_login_is_required(client, patient):
    for url in ("/audit/", "/audit/export.csv", f"/audit/patients/{patient.public_id}/"):
        assert client.get(url).status_code == 302
    assert client.post("/audit/chain/verify/").status_code == 302


@pytest.mark.parametrize("role", [Role.COUNSELOR, Role.BILLING, Role.FRONT_DESK,
                                  Role.PROGRAM_DIRECTOR, Role.INTAKE])  # fmt: skip
def test_role_without_audit_view_gets_403(client, org, patient, role):
    user = make_user("no_audit", org, role)
    login(client, user)
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    assert client.get(f"/audit/patients/{patient.public_id}/").status_code == 403
    assert client.post("/audit/chain/verify/").status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="openiop.audit.").exists()
    assert AuditEvent.objects.filter(action="openiop.core.access.deny", actor=user).count() == 4


def test_admin_may_read_the_report(client, org):
    login(client, make_user("admin", org, Role.ADMIN))
    assert client.get("/audit/").status_code == 200


def test_outsider_sees_nothing_of_ours(client, other_org, auditor, counselor, patient):
    _event(counselor, patient=patient)
    theirs = make_user("their_auditor", other_org, Role.AUDITOR)
    login(client, theirs)
    response = client.get("/audit/?date_from=2026-01-01")
    assert response.status_code == 200
    assert _rows(response) == []
    assert "Whitfield" not in response.content.decode()
    assert client.get(f"/audit/patients/{patient.public_id}/").status_code == 404
    assert client.get(f"/audit/?patient={patient.public_id}").status_code == 404
    assert client.get(f"/audit/export.csv?patient={patient.public_id}").status_code == 404
    export = client.get("/audit/export.csv?date_from=2026-01-01")
    _, rows = _csv(export)
    # Only their own trail (their refused probes of our id included): none of our rows.
    assert rows[1:] and {r[2] for r in rows[1:]} == {"their_auditor"}
    assert "Whitfield" not in str(rows) and patient.mrn not in str(rows)


def test_unknown_patient_is_404(client, auditor):
    login(client, auditor)
    assert client.get(f"/audit/patients/{uuid.uuid4()}/").status_code == 404


# --- the report ----------------------------------------------------------------------------------


def test_first_visit_shows_the_last_30_local_days(client, auditor, counselor, patient):
    _event(counselor, patient=patient, at=NOW - dt.timedelta(days=2))
    _event(counselor, patient=patient, action="openiop.test.old.read",
           at=NOW - dt.timedelta(days=45))  # fmt: skip
    response = login(client, auditor).get("/audit/")
    assert response.status_code == 200
    actions = [e.action for e in _rows(response)]
    assert "openiop.test.thing.read" in actions and "openiop.test.old.read" not in actions
    page = response.content.decode()
    assert "Dana" in page and "Whitfield" in page  # the patient's name, not just an id
    assert f"/audit/patients/{patient.public_id}/" in page  # row links to "who looked"


def test_the_reports_own_read_is_audited(client, auditor, counselor, patient):
    _event(counselor, patient=patient)
    login(client, auditor).get(f"/audit/?patient={patient.public_id}&action=openiop.test.")
    row = AuditEvent.objects.get(action="openiop.audit.report.view")
    assert row.actor_username == "auditor" and row.outcome == "success"
    assert row.patient_id == str(patient.public_id)
    assert row.detail["filters"]["action"] == "openiop.test."
    assert row.detail["patients"] == [str(patient.public_id)]
    assert row.detail["rows"] == 1


def test_filter_by_patient_picked_from_a_search(client, org, auditor, counselor, patient):
    other = _make_patient(org, "Evan", "Marsh")
    _event(counselor, patient=patient, action="openiop.test.dana.read")
    _event(counselor, patient=other, action="openiop.test.evan.read")
    login(client, auditor)
    search = client.get("/audit/?q=whit")
    assert [p.pk for p, _ in search.context["matches"]] == [patient.pk]
    assert AuditEvent.objects.filter(action="openiop.audit.patient.search").exists()
    _, query = search.context["matches"][0]
    picked = client.get("/audit/?" + query + "&action=openiop.test.")
    assert {e.action for e in _rows(picked)} == {"openiop.test.dana.read"}
    by_mrn = client.get(f"/audit/?q={other.mrn}")
    assert [p.pk for p, _ in by_mrn.context["matches"]] == [other.pk]


def test_filter_by_user(client, auditor, counselor, billing, patient):
    _event(counselor, patient=patient)
    _event(billing, patient=patient, category="billing")
    response = login(client, auditor).get(f"/audit/?user={billing.public_id}")
    assert {e.actor_username for e in _rows(response)} == {"billing"}


def test_date_range_is_in_the_organizations_local_days(client, site, auditor, counselor):
    # 2026-11-09 in New York runs from 05:00 UTC on the 9th to 05:00 UTC on the 10th.
    _event(
        counselor,
        action="openiop.test.before.read",
        at=dt.datetime(2026, 11, 9, 4, 59, tzinfo=dt.UTC),
    )
    _event(
        counselor,
        action="openiop.test.inside.read",
        at=dt.datetime(2026, 11, 9, 5, 0, tzinfo=dt.UTC),
    )
    _event(
        counselor,
        action="openiop.test.late.read",
        at=dt.datetime(2026, 11, 10, 4, 59, tzinfo=dt.UTC),
    )
    _event(
        counselor,
        action="openiop.test.after.read",
        at=dt.datetime(2026, 11, 10, 5, 0, tzinfo=dt.UTC),
    )
    response = login(client, auditor).get(
        "/audit/?date_from=2026-11-09&date_to=2026-11-09&action=openiop.test."
    )
    assert {e.action for e in _rows(response)} == {
        "openiop.test.inside.read",
        "openiop.test.late.read",
    }
    page = response.content.decode()
    assert "2026-11-09 00:00:00 EST" in page  # local time shown


def test_filter_by_action_prefix_category_and_outcome(client, auditor, counselor, patient):
    _event(counselor, action="openiop.clinical.note.read", patient=patient)
    _event(counselor, action="openiop.clinical.plan.sign", patient=patient)
    _event(counselor, action="openiop.billing.claim.read", category="billing", patient=patient)
    _event(counselor, action="openiop.core.access.deny", category="administrative",
           outcome="denied")  # fmt: skip
    login(client, auditor)
    clinical = client.get("/audit/?action=openiop.clinical.")
    assert {e.action for e in _rows(clinical)} == {
        "openiop.clinical.note.read",
        "openiop.clinical.plan.sign",
    }
    billing = client.get("/audit/?category=billing")
    assert {e.action for e in _rows(billing)} == {"openiop.billing.claim.read"}
    denied = client.get("/audit/?outcome=denied")
    assert {e.action for e in _rows(denied)} == {"openiop.core.access.deny"}


def test_bad_filters_are_form_errors_not_500(client, auditor):
    login(client, auditor)
    for query in ("date_from=2026-13-01", "date_from=2026-11-09&date_to=2026-11-01",
                  "user=not-a-uuid", f"user={uuid.uuid4()}", "sort=password", "page=0",
                  "page=x", "category=secret", "patient=nope", "date_from=0001-01-01"):  # fmt: skip
        response = client.get("/audit/?" + query)
        assert response.status_code == 400, query
        assert response.context["page"] is None


def _sort_key(event: AuditEvent, key: str):
    return tuple(getattr(event, f) for f in SORT_FIELDS[key])


def test_sorts_by_each_field_on_a_1000_row_fixture(client, org, site, auditor, settings):
    people = (("alma", Role.COUNSELOR), ("boris", Role.BILLING), ("cleo", Role.INTAKE))
    users = [make_user(name, org, role) for name, role in people]
    patients = [_make_patient(org, "Pat", f"Number{i}") for i in range(4)]
    categories = ["clinical", "billing", "demographics", "attendance"]
    for i in range(1000):
        _event(
            users[i % 3], action=f"openiop.test.{'abcde'[i % 5]}.read",
            category=categories[i % 4], patient=patients[i % 4] if i % 7 else None,
            outcome="denied" if i % 11 == 0 else "success", ip=f"10.0.{i % 6}.1",
            detail={"n": i % 9}, at=NOW - dt.timedelta(minutes=i),
        )  # fmt: skip
    settings.OPENIOP_AUDIT_REPORT_PAGE_SIZE = 100
    login(client, auditor)
    base = "/audit/?action=openiop.test.&date_from=2026-11-01"
    for key in SORT_FIELDS:
        filters = ReportFilters(action="openiop.test.", sort=key)
        qs = event_queryset(organization_id=org.pk, filters=filters, tz=NY)
        full = list(qs)
        assert len(full) == 1000
        values = [_sort_key(e, key) for e in full]
        if key == "detail":  # JSON: compare what it holds
            values = [e.detail["n"] for e in full]
        assert values == sorted(values), key
        assert len(set(values)) > 1, key  # the fixture really varies this field
        for sort in (key, "-" + key):
            shown = _rows(client.get(f"{base}&sort={sort}"))
            assert len(shown) == 100
            got = [(_sort_key(e, key) if key != "detail" else e.detail["n"]) for e in shown]
            assert got == sorted(got, reverse=sort.startswith("-")), sort
        # the column heading links to the sort
        assert f"sort={key}" in client.get(base).content.decode() or key == "time"


def test_pages_through_without_overlap_and_caps_the_offset(client, auditor, counselor, settings):
    settings.OPENIOP_AUDIT_REPORT_PAGE_SIZE = 5
    settings.OPENIOP_AUDIT_REPORT_MAX_PAGE = 3
    for i in range(17):
        _event(counselor, detail={"n": i}, at=NOW - dt.timedelta(minutes=i))
    login(client, auditor)
    seen = []
    for number in (1, 2, 3):
        response = client.get(f"/audit/?action=openiop.test.&page={number}")
        page = response.context["page"]
        seen += [e.detail["n"] for e in _rows(response)]
        assert page.has_previous == (number > 1)
        assert page.has_next == (number < 3)
    assert seen == list(range(15))  # newest first, no row twice
    last = client.get("/audit/?action=openiop.test.&page=3")
    assert last.context["page"].capped
    assert "narrow the filter" in last.content.decode()
    too_far = client.get("/audit/?action=openiop.test.&page=4")
    assert too_far.status_code == 400
    assert "at most 3 pages" in too_far.content.decode()


def test_report_page_query_count_does_not_grow_with_rows(
    client, org, site, auditor, counselor, django_assert_max_num_queries
):
    patients = [_make_patient(org, "Pat", f"Count{i}") for i in range(50)]
    users = [make_user(f"user{i}", org, Role.COUNSELOR) for i in range(10)]
    for i, p in enumerate(patients):
        _event(users[i % 10], patient=p)
    login(client, auditor)
    client.get("/audit/")  # warm the session
    with django_assert_max_num_queries(16):
        response = client.get("/audit/?action=openiop.test.")
    assert len(_rows(response)) == 50


# --- CSV export ---------------------------------------------------------------------------------


def _csv(response) -> tuple[bytes, list[list[str]]]:
    body = b"".join(response.streaming_content)
    return body, list(csv.reader(io.StringIO(body.decode("utf-8"))))


def test_csv_export_has_the_filtered_rows_and_a_matching_digest(client, org, auditor, patient):
    evil = make_user("=HYPERLINK(1)", org, Role.COUNSELOR)
    _event(evil, patient=patient, detail={"note": "ok"})
    _event(evil, action="openiop.other.thing.read")
    login(client, auditor)
    response = client.get(f"/audit/export.csv?patient={patient.public_id}&action=openiop.test.")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body, rows = _csv(response)
    digest = hashlib.sha256(body).hexdigest()
    assert response["X-OpenIOP-SHA256"] == digest
    import base64

    assert (
        response["Repr-Digest"] == f"sha-256=:{base64.b64encode(bytes.fromhex(digest)).decode()}:"
    )
    header, *data = rows
    assert header[:5] == ["occurred_at_utc", "local_time", "user", "roles", "action"]
    assert len(data) == 1
    row = dict(zip(header, data[0], strict=True))
    assert row["user"] == "'=HYPERLINK(1)"  # a formula is neutralised
    assert row["patient_mrn"] == patient.mrn and row["patient_name"] == "Whitfield, Dana"
    assert row["action"] == "openiop.test.thing.read"
    assert row["row_hash"] == AuditEvent.objects.get(action="openiop.test.thing.read").hash
    # The export is audited, digest included, and the page lists it.
    audit = AuditEvent.objects.get(action="openiop.audit.report.export")
    assert audit.detail["sha256"] == digest and audit.detail["rows"] == 1
    assert audit.patient_id == str(patient.public_id)
    assert digest in client.get("/audit/").content.decode()


def test_csv_export_stops_at_the_row_cap_and_says_so(client, auditor, counselor, settings):
    settings.OPENIOP_AUDIT_EXPORT_MAX_ROWS = 3
    for i in range(5):
        _event(counselor, detail={"n": i})
    response = login(client, auditor).get("/audit/export.csv?action=openiop.test.")
    _, rows = _csv(response)
    assert len(rows) == 1 + 3
    assert response["X-OpenIOP-Truncated"] == "1"
    assert AuditEvent.objects.get(action="openiop.audit.report.export").detail["truncated"]


def test_bad_export_filter_goes_back_to_the_form(client, auditor):
    response = login(client, auditor).get("/audit/export.csv?date_from=nope")
    assert response.status_code == 302 and response["Location"].startswith("/audit/?")


# --- chain check --------------------------------------------------------------------------------


def test_chain_check_runs_on_demand_and_is_recorded(client, auditor, counselor):
    _event(counselor)
    login(client, auditor)
    page = client.get("/audit/").content.decode()
    assert "Not checked from this page yet" in page
    assert not AuditEvent.objects.filter(action="openiop.audit.chain.verify").exists()
    response = client.post("/audit/chain/verify/", follow=True)
    assert "Audit chain intact" in response.content.decode()
    assert "Intact" in response.content.decode()
    row = AuditEvent.objects.get(action="openiop.audit.chain.verify")
    assert row.detail["ok"] is True and row.actor_username == "auditor"
    assert client.get("/audit/chain/verify/").status_code == 405


def test_chain_check_names_the_first_broken_row(client, auditor, counselor):
    events = [_event(counselor, detail={"n": i}) for i in range(3)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER core_auditevent_no_update")
        cursor.execute(
            "UPDATE core_auditevent SET action = 'openiop.test.forged.read' WHERE id = %s",
            [events[1].pk],
        )
    response = login(client, auditor).post("/audit/chain/verify/", follow=True)
    page = response.content.decode()
    assert "BROKEN" in page and "Broken" in page
    assert "openiop.test.forged.read" in page  # the first broken row, named
    row = AuditEvent.objects.get(action="openiop.audit.chain.verify")
    assert row.outcome == "failed" and row.detail["ok"] is False


# --- who looked at this patient ------------------------------------------------------------------


def test_who_looked_lists_a_counselors_chart_view(client, auditor, counselor, episode, patient):
    assert login(client, counselor).get(f"/patients/{patient.public_id}/").status_code == 200
    assert client.get("/patients/").status_code == 200  # the patient list names her too
    client.logout()
    response = login(client, auditor).get(f"/audit/patients/{patient.public_id}/")
    assert response.status_code == 200
    access = response.context["access"]
    opened = [g for g in access.opened if g.username == "counselor"]
    assert len(opened) == 1
    assert opened[0].day == dt.date(2026, 11, 10)
    assert "openiop.patients.patient.read" in opened[0].actions
    assert [g.username for g in access.listed] == ["counselor"]
    assert "openiop.patients.patient.list" in access.listed[0].actions
    page = response.content.decode()
    assert "counselor" in page and "openiop.patients.patient.read" in page
    # the page's own read is audited, naming the patient
    row = AuditEvent.objects.get(action="openiop.audit.patient_access.view")
    assert row.patient_id == str(patient.public_id) and row.actor_username == "auditor"


def test_who_looked_groups_by_user_and_local_day(
    client, site, auditor, counselor, billing, patient
):
    _event(counselor, patient=patient, at=dt.datetime(2026, 11, 9, 14, 0, tzinfo=dt.UTC))
    _event(counselor, patient=patient, at=dt.datetime(2026, 11, 10, 3, 0, tzinfo=dt.UTC))  # 9th NY
    _event(counselor, patient=patient, at=dt.datetime(2026, 11, 10, 14, 0, tzinfo=dt.UTC))
    _event(
        billing,
        patient=patient,
        outcome="denied",
        at=dt.datetime(2026, 11, 10, 14, 5, tzinfo=dt.UTC),
    )
    response = login(client, auditor).get(f"/audit/patients/{patient.public_id}/")
    groups = [
        (g.username, g.day, g.count, g.denied)
        for g in response.context["access"].opened
        if g.username  # the patient's creation by the fixture (no user)
    ]
    assert sorted(groups) == [
        ("billing", dt.date(2026, 11, 10), 1, 1),
        ("counselor", dt.date(2026, 11, 9), 2, 0),
        ("counselor", dt.date(2026, 11, 10), 1, 0),
    ]
    narrowed = client.get(f"/audit/patients/{patient.public_id}/?date_from=2026-11-10")
    assert {g.day for g in narrowed.context["access"].opened} == {dt.date(2026, 11, 10)}
    bad = client.get(f"/audit/patients/{patient.public_id}/?date_from=x")
    assert bad.status_code == 400


def test_who_looked_lists_who_received_the_record(client, site, auditor, supervisor, patient):
    from openiop.consent.services import DisclosureRefused, disclosure_make
    from openiop.consent.tests.factories import PROBATION, make_named

    make_named(patient)
    disclosure_make(
        actor=supervisor, patient=patient, recipient=PROBATION["recipient_name"],
        recipient_organization=PROBATION["recipient_organization"],
        purpose="criminal_justice", categories=["attendance"], channel="release",
    )  # fmt: skip
    with pytest.raises(DisclosureRefused):
        disclosure_make(
            actor=supervisor, patient=patient, recipient="Acme Staffing",
            purpose="employment", categories=["attendance"], channel="print",
        )  # fmt: skip
    response = login(client, auditor).get(f"/audit/patients/{patient.public_id}/")
    access = response.context["access"]
    assert access.disclosures_available
    assert [d.status for d in access.disclosures] == ["refused", "made"]
    page = response.content.decode()
    assert "County Probation" in page and "Acme Staffing" in page
    assert "Refused" in page and "Disclosed" in page
