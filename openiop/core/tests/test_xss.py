"""T6 (security.md): stored XSS. Payloads go into every free-text field a user can write; every
page that shows them must render them escaped, carry a CSP without inline scripts, and never
fail. JSON stays JSON; the audit CSV export neutralises spreadsheet formulas (ASVS 1.2.10)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import api_client, login, make_user
from openiop.accounts.permissions import Role
from openiop.core.tests.sec_checks import (
    PAYLOADS,
    csp_problems,
    payload_text,
    storable,
    xss_findings,
)
from openiop.core.tests.sec_urls import (
    API_PARAMS,
    CAPABILITY_URLS,
    OBJECT_URLS,
    api_operations,
    api_path,
    parameterless_urls,
    plan_part_urls,
    url_for,
)
from openiop.core.tests.sec_world import NOW, World, build_world

# Each world stores every payload in every unlimited text field (in a different order) and a
# different handful in each length-limited field.
WORLDS = 4


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _no_background_solver(monkeypatch):
    from openiop.scheduling import week

    monkeypatch.setattr(week, "start_background_solve", lambda draft: None)


def _is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


def staff_pages(w: World) -> list[str]:
    """Every page a member of staff can GET that shows the world's data."""
    urls = [u for u in parameterless_urls()]
    urls += [url_for(w, name) for name in OBJECT_URLS if name not in CAPABILITY_URLS]
    urls += plan_part_urls(w)
    program, patient = w.id("program"), w.id("patient")
    urls += [
        # The same pages with filters, print and download variants.
        f"{reverse('scheduling:session-list')}?program={program}&week=2026-11-09",
        f"{reverse('scheduling:session-list')}?program={program}&week=2026-11-23",
        f"{reverse('scheduling:board')}?program={program}&week=2026-11-23",
        f"{reverse('placement:waitlist')}?program={program}",
        f"{reverse('placement:intake-report')}?program={program}",
        f"{reverse('placement:referral-list')}?status=all",
        f"{reverse('patients:patient-list')}?q={w.patient.last_name[:20]}",
        f"{reverse('audit:event-list')}?patient={patient}",
        f"{reverse('audit:event-list')}?date_from=2026-10-01",
        f"{reverse('questionnaires:response-create', args=[patient])}?instrument=phq9",
        url_for(w, "consent:disclosure-detail") + "?print=1",
        reverse("consent:disclosure-detail", args=[w.id("disclosure_refused")]),
        reverse("consent:consent-revoke", args=[w.id("consent_tpo")]),
        reverse("consent:break-glass-review", args=[w.id("break_glass_reviewed")]),
        url_for(w, "clinical:ur-packet") + "?start=2026-11-02&end=2026-11-15",
        url_for(w, "clinical:ur-packet") + "?start=2026-11-02&end=2026-11-15&download=html",
        reverse("clinical:note-detail", args=[w.id("note_soap")]),
        reverse("clinical:note-detail", args=[w.id("note_birp")]),
        reverse("clinical:note-detail", args=[w.id("note_sud")]),
        reverse("clinical:note-detail", args=[w.id("amendment")]),
        reverse("clinical:note-detail", args=[w.id("group_part")]),
        reverse("clinical:plan-detail", args=[w.id("draft_plan")]),
        reverse("clinical:plan-episode", args=[w.id("episode2")]),
        reverse("clinical:note-list", args=[w.id("episode2")]),
        reverse("enrollment:episode-detail", args=[w.id("episode2")]),
        reverse("patients:patient-detail", args=[w.id("patient2")]),
        reverse("patients:patient-detail", args=[w.id("patient3")]),
        reverse("questionnaires:patient-scores", args=[w.id("patient2")]),
        reverse("questionnaires:response-detail", args=[w.id("response_gad")]),
        reverse("questionnaires:alert-follow-up", args=[w.id("alert_closed")]),
        reverse("medications:medication-change", args=[w.id("medication_outside")]),
        reverse("placement:referral-detail", args=[w.id("referral_out")]),
        reverse("scheduling:session-detail", args=[w.id("individual_session")]),
        reverse("scheduling:session-detail", args=[w.id("cancelled_session")]),
        reverse("scheduling:session-detail", args=[w.id("next_session")]),
        reverse("scheduling:attendance-record", args=[w.id("next_session")]),
        reverse("consent:consent-list", args=[w.id("patient2")]),
        reverse("billing:authorization-list", args=[w.id("episode2")]),
        reverse("clinical:ur-list", args=[w.id("episode2")]),
    ]
    return list(dict.fromkeys(urls))


