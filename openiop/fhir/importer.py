"""Bulk import of Patient ndjson as another EHR exports it (``openiop fhir import FILE.ndjson``).

One resource per line (Bulk Data / Synthea style). Each ``Patient`` line goes through the same
rules as ``POST /fhir/r4/Patient`` (``openiop.fhir.create.patient_import``): structurally valid
R4B, matched to an existing patient by identifier (no duplicate), else created with
``patient_create`` (audited, actor = the system, as other commands). Lines of other resource
types are skipped and counted per type. References are resolved by identifier, never by the
other system's ids: a patient is found by its identifiers, and the summary maps the exporter's
``Patient/<id>`` to ours so a follow-up import of other resources can be joined. References from
the Patient to Organization / Practitioner (``managingOrganization``, ``generalPractitioner``,
Synthea's conditional ``Organization?identifier=...``) are not resolved: the patient joins
``--org`` and our Patient model has no general practitioner.

Each line is its own transaction (a refused line changes nothing; the others still import).
``dry_run`` runs everything inside one transaction rolled back at the end, so a duplicate later
in the same file is still reported as matched.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction

PROGRESS_EVERY = 100


@dataclass
class LineResult:
    line: int
    outcome: str  # created / matched / refused / skipped
    reason: str = ""
    source_id: str = ""
    patient_id: str = ""

    def __str__(self) -> str:
        head = f"line {self.line}: {self.outcome}"
        if self.source_id or self.patient_id:
            head += f" Patient/{self.source_id or '?'} -> Patient/{self.patient_id or '-'}"
        return f"{head}" + (f" ({self.reason})" if self.reason else "")


@dataclass
class Summary:
    created: int = 0
    matched: int = 0
    refused: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    lines: list[LineResult] = field(default_factory=list)
    dry_run: bool = False

    @property
    def id_map(self) -> dict[str, str]:
        """The exporter's patient ids -> ours (created or matched lines)."""
        return {r.source_id: r.patient_id for r in self.lines if r.source_id and r.patient_id}

    def __str__(self) -> str:
        skipped = sum(self.skipped.values())
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.skipped.items()))
        text = (
            f"{self.created} created, {self.matched} matched, {self.refused} refused, "
            f"{skipped} skipped" + (f" ({kinds})" if kinds else "")
        )
        return text + (" — dry run, nothing saved" if self.dry_run else "")


def resolve_organization(slug: str | None) -> Any:
    """``--org SLUG``, or the only organization when there is one. Raises ``ValueError``."""
    from openiop.organizations.models import Organization

    if slug:
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            raise ValueError(f"no organization with slug {slug!r}")
        return org
    orgs = list(Organization.objects.all()[:2])
    if len(orgs) != 1:
        raise ValueError("several organizations: name one with --org SLUG")
    return orgs[0]


class _DryRun(Exception):
    pass


def run_import(
    path: str | Path, organization: Any, dry_run: bool, stdout: IO[str] | Any
) -> Summary:
    summary = Summary(dry_run=dry_run)
    try:
        with transaction.atomic():
            _run(Path(path), organization, summary, stdout)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    stdout.write(f"{summary}\n")
    return summary


def _write(stdout: Any, text: str) -> None:
    stdout.write(text if text.endswith("\n") else text + "\n")


def _run(path: Path, organization: Any, summary: Summary, stdout: Any) -> None:
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            result = _one(number, raw, organization, summary)
            summary.lines.append(result)
            if result.outcome != "skipped":
                setattr(summary, result.outcome, getattr(summary, result.outcome) + 1)
                _write(stdout, str(result))
            if number % PROGRESS_EVERY == 0:
                _write(stdout, f"... {number} lines read: {summary}")


def _one(number: int, raw: str, organization: Any, summary: Summary) -> LineResult:
    from openiop.fhir.create import CreateError, parse_body, patient_import

    try:
        resource = json.loads(raw)
    except ValueError as exc:
        return LineResult(number, "refused", f"not JSON: {exc}")
    if not isinstance(resource, dict):
        return LineResult(number, "refused", "not a JSON object")
    kind = resource.get("resourceType")
    if kind != "Patient":
        summary.skipped[str(kind or "(no resourceType)")] += 1
        return LineResult(number, "skipped", str(kind))
    source_id = str(resource.get("id") or "")
    try:
        with transaction.atomic():
            parse_body(raw, "Patient")
            result = patient_import(organization=organization, resource=resource, actor=None)
    except CreateError as exc:
        where = f" at {exc.expression}" if exc.expression else ""
        return LineResult(number, "refused", f"{exc.message}{where}", source_id)
    except ValidationError as exc:
        return LineResult(number, "refused", "; ".join(exc.messages), source_id)
    patient = result.patient
    outcome = "created" if result.created else "matched"
    reason = f"MRN {patient.mrn}" + (" (drawn: no foreign identifier kept)" if result.created
                                     and not _kept(resource, patient.mrn) else "")  # fmt: skip
    return LineResult(number, outcome, reason, source_id, str(patient.public_id))


def _kept(resource: dict[str, Any], mrn: str) -> bool:
    return any(i.get("value") == mrn for i in resource.get("identifier") or [])


def import_command(command: Any, options: dict[str, Any]) -> None:
    """The ``openiop fhir import FILE [--org SLUG] [--dry-run]`` handler (``fhir.py`` dispatcher):
    refused lines do not fail the command; a missing file or unknown organization does."""
    from django.core.management.base import CommandError

    path = Path(options["file"])
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    try:
        organization = resolve_organization(options.get("org"))
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    run_import(path, organization, bool(options.get("dry_run")), command.stdout)
