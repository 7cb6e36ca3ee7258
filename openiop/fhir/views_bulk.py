"""Bulk Data ``$export`` endpoints (HL7 Bulk Data Access STU3; the job runs in ``bulk``).

* kick-off ``GET Group/<program>/$export`` (the program's current cohort) and
  ``GET Patient/$export`` (every patient the client may see): ``Prefer: respond-async`` is
  required; ``_type``, ``_since``, ``_outputFormat``. 202 + ``Content-Location`` of the status.
* ``GET $export-status/<job>``: 202 (``X-Progress``, ``Retry-After``) until done, then the
  manifest; 500 OperationOutcome if the job failed. ``DELETE`` cancels it and removes its files.
* ``GET $export-file/<job>/<Type>.ndjson``: one output file, streamed.

Only the client that kicked a job off may poll it or download its files: anyone else gets 404.
Patient tokens may export their own record with ``Patient/$export``; a cohort (``Group``) is
other patients' data, so ``Group/$export`` with a patient token is 403.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse

from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.fhir import bulk, registry
from openiop.fhir.access import FhirDenied, Principal
from openiop.fhir.models import BulkExport, FhirClient
from openiop.fhir.registry import SearchError
from openiop.fhir.views import context, fhir_endpoint, fhir_json, outcome

KICKOFF_PARAMS = frozenset({"_type", "_since", "_outputFormat"})
RETRY_AFTER_SECONDS = 2
ACCEPTED = ("application/fhir+json", "application/json", "*/*")


@fhir_endpoint
def export_group(request: HttpRequest, principal: Principal, rid: str) -> HttpResponse:
    from openiop.organizations.models import Program

    if request.method != "GET":
        return outcome(405, "not-supported", "$export answers GET only.")
    group = registry.get("Group")
    assert group is not None
    principal.require("Group", "r", group.perm)
    if principal.context == FhirClient.Kind.PATIENT:
        raise FhirDenied("a patient token cannot export a Group (use Patient/$export)")
    try:
        program = Program.objects.for_org(principal.organization_id).filter(public_id=rid).first()
    except (ValueError, ValidationError):
        program = None
    if program is None:
        raise Http404
    return _kickoff(request, principal, program)


@fhir_endpoint
def export_patients(request: HttpRequest, principal: Principal) -> HttpResponse:
    if request.method != "GET":
        return outcome(405, "not-supported", "$export answers GET only.")
    return _kickoff(request, principal, None)


def _kickoff(request: HttpRequest, principal: Principal, program: Any) -> HttpResponse:
    if "respond-async" not in request.headers.get("Prefer", ""):
        return outcome(400, "invalid", "$export runs asynchronously: send Prefer: respond-async")
    accept = request.headers.get("Accept", "")
    if accept and not any(
        a in accept for a in ("application/fhir+json", "application/json", "*/*")
    ):
        return outcome(400, "invalid", "$export answers application/fhir+json only (Accept)")
    unknown = sorted(k for k in request.GET if k not in KICKOFF_PARAMS)
    if unknown:
        raise SearchError(
            f"unsupported $export parameter(s): {', '.join(unknown)}; "
            f"supported: {', '.join(sorted(KICKOFF_PARAMS))}"
        )
    fmt = request.GET.get("_outputFormat")
    if fmt is not None and fmt not in bulk.OUTPUT_FORMATS:
        raise SearchError(f"_outputFormat: only {bulk.NDJSON} is offered, not {fmt!r}")
    supported = bulk.exportable_types()
    if request.GET.get("_type"):
        asked = [t.strip() for t in request.GET["_type"].split(",") if t.strip()]
        bad = sorted(set(asked) - set(supported))
        if bad:
            raise SearchError(
                f"_type: not exportable: {', '.join(bad)}; exportable: {', '.join(supported)}"
            )
        types = [t for t in supported if t in asked]
    else:
        types = list(supported)
    for resource_type in types:  # refuse, never drop a type silently
        spec = registry.get(resource_type)
        assert spec is not None
        try:
            principal.require(resource_type, "r", spec.perm)
        except FhirDenied as exc:
            raise FhirDenied(
                f"{resource_type}: {exc}; name the types you may read in _type"
            ) from None
    since = None
    if request.GET.get("_since"):
        try:
            since = bulk.parse_since(request.GET["_since"])
        except ValueError as exc:
            raise SearchError(str(exc)) from None
    client = principal.client
    job = BulkExport.objects.create(
        organization_id=client.organization_id,
        client=client,
        group_program=program,
        request_url=request.build_absolute_uri(),
        types=types,
        since=since,
        created_by=client.user,
    )
    audit_log(
        actor=client.user, action="openiop.fhir.export.kickoff",
        category=AuditEvent.Category.CLINICAL, obj=job, organization=client.organization,
        request=request, detail={
            "client": client.name, "types": types,
            "group": str(program.public_id) if program else None,
        },
    )  # fmt: skip
    bulk.start_background(job)
    response = _accepted("Export started; poll the Content-Location URL.")
    response["Content-Location"] = f"{context(request).base}/$export-status/{job.public_id}"
    return response


def _accepted(message: str) -> HttpResponse:
    issue = {"severity": "information", "code": "informational", "diagnostics": message}
    return fhir_json({"resourceType": "OperationOutcome", "issue": [issue]}, status=202)


def _job(principal: Principal, job_id: str) -> BulkExport:
    try:
        job = BulkExport.objects.filter(public_id=job_id, client=principal.client).first()
    except (ValueError, ValidationError):
        job = None
    if job is None or job.status == BulkExport.Status.CANCELLED:
        raise Http404
    return job


@fhir_endpoint
def export_status(request: HttpRequest, principal: Principal, job: str) -> HttpResponse:
    export = _job(principal, job)
    if request.method == "DELETE":
        BulkExport.objects.filter(pk=export.pk).exclude(status=BulkExport.Status.CANCELLED).update(
            status=BulkExport.Status.CANCELLED
        )
        bulk.delete_files(export)
        audit_log(
            actor=principal.user, action="openiop.fhir.export.cancel",
            category=AuditEvent.Category.CLINICAL, obj=export,
            organization=principal.client.organization, request=request,
            detail={"client": principal.client.name},
        )  # fmt: skip
        return _accepted("Export cancelled; its files are deleted.")
    if request.method != "GET":
        return outcome(405, "not-supported", "the status answers GET and DELETE only.")
    if export.status in (BulkExport.Status.QUEUED, BulkExport.Status.RUNNING):
        response = HttpResponse(status=202)
        response["X-Progress"] = f"{export.progress}% ({export.get_status_display().lower()})"
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if export.status == BulkExport.Status.FAILED:
        return outcome(500, "exception", f"The export failed: {export.error}")
    response = fhir_json(bulk.manifest(export))
    response["Content-Type"] = "application/json"
    return response


@fhir_endpoint
def export_file(
    request: HttpRequest, principal: Principal, job: str, resource_type: str
) -> HttpResponse:
    if request.method != "GET":
        return outcome(405, "not-supported", "export files answer GET only.")
    export = _job(principal, job)
    if export.status != BulkExport.Status.DONE:
        raise Http404
    if resource_type not in {o["type"] for o in export.output}:
        raise Http404
    path = bulk.file_path(export, resource_type)
    if not path.is_file():
        raise Http404
    audit_log(
        actor=principal.user, action="openiop.fhir.export.download",
        category=AuditEvent.Category.CLINICAL, obj=export,
        organization=principal.client.organization, request=request,
        detail={"client": principal.client.name, "type": resource_type},
    )  # fmt: skip
    return FileResponse(open(path, "rb"), content_type=bulk.NDJSON)  # noqa: SIM115
