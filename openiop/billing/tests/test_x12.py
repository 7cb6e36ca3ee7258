"""837P / 837I writers: every file they write passes pyx12, and bad input is reported, not sent.

Pure: no database. pyx12 (a test dependency) is the HIPAA X12 validator; ``pyx12_errors`` runs it
and returns its error messages, so a failing assertion shows what pyx12 said.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openiop.billing.x12 import (
    Address,
    BillingProvider,
    Claim,
    ClaimBatch,
    ClaimExportError,
    ControlNumbers,
    InstitutionalInfo,
    Patient,
    Payer,
    Practitioner,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
    ValueCode,
    build_837i,
    build_837p,
    npi_is_valid,
    validate_batch,
)
from openiop.billing.x12.pyx12_check import pyx12_errors
from openiop.billing.x12.validate import (
    PLACES_OF_SERVICE,
    US_STATES,
    fold_text,
    npi_check_digit,
)

CREATED = dt.datetime(2026, 11, 30, 16, 45)
MONDAY = dt.date(2026, 11, 2)


def npi(stem: str) -> str:
    return stem + npi_check_digit(stem)


# -- sample records (also used by test_csv_export) -------------------------------------------

CLINIC = BillingProvider(
    organization_name="Riverbend Recovery Center",
    npi="1234567893",  # the CMS example NPI
    tax_id="12-3456789",
    address=Address("100 Main Street", "Springfield", "IL", "62701-1234", line2="Suite 200"),
    taxonomy="261QR0405X",
)
HOSPITAL = BillingProvider(
    organization_name="Springfield General Hospital",
    npi=npi("104567890"),
    tax_id="371234567",
    address=Address("1 Hospital Drive", "Springfield", "IL", "627039999"),
    taxonomy="273R00000X",
)
COUNSELOR = Practitioner("Okafor", "Grace", npi("176543210"), taxonomy="101YA0400X")
PSYCHIATRIST = Practitioner("Lindqvist", "Erik", npi("145678901"), taxonomy="2084P0800X")
ACME = Payer("Acme Health Plan", "ACME01", "CI")
MEDICAID = Payer("Illinois Medicaid", "IL-MCD", "MC")
MEDICARE = Payer("Medicare Part A", "MCR-A", "MA")
HOME = Address("12 Oak Avenue", "Springfield", "IL", "62702")


def subscriber(
    last: str = "Doe", first: str = "Jane", member_id: str = "ACM100200300"
) -> Subscriber:
    return Subscriber(
        last_name=last,
        first_name=first,
        member_id=member_id,
        birth_date=dt.date(1984, 3, 9),
        sex="F",
        address=HOME,
        group_number="GRP-77",
    )


def per_diem_lines(
    days: int, code: str = "H0015", charge: str = "185.00"
) -> tuple[ServiceLine, ...]:
    return tuple(
        ServiceLine(
            MONDAY + dt.timedelta(days=i),
            code,
            Decimal(charge),
            diagnosis_pointers=(1, 2),
            line_id=f"L{i + 1}",
        )
        for i in range(days)
    )


def professional_batch() -> ClaimBatch:
    """Four claims, three patients: in-person IOP per diem, a dependent child on a parent's
    plan, telehealth psychotherapy at home (POS 10 + modifier 95), and a replacement claim."""
    jane = subscriber()
    carlos = Subscriber(
        "Núñez", "José", "MCD-55501", dt.date(1990, 7, 1), "M", HOME, middle_name="Luis"
    )
    claims = (
        Claim(
            claim_id="IOP-2026-0001",
            billing_provider=CLINIC,
            subscriber=jane,
            payer=ACME,
            diagnosis_codes=("F10.20", "F32.1"),
            lines=per_diem_lines(3),
            place_of_service="57",
            rendering_provider=COUNSELOR,
            prior_authorization="PA-889911",
        ),
        Claim(
            claim_id="IOP-2026-0002",
            billing_provider=CLINIC,
            subscriber=jane,
            payer=ACME,
            patient=Patient("Doe", "Tim", dt.date(2009, 5, 17), "M", HOME, relationship="19"),
            diagnosis_codes=("F12.20", "F43.10"),
            lines=per_diem_lines(3, "S9480", "210.00"),
            place_of_service="57",
            rendering_provider=COUNSELOR,
        ),
        Claim(
            claim_id="IOP-2026-0003",
            billing_provider=CLINIC,
            subscriber=carlos,
            payer=MEDICAID,
            diagnosis_codes=("F11.20",),
            lines=(
                ServiceLine(MONDAY, "90837", Decimal("160"), modifiers=("95",), line_id="T1"),
                ServiceLine(
                    MONDAY + dt.timedelta(days=2),
                    "90853",
                    Decimal("60.50"),
                    modifiers=("95",),
                    line_id="T2",
                ),
            ),
            place_of_service="10",
            rendering_provider=PSYCHIATRIST,
        ),
        Claim(
            claim_id="IOP-2026-0004",
            billing_provider=CLINIC,
            subscriber=carlos,
            payer=MEDICAID,
            diagnosis_codes=("F11.20",),
            lines=(ServiceLine(MONDAY, "H0015", Decimal("185"), place_of_service="11"),),
            place_of_service="57",
            frequency_code="7",
            original_claim_reference="MCD20261102777",
        ),
    )
    return ClaimBatch(
        submitter=Submitter(
            "Riverbend Recovery Center",
            "RRC01",
            "Billing Office",
            "(217) 555-0100",
            "billing@example.org",
        ),
        receiver=Receiver("Example Clearinghouse", "CLEAR01"),
        claims=claims,
        created_at=CREATED,
    )


def medicare_iop_claim(claim_id: str = "MCR-IOP-0001", days: int = 4) -> Claim:
    """Hospital outpatient Medicare IOP: type of bill 0131, condition code 92, revenue code 0905
    lines with HCPCS; day 1 has four services (the 4+ services per-diem category)."""
    lines: list[ServiceLine] = [
        ServiceLine(MONDAY, "90853", Decimal("120"), revenue_code="0905"),
        ServiceLine(MONDAY, "90853", Decimal("120"), revenue_code="0905"),
        ServiceLine(MONDAY, "90837", Decimal("180"), revenue_code="0914"),
        ServiceLine(MONDAY, "G0410", Decimal("95.25"), revenue_code="0915"),
    ]
    for i in range(1, days):
        day = MONDAY + dt.timedelta(days=i)
        lines += [
            ServiceLine(day, "90853", Decimal("120"), revenue_code="0905"),
            ServiceLine(day, "90853", Decimal("120"), revenue_code="0905"),
            ServiceLine(day, "90832", Decimal("90"), revenue_code="0914"),
        ]
    return Claim(
        claim_id=claim_id,
        billing_provider=HOSPITAL,
        subscriber=Subscriber(
            "Whitfield", "Harold", "1EG4TE5MK73", dt.date(1952, 1, 20), "M", HOME
        ),
        payer=MEDICARE,
        diagnosis_codes=("F33.1", "F10.20", "F41.1"),
        lines=tuple(lines),
        institutional=InstitutionalInfo(
            facility_type_code="13",
            statement_from=MONDAY,
            statement_to=MONDAY + dt.timedelta(days=6),
            attending_provider=PSYCHIATRIST,
            admission_source_code="1",  # point of origin: non-health-care facility
            condition_codes=("92",),
            value_codes=(ValueCode("A1", Decimal("257")),),
        ),
    )


def institutional_batch() -> ClaimBatch:
    dependent = dataclasses.replace(
        medicare_iop_claim("COM-IOP-0002", days=2),
        billing_provider=HOSPITAL,
        subscriber=subscriber(),
        payer=ACME,
        patient=Patient("Doe", "Tim", dt.date(2009, 5, 17), "M", HOME, relationship="19"),
        institutional=dataclasses.replace(
            medicare_iop_claim().institutional,  # type: ignore[arg-type]
            condition_codes=(),
            value_codes=(),
            admission_date=None,
            admission_type_code="",
            admission_source_code="",
        ),
    )
    return ClaimBatch(
        submitter=Submitter(
            "Springfield General Hospital", "SGH01", "Patient Accounts", "2175550199"
        ),
        receiver=Receiver("Example Clearinghouse", "CLEAR01"),
        claims=(medicare_iop_claim(), dependent),
        created_at=CREATED,
        usage_indicator="P",
    )


# -- reading a written file back ---------------------------------------------------------------


def segments(text: str) -> list[list[str]]:
    return [s.strip().split("*") for s in text.split("~") if s.strip()]


def transaction(text: str) -> list[list[str]]:
    segs = segments(text)
    start = next(i for i, s in enumerate(segs) if s[0] == "ST")
    end = next(i for i, s in enumerate(segs) if s[0] == "SE")
    return segs[start : end + 1]


def first(segs: list[list[str]], seg_id: str) -> list[str]:
    return next(s for s in segs if s[0] == seg_id)


# -- pyx12 accepts what we write ----------------------------------------------------------------


def test_837p_batch_of_several_patients_is_valid_for_pyx12():
    text = build_837p(professional_batch(), ControlNumbers(interchange=41, group=41))
    assert pyx12_errors(text) == []
    segs = segments(text)
    assert [s[1] for s in segs if s[0] == "CLM"] == [
        "IOP-2026-0001",
        "IOP-2026-0002",
        "IOP-2026-0003",
        "IOP-2026-0004",
    ]
    assert first(segs, "GS")[8] == "005010X222A1"
    assert first(segs, "ST")[3] == "005010X222A1"


def test_837i_medicare_iop_claim_is_valid_for_pyx12():
    text = build_837i(institutional_batch(), ControlNumbers(interchange=7, group=3))
    assert pyx12_errors(text) == []
    segs = segments(text)
    assert first(segs, "GS")[8] == "005010X223A2"
    clm = first(segs, "CLM")
    assert clm[1:3] == ["MCR-IOP-0001", "1505.25"]
    assert clm[5] == "13:A:1"  # type of bill 0131
    assert ["HI", "BG:92"] in segs  # condition code 92: Medicare IOP
    assert ["HI", "BE:A1:::257"] in segs
    assert ["DTP", "434", "RD8", "20261102-20261108"] in segs
    assert ["CL1", "", "1", "30"] in segs
    assert not [s for s in segs if s[:2] == ["DTP", "435"]]  # no admission date on outpatient
    assert ["NM1", "71", "1", "LINDQVIST", "ERIK", "", "", "", "XX", PSYCHIATRIST.npi] in segs
    sv2 = [s for s in segs if s[0] == "SV2"]
    assert sv2[0] == ["SV2", "0905", "HC:90853", "120", "UN", "1"]
    assert len(sv2) == (4 + 3 * 3) + (4 + 3)  # every service on its own dated line
    # four services on the first day: the day counts for the 4+ services category
    dates = [s[3] for s in segs if s[:3] == ["DTP", "472", "D8"]]
    assert dates[:4] == ["20261102"] * 4


def test_newline_after_each_segment_is_still_valid():
    text = build_837p(professional_batch(), ControlNumbers(1, 1), newline=True)
    assert text.count("~\n") == len(segments(text))
    assert pyx12_errors(text) == []


def test_pyx12_check_reports_what_is_wrong_in_a_damaged_file():
    text = build_837p(professional_batch(), ControlNumbers(5, 5))
    damaged = text.replace("CLM*IOP-2026-0001*555*", "CLM*IOP-2026-0001*ABC*")
    errors = pyx12_errors(damaged)
    assert any("CLM02" in e and "ABC" in e for e in errors), errors
    # The check caches pyx12's parsed maps: the same file still gives the same answer as a
    # fresh, uncached pyx12 run.
    import pyx12.params
    import pyx12.x12n_document

    report = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(),
        src_file=io.StringIO(damaged),
        fd_997=io.StringIO(),
        fd_html=None,
        fd_json=report,
    )
    assert ok is False
    assert "ABC" in json.dumps(json.loads(report.getvalue()))
    assert pyx12_errors(text) == []


# -- envelope and counts ----------------------------------------------------------------------


def test_se_counts_every_segment_from_st_to_se():
    for text in (
        build_837p(professional_batch(), ControlNumbers(1, 1)),
        build_837i(institutional_batch(), ControlNumbers(1, 1)),
    ):
        st_se = transaction(text)
        assert int(st_se[-1][1]) == len(st_se)


def test_control_numbers_are_written_and_match_in_headers_and_trailers():
    text = build_837p(
        professional_batch(), ControlNumbers(interchange=1234, group=56, transaction=7)
    )
    segs = segments(text)
    isa, gs, st_, se, ge, iea = (first(segs, k) for k in ("ISA", "GS", "ST", "SE", "GE", "IEA"))
    assert isa[13] == "000001234" and iea == ["IEA", "1", "000001234"]
    assert gs[6] == "56" and ge == ["GE", "1", "56"]
    assert st_[2] == "0007" and se[2] == "0007"
    assert first(segs, "BHT")[3] == "000001234"  # batch reference defaults to ISA13


def test_isa_is_fixed_width_with_dates_usage_and_separators():
    batch = dataclasses.replace(
        professional_batch(), usage_indicator="P", acknowledgment_requested=True
    )
    text = build_837p(batch, ControlNumbers(9, 9))
    isa = text.split("~")[0]
    assert len(isa) == 105  # 106 with the segment terminator
    el = isa.split("*")
    assert [len(e) for e in el[1:]] == [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1]
    assert el[6] == "RRC01".ljust(15) and el[8] == "CLEAR01".ljust(15)
    assert el[9:11] == ["261130", "1645"]  # YYMMDD, HHMM
    assert el[11] == "^" and el[12] == "00501" and el[16] == ":"
    assert el[14:16] == ["1", "P"]
    assert first(segments(text), "GS")[4:6] == ["20261130", "1645"]
    test_file = build_837p(professional_batch(), ControlNumbers(9, 9))
    assert test_file.split("~")[0].split("*")[15] == "T"


def test_control_number_outside_nine_digits_is_refused():
    with pytest.raises(ClaimExportError, match="interchange control number"):
        build_837p(professional_batch(), ControlNumbers(interchange=1_000_000_000, group=1))


# -- hierarchy -------------------------------------------------------------------------------


def test_hl_numbers_run_in_order_and_name_their_parents():
    segs = transaction(build_837p(professional_batch(), ControlNumbers(1, 1)))
    hls = [s for s in segs if s[0] == "HL"]
    assert [int(h[1]) for h in hls] == list(range(1, len(hls) + 1))
    # one billing provider; Jane (self), Jane (as subscriber for Tim), Carlos (self)
    assert [h[1:] for h in hls] == [
        ["1", "", "20", "1"],
        ["2", "1", "22", "0"],
        ["3", "1", "22", "1"],
        ["4", "3", "23", "0"],
        ["5", "1", "22", "0"],
    ]


def test_patient_who_is_the_subscriber_has_no_patient_loop():
    segs = transaction(build_837p(professional_batch(), ControlNumbers(1, 1)))
    sbrs = [s for s in segs if s[0] == "SBR"]
    assert [s[2] for s in sbrs] == ["18", "", "18"]
    # Jane's own claim: her address and demographics; as Tim's subscriber: name and id only
    i = segs.index(sbrs[1])
    assert [s[0] for s in segs[i : i + 9]] == [
        "SBR",
        "NM1",
        "NM1",
        "HL",
        "PAT",
        "NM1",
        "N3",
        "N4",
        "DMG",
    ]
    assert ["PAT", "19"] in segs
    assert ["NM1", "QC", "1", "DOE", "TIM"] in segs


def test_claims_of_two_billing_providers_get_two_provider_loops():
    batch = professional_batch()
    other = dataclasses.replace(batch.claims[0], claim_id="OTHER-1", billing_provider=HOSPITAL)
    batch = dataclasses.replace(batch, claims=(*batch.claims, other))
    text = build_837p(batch, ControlNumbers(1, 1))
    assert pyx12_errors(text) == []
    hls = [s for s in transaction(text) if s[0] == "HL"]
    assert [h[1:] for h in hls if h[3] == "20"] == [["1", "", "20", "1"], ["6", "", "20", "1"]]
    assert hls[-1][1:] == ["7", "6", "22", "0"]


# -- claim content ---------------------------------------------------------------------------


def test_telehealth_claim_has_place_of_service_10_and_modifier_95():
    segs = transaction(build_837p(professional_batch(), ControlNumbers(1, 1)))
    clm = next(s for s in segs if s[0] == "CLM" and s[1] == "IOP-2026-0003")
    assert clm[5] == "10:B:1"
    i = segs.index(clm)
    sv1 = [s for s in segs[i:] if s[0] == "SV1"][:2]
    assert sv1 == [
        ["SV1", "HC:90837:95", "160", "UN", "1", "", "", "1"],
        ["SV1", "HC:90853:95", "60.5", "UN", "1", "", "", "1"],
    ]


def test_per_diem_claim_lines_carry_dates_pointers_and_line_ids():
    segs = transaction(build_837p(professional_batch(), ControlNumbers(1, 1)))
    i = segs.index(first(segs, "CLM"))
    claim = segs[i : segs.index(next(s for s in segs[i + 1 :] if s[0] in ("HL", "CLM")))]
    assert claim[0][:3] == ["CLM", "IOP-2026-0001", "555"]  # 3 x 185.00, trailing zeros dropped
    assert ["REF", "G1", "PA-889911"] in claim
    assert ["HI", "ABK:F1020", "ABF:F321"] in claim  # ICD-10-CM without dots
    assert ["NM1", "82", "1", "OKAFOR", "GRACE", "", "", "", "XX", COUNSELOR.npi] in claim
    assert [s for s in claim if s[0] in ("LX", "SV1", "DTP", "REF")][1:5] == [
        ["LX", "1"],
        ["SV1", "HC:H0015", "185", "UN", "1", "", "", "1:2"],
        ["DTP", "472", "D8", "20261102"],
        ["REF", "6R", "L1"],
    ]


def test_replacement_claim_names_the_original_and_line_pos_differs_from_claim():
    segs = transaction(build_837p(professional_batch(), ControlNumbers(1, 1)))
    i = segs.index(next(s for s in segs if s[0] == "CLM" and s[1] == "IOP-2026-0004"))
    assert segs[i][5] == "57:B:7"
    assert segs[i + 1] == ["REF", "F8", "MCD20261102777"]
    sv1 = next(s for s in segs[i:] if s[0] == "SV1")
    assert sv1[5] == "11"  # the line's own place of service


def test_void_claim_is_valid():
    batch = professional_batch()
    void = dataclasses.replace(batch.claims[3], claim_id="IOP-2026-0005", frequency_code="8")
    text = build_837p(dataclasses.replace(batch, claims=(void,)), ControlNumbers(1, 1))
    assert pyx12_errors(text) == []
    assert first(segments(text), "CLM")[5] == "57:B:8"


def test_accents_are_folded_and_apostrophes_kept():
    segs = segments(build_837p(professional_batch(), ControlNumbers(1, 1)))
    assert ["NM1", "IL", "1", "NUNEZ", "JOSE", "LUIS", "", "", "MI", "MCD-55501"] in segs
    batch = professional_batch()
    obrien = dataclasses.replace(
        batch.claims[0], subscriber=subscriber(last="O'Brien-Smith", first="Zoë")
    )
    text = build_837p(dataclasses.replace(batch, claims=(obrien,)), ControlNumbers(1, 1))
    assert pyx12_errors(text) == []
    assert "NM1*IL*1*O'BRIEN-SMITH*ZOE****MI*ACM100200300~" in text


# -- bad input is reported, nothing is written -----------------------------------------------


def test_missing_member_id_is_reported_and_nothing_is_written():
    batch = professional_batch()
    no_id = dataclasses.replace(batch.claims[0], subscriber=subscriber(member_id=" "))
    batch = dataclasses.replace(batch, claims=(no_id, *batch.claims[1:]))
    problems = validate_batch(batch, "837P")
    assert [str(p) for p in problems] == [
        "Claim IOP-2026-0001: Subscriber DOE, JANE has no member id."
    ]
    assert problems[0].field == "subscriber.member_id"
    with pytest.raises(ClaimExportError) as exc:
        build_837p(batch, ControlNumbers(1, 1))
    assert exc.value.problems == problems
    assert "has no member id" in str(exc.value)


def _problems(claim: Claim, kind: str = "837P") -> list[str]:
    batch = dataclasses.replace(professional_batch(), claims=(claim,))
    return [p.message for p in validate_batch(batch, kind)]  # type: ignore[arg-type]


BASE = professional_batch().claims[0]


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        (
            dataclasses.replace(BASE, billing_provider=dataclasses.replace(CLINIC, npi="")),
            "Billing provider NPI is missing.",
        ),
        (
            dataclasses.replace(
                BASE, billing_provider=dataclasses.replace(CLINIC, npi="1234567890")
            ),
            "Billing provider NPI '1234567890' is not a valid NPI (10 digits, check digit).",
        ),
        (
            dataclasses.replace(BASE, rendering_provider=dataclasses.replace(COUNSELOR, npi="123")),
            "Rendering provider NPI '123' is not a valid NPI (10 digits, check digit).",
        ),
        (dataclasses.replace(BASE, diagnosis_codes=()), "The claim has no diagnosis."),
        (
            dataclasses.replace(BASE, diagnosis_codes=("F10.20", "1234")),
            "Diagnosis '1234' is not an ICD-10-CM code.",
        ),
        (
            dataclasses.replace(
                BASE, lines=(dataclasses.replace(BASE.lines[0], charge=Decimal(0)),)
            ),
            "Line 1 (H0015 on 2026-11-02) has no charge (a claim line needs an amount above zero).",
        ),
        (dataclasses.replace(BASE, lines=()), "The claim has no service lines."),
        (
            dataclasses.replace(
                BASE, lines=(dataclasses.replace(BASE.lines[0], diagnosis_pointers=(3,)),)
            ),
            "Line 1 (H0015 on 2026-11-02) points to diagnosis 3, but the claim has 2.",
        ),
        (
            dataclasses.replace(BASE, frequency_code="7"),
            "A replacement claim needs the payer's claim number of the original claim.",
        ),
        (dataclasses.replace(BASE, place_of_service=""), "The claim has no place of service."),
        (
            dataclasses.replace(BASE, place_of_service="30"),
            "'30' is not a place-of-service code.",
        ),
        (
            dataclasses.replace(BASE, billing_provider=dataclasses.replace(CLINIC, tax_id="12345")),
            "Billing provider tax id (EIN) '12345' is not 9 digits.",
        ),
        (
            dataclasses.replace(
                BASE,
                billing_provider=dataclasses.replace(
                    CLINIC, address=dataclasses.replace(CLINIC.address, zip_code="62701")
                ),
            ),
            "Billing provider ZIP code needs all 9 digits (ZIP+4) on a 5010 claim.",
        ),
        (
            dataclasses.replace(
                BASE, subscriber=dataclasses.replace(subscriber(), birth_date=None)
            ),
            "Subscriber DOE, JANE has no date of birth.",
        ),
        (
            dataclasses.replace(
                BASE,
                patient=Patient("Doe", "Tim", dt.date(2009, 5, 17), "M", HOME, relationship="18"),
            ),
            "Patient DOE, TIM's relationship to the subscriber '18' is not an X12 code (01 spouse, "
            "19 child, 20 employee, 21 unknown, 53 life partner, G8 other). Leave the patient "
            "empty when the patient is the subscriber.",
        ),
        (
            dataclasses.replace(BASE, total_charge=Decimal("500")),
            "The claim total 500 is not the sum of its lines (555.00).",
        ),
        (
            dataclasses.replace(
                BASE, lines=(dataclasses.replace(BASE.lines[0], service_date=dt.date(2027, 1, 4)),)
            ),
            "Line 1 is dated in the future (2027-01-04).",
        ),
        (BASE, None),
    ],
)
def test_bad_claims_are_reported_in_plain_language(claim, expected):
    problems = _problems(claim)
    if expected is None:
        assert problems == []
    else:
        assert expected in problems


def test_delimiter_in_a_name_is_rejected_not_stripped():
    claim = dataclasses.replace(BASE, subscriber=subscriber(last="Smith*Jones"))
    assert _problems(claim) == [
        "Subscriber last name contains '*', the X12 element separator; remove it from the record."
    ]
    for ch, name in (("~", "segment"), (":", "component"), ("^", "repetition")):
        claim = dataclasses.replace(
            BASE,
            billing_provider=dataclasses.replace(CLINIC, organization_name=f"Riverbend {ch} IOP"),
        )
        assert _problems(claim) == [
            f"Billing provider name contains '{ch}', the X12 {name} separator; "
            "remove it from the record."
        ]
    with pytest.raises(ClaimExportError, match="separator"):
        build_837p(dataclasses.replace(professional_batch(), claims=(claim,)), ControlNumbers(1, 1))


def test_characters_x12_cannot_carry_are_rejected():
    claim = dataclasses.replace(BASE, subscriber=subscriber(first="Łucja"))
    assert _problems(claim) == [
        "Subscriber first name contains 'Ł', which an X12 file cannot carry."
    ]
    claim = dataclasses.replace(
        BASE,
        subscriber=dataclasses.replace(
            subscriber(), address=dataclasses.replace(HOME, line1="12 Oak\nAve")
        ),
    )
    assert _problems(claim) == ["Subscriber street address contains a line break or tab."]


def test_wrong_export_format_is_reported():
    assert "This is a professional claim; export it as 837P, not 837I." in _problems(BASE, "837I")
    mcr = medicare_iop_claim()
    assert "This is an institutional claim; export it as 837I, not 837P." in _problems(mcr, "837P")


def test_institutional_checks():
    mcr = medicare_iop_claim()
    inst = mcr.institutional
    assert inst is not None
    no_rev = dataclasses.replace(mcr, lines=(dataclasses.replace(mcr.lines[0], revenue_code=""),))
    assert "Line 1 (90853 on 2026-11-02) has no revenue code (needed on 837I)." in _problems(
        no_rev, "837I"
    )
    late = dataclasses.replace(
        mcr, lines=(dataclasses.replace(mcr.lines[0], service_date=MONDAY + dt.timedelta(days=9)),)
    )
    assert "Line 1 (90853 on 2026-11-11) falls outside the statement period." in _problems(
        late, "837I"
    )
    bad_tob = dataclasses.replace(
        mcr, institutional=dataclasses.replace(inst, facility_type_code="131")
    )
    assert any("Facility type '131'" in p for p in _problems(bad_tob, "837I"))
    inpatient = dataclasses.replace(
        mcr, institutional=dataclasses.replace(inst, facility_type_code="11")
    )
    assert (
        "Type of bill 011x is an inpatient bill; only outpatient institutional claims are "
        "exported." in _problems(inpatient, "837I")
    )
    no_attending = dataclasses.replace(
        mcr, institutional=dataclasses.replace(inst, attending_provider=Practitioner("", "", ""))
    )
    assert {
        "Attending provider last name is missing.",
        "Attending provider NPI is missing.",
    } <= set(_problems(no_attending, "837I"))


def test_duplicate_claim_ids_and_empty_batches_are_reported():
    batch = professional_batch()
    twice = dataclasses.replace(batch, claims=(batch.claims[0], batch.claims[0]))
    assert [str(p) for p in validate_batch(twice, "837P")] == [
        "Claim IOP-2026-0001: Claim id IOP-2026-0001 appears 2 times in the batch."
    ]
    empty = dataclasses.replace(batch, claims=())
    assert [str(p) for p in validate_batch(empty, "837P")] == ["There are no claims to export."]


def test_npi_check_digit():
    assert npi_is_valid("1234567893")  # the example in the CMS NPI check-digit paper
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("123456789")
    assert not npi_is_valid("12345678A3")
    assert npi_check_digit("123456789") == "3"


# -- property: any valid input gives a pyx12-valid file -----------------------------------------

_NAME = st.text(
    alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzéüñ '-."),
    min_size=1,
    max_size=20,
).filter(lambda s: any(c.isalpha() for c in s))
_ID = st.text(
    alphabet=st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-"), min_size=2, max_size=15
)
_CITY = _NAME.filter(lambda s: len(fold_text(s)) >= 2)
_NPI = st.text(alphabet=st.sampled_from("0123456789"), min_size=9, max_size=9).map(npi)
_MONEY = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
_UNITS = st.integers(min_value=1, max_value=30).map(Decimal)
_DX = st.lists(
    st.sampled_from(["F10.20", "F11.20", "F12.20", "F32.1", "F33.1", "F41.1", "F43.10", "Z63.0"]),
    min_size=1,
    max_size=8,
    unique=True,
)
_DAY = st.integers(min_value=0, max_value=27).map(
    lambda d: dt.date(2026, 11, 1) + dt.timedelta(days=d)
)
_STATE = st.sampled_from(sorted(US_STATES))
_POS_CODES = sorted(PLACES_OF_SERVICE)
_ZIP = st.from_regex(r"\A[0-9]{5}([0-9]{4})?\Z")


@st.composite
def _address(draw: st.DrawFn, zip9: bool = False) -> Address:
    return Address(
        line1=draw(_NAME),
        city=draw(_CITY),
        state=draw(_STATE),
        zip_code=draw(st.from_regex(r"\A[0-9]{9}\Z")) if zip9 else draw(_ZIP),
        line2=draw(st.one_of(st.just(""), _NAME)),
    )


@st.composite
def _claim(draw: st.DrawFn, n: int, institutional: bool, providers: list[BillingProvider]) -> Claim:
    dx = tuple(draw(_DX))
    lines = []
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        lines.append(
            ServiceLine(
                service_date=draw(_DAY),
                procedure_code=draw(
                    st.sampled_from(["H0015", "S9480", "90837", "90853", "G0410", "80305"])
                    if not institutional
                    else st.sampled_from(["", "90853", "G0410", "90832"])
                ),
                charge=draw(_MONEY),
                units=draw(_UNITS),
                modifiers=tuple(
                    draw(
                        st.lists(
                            st.sampled_from(["95", "GT", "HF", "93", "U7"]), max_size=3, unique=True
                        )
                    )
                ),
                place_of_service=draw(st.one_of(st.just(""), st.sampled_from(_POS_CODES))),
                revenue_code=draw(st.sampled_from(["0905", "0906", "0914", "0915"]))
                if institutional
                else "",
                diagnosis_pointers=tuple(
                    draw(
                        st.lists(
                            st.integers(min_value=1, max_value=len(dx)),
                            min_size=1,
                            max_size=4,
                            unique=True,
                        )
                    )
                ),
                line_id=draw(st.one_of(st.just(""), _ID)),
            )
        )
    lines = [
        dataclasses.replace(line, modifiers=()) if not line.procedure_code else line
        for line in lines
    ]
    dates = [line.service_date for line in lines]
    is_self = draw(st.booleans())
    frequency = draw(st.sampled_from(["1", "7", "8"]))
    return Claim(
        claim_id=f"C{n}-{draw(_ID)}"[:20],
        billing_provider=draw(st.sampled_from(providers)),
        subscriber=Subscriber(
            last_name=draw(_NAME),
            first_name=draw(_NAME),
            member_id=draw(_ID),
            birth_date=draw(st.dates(dt.date(1930, 1, 1), dt.date(2010, 1, 1))),
            sex=draw(st.sampled_from(["F", "M", "U"])),
            address=draw(_address()),
            group_number=draw(st.one_of(st.just(""), _ID)),
        ),
        payer=Payer(
            draw(_NAME),
            draw(_ID),
            draw(st.sampled_from(["CI", "MC", "MB", "MA", "BL", "HM", "12"])),
        ),
        patient=None
        if is_self
        else Patient(
            draw(_NAME),
            draw(_NAME),
            draw(st.dates(dt.date(2000, 1, 1), dt.date(2020, 1, 1))),
            draw(st.sampled_from(["F", "M", "U"])),
            draw(_address()),
            draw(st.sampled_from(["01", "19", "20", "21", "53", "G8"])),
        ),
        diagnosis_codes=dx,
        lines=tuple(lines),
        place_of_service=draw(st.sampled_from(_POS_CODES)),
        frequency_code=frequency,
        original_claim_reference=draw(_ID) if frequency != "1" else "",
        prior_authorization=draw(st.one_of(st.just(""), _ID)),
        rendering_provider=draw(st.one_of(st.none(), st.just(COUNSELOR))),
        institutional=InstitutionalInfo(
            facility_type_code=draw(st.sampled_from(["13", "76", "85", "71", "77"])),
            statement_from=min(dates),
            statement_to=max(dates),
            attending_provider=PSYCHIATRIST,
            condition_codes=tuple(
                draw(st.lists(st.sampled_from(["92", "41", "89"]), max_size=2, unique=True))
            ),
            value_codes=tuple(
                ValueCode(code, draw(_MONEY))
                for code in draw(
                    st.lists(st.sampled_from(["A1", "A2", "80"]), max_size=2, unique=True)
                )
            ),
        )
        if institutional
        else None,
    )


@st.composite
def _batch(draw: st.DrawFn) -> tuple[ClaimBatch, bool]:
    institutional = draw(st.booleans())
    providers = [
        BillingProvider(
            draw(_NAME), draw(_NPI), draw(st.from_regex(r"\A[0-9]{9}\Z")), draw(_address(zip9=True))
        )
        for _ in range(draw(st.integers(min_value=1, max_value=2)))
    ]
    claims = tuple(
        draw(_claim(n, institutional, providers)) for n in range(draw(st.integers(1, 4)))
    )
    batch = ClaimBatch(
        submitter=Submitter(draw(_NAME), draw(_ID), draw(_NAME), "2175550100"),
        receiver=Receiver(draw(_NAME), draw(_ID)),
        claims=claims,
        created_at=CREATED,
        usage_indicator=draw(st.sampled_from(["T", "P"])),
    )
    return batch, institutional


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_batch(), st.integers(min_value=1, max_value=999_999_999))
def test_any_valid_batch_gives_a_file_pyx12_accepts(drawn, control):
    batch, institutional = drawn
    kind = "837I" if institutional else "837P"
    assert validate_batch(batch, kind) == []
    build = build_837i if institutional else build_837p
    text = build(batch, ControlNumbers(control, control))
    assert pyx12_errors(text) == []
    st_se = transaction(text)
    assert int(st_se[-1][1]) == len(st_se)
    assert sum(1 for s in st_se if s[0] == "CLM") == len(batch.claims)
    assert sum(1 for s in st_se if s[0] == "LX") == sum(len(c.lines) for c in batch.claims)


# -- the limits of the guides ----------------------------------------------------------------

MANY_DX = (
    "F10.20 F11.20 F12.20 F13.20 F14.20 F15.20 F16.20 F17.210 F18.20 F19.20 F32.1 F33.1 "
    "F41.1 F43.10 F43.12 F31.81 F90.0 F60.3 Z63.0 Z59.00 Z56.0 F50.2 F42.2 F40.10 F51.01"
).split()


def test_837p_at_its_limits_is_valid():
    line = ServiceLine(
        MONDAY,
        "90837",
        Decimal("99999.99"),
        units=Decimal("1.5"),
        modifiers=("95", "HF", "U7", "GT"),
        diagnosis_pointers=(12, 1, 5, 9),
        unit_basis="MJ",
    )
    claim = dataclasses.replace(
        BASE,
        diagnosis_codes=tuple(MANY_DX[:12]),
        lines=tuple(dataclasses.replace(line, line_id=f"L{i}") for i in range(50)),
        rendering_provider=dataclasses.replace(COUNSELOR, middle_name="Ann", taxonomy=""),
    )
    batch = dataclasses.replace(professional_batch(), claims=(claim,), reference_id="BATCH-2026-11")
    text = build_837p(batch, ControlNumbers(999_999_999, 999_999_999, 999_999_999))
    assert pyx12_errors(text) == []
    assert "SV1*HC:90837:95:HF:U7:GT*99999.99*MJ*1.5***12:1:5:9~" in text
    too_many = dataclasses.replace(claim, lines=(*claim.lines, line))
    assert "An 837P claim carries at most 50 service lines; split it." in _problems(too_many)
    thirteen = dataclasses.replace(claim, diagnosis_codes=tuple(MANY_DX[:13]))
    assert "An 837P claim carries at most 12 diagnoses." in _problems(thirteen)


def test_837i_at_its_limits_is_valid():
    mcr = medicare_iop_claim()
    assert mcr.institutional is not None
    claim = dataclasses.replace(
        mcr,
        diagnosis_codes=tuple(MANY_DX),  # principal + 24 others: two HI*ABF segments
        institutional=dataclasses.replace(
            mcr.institutional,
            condition_codes=tuple(f"{n:02d}" for n in range(1, 25)),
            value_codes=tuple(ValueCode(f"A{n}", Decimal(n * 10)) for n in range(1, 10))
            + tuple(ValueCode(f"B{n}", Decimal("0.5")) for n in range(1, 10)),
            reason_for_visit_codes=("F10.20", "F11.20", "F41.1"),
            patient_status_code="01",
            facility_type_code="34",  # home health: admission date and type are sent
            admission_date=MONDAY - dt.timedelta(days=30),
            admission_type_code="3",
        ),
        frequency_code="2",  # interim bill, first claim
        prior_authorization="AUTH-1",
    )
    batch = dataclasses.replace(institutional_batch(), claims=(claim,))
    text = build_837i(batch, ControlNumbers(3, 3))
    assert pyx12_errors(text) == []
    segs = segments(text)
    assert sum(1 for s in segs if s[0] == "HI" and s[1].startswith("ABF:")) == 2
    assert sum(1 for s in segs if s[0] == "HI" and s[1].startswith("BG:")) == 2
    assert ["HI", "APR:F1020", "APR:F1120", "APR:F411"] in segs
    assert first(segs, "CLM")[5] == "34:A:2"
    assert ["DTP", "435", "D8", "20261003"] in segs
    assert ["CL1", "3", "1", "01"] in segs


def test_our_code_lists_are_ones_pyx12_accepts():
    from importlib.resources import files
    from xml.etree import ElementTree

    root = ElementTree.parse(str(files("pyx12").joinpath("map", "codes.xml"))).getroot()
    sets = {cs.findtext("id"): {c.text for c in cs.iter("code")} for cs in root.iter("codeset")}
    assert US_STATES <= sets["states"]
    assert PLACES_OF_SERVICE <= sets["pos"]
