"""Clinical mappers (Questionnaire, QuestionnaireResponse, score Observation, Condition, Goal,
CarePlan, MedicationStatement/Request, DocumentReference) on real saved rows: each output passes
both validators, carries the facts a client reads, and the mapper runs no query."""

from __future__ import annotations

import base64
import datetime as dt
import json
import types
import uuid

import pytest

from openiop.clinical.models import (
    Note,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    TreatmentPlan,
)
from openiop.clinical.tests.test_notes_fixtures import DAP, write_note
from openiop.fhir.mappers import (
    careplan,
    condition,
    document_reference,
    goal,
    medication,
    observation,
    questionnaire,
    questionnaire_response,
)
from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext
from openiop.fhir.validate import validate
from openiop.medications.models import Medication
from openiop.questionnaires import services as q_services
from openiop.questionnaires.instruments import registry
from openiop.questionnaires.models import QuestionnaireResponse

CTX = MapContext()
AT = dt.datetime(2026, 11, 10, 15, 30, tzinfo=dt.UTC)
LOINC = "http://loinc.org"
PART2 = {"42CFRPart2", "R", "SUD", "ETH", "NORDSCLCD"}


def checked(resource: dict) -> dict:
    """Validated by both validators, and plain JSON (no datetimes or UUID objects)."""
    validate(resource)
    assert json.loads(json.dumps(resource)) == resource
    return resource


def labels(resource: dict) -> set[str]:
    return {c["code"] for c in resource["meta"].get("security", [])}


# -- Questionnaire ---------------------------------------------------------------------------
@pytest.mark.parametrize("key", registry.KEYS)
def test_every_instrument_is_a_valid_questionnaire(key):
    instrument = registry.get(key)
    q = checked(questionnaire.to_fhir(instrument, ctx=CTX))
    assert q["id"] == key
    assert q["url"] == f"urn:openiop:fhir:Questionnaire/{key}"
    assert q["status"] == "active"
    assert "security" not in q["meta"]
    assert [i["linkId"] for i in q["item"]] == [i.link_id for i in instrument.items]
    for fhir_item, item in zip(q["item"], instrument.items, strict=True):
        assert fhir_item["type"] == "choice"
        ordinals = [o["extension"][0]["valueDecimal"] for o in fhir_item["answerOption"]]
        assert ordinals == [o.value for o in item.options]


def test_phq9_questionnaire_uses_loinc_codes():
    q = checked(questionnaire.to_fhir(registry.get("phq9"), ctx=CTX))
    assert q["code"] == [{"system": LOINC, "code": "44249-1", "display": q["title"]}]
    first = q["item"][0]
    assert first["linkId"] == "44250-9"
    assert first["code"] == [{"system": LOINC, "code": "44250-9"}]
    option = first["answerOption"][3]
    assert option["valueCoding"]["code"] == "LA6571-9"
    assert option["valueCoding"]["system"] == LOINC
    assert option["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": 3}
    ]


def test_answers_without_loinc_use_our_code_system_and_reverse_scoring_shows():
    bam = checked(questionnaire.to_fhir(registry.get("bam"), ctx=CTX))
    assert "code" not in bam  # no LOINC panel code
    coding = bam["item"][1]["answerOption"][2]["valueCoding"]
    assert coding == {"system": "urn:openiop:answers:bam", "code": "2", "display": "4-8 days"}
    dast = checked(questionnaire.to_fhir(registry.get("dast10"), ctx=CTX))
    item3 = dast["item"][2]["answerOption"]
    no = next(o for o in item3 if o["valueCoding"]["code"] == "LA32-8")
    assert no["extension"][0]["valueDecimal"] == 1  # "No" scores 1 on item 3


# -- QuestionnaireResponse and score Observation ----------------------------------------------
def record(counselor, patient, episode, instrument, answers, **kw) -> QuestionnaireResponse:
    row = q_services.response_record(
        actor=counselor,
        patient=patient,
        episode=episode,
        instrument=instrument,
        answers=answers,
        administered_at=AT,
        **kw,
    )
    return QuestionnaireResponse.objects.select_related("patient", "administered_by").get(pk=row.pk)


