"""Write ANSI X12 5010 837 claim files: 837P (005010X222A1) and 837I (005010X223A2).

One file = one interchange (ISA/IEA) holding one functional group (GS/GE) holding one
transaction set (ST/SE). Inside it the claims are grouped into the 837 hierarchy:

    HL 20  billing provider (2000A/2010AA), one per distinct BillingProvider
      HL 22  subscriber + payer (2000B/2010BA/2010BB)
        2300 claims when the patient is the subscriber, or
        HL 23  patient (2000C/2010CA) with that patient's claims, for dependents

HL numbers run 1, 2, 3... in the order the claims arrive; each HL02 names its parent. Delimiters:
``*`` element, ``~`` segment, ``:`` component, ``^`` repetition (ISA11). Control numbers come
from the caller (who keeps the counter): ISA13/IEA02 are nine digits zero-padded, GS06/GE02 as
given, ST02/SE02 at least four digits.

Nothing is written unless ``validate_batch`` finds no problem: the writers raise
``ClaimExportError`` carrying the problems instead.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from decimal import Decimal
from typing import TypeVar

from openiop.billing.x12.model import (
    VERSION_837I,
    VERSION_837P,
    Address,
    Claim,
    ClaimBatch,
    ClaimKind,
    ControlNumbers,
    Practitioner,
)
from openiop.billing.x12.validate import (
    ClaimExportError,
    digits,
    fold_text,
    icd10_code,
    validate_batch,
)

ELEMENT = "*"
SEGMENT = "~"
COMPONENT = ":"
REPETITION = "^"

K = TypeVar("K", bound=Hashable)


def build_837p(batch: ClaimBatch, control_numbers: ControlNumbers, *, newline: bool = False) -> str:
    """The batch as an 837P (professional) file. ``newline=True`` puts each segment on its own
    line (easier to read; most receivers accept it, some do not)."""
    return _build(batch, control_numbers, "837P", newline)


def build_837i(batch: ClaimBatch, control_numbers: ControlNumbers, *, newline: bool = False) -> str:
    """The batch as an 837I (institutional) file; every claim needs ``institutional`` data."""
    return _build(batch, control_numbers, "837I", newline)


def build_837(
    batch: ClaimBatch, control_numbers: ControlNumbers, kind: ClaimKind, *, newline: bool = False
) -> str:
    return _build(batch, control_numbers, kind, newline)


# -- formatting ------------------------------------------------------------------------------


def _amount(value: Decimal) -> str:
    """X12 R type: no exponent, no trailing zeros after the point (150.00 -> 150, 7.50 -> 7.5)."""
    text = f"{value.quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _quantity(value: Decimal) -> str:
    text = f"{value.quantize(Decimal('0.001')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _composite(*parts: str) -> str:
    items = list(parts)
    while items and items[-1] == "":
        items.pop()
    return COMPONENT.join(items)


class _Segments:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, seg_id: str, *elements: str) -> None:
        values = list(elements)
        while values and values[-1] == "":
            values.pop()
        self.items.append(ELEMENT.join([seg_id, *values]))

    def address(self, address: Address) -> None:
        self.add("N3", fold_text(address.line1), fold_text(address.line2))
        self.add(
            "N4", fold_text(address.city), address.state.strip().upper(), digits(address.zip_code)
        )

    def person_nm1(self, entity: str, last: str, first: str, middle: str, npi: str = "") -> None:
        self.add(
            "NM1",
            entity,
            "1",
            fold_text(last),
            fold_text(first),
            fold_text(middle),
            "",
            "",
            "XX" if npi else "",
            npi.strip(),
        )

    def practitioner(self, entity: str, prv_code: str, person: Practitioner) -> None:
        self.person_nm1(entity, person.last_name, person.first_name, person.middle_name, person.npi)
        if person.taxonomy and prv_code:
            self.add("PRV", prv_code, "PXC", person.taxonomy.strip().upper())


def _group(items: Iterable[Claim], key: Callable[[Claim], K]) -> list[tuple[K, list[Claim]]]:
    """Group in first-seen order (so the file follows the caller's order)."""
    groups: dict[K, list[Claim]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return list(groups.items())


# -- the transaction -------------------------------------------------------------------------


def _build(batch: ClaimBatch, cn: ControlNumbers, kind: ClaimKind, newline: bool) -> str:
    problems = validate_batch(batch, kind, cn)
    if problems:
        raise ClaimExportError(problems)
    version = VERSION_837P if kind == "837P" else VERSION_837I
    when = batch.created_at
    st_control = f"{cn.transaction:04d}"

    seg = _Segments()
    seg.add("ST", "837", st_control, version)
    seg.add(
        "BHT",
        "0019",
        "00",
        batch.reference_id.strip() or f"{cn.interchange:09d}",
        f"{when:%Y%m%d}",
        f"{when:%H%M}",
        "CH",
    )
    sub = batch.submitter
    seg.add("NM1", "41", "2", fold_text(sub.name), "", "", "", "", "46", sub.id.strip())
    per = ["IC", fold_text(sub.contact_name), "TE", digits(sub.contact_phone)]
    if sub.contact_email.strip():
        per += ["EM", sub.contact_email.strip()]
    seg.add("PER", *per)
    rcv = batch.receiver
    seg.add("NM1", "40", "2", fold_text(rcv.name), "", "", "", "", "46", rcv.id.strip())

    hl = 0
    for bp, bp_claims in _group(batch.claims, lambda c: c.billing_provider):
        hl += 1
        bp_hl = hl
        seg.add("HL", str(bp_hl), "", "20", "1")
        if bp.taxonomy:
            seg.add("PRV", "BI", "PXC", bp.taxonomy.strip().upper())
        seg.add(
            "NM1", "85", "2", fold_text(bp.organization_name), "", "", "", "", "XX", bp.npi.strip()
        )
        seg.address(bp.address)
        seg.add("REF", "EI", digits(bp.tax_id))

        for (subscriber, payer, is_self), sub_claims in _group(
            bp_claims, lambda c: (c.subscriber, c.payer, c.patient is None)
        ):
            hl += 1
            sub_hl = hl
            seg.add("HL", str(sub_hl), str(bp_hl), "22", "0" if is_self else "1")
            seg.add(
                "SBR",
                "P",
                "18" if is_self else "",
                subscriber.group_number.strip(),
                "",
                "",
                "",
                "",
                "",
                payer.claim_filing_indicator,
            )
            seg.add(
                "NM1",
                "IL",
                "1",
                fold_text(subscriber.last_name),
                fold_text(subscriber.first_name),
                fold_text(subscriber.middle_name),
                "",
                "",
                "MI",
                subscriber.member_id.strip(),
            )
            # The guides: subscriber address and demographics only when the subscriber is the
            # patient ("if not required by this implementation guide, do not send").
            if is_self:
                assert subscriber.address is not None and subscriber.birth_date is not None
                seg.address(subscriber.address)
                seg.add("DMG", "D8", f"{subscriber.birth_date:%Y%m%d}", subscriber.sex)
            seg.add(
                "NM1",
                "PR",
                "2",
                fold_text(payer.name),
                "",
                "",
                "",
                "",
                "PI",
                payer.payer_id.strip(),
            )

            if is_self:
                for claim in sub_claims:
                    _claim(seg, kind, claim)
                continue
            for patient, pt_claims in _group(sub_claims, lambda c: c.patient):
                assert patient is not None
                hl += 1
                seg.add("HL", str(hl), str(sub_hl), "23", "0")
                seg.add("PAT", patient.relationship)
                seg.person_nm1("QC", patient.last_name, patient.first_name, patient.middle_name)
                seg.address(patient.address)
                seg.add("DMG", "D8", f"{patient.birth_date:%Y%m%d}", patient.sex)
                for claim in pt_claims:
                    _claim(seg, kind, claim)

    seg.add("SE", str(len(seg.items) + 1), st_control)
    body = seg.items

    sender = (sub.interchange_id or sub.id).strip()
    receiver = (rcv.interchange_id or rcv.id).strip()
    isa = ELEMENT.join(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            sub.interchange_qualifier,
            sender.ljust(15),
            rcv.interchange_qualifier,
            receiver.ljust(15),
            f"{when:%y%m%d}",
            f"{when:%H%M}",
            REPETITION,
            "00501",
            f"{cn.interchange:09d}",
            "1" if batch.acknowledgment_requested else "0",
            batch.usage_indicator,
            COMPONENT,
        ]
    )
    envelope = _Segments()
    envelope.add(
        "GS", "HC", sender, receiver, f"{when:%Y%m%d}", f"{when:%H%M}", str(cn.group), "X", version
    )
    segments = [isa, *envelope.items, *body]
    trailer = _Segments()
    trailer.add("GE", "1", str(cn.group))
    trailer.add("IEA", "1", f"{cn.interchange:09d}")
    segments += trailer.items
    terminator = SEGMENT + ("\n" if newline else "")
    return terminator.join(segments) + terminator


def _claim(seg: _Segments, kind: ClaimKind, claim: Claim) -> None:
    total = _amount(claim.line_total)
    diagnoses = [icd10_code(code) for code in claim.diagnosis_codes]
    inst = claim.institutional
    if kind == "837P":
        seg.add(
            "CLM",
            claim.claim_id.strip(),
            total,
            "",
            "",
            _composite(claim.place_of_service, "B", claim.frequency_code),
            "Y",  # provider signature on file
            "A",  # assignment accepted
            "Y",  # benefits assigned
            "Y",  # release of information: signed statement on file
        )
    else:
        assert inst is not None
        seg.add(
            "CLM",
            claim.claim_id.strip(),
            total,
            "",
            "",
            _composite(inst.facility_type_code, "A", claim.frequency_code),
            "",
            "A",
            "Y",
            "Y",
        )
        seg.add("DTP", "434", "RD8", f"{inst.statement_from:%Y%m%d}-{inst.statement_to:%Y%m%d}")
        if inst.admission_date is not None:
            seg.add("DTP", "435", "D8", f"{inst.admission_date:%Y%m%d}")
        seg.add(
            "CL1", inst.admission_type_code, inst.admission_source_code, inst.patient_status_code
        )

    if claim.prior_authorization.strip():
        seg.add("REF", "G1", claim.prior_authorization.strip())
    if claim.frequency_code in ("7", "8"):
        seg.add("REF", "F8", claim.original_claim_reference.strip())

    if kind == "837P":
        seg.add(
            "HI",
            _composite("ABK", diagnoses[0]),
            *(_composite("ABF", code) for code in diagnoses[1:12]),
        )
        if claim.rendering_provider is not None:
            seg.practitioner("82", "PE", claim.rendering_provider)
    else:
        assert inst is not None
        seg.add("HI", _composite("ABK", diagnoses[0]))
        reasons = [icd10_code(code) for code in inst.reason_for_visit_codes] or diagnoses[:1]
        seg.add("HI", *(_composite("APR", code) for code in reasons[:3]))
        others = diagnoses[1:]
        for start in range(0, len(others), 12):
            seg.add("HI", *(_composite("ABF", code) for code in others[start : start + 12]))
        values = list(inst.value_codes)
        for start in range(0, len(values), 12):
            seg.add(
                "HI",
                *(
                    _composite("BE", v.code, "", "", _amount(v.amount))
                    for v in values[start : start + 12]
                ),
            )
        conditions = list(inst.condition_codes)
        for start in range(0, len(conditions), 12):
            seg.add("HI", *(_composite("BG", code) for code in conditions[start : start + 12]))
        seg.practitioner("71", "AT", inst.attending_provider)
        if claim.rendering_provider is not None:
            seg.practitioner("82", "", claim.rendering_provider)

    for n, line in enumerate(claim.lines, start=1):
        seg.add("LX", str(n))
        procedure = _composite(
            "HC", line.procedure_code.strip().upper(), *(m.strip().upper() for m in line.modifiers)
        )
        if kind == "837P":
            pos = line.place_of_service if line.place_of_service != claim.place_of_service else ""
            seg.add(
                "SV1",
                procedure,
                _amount(line.charge),
                line.unit_basis,
                _quantity(line.units),
                pos,
                "",
                _composite(*(str(p) for p in line.diagnosis_pointers)),
            )
        else:
            seg.add(
                "SV2",
                line.revenue_code.strip(),
                procedure if line.procedure_code.strip() else "",
                _amount(line.charge),
                line.unit_basis,
                _quantity(line.units),
            )
        seg.add("DTP", "472", "D8", f"{line.service_date:%Y%m%d}")
        if line.line_id.strip():
            seg.add("REF", "6R", line.line_id.strip())
