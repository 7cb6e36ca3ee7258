"""Inbound QuestionnaireResponse parsing: the shapes LHC-Forms and the SDC examples produce, the
errors (with the element named), order independence (hypothesis), and the round trip through
the outbound mapper on saved responses."""

from __future__ import annotations

import copy
import datetime as dt
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openiop.fhir.mappers import questionnaire_response
from openiop.fhir.mappers.common import MapContext
from openiop.fhir.mappers.qr_in import FhirInputError, ParsedResponse, parse
from openiop.questionnaires import services as q_services
from openiop.questionnaires.instruments import registry
from openiop.questionnaires.models import QuestionnaireResponse

LOINC = "http://loinc.org"
PHQ9 = registry.get("phq9")
PHQ9_ITEMS = [i.link_id for i in PHQ9.items]
LA = {0: "LA6568-5", 1: "LA6569-3", 2: "LA6570-1", 3: "LA6571-9"}
TEXT = {0: "Not at all", 1: "Several days", 2: "More than half the days", 3: "Nearly every day"}
CODES = [1, 2, 0, 3, 1, 0, 2, 1, 0]


def lhc_forms_phq9(codes=CODES) -> dict:
    """What LHC-Forms' getFormFHIRData("QuestionnaireResponse", "R4") gives for the LOINC PHQ-9
    form: linkIds with a leading '/', item codes, LA answer codes, and its calculated total."""
    items = [
        {
            "linkId": f"/{link_id}",
            "code": [{"system": LOINC, "code": link_id}],
            "text": PHQ9.items[n].text,
            "answer": [{"valueCoding": {"system": LOINC, "code": LA[c], "display": TEXT[c]}}],
        }
        for n, (link_id, c) in enumerate(zip(PHQ9_ITEMS, codes, strict=True))
    ]
    items.append(
        {
            "linkId": "/44261-6",
            "text": "Patient health questionnaire 9 item total score",
            "answer": [{"valueDecimal": sum(codes)}],
        }
    )
    return {
        "resourceType": "QuestionnaireResponse",
        "meta": {"profile": ["http://hl7.org/fhir/4.0/StructureDefinition/QuestionnaireResponse"]},
        "status": "completed",
        "authored": "2026-11-10T15:30:00.000Z",
        "subject": {"reference": "Patient/1f0e8c52-5b0c-4c9e-8a44-7a2c0d1b9e11"},
        "questionnaire": "http://loinc.org/q/44249-1",
        "item": items,
    }


def sdc_phq9(codes=CODES) -> dict:
    """The SDC example style: one group, local linkIds, items identified by ``code`` only, and
    answers as ordinal integers."""
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": "http://example.org/fhir/Questionnaire/44249-1|2.0",
        "authored": "2026-11-10T10:30:00-05:00",
        "item": [
            {
                "linkId": "phq9",
                "text": "PHQ-9",
                "item": [
                    {
                        "linkId": f"q{n + 1}",
                        "code": [{"system": LOINC, "code": link_id}],
                        "answer": [{"valueInteger": c}],
                    }
                    for n, (link_id, c) in enumerate(zip(PHQ9_ITEMS, codes, strict=True))
                ],
            }
        ],
    }


EXPECTED = dict(zip(PHQ9_ITEMS, CODES, strict=True))


def test_lhc_forms_phq9():
    parsed = parse(lhc_forms_phq9())
    assert parsed == ParsedResponse(
        instrument_key="phq9",
        answers=EXPECTED,
        authored=dt.datetime(2026, 11, 10, 15, 30, tzinfo=dt.UTC),
        subject_ref="Patient/1f0e8c52-5b0c-4c9e-8a44-7a2c0d1b9e11",
    )
    assert registry.score("phq9", parsed.answers).total == sum(CODES)


def test_sdc_group_code_only_items_and_ordinal_answers():
    parsed = parse(sdc_phq9())
    assert parsed.instrument_key == "phq9"
    assert parsed.answers == EXPECTED
    assert parsed.authored == dt.datetime(2026, 11, 10, 15, 30, tzinfo=dt.UTC)
    assert parsed.subject_ref is None


