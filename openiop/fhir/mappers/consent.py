"""Part 2 Consent -> FHIR R4 ``Consent`` (ecosystem.md §2 mapping).

Load: ``Consent.objects.select_related("organization", "patient")``.

scope ``consentscope#patient-privacy``; category LOINC 59284-6 (plus 64292-6 "release of
information" for a consent to a named recipient); policyRule ActCode ``OPTIN`` and the 42 CFR
Part 2 policy; ``provision.period`` = signed day .. expiry date; one nested ``permit`` provision
with the recipient as actor (role v3-ParticipationType ``IRCP``, by display), action ``disclose``,
the purposes (TPO = TREAT + HPAYMT + HOPERAT) and the record categories as ``code``.
Status: active on ``today`` -> active; expired or revoked -> inactive; not yet in effect ->
proposed. ``today`` defaults to the current UTC date; pass the organization's local day and
``tz`` (for the signing day) from the caller. An expiry *event* has no FHIR element: the consent
stays active until the event is recorded, then turns inactive.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, fhir_date, instant, meta, ref

CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
LOINC = "http://loinc.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CONSENT_ACTION = "http://terminology.hl7.org/CodeSystem/consentaction"
PURPOSE_SYSTEM = "urn:openiop:consent-purpose"
CATEGORY_SYSTEM = "urn:openiop:consent-category"
PART2_POLICY = "https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2"

STATUS = {
    "active": "active",
    "expired": "inactive",
    "revoked": "inactive",
    "not_yet_signed": "proposed",
}
PURPOSES: dict[str, list[tuple[str, str, str]]] = {
    "treatment": [(ACT_REASON, "TREAT", "treatment")],
    "payment": [(ACT_REASON, "HPAYMT", "healthcare payment")],
    "operations": [(ACT_REASON, "HOPERAT", "healthcare operations")],
    "patient_request": [(ACT_REASON, "PATRQT", "patient requested")],
}
TPO = PURPOSES["treatment"] + PURPOSES["payment"] + PURPOSES["operations"]


def fhir_status(consent: Any, *, today: dt.date, tz: dt.tzinfo = dt.UTC) -> str:
    return STATUS[consent.status_on(today, tz)]


def _purposes(consent: Any) -> list[dict[str, str]]:
    if consent.kind == "tpo":
        codes = TPO
    else:
        codes = PURPOSES.get(
            consent.purpose,
            [(PURPOSE_SYSTEM, consent.purpose, consent.get_purpose_display())],
        )
    return [{"system": s, "code": c, "display": d} for s, c, d in codes]


def to_fhir(
    consent: Any,
    *,
    ctx: MapContext,  # noqa: ARG001
    today: dt.date | None = None,
    tz: dt.tzinfo = dt.UTC,
) -> dict[str, Any]:
    cid = str(consent.public_id)
    today = today or timezone.localdate(timezone=tz)
    categories = [{"coding": [{"system": LOINC, "code": "59284-6", "display": "Consent Document"}]}]
    if consent.kind == "named":
        categories.append(
            {
                "coding": [
                    {
                        "system": LOINC,
                        "code": "64292-6",
                        "display": "Release of information consent",
                    }
                ]
            }
        )
    signed_on = timezone.localdate(consent.signed_at, timezone=tz)
    period: dict[str, str] = {"start": fhir_date(signed_on)}
    if consent.expires_on:
        period["end"] = fhir_date(max(consent.expires_on, signed_on))
    patient_ref = ref("Patient", consent.patient.public_id)
    performer = (
        dict(patient_ref, display=consent.signed_by_name)
        if consent.signer_role == "patient"
        else {"display": consent.signed_by_name}
    )
    permit: dict[str, Any] = {
        "type": "permit",
        "actor": [
            {
                "role": {
                    "coding": [
                        {
                            "system": PARTICIPATION,
                            "code": "IRCP",
                            "display": "information recipient",
                        }
                    ]
                },
                "reference": {"display": consent.recipient_label},
            }
        ],
        "action": [
            {"coding": [{"system": CONSENT_ACTION, "code": "disclose", "display": "Disclose"}]}
        ],
        "purpose": _purposes(consent),
        "securityLabel": [{"system": ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"}],
    }
    if consent.categories:
        permit["code"] = [
            {
                "coding": [
                    {"system": CATEGORY_SYSTEM, "code": code, "display": label}
                    for code, label in zip(consent.categories, consent.category_labels, strict=True)
                ]
            }
        ]
    return {
        "resourceType": "Consent",
        "id": cid,
        "meta": meta(consent),
        "identifier": [{"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{cid}"}],
        "status": fhir_status(consent, today=today, tz=tz),
        "scope": {
            "coding": [
                {"system": CONSENT_SCOPE, "code": "patient-privacy", "display": "Privacy Consent"}
            ]
        },
        "category": categories,
        "patient": patient_ref,
        "dateTime": instant(consent.signed_at),
        "performer": [performer],
        "organization": [
            ref("Organization", consent.organization.public_id, consent.disclosing_party)
        ],
        "policy": [{"authority": "https://www.ecfr.gov", "uri": PART2_POLICY}],
        "policyRule": {"coding": [{"system": ACT_CODE, "code": "OPTIN", "display": "opt-in"}]},
        "provision": {"period": period, "provision": [permit]},
    }
