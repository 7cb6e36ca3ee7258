"""Never a 500 on bad input: odd values in every body field and query parameter get a 4xx JSON
answer (security.md T6). A cheap stand-in until schemathesis runs against the OpenAPI in CI."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine

from conftest import api_client
from openiop.scheduling.services import session_book, session_create

NY = zoneinfo.ZoneInfo("America/New_York")
ODD = [
    None, 0, -1, 2**70, 1.5, "", "x" * 5000, "a\x00b", "9999-12-31", "0001-01-01",
    "2026-11-04T17:00:00+14:00", "2026-11-04T17:00:00", [], {}, True,
    "00000000-0000-0000-0000-000000000000", "23:59:59.999999", "25:00", "-1",
]  # fmt: skip


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(dt.datetime(2026, 11, 4, 23, 0, tzinfo=dt.UTC), tick=False):
        yield


def _assert_clean(response, what):
    assert response.status_code < 500, what
    assert response["Content-Type"].startswith("application/json"), what


def test_odd_values_in_request_bodies_never_cause_a_server_error(
    supervisor, patient, episode, program, room
):
    session = session_create(
        actor=None, program=program, title="Group", room=room,
        starts_at=dt.datetime(2026, 11, 4, 17, tzinfo=NY),
        ends_at=dt.datetime(2026, 11, 4, 20, tzinfo=NY),
    )  # fmt: skip
    session_book(actor=None, session=session, episode=episode)
    client = api_client(supervisor)
    p, e, s, g = patient.public_id, episode.public_id, session.public_id, program.public_id
    valid = {
        "/api/v1/patients": {"first_name": "A", "last_name": "B", "date_of_birth": "1990-01-01",
                             "mrn": "", "sex": "male", "email": ""},
        f"/api/v1/patients/{p}/unavailable-windows": {"weekday": 1, "start_time": "09:00",
                                                     "end_time": "10:00", "kind": "work"},
        "/api/v1/episodes": {"patient": str(p), "program": str(g), "admitted_on": None,
                             "primary_substance": 2, "primary_counselor": None},
        f"/api/v1/episodes/{e}/hold": {"effective_on": "2026-11-03", "reason": "r"},
        f"/api/v1/episodes/{e}/transfer": {"to_program": str(g), "effective_on": "2026-11-03"},
        f"/api/v1/episodes/{e}/discharge": {"discharged_on": "2026-11-03", "reason": 1,
                                            "version": 1},
        "/api/v1/sessions": {"program": str(g), "title": "t", "capacity": 5, "room": None,
                             "starts_at": "2026-11-06T17:00:00-05:00", "facilitators": [],
                             "ends_at": "2026-11-06T18:00:00-05:00"},
        f"/api/v1/sessions/{s}/bookings": {"episode": str(e)},
        f"/api/v1/sessions/{s}/cancel": {"reason": "r"},
    }  # fmt: skip
    for path, body in valid.items():
        for key in body:
            for value in ODD:
                response = client.post(path, {**body, key: value}, content_type="application/json")
                _assert_clean(response, (path, key, value))
        for raw in ["[]", "null", "1", '"x"', '{"a":', ""]:
            _assert_clean(client.post(path, raw, content_type="application/json"), (path, raw))
    for key in ["first_name", "date_of_birth", "email", "sex", "phone"]:
        for value in ODD:
            response = client.patch(f"/api/v1/patients/{p}", {key: value},
                                    content_type="application/json")  # fmt: skip
            _assert_clean(response, ("patch", key, value))
    for key in ["patient", "status", "minutes_attended", "checked_in_at", "checked_out_at", "note"]:
        for value in ODD:
            entry = {"patient": str(p), "status": "present", key: value}
            response = client.post(f"/api/v1/sessions/{s}/attendance", {"entries": [entry]},
                                   content_type="application/json")  # fmt: skip
            _assert_clean(response, ("attendance", key, value))


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/patients?q=%00",
        "/api/v1/patients?limit=999999999999999999999",
        "/api/v1/patients?offset=99999999999999999999999",
        "/api/v1/patients?offset=-1",
        "/api/v1/sessions?date_from=9999-12-31",
        "/api/v1/sessions?date_from=2200-12-31&date_to=2200-12-31",
        "/api/v1/sessions?status=x",
        "/api/v1/episodes?patient=1",
        "/api/v1/compliance?week=9999-12-27&program={g}",
        "/api/v1/compliance?week=2200-12-29&program={g}",
        "/api/v1/compliance?week=1900-01-01&program={g}",
        "/api/v1/patients/{g}",
        "/api/v1/episodes/%20",
    ],
)
def test_odd_query_parameters_never_cause_a_server_error(counselor, program, url):
    response = api_client(counselor).get(url.format(g=program.public_id))
    _assert_clean(response, url)
