"""Check claims before any file is written, and say what is wrong in words billing staff use.

``validate_batch(batch, kind)`` returns a list of ``Problem`` (empty = exportable). The writers
call it first and refuse to write anything if it finds a problem (``ClaimExportError``), so a
claim with a missing member id or a mistyped NPI is reported, never sent.

Free text (names, addresses, cities, contact names) is upper-cased and accents are folded to ASCII
("José" -> "JOSE") when written. Characters that collide with the X12 delimiters (``*`` element,
``~`` segment, ``:`` component, ``^`` repetition), line breaks, and characters X12 cannot carry
at all are **rejected** with a problem naming the field, never stripped silently: a claim whose
subscriber name does not match the payer's records is denied, so a person should fix the
source record.

These checks are what the implementation guides and payers require of the data; the X12 syntax
itself is checked again by pyx12 in the tests.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from openiop.billing.x12.model import (
    FILING_INDICATORS,
    RELATIONSHIPS,
    SEXES,
    Address,
    BillingProvider,
    Claim,
    ClaimBatch,
    ClaimKind,
    ControlNumbers,
    Practitioner,
    ServiceLine,
)

DELIMITERS = {"*": "element", "~": "segment", ":": "component", "^": "repetition"}
# The X12 5010 extended character set without the four delimiters we use.
_ALLOWED = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 !\"&'()+,-./;?=%@[]_{}\\|<>#$`"
)
US_STATES = frozenset(
    "AL AK AS AZ AR CA CO CT DE DC FM FL GA GU HI ID IL IN IA KS KY LA ME MH MD MA MI MN MS MO "
    "MT NE NV NH NJ NM NY NC ND MP OH OK OR PA PR RI SC SD TN TX UT VT VI VA WA WV WI WY "
    "AA AE AP".split()
)
# CMS place-of-service codes (the code set the 837P guide points to; the same list pyx12 checks).
PLACES_OF_SERVICE = frozenset(
    [f"{n:02d}" for n in range(1, 28)]
    + "31 32 33 34 41 42 49 50 51 52 53 54 55 56 57 58 60 61 62 65 66 71 72 81 99".split()
)
_ICD10CM = re.compile(r"^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$")
_PROCEDURE = re.compile(r"^[A-Z0-9][0-9]{3}[0-9A-Z]$")  # CPT 90837, 0362T; HCPCS H0015
_MODIFIER = re.compile(r"^[0-9A-Z]{2}$")
_TAXONOMY = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")
_REVENUE = re.compile(r"^[0-9]{4}$")

# (min, max) length of free-text elements by the field's last name part; others are 1-60
# (NM103 last/organization name, PER02 contact name).
_TEXT_LIMITS = {
    "first_name": (1, 35),  # NM104
    "middle_name": (1, 25),  # NM105
    "line1": (1, 55),  # N301
    "line2": (1, 55),  # N302
    "city": (2, 30),  # N401
}
# Inpatient types of bill (hospital inpatient 11x/12x, swing bed 18x, SNF inpatient 21x/22x,
# religious non-medical 41x, ICF 65x/66x, residential 86x). The writer builds outpatient
# claims only: inpatient bills need admitting diagnosis, admission hour and DRG data it does not
# carry, and do not take the outpatient "reason for visit".
INPATIENT_FACILITY_TYPES = frozenset({"11", "12", "18", "21", "22", "41", "65", "66", "86"})
MAX_CLAIMS_PER_TRANSACTION = 5000  # the 837 guides' recommended limit per ST/SE
MAX_CLAIMS_PER_HL = 100  # loop 2300 repeats at most 100 times under one subscriber/patient
MAX_LINES = {"837P": 50, "837I": 999}
MAX_DIAGNOSES = {"837P": 12, "837I": 25}
MAX_CONDITION_CODES = 24
MAX_VALUE_CODES = 24
MAX_MONEY = Decimal("99999999.99")


@dataclass(frozen=True)
class Problem:
    """One reason a claim (or the whole file) cannot be exported. ``claim_id`` is "" for
    problems with the file itself; ``field`` is a dotted path into the input records."""

    claim_id: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"Claim {self.claim_id}: {self.message}" if self.claim_id else self.message


class ClaimExportError(ValueError):
    """Raised by the writers when validation finds problems; nothing was written."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"{len(self.problems)} problem(s) block the export: {shown}{more}")