@pytest.mark.parametrize(
    "questionnaire",
    [
        "urn:openiop:fhir:Questionnaire/phq9",
        "44249-1",
        "http://loinc.org/q/44249-1",
        "https://fhir.example.org/r4/Questionnaire/44249-1",
        "https://fhir.example.org/r4/Questionnaire/phq9|1",
    ],
)
def test_questionnaire_names(questionnaire):
    resource = lhc_forms_phq9()
    resource["questionnaire"] = questionnaire
    assert parse(resource).instrument_key == "phq9"


def test_without_questionnaire_the_items_name_the_instrument():
    resource = lhc_forms_phq9()
    del resource["questionnaire"]
    assert parse(resource).instrument_key == "phq9"


def test_linkids_without_slash_nested_lhc_paths_and_decimal_or_coded_ordinals():
    resource = lhc_forms_phq9()
    items = resource["item"]
    items[0]["linkId"] = "44250-9"  # no leading slash
    items[1]["linkId"] = "/44249-1/44255-8"  # LHC-Forms path of a nested item
    items[2]["answer"] = [{"valueDecimal": 0.0}]
    items[3]["answer"] = [{"valueCoding": {"code": "3"}}]  # the ordinal as the code
    items[4]["answer"] = [
        {
            "valueCoding": {
                "system": "http://example.org/answers",
                "code": "sd",
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/StructureDefinition/ordinalValue",
                        "valueDecimal": 1,
                    }
                ],
            }
        }
    ]
    assert parse(resource).answers == EXPECTED


def test_our_own_codes_and_reverse_scored_ordinals():
    dast = registry.get("dast10")
    items = [
        {
            "linkId": item.link_id,
            "answer": [{"valueCoding": {"system": "urn:openiop:answers:dast10", "code": "1"}}],
        }
        for item in dast.items
    ]
    # Item 3 ("always able to stop?") is reverse-scored: ordinal 1 is the answer "No" (code 0).
    items[2]["answer"] = [{"valueInteger": 1}]
    items[3]["answer"] = [{"valueBoolean": False}]
    resource = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": "urn:openiop:fhir:Questionnaire/dast10",
        "item": items,
    }
    parsed = parse(resource)
    assert parsed.answers["dast10-3"] == 0
    assert parsed.answers["dast10-4"] == 0
    assert parsed.answers["dast10-1"] == 1
    assert registry.score("dast10", parsed.answers).total == 10 - 1 - 1 + 1


# -- errors ----------------------------------------------------------------------------------
def _error(resource) -> FhirInputError:
    with pytest.raises(FhirInputError) as info:
        parse(resource)
    return info.value


def test_unknown_questionnaire():
    resource = lhc_forms_phq9()
    resource["questionnaire"] = "http://loinc.org/q/99999-9"
    err = _error(resource)
    assert err.expression == "QuestionnaireResponse.questionnaire"
    assert "99999-9" in str(err)


def test_unknown_item():
    resource = lhc_forms_phq9()
    resource["item"][3] = {"linkId": "/69722-7", "answer": [{"valueCoding": {"code": "LA6572-7"}}]}
    err = _error(resource)
    assert err.expression == "QuestionnaireResponse.item[3]"
    assert "69722-7" in str(err)


def test_an_unanswered_unknown_item_is_ignored_but_the_missing_item_is_reported():
    resource = lhc_forms_phq9()
    resource["item"][8] = {"linkId": "/44260-8", "text": "skipped"}  # no answer
    err = _error(resource)
    assert err.expression == "QuestionnaireResponse.item"
    assert "item 9" in str(err) and "missing" in str(err)


