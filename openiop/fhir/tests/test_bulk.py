"""Bulk Data $export: kick-off, background run, status manifest, files, cancel, and Part 2."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from openiop.consent.models import Disclosure
from openiop.consent.tests.factories import make_consent
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_create
from openiop.fhir import bulk
from openiop.fhir.models import BulkExport
from openiop.fhir.services import fhir_client_create, fhir_client_revoke
from openiop.fhir.validate import validate
from openiop.patients.services import patient_create
from openiop.questionnaires import services as q_services
from openiop.questionnaires.instruments import registry

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)
BASE = "/fhir/r4"
ASYNC = {"HTTP_PREFER": "respond-async", "HTTP_ACCEPT": "application/fhir+json"}
PHQ9 = [item.link_id for item in registry.get("phq9").items]


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def started(settings, tmp_path, monkeypatch):
    """Files go to a temporary folder; no process is spawned: the tests run the job."""
    settings.OPENIOP_FHIR_EXPORT_DIR = tmp_path / "exports"
    jobs: list[BulkExport] = []
    monkeypatch.setattr(bulk, "start_background", jobs.append)
    return jobs


def client_for(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def warehouse(org):
    """The clinic's own reporting warehouse: an inside system client."""
    _, token = fhir_client_create(
        actor=None, organization=org, name="Warehouse", kind="system", scopes="system/*.rs",
        is_external=False,
    )  # fmt: skip
    return token


def hospital(org):
    return fhir_client_create(
        actor=None, organization=org, name="County Hospital", kind="system",
        scopes="system/*.rs", recipient_organization="County Hospital", purpose="treatment",
    )  # fmt: skip


@pytest.fixture
def scores(episode, counselor):
    answers = {link_id: "1" for link_id in PHQ9}
    return q_services.response_record(
        actor=counselor, patient=episode.patient, episode=episode, instrument="phq9",
        answers=answers, administered_at=NOW - dt.timedelta(days=1),
    )  # fmt: skip


@pytest.fixture
def cohort(org, program, episode):
    """Three more patients admitted to the program, one of them with scores."""
    out = []
    for n in range(3):
        p = patient_create(
            actor=None, organization=org, first_name=f"P{n}", last_name="Zeta",
            date_of_birth=dt.date(1990, 1, n + 1), sex="male",
        )  # fmt: skip
        episode_create(actor=None, patient=p, program=program, admitted_on=dt.date(2026, 11, 3))
        out.append(p)
    return out


def kick_off(api: Client, url: str, **params) -> str:
    response = api.get(url, params, **ASYNC)
    assert response.status_code == 202, response.content
    status = response["Content-Location"]
    assert status.startswith(f"http://testserver{BASE}/$export-status/")
    return status.replace("http://testserver", "")


def run(status_url: str) -> BulkExport:
    return bulk.export_run(status_url.rsplit("/", 1)[-1])


def download(api: Client, manifest: dict) -> dict[str, list[dict]]:
    files = {}
    for item in manifest["output"]:
        response = api.get(item["url"].replace("http://testserver", ""))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/fhir+ndjson"
        text = b"".join(response.streaming_content).decode()
        lines = [json.loads(line) for line in text.splitlines()]
        assert len(lines) == item["count"]
        assert {r["resourceType"] for r in lines} == {item["type"]}
        files[item["type"]] = lines
    return files


# --- the whole round trip ------------------------------------------------------------------------


def test_group_export_round_trip_validates_every_line(org, program, patient, scores, cohort,
                                                      started):  # fmt: skip
    api = client_for(warehouse(org))
    status = kick_off(api, f"{BASE}/Group/{program.public_id}/$export")
    assert len(started) == 1  # the background runner was asked to start
    waiting = api.get(status)
    assert waiting.status_code == 202
    assert waiting["X-Progress"].startswith("0%") and waiting["Retry-After"] == "2"

    job = run(status)
    assert job.status == "done" and job.progress == 100

    response = api.get(status)
    assert response.status_code == 200
    manifest = json.loads(response.content)
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    assert manifest["transactionTime"] == "2026-11-16T15:00:00Z"
    assert manifest["request"].endswith(f"/Group/{program.public_id}/$export")
    files = download(api, manifest)
    for lines in files.values():
        for resource in lines:
            validate(resource)
    ids = sorted(r["id"] for r in files["Patient"])
    assert ids == sorted(str(p.public_id) for p in [patient, *cohort])
    assert len(files["EpisodeOfCare"]) == 4
    assert len(files["Observation"]) == 1 and len(files["QuestionnaireResponse"]) == 1
    assert "Coverage" not in files  # no rows: no file
    exported = AuditEvent.objects.filter(action="openiop.fhir.patient.export").latest("id")
    assert len(exported.detail["patients"]) == 4