# -- text ------------------------------------------------------------------------------------


def fold_text(value: str) -> str:
    """Upper-case, fold accents to ASCII where a plain letter exists, collapse white space."""
    decomposed = unicodedata.normalize("NFKD", value)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(kept.split()).upper()


def text_problem(value: str, *, fold: bool = True) -> str | None:
    """Why ``value`` cannot be written into an X12 element, or None when it can."""
    if any(ch in "\r\n\t" for ch in value):
        return "contains a line break or tab"
    text = fold_text(value) if fold else value.strip()
    for ch in text:
        if ch in DELIMITERS:
            return f"contains '{ch}', the X12 {DELIMITERS[ch]} separator; remove it from the record"
        if ch not in _ALLOWED:
            return f"contains '{ch}', which an X12 file cannot carry"
    return None


def digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


# -- identifiers -----------------------------------------------------------------------------


def npi_is_valid(npi: str) -> bool:
    """Ten digits whose last digit is the Luhn check digit of ``80840`` + the first nine."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + npi)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def npi_check_digit(first_nine: str) -> str:
    """The check digit that completes a 9-digit NPI stem (used to make test NPIs)."""
    for d in "0123456789":
        if npi_is_valid(first_nine + d):
            return d
    raise ValueError("an NPI stem is nine digits")


def icd10_code(code: str) -> str:
    """ICD-10-CM as X12 carries it: upper case, no dot."""
    return code.replace(".", "").strip().upper()


# -- checks ----------------------------------------------------------------------------------


class _Collector:
    def __init__(self, claim_id: str) -> None:
        self.claim_id = claim_id
        self.problems: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        self.problems.append(Problem(self.claim_id, field, message))

    def text(
        self, field: str, label: str, value: str, *, required: bool, fold: bool = True
    ) -> None:
        if not value.strip():
            if required:
                self.add(field, f"{label} is missing.")
            return
        why = text_problem(value, fold=fold)
        if why:
            self.add(field, f"{label} {why}.")
            return
        lo, hi = _TEXT_LIMITS.get(field.rsplit(".", 1)[-1], (1, 60))
        n = len(fold_text(value))
        if n < lo:
            self.add(field, f"{label} '{value}' is shorter than {lo} characters.")
        elif n > hi:
            self.add(field, f"{label} is longer than {hi} characters.")

    def address(self, field: str, label: str, address: Address, *, zip9: bool = False) -> None:
        self.text(f"{field}.line1", f"{label} street address", address.line1, required=True)
        self.text(f"{field}.line2", f"{label} second address line", address.line2, required=False)
        self.text(f"{field}.city", f"{label} city", address.city, required=True)
        state = address.state.strip().upper()
        if not state:
            self.add(f"{field}.state", f"{label} state is missing.")
        elif state not in US_STATES:
            self.add(f"{field}.state", f"{label} state '{address.state}' is not a US state code.")
        zip_digits = digits(address.zip_code)
        if not address.zip_code.strip():
            self.add(f"{field}.zip_code", f"{label} ZIP code is missing.")
        elif set(address.zip_code.strip()) - set("0123456789-") or len(zip_digits) not in (5, 9):
            self.add(
                f"{field}.zip_code", f"{label} ZIP code '{address.zip_code}' is not 5 or 9 digits."
            )
        elif zip9 and len(zip_digits) != 9:
            self.add(
                f"{field}.zip_code",
                f"{label} ZIP code needs all 9 digits (ZIP+4) on a 5010 claim.",
            )

    def npi(self, field: str, label: str, npi: str) -> None:
        if not npi.strip():
            self.add(field, f"{label} NPI is missing.")
        elif not npi_is_valid(npi.strip()):
            self.add(field, f"{label} NPI '{npi}' is not a valid NPI (10 digits, check digit).")

    def taxonomy(self, field: str, label: str, code: str) -> None:
        if code and not _TAXONOMY.match(code.strip().upper()):
            self.add(field, f"{label} taxonomy code '{code}' is not a 10-character taxonomy.")

    def practitioner(self, field: str, label: str, person: Practitioner) -> None:
        self.text(f"{field}.last_name", f"{label} last name", person.last_name, required=True)
        self.text(f"{field}.first_name", f"{label} first name", person.first_name, required=False)
        self.text(
            f"{field}.middle_name", f"{label} middle name", person.middle_name, required=False
        )
        self.npi(f"{field}.npi", label, person.npi)
        self.taxonomy(f"{field}.taxonomy", label, person.taxonomy)

    def ident(
        self, field: str, label: str, value: str, *, required: bool, max_len: int, min_len: int = 1
    ) -> None:
        v = value.strip()
        if not v:
            if required:
                self.add(field, f"{label} is missing.")
            return
        why = text_problem(v, fold=False)
        if why:
            self.add(field, f"{label} {why}.")
        elif len(v) > max_len:
            self.add(field, f"{label} '{v}' is longer than {max_len} characters.")
        elif len(v) < min_len:
            self.add(field, f"{label} '{v}' is shorter than {min_len} characters.")

    def money(self, field: str, label: str, amount: Decimal) -> None:
        if not amount.is_finite() or amount <= 0:
            self.add(field, f"{label} has no charge (a claim line needs an amount above zero).")
        elif amount > MAX_MONEY or amount != amount.quantize(Decimal("0.01")):
            self.add(field, f"{label} charge {amount} is not a dollar amount with at most cents.")


def _billing_provider(c: _Collector, bp: BillingProvider) -> None:
    c.text(
        "billing_provider.organization_name",
        "Billing provider name",
        bp.organization_name,
        required=True,
    )
    c.npi("billing_provider.npi", "Billing provider", bp.npi)
    if len(digits(bp.tax_id)) != 9 or set(bp.tax_id.strip()) - set("0123456789-"):
        c.add(
            "billing_provider.tax_id",
            f"Billing provider tax id (EIN) '{bp.tax_id}' is not 9 digits.",
        )
    c.address("billing_provider.address", "Billing provider", bp.address, zip9=True)
    c.taxonomy("billing_provider.taxonomy", "Billing provider", bp.taxonomy)


def _line(c: _Collector, kind: ClaimKind, n: int, line: ServiceLine, claim: Claim) -> None:
    code = line.procedure_code.strip().upper()
    label = f"Line {n} ({code or line.revenue_code or 'no code'} on {line.service_date:%Y-%m-%d})"
    f = f"lines[{n - 1}]"
    if kind == "837P" or code:
        if not code:
            c.add(f"{f}.procedure_code", f"{label} has no procedure code.")
        elif not _PROCEDURE.match(code):
            c.add(
                f"{f}.procedure_code", f"{label}: '{line.procedure_code}' is not a HCPCS/CPT code."
            )
    if kind == "837I":
        if not line.revenue_code.strip():
            c.add(f"{f}.revenue_code", f"{label} has no revenue code (needed on 837I).")
        elif not _REVENUE.match(line.revenue_code.strip()):
            c.add(
                f"{f}.revenue_code", f"{label}: revenue code '{line.revenue_code}' is not 4 digits."
            )
    if len(line.modifiers) > 4:
        c.add(f"{f}.modifiers", f"{label} has more than 4 modifiers.")
    for m in line.modifiers:
        if not _MODIFIER.match(m.strip().upper()):
            c.add(f"{f}.modifiers", f"{label}: modifier '{m}' is not 2 letters or digits.")
    if line.modifiers and not code:
        c.add(f"{f}.modifiers", f"{label} has modifiers but no procedure code.")
    c.money(f"{f}.charge", label, line.charge)
    if not line.units.is_finite() or line.units <= 0:
        c.add(f"{f}.units", f"{label} has no units.")
    elif line.units > Decimal("99999.999") or line.units != line.units.quantize(Decimal("0.001")):
        c.add(f"{f}.units", f"{label}: {line.units} units is not a quantity X12 accepts.")
    bases = ("UN", "MJ") if kind == "837P" else ("UN", "DA")
    if line.unit_basis not in bases:
        c.add(f"{f}.unit_basis", f"{label}: unit basis must be one of {', '.join(bases)}.")
    if line.place_of_service and line.place_of_service not in PLACES_OF_SERVICE:
        c.add(
            f"{f}.place_of_service",
            f"{label}: '{line.place_of_service}' is not a place-of-service code.",
        )
    if kind == "837P":
        if not line.diagnosis_pointers:
            c.add(f"{f}.diagnosis_pointers", f"{label} points to no diagnosis.")
        elif len(line.diagnosis_pointers) > 4:
            c.add(f"{f}.diagnosis_pointers", f"{label} points to more than 4 diagnoses.")
        for p in line.diagnosis_pointers:
            if not 1 <= p <= min(len(claim.diagnosis_codes), 12):
                c.add(
                    f"{f}.diagnosis_pointers",
                    f"{label} points to diagnosis {p}, but the claim has "
                    f"{len(claim.diagnosis_codes)}.",
                )
        if len(set(line.diagnosis_pointers)) != len(line.diagnosis_pointers):
            c.add(f"{f}.diagnosis_pointers", f"{label} points to the same diagnosis twice.")
    c.ident(f"{f}.line_id", f"{label} line id", line.line_id, required=False, max_len=50)
    inst = claim.institutional
    if inst is not None and not inst.statement_from <= line.service_date <= inst.statement_to:
        c.add(f"{f}.service_date", f"{label} falls outside the statement period.")


def validate_claim(claim: Claim, kind: ClaimKind, *, today: dt.date | None = None) -> list[Problem]:
    """Everything that blocks one claim from export, in plain language."""
    c = _Collector(claim.claim_id.strip() or "(no claim id)")
    c.ident(
        "claim_id", "Claim id (patient control number)", claim.claim_id, required=True, max_len=20
    )
    if kind == "837P" and claim.institutional is not None:
        c.add("institutional", "This is an institutional claim; export it as 837I, not 837P.")
    if kind == "837I" and claim.institutional is None:
        c.add("institutional", "This is a professional claim; export it as 837P, not 837I.")

    _billing_provider(c, claim.billing_provider)

    sub = claim.subscriber
    who = "Subscriber " + ", ".join(
        n for n in (fold_text(sub.last_name), fold_text(sub.first_name)) if n
    )
    c.text("subscriber.last_name", "Subscriber last name", sub.last_name, required=True)
    c.text("subscriber.first_name", "Subscriber first name", sub.first_name, required=True)
    c.text("subscriber.middle_name", "Subscriber middle name", sub.middle_name, required=False)
    if not sub.member_id.strip():
        c.add("subscriber.member_id", f"{who} has no member id.")
    else:
        c.ident(
            "subscriber.member_id",
            f"{who}'s member id",
            sub.member_id,
            required=True,
            max_len=80,
            min_len=2,
        )
    c.ident(
        "subscriber.group_number",
        f"{who}'s group number",
        sub.group_number,
        required=False,
        max_len=50,
    )
    patient_is_subscriber = claim.patient is None
    if sub.birth_date is None:
        if patient_is_subscriber:
            c.add("subscriber.birth_date", f"{who} has no date of birth.")
    elif today is not None and sub.birth_date > today:
        c.add("subscriber.birth_date", f"{who}'s date of birth is in the future.")
    if sub.sex not in SEXES:
        c.add("subscriber.sex", f"{who}'s sex must be F, M or U.")
    if sub.address is None:
        if patient_is_subscriber:
            c.add("subscriber.address", f"{who} has no address.")
    else:
        c.address("subscriber.address", "Subscriber", sub.address)

    pt = claim.patient
    if pt is not None:
        pwho = "Patient " + ", ".join(
            n for n in (fold_text(pt.last_name), fold_text(pt.first_name)) if n
        )
        c.text("patient.last_name", "Patient last name", pt.last_name, required=True)
        c.text("patient.first_name", "Patient first name", pt.first_name, required=True)
        c.text("patient.middle_name", "Patient middle name", pt.middle_name, required=False)
        if today is not None and pt.birth_date > today:
            c.add("patient.birth_date", f"{pwho}'s date of birth is in the future.")
        if pt.sex not in SEXES:
            c.add("patient.sex", f"{pwho}'s sex must be F, M or U.")
        c.address("patient.address", "Patient", pt.address)
        if pt.relationship not in RELATIONSHIPS:
            c.add(
                "patient.relationship",
                f"{pwho}'s relationship to the subscriber '{pt.relationship}' is not an X12 code "
                "(01 spouse, 19 child, 20 employee, 21 unknown, 53 life partner, G8 other). "
                "Leave the patient empty when the patient is the subscriber.",
            )

    c.text("payer.name", "Payer name", claim.payer.name, required=True)
    c.ident(
        "payer.payer_id", "Payer id", claim.payer.payer_id, required=True, max_len=80, min_len=2
    )
    if claim.payer.claim_filing_indicator not in FILING_INDICATORS:
        c.add(
            "payer.claim_filing_indicator",
            f"Claim filing indicator '{claim.payer.claim_filing_indicator}' is not an X12 code.",
        )

    if not claim.diagnosis_codes:
        c.add("diagnosis_codes", "The claim has no diagnosis.")
    seen: set[str] = set()
    for i, code in enumerate(claim.diagnosis_codes):
        norm = icd10_code(code)
        if not _ICD10CM.match(norm):
            c.add(f"diagnosis_codes[{i}]", f"Diagnosis '{code}' is not an ICD-10-CM code.")
        elif norm in seen:
            c.add(f"diagnosis_codes[{i}]", f"Diagnosis {code} is listed twice.")
        seen.add(norm)
    if len(claim.diagnosis_codes) > MAX_DIAGNOSES[kind]:
        c.add(
            "diagnosis_codes", f"An {kind} claim carries at most {MAX_DIAGNOSES[kind]} diagnoses."
        )

    frequencies = ("1", "7", "8") if kind == "837P" else ("1", "2", "3", "4", "5", "7", "8")
    if claim.frequency_code not in frequencies:
        c.add(
            "frequency_code",
            f"Claim frequency '{claim.frequency_code}' must be one of {', '.join(frequencies)}.",
        )
    if claim.frequency_code in ("7", "8"):
        what = "replacement" if claim.frequency_code == "7" else "void"
        if not claim.original_claim_reference.strip():
            c.add(
                "original_claim_reference",
                f"A {what} claim needs the payer's claim number of the original claim.",
            )
    c.ident(
        "original_claim_reference",
        "Original claim reference",
        claim.original_claim_reference,
        required=False,
        max_len=50,
    )
    c.ident(
        "prior_authorization",
        "Prior authorization number",
        claim.prior_authorization,
        required=False,
        max_len=50,
    )

    if kind == "837P":
        if not claim.place_of_service:
            c.add("place_of_service", "The claim has no place of service.")
        elif claim.place_of_service not in PLACES_OF_SERVICE:
            c.add(
                "place_of_service",
                f"'{claim.place_of_service}' is not a place-of-service code.",
            )
    if claim.rendering_provider is not None:
        c.practitioner("rendering_provider", "Rendering provider", claim.rendering_provider)

    inst = claim.institutional
    if inst is not None:
        if not re.fullmatch(r"[1-8][0-9]", inst.facility_type_code):
            c.add(
                "institutional.facility_type_code",
                f"Facility type '{inst.facility_type_code}' is not the 2 middle digits of a type "
                "of bill (13 hospital outpatient, 76 CMHC, 85 CAH).",
            )
        elif inst.facility_type_code in INPATIENT_FACILITY_TYPES:
            c.add(
                "institutional.facility_type_code",
                f"Type of bill 0{inst.facility_type_code}x is an inpatient bill; only outpatient "
                "institutional claims are exported.",
            )
        if inst.statement_from > inst.statement_to:
            c.add("institutional.statement_from", "The statement period ends before it starts.")
        c.practitioner(
            "institutional.attending_provider", "Attending provider", inst.attending_provider
        )
        if not re.fullmatch(r"[0-9]{2}", inst.patient_status_code):
            c.add(
                "institutional.patient_status_code",
                f"Patient status '{inst.patient_status_code}' is not 2 digits.",
            )
        if inst.admission_type_code and not re.fullmatch(r"[1-9]", inst.admission_type_code):
            c.add(
                "institutional.admission_type_code",
                f"Admission type '{inst.admission_type_code}' is not 1 digit.",
            )
        if inst.admission_source_code and not re.fullmatch(r"[0-9A-Z]", inst.admission_source_code):
            c.add(
                "institutional.admission_source_code",
                f"Point of origin '{inst.admission_source_code}' is not 1 character.",
            )
        if inst.admission_date is not None and inst.admission_date > inst.statement_to:
            c.add(
                "institutional.admission_date", "The admission date is after the statement period."
            )
        if len(inst.condition_codes) > MAX_CONDITION_CODES:
            c.add(
                "institutional.condition_codes",
                f"At most {MAX_CONDITION_CODES} condition codes fit on a claim.",
            )
        for code in inst.condition_codes:
            if not re.fullmatch(r"[0-9A-Z]{2}", code):
                c.add(
                    "institutional.condition_codes", f"Condition code '{code}' is not 2 characters."
                )
        if len(inst.value_codes) > MAX_VALUE_CODES:
            c.add(
                "institutional.value_codes",
                f"At most {MAX_VALUE_CODES} value codes fit on a claim.",
            )
        for vc in inst.value_codes:
            if not re.fullmatch(r"[0-9A-Z]{2}", vc.code):
                c.add("institutional.value_codes", f"Value code '{vc.code}' is not 2 characters.")
            if not vc.amount.is_finite() or abs(vc.amount) > MAX_MONEY:
                c.add(
                    "institutional.value_codes",
                    f"Value code {vc.code} amount is not a dollar amount.",
                )
        for code in inst.reason_for_visit_codes[3:]:
            c.add(
                "institutional.reason_for_visit_codes",
                f"At most 3 reasons for visit fit ({code} is one too many).",
            )
        for code in inst.reason_for_visit_codes:
            if not _ICD10CM.match(icd10_code(code)):
                c.add(
                    "institutional.reason_for_visit_codes",
                    f"Reason for visit '{code}' is not an ICD-10-CM code.",
                )

    if not claim.lines:
        c.add("lines", "The claim has no service lines.")
    if len(claim.lines) > MAX_LINES[kind]:
        c.add(
            "lines", f"An {kind} claim carries at most {MAX_LINES[kind]} service lines; split it."
        )
    for n, line in enumerate(claim.lines, start=1):
        _line(c, kind, n, line, claim)
        if today is not None and line.service_date > today:
            c.add(
                f"lines[{n - 1}].service_date",
                f"Line {n} is dated in the future ({line.service_date}).",
            )
    if claim.total_charge is not None and claim.total_charge != claim.line_total:
        c.add(
            "total_charge",
            f"The claim total {claim.total_charge} is not the sum of its lines "
            f"({claim.line_total}).",
        )
    return c.problems


def validate_batch(
    batch: ClaimBatch, kind: ClaimKind, control_numbers: ControlNumbers | None = None
) -> list[Problem]:
    """Every problem that blocks writing ``batch`` as ``kind`` ("837P" or "837I"); [] = fine."""
    c = _Collector("")
    s, r = batch.submitter, batch.receiver
    c.text("submitter.name", "Submitter name", s.name, required=True)
    c.ident("submitter.id", "Submitter id", s.id, required=True, max_len=80, min_len=2)
    c.text("submitter.contact_name", "Submitter contact name", s.contact_name, required=True)
    if len(digits(s.contact_phone)) != 10:
        c.add("submitter.contact_phone", "Submitter contact phone needs 10 digits.")
    c.ident(
        "submitter.contact_email",
        "Submitter contact e-mail",
        s.contact_email,
        required=False,
        max_len=256,
    )
    c.text("receiver.name", "Receiver name", r.name, required=True)
    c.ident("receiver.id", "Receiver id", r.id, required=True, max_len=80, min_len=2)
    for label, ident, qual in (
        ("Sender", s.interchange_id or s.id, s.interchange_qualifier),
        ("Receiver", r.interchange_id or r.id, r.interchange_qualifier),
    ):
        why = text_problem(ident, fold=False)
        if why:
            c.add("interchange_id", f"{label} interchange id {why}.")
        if not 2 <= len(ident.strip()) <= 15:
            c.add("interchange_id", f"{label} interchange id '{ident}' is not 2 to 15 characters.")
        if qual not in ("01", "14", "20", "27", "28", "29", "30", "33", "ZZ"):
            c.add(
                "interchange_qualifier", f"{label} interchange id qualifier '{qual}' is not valid."
            )
    c.ident("reference_id", "Batch reference id", batch.reference_id, required=False, max_len=30)
    if batch.usage_indicator not in ("T", "P"):
        c.add("usage_indicator", "Usage indicator must be T (test) or P (production).")
    if control_numbers is not None:
        for name, value in (
            ("interchange", control_numbers.interchange),
            ("group", control_numbers.group),
            ("transaction", control_numbers.transaction),
        ):
            if not 1 <= value <= 999_999_999:
                c.add(
                    f"control_numbers.{name}", f"The {name} control number must be 1 to 999999999."
                )
    if not batch.claims:
        c.add("claims", "There are no claims to export.")
    if len(batch.claims) > MAX_CLAIMS_PER_TRANSACTION:
        c.add(
            "claims",
            f"At most {MAX_CLAIMS_PER_TRANSACTION} claims fit in one file; split the batch.",
        )
    problems = c.problems
    ids: dict[str, int] = {}
    today = batch.created_at.date()
    for claim in batch.claims:
        problems.extend(validate_claim(claim, kind, today=today))
        key = claim.claim_id.strip()
        ids[key] = ids.get(key, 0) + 1
    for key, n in ids.items():
        if key and n > 1:
            problems.append(
                Problem(key, "claim_id", f"Claim id {key} appears {n} times in the batch.")
            )
    per_hl: dict[tuple[object, ...], int] = {}
    for claim in batch.claims:
        hl_key = (claim.billing_provider, claim.subscriber, claim.payer, claim.patient)
        per_hl[hl_key] = per_hl.get(hl_key, 0) + 1
    if any(n > MAX_CLAIMS_PER_HL for n in per_hl.values()):
        problems.append(
            Problem(
                "",
                "claims",
                f"One patient has more than {MAX_CLAIMS_PER_HL} claims in the batch; split it.",
            )
        )
    return problems