@pytest.mark.parametrize("world", range(WORLDS))
def test_stored_payloads_are_escaped_on_every_staff_page(org, world):
    w = build_world(org, payload_text(world), tag=f"x{world}")
    client = login(Client(raise_request_exception=False), w.staff)
    failures, shown = [], 0
    # The packet downloads (a release to the payer) may be POST-only: read them both ways.
    period = "?start=2026-11-02&end=2026-11-15"
    downloads = [url_for(w, "clinical:ur-download"), url_for(w, "clinical:ur-packet") + period]
    requests = [("GET", u) for u in staff_pages(w)] + [("POST", u) for u in downloads]
    for method, url in requests:
        response = client.get(url) if method == "GET" else client.post(url)
        if response.status_code >= 500:
            failures.append(f"{method} {url}: HTTP {response.status_code}")
            continue
        if response.status_code in (301, 302, 405) or not _is_html(response):
            continue
        shown += 1
        body = response.content.decode()
        failures += [f"{method} {url}: {f}" for f in xss_findings(body)]
        failures += [f"{method} {url}: {p}" for p in csp_problems(response)]
    assert not failures, "\n".join(failures)
    assert shown > 100  # the pages really rendered (not all redirects)


def test_the_scanner_finds_what_would_run_and_passes_what_is_escaped():
    """The checks above mean something: raw payloads are found, escaped ones are not."""
    from django.utils.html import escape

    for payload in PAYLOADS:
        page = f'<html><body><p>{escape(payload)}</p><input value="{escape(payload)}">'
        page += f"<textarea>{escape(payload)}</textarea><title>{escape(payload)}</title>"
        assert xss_findings(page) == [], payload
    for raw in ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
                "<svg onload=alert(4)>", "<a href=javascript:alert(14)>x</a>",
                "<iframe src=javascript:alert(13)>", "91824"):  # fmt: skip
        assert xss_findings(f"<p>{raw}</p>"), raw
    assert xss_findings('<a href=" JaVaScRiPt:alert(1)">x</a>')
    assert xss_findings('<input value="" autofocus onfocus="alert(11)">')
    assert not xss_findings('<script type="application/json">{"a": "alert(1)"}</script>')


@pytest.mark.parametrize("name", ["$\\alert{1}$ group", "Cost $5 to $10", "$x^$"])
def test_a_program_name_with_dollar_signs_does_not_break_the_charts(org, name):
    """matplotlib reads ``$...$`` in a label as mathtext: a program named so must not turn the
    dashboard and the intake report (program names on the chart axis) into a 500."""
    w = build_world(org, payload_text(0), tag="d")
    Program = type(w.program)
    Program.objects.filter(pk=w.program.pk).update(name=name)
    client = login(Client(raise_request_exception=False), w.staff)
    for url in (reverse("reports:dashboard"), reverse("placement:intake-report"),
                reverse("patients:patient-detail", args=[w.id("patient")])):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        assert not xss_findings(response.content.decode()), url


def _form_posts(w: World, payload: str) -> list[tuple[str, dict]]:
    """Forms posted with a payload and one mistake, so they come back with the typed text."""
    return [
        (reverse("patients:patient-create"),
         {"first_name": payload, "last_name": payload, "date_of_birth": "not a date",
          "phone": payload[:32], "address": payload}),
        (reverse("placement:referral-create"),
         {"first_name": payload[:100], "last_name": payload[:100], "reason": payload,
          "received_on": "2099-01-01", "referrer_contact": payload[:200]}),
        (reverse("scheduling:session-create"),
         {"title": payload[:200], "program": str(w.id("program")), "date": "bad"}),
        (reverse("consent:consent-create", args=[w.id("patient")]),
         {"kind": "named", "disclosing_party": payload[:200], "recipient_name": payload[:200],
          "purpose": "other", "purpose_detail": payload[:300], "signed_by_name": "",
          "signed_at": "bad"}),
        (reverse("consent:break-glass-start", args=[w.id("patient")]),
         {"reason": payload[:10], "disclosed_to": payload[:300]}),
        (reverse("clinical:note-edit", args=[w.id("note_birp")]),
         {"version": "999", "s_behavior": payload, "modality": "in_person"}),
        (reverse("clinical:discharge-edit", args=[w.id("discharge")]),
         {"version": "999", "progress_narrative": payload}),
        (reverse("questionnaires:alert-follow-up", args=[w.id("alert_open")]), {"note": ""}),
        (reverse("medications:medication-start", args=[w.id("patient")]),
         {"name": payload[:200], "dose": payload[:100], "frequency": "", "start_on": "bad"}),
        (reverse("billing:authorization-create", args=[w.id("episode")]),
         {"payer_name": payload[:200], "notes": payload, "units_authorized": "x"}),
        (reverse("clinical:plan-part-add", args=["goal", w.id("draft_problem")]),
         {"text": ""}),
        (reverse("clinical:plan-part-add", args=["intervention", w.id("draft_objective")]),
         {"description": payload, "frequency": payload[:100], "modality": "nope"}),
        (reverse("clinical:ur-create", args=[w.id("episode")]),
         {"clinician_summary": payload, "period_start": "bad"}),
    ]  # fmt: skip