def test_patient_export_covers_everyone_not_only_a_cohort(org, patient, episode, cohort):
    outsider = patient_create(
        actor=None, organization=org, first_name="No", last_name="Episode",
        date_of_birth=dt.date(1970, 1, 1),
    )  # fmt: skip
    api = client_for(warehouse(org))
    status = kick_off(api, f"{BASE}/Patient/$export", _type="Patient")
    run(status)
    files = download(api, json.loads(api.get(status).content))
    assert str(outsider.public_id) in {r["id"] for r in files["Patient"]}
    assert len(files["Patient"]) == 5


def test_the_management_command_runs_a_queued_job(org, patient, episode):
    api = client_for(warehouse(org))
    status = kick_off(api, f"{BASE}/Patient/$export")
    call_command("fhir", "export-run", status.rsplit("/", 1)[-1])
    assert api.get(status).status_code == 200
    job = BulkExport.objects.get()
    assert bulk.export_run(str(job.public_id)).status == "done"  # a second run leaves it alone


# --- the kick-off's rules ------------------------------------------------------------------------


def test_kickoff_without_prefer_respond_async_is_refused(org, program):
    api = client_for(warehouse(org))
    response = api.get(f"{BASE}/Group/{program.public_id}/$export")
    assert response.status_code == 400
    assert json.loads(response.content)["resourceType"] == "OperationOutcome"
    assert not BulkExport.objects.exists()


def test_bad_parameters_are_a_400(org, program):
    api = client_for(warehouse(org))
    url = f"{BASE}/Group/{program.public_id}/$export"
    assert api.get(url, {"_type": "Spaceship"}, **ASYNC).status_code == 400
    assert api.get(url, {"_type": "Practitioner"}, **ASYNC).status_code == 400
    assert api.get(url, {"_outputFormat": "text/csv"}, **ASYNC).status_code == 400
    assert api.get(url, {"_since": "last week"}, **ASYNC).status_code == 400
    assert api.get(url, {"_since": "2026-11-01T00:00:00"}, **ASYNC).status_code == 400
    assert api.get(url, {"_elements": "id"}, **ASYNC).status_code == 400
    assert api.get(f"{BASE}/Group/{org.public_id}/$export", **ASYNC).status_code == 404
    assert not BulkExport.objects.exists()
    ok = api.get(url, {"_outputFormat": "application/fhir+ndjson"}, **ASYNC)
    assert ok.status_code == 202


def test_type_and_since_select_what_is_exported(org, patient, episode, scores):
    api = client_for(warehouse(org))
    status = kick_off(api, f"{BASE}/Patient/$export", _type="Observation,Patient")
    run(status)
    manifest = json.loads(api.get(status).content)
    assert [o["type"] for o in manifest["output"]] == ["Patient", "Observation"]

    later = kick_off(api, f"{BASE}/Patient/$export", _since="2026-11-16T16:00:00Z")
    run(later)
    assert json.loads(api.get(later).content)["output"] == []
    earlier = kick_off(api, f"{BASE}/Patient/$export", _since="2026-11-01T00:00:00Z")
    run(earlier)
    assert json.loads(api.get(earlier).content)["output"]


def test_a_type_the_role_cannot_read_is_refused_not_dropped(org, front_desk, patient):
    _, token = fhir_client_create(
        actor=None, organization=org, name="Desk app", kind="user", user=front_desk,
        scopes="user/*.rs",
    )  # fmt: skip
    response = client_for(token).get(f"{BASE}/Patient/$export", **ASYNC)
    assert response.status_code == 403
    assert "_type" in json.loads(response.content)["issue"][0]["diagnostics"]
    assert not BulkExport.objects.exists()


def test_scopes_limit_the_types(org, patient):
    _, token = fhir_client_create(
        actor=None, organization=org, name="Demographics only", kind="system",
        scopes="system/Patient.rs", is_external=False,
    )  # fmt: skip
    api = client_for(token)
    assert api.get(f"{BASE}/Patient/$export", **ASYNC).status_code == 403
    assert api.get(f"{BASE}/Patient/$export", {"_type": "Patient"}, **ASYNC).status_code == 202


# --- status, cancel, ownership -------------------------------------------------------------------


