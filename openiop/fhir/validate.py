"""Validate FHIR JSON twice: structurally with ``fhir.resources.R4B`` (pydantic) and strictly
with ``fhirclient``'s models generated from FHIR 4.0.1 (rejects unknown keys and bad formats).
Used by the tests, and by ``openiop fhir validate``."""

from __future__ import annotations

from typing import Any


class FhirInvalid(ValueError):
    pass


def validate_r4b(resource: dict[str, Any]) -> None:
    from fhir.resources.R4B import get_fhir_model_class

    try:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    except Exception as exc:  # pydantic's ValidationError, KeyError for a missing type
        raise FhirInvalid(f"R4B: {exc}") from exc


def validate_strict_r4(resource: dict[str, Any]) -> None:
    from fhirclient.models.fhirelementfactory import FHIRElementFactory

    try:
        FHIRElementFactory.instantiate(resource["resourceType"], resource)
    except Exception as exc:  # FHIRValidationError
        raise FhirInvalid(f"R4 (fhirclient): {exc}") from exc


def validate(resource: dict[str, Any]) -> None:
    validate_r4b(resource)
    validate_strict_r4(resource)
