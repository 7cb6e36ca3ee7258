"""Program -> FHIR R4 ``HealthcareService``.

Load: ``Program.objects.select_related("organization", "site")``.

Level of care (ASAM, e.g. ``2.1``) is ``type`` in the local CodeSystem
``urn:openiop:level-of-care``; modality, population and cohort are ``characteristic`` codings;
the age range is ``eligibility``.
"""

from __future__ import annotations

from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, meta, ref

LEVEL_OF_CARE = "urn:openiop:level-of-care"
MODALITY = "urn:openiop:modality"
POPULATION = "urn:openiop:population"
COHORT = "urn:openiop:cohort"
ELIGIBILITY = "urn:openiop:eligibility"
LEVEL_LABELS = {
    "1": "ASAM Level 1 outpatient",
    "2.1": "ASAM Level 2.1 intensive outpatient",
    "2.5": "ASAM Level 2.5 partial hospitalization",
}


def age_range_text(program: Any) -> str:
    if program.max_age is not None:
        return f"Ages {program.min_age} to {program.max_age}"
    return f"Ages {program.min_age} and older"


def to_fhir(program: Any, *, ctx: MapContext) -> dict[str, Any]:  # noqa: ARG001
    pid = str(program.public_id)
    level = program.level_of_care
    return {
        "resourceType": "HealthcareService",
        "id": pid,
        "meta": meta(program),
        "identifier": [{"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{pid}"}],
        "active": bool(program.is_active),
        "providedBy": ref(
            "Organization", program.organization.public_id, program.organization.name
        ),
        "category": [{"text": "Intensive outpatient program"}],
        "type": [
            {
                "coding": [
                    {
                        "system": LEVEL_OF_CARE,
                        "code": level,
                        "display": LEVEL_LABELS.get(level, f"ASAM Level {level}"),
                    }
                ]
            }
        ],
        "location": [ref("Location", program.site.public_id, program.site.name)],
        "name": program.name,
        "characteristic": [
            {
                "coding": [
                    {
                        "system": MODALITY,
                        "code": program.modality,
                        "display": program.get_modality_display(),
                    }
                ]
            },
            {
                "coding": [
                    {
                        "system": POPULATION,
                        "code": program.population,
                        "display": program.get_population_display(),
                    }
                ]
            },
            {
                "coding": [
                    {
                        "system": COHORT,
                        "code": program.cohort,
                        "display": program.get_cohort_display(),
                    }
                ]
            },
        ],
        "eligibility": [
            {
                "code": {
                    "coding": [
                        {
                            "system": ELIGIBILITY,
                            "code": "age",
                            "display": "Age range",
                        }
                    ],
                    "text": age_range_text(program),
                },
                "comment": age_range_text(program),
            }
        ],
        "appointmentRequired": True,
    }
