"""Clearinghouse CSV: one row per service line, safe to open in a spreadsheet. Pure, no database."""

from __future__ import annotations

import csv
import dataclasses
import io

import pytest

from openiop.billing.csv_export import (
    CSV_COLUMNS,
    build_claims_csv,
    neutralise_formula,
    write_claims_csv,
)
from openiop.billing.tests.test_x12 import (
    BASE,
    COUNSELOR,
    PSYCHIATRIST,
    medicare_iop_claim,
    professional_batch,
    subscriber,
)
from openiop.billing.x12 import ClaimExportError


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_one_row_per_service_line_under_the_documented_header():
    claims = professional_batch().claims
    text = build_claims_csv(claims)
    assert text.splitlines()[0].split(",") == list(CSV_COLUMNS)
    got = rows(text)
    assert len(got) == sum(len(c.lines) for c in claims) == 9
    assert [r["claim_id"] for r in got[:4]] == ["IOP-2026-0001"] * 3 + ["IOP-2026-0002"]
    assert [r["line_number"] for r in got[:4]] == ["1", "2", "3", "1"]
    first = got[0]
    assert first["claim_type"] == "837P"
    assert first["claim_total_charge"] == "555.00"  # repeated on every line of the claim
    assert got[2]["claim_total_charge"] == "555.00"
    assert first["line_charge"] == "185.00"
    assert first["service_date"] == "2026-11-02"
    assert first["procedure_code"] == "H0015"
    assert first["units"] == "1"
    assert first["diagnosis_codes"] == "F1020;F321"
    assert first["diagnosis_pointers"] == "1;2"
    assert first["place_of_service"] == "57"
    assert first["prior_authorization"] == "PA-889911"
    assert first["rendering_provider_npi"] == COUNSELOR.npi
    assert first["billing_provider_tax_id"] == "123456789"
    assert first["patient_relationship"] == "18"  # the subscriber is the patient
    assert first["patient_last_name"] == "Doe" and first["subscriber_member_id"] == "ACM100200300"
    assert first["line_id"] == "L1"


def test_dependent_telehealth_and_replacement_claims():
    got = rows(build_claims_csv(professional_batch().claims))
    tim = next(r for r in got if r["claim_id"] == "IOP-2026-0002")
    assert (tim["patient_relationship"], tim["patient_first_name"]) == ("19", "Tim")
    assert (tim["subscriber_first_name"], tim["subscriber_member_id"]) == ("Jane", "ACM100200300")
    tele = [r for r in got if r["claim_id"] == "IOP-2026-0003"]
    assert [(r["place_of_service"], r["modifier_1"], r["modifier_2"]) for r in tele] == [
        ("10", "95", ""),
        ("10", "95", ""),
    ]
    replacement = next(r for r in got if r["claim_id"] == "IOP-2026-0004")
    assert replacement["frequency_code"] == "7"
    assert replacement["original_claim_reference"] == "MCD20261102777"
    assert replacement["place_of_service"] == "11"  # the line's own place of service


def test_institutional_rows_carry_type_of_bill_revenue_and_condition_codes():
    got = rows(build_claims_csv([medicare_iop_claim()]))
    assert len(got) == 13
    row = got[0]
    assert row["claim_type"] == "837I"
    assert row["type_of_bill"] == "0131"
    assert row["condition_codes"] == "92"
    assert row["revenue_code"] == "0905" and row["procedure_code"] == "90853"
    assert (row["statement_from"], row["statement_to"]) == ("2026-11-02", "2026-11-08")
    assert row["attending_provider_npi"] == PSYCHIATRIST.npi
    assert row["claim_filing_indicator"] == "MA"
    assert row["diagnosis_pointers"] == ""
    assert got[3]["line_charge"] == "95.25"


def test_names_keep_their_accents_in_utf8():
    text = build_claims_csv(professional_batch().claims)
    data = text.encode("utf-8")
    assert not data.startswith(b"\xef\xbb\xbf")  # no byte-order mark
    carlos = next(r for r in rows(data.decode("utf-8")) if r["claim_id"] == "IOP-2026-0003")
    assert (carlos["patient_last_name"], carlos["patient_first_name"]) == ("Núñez", "José")


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+2", "'=1+2"),
        ("+SUM(1)", "'+SUM(1)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("Doe", "Doe"),
        ("O'Brien", "O'Brien"),
        ("", ""),
        ("A=1", "A=1"),
    ],
)
def test_neutralise_formula(value, safe):
    assert neutralise_formula(value) == safe


def test_formula_in_a_typed_in_name_is_neutralised_in_the_file():
    claim = dataclasses.replace(
        BASE,
        subscriber=dataclasses.replace(
            subscriber(last='=HYPERLINK("evil.example")', first="@Jane"),
            group_number="-GRP",
        ),
    )
    got = rows(build_claims_csv([claim]))[0]
    assert got["patient_last_name"] == '\'=HYPERLINK("evil.example")'
    assert got["subscriber_first_name"] == "'@Jane"
    assert got["subscriber_group_number"] == "'-GRP"
    assert got["line_charge"] == "185.00"  # our own values are untouched


def test_missing_member_id_is_reported_and_nothing_is_written():
    bad = dataclasses.replace(BASE, subscriber=subscriber(member_id=""))
    out = io.StringIO()
    with pytest.raises(ClaimExportError) as exc:
        write_claims_csv([bad, *professional_batch().claims[1:]], out)
    assert [str(p) for p in exc.value.problems] == [
        "Claim IOP-2026-0001: Subscriber DOE, JANE has no member id."
    ]
    assert out.getvalue() == ""


def test_no_claims_and_duplicate_claim_ids_are_refused():
    with pytest.raises(ClaimExportError, match="no claims"):
        build_claims_csv([])
    with pytest.raises(ClaimExportError, match="appears twice"):
        build_claims_csv([BASE, BASE])


def test_writes_a_utf8_file_with_crlf_rows(tmp_path):
    path = tmp_path / "claims.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        count = write_claims_csv(professional_batch().claims, out)
    assert count == 9
    data = path.read_bytes()
    assert data.count(b"\r\n") == 10  # header + 9 rows
    assert "Núñez".encode() in data