def test_answer_not_in_the_options():
    resource = lhc_forms_phq9()
    resource["item"][5]["answer"] = [{"valueCoding": {"system": LOINC, "code": "LA32-8"}}]
    err = _error(resource)
    assert err.expression == "QuestionnaireResponse.item[5].answer[0].valueCoding"
    assert "LA32-8" in str(err) and "LA6568-5" in str(err)
    resource["item"][5]["answer"] = [{"valueInteger": 4}]
    err = _error(resource)
    assert err.expression == "QuestionnaireResponse.item[5].answer[0].valueInteger"
    assert "4 is not one of 0, 1, 2, 3" in str(err)


def test_nested_item_error_names_the_nested_path():
    resource = sdc_phq9()
    resource["item"][0]["item"][2]["answer"] = [{"valueString": "often"}]
    err = _error(resource)
    assert err.expression == "QuestionnaireResponse.item[0].item[2].answer[0]"


def test_item_answered_twice():
    resource = lhc_forms_phq9()
    resource["item"].append(copy.deepcopy(resource["item"][0]))
    err = _error(resource)
    assert err.expression == "QuestionnaireResponse.item[10]"
    assert "twice" in str(err)


def test_in_progress_and_naive_authored_are_refused():
    resource = lhc_forms_phq9()
    resource["status"] = "in-progress"
    assert _error(resource).expression == "QuestionnaireResponse.status"
    resource = lhc_forms_phq9()
    resource["authored"] = "2026-11-10T15:30:00"
    assert _error(resource).expression == "QuestionnaireResponse.authored"


def test_not_a_questionnaire_response():
    assert _error({"resourceType": "Observation"}).expression == (
        "QuestionnaireResponse.resourceType"
    )


# -- properties ------------------------------------------------------------------------------
phq9_codes = st.lists(st.integers(0, 3), min_size=9, max_size=9)


@settings(max_examples=50, deadline=None)
@given(codes=phq9_codes, seed=st.integers(0, 2**32), shape=st.sampled_from(["lhc", "sdc"]))
def test_item_order_does_not_matter(codes, seed, shape):
    resource = lhc_forms_phq9(codes) if shape == "lhc" else sdc_phq9(codes)
    shuffled = copy.deepcopy(resource)
    items = shuffled["item"] if shape == "lhc" else shuffled["item"][0]["item"]
    random.Random(seed).shuffle(items)
    assert parse(shuffled) == parse(resource)
    assert parse(shuffled).answers == dict(zip(PHQ9_ITEMS, codes, strict=True))


# -- round trip through the outbound mapper ----------------------------------------------------
ANSWERS = {
    "phq9": [3, 2, 1, 0, 1, 2, 3, 0, 1],
    "gad7": [1, 1, 2, 0, 3, 1, 0],
    "audit": [2, 1, 0, 1, 0, 0, 1, 0, 2, 4],
    "auditc": [2, 1, 0],
    "dast10": [1, 0, 0, 1, 0, 0, 0, 1, 0, 0],
    "bam": [2, 1, 3, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 2, 3, 0, 4, 1, 2, 4, 3, 2, 1],
    "cssrs": [1, 1, 1, 0, 0, 0],
    "pcl5": [1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0],
}


@pytest.mark.parametrize("key", registry.KEYS)
def test_round_trip(key, counselor, patient, episode):
    assert set(ANSWERS) == set(registry.KEYS)
    row = q_services.response_record(
        actor=counselor,
        patient=patient,
        episode=episode,
        instrument=key,
        answers=ANSWERS[key],
        administered_at=dt.datetime(2026, 11, 10, 15, 30, tzinfo=dt.UTC),
    )
    row = QuestionnaireResponse.objects.select_related("patient", "administered_by").get(pk=row.pk)
    resource = questionnaire_response.to_fhir(row, ctx=MapContext())
    parsed = parse(resource)
    assert parsed.instrument_key == key
    assert parsed.answers == row.answers
    assert parsed.authored == row.administered_at
    assert parsed.subject_ref == f"Patient/{patient.public_id}"
    again = registry.score(key, parsed.answers, sex=patient.sex)
    assert again.total == row.total
    assert (again.severity or "") == row.severity
