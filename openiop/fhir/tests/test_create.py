"""FHIR create: QuestionnaireResponse scored into an Observation (round trip), Patient and
Coverage imports matched by identifier, and every refusal as an OperationOutcome."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client

from openiop.billing.models import Coverage
from openiop.billing.tests.claims_fixtures import make_payer
from openiop.core.models import AuditEvent
from openiop.fhir.mappers.common import mrn_system
from openiop.fhir.services import fhir_client_create
from openiop.fhir.validate import validate
from openiop.patients.models import Patient
from openiop.questionnaires.models import ClinicalAlert, QuestionnaireResponse

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)
BASE = "/fhir/r4"
# PHQ-9 items by LOINC code, in form order, and the LOINC answer codes for 0..3.
PHQ9_LOINC = [
    "44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3",
    "44260-8",
]  # fmt: skip
LA = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def token_for(org, user, scopes="user/*.cruds", kind="user", **kw):
    _, token = fhir_client_create(
        actor=None, organization=org, name=f"{kind} app", kind=kind, user=user, scopes=scopes,
        **kw,
    )  # fmt: skip
    return token


def post(token, resource_type, resource, **headers):
    data = resource if isinstance(resource, str | bytes) else json.dumps(resource)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}").post(
        f"{BASE}/{resource_type}", data=data, content_type="application/fhir+json", **headers
    )


def get(token, path, params=None):
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(f"{BASE}/{path}", params or {})


def body(response):
    assert response["Content-Type"].startswith("application/fhir+json")
    return json.loads(response.content)


def issue(response):
    data = body(response)
    assert data["resourceType"] == "OperationOutcome"
    return data["issue"][0]


def lhc_phq9(patient, scores, *, item9=None):
    """A PHQ-9 response as LHC-Forms writes it: LOINC linkIds with a leading '/', LA codes,
    the panel as questionnaire URL, and the total it computed itself (ignored by us)."""
    items = [
        {
            "linkId": f"/{code}",
            "text": f"question {n + 1}",
            "answer": [{"valueCoding": {"system": "http://loinc.org", "code": LA[score]}}],
        }
        for n, (code, score) in enumerate(zip(PHQ9_LOINC, scores, strict=True))
    ]
    if item9 is not None:
        items[8]["answer"][0]["valueCoding"]["code"] = LA[item9]
    items.append({"linkId": "/44261-6", "answer": [{"valueInteger": 99}]})
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "http://loinc.org/q/44249-1",
        "status": "completed",
        "subject": {"reference": f"Patient/{patient.public_id}"},
        "authored": "2026-11-16T09:30:00-05:00",
        "item": list(reversed(items)),  # any order
    }


def sdc_phq9(patient, scores):
    """The SDC shape: one group, items with plain linkIds and ``item.code``, ordinal values."""
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "http://example.org/fhir/Questionnaire/phq9|2.0",
        "status": "completed",
        "subject": {"reference": f"http://elsewhere.example/fhir/Patient/{patient.public_id}"},
        "item": [
            {
                "linkId": "phq9-group",
                "item": [
                    {
                        "linkId": f"q{n}",
                        "code": [{"system": "http://loinc.org", "code": code}],
                        "answer": [{"valueInteger": score}],
                    }
                    for n, (code, score) in enumerate(zip(PHQ9_LOINC, scores, strict=True))
                ],
            }
        ],
    }


@pytest.fixture
def counselor_token(org, counselor):
    return token_for(org, counselor)


# --- QuestionnaireResponse -----------------------------------------------------------------------


def test_lhc_forms_phq9_round_trip_to_the_observation_total(counselor_token, patient, episode):
    response = post(counselor_token, "QuestionnaireResponse", lhc_phq9(patient, [2] * 8 + [0]))
    assert response.status_code == 201, response.content
    created = body(response)
    validate(created)
    assert response["Location"] == f"http://testserver{BASE}/QuestionnaireResponse/{created['id']}"
    assert response["ETag"] == f'W/"{created["meta"]["versionId"]}"'
    assert created["subject"]["reference"] == f"Patient/{patient.public_id}"
    assert created["authored"] == "2026-11-16T14:30:00Z"
    saved = QuestionnaireResponse.objects.get(public_id=created["id"])
    assert saved.total == 16 and saved.source == "staff" and saved.episode == episode

    scores = get(counselor_token, "Observation", {"patient": patient.public_id, "code": "44261-6"})
    bundle = body(scores)
    assert bundle["total"] == 1
    observation = bundle["entry"][0]["resource"]
    assert observation["valueQuantity"]["value"] == 16
    assert AuditEvent.objects.filter(
        action="openiop.questionnaires.response.create", patient_id=str(patient.public_id)
    ).exists()
    fhir_write = AuditEvent.objects.get(action="openiop.fhir.questionnaireresponse.create")
    assert fhir_write.detail["outcome"] == "created"


def test_sdc_shaped_body_with_item_codes_and_ordinals(counselor_token, patient, episode):
    response = post(counselor_token, "QuestionnaireResponse", sdc_phq9(patient, [1] * 9))
    assert response.status_code == 201, response.content
    assert QuestionnaireResponse.objects.get(public_id=body(response)["id"]).total == 9


def test_phq9_item9_answer_raises_the_clinical_alert(counselor_token, patient, episode, counselor):
    response = post(counselor_token, "QuestionnaireResponse", lhc_phq9(patient, [0] * 9, item9=2))
    assert response.status_code == 201
    alert = ClinicalAlert.objects.get(patient=patient)
    assert alert.assigned_to == counselor
    assert str(alert.response.public_id) == body(response)["id"]


@pytest.mark.parametrize(
    "raw, status, expected",
    [
        (b"{not json", 400, "not JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (json.dumps({"resourceType": "Patient"}).encode(), 400, "does not match"),
    ],
)
def test_bad_bodies_are_400_operation_outcomes(counselor_token, patient, raw, status, expected):
    response = post(counselor_token, "QuestionnaireResponse", raw)
    assert response.status_code == status
    assert expected in issue(response)["diagnostics"]
    assert not QuestionnaireResponse.objects.exists()


def test_invalid_structure_is_422_with_the_element(counselor_token, patient, episode):
    resource = lhc_phq9(patient, [1] * 9)
    del resource["item"][2]["linkId"]
    response = post(counselor_token, "QuestionnaireResponse", resource)
    assert response.status_code == 422
    assert issue(response)["expression"] == ["QuestionnaireResponse.item[2].linkId"]


def test_unknown_item_is_422_naming_it(counselor_token, patient, episode):
    resource = lhc_phq9(patient, [1] * 9)
    resource["item"].append(
        {"linkId": "/99999-9", "answer": [{"valueCoding": {"code": "LA6568-5"}}]}
    )
    response = post(counselor_token, "QuestionnaireResponse", resource)
    assert response.status_code == 422
    found = issue(response)
    assert "99999-9" in found["diagnostics"]
    assert found["expression"] == [f"QuestionnaireResponse.item[{len(resource['item']) - 1}]"]
    assert not QuestionnaireResponse.objects.exists()


def test_unknown_or_other_org_subject_is_422_unknown_patient(
    counselor_token, patient, episode, other_org
):
    from openiop.patients.services import patient_create

    stranger = patient_create(
        actor=None, organization=other_org, first_name="Ola", last_name="Other",
        date_of_birth=dt.date(1980, 1, 1),
    )  # fmt: skip
    for subject in (f"Patient/{stranger.public_id}", "Patient/not-a-uuid"):
        resource = lhc_phq9(patient, [1] * 9)
        resource["subject"] = {"reference": subject}
        response = post(counselor_token, "QuestionnaireResponse", resource)
        assert response.status_code == 422
        assert issue(response)["expression"] == ["QuestionnaireResponse.subject"]
        assert "unknown patient" in issue(response)["diagnostics"]


def test_scope_without_create_is_403(org, counselor, patient, episode):
    token = token_for(org, counselor, scopes="user/*.rs")
    response = post(token, "QuestionnaireResponse", lhc_phq9(patient, [1] * 9))
    assert response.status_code == 403
    assert "'c'" in issue(response)["diagnostics"]
    assert not QuestionnaireResponse.objects.exists()


def test_role_without_the_write_permission_is_403(org, billing, patient, episode):
    token = token_for(org, billing)
    response = post(token, "QuestionnaireResponse", lhc_phq9(patient, [1] * 9))
    assert response.status_code == 403


def test_patient_token_records_its_own_response_only(org, patient, episode):
    from openiop.patients.services import patient_create

    token = token_for(org, None, scopes="patient/QuestionnaireResponse.cr", kind="patient",
                      patient=patient)  # fmt: skip
    own = lhc_phq9(patient, [1] * 9)
    del own["subject"]
    response = post(token, "QuestionnaireResponse", own)
    assert response.status_code == 201, response.content
    assert body(response)["source"]["reference"] == f"Patient/{patient.public_id}"
    assert QuestionnaireResponse.objects.get().source == "portal"

    other = patient_create(actor=None, organization=org, first_name="Bo", last_name="Nyx",
                           date_of_birth=dt.date(1991, 2, 2))  # fmt: skip
    response = post(token, "QuestionnaireResponse", lhc_phq9(other, [1] * 9))
    assert response.status_code == 403
    assert QuestionnaireResponse.objects.count() == 1
    assert post(token, "Patient", {"resourceType": "Patient"}).status_code == 403


def test_outside_client_may_not_create(org, patient, episode):
    _, token = fhir_client_create(
        actor=None, organization=org, name="County Hospital", kind="system",
        scopes="system/*.cruds", recipient_organization="County Hospital", purpose="treatment",
    )  # fmt: skip
    response = post(token, "QuestionnaireResponse", lhc_phq9(patient, [1] * 9))
    assert response.status_code == 403
    assert "outside client" in issue(response)["diagnostics"]


# --- Patient -------------------------------------------------------------------------------------

HOSPITAL = "http://hospital.example.org/mrn"


def foreign_patient(value="H-778812", **kw):
    resource = {
        "resourceType": "Patient",
        "identifier": [
            {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-12-3456"},
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                    ]
                },
                "system": HOSPITAL,
                "value": value,
            },
        ],
        "name": [{"use": "official", "family": "Okafor", "given": ["Amaka", "J"]}],
        "gender": "female",
        "birthDate": "1992-03-04",
        "telecom": [
            {"system": "phone", "value": "555-0199"},
            {"system": "email", "value": "amaka@example.org"},
        ],
        "address": [
            {"line": ["12 Elm St"], "city": "Albany", "state": "NY", "postalCode": "12207"}
        ],
    }
    resource.update(kw)
    return resource


@pytest.fixture
def intake_token(org, intake):
    return token_for(org, intake)


def test_patient_import_creates_then_matches_by_identifier(intake_token, org):
    first = post(intake_token, "Patient", foreign_patient())
    assert first.status_code == 201, first.content
    created = body(first)
    validate(created)
    patient = Patient.objects.get(public_id=created["id"])
    assert (patient.first_name, patient.last_name, patient.mrn) == ("Amaka", "Okafor", "H-778812")
    assert patient.phone == "555-0199" and patient.address == "12 Elm St, Albany, NY 12207"
    assert AuditEvent.objects.filter(action="openiop.patients.patient.create").count() == 1

    again = post(intake_token, "Patient", foreign_patient())
    assert again.status_code == 200
    assert body(again)["id"] == created["id"]
    assert Patient.objects.for_org(org).filter(last_name="Okafor").count() == 1
    outcomes = [
        e.detail["outcome"]
        for e in AuditEvent.objects.filter(action="openiop.fhir.patient.create").order_by("id")
    ]
    assert outcomes == ["created", "matched"]


def test_patient_matches_by_our_own_mrn_system(intake_token, org, patient):
    resource = foreign_patient(
        identifier=[{"system": mrn_system(org.public_id), "value": patient.mrn}]
    )
    response = post(intake_token, "Patient", resource)
    assert response.status_code == 200
    assert body(response)["id"] == str(patient.public_id)


def test_foreign_value_equal_to_another_persons_mrn_is_a_conflict(intake_token, patient):
    response = post(intake_token, "Patient", foreign_patient(value=patient.mrn))
    assert response.status_code == 409
    assert Patient.objects.count() == 1


def test_if_none_exist_returns_the_existing_patient(intake_token, org, patient):
    header = f"identifier={mrn_system(org.public_id)}|{patient.mrn}"
    response = post(intake_token, "Patient", foreign_patient(), HTTP_IF_NONE_EXIST=header)
    assert response.status_code == 200
    assert body(response)["id"] == str(patient.public_id)
    assert Patient.objects.count() == 1
    bad = post(intake_token, "Patient", foreign_patient(), HTTP_IF_NONE_EXIST="name=x")
    assert bad.status_code == 400
    none = post(intake_token, "Patient", foreign_patient(),
                HTTP_IF_NONE_EXIST=f"identifier={HOSPITAL}|nobody")  # fmt: skip
    assert none.status_code == 201


def test_patient_structure_errors_name_the_element(intake_token):
    response = post(intake_token, "Patient", foreign_patient(birthDate="04/03/1992"))
    assert response.status_code == 422
    assert issue(response)["expression"] == ["Patient.birthDate"]
    response = post(intake_token, "Patient", foreign_patient(birthDate="1992"))
    assert response.status_code == 422 and "full date" in issue(response)["diagnostics"]
    assert not Patient.objects.exists()


def test_same_name_and_birth_date_without_identifier_match_is_a_possible_duplicate(
    intake_token,
):
    assert post(intake_token, "Patient", foreign_patient()).status_code == 201
    response = post(intake_token, "Patient", foreign_patient(value="OTHER-1"))
    assert response.status_code == 409
    assert "possible duplicate" in issue(response)["diagnostics"]


def test_patient_create_needs_the_edit_permission(org, counselor):
    response = post(token_for(org, counselor), "Patient", foreign_patient())
    assert response.status_code == 403


# --- Coverage ------------------------------------------------------------------------------------


def coverage_body(patient, **kw):
    resource = {
        "resourceType": "Coverage",
        "status": "active",
        "beneficiary": {"reference": f"Patient/{patient.public_id}"},
        "payor": [{"display": "blue river health plan"}],
        "subscriberId": "XZ123456",
        "relationship": {"coding": [{"code": "self"}]},
        "period": {"start": "2026-01-01"},
    }
    resource.update(kw)
    return resource


def test_coverage_create_match_and_unknown_payer(org, billing, patient):
    payer = make_payer(org)
    token = token_for(org, billing)
    response = post(token, "Coverage", coverage_body(patient))
    assert response.status_code == 201, response.content
    created = body(response)
    validate(created)
    coverage = Coverage.objects.get(public_id=created["id"])
    assert (coverage.payer, coverage.member_id) == (payer, "XZ123456")
    assert coverage.effective_on == dt.date(2026, 1, 1)
    assert AuditEvent.objects.filter(action="openiop.billing.coverage.create").count() == 1

    again = post(token, "Coverage", coverage_body(patient))
    assert again.status_code == 200 and body(again)["id"] == created["id"]
    assert Coverage.objects.count() == 1

    unknown = post(token, "Coverage", coverage_body(patient, payor=[{"display": "Acme"}]))
    assert unknown.status_code == 422
    assert "Blue River Health Plan" in issue(unknown)["diagnostics"]
    assert issue(unknown)["expression"] == ["Coverage.payor[0]"]
    assert Coverage.objects.count() == 1


def test_coverage_by_payer_id_and_for_an_unknown_beneficiary(org, billing, patient, other_org):
    make_payer(org)
    token = token_for(org, billing)
    by_id = coverage_body(patient, payor=[{"identifier": {"value": "BRHP1"}}])
    assert post(token, "Coverage", by_id).status_code == 201
    from openiop.patients.services import patient_create

    stranger = patient_create(actor=None, organization=other_org, first_name="Ola",
                              last_name="Other", date_of_birth=dt.date(1980, 1, 1))  # fmt: skip
    response = post(token, "Coverage", coverage_body(stranger))
    assert response.status_code == 422
    assert issue(response)["expression"] == ["Coverage.beneficiary"]


def test_coverage_create_needs_billing_manage(org, intake, patient):
    make_payer(org)
    assert post(token_for(org, intake), "Coverage", coverage_body(patient)).status_code == 403
