"""T3 log injection (ASVS 16.4.1): user names, user agents, typed log-in names and free text with
newlines, carriage returns, ANSI escapes, bidi overrides or JSON break-outs are stored and exported
encoded: they cannot forge a line of the CSV export, a terminal colour, or a field of the
hash-chained row, and ``openiop audit verify`` prints no user-supplied text at all."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse

from conftest import login, make_user
from openiop.accounts.permissions import Role
from openiop.core.audit import _canonical, audit_log, audit_verify, log_safe
from openiop.core.models import AuditEvent
from openiop.core.selectors_audit import detail_json

NOW = dt.datetime(2026, 11, 10, 15, 0, tzinfo=dt.UTC)
ANSI = "\x1b[31mRED\x1b[0m"
FORGED_LINE = "real\r\n2026-11-10T15:00:00+00:00,admin,auditor,openiop.fake.read"
JSON_BREAKOUT = '", "outcome": "success", "x": "'
BIDI = "evil\u202etxt.exe"
PAYLOADS = [ANSI, FORGED_LINE, JSON_BREAKOUT, BIDI, "tab\there", "nul\x00byte", "del\x7f\x85"]
# Raw characters that must never reach an export: C0/C1 controls, line separators, bidi overrides.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _csv_export(client) -> tuple[str, list[dict[str, str]]]:
    response = client.get("/audit/export.csv?date_from=2026-11-01&date_to=2026-11-30")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    header, *rows = list(csv.reader(io.StringIO(body)))
    return body, [dict(zip(header, row, strict=True)) for row in rows]


def test_log_safe_makes_every_control_character_visible():
    assert log_safe(ANSI) == "\\u001b[31mRED\\u001b[0m"
    assert log_safe("a\r\nb\tc") == "a\\r\\nb\\tc"
    assert log_safe(BIDI) == "evil\\u202etxt.exe"
    assert (
        log_safe("nul\x00 del\x7f nel\x85 ls\u2028") == "nul\\u0000 del\\u007f nel\\u0085 ls\\u2028"
    )
    assert log_safe("Zoë O'Neil-Smith (plain text) 😀") == "Zoë O'Neil-Smith (plain text) 😀"
    assert log_safe("\n" * 200, 10) == "\\n\\n\\n\\n\\n"
    for payload in PAYLOADS:
        assert RAW.search(log_safe(payload)) is None and "\n" not in log_safe(payload)


def test_user_agent_and_user_name_are_stored_encoded(org, patient):
    odd = make_user("plain", org, Role.COUNSELOR)
    odd.username = "mallory\n" + ANSI  # not possible through the forms; the raw ORM allows it
    odd.save(update_fields=["username"])
    request = RequestFactory().get("/", HTTP_USER_AGENT="UA" + FORGED_LINE + ANSI + "x" * 400)
    event = audit_log(
        actor=odd, action="openiop.test.thing.read", category="clinical", patient=patient,
        request=request,
    )  # fmt: skip
    event.refresh_from_db()
    assert event.actor_username == "mallory\\n\\u001b[31mRED\\u001b[0m"
    assert event.user_agent.startswith("UAreal\\r\\n2026-11-10T15:00:00+00:00,admin")
    assert len(event.user_agent) == 300  # still cut to the column, after encoding
    assert RAW.search(event.user_agent + event.actor_username) is None
    assert audit_verify().ok


def test_detail_round_trips_exactly_and_cannot_break_out_of_its_field(counselor, patient):
    detail = {"search": JSON_BREAKOUT, "note": FORGED_LINE + ANSI, JSON_BREAKOUT: BIDI}
    event = audit_log(
        actor=counselor, action="openiop.test.thing.read", category="clinical", patient=patient,
        detail=detail,
    )  # fmt: skip
    event.refresh_from_db()
    assert event.detail == detail  # stored as given: JSON keeps it a string
    assert event.outcome == "success" and "x" not in event.detail
    canonical = json.loads(_canonical(event))
    assert canonical["detail"] == detail and canonical["outcome"] == "success"
    text = detail_json(event.detail)  # what the report page and the CSV show
    assert "\n" not in text and "\r" not in text and RAW.search(text) is None
    assert "\\u001b[31m" in text and "\\r\\n" in text
    assert json.loads(text) == detail
    assert audit_verify().ok


def test_nul_in_detail_is_stored_as_an_escape(counselor):
    event = audit_log(
        actor=counselor, action="openiop.test.thing.read", category="clinical",
        detail={"search": "a\x00b", "list": ["c\x00"]},
    )  # fmt: skip
    event.refresh_from_db()
    assert event.detail == {"search": "a\\u0000b", "list": ["c\\u0000"]}
    assert audit_verify().ok


def test_csv_export_has_one_line_per_row_and_no_raw_control_characters(
    client, org, auditor, counselor, patient
):
    odd = make_user("plain2", org, Role.COUNSELOR)
    odd.username = "eve\r\n" + ANSI
    odd.save(update_fields=["username"])
    for payload in PAYLOADS:
        request = RequestFactory().get("/", HTTP_USER_AGENT=payload, REMOTE_ADDR="10.0.0.9")
        audit_log(
            actor=odd, action="openiop.test.thing.read", category="clinical", patient=patient,
            request=request, detail={"note": payload, payload: payload},
        )  # fmt: skip
    body, rows = _csv_export(login(client, auditor))
    mine = [r for r in rows if r["action"] == "openiop.test.thing.read"]
    assert len(mine) == len(PAYLOADS)
    # Every record is exactly one physical line: nothing a line-based tool could split or forge.
    assert len(body.split("\r\n")) == len(rows) + 2  # header + rows + the empty tail
    assert "\n" not in body.replace("\r\n", "") and "\r" not in body.replace("\r\n", "")
    for row in mine:
        cells = "".join(row[c] for c in ("user", "user_agent", "detail"))
        assert RAW.search(cells) is None, row
        assert row["user"] == "eve\\r\\n\\u001b[31mRED\\u001b[0m"
        assert json.loads(row["detail"])["note"] in {
            p.replace("\x00", "\\u0000") for p in PAYLOADS
        }  # the detail column is JSON that decodes back to what was logged


def test_csv_export_encodes_control_characters_in_patient_names(
    client, auditor, counselor, patient
):
    patient.last_name = "Whitfield\r\n" + ANSI
    patient.save(update_fields=["last_name"])
    audit_log(actor=counselor, action="openiop.test.thing.read", category="clinical",
              patient=patient)  # fmt: skip
    _, rows = _csv_export(login(client, auditor))
    [row] = [r for r in rows if r["action"] == "openiop.test.thing.read"]
    assert RAW.search(row["patient_name"]) is None and "\n" not in row["patient_name"]


def test_failed_log_in_with_an_injected_user_name_is_logged_encoded(org):
    typed = "admin\r\n" + ANSI + JSON_BREAKOUT
    Client().post(reverse("login"), {"username": typed, "password": "wrong-password-123"})
    event = AuditEvent.objects.filter(action="openiop.accounts.session.login").latest("id")
    assert event.outcome == "failed" and event.detail["username"] == typed
    text = detail_json(event.detail)
    assert RAW.search(text) is None and "\n" not in text and json.loads(text) == event.detail
    assert audit_verify().ok


def test_audit_verify_prints_no_user_supplied_text(org, patient):
    odd = make_user("plain3", org, Role.COUNSELOR)
    odd.username = "x\n" + ANSI
    odd.save(update_fields=["username"])
    for payload in PAYLOADS:
        audit_log(
            actor=odd, action="openiop.test.thing.read", category="clinical", patient=patient,
            request=RequestFactory().get("/", HTTP_USER_AGENT=payload), detail={"p": payload},
        )  # fmt: skip
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    rows = AuditEvent.objects.count()
    assert out.getvalue() == f"audit chain intact: {rows} rows verified\n"
