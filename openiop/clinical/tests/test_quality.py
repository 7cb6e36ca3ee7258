"""The group-note quality check: pure, no database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from openiop.clinical.quality import (
    COPIED_PART,
    COPIED_SECTION,
    EMPTY,
    MISSING_REQUIRED,
    SECTIONS,
    check_parts,
    normalize,
)

ALDER = {
    "participation": "Shared about a near-relapse at a family party and how she left early.",
    "response": "Accepted feedback from peers and named two people she can call.",
    "progress": "Progressing on objective 1: used a coping skill instead of drinking.",
    "risk": "Denies SI/HI.",
}
BIRCH = {
    "participation": "Quiet during check-in; spoke once about work stress and cravings.",
    "response": "Agreed to try urge surfing before Thursday's group.",
    "progress": "No progress this week on attending two mutual-help meetings.",
    "risk": "Denies SI/HI.",
}
NAMES = {"a": "Avery Alder", "b": "Blake Birch", "c": "Casey Cedar"}


def codes(warnings, patient=None):
    return sorted(w.code for w in warnings if patient is None or w.patient == patient)


def test_varied_parts_are_quiet_even_with_the_same_risk_screen():
    assert check_parts({"a": ALDER, "b": BIRCH}, NAMES) == []


def test_an_empty_part_warns_with_the_patients_name():
    warnings = check_parts({"a": ALDER, "b": {s: "  " for s in SECTIONS}}, NAMES)
    assert codes(warnings) == [EMPTY]
    assert warnings[0].patient == "b"
    assert "Blake Birch" in warnings[0].message


def test_a_missing_required_section_warns():
    part = {**BIRCH, "response": ""}
    warnings = check_parts({"b": part}, NAMES)
    assert codes(warnings) == [MISSING_REQUIRED]
    assert "response" in warnings[0].message


def test_a_part_copied_word_for_word_warns_on_both_patients_naming_the_other():
    copy = {k: v.upper().replace(" ", "   ") for k, v in ALDER.items()}  # case and spacing
    warnings = check_parts({"a": ALDER, "b": copy, "c": BIRCH}, NAMES)
    assert codes(warnings) == [COPIED_PART, COPIED_PART]
    by_patient = {w.patient: w for w in warnings}
    assert by_patient["a"].other == "b" and by_patient["b"].other == "a"
    assert "Blake Birch" in by_patient["a"].message and "Avery Alder" in by_patient["a"].message
    assert "identical" in by_patient["b"].message


def test_a_nearly_identical_part_warns_with_its_similarity():
    near = {**ALDER, "progress": ALDER["progress"].replace("objective 1", "objective 2")}
    warnings = check_parts({"a": ALDER, "b": near}, NAMES)
    assert codes(warnings) == [COPIED_PART, COPIED_PART]
    assert 0.9 <= warnings[0].similarity < 1.0
    assert "% the same as" in warnings[0].message


def test_one_copied_section_in_otherwise_different_parts_warns_for_that_section():
    part = {**BIRCH, "response": ALDER["response"]}
    warnings = check_parts({"a": ALDER, "b": part}, NAMES)
    assert codes(warnings) == [COPIED_SECTION, COPIED_SECTION]
    assert {w.section for w in warnings} == {"response"}
    assert "Response for Avery Alder is word for word the same as for Blake Birch" in (
        warnings[0].message
    )


def test_short_identical_sections_are_not_called_copies():
    a = {**ALDER, "participation": "Attended."}
    b = {**BIRCH, "participation": "attended."}
    assert check_parts({"a": a, "b": b}) == []


def test_names_fall_back_to_the_keys():
    warnings = check_parts({"x": {}})
    assert warnings[0].message.startswith("x's part is empty")


def test_normalize_ignores_case_and_whitespace():
    assert normalize("  Shared\n\tabout  WORK ") == "shared about work"
    assert normalize(None) == ""


# A small alphabet with spaces, case and tabs: copies and near-copies come up often.
text = st.text(alphabet="ab AB\t\n.é", max_size=60)
part = st.fixed_dictionaries({s: text for s in SECTIONS})
keys = st.text(alphabet="abcdefgh", min_size=1, max_size=3)


@given(st.dictionaries(keys, part, max_size=5))
def test_a_part_never_warns_as_a_copy_of_itself(parts):
    for warning in check_parts(parts):
        assert warning.patient in parts
        if warning.code in (COPIED_PART, COPIED_SECTION):
            assert warning.other != warning.patient
            assert warning.other in parts


@given(part)
def test_a_single_part_is_never_a_copy(only):
    assert not [w for w in check_parts({"a": only}) if w.code in (COPIED_PART, COPIED_SECTION)]


@given(part, keys, keys)
def test_identical_substantial_parts_always_warn_both_ways(p, k1, k2):
    if k1 == k2:
        return
    p = {**p, "participation": "talked at length about cravings at work " + p["participation"]}
    warnings = check_parts({k1: p, k2: dict(p)})
    copied = {(w.patient, w.other) for w in warnings if w.code == COPIED_PART}
    assert copied == {(k1, k2), (k2, k1)}


@given(st.dictionaries(keys, part, max_size=4))
def test_copy_warnings_come_in_symmetric_pairs(parts):
    pairs = [
        (w.code, w.patient, w.other, w.section)
        for w in check_parts(parts)
        if w.code in (COPIED_PART, COPIED_SECTION)
    ]
    assert sorted(pairs) == sorted((c, o, p, s) for c, p, o, s in pairs)
