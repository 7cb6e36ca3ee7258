"""Patient search: word prefixes of names and MRN, case- and accent-blind, at a cost that does
not grow with the number of patients."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.patients import search
from openiop.patients.models import Patient, PatientSearchTerm
from openiop.patients.services import patient_create, patient_update


def _add(org, first, last, **fields):
    return patient_create(actor=None, organization=org, first_name=first, last_name=last,
                          date_of_birth=dt.date(1990, 1, 1), **fields)  # fmt: skip


def _found(org, text):
    return sorted(p.display_name for p in Patient.objects.for_org(org).search(text))


def test_words_ignore_case_accents_and_punctuation():
    assert search.words("  José  O'Brien-Smith ") == ["jose", "o", "brien", "smith"]
    assert search.words("ＡＢＣ") == ["abc"]  # full-width letters fold to plain ones
    assert search.words("...") == []
    assert search.terms_of(
        first_name="Mary Ann", last_name="O'Brien", preferred_name="", mrn="MRN-0042"
    ) == {"mary", "ann", "maryann", "o", "brien", "obrien", "mrn", "0042", "mrn0042", "42"}


@pytest.mark.django_db
def test_a_search_word_matches_the_start_of_any_name_or_mrn_word(org, patient):
    _add(org, "José", "O'Brien", preferred_name="Pepe")
    _add(org, "Whitney", "Houseman")
    assert _found(org, "whit") == ["Dana Whitfield", "Whitney Houseman"]
    assert _found(org, "WHITF") == ["Dana Whitfield"]
    assert _found(org, "jose") == ["Pepe O'Brien"]  # accents and case do not matter
    assert _found(org, "pep") == ["Pepe O'Brien"]  # the preferred name
    assert _found(org, "obrien") == ["Pepe O'Brien"]  # punctuation may be left out
    assert _found(org, "o'bri") == ["Pepe O'Brien"]
    assert _found(org, "dan whit") == ["Dana Whitfield"]  # every word must match
    assert _found(org, "dan hous") == []
    assert _found(org, "field") == []  # the middle of a word is not a match
    assert _found(org, patient.mrn) == ["Dana Whitfield"]
    number = "".join(ch for ch in patient.mrn if ch.isdigit())
    assert _found(org, number.lstrip("0")) == ["Dana Whitfield"]  # "42" for RB-000042
    assert _found(org, "") == ["Dana Whitfield", "Pepe O'Brien", "Whitney Houseman"]
    assert _found(org, "-- !") == []


@pytest.mark.django_db
def test_a_renamed_patient_is_found_by_the_new_name_only(org, patient):
    patient_update(actor=None, patient=patient, last_name="Marsh")
    assert _found(org, "marsh") == ["Dana Marsh"]
    assert _found(org, "whitfield") == []
    patient.phone = "555-0199"
    patient.save(update_fields=["phone"])  # no name changed: the words stay as they are
    assert _found(org, "marsh") == ["Dana Marsh"]


@pytest.mark.django_db
def test_another_organizations_patients_are_never_found(org, other_org, patient):
    _add(other_org, "Dana", "Whitfield")
    assert [p.organization for p in Patient.objects.for_org(org).search("whitfield")] == [org]


@pytest.mark.django_db
def test_a_search_costs_one_query_however_many_patients(org, patient):
    def run():
        with CaptureQueriesContext(connection) as queries:
            found = list(Patient.objects.for_org(org).search("dana whit"))
        return len(queries), found

    few, _ = run()
    for n in range(30):
        _add(org, f"Dana{n}", f"Whitaker{n}")
    many, found = run()
    assert few == many == 1 and len(found) == 31


@pytest.mark.django_db
def test_the_migration_function_and_index_patients_write_the_same_words(org, patient):
    stored = set(PatientSearchTerm.objects.filter(patient=patient).values_list("key", flat=True))
    PatientSearchTerm.objects.all().delete()
    assert _found(org, "whit") == []
    assert search.index_patients([patient]) == len(stored)
    assert set(PatientSearchTerm.objects.values_list("key", flat=True)) == stored
    assert _found(org, "whit") == ["Dana Whitfield"]
