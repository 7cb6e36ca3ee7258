"""ANSI X12 5010 837 claim files (837P professional, 837I institutional): pure, no Django.

    problems = validate_batch(batch, "837P")        # [] when the batch can be exported
    text = build_837p(batch, ControlNumbers(interchange=17, group=17))

See docs/claims-export.md for what the files contain and how to check them with pyx12.
"""

from openiop.billing.x12.model import (
    VERSION_837I,
    VERSION_837P,
    Address,
    BillingProvider,
    Claim,
    ClaimBatch,
    ClaimKind,
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
)
from openiop.billing.x12.validate import (
    ClaimExportError,
    Problem,
    npi_is_valid,
    validate_batch,
    validate_claim,
)
from openiop.billing.x12.writer import build_837, build_837i, build_837p

__all__ = [
    "VERSION_837I",
    "VERSION_837P",
    "Address",
    "BillingProvider",
    "Claim",
    "ClaimBatch",
    "ClaimExportError",
    "ClaimKind",
    "ControlNumbers",
    "InstitutionalInfo",
    "Patient",
    "Payer",
    "Practitioner",
    "Problem",
    "Receiver",
    "ServiceLine",
    "Submitter",
    "Subscriber",
    "ValueCode",
    "build_837",
    "build_837i",
    "build_837p",
    "npi_is_valid",
    "validate_batch",
    "validate_claim",
]