@pytest.fixture
def phq9(counselor, patient, episode):
    return record(counselor, patient, episode, "phq9", [2, 2, 1, 1, 2, 1, 1, 1, 1])


def test_questionnaire_response(phq9, patient, counselor, django_assert_num_queries):
    with django_assert_num_queries(0):
        qr = questionnaire_response.to_fhir(phq9, ctx=CTX)
    checked(qr)
    assert qr["id"] == str(phq9.public_id)
    assert qr["identifier"] == {"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{qr['id']}"}
    assert qr["questionnaire"] == "urn:openiop:fhir:Questionnaire/phq9"
    assert qr["status"] == "completed"
    assert qr["subject"] == {"reference": f"Patient/{patient.public_id}"}
    assert qr["author"] == {"reference": f"Practitioner/{counselor.public_id}"}
    assert qr["authored"] == "2026-11-10T15:30:00Z"
    assert labels(qr) == PART2
    codes = {i["linkId"]: i["answer"][0]["valueCoding"]["code"] for i in qr["item"]}
    assert codes["44250-9"] == "LA6570-1"  # item 1: 2 = more than half the days
    assert codes["44260-8"] == "LA6569-3"  # item 9: 1 = several days
    assert len(codes) == 9


def test_patient_filled_response_names_the_patient_as_source(counselor, patient, episode):
    row = record(counselor, patient, episode, "gad7", [0] * 7, source="portal")
    qr = checked(questionnaire_response.to_fhir(row, ctx=CTX))
    assert qr["source"] == {"reference": f"Patient/{patient.public_id}"}


def test_phq9_score_observation(phq9, patient, django_assert_num_queries):
    with django_assert_num_queries(0):
        obs = observation.to_fhir(phq9, ctx=CTX)
    checked(obs)
    assert obs["id"] == str(phq9.public_id)
    assert obs["category"][0]["coding"][0]["code"] == "survey"
    assert obs["code"]["coding"][0] == {
        "system": LOINC,
        "code": "44261-6",
        "display": "PHQ-9 total score",
    }
    assert obs["valueQuantity"]["value"] == 12
    assert obs["interpretation"][0]["text"] == "moderate"
    assert "moderate" in obs["note"][0]["text"]
    assert "suicidal_ideation" in obs["note"][0]["text"]  # item 9 above 0
    assert obs["effectiveDateTime"] == "2026-11-10T15:30:00Z"
    assert obs["subject"] == {"reference": f"Patient/{patient.public_id}"}
    assert obs["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{phq9.public_id}"}]
    assert labels(obs) == PART2


def test_gad7_and_dast10_observations(counselor, patient, episode):
    gad = record(counselor, patient, episode, "gad7", [3, 3, 3, 2, 2, 2, 1])
    obs = checked(observation.to_fhir(gad, ctx=CTX))
    assert obs["code"]["coding"][0]["code"] == "70274-6"
    assert obs["valueQuantity"]["value"] == 16
    assert obs["interpretation"][0]["text"] == gad.severity == "severe"
    dast = record(counselor, patient, episode, "dast10", [1, 1, 0, 0, 1, 0, 0, 0, 0, 0])
    obs = checked(observation.to_fhir(dast, ctx=CTX))
    assert obs["code"]["coding"][0]["code"] == "82667-7"
    assert obs["valueQuantity"]["value"] == 4  # item 3 "No" scores 1
    interp = [c["code"] for i in obs["interpretation"] for c in i.get("coding", [])]
    assert "POS" in interp


def test_instrument_without_total_loinc_uses_local_code(counselor, patient, episode):
    row = record(counselor, patient, episode, "cssrs", [1, 1, 0, 0, 0, 0])
    obs = checked(observation.to_fhir(row, ctx=CTX))
    assert obs["code"]["coding"][0] == {
        "system": "urn:openiop:scores",
        "code": "cssrs",
        "display": "C-SSRS total score",
    }
    assert obs["interpretation"][0]["text"] == "low"


