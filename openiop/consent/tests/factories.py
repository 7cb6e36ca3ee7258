"""Consent test helpers: a valid consent in one call, overridable field by field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openiop.consent import services
from openiop.consent.models import Consent

SIGNED = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)
PROBATION = {"recipient_name": "Officer Dana Reyes", "recipient_organization": "County Probation"}


def make_consent(patient: Any, actor: Any = None, **kw: Any) -> Consent:
    args: dict[str, Any] = dict(
        actor=actor,
        patient=patient,
        kind=Consent.Kind.TPO,
        disclosing_party="Riverbend Recovery IOP",
        purpose=Consent.Purpose.TREATMENT,
        categories=["demographics", "attendance", "diagnoses", "treatment_plan"],
        signed_by_name="Dana Whitfield",
        signed_at=SIGNED,
        expiry_event="End of treatment",
    )
    args.update(kw)
    return services.consent_record(**args)


def make_named(patient: Any, actor: Any = None, **kw: Any) -> Consent:
    args: dict[str, Any] = dict(
        kind=Consent.Kind.NAMED,
        purpose=Consent.Purpose.CRIMINAL_JUSTICE,
        categories=["attendance", "drug_screens"],
        expires_on=dt.date(2027, 5, 1),
        expiry_event="",
        **PROBATION,
    )
    args.update(kw)
    return make_consent(patient, actor, **args)
