"""Intake and placement API: evaluate (the CLI's logic), referrals, screens, assessments, seat
offers, admission, waitlist, referral out and closing."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from conftest import api_client
from openiop.attendance.models import AttendanceRecord
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program, Site
from openiop.patients.models import Patient
from openiop.patients.services import unavailable_window_add
from openiop.placement import rules, selectors, services
from openiop.placement.models import Assessment, ConsentToTreat, Referral, Screening
from openiop.scheduling.services import series_create

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)  # Monday 10:00 in New York
UNKNOWN = "5d7b1c2a-0000-4000-8000-000000000000"
ISSUE_EXAMPLE = {
    "age": 34, "d1": 0, "d2": 0, "d3": 1, "d4": 2, "d5": 2, "d6": 1,
    "needs_detox_now": False, "needs_24h_supervision": False, "toxic_home": False,
    "harmful_environment": False, "serious_co_occurring": False, "medically_unstable": False,
    "responsibilities": ["work"], "substances": ["alcohol"],
}  # fmt: skip
RATINGS = {k: v for k, v in ISSUE_EXAMPLE.items() if k in services.RULE_FIELDS}
NOTES = {n: f"Reason for dimension {n}" for n in range(1, 7)}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def post(client, path, body):
    return client.post(path, body, content_type="application/json")


def fields(response) -> set[str | None]:
    return {e["field"] for e in response.json()["detail"]}


def new_referral(org, actor, **kw):
    args = dict(
        actor=actor, organization=org, first_name="Maya", last_name="Lindqvist",
        date_of_birth=dt.date(1990, 6, 1), phone="555-0142", source="employer",
        received_on=dt.date(2026, 11, 12), reason="Drinking after work",
    )  # fmt: skip
    args.update(kw)
    return services.referral_create(**args)


def assess(referral, actor, **kw):
    args = dict(
        actor=actor, referral=referral, assessed_on=dt.date(2026, 11, 14), ratings=RATINGS,
        notes=NOTES, chosen_level="2.1", responsibilities=["work"], substances=["alcohol"],
    )  # fmt: skip
    args.update(kw)
    return services.assessment_record(**args)


def assessment_body(**changes):
    body = {
        "assessed_on": "2026-11-14",
        "criteria_edition": "3",
        **RATINGS,
        **{f"d{n}_note": note for n, note in NOTES.items()},
        "responsibilities": ["work"],
        "substances": ["alcohol"],
        "chosen_level": "2.1",
    }
    body.update(changes)
    return body


@pytest.fixture
def referral(org, intake, program):
    return new_referral(org, intake, program_requested=program)


@pytest.fixture
def assessed(referral, counselor):
    assess(referral, counselor)
    return referral


@pytest.fixture
def evening_group(program, room):
    return series_create(
        actor=None, program=program, title="Evening group A", weekdays=[0, 2, 3],
        start_time=dt.time(18), duration_minutes=180, start_date=dt.date(2026, 11, 2),
        end_date=dt.date(2026, 12, 31), room=room,
    )  # fmt: skip


@pytest.fixture
def day_group(program, room):
    return series_create(
        actor=None, program=program, title="Day group", weekdays=[0, 2, 4],
        start_time=dt.time(9), duration_minutes=180, start_date=dt.date(2026, 11, 2),
        end_date=dt.date(2026, 12, 31), room=room,
    )  # fmt: skip


@pytest.fixture
def teens(org, site):
    return Program.objects.create(
        organization=org, site=site, name="Adolescent After-School IOP", population="adolescent",
        min_age=14, max_age=17, cohort=Program.Cohort.AFTER_SCHOOL,
        weekly_min_hours=Decimal("6.0"),
    )  # fmt: skip


@pytest.fixture
def foreign_program(outsider):
    site = Site.objects.get(organization=outsider.organization)
    return Program.objects.create(organization=outsider.organization, site=site, name="Theirs")


def counts() -> tuple[int, ...]:
    models = (Referral, Screening, Assessment, Episode, Patient, ConsentToTreat, AttendanceRecord)
    return tuple(m.unscoped.count() if hasattr(m, "unscoped") else m.objects.count()
                 for m in models)  # fmt: skip


# --- evaluate: the same logic as the CLI ---------------------------------------------------------


def cli(body: dict) -> dict:
    out = io.StringIO()
    call_command("placement", "evaluate", "-", stdin=io.StringIO(json.dumps(body)), stdout=out)
    return json.loads(out.getvalue())


VIGNETTES = {
    "iop": (ISSUE_EXAMPLE, "2.1", False),
    "withdrawal_management": (
        {**ISSUE_EXAMPLE, "d1": 3, "needs_detox_now": True, "substances": ["heroin"]},
        "3.7-WM",
        False,
    ),
    "residential_with_variance": ({**ISSUE_EXAMPLE, "d5": 3, "d6": 2}, "3.5", True),
    "adolescent": (
        {**ISSUE_EXAMPLE, "age": 16, "responsibilities": ["school"], "substances": ["cannabis"]},
        "2.1",
        False,
    ),
}


@pytest.mark.parametrize("name", list(VIGNETTES))
def test_evaluate_gives_what_the_cli_prints_plus_our_programs(name, intake, org, program, teens):
    body, level, variance = VIGNETTES[name]
    response = post(api_client(intake), "/api/v1/placement/evaluate", body)
    assert response.status_code == 200
    result = response.json()
    assert (result["level"], result["variance_allowed"]) == (level, variance)
    # The API is rules.evaluate_json with the organization's programs ...
    assert result == rules.evaluate_json(body, services.program_infos(org.pk))
    # ... and apart from the program lists it is exactly what `openiop placement evaluate` prints.
    printed = cli(body)
    assert printed == rules.evaluate_json(body)
    assert {**result, "programs": [], "variance_options": []} == printed
    assert not AuditEvent.objects.exists()  # pure computation: no patient data, no audit row


def test_evaluate_issue_example_fields_and_program_matching(intake, program, teens):
    result = post(api_client(intake), "/api/v1/placement/evaluate", ISSUE_EXAMPLE).json()
    assert result["level_category"] == "iop"
    assert result["population"] == "adult"
    assert result["mat_evaluation"] is True
    assert {r["driver"] for r in result["reasons"]} >= {"d4", "d5", "age", "substances"}
    assert [p["key"] for p in result["programs"]] == [str(program.public_id)]
    assert result["programs"][0]["fit"] == ["evening cohort fits work"]


def test_evaluate_lists_adolescent_programs_only_for_a_teen_and_iop_as_variance(
    intake, program, teens
):
    client = api_client(intake)
    teen = post(client, "/api/v1/placement/evaluate", VIGNETTES["adolescent"][0]).json()
    assert teen["guardian_required"] is True
    assert [p["name"] for p in teen["programs"]] == ["Adolescent After-School IOP"]
    residential = post(
        client, "/api/v1/placement/evaluate", VIGNETTES["residential_with_variance"][0]
    )
    body = residential.json()
    assert body["programs"] == []  # we run no residential program
    assert [p["name"] for p in body["variance_options"]] == ["Adult Evening IOP"]


def test_evaluate_names_every_bad_field(intake):
    body = {**ISSUE_EXAMPLE, "d1": 5, "d3": "2", "d7": 1}
    del body["toxic_home"]
    response = post(api_client(intake), "/api/v1/placement/evaluate", body)
    assert response.status_code == 422
    assert fields(response) == {"d1", "d3", "toxic_home", "d7"}
    with pytest.raises(rules.AssessmentError) as err:
        rules.evaluate_json(body)
    expected = [{"field": f, "message": m} for f, m in err.value.errors]
    got = [{"field": e["field"], "message": e["message"]} for e in response.json()["detail"]]
    assert got == expected


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (json.dumps({**ISSUE_EXAMPLE, "d1": 5}), "d1"),
        ('{"age": 34, "age": 35}', "age"),
        ("[]", "assessment"),
        ('{"age": ', None),
        ("", None),
        ("[" * 100_000, None),
    ],
)
def test_evaluate_bad_body_is_a_422_naming_the_field(intake, raw, field):
    response = api_client(intake).post(
        "/api/v1/placement/evaluate", raw, content_type="application/json"
    )
    assert response.status_code == 422
    assert field in fields(response)


def test_evaluate_needs_a_token_and_assessment_record(front_desk, billing, auditor):
    assert post(Client(), "/api/v1/placement/evaluate", ISSUE_EXAMPLE).status_code == 401
    for user in (front_desk, billing, auditor):
        assert (
            post(api_client(user), "/api/v1/placement/evaluate", ISSUE_EXAMPLE).status_code == 403
        )


# --- referrals: list, create, read ---------------------------------------------------------------


def test_list_filters_by_status_and_words_and_audits_every_referral(intake, org, referral, patient):
    other = new_referral(org, intake, first_name="Dana", last_name="Whitfield", patient=patient)
    services.referral_close(actor=intake, referral=other, status="declined", note="Not ready")
    client = api_client(intake)
    body = client.get("/api/v1/referrals").json()
    assert body["count"] == 2
    assert client.get("/api/v1/referrals?status=open").json()["count"] == 1
    item = client.get("/api/v1/referrals?status=declined&q=whit").json()["items"][0]
    assert (item["display_name"], item["status"]) == ("Dana Whitfield", "declined")
    assert item["patient"]["id"] == str(patient.public_id)
    assert client.get("/api/v1/referrals?q=nobody").json()["count"] == 0
    rows = AuditEvent.objects.filter(action="openiop.placement.referral.list").order_by("id")
    assert rows.count() == 3  # the empty search shows no one and writes no row
    assert set(rows[0].detail["referrals"]) == {str(referral.public_id), str(other.public_id)}
    assert rows[0].detail["patients"] == [str(patient.public_id)]


def test_list_refuses_unknown_status_and_nul(intake, referral):
    client = api_client(intake)
    response = client.get("/api/v1/referrals?status=asleep")
    assert response.status_code == 422
    assert fields(response) == {"status"}
    response = client.get("/api/v1/referrals?q=a%00b")
    assert response.status_code == 400
    assert fields(response) == {"q"}


def test_list_needs_a_token_and_referral_view_and_hides_other_orgs(billing, outsider, referral):
    assert Client().get("/api/v1/referrals").status_code == 401
    assert api_client(billing).get("/api/v1/referrals").status_code == 403
    body = api_client(outsider).get("/api/v1/referrals").json()
    assert body["count"] == 0
    assert "Lindqvist" not in str(body)


def test_list_query_count_does_not_grow_with_referrals(
    intake, org, program, patient, django_assert_max_num_queries
):
    def add(n: int) -> None:
        for i in range(n):
            ref = new_referral(org, intake, first_name=f"R{i}", program_requested=program,
                               patient=patient if i % 2 else None)  # fmt: skip
            if i % 3 == 0:
                services.referral_refer_out(actor=intake, referral=ref, to="Elsewhere")

    client = api_client(intake)
    add(1)
    client.get("/api/v1/referrals")  # token last-used stamp, role cache: steady state after this
    with django_assert_max_num_queries(12) as one:
        client.get("/api/v1/referrals")
    add(9)
    with django_assert_max_num_queries(12) as ten:
        response = client.get("/api/v1/referrals")
    assert len(ten.captured_queries) == len(one.captured_queries)
    assert response.json()["count"] == 10


def test_create_referral(intake, program):
    body = {"first_name": "Ari", "last_name": "Stone", "received_on": "2026-11-15",
            "phone": "555-0101", "urgency": "urgent", "source": "court",
            "program_requested": str(program.public_id)}  # fmt: skip
    response = post(api_client(intake), "/api/v1/referrals", body)
    assert response.status_code == 201
    data = response.json()
    assert (data["status"], data["urgency"], data["source"]) == ("new", "urgent", "court")
    assert data["program_requested"]["id"] == str(program.public_id)
    assert data["assigned_to"]["name"] == "Intake Tester"
    assert data["screenings"] == [] and data["assessments"] == []
    saved = Referral.objects.get(public_id=data["id"])
    assert saved.last_name == "Stone"
    assert AuditEvent.objects.filter(action="openiop.placement.referral.create").exists()


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"phone": ""}, "phone", 400),
        ({"received_on": "2026-12-25"}, "received_on", 400),
        ({"email": "not-an-address"}, "email", 400),
        ({"program_requested": UNKNOWN}, "program_requested", 400),
        ({"patient": UNKNOWN}, "patient", 400),
        ({"urgency": "soon"}, "urgency", 422),
        ({"first_name": ""}, "first_name", 422),
        ({"organization": 2}, "organization", 422),
    ],
)
def test_bad_referral_names_the_field_and_changes_nothing(intake, change, field, status):
    before = counts()
    body = {"first_name": "Ari", "last_name": "Stone", "received_on": "2026-11-15",
            "phone": "555-0101", **change}  # fmt: skip
    response = post(api_client(intake), "/api/v1/referrals", body)
    assert response.status_code == status
    assert field in fields(response)
    assert counts() == before


def test_foreign_program_or_patient_is_unknown(intake, outsider, foreign_program):
    from openiop.patients.services import patient_create

    theirs = patient_create(actor=None, organization=outsider.organization, first_name="T",
                            last_name="Theirs", date_of_birth=dt.date(1980, 1, 1))  # fmt: skip
    base = {"first_name": "A", "last_name": "B", "received_on": "2026-11-15", "phone": "5"}
    client = api_client(intake)
    cases = [
        ({"program_requested": str(foreign_program.public_id)}, "program_requested"),
        ({"patient": str(theirs.public_id)}, "patient"),
    ]
    for change, field in cases:
        response = post(client, "/api/v1/referrals", {**base, **change})
        assert response.status_code == 400
        assert fields(response) == {field}
        assert response.json()["detail"][0]["message"] in ("Unknown program.", "Unknown patient.")
    assert not Referral.objects.exists()


def test_auditor_may_read_but_not_take_referrals(auditor, referral):
    body = {"first_name": "A", "last_name": "B", "received_on": "2026-11-15", "phone": "5"}
    assert post(api_client(auditor), "/api/v1/referrals", body).status_code == 403
    assert Referral.objects.count() == 1
    assert api_client(auditor).get(f"/api/v1/referrals/{referral.public_id}").status_code == 200


def test_get_referral_shows_screens_assessments_and_episode_and_audits(
    intake, counselor, referral, program
):
    services.screening_record(actor=intake, referral=referral, substances=["alcohol"])
    assess(referral, counselor)
    assess(referral, counselor, assessed_on=dt.date(2026, 11, 15),
           ratings={**RATINGS, "toxic_home": True}, chosen_level="2.1",
           variance_reason="Refuses residential; sober living arranged")  # fmt: skip
    services.referral_waitlist(actor=intake, referral=referral, program=program)
    response = api_client(counselor).get(f"/api/v1/referrals/{referral.public_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "waitlisted"
    assert body["episode"] == str(Episode.objects.get().public_id)
    assert body["patient"]["name"] == "Maya Lindqvist"
    assert [s["route"] for s in body["screenings"]] == ["assess"]
    current, first = body["assessments"]
    assert (current["recommended_level"], current["chosen_level"]) == ("3.5", "2.1")
    assert current["variance"] is True
    assert current["variance_reason"] == "Refuses residential; sober living arranged"
    assert current["supersedes"] == first["id"]
    assert (first["recommended_level"], first["variance"]) == ("2.1", False)
    assert first["d4_note"] == "Reason for dimension 4"
    assert first["recommendation"]["level"] == "2.1"
    read = AuditEvent.objects.get(action="openiop.placement.referral.read")
    assert read.object_id == str(referral.public_id)
    assert read.patient_id == body["patient"]["id"]


def test_get_referral_before_a_patient_record_is_still_audited(intake, referral):
    api_client(intake).get(f"/api/v1/referrals/{referral.public_id}")
    read = AuditEvent.objects.get(action="openiop.placement.referral.read")
    assert (read.object_id, read.patient_id) == (str(referral.public_id), "")


def test_referral_path_needs_a_token_and_is_404_for_outsiders_and_unknown(
    outsider, intake, referral
):
    paths = ["", "/seat-offers"]
    for tail in paths:
        assert Client().get(f"/api/v1/referrals/{referral.public_id}{tail}").status_code == 401
        response = api_client(outsider).get(f"/api/v1/referrals/{referral.public_id}{tail}")
        assert response.status_code == 404
        assert "Lindqvist" not in response.content.decode()
        assert api_client(intake).get(f"/api/v1/referrals/{UNKNOWN}{tail}").status_code == 404


def test_billing_cannot_read_referrals(billing, referral):
    for tail in ("", "/seat-offers"):
        assert api_client(billing).get(f"/api/v1/referrals/{referral.public_id}{tail}"
                                       ).status_code == 403  # fmt: skip
    denied = AuditEvent.objects.filter(action="openiop.core.access.deny")
    assert denied.count() == 2


WRITES = {
    "screenings": {"substances": ["alcohol"]},
    "assessments": assessment_body(),
    "admit": {"program": UNKNOWN, "admitted_on": "2026-11-16", "consent_signed_by": "M"},
    "waitlist": {"program": UNKNOWN},
    "refer-out": {"to": "Elsewhere"},
    "close": {"status": "declined", "note": "No"},
}


def test_every_referral_write_needs_a_token_and_is_404_for_outsiders(outsider, referral):
    before = counts()
    for action, body in WRITES.items():
        path = f"/api/v1/referrals/{referral.public_id}/{action}"
        assert post(Client(), path, body).status_code == 401, action
        response = post(api_client(outsider), path, body)
        assert response.status_code == 404, action
        assert "Lindqvist" not in response.content.decode()
    assert counts() == before
    referral.refresh_from_db()
    assert referral.status == "new"


@pytest.mark.parametrize(
    ("persona", "forbidden"),
    [
        ("billing", set(WRITES)),
        ("auditor", set(WRITES)),
        ("front_desk", set(WRITES)),
        ("prescriber", {"screenings", "admit", "waitlist", "refer-out", "close"}),
    ],
)
def test_roles_without_the_permission_get_403(request, persona, forbidden, referral):
    user = request.getfixturevalue(persona)
    before = counts()
    for action in forbidden:
        path = f"/api/v1/referrals/{referral.public_id}/{action}"
        assert post(api_client(user), path, WRITES[action]).status_code == 403, action
    assert counts() == before


# --- screening ---------------------------------------------------------------------------------


def test_screen_routes_withdrawal_to_detox_at_once(intake, referral):
    body = {"substances": ["Alcohol"], "withdrawal_symptoms": True, "last_use_on": "2026-11-15"}
    response = post(api_client(intake), f"/api/v1/referrals/{referral.public_id}/screenings", body)
    assert response.status_code == 201
    data = response.json()
    assert data["route"] == "withdrawal_management"
    assert data["route_label"] == "Refer to withdrawal management now"
    assert data["reasons"] == [
        "Withdrawal symptoms with recent alcohol use: refer to withdrawal management now."
    ]
    assert data["screened_by"]["name"] == "Intake Tester"
    referral.refresh_from_db()
    assert referral.status == "screening"


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"last_use_on": "2026-12-01"}, "last_use_on", 400),
        ({"pregnant": "maybe"}, "pregnant", 422),
        ({"substances": "alcohol"}, "substances", 422),
        ({"substances": ["a\x00b"]}, "substances.0", 422),
        ({"suicidal": True}, "suicidal", 422),
    ],
)
def test_bad_screen_names_the_field_and_changes_nothing(intake, referral, change, field, status):
    before = counts()
    path = f"/api/v1/referrals/{referral.public_id}/screenings"
    response = post(api_client(intake), path, {"substances": ["alcohol"], **change})
    assert response.status_code == status
    assert field in fields(response)
    assert counts() == before
    referral.refresh_from_db()
    assert referral.status == "new"


# --- assessment --------------------------------------------------------------------------------


def test_record_assessment_returns_it_with_the_recommendation(counselor, referral, program):
    path = f"/api/v1/referrals/{referral.public_id}/assessments"
    body = assessment_body(chosen_program=str(program.public_id), mat_interest=True)
    response = post(api_client(counselor), path, body)
    assert response.status_code == 201
    data = response.json()
    assert (data["recommended_level"], data["recommended_category"]) == ("2.1", "iop")
    assert (data["chosen_level"], data["variance"], data["age"]) == ("2.1", False, 36)
    assert data["chosen_program"]["id"] == str(program.public_id)
    assert data["recommendation"]["mat_evaluation"] is True
    assert data["recommendation"]["programs"][0]["key"] == str(program.public_id)
    assert data["assessed_by"]["name"] == "Counselor Tester"
    assert data["mat_interest"] is True and data["supersedes"] is None
    referral.refresh_from_db()
    assert referral.status == "assessment"
    # the stored recommendation is what /placement/evaluate says for the same facts
    evaluated = post(api_client(counselor), "/api/v1/placement/evaluate",
                     {**ISSUE_EXAMPLE, "age": 36}).json()  # fmt: skip
    assert data["recommendation"] == evaluated


def test_a_variance_with_its_reason_is_stored(counselor, referral):
    path = f"/api/v1/referrals/{referral.public_id}/assessments"
    body = assessment_body(toxic_home=True, variance_reason="Refuses residential")
    data = post(api_client(counselor), path, body).json()
    assert (data["recommended_level"], data["chosen_level"], data["variance"]) == (
        "3.5", "2.1", True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"d3_note": None}, "d3_note", 422),  # None = left out (below)
        ({"d3_note": "   "}, "d3_note", 400),
        ({"d2": 7}, "d2", 422),
        ({"d2": "2"}, "d2", 422),
        ({"d2": True}, "d2", 422),
        ({"toxic_home": None}, "toxic_home", 422),
        ({"toxic_home": "yes"}, "toxic_home", 422),
        ({"criteria_edition": "5"}, "criteria_edition", 422),
        ({"toxic_home": True}, "variance_reason", 400),  # 3.5 recommended, 2.1 chosen
        ({"chosen_level": "9.9"}, "chosen_level", 422),
        ({"chosen_program": UNKNOWN}, "chosen_program", 400),
        ({"responsibilities": ["hobbies"]}, "responsibilities", 400),
        ({"assessed_on": "2026-12-25"}, "assessed_on", 400),
        ({"age": None, "assessed_on": "14/11/2026"}, "assessed_on", 422),
        ({"d7": 1}, "d7", 422),
    ],
)
def test_bad_assessment_names_the_field_and_changes_nothing(
    counselor, referral, change, field, status
):
    body = assessment_body(**change)
    for key, value in change.items():
        if value is None:
            del body[key]
    before = counts()
    response = post(api_client(counselor), f"/api/v1/referrals/{referral.public_id}/assessments",
                    body)  # fmt: skip
    assert response.status_code == status
    assert field in fields(response)
    assert counts() == before
    referral.refresh_from_db()
    assert referral.status == "new"


def test_chosen_program_at_another_level_or_org_is_refused(
    counselor, referral, teens, foreign_program
):
    path = f"/api/v1/referrals/{referral.public_id}/assessments"
    for target in (teens, foreign_program):  # teens: does not serve age 36; foreign: unknown
        response = post(api_client(counselor), path,
                        assessment_body(chosen_program=str(target.public_id)))  # fmt: skip
        assert response.status_code == 400
        assert fields(response) == {"chosen_program"}
    assert not Assessment.objects.exists()


def test_front_desk_cannot_record_an_assessment(front_desk, referral):
    path = f"/api/v1/referrals/{referral.public_id}/assessments"
    assert post(api_client(front_desk), path, assessment_body()).status_code == 403
    assert not Assessment.objects.exists()


# --- seat offers -------------------------------------------------------------------------------


def test_seat_offers_put_groups_that_fit_the_work_week_first(
    intake, org, program, patient, evening_group, day_group
):
    ref = new_referral(org, intake, patient=patient, program_requested=program)
    for day in range(5):
        unavailable_window_add(actor=None, patient=patient, weekday=day, start_time=dt.time(8),
                               end_time=dt.time(17))  # fmt: skip
    response = api_client(intake).get(f"/api/v1/referrals/{ref.public_id}/seat-offers")
    assert response.status_code == 200
    body = response.json()
    assert body["program"]["id"] == str(program.public_id)
    assert body["from_date"] == "2026-11-16"
    fit, clash = body["offers"]
    assert (fit["id"], fit["title"], fit["weekdays"]) == (
        str(evening_group.public_id), "Evening group A", [0, 2, 3],
    )  # fmt: skip
    assert (fit["start_time"], fit["duration_minutes"]) == ("18:00:00", 180)
    assert fit["fits"] is True and fit["clashes"] == []
    assert fit["free_seats"] == program.group_size_cap
    assert fit["next_session"]["starts_at"] == "2026-11-16T18:00:00-05:00"
    assert clash["fits"] is False
    assert [c["weekday"] for c in clash["clashes"]] == [0, 2, 4]
    assert clash["clashes"][0]["label"] == "Work"
    row = AuditEvent.objects.get(action="openiop.placement.seat_offer.list")
    assert row.patient_id == str(patient.public_id)


def test_seat_offers_from_a_later_date_and_for_a_named_program(
    intake, referral, program, evening_group, site
):
    other = Program.objects.create(organization=site.organization, site=site, name="Day IOP")
    client = api_client(intake)
    path = f"/api/v1/referrals/{referral.public_id}/seat-offers"
    late = client.get(f"{path}?from=2026-12-29").json()  # a Tuesday
    assert late["offers"][0]["next_session"]["starts_at"] == "2026-12-30T18:00:00-05:00"
    assert client.get(f"{path}?from=2027-01-04").json()["offers"] == []
    assert client.get(f"{path}?program={other.public_id}").json()["offers"] == []


def test_seat_offers_bad_query_names_the_field(intake, org, referral, foreign_program):
    client = api_client(intake)
    path = f"/api/v1/referrals/{referral.public_id}/seat-offers"
    for query, status in ((f"program={foreign_program.public_id}", 400),
                          (f"program={UNKNOWN}", 400), ("program=1", 422),
                          ("from=16/11/2026", 422), ("from=9999-01-01", 422)):  # fmt: skip
        response = client.get(f"{path}?{query}")
        assert response.status_code == status, query
        assert fields(response) == {query.split("=")[0]}
    bare = new_referral(org, None)  # no program requested, chosen or enrolled
    response = client.get(f"/api/v1/referrals/{bare.public_id}/seat-offers")
    assert response.status_code == 400
    assert fields(response) == {"program"}


# --- admission ---------------------------------------------------------------------------------


def test_admit_creates_patient_episode_consent_and_books_the_group(
    counselor, assessed, program, evening_group
):
    body = {"program": str(program.public_id), "admitted_on": "2026-11-16",
            "consent_signed_by": "Maya Lindqvist", "series": [str(evening_group.public_id)],
            "primary_counselor": str(counselor.public_id), "primary_substance": 2}  # fmt: skip
    response = post(api_client(counselor), f"/api/v1/referrals/{assessed.public_id}/admit", body)
    assert response.status_code == 200
    data = response.json()
    episode = Episode.objects.get()
    assert data["episode"] == str(episode.public_id)
    assert data["booked"] == 21  # 7 Mondays, 7 Wednesdays, 7 Thursdays, Nov 16 - Dec 31
    assert data["status"] == "admitted"
    assert data["patient"]["name"] == "Maya Lindqvist"
    assert (episode.status, episode.primary_counselor, episode.primary_substance) == (
        "admitted", counselor, 2,
    )  # fmt: skip
    assert episode.consent_to_treat.signed_by_patient == "Maya Lindqvist"
    assert AttendanceRecord.objects.filter(episode=episode).count() == 21


def test_admit_from_the_waitlist_admits_that_episode_from_the_day(
    intake, counselor, assessed, program, evening_group
):
    services.referral_waitlist(actor=intake, referral=assessed, program=program)
    body = {"program": str(program.public_id), "admitted_on": "2026-12-21",
            "consent_signed_by": "Maya", "series": [str(evening_group.public_id)] * 2}  # fmt: skip
    data = post(api_client(counselor), f"/api/v1/referrals/{assessed.public_id}/admit", body).json()
    assert data["booked"] == 6  # Dec 21, 23, 24, 28, 30, 31 (the group twice books it once)
    assert data["episode"] == str(Episode.objects.get().public_id)


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"series": [UNKNOWN]}, "series", 400),
        ({"series": ["not-a-uuid"]}, "series.0", 422),
        ({"program": UNKNOWN}, "program", 400),
        ({"primary_counselor": UNKNOWN}, "primary_counselor", 400),
        ({"consent_signed_by": "  "}, "consent_signed_by", 400),
        ({"consent_signed_by": ""}, "consent_signed_by", 422),
        ({"primary_substance": 20}, "primary_substance", 422),
        ({"admitted_on": "2026-11-31"}, "admitted_on", 422),
    ],
)
def test_bad_admission_names_the_field_and_changes_nothing(
    counselor, assessed, program, change, field, status
):
    body = {"program": str(program.public_id), "admitted_on": "2026-11-16",
            "consent_signed_by": "Maya", **change}  # fmt: skip
    before = counts()
    response = post(api_client(counselor), f"/api/v1/referrals/{assessed.public_id}/admit", body)
    assert response.status_code == status
    assert field in fields(response)
    assert counts() == before
    assessed.refresh_from_db()
    assert (assessed.status, assessed.patient_id) == ("assessment", None)


def test_foreign_group_is_an_unknown_group(counselor, outsider, assessed, program, foreign_program):
    theirs = series_create(
        actor=None, program=foreign_program, title="Their group", weekdays=[1],
        start_time=dt.time(18), duration_minutes=60, start_date=dt.date(2026, 11, 2),
        end_date=dt.date(2026, 12, 31),
    )  # fmt: skip
    body = {"program": str(program.public_id), "admitted_on": "2026-11-16",
            "consent_signed_by": "Maya", "series": [str(theirs.public_id)]}  # fmt: skip
    response = post(api_client(counselor), f"/api/v1/referrals/{assessed.public_id}/admit", body)
    assert response.status_code == 400
    assert response.json()["detail"] == [{"field": "series", "message": "Unknown group."}]
    assert not Episode.objects.exists()


def test_a_minor_needs_a_guardian_signature(org, intake, counselor, teens):
    leo = new_referral(org, intake, first_name="Leo", last_name="Park",
                       date_of_birth=dt.date(2010, 3, 3))  # fmt: skip
    assess(leo, counselor, responsibilities=["school"], substances=["cannabis"])
    path = f"/api/v1/referrals/{leo.public_id}/admit"
    body = {"program": str(teens.public_id), "admitted_on": "2026-11-16",
            "consent_signed_by": "Leo Park"}  # fmt: skip
    before = counts()
    response = post(api_client(counselor), path, body)
    assert response.status_code == 400
    assert fields(response) == {"guardian_signed_by"}
    assert counts() == before  # not even the patient record the admission would have made
    ok = post(api_client(counselor), path, {**body, "guardian_signed_by": "Jin Park"})
    assert ok.status_code == 200
    assert ConsentToTreat.objects.get().signed_by_guardian == "Jin Park"


def test_admission_without_an_assessment_is_refused(counselor, referral, program):
    body = {"program": str(program.public_id), "admitted_on": "2026-11-16",
            "consent_signed_by": "Maya"}  # fmt: skip
    response = post(api_client(counselor), f"/api/v1/referrals/{referral.public_id}/admit", body)
    assert response.status_code == 400
    assert fields(response) == {"referral"}
    assert not Episode.objects.exists()


def test_front_desk_cannot_admit_but_intake_can(front_desk, intake, assessed, program):
    body = {"program": str(program.public_id), "admitted_on": "2026-11-16",
            "consent_signed_by": "Maya"}  # fmt: skip
    path = f"/api/v1/referrals/{assessed.public_id}/admit"
    assert post(api_client(front_desk), path, body).status_code == 403
    assert not Episode.objects.exists()
    assert post(api_client(intake), path, body).status_code == 200


# --- waitlist, refer out, close ----------------------------------------------------------------


def test_waitlist_a_referral(intake, assessed, program):
    path = f"/api/v1/referrals/{assessed.public_id}/waitlist"
    response = post(api_client(intake), path, {"program": str(program.public_id)})
    assert response.status_code == 200
    body = response.json()
    episode = Episode.objects.get()
    assert (body["status"], body["episode"]) == ("waitlisted", str(episode.public_id))
    assert episode.status == "waitlisted" and episode.program == program
    again = post(api_client(intake), path, {"program": str(program.public_id)})
    assert again.status_code == 400
    assert Episode.objects.count() == 1


def test_waitlist_needs_a_known_program_and_an_assessment(
    intake, referral, assessed, foreign_program
):
    path = f"/api/v1/referrals/{assessed.public_id}/waitlist"
    for value, status in ((str(foreign_program.public_id), 400), (UNKNOWN, 400), ("x", 422)):
        response = post(api_client(intake), path, {"program": value})
        assert response.status_code == status
        assert fields(response) == {"program"}
    assert not Episode.objects.exists()


def test_refer_out_and_close(intake, org, referral):
    client = api_client(intake)
    response = post(client, f"/api/v1/referrals/{referral.public_id}/refer-out",
                    {"to": "Riverside Detox Unit", "note": "Withdrawal on the phone"})  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["referred_out_to"]) == ("referred_out", "Riverside Detox Unit")
    assert body["closed_on"] == "2026-11-16"
    other = new_referral(org, intake, first_name="Lou")
    response = post(client, f"/api/v1/referrals/{other.public_id}/close",
                    {"status": "lost_to_contact", "note": "Three calls, no answer"})  # fmt: skip
    assert response.status_code == 200
    assert response.json()["status"] == "lost_to_contact"
    # a closed referral takes no more screens
    again = post(client, f"/api/v1/referrals/{other.public_id}/screenings", {"substances": []})
    assert again.status_code == 400
    assert fields(again) == {"status"}


@pytest.mark.parametrize(
    ("action", "body", "field", "status"),
    [
        ("refer-out", {"to": "   "}, "to", 400),
        ("refer-out", {"note": "x"}, "to", 422),
        ("close", {"status": "admitted", "note": "x"}, "status", 422),
        ("close", {"status": "declined", "note": "  "}, "note", 400),
        ("close", {"status": "declined"}, "note", 422),
    ],
)
def test_bad_close_names_the_field_and_changes_nothing(intake, referral, action, body, field,
                                                       status):  # fmt: skip
    response = post(api_client(intake), f"/api/v1/referrals/{referral.public_id}/{action}", body)
    assert response.status_code == status
    assert field in fields(response)
    referral.refresh_from_db()
    assert (referral.status, referral.closed_on) == ("new", None)


# --- the program's waitlist --------------------------------------------------------------------


@pytest.fixture
def waiting(org, intake, counselor, program):
    people = [("Ann", "routine", 1, False), ("Bea", "urgent", 5, True), ("Cal", "urgent", 8, False)]
    for first, urgency, day, works_evenings in people:
        ref = new_referral(
            org, intake, first_name=first, last_name="Waiting", urgency=urgency,
            date_of_birth=dt.date(1980, 1, 1), received_on=dt.date(2026, 11, day),
        )  # fmt: skip
        assess(ref, counselor)
        episode = services.referral_waitlist(actor=intake, referral=ref, program=program)
        if works_evenings:
            unavailable_window_add(actor=None, patient=episode.patient, weekday=0,
                                   start_time=dt.time(17), end_time=dt.time(23))  # fmt: skip


def test_waitlist_in_offer_order_with_the_first_who_fits_each_open_group(
    front_desk, program, waiting, evening_group, day_group
):
    response = api_client(front_desk).get(f"/api/v1/waitlist?program={program.public_id}")
    assert response.status_code == 200
    body = response.json()
    assert [(w["position"], w["patient"]["name"], w["urgency"]) for w in body["waiting"]] == [
        (1, "Bea Waiting", "urgent"), (2, "Cal Waiting", "urgent"), (3, "Ann Waiting", "routine"),
    ]  # fmt: skip
    assert body["waiting"][0]["waiting_since"] == "2026-11-05"
    groups = {g["title"]: g for g in body["open_groups"]}
    assert groups["Evening group A"]["first_fit"]["patient"]["name"] == "Cal Waiting"
    assert groups["Day group"]["first_fit"]["patient"]["name"] == "Bea Waiting"
    assert groups["Evening group A"]["free_seats"] == program.group_size_cap
    # the same answer as the selector
    expected = selectors.waitlist_first_fit(series=evening_group)
    assert groups["Evening group A"]["first_fit"]["episode"] == str(expected.public_id)
    row = AuditEvent.objects.get(action="openiop.placement.waitlist.read")
    assert len(row.detail["patients"]) == 3


def test_waitlist_needs_a_token_referral_view_and_our_program(
    billing, outsider, intake, program, waiting
):
    path = f"/api/v1/waitlist?program={program.public_id}"
    assert Client().get(path).status_code == 401
    assert api_client(billing).get(path).status_code == 403
    response = api_client(outsider).get(path)
    assert response.status_code == 400
    assert fields(response) == {"program"}
    assert "Waiting" not in response.content.decode()
    assert fields(api_client(intake).get("/api/v1/waitlist")) == {"program"}


# --- robustness --------------------------------------------------------------------------------

ODD = [None, 0, -1, 2**70, 1.5, "", "x" * 5000, "a\x00b", "9999-12-31", [], {}, True, ["\x00"],
       "00000000-0000-0000-0000-000000000000"]  # fmt: skip


def test_odd_values_never_cause_a_server_error(supervisor, assessed, program, evening_group):
    client = api_client(supervisor)
    r = f"/api/v1/referrals/{assessed.public_id}"
    valid = {
        "/api/v1/placement/evaluate": ISSUE_EXAMPLE,
        "/api/v1/referrals": {"first_name": "A", "last_name": "B", "received_on": "2026-11-15",
                              "phone": "5", "program_requested": str(program.public_id)},
        f"{r}/screenings": {"substances": ["alcohol"], "last_use_on": "2026-11-10",
                            "pregnant": "no"},
        f"{r}/assessments": assessment_body(chosen_program=str(program.public_id), age=30),
        f"{r}/admit": {"program": str(program.public_id), "admitted_on": "2026-11-16",
                       "consent_signed_by": "M", "series": [str(evening_group.public_id)]},
        f"{r}/refer-out": {"to": "X", "note": "n"},
        f"{r}/close": {"status": "declined", "note": "n"},
    }  # fmt: skip
    for path, body in valid.items():
        for key in body:
            for value in ODD:
                response = client.post(path, {**body, key: value}, content_type="application/json")
                assert response.status_code < 500, (path, key, value)
                assert response["Content-Type"].startswith("application/json")


def test_waitlist_shows_an_episode_waitlisted_without_a_referral(intake, program, patient):
    from openiop.enrollment.services import episode_create

    episode = episode_create(actor=None, patient=patient, program=program,
                             referral_date=dt.date(2026, 11, 10))  # fmt: skip
    body = api_client(intake).get(f"/api/v1/waitlist?program={program.public_id}").json()
    [row] = body["waiting"]
    assert (row["episode"], row["referral"], row["urgency"]) == (str(episode.public_id), None, None)
    assert row["waiting_since"] == "2026-11-10"
    assert body["open_groups"] == []


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/referrals?limit=999999999999999999999",
        "/api/v1/referrals?offset=-1",
        "/api/v1/referrals?q=" + "x" * 300,
        "/api/v1/waitlist?program=%00",
        "/api/v1/referrals/{r}/seat-offers?from=0001-01-01",
        "/api/v1/referrals/{r}/seat-offers?from=2200-12-31",
        "/api/v1/referrals/%20/seat-offers",
    ],
)
def test_odd_query_parameters_never_cause_a_server_error(intake, referral, query):
    response = api_client(intake).get(query.format(r=referral.public_id))
    assert response.status_code < 500, query
    assert response["Content-Type"].startswith("application/json")


def test_screen_with_a_typed_sedative_and_no_last_use_date_routes_to_withdrawal_management(
    intake, referral
):
    body = {"substances": ["Xanax"], "withdrawal_symptoms": True}
    response = post(api_client(intake), f"/api/v1/referrals/{referral.public_id}/screenings", body)
    assert response.status_code == 201
    data = response.json()
    assert data["route"] == "withdrawal_management" and data["last_use_on"] is None
    assert data["reasons"] == [
        "Withdrawal symptoms with xanax use and no last-use date: treat as recent and refer to "
        "withdrawal management now."
    ]


# --- admission follows the chosen level; the 4th edition is stored ------------------------------


@pytest.fixture
def php(org, site):
    return Program.objects.create(
        organization=org, site=site, name="Day PHP", level_of_care="2.5",
        weekly_min_hours=Decimal("20.0"), weekly_max_hours=Decimal("30.0"),
    )  # fmt: skip


def test_admit_or_waitlist_to_a_program_at_another_level_is_refused(
    counselor, intake, assessed, program, php
):
    before = counts()
    admit = post(
        api_client(counselor), f"/api/v1/referrals/{assessed.public_id}/admit",
        {"program": str(php.public_id), "admitted_on": "2026-11-16", "consent_signed_by": "Maya"},
    )  # fmt: skip
    assert admit.status_code == 400
    [error] = admit.json()["detail"]
    assert error["field"] == "program"
    assert (
        "Day PHP is level 2.5, but the latest assessment (2026-11-14) chose level 2.1"
        in (error["message"])
    )
    assert "variance reason" in error["message"]
    waitlist = post(api_client(intake), f"/api/v1/referrals/{assessed.public_id}/waitlist",
                    {"program": str(php.public_id)})  # fmt: skip
    assert waitlist.status_code == 400 and fields(waitlist) == {"program"}
    assert counts() == before
    assessed.refresh_from_db()
    assert (assessed.status, assessed.patient_id) == ("assessment", None)


def test_a_fourth_edition_assessment_is_stored_as_such_with_the_mapped_recommendation(
    counselor, referral
):
    path = f"/api/v1/referrals/{referral.public_id}/assessments"
    # Entered as 4th edition: D4 (substance use-related risks) 3 reads as 3rd-edition d5 3,
    # D6 (person-centered, motivation) 1 as d4 1, D5 (recovery environment) 1 as d6 1: PHP.
    body = assessment_body(criteria_edition="4", d4=3, d5=1, d6=1, chosen_level="2.5")
    response = post(api_client(counselor), path, body)
    assert response.status_code == 201
    data = response.json()
    assert (data["criteria_edition"], data["recommended_level"]) == ("4", "2.5")
    assert data["recommendation"]["ratings_3rd_edition"] == {
        "d1": 0, "d2": 0, "d3": 1, "d4": 1, "d5": 3, "d6": 1,
    }  # fmt: skip
    stored = Assessment.objects.get()
    assert (stored.criteria_edition, stored.recommended_level, stored.chosen_level) == (
        "4", "2.5", "2.5",
    )  # fmt: skip
    assert stored.d4 == 3  # kept as entered
    assert "4th ed., substance use-related risks" in stored.recommendation["reasons"][0]["text"]
    got = api_client(counselor).get(f"/api/v1/referrals/{referral.public_id}").json()
    assert got["assessments"][0]["criteria_edition"] == "4"
    # The same numbers entered as 3rd edition are read differently (d4 = readiness to change).
    third = post(api_client(counselor), "/api/v1/placement/evaluate",
                 {**ISSUE_EXAMPLE, "age": 36, "d4": 3, "d5": 1, "d6": 1}).json()  # fmt: skip
    assert "readiness to change" in third["reasons"][0]["text"]