def test_bam_has_no_total_but_composites(counselor, patient, episode):
    answers = [2, 1, 3, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 2, 3, 0, 4, 1, 2, 4, 3, 2, 1]
    row = record(counselor, patient, episode, "bam", answers)
    assert row.total is None
    obs = checked(observation.to_fhir(row, ctx=CTX))
    assert "valueQuantity" not in obs
    assert obs["dataAbsentReason"]["coding"][0]["code"] == "not-applicable"
    components = {c["code"]["coding"][0]["code"]: c["valueInteger"] for c in obs["component"]}
    assert components == {f"bam-{k}": v for k, v in row.subscales.items()}
    assert set(components) == {"bam-use", "bam-risk", "bam-protective"}


# -- Treatment plan: Condition, Goal, CarePlan ------------------------------------------------
@pytest.fixture
def plan_rows(org, patient, episode, counselor):
    plan = TreatmentPlan.objects.create(
        organization=org,
        episode=episode,
        patient=patient,
        status=TreatmentPlan.Status.ACTIVE,
        clinician_signed_by=counselor,
        clinician_signed_at=AT,
        patient_signature="Dana Whitfield",
        patient_signed_at=AT,
        effective_on=dt.date(2026, 11, 10),
        next_review_on=dt.date(2026, 12, 10),
    )
    problem = PlanProblem.objects.create(
        organization=org,
        plan=plan,
        description="Daily opioid use, lost job",
        icd10_code="F11.20",
        icd10_text="Opioid dependence, uncomplicated",
    )
    plan_goal = PlanGoal.objects.create(
        organization=org, problem=problem, text="I want to stay clean for my kids"
    )
    objectives = [
        PlanObjective.objects.create(
            organization=org,
            goal=plan_goal,
            position=0,
            text="Attend 3 groups a week for 4 weeks",
            target_on=dt.date(2026, 12, 8),
        ),
        PlanObjective.objects.create(
            organization=org, goal=plan_goal, position=1, text="Name two coping skills"
        ),
    ]
    intervention = PlanIntervention.objects.create(
        organization=org,
        objective=objectives[0],
        modality=PlanIntervention.Modality.GROUP,
        description="Relapse prevention group",
        frequency="3 groups a week",
        responsible=counselor,
    )
    return types.SimpleNamespace(
        plan=plan, problem=problem, goal=plan_goal, objectives=objectives, intervention=intervention
    )


