"""FHIR Bulk Data export (HL7 Bulk Data Access STU3): the job's life outside the web request.

The kick-off (``openiop.fhir.views_bulk``) checks the request and the client's scopes, creates a
``BulkExport`` row (``queued``) and calls :func:`start_background`, which starts
``openiop fhir export-run <job>`` as a detached child process (the interim runner of
docs/adr/0009; swap this one function for ``task.enqueue`` when django-tasks arrives).

:func:`export_run` is the runner's body. It takes the job atomically (``queued -> running``: two
runners never export the same job), rebuilds the client's :class:`~openiop.fhir.access.Principal`
(a token revoked since the kick-off stops the job), and writes one ``<Type>.ndjson`` per type
under ``settings.OPENIOP_FHIR_EXPORT_DIR / <job>``, reading rows in primary-key order in batches
of :data:`BATCH` through the same ``Spec`` querysets and Principal narrowing (caseload, patient
token, Part 2 consent) as a search. Every batch writes the audit trail (and for an outside client
one disclosure per patient), then the progress; a cancelled job stops at the next batch and its
files are removed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from openiop.fhir.models import BulkExport

BATCH = 1000
NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = frozenset({"application/fhir+ndjson", "application/ndjson", "ndjson"})


class ExportError(Exception):
    """The job cannot run (its client is gone, a type is no longer readable)."""


class Cancelled(Exception):
    pass


def exportable_types() -> tuple[str, ...]:
    """Patient and every patient-linked type of ``$everything``, in export order."""
    from openiop.fhir.views import EVERYTHING_TYPES

    return ("Patient", *EVERYTHING_TYPES)


def job_dir(job: BulkExport) -> Path:
    return Path(settings.OPENIOP_FHIR_EXPORT_DIR) / str(job.public_id)


def file_path(job: BulkExport, resource_type: str) -> Path:
    return job_dir(job) / f"{resource_type}.ndjson"


def base_of(job: BulkExport) -> str:
    """The FHIR base URL the client used at kick-off (``.../fhir/r4``)."""
    head, sep, _ = job.request_url.partition("/fhir/r4")
    return head + sep if sep else job.request_url.rstrip("/")


def delete_files(job: BulkExport) -> None:
    shutil.rmtree(job_dir(job), ignore_errors=True)


# --- starting the runner -----------------------------------------------------------------------


def start_background(job: BulkExport) -> None:
    """Run ``openiop fhir export-run <job>`` detached from this process; its output goes to
    ``var/logs/fhir-export-<job>.log``. Tests replace this function (``bulk.start_background``)
    and call :func:`export_run` themselves."""
    logs = settings.VAR_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"fhir-export-{job.public_id}.log", "ab") as log:
        subprocess.Popen(  # noqa: S603 (fixed argv, our own interpreter)
            [sys.executable, "-m", "openiop.cli", "fhir", "export-run", str(job.public_id)],
            start_new_session=True,
            env=os.environ.copy(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


# --- the runner ----------------------------------------------------------------------------------


def export_run(job_id: str) -> BulkExport:
    """The background runner's body: export a queued job (a job already taken is left alone)."""
    now = timezone.now()
    taken = BulkExport.objects.filter(public_id=job_id, status=BulkExport.Status.QUEUED).update(
        status=BulkExport.Status.RUNNING, progress=0, transaction_time=now, updated_at=now
    )
    job = BulkExport.objects.select_related(
        "client__user", "client__organization", "client__patient", "group_program"
    ).get(public_id=job_id)
    if not taken:
        return job
    try:
        output = _run(job)
    except Cancelled:
        delete_files(job)
    except Exception as exc:  # noqa: BLE001 (the job row is where a failure is reported)
        delete_files(job)
        BulkExport.objects.filter(pk=job.pk, status=BulkExport.Status.RUNNING).update(
            status=BulkExport.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    else:
        done = BulkExport.objects.filter(pk=job.pk, status=BulkExport.Status.RUNNING).update(
            status=BulkExport.Status.DONE,
            progress=100,
            output=output,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if not done:  # cancelled after the last batch
            delete_files(job)
    job.refresh_from_db()
    return job


def principal_for(job: BulkExport) -> Any:
    from openiop.fhir import scopes as smart
    from openiop.fhir.access import Principal

    client = job.client
    if client.revoked_at is not None or not client.user.is_active:
        raise ExportError("the client's token was revoked after the kick-off")
    return Principal(client=client, scopes=smart.parse(client.scopes))


def cohort_ids(job: BulkExport) -> list[int] | None:
    """The Group's members at transaction time (None for ``Patient/$export``)."""
    if job.group_program is None:
        return None
    from openiop.fhir.views import cohort

    return [p.pk for p in cohort(job.group_program)]


def rows_for(
    job: BulkExport, principal: Any, resource_type: str, members: list[int] | None
) -> QuerySet[Any]:
    """Every row of one type the export covers: narrowed for the client, to the Group's
    ``members`` (None: no Group), changed since ``_since``."""
    from openiop.fhir import registry
    from openiop.fhir.access import FhirDenied

    spec = registry.get(resource_type)
    if spec is None or spec.patient_path is None:
        raise ExportError(f"{resource_type} is not an exportable type")
    try:
        principal.require(spec.type, "r", spec.perm)
    except FhirDenied as exc:
        raise ExportError(f"{resource_type}: {exc}") from None
    qs = principal.narrow(spec, spec.queryset(principal.organization_id))
    if members is not None:
        path = "pk" if spec.patient_path == "pk" else f"{spec.patient_path}_id"
        qs = qs.filter(**{f"{path}__in": members})
    if job.since is not None:
        qs = qs.filter(**{f"{spec.updated_field}__gte": job.since})
    if spec.type == "Appointment":
        qs = qs.distinct()  # a session with two of the client's patients is one row
    return qs


def _run(job: BulkExport) -> list[dict[str, Any]]:
    from openiop.fhir import registry
    from openiop.fhir.mappers.common import MapContext
    from openiop.fhir.views import env_for, patients_of

    principal = principal_for(job)
    base = base_of(job)
    ctx = MapContext(base=base)
    env = env_for(principal)
    members = cohort_ids(job)  # once: every file sees the same Group
    querysets = {t: rows_for(job, principal, t, members) for t in job.types}
    total = sum(qs.count() for qs in querysets.values()) or 1
    written = 0
    folder = job_dir(job)
    folder.mkdir(parents=True, exist_ok=True)
    output = []
    for resource_type, qs in querysets.items():
        spec = registry.get(resource_type)
        assert spec is not None
        path = file_path(job, resource_type)
        count = 0
        last = None
        with open(path, "w", encoding="utf-8") as out:
            while True:
                page = qs.order_by("pk")
                if last is not None:
                    page = page.filter(pk__gt=last)
                rows = list(page[:BATCH])
                if not rows:
                    break
                last = rows[-1].pk
                resources = spec.render(rows, ctx, env)
                out.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in resources))
                patients = patients_of(spec, rows, env)
                if spec.type == "Appointment":  # only the bookings the client was shown
                    patients = principal.allowed_members(patients)
                principal.record_access(
                    action=f"openiop.fhir.{spec.type.lower()}.export",
                    patients=patients,
                    resource_type=spec.type,
                    categories={spec.category or "attendance"},
                    detail={"export": str(job.public_id), "count": len(resources)},
                )
                count += len(resources)
                written += len(rows)
                _progress(job, min(99, written * 100 // total))
        if count:
            output.append(
                {
                    "type": resource_type,
                    "url": f"{base}/$export-file/{job.public_id}/{resource_type}.ndjson",
                    "count": count,
                }
            )
        else:
            path.unlink(missing_ok=True)
    return output


def _progress(job: BulkExport, percent: int) -> None:
    """Write the progress; a job cancelled meanwhile stops here."""
    updated = BulkExport.objects.filter(pk=job.pk, status=BulkExport.Status.RUNNING).update(
        progress=percent, updated_at=timezone.now()
    )
    if not updated:
        raise Cancelled


# --- the kick-off's parameters -------------------------------------------------------------------


def parse_since(value: str) -> dt.datetime:
    """A FHIR instant (``2026-11-01T00:00:00Z``); a time zone is required."""
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"_since must be a FHIR instant, not {value!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"_since {value!r}: an instant needs a time zone (Z or +hh:mm)")
    return moment


def manifest(job: BulkExport) -> dict[str, Any]:
    from openiop.fhir.mappers.common import instant

    return {
        "transactionTime": instant(job.transaction_time),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [{"type": o["type"], "url": o["url"], "count": o["count"]} for o in job.output],
        "error": [],
    }


# --- the management command ----------------------------------------------------------------------


def export_run_command(command: Any, options: dict[str, Any]) -> None:
    """``openiop fhir export-run <job>``: run one queued export job in this process."""
    from django.core.exceptions import ValidationError
    from django.core.management.base import CommandError

    try:
        exists = BulkExport.objects.filter(public_id=options["job"]).exists()
    except (ValueError, ValidationError):
        exists = False
    if not exists:
        raise CommandError(f"no export job {options['job']}")
    job = export_run(options["job"])
    if job.status == BulkExport.Status.FAILED:
        raise CommandError(f"export {job.public_id} failed: {job.error}")
    total = sum(o["count"] for o in job.output)
    command.stdout.write(f"export {job.public_id}: {job.status}, {total} resources")
