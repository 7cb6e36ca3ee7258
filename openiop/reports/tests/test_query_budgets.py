"""Query counts of the key pages are pinned, and they do not grow with the data (issue 12).

Each page is measured on a small clinic, then again after weeks of history and more patients
have been added: the number of SQL queries must be the same. A page whose count grew would get
slower with every week the clinic runs. Timings are measured by ``bench/web.py``, never here.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import make_user
from openiop.accounts.permissions import Role
from openiop.attendance.services import AttendanceEntry, attendance_record
from openiop.enrollment.services import episode_create
from openiop.fhir.services import fhir_client_create
from openiop.patients.services import patient_create
from openiop.questionnaires import services as q_services
from openiop.questionnaires.instruments import registry
from openiop.scheduling.services import session_book, session_create

NOW = dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC)  # a Wednesday, 10:00 in New York
PHQ9 = [item.link_id for item in registry.get("phq9").items]

# The most queries each page may run (the pin). They must also not grow with history.
BUDGET = {
    "dashboard": 60,
    "session roster": 40,
    "patient chart": 60,
    "program compliance week": 40,
    "patient search": 25,
    "UR packet": 60,
    "outcome report": 60,
    "FHIR Patient search": 15,
    "attendance check-in (API)": 40,
}


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _week_sessions(program, counselor, monday: dt.date, n: int = 3) -> list:
    tz = program.site.tz
    out = []
    for day in range(n):
        start = dt.datetime.combine(monday + dt.timedelta(days=day * 2), dt.time(18), tzinfo=tz)
        out.append(
            session_create(
                actor=None,
                program=program,
                title="Group",
                starts_at=start,
                ends_at=start + dt.timedelta(hours=3),
                facilitators=[counselor],
            )  # fmt: skip
        )
    return out


def add_history(org, program, counselor, *, patients: int, weeks: int, tag: str) -> None:
    """``patients`` more patients in the program with ``weeks`` weeks of attended groups and a
    PHQ-9 each week: history the key pages must not pay for."""
    this_monday = NOW.date() - dt.timedelta(days=NOW.weekday())
    episodes = []
    for n in range(patients):
        p = patient_create(
            actor=None, organization=org, first_name=f"Hist{tag}{n}", last_name=f"Zed{tag}",
            date_of_birth=dt.date(1980, 1, 1 + n), sex="male",
        )  # fmt: skip
        episodes.append(
            episode_create(
                actor=None,
                patient=p,
                program=program,
                admitted_on=this_monday - dt.timedelta(weeks=weeks + 1),
                primary_counselor=counselor,
            )  # fmt: skip
        )
    for w in range(1, weeks + 1):
        monday = this_monday - dt.timedelta(weeks=w)
        for session in _week_sessions(program, counselor, monday):
            for episode in episodes:
                session_book(actor=None, session=session, episode=episode)
            attendance_record(
                actor=counselor, session=session,
                entries=[AttendanceEntry(patient=e.patient, status="present") for e in episodes],
            )  # fmt: skip
        for episode in episodes:
            answers = {link_id: "1" for link_id in PHQ9}
            answers[PHQ9[8]] = "0"
            q_services.response_record(
                actor=counselor, patient=episode.patient, episode=episode, instrument="phq9",
                answers=answers,
                administered_at=dt.datetime.combine(monday, dt.time(20), tzinfo=dt.UTC),
            )  # fmt: skip


@pytest.fixture
def clinic(org, site, program, counselor, patient, episode):
    director = make_user("director", org, Role.PROGRAM_DIRECTOR)
    start = dt.datetime.combine(NOW.date(), dt.time(9), tzinfo=program.site.tz)  # 9:00 today
    today = session_create(
        actor=None, program=program, title="Morning group", starts_at=start,
        ends_at=start + dt.timedelta(hours=3), facilitators=[counselor],
    )  # fmt: skip
    session_book(actor=None, session=today, episode=episode)
    # Checked in already: the API call below re-sends it, the same in both measurements.
    attendance_record(
        actor=counselor, session=today,
        entries=[AttendanceEntry(patient=episode.patient, status="present")],
    )  # fmt: skip
    add_history(org, program, counselor, patients=3, weeks=2, tag="a")
    _, fhir_token = fhir_client_create(
        actor=None, organization=org, name="Bench", kind="user", user=director,
        scopes="user/*.rs",
    )  # fmt: skip
    return {"director": director, "session": today, "fhir": fhir_token}


def measure(clinic, patient, episode, program) -> dict[str, int]:
    web = Client()
    web.force_login(clinic["director"])
    week = (NOW.date() - dt.timedelta(days=NOW.weekday())).isoformat()
    pages = {
        "dashboard": reverse("reports:dashboard"),
        "session roster": reverse("scheduling:session-detail", args=[clinic["session"].public_id]),
        "patient chart": reverse("patients:patient-detail", args=[patient.public_id]),
        "program compliance week": reverse("organizations:program-detail", args=[program.public_id])
        + f"?week={week}",
        "patient search": reverse("patients:patient-list") + "?q=Whitfield",
        "UR packet": reverse("clinical:ur-packet", args=[episode.public_id])
        + "?start=2026-11-02&end=2026-11-15",
        "outcome report": reverse("reports:outcomes"),
    }
    counts = {}
    for name, url in pages.items():
        with CaptureQueriesContext(connection) as ctx:
            response = web.get(url)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(ctx.captured_queries)
    fhir = Client(HTTP_AUTHORIZATION=f"Bearer {clinic['fhir']}")
    with CaptureQueriesContext(connection) as ctx:
        assert fhir.get("/fhir/r4/Patient?_count=50").status_code == 200
    counts["FHIR Patient search"] = len(ctx.captured_queries)
    api = Client()
    api.force_login(clinic["director"])
    url = f"/api/v1/sessions/{clinic['session'].public_id}/attendance"
    body = {"entries": [{"patient": str(patient.public_id), "status": "present"}]}
    with CaptureQueriesContext(connection) as ctx:
        response = api.post(url, body, content_type="application/json")
    assert response.status_code == 200, response.content
    counts["attendance check-in (API)"] = len(ctx.captured_queries)
    return counts


def test_key_pages_stay_within_their_query_budget_and_do_not_grow(
    clinic, org, program, counselor, patient, episode
):
    before = measure(clinic, patient, episode, program)
    add_history(org, program, counselor, patients=6, weeks=4, tag="b")
    after = measure(clinic, patient, episode, program)
    over = {k: v for k, v in after.items() if v > BUDGET[k]}
    assert not over, f"over budget: {over} (budgets {BUDGET})"
    grew = {k: (before[k], after[k]) for k in before if after[k] > before[k]}
    assert not grew, f"query counts grew with history (before, after): {grew}"
