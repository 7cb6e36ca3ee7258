"""Bulk import of Patient ndjson (``openiop fhir import``): created / matched / refused per line,
other resource types skipped and counted, dry run saves nothing."""

from __future__ import annotations

import io
import json

import pytest

from openiop.core.models import AuditEvent
from openiop.fhir.importer import resolve_organization, run_import
from openiop.fhir.mappers.common import mrn_system
from openiop.patients.models import Patient

SYNTHEA = "https://github.com/synthetichealth/synthea"
HOSPITAL = "http://hospital.smarthealthit.org"


def synthea_patient(source_id, mrn, family, given, born):
    return {
        "resourceType": "Patient",
        "id": source_id,
        "identifier": [
            {"system": SYNTHEA, "value": source_id},
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                    ]
                },
                "system": HOSPITAL,
                "value": mrn,
            },
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "SS"}
                    ]
                },
                "system": "http://hl7.org/fhir/sid/us-ssn",
                "value": "999-10-2030",
            },
        ],
        "name": [{"use": "official", "family": family, "given": [given], "prefix": ["Mr."]}],
        "gender": "male",
        "birthDate": born,
        "managingOrganization": {"reference": "Organization?identifier=https://example|42"},
        "communication": [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": "es", "display": "Spanish"}]
                }
            }
        ],
    }


@pytest.fixture
def ndjson(tmp_path):
    def write(lines):
        path = tmp_path / "Patient.ndjson"
        path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
        return path

    return write


def lines_of(tmp):
    return [
        synthea_patient("a1b2", "MRN-1001", "Rosales", "Mateo", "1985-06-01"),
        synthea_patient("c3d4", "MRN-1002", "Nguyen", "Bao", "1990-09-15"),
        {"resourceType": "Encounter", "id": "e1", "status": "finished"},
        synthea_patient("a1b2", "MRN-1001", "Rosales", "Mateo", "1985-06-01"),  # duplicate
        "{this is not json",
        synthea_patient("e5f6", "MRN-1003", "Olsen", "Ida", "2199-01-01"),  # born in the future
        synthea_patient("g7h8", "MRN-1004", "Berg", "Lars", "1970-02-02"),
    ]


def test_import_three_patients_with_a_duplicate_and_bad_lines(org, patient, ndjson, tmp_path):
    out = io.StringIO()
    summary = run_import(ndjson(lines_of(tmp_path)), org, False, out)
    assert (summary.created, summary.matched, summary.refused) == (3, 1, 2)
    assert summary.skipped == {"Encounter": 1}
    outcomes = [(r.line, r.outcome) for r in summary.lines]
    assert outcomes == [
        (1, "created"), (2, "created"), (3, "skipped"), (4, "matched"), (5, "refused"),
        (6, "refused"), (7, "created"),
    ]  # fmt: skip
    assert "not JSON" in summary.lines[4].reason
    assert "date_of_birth" in summary.lines[5].reason or "future" in summary.lines[5].reason

    mateo = Patient.objects.for_org(org).get(last_name="Rosales")
    assert mateo.mrn == "MRN-1001"  # the hospital MRN, never the SSN
    assert mateo.preferred_language == "Spanish"
    assert Patient.objects.for_org(org).filter(last_name="Rosales").count() == 1
    assert Patient.objects.for_org(org).count() == 4  # Dana + three imported
    assert summary.id_map["a1b2"] == str(mateo.public_id)
    assert AuditEvent.objects.filter(action="openiop.patients.patient.create").count() == 4

    text = out.getvalue()
    assert "line 4: matched Patient/a1b2" in text
    assert "3 created, 1 matched, 2 refused, 1 skipped (Encounter 1)" in text


def test_second_run_matches_everyone(org, ndjson, tmp_path):
    path = ndjson(lines_of(tmp_path))
    run_import(path, org, False, io.StringIO())
    again = run_import(path, org, False, io.StringIO())
    assert (again.created, again.matched, again.refused) == (0, 4, 2)
    assert Patient.objects.for_org(org).count() == 3


def test_dry_run_saves_nothing_but_reports_the_same(org, ndjson, tmp_path):
    out = io.StringIO()
    summary = run_import(ndjson(lines_of(tmp_path)), org, True, out)
    assert (summary.created, summary.matched, summary.refused) == (3, 1, 2)
    assert not Patient.objects.exists()
    assert "dry run, nothing saved" in out.getvalue()


def test_our_own_export_matches_by_our_mrn_system(org, patient, ndjson):
    ours = {
        "resourceType": "Patient",
        "identifier": [{"system": mrn_system(org.public_id), "value": patient.mrn}],
        "name": [{"family": "Whitfield", "given": ["Dana"]}],
        "birthDate": "1988-04-12",
    }
    summary = run_import(ndjson([ours]), org, False, io.StringIO())
    assert summary.matched == 1
    assert summary.lines[0].patient_id == str(patient.public_id)


def test_progress_counter_every_hundred_lines(org, ndjson):
    lines = [{"resourceType": "Observation", "id": str(n)} for n in range(205)]
    out = io.StringIO()
    summary = run_import(ndjson(lines), org, False, out)
    assert summary.skipped == {"Observation": 205}
    assert out.getvalue().count("lines read") == 2


def test_resolve_organization(org, other_org):
    assert resolve_organization("riverbend") == org
    with pytest.raises(ValueError, match="several organizations"):
        resolve_organization(None)
    with pytest.raises(ValueError, match="no organization"):
        resolve_organization("nope")


def test_import_command_handler(org, ndjson, tmp_path):
    from django.core.management.base import CommandError

    from openiop.fhir.importer import import_command

    class Command:
        stdout = io.StringIO()

    path = ndjson(lines_of(tmp_path))
    import_command(Command, {"file": str(path), "org": "riverbend", "dry_run": False})
    assert "3 created, 1 matched, 2 refused" in Command.stdout.getvalue()
    with pytest.raises(CommandError, match="no such file"):
        import_command(Command, {"file": str(tmp_path / "nope.ndjson"), "org": None})