def test_delete_cancels_the_job_and_removes_its_files(org, patient, episode):
    api = client_for(warehouse(org))
    queued = kick_off(api, f"{BASE}/Patient/$export")
    assert api.delete(queued).status_code == 202
    assert api.get(queued).status_code == 404
    assert run(queued).status == "cancelled"  # the runner does not take a cancelled job

    done = kick_off(api, f"{BASE}/Patient/$export")
    job = run(done)
    folder = bulk.job_dir(job)
    assert any(folder.iterdir())
    url = json.loads(api.get(done).content)["output"][0]["url"].replace("http://testserver", "")
    assert api.delete(done).status_code == 202
    assert not folder.exists()
    assert api.get(url).status_code == 404
    assert api.delete(done).status_code == 404


def test_a_job_cancelled_while_running_stops_at_the_next_batch(org, patient, episode, monkeypatch):
    api = client_for(warehouse(org))
    status = kick_off(api, f"{BASE}/Patient/$export")
    job_id = status.rsplit("/", 1)[-1]
    real = bulk._progress

    def cancel_then_report(job, percent):
        BulkExport.objects.filter(pk=job.pk).update(status="cancelled")
        real(job, percent)

    monkeypatch.setattr(bulk, "_progress", cancel_then_report)
    job = bulk.export_run(job_id)
    assert job.status == "cancelled" and job.output == []
    assert not bulk.job_dir(job).exists()


def test_another_clients_job_is_404(org, patient, episode):
    mine = client_for(warehouse(org))
    status = kick_off(mine, f"{BASE}/Patient/$export")
    run(status)
    url = json.loads(mine.get(status).content)["output"][0]["url"].replace("http://testserver", "")
    theirs = client_for(warehouse(org))
    assert theirs.get(status).status_code == 404
    assert theirs.get(url).status_code == 404
    assert theirs.delete(status).status_code == 404
    assert mine.get(url).status_code == 200
    assert Client().get(status).status_code == 401


def test_a_failed_job_answers_500_with_the_reason(org, patient):
    client, token = fhir_client_create(
        actor=None, organization=org, name="Soon revoked", kind="system", scopes="system/*.rs",
        is_external=False,
    )  # fmt: skip
    api = client_for(token)
    status = kick_off(api, f"{BASE}/Patient/$export")
    fhir_client_revoke(actor=None, client=client)
    assert run(status).status == "failed"
    job = BulkExport.objects.get()
    assert "revoked" in job.error
    assert not bulk.job_dir(job).exists()


# --- who sees what -------------------------------------------------------------------------------


def test_an_outside_clients_export_holds_only_consented_patients_and_kinds(
    org, intake, program, patient, scores, cohort
):
    make_consent(patient, intake)  # demographics, attendance, diagnoses, treatment plan
    _, token = hospital(org)
    api = client_for(token)
    status = kick_off(api, f"{BASE}/Group/{program.public_id}/$export")
    run(status)
    files = download(api, json.loads(api.get(status).content))
    assert [r["id"] for r in files["Patient"]] == [str(patient.public_id)]
    assert len(files["EpisodeOfCare"]) == 1
    assert "Observation" not in files and "QuestionnaireResponse" not in files  # not consented
    made = Disclosure.objects.filter(channel="fhir", status="made")
    assert {d.patient_id for d in made} == {patient.pk}
    assert made.filter(consent__isnull=False).count() == made.count()
    assert not Disclosure.objects.filter(patient__in=cohort).exists()


def test_an_outside_client_without_any_consent_gets_an_empty_export(org, program, episode):
    _, token = hospital(org)
    api = client_for(token)
    status = kick_off(api, f"{BASE}/Group/{program.public_id}/$export")
    run(status)
    assert json.loads(api.get(status).content)["output"] == []
    assert not Disclosure.objects.exists()


def test_a_patient_token_exports_only_itself_and_no_cohort(org, program, patient, scores, cohort):
    _, token = fhir_client_create(
        actor=None, organization=org, name="My app", kind="patient", patient=patient,
        scopes="patient/*.rs",
    )  # fmt: skip
    api = client_for(token)
    assert api.get(f"{BASE}/Group/{program.public_id}/$export", **ASYNC).status_code == 403
    status = kick_off(api, f"{BASE}/Patient/$export")
    run(status)
    files = download(api, json.loads(api.get(status).content))
    assert [r["id"] for r in files["Patient"]] == [str(patient.public_id)]
    assert len(files["EpisodeOfCare"]) == 1 and len(files["Observation"]) == 1