def test_every_payload_typed_into_forms_comes_back_escaped(org):
    w = build_world(org, payload_text(1), tag="r")
    client = login(Client(raise_request_exception=False), w.staff)
    failures = []
    for payload in map(storable, PAYLOADS):
        for url, data in _form_posts(w, payload):
            response = client.post(url, data)
            if response.status_code >= 500:
                failures.append(f"POST {url}: HTTP {response.status_code}")
            elif _is_html(response):
                failures += [f"POST {url}: {f}" for f in xss_findings(response.content.decode())]
        for url in (reverse("patients:patient-list"), reverse("placement:referral-list"),
                    reverse("audit:event-list"), reverse("scheduling:session-list"),
                    reverse("login")):  # fmt: skip
            response = client.get(url, {"q": payload, "next": payload, "week": payload,
                                        "program": payload, "status": payload})  # fmt: skip
            if response.status_code >= 500:
                failures.append(f"GET {url}?q=...: HTTP {response.status_code}")
            elif _is_html(response):
                failures += [f"GET {url}: {f}" for f in xss_findings(response.content.decode())]
    assert not failures, "\n".join(failures)


def test_messages_after_a_save_show_names_escaped(org):
    """Success messages quote what was saved (a patient's or guardian's name)."""
    w = build_world(org, payload_text(2), tag="g")
    client = login(Client(raise_request_exception=False), w.staff)
    failures = []
    for payload in map(storable, PAYLOADS[:12]):
        response = client.post(reverse("patients:patient-create"), {
            "first_name": payload[:100], "last_name": payload[:100], "sex": "unknown",
            "date_of_birth": "1990-01-01", "preferred_language": "English",
        }, follow=True)  # fmt: skip
        response2 = client.post(
            reverse("patients:guardian-create", args=[w.id("patient")]),
            {"guardian-name": payload[:200], "guardian-relationship": "Parent"}, follow=True,
        )  # fmt: skip
        for r in (response, response2):
            assert r.status_code < 500
            failures += xss_findings(r.content.decode())
    assert not failures, "\n".join(failures)


# --- JSON and CSV ---------------------------------------------------------------------------------


def test_api_responses_carry_payloads_as_json_never_html(org):
    """Every GET of the API returns application/json with nosniff, whatever text it carries."""
    w = build_world(org, payload_text(3), tag="j")
    client = api_client(w.staff)
    ids = {param: w.id(name) for param, name in API_PARAMS.items()}
    seen = 0
    for method, template, _name, params in api_operations():
        if method != "GET" or template.endswith(("openapi.json", "/docs")):
            continue
        url = api_path(template, {p: ids[p] for p in params})
        query = {"program": str(w.id("program")), "week": "2026-11-16"}
        response = client.get(url, query if not params else {})
        assert response.status_code < 500, url
        assert response["Content-Type"].startswith("application/json"), url
        assert response["X-Content-Type-Options"] == "nosniff", url
        json.loads(response.content)
        seen += response.content.count(b"alert(")
    assert seen > 50  # the payloads really travelled through the API


def _export(client, **query) -> list[list[str]]:
    response = client.get(reverse("audit:event-export"), query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode("utf-8"))))


FORMULAS = ("=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(1,1)",
            "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0")  # fmt: skip


def test_audit_csv_export_neutralises_formulas(org, auditor):
    """ASVS 1.2.10: a cell a spreadsheet would run as a formula starts with a quote. Patient
    names, usernames, user agents and audit details are all typed by someone."""
    from openiop.core.audit import audit_log
    from openiop.core.models import AuditEvent
    from openiop.patients.services import patient_create

    for i, formula in enumerate(FORMULAS):
        user = make_user(f"u{i}", org, Role.COUNSELOR)
        user.username = ("@" if i % 2 else "-") + f"evil{i}"
        user.save(update_fields=["username"])
        patient = patient_create(
            actor=None, organization=org, first_name=formula[:100], last_name=formula[:100],
            date_of_birth=dt.date(1990, 1, 1),
        )  # fmt: skip
        audit_log(
            actor=user, action="openiop.test.formula", category=AuditEvent.Category.CLINICAL,
            patient=patient, obj=patient, detail={"note": formula},
        )  # fmt: skip
        login(Client(HTTP_USER_AGENT=formula), user).get(
            reverse("patients:patient-detail", args=[patient.public_id])
        )
    client = login(Client(), auditor)
    rows = _export(client, date_from="2026-01-01")
    assert len(rows) > len(FORMULAS)
    bad = [cell for row in rows[1:] for cell in row if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not bad, bad
    quoted = [cell for row in rows[1:] for cell in row if cell.startswith("'")]
    assert any(c.startswith("'-evil") or c.startswith("'@evil") for c in quoted)
    assert any(c.startswith("'=HYPERLINK") for c in quoted)


def test_audit_report_page_shows_user_agents_and_details_escaped(org, auditor):
    from openiop.patients.services import patient_create

    patient = patient_create(
        actor=None, organization=org, first_name="Ana", last_name="Lee",
        date_of_birth=dt.date(1990, 1, 1),
    )  # fmt: skip
    for payload in map(storable, PAYLOADS):
        login(Client(HTTP_USER_AGENT=payload), auditor).get(
            reverse("patients:patient-detail", args=[patient.public_id]), {"x": payload}
        )
    client = login(Client(), auditor)
    for url in (reverse("audit:event-list"), f"{reverse('audit:event-list')}?sort=-detail",
                reverse("audit:patient-access", args=[patient.public_id])):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200
        assert not xss_findings(response.content.decode()), url
        assert not csp_problems(response)
