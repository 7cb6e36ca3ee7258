"""A real FHIR client library (fhirpy, with requests) against a live OpenIOP server: page
through the clinic's patients and their scores, send a questionnaire, export a cohort in bulk,
and be refused what consent does not allow (issue 11, "Done when")."""

from __future__ import annotations

import json
import time

import pytest
import requests
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import ResourceNotFound

from openiop.fhir.validate import validate
from tests.browser.harness import served

PASSWORD = "director-pw-2026-long"


@pytest.fixture
def server(tmp_path):
    with served(tmp_path, "../seed_fhir.py", "morgan", PASSWORD) as s:
        yield s


def client(server, token: str) -> SyncFHIRClient:
    return SyncFHIRClient(f"{server['url']}/fhir/r4", authorization=f"Bearer {token}")


def test_a_fhir_client_pages_patients_reads_scores_and_sends_a_questionnaire(server):
    fhir = client(server, server["staff_token"])
    patients = fhir.resources("Patient").limit(3).fetch_all()  # follows the next links
    assert sorted(p.id for p in patients) == sorted(server["patients"])
    for p in patients:
        validate(p.serialize())
        assert any(s["code"] == "42CFRPart2" for s in p["meta"]["security"])

    scores = (
        fhir.resources("Observation")
        .search(patient=server["dana"], category="survey", code="http://loinc.org|44261-6")
        .fetch_all()
    )
    assert [s["valueQuantity"]["value"] for s in scores] == [8]

    qr = fhir.resource(
        "QuestionnaireResponse",
        status="completed",
        questionnaire="http://loinc.org/q/44249-1",
        subject={"reference": f"Patient/{server['dana']}"},
        authored="2026-11-20T10:00:00-05:00",
        item=[
            {"linkId": f"/{code}", "answer": [{"valueCoding": {"system": "http://loinc.org",
                                                                "code": "LA6571-9"}}]}
            for code in ("44250-9", "44255-8")
        ]
        + [{"linkId": code, "answer": [{"valueInteger": 0}]}
           for code in ("44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3",
                        "44260-8")],
    )  # fmt: skip
    qr.save()
    assert qr.id
    after = fhir.resources("Observation").search(patient=server["dana"], code="44261-6")
    totals = sorted(o["valueQuantity"]["value"] for o in after.fetch_all())
    assert totals == [6, 8]  # "nearly every day" (LA6571-9, 3) on two items, the rest 0


def test_a_cohort_exports_in_bulk(server):
    headers = {
        "Authorization": f"Bearer {server['staff_token']}",
        "Accept": "application/fhir+json",
        "Prefer": "respond-async",
    }
    base = f"{server['url']}/fhir/r4"
    kick = requests.get(
        f"{base}/Group/{server['program']}/$export", params={"_type": "Patient,Observation"},
        headers=headers, timeout=30,
    )  # fmt: skip
    assert kick.status_code == 202, kick.text
    status_url = kick.headers["Content-Location"]
    deadline = time.monotonic() + 60
    while True:
        status = requests.get(status_url, headers=headers, timeout=30)
        if status.status_code == 200 or time.monotonic() > deadline:
            break
        assert status.status_code == 202, status.text
        time.sleep(0.5)
    assert status.status_code == 200, status.text
    manifest = status.json()
    counts = {o["type"]: o["count"] for o in manifest["output"]}
    assert counts == {"Patient": 7, "Observation": 7}
    for output in manifest["output"]:
        body = requests.get(output["url"], headers=headers, timeout=30)
        assert body.headers["Content-Type"].startswith("application/fhir+ndjson")
        lines = [json.loads(line) for line in body.text.splitlines() if line]
        assert len(lines) == output["count"]
        for resource in lines:
            validate(resource)


def test_an_outside_client_is_refused_what_consent_does_not_allow(server):
    hospital = client(server, server["hospital_token"])
    visible = hospital.resources("Patient").fetch_all()
    assert [p.id for p in visible] == [server["dana"]]  # the only consent names the hospital
    other = next(p for p in server["patients"] if p != server["dana"])
    with pytest.raises(ResourceNotFound):
        hospital.reference("Patient", other).to_resource()
    # Dana's consent covers demographics and attendance, not questionnaire scores.
    assert hospital.resources("Observation").search(patient=server["dana"]).fetch_all() == []
