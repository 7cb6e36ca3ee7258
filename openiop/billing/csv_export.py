"""Claims as CSV for clearinghouses that take CSV instead of X12: one row per service line.

Pure (no Django): it reads the same ``openiop.billing.x12`` records as the 837 writers and
refuses, the same way, to write anything when a claim has a problem (``ClaimExportError``), so
a CSV never carries a claim the 837 export would have blocked.

The file is UTF-8 (names keep their accents), RFC 4180 (comma, double quotes, CRLF), with a
header row of ``CSV_COLUMNS``. Dates are ISO (YYYY-MM-DD), money has two decimals. Claim-level
values repeat on every line of the claim.

Spreadsheet safety: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
would run as a formula when the file is opened in a spreadsheet (CSV injection), so such a cell
gets a leading apostrophe (``'=HYPERLINK(...)``). Our own values never start that way (amounts
are positive), so only typed-in text (a name, an address) is ever changed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import TextIO

from openiop.billing.x12.model import Address, Claim
from openiop.billing.x12.validate import ClaimExportError, Problem, icd10_code, validate_claim

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS: tuple[str, ...] = (
    "claim_id",
    "claim_type",  # 837P professional / 837I institutional
    "frequency_code",  # 1 original, 7 replacement, 8 void
    "original_claim_reference",
    "type_of_bill",  # 837I only, e.g. 0131
    "statement_from",
    "statement_to",
    "condition_codes",  # ";"-separated, e.g. 92
    "payer_name",
    "payer_id",
    "claim_filing_indicator",
    "billing_provider_name",
    "billing_provider_npi",
    "billing_provider_tax_id",
    "rendering_provider_npi",
    "attending_provider_npi",
    "subscriber_member_id",
    "subscriber_group_number",
    "subscriber_last_name",
    "subscriber_first_name",
    "patient_relationship",  # 18 self, 01 spouse, 19 child, ...
    "patient_last_name",
    "patient_first_name",
    "patient_birth_date",
    "patient_sex",
    "patient_address_line1",
    "patient_address_line2",
    "patient_city",
    "patient_state",
    "patient_zip",
    "diagnosis_codes",  # ";"-separated ICD-10-CM without dots, principal first
    "prior_authorization",
    "claim_total_charge",
    "line_number",
    "line_id",
    "service_date",
    "place_of_service",
    "revenue_code",
    "procedure_code",
    "modifier_1",
    "modifier_2",
    "modifier_3",
    "modifier_4",
    "units",
    "unit_basis",
    "line_charge",
    "diagnosis_pointers",  # ";"-separated positions in diagnosis_codes (837P)
)


def neutralise_formula(value: str) -> str:
    """``value`` made safe to open in a spreadsheet (a leading apostrophe before a formula)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def _quantity(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def claim_rows(claims: Iterable[Claim]) -> Iterator[dict[str, str]]:
    """One dict per service line, keyed by CSV_COLUMNS (values not yet neutralised)."""
    for claim in claims:
        sub, inst = claim.subscriber, claim.institutional
        pt = claim.patient
        address: Address | None
        if pt is not None:
            relationship, last, first = pt.relationship, pt.last_name, pt.first_name
            birth, sex, address = pt.birth_date.isoformat(), pt.sex, pt.address
        else:
            relationship, last, first = "18", sub.last_name, sub.first_name
            birth = sub.birth_date.isoformat() if sub.birth_date else ""
            sex, address = sub.sex, sub.address
        base = {
            "claim_id": claim.claim_id.strip(),
            "claim_type": claim.kind,
            "frequency_code": claim.frequency_code,
            "original_claim_reference": claim.original_claim_reference.strip(),
            "type_of_bill": claim.type_of_bill,
            "statement_from": inst.statement_from.isoformat() if inst else "",
            "statement_to": inst.statement_to.isoformat() if inst else "",
            "condition_codes": ";".join(inst.condition_codes) if inst else "",
            "payer_name": claim.payer.name.strip(),
            "payer_id": claim.payer.payer_id.strip(),
            "claim_filing_indicator": claim.payer.claim_filing_indicator,
            "billing_provider_name": claim.billing_provider.organization_name.strip(),
            "billing_provider_npi": claim.billing_provider.npi.strip(),
            "billing_provider_tax_id": "".join(
                ch for ch in claim.billing_provider.tax_id if ch.isdigit()
            ),
            "rendering_provider_npi": claim.rendering_provider.npi
            if claim.rendering_provider
            else "",
            "attending_provider_npi": inst.attending_provider.npi if inst else "",
            "subscriber_member_id": sub.member_id.strip(),
            "subscriber_group_number": sub.group_number.strip(),
            "subscriber_last_name": sub.last_name.strip(),
            "subscriber_first_name": sub.first_name.strip(),
            "patient_relationship": relationship,
            "patient_last_name": last.strip(),
            "patient_first_name": first.strip(),
            "patient_birth_date": birth,
            "patient_sex": sex,
            "patient_address_line1": address.line1.strip() if address else "",
            "patient_address_line2": address.line2.strip() if address else "",
            "patient_city": address.city.strip() if address else "",
            "patient_state": address.state.strip().upper() if address else "",
            "patient_zip": "".join(ch for ch in address.zip_code if ch.isdigit())
            if address
            else "",
            "diagnosis_codes": ";".join(icd10_code(code) for code in claim.diagnosis_codes),
            "prior_authorization": claim.prior_authorization.strip(),
            "claim_total_charge": _money(claim.line_total),
        }
        for n, line in enumerate(claim.lines, start=1):
            modifiers = [m.strip().upper() for m in line.modifiers] + ["", "", "", ""]
            yield {
                **base,
                "line_number": str(n),
                "line_id": line.line_id.strip(),
                "service_date": line.service_date.isoformat(),
                "place_of_service": line.place_of_service or claim.place_of_service,
                "revenue_code": line.revenue_code.strip(),
                "procedure_code": line.procedure_code.strip().upper(),
                "modifier_1": modifiers[0],
                "modifier_2": modifiers[1],
                "modifier_3": modifiers[2],
                "modifier_4": modifiers[3],
                "units": _quantity(line.units),
                "unit_basis": line.unit_basis,
                "line_charge": _money(line.charge),
                "diagnosis_pointers": (
                    ";".join(str(p) for p in line.diagnosis_pointers) if inst is None else ""
                ),
            }


def validate_claims(claims: Iterable[Claim]) -> list[Problem]:
    """The 837 checks for each claim (as the claim's own kind) plus duplicate claim ids."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for claim in claims:
        problems.extend(validate_claim(claim, claim.kind))
        key = claim.claim_id.strip()
        if key and key in seen:
            problems.append(Problem(key, "claim_id", f"Claim id {key} appears twice."))
        seen.add(key)
    return problems


def write_claims_csv(claims: Iterable[Claim], out: TextIO) -> int:
    """Write the header and one row per service line to ``out``; returns the number of rows.
    Raises ClaimExportError, before writing anything, when a claim has a problem. Open files
    with ``newline=""`` and ``encoding="utf-8"``."""
    claims = list(claims)
    problems = validate_claims(claims)
    if not claims:
        problems.append(Problem("", "claims", "There are no claims to export."))
    if problems:
        raise ClaimExportError(problems)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in claim_rows(claims):
        writer.writerow([neutralise_formula(row[column]) for column in CSV_COLUMNS])
        count += 1
    return count


def build_claims_csv(claims: Iterable[Claim]) -> str:
    """The CSV as text (encode with UTF-8 to save or send it)."""
    out = io.StringIO(newline="")
    write_claims_csv(claims, out)
    return out.getvalue()
