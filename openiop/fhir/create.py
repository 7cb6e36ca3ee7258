"""FHIR create: QuestionnaireResponse (scored into an Observation), Patient and Coverage
(imports matched by identifier)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from openiop.fhir.access import Principal


def create(request: HttpRequest, principal: Principal, resource_type: str) -> HttpResponse:
    from openiop.fhir.views import outcome

    return outcome(405, "not-supported", f"create is not supported for {resource_type}.")