def test_condition(plan_rows, patient, django_assert_num_queries):
    problem = PlanProblem.objects.select_related("plan__patient").get(pk=plan_rows.problem.pk)
    with django_assert_num_queries(0):
        cond = condition.to_fhir(problem, ctx=CTX)
    checked(cond)
    assert cond["id"] == str(problem.public_id)
    assert cond["code"]["coding"] == [
        {
            "system": "http://hl7.org/fhir/sid/icd-10-cm",
            "code": "F11.20",
            "display": "Opioid dependence, uncomplicated",
        }
    ]
    assert cond["category"][0]["coding"][0]["code"] == "problem-list-item"
    assert cond["clinicalStatus"]["coding"][0]["code"] == "active"
    assert cond["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert cond["subject"] == {"reference": f"Patient/{patient.public_id}"}
    assert labels(cond) == PART2


def test_condition_without_code_and_on_a_superseded_plan(plan_rows):
    plan_rows.plan.status = TreatmentPlan.Status.SUPERSEDED
    plan_rows.plan.save()
    bare = PlanProblem.objects.create(
        organization=plan_rows.plan.organization, plan=plan_rows.plan, description="Housing"
    )
    problem = PlanProblem.objects.select_related("plan__patient").get(pk=bare.pk)
    cond = checked(condition.to_fhir(problem, ctx=CTX))
    assert cond["code"] == {"text": "Housing"}
    assert cond["clinicalStatus"]["coding"][0]["code"] == "inactive"


def test_goal(plan_rows, patient, django_assert_num_queries):
    row = PlanGoal.objects.select_related("problem__plan__patient").get(pk=plan_rows.goal.pk)
    objectives = list(PlanObjective.objects.filter(goal=row).order_by("position"))
    with django_assert_num_queries(0):
        fhir_goal = goal.to_fhir(row, ctx=CTX, objectives=objectives)
    checked(fhir_goal)
    assert fhir_goal["lifecycleStatus"] == "active"
    assert fhir_goal["description"] == {"text": "I want to stay clean for my kids"}
    assert fhir_goal["target"] == [
        {"measure": {"text": "Attend 3 groups a week for 4 weeks"}, "dueDate": "2026-12-08"},
        {"measure": {"text": "Name two coping skills"}},
    ]
    assert fhir_goal["subject"] == {"reference": f"Patient/{patient.public_id}"}
    assert fhir_goal["addresses"] == [{"reference": f"Condition/{plan_rows.problem.public_id}"}]
    assert labels(fhir_goal) == PART2


def test_careplan(plan_rows, patient, counselor, django_assert_num_queries):
    plan = TreatmentPlan.objects.select_related("patient", "clinician_signed_by", "supersedes").get(
        pk=plan_rows.plan.pk
    )
    problems = list(PlanProblem.objects.filter(plan=plan))
    goals = list(PlanGoal.objects.filter(problem__plan=plan))
    interventions = list(
        PlanIntervention.objects.filter(objective__goal__problem__plan=plan).select_related(
            "objective__goal", "responsible"
        )
    )
    with django_assert_num_queries(0):
        cp = careplan.to_fhir(
            plan, ctx=CTX, problems=problems, goals=goals, interventions=interventions
        )
    checked(cp)
    assert cp["status"] == "active"
    assert cp["intent"] == "plan"
    assert cp["category"][0]["coding"][0] == {
        "system": "http://hl7.org/fhir/us/core/CodeSystem/careplan-category",
        "code": "assess-plan",
    }
    assert cp["subject"] == {"reference": f"Patient/{patient.public_id}"}
    assert cp["period"] == {"start": "2026-11-10"}
    assert cp["author"] == {"reference": f"Practitioner/{counselor.public_id}"}
    assert cp["addresses"] == [{"reference": f"Condition/{plan_rows.problem.public_id}"}]
    assert cp["goal"] == [{"reference": f"Goal/{plan_rows.goal.public_id}"}]
    detail = cp["activity"][0]["detail"]
    assert detail["code"]["text"] == "Group therapy"
    assert detail["status"] == "in-progress"
    assert detail["description"] == "Relapse prevention group; 3 groups a week"
    assert detail["goal"] == [{"reference": f"Goal/{plan_rows.goal.public_id}"}]
    assert cp["text"]["status"] == "generated"
    assert labels(cp) == PART2


def test_draft_careplan_revising_another(plan_rows, org, patient, episode):
    draft = TreatmentPlan.objects.create(
        organization=org, episode=episode, patient=patient, version=2, supersedes=plan_rows.plan
    )
    plan = TreatmentPlan.objects.select_related("patient", "clinician_signed_by", "supersedes").get(
        pk=draft.pk
    )
    cp = checked(careplan.to_fhir(plan, ctx=CTX))
    assert cp["status"] == "draft"
    assert cp["replaces"] == [{"reference": f"CarePlan/{plan_rows.plan.public_id}"}]
    assert "period" not in cp and "activity" not in cp


# -- Medications ------------------------------------------------------------------------------
@pytest.fixture
def buprenorphine(org, patient, episode, prescriber):
    return Medication.objects.create(
        organization=org,
        patient=patient,
        episode=episode,
        name="Buprenorphine/naloxone 8 mg/2 mg film",
        dose="8 mg",
        route=Medication.Route.SUBLINGUAL,
        frequency="once daily",
        prescriber=prescriber,
        start_on=dt.date(2026, 11, 3),
        is_mat=True,
        mat_kind=Medication.MatKind.BUPRENORPHINE,
    )


def _med(pk):
    return Medication.objects.select_related("patient", "episode", "prescriber").get(pk=pk)


def test_medication_statement_and_request(
    buprenorphine, patient, episode, prescriber, django_assert_num_queries
):
    row = _med(buprenorphine.pk)
    today = dt.date(2026, 11, 20)
    with django_assert_num_queries(0):
        statement = medication.statement_to_fhir(row, ctx=CTX, today=today)
        request = medication.request_to_fhir(row, ctx=CTX, today=today)
    checked(statement)
    checked(request)
    assert statement["status"] == "active"
    assert statement["medicationCodeableConcept"] == {"text": row.name}
    assert statement["effectivePeriod"] == {"start": "2026-11-03"}
    assert statement["subject"] == {"reference": f"Patient/{patient.public_id}"}
    assert statement["context"] == {"reference": f"EpisodeOfCare/{episode.public_id}"}
    assert "8 mg once daily" in statement["dosage"][0]["text"]
    assert statement["category"]["coding"][1]["code"] == "buprenorphine"
    assert request["status"] == "active"
    assert request["intent"] == "order"
    assert request["requester"]["reference"] == f"Practitioner/{prescriber.public_id}"
    assert request["authoredOn"] == "2026-11-03"
    assert request["category"][0]["coding"][0]["code"] == "mat"
    assert labels(statement) == labels(request) == PART2


def test_stopped_outside_medication(org, patient, episode):
    row = Medication.objects.create(
        organization=org,
        patient=patient,
        episode=episode,
        name="Sertraline 50 mg tablet",
        dose="50 mg",
        frequency="daily",
        outside_prescriber="Dr. Ortiz, primary care",
        start_on=dt.date(2026, 10, 1),
        stop_on=dt.date(2026, 11, 5),
        stop_reason="Side effects",
    )
    row = _med(row.pk)
    statement = checked(medication.statement_to_fhir(row, ctx=CTX, today=dt.date(2026, 11, 20)))
    request = checked(medication.request_to_fhir(row, ctx=CTX, today=dt.date(2026, 11, 20)))
    assert statement["status"] == "completed"
    assert statement["effectivePeriod"] == {"start": "2026-10-01", "end": "2026-11-05"}
    assert "category" not in statement
    assert request["status"] == "stopped"
    assert request["intent"] == "plan"
    assert request["requester"] == {"display": "Dr. Ortiz, primary care"}


# -- Notes ------------------------------------------------------------------------------------
def _note(pk):
    return Note.objects.select_related("patient", "episode", "author", "signed_by", "amends").get(
        pk=pk
    )


def test_signed_note_document_reference(counselor, patient, episode, django_assert_num_queries):
    note = _note(write_note(counselor, episode).pk)
    attendance = types.SimpleNamespace(public_id=uuid.uuid4())  # the caller's AttendanceRecord
    with django_assert_num_queries(0):
        doc = document_reference.to_fhir(note, ctx=CTX, encounter=attendance)
    checked(doc)
    assert doc["status"] == "current"
    assert doc["docStatus"] == "final"
    assert doc["type"]["coding"][0] == {
        "system": LOINC,
        "code": "11506-3",
        "display": "Progress note",
    }
    assert doc["category"][0]["coding"][0]["code"] == "clinical-note"
    assert doc["subject"] == {"reference": f"Patient/{patient.public_id}"}
    assert doc["author"] == [{"reference": f"Practitioner/{counselor.public_id}"}]
    assert doc["date"] == note.signed_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    attachment = doc["content"][0]["attachment"]
    assert attachment["contentType"] == "text/plain"
    text = base64.b64decode(attachment["data"]).decode("utf-8")
    assert text == (
        f"Data:\n{DAP['data']}\n\nAssessment:\n{DAP['assessment']}\n\nPlan:\n{DAP['plan']}"
    )
    assert doc["context"]["encounter"] == [
        {"reference": f"Encounter/{attendance.public_id}"},
        {"reference": f"EpisodeOfCare/{episode.public_id}"},
    ]
    assert doc["context"]["period"] == {
        "start": "2026-11-10T20:00:00Z",
        "end": "2026-11-10T20:50:00Z",
    }
    assert labels(doc) == PART2


def test_sud_counseling_note_is_refused(counselor, episode):
    note = _note(write_note(counselor, episode, kind="sud_counseling").pk)
    with pytest.raises(ValueError, match="2.11"):
        document_reference.to_fhir(note, ctx=CTX)


def test_unsigned_note_is_refused(counselor, episode):
    note = _note(write_note(counselor, episode, sign=False).pk)
    with pytest.raises(ValueError, match="signed"):
        document_reference.to_fhir(note, ctx=CTX)
