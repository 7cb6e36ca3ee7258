"""Questionnaires API (mounted at /api/v1/ by openiop/api.py): responses and alerts. Each
endpoint: works, needs a credential, outsider 404, role without the permission 403."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.test import Client

from conftest import api_client
from openiop.core.models import AuditEvent
from openiop.questionnaires import services
from openiop.questionnaires.instruments import registry
from openiop.questionnaires.models import ClinicalAlert, QuestionnaireResponse

PHQ9_SI = [2, 2, 1, 2, 1, 2, 1, 1, 1]
X = uuid.UUID("5f0c2b1e-7d4a-4c61-9a53-2e8b1d0f6a77")


def responses_url(patient) -> str:
    return f"/api/v1/patients/{patient.public_id}/questionnaire-responses"


def post(client: Client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def give(actor, episode, instrument="phq9", answers=PHQ9_SI):
    return services.response_record(
        actor=actor,
        patient=episode.patient,
        episode=episode,
        instrument=instrument,
        answers=answers,
    )


# -- record --------------------------------------------------------------------------------------


def test_record_in_item_order_scores_and_raises_the_alert(counselor, episode):
    res = post(api_client(counselor), responses_url(episode.patient),
               {"instrument": "phq9", "answers": PHQ9_SI})  # fmt: skip
    assert res.status_code == 201
    body = res.json()
    assert (body["total"], body["severity"], body["flags"]) == (13, "moderate",
                                                                ["suicidal_ideation"])  # fmt: skip
    assert body["answers"]["44260-8"] == 1 and body["source"] == "staff"
    assert body["episode"] == str(episode.public_id)
    assert [a["kind"] for a in body["alerts"]] == ["suicidal_ideation"]
    assert body["alerts"][0]["assigned_to"]["id"] == str(counselor.public_id)
    assert ClinicalAlert.objects.get().response.public_id == uuid.UUID(body["id"])


def test_record_by_link_id_with_sex(counselor, patient):
    items = registry.get("auditc").items
    answers = {items[0].link_id: 1, items[1].link_id: 1, items[2].link_id: 1}
    res = post(api_client(counselor), responses_url(patient),
               {"instrument": "auditc", "answers": answers, "sex": "male"})  # fmt: skip
    assert res.status_code == 201
    assert (res.json()["total"], res.json()["positive"]) == (3, False)  # male cut-off is 4


def test_a_missing_item_is_a_400_naming_its_link_id(counselor, patient):
    res = post(api_client(counselor), responses_url(patient),
               {"instrument": "phq9", "answers": [1] * 8})  # fmt: skip
    assert res.status_code == 400
    assert res.json()["detail"][0]["field"] == "44260-8"
    assert not QuestionnaireResponse.objects.exists()


def test_out_of_range_answer_and_unknown_instrument_are_refused(counselor, patient):
    client = api_client(counselor)
    res = post(client, responses_url(patient), {"instrument": "phq9", "answers": [1] * 8 + [4]})
    assert res.status_code == 400 and "4 is not one of 0, 1, 2, 3" in res.text
    res = post(client, responses_url(patient), {"instrument": "nope", "answers": [1]})
    assert res.status_code == 422
    res = post(client, responses_url(patient), {"instrument": "phq9", "answers": "1,2"})
    assert res.status_code == 422
    assert not QuestionnaireResponse.objects.exists()


def test_another_patients_episode_is_a_400(counselor, episode, org):
    from openiop.patients.services import patient_create

    other = patient_create(
        actor=None,
        organization=org,
        first_name="Ann",
        last_name="Lee",
        date_of_birth=dt.date(1990, 1, 1),
    )
    body = {"instrument": "gad7", "answers": [0] * 7, "episode": str(episode.public_id)}
    res = post(api_client(counselor), responses_url(other), body)
    assert res.status_code == 400 and res.json()["detail"][0]["field"] == "episode"


# -- read ----------------------------------------------------------------------------------------


def test_list_filters_by_instrument_and_is_audited(counselor, episode):
    give(counselor, episode)
    give(counselor, episode, instrument="gad7", answers=[1] * 7)
    client = api_client(counselor)
    body = client.get(responses_url(episode.patient)).json()
    assert body["count"] == 2
    only = client.get(responses_url(episode.patient) + "?instrument=gad7").json()
    assert [r["instrument"] for r in only["items"]] == ["gad7"]
    assert client.get(responses_url(episode.patient) + "?instrument=zzz").status_code == 422
    assert AuditEvent.objects.filter(action="openiop.questionnaires.response.list").count() == 2


def test_list_query_count_is_fixed(counselor, episode, django_assert_max_num_queries):
    for _ in range(6):
        give(counselor, episode)
    client = api_client(counselor)
    with django_assert_max_num_queries(16):  # incl. the caseload and break-glass checks
        body = client.get(responses_url(episode.patient)).json()
    assert body["count"] == 6 and all(len(r["alerts"]) == 1 for r in body["items"])


def test_read_one_response(counselor, episode):
    response = give(counselor, episode)
    res = api_client(counselor).get(f"/api/v1/questionnaire-responses/{response.public_id}")
    assert res.status_code == 200
    assert res.json()["patient"]["id"] == str(episode.patient.public_id)
    assert res.json()["alerts"][0]["open"] is True


# -- alerts --------------------------------------------------------------------------------------


def test_open_alerts_and_follow_up(counselor, episode):
    give(counselor, episode)
    give(counselor, episode, instrument="cssrs", answers=[1, 1, 1, 1, 0, 0])
    client = api_client(counselor)
    body = client.get("/api/v1/alerts").json()
    assert body["count"] == 2
    assert {a["kind"] for a in body["items"]} == {"suicidal_ideation", "high_risk"}
    alert_id = body["items"][0]["id"]
    empty = post(client, f"/api/v1/alerts/{alert_id}/follow-up", {"note": ""})
    assert empty.status_code == 422
    done = post(client, f"/api/v1/alerts/{alert_id}/follow-up",
                {"note": "Called; safety plan reviewed."})  # fmt: skip
    assert done.status_code == 200
    assert done.json()["open"] is False
    assert done.json()["followed_up_by"]["id"] == str(counselor.public_id)
    again = post(client, f"/api/v1/alerts/{alert_id}/follow-up", {"note": "again"})
    assert again.status_code == 400 and "already followed up" in again.text
    assert client.get("/api/v1/alerts").json()["count"] == 1


# -- access --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/api/v1/patients/{X}/questionnaire-responses"),
        ("post", f"/api/v1/patients/{X}/questionnaire-responses"),
        ("get", f"/api/v1/questionnaire-responses/{X}"),
        ("get", "/api/v1/alerts"),
        ("post", f"/api/v1/alerts/{X}/follow-up"),
    ],
)
@pytest.mark.django_db
def test_every_endpoint_needs_a_credential(method, path):
    res = Client().get(path) if method == "get" else post(Client(), path, {})
    assert res.status_code == 401


def test_outsider_gets_404(outsider, counselor, episode):
    response = give(counselor, episode)
    alert = ClinicalAlert.objects.get()
    client = api_client(outsider)
    assert client.get(responses_url(episode.patient)).status_code == 404
    assert post(client, responses_url(episode.patient),
                {"instrument": "gad7", "answers": [0] * 7}).status_code == 404  # fmt: skip
    assert client.get(f"/api/v1/questionnaire-responses/{response.public_id}").status_code == 404
    assert client.get("/api/v1/alerts").json()["count"] == 0
    res = post(client, f"/api/v1/alerts/{alert.public_id}/follow-up", {"note": "x"})
    assert res.status_code == 404
    alert.refresh_from_db()
    assert alert.is_open


def test_roles_without_permission_get_403(front_desk, intake, counselor, episode):
    response = give(counselor, episode)
    alert = ClinicalAlert.objects.get()
    desk = api_client(front_desk)
    assert desk.get(responses_url(episode.patient)).status_code == 403
    assert post(desk, responses_url(episode.patient),
                {"instrument": "gad7", "answers": [0] * 7}).status_code == 403  # fmt: skip
    assert desk.get(f"/api/v1/questionnaire-responses/{response.public_id}").status_code == 403
    assert desk.get("/api/v1/alerts").status_code == 403
    # intake may read scores and alerts but not close an alert
    res = post(api_client(intake), f"/api/v1/alerts/{alert.public_id}/follow-up", {"note": "x"})
    assert res.status_code == 403
