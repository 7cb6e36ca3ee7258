"""Input records for the claim writers: plain frozen dataclasses, no ORM.

The integrator maps database rows onto these; the writers never reach back into the database.
Every claim carries everything it needs (billing provider, subscriber, payer, patient), and the
writer groups claims into the X12 hierarchy itself, so callers never build HL loops by hand.

Codes are the X12 codes, not our model's choices: sex ``F``/``M``/``U``; relationship to the
subscriber ``01`` spouse, ``19`` child, ``20`` employee, ``21`` unknown, ``53`` life partner, ``G8``
other; claim filing indicator ``CI`` commercial, ``MC`` Medicaid, ``MB`` Medicare Part B,
``MA`` Medicare Part A, ``BL`` Blue Cross/Blue Shield, ``HM`` HMO (see ``FILING_INDICATORS``).
Money is ``Decimal``; dates are ``datetime.date``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

ClaimKind = Literal["837P", "837I"]

VERSION_837P = "005010X222A1"
VERSION_837I = "005010X223A2"

# SBR09 claim filing indicator codes accepted by the 5010 837 guides.
FILING_INDICATORS: dict[str, str] = {
    "11": "Other non-federal programs",
    "12": "Preferred provider organization (PPO)",
    "13": "Point of service (POS)",
    "14": "Exclusive provider organization (EPO)",
    "15": "Indemnity insurance",
    "16": "Health maintenance organization (HMO) Medicare risk",
    "17": "Dental maintenance organization",
    "AM": "Automobile medical",
    "BL": "Blue Cross/Blue Shield",
    "CH": "CHAMPUS (TRICARE)",
    "CI": "Commercial insurance",
    "DS": "Disability",
    "FI": "Federal Employees Program",
    "HM": "Health maintenance organization",
    "LM": "Liability medical",
    "MA": "Medicare Part A",
    "MB": "Medicare Part B",
    "MC": "Medicaid",
    "OF": "Other federal program",
    "TV": "Title V",
    "VA": "Veterans Affairs plan",
    "WC": "Workers' compensation health claim",
    "ZZ": "Mutually defined",
}

# PAT01 individual relationship codes (patient to subscriber) when the patient is not the
# subscriber. "18" (self) is expressed by leaving Claim.patient empty.
RELATIONSHIPS: dict[str, str] = {
    "01": "Spouse",
    "19": "Child",
    "20": "Employee",
    "21": "Unknown",
    "39": "Organ donor",
    "40": "Cadaver donor",
    "53": "Life partner",
    "G8": "Other relationship",
}

SEXES = ("F", "M", "U")


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    state: str  # two-letter USPS code
    zip_code: str  # 5 or 9 digits (a hyphen is allowed); billing providers need all 9
    line2: str = ""


@dataclass(frozen=True)
class Submitter:
    """Loop 1000A: who sends the file (the clinic or its billing service)."""

    name: str
    id: str  # the submitter id the receiver assigned (ETIN); NM109
    contact_name: str
    contact_phone: str  # 10 digits; punctuation is dropped
    contact_email: str = ""
    # ISA06 sender id and its ISA05 qualifier; blank = use ``id`` with "ZZ".
    interchange_id: str = ""
    interchange_qualifier: str = "ZZ"


@dataclass(frozen=True)
class Receiver:
    """Loop 1000B: the clearinghouse or payer receiving the file."""

    name: str
    id: str  # NM109
    interchange_id: str = ""  # ISA08; blank = use ``id``
    interchange_qualifier: str = "ZZ"


@dataclass(frozen=True)
class BillingProvider:
    """Loop 2000A/2010AA: the organization that bills (always an organization here)."""

    organization_name: str
    npi: str
    tax_id: str  # EIN, 9 digits (a hyphen is allowed)
    address: Address
    taxonomy: str = ""  # e.g. 261QR0405X (clinic/center, substance use disorder rehabilitation)


@dataclass(frozen=True)
class Practitioner:
    """A person identified by NPI: rendering provider (837P 2310B, 837I 2310D) or attending
    provider (837I 2310A)."""

    last_name: str
    first_name: str
    npi: str
    taxonomy: str = ""
    middle_name: str = ""


@dataclass(frozen=True)
class Payer:
    """Loop 2010BB."""

    name: str
    payer_id: str  # the payer id the clearinghouse publishes
    claim_filing_indicator: str = "CI"  # SBR09, see FILING_INDICATORS


@dataclass(frozen=True)
class Subscriber:
    """Loop 2000B/2010BA: the insured person who holds the coverage. Address, birth date and sex
    are required when the subscriber is the patient, optional otherwise."""

    last_name: str
    first_name: str
    member_id: str
    birth_date: dt.date | None = None
    sex: str = "U"
    address: Address | None = None
    middle_name: str = ""
    group_number: str = ""


@dataclass(frozen=True)
class Patient:
    """Loop 2000C/2010CA: only when the patient is not the subscriber (a child on a parent's
    plan). ``relationship`` is the patient's relationship to the subscriber (RELATIONSHIPS)."""

    last_name: str
    first_name: str
    birth_date: dt.date
    sex: str
    address: Address
    relationship: str
    middle_name: str = ""


@dataclass(frozen=True)
class ServiceLine:
    """Loop 2400. ``procedure_code`` is HCPCS/CPT (required on 837P, optional next to a revenue
    code on 837I). ``diagnosis_pointers`` are 1-based positions in Claim.diagnosis_codes (837P
    only). ``place_of_service`` is written on the line only when it differs from the claim's.
    ``line_id`` becomes REF*6R (line item control number) so a remittance can find the line."""

    service_date: dt.date
    procedure_code: str
    charge: Decimal
    units: Decimal = Decimal(1)
    modifiers: tuple[str, ...] = ()
    place_of_service: str = ""
    revenue_code: str = ""
    diagnosis_pointers: tuple[int, ...] = (1,)
    line_id: str = ""
    unit_basis: str = "UN"  # UN units; MJ minutes (837P); DA days (837I)


@dataclass(frozen=True)
class ValueCode:
    code: str
    amount: Decimal


@dataclass(frozen=True)
class InstitutionalInfo:
    """What only an 837I carries. ``facility_type_code`` is the type of bill without its leading
    zero and frequency digit: type of bill 0131 (hospital outpatient, original) is facility type
    ``13`` with Claim.frequency_code ``1``; 076x is ``76`` (CMHC), 085x ``85`` (CAH)."""

    facility_type_code: str
    statement_from: dt.date
    statement_to: dt.date
    attending_provider: Practitioner
    patient_status_code: str = "30"  # CL103: 30 still a patient, 01 discharged home
    admission_date: dt.date | None = None
    admission_type_code: str = ""  # CL101, e.g. 3 elective
    admission_source_code: str = ""  # CL102 point of origin, e.g. 1 non-health-care point
    condition_codes: tuple[str, ...] = ()  # HI*BG, e.g. ("92",) for Medicare IOP
    value_codes: tuple[ValueCode, ...] = ()  # HI*BE
    # HI*APR patient's reason for visit (outpatient); empty = the principal diagnosis.
    reason_for_visit_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Claim:
    """Loop 2300 and what it hangs under. ``claim_id`` is the patient control number (CLM01, at
    most 20 characters) that the payer echoes back on the remittance. ``patient`` is None when
    the patient is the subscriber. ``frequency_code`` 1 original, 7 replacement, 8 void (837I also
    2-4 interim bills); 7 and 8 need ``original_claim_reference``, the payer's claim control
    number of the claim being replaced or voided. ``total_charge``, if given, must equal the sum
    of the line charges (the file always carries the sum)."""

    claim_id: str
    billing_provider: BillingProvider
    subscriber: Subscriber
    payer: Payer
    diagnosis_codes: tuple[str, ...]  # ICD-10-CM, principal first; dots are dropped
    lines: tuple[ServiceLine, ...]
    patient: Patient | None = None
    place_of_service: str = ""  # 837P CLM05-1, e.g. 57, 11, 02, 10
    frequency_code: str = "1"
    original_claim_reference: str = ""
    prior_authorization: str = ""
    rendering_provider: Practitioner | None = None
    institutional: InstitutionalInfo | None = None
    total_charge: Decimal | None = None

    @property
    def kind(self) -> ClaimKind:
        return "837P" if self.institutional is None else "837I"

    @property
    def type_of_bill(self) -> str:
        """UB-04 type of bill (e.g. 0131) for institutional claims, "" for professional ones."""
        if self.institutional is None:
            return ""
        return f"0{self.institutional.facility_type_code}{self.frequency_code}"

    @property
    def line_total(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal(0))


@dataclass(frozen=True)
class ControlNumbers:
    """Envelope control numbers. The caller keeps the counter (unique per sender and receiver)
    and passes fresh numbers for every file. ISA13 is written as 9 digits, zero-padded; GS06 as
    is; ST02 padded to at least 4 digits."""

    interchange: int
    group: int
    transaction: int = 1


@dataclass(frozen=True)
class ClaimBatch:
    """One file: one interchange, one functional group, one transaction set."""

    submitter: Submitter
    receiver: Receiver
    claims: tuple[Claim, ...]
    created_at: dt.datetime  # the sender's local time, written into ISA/GS/BHT
    usage_indicator: Literal["T", "P"] = "T"  # ISA15: T test, P production
    acknowledgment_requested: bool = False  # ISA14 (TA1)
    reference_id: str = ""  # BHT03; blank = the interchange control number
