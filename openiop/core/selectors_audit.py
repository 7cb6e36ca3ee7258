"""Reads of the audit trail for the compliance officer: the filtered report, its CSV export, the
"who looked at this patient" summary, and the chain check.

The trail is sensitive in its own right (it names patients and who treated them), so every read
here writes its own audit row, like any other read of patient data (security.md T3). The only
other write is the row recording a chain check's result: keeping the result in the hash-chained
log itself means nobody can quietly claim a check passed.

Performance: every query is scoped by ``organization_id`` and narrowed on indexed columns
(``occurred_at``, ``patient_id``, ``actor_id``, ``action``). Pages fetch ``page_size + 1`` rows
instead of counting (a COUNT over millions of rows is the slow part of a paginator), and the
offset is capped (``OPENIOP_AUDIT_REPORT_MAX_PAGE``): past that, the officer narrows the filter.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.utils import timezone

from openiop.core.audit import ChainReport, audit_log, audit_log_many, audit_verify, log_safe
from openiop.core.models import AuditEvent

ADMIN = AuditEvent.Category.ADMINISTRATIVE
ACTION_REPORT_VIEW = "openiop.audit.report.view"
ACTION_REPORT_EXPORT = "openiop.audit.report.export"
ACTION_PATIENT_SEARCH = "openiop.audit.patient.search"
ACTION_PATIENT_ACCESS = "openiop.audit.patient_access.view"
ACTION_CHAIN_VERIFY = "openiop.audit.chain.verify"

# Column key -> model fields, in the report's column order. Every column sorts (ONC (d)(3)).
SORT_FIELDS: dict[str, tuple[str, ...]] = {
    "time": ("occurred_at",),
    "user": ("actor_username",),
    "roles": ("actor_roles",),
    "action": ("action",),
    "category": ("category",),
    "patient": ("patient_id",),
    "object": ("object_type", "object_id"),
    "outcome": ("outcome",),
    "ip": ("source_ip",),
    "detail": ("detail",),
}
DEFAULT_SORT = "-time"


def page_size() -> int:
    return int(getattr(settings, "OPENIOP_AUDIT_REPORT_PAGE_SIZE", 50))


def max_page() -> int:
    return int(getattr(settings, "OPENIOP_AUDIT_REPORT_MAX_PAGE", 200))


def export_max_rows() -> int:
    return int(getattr(settings, "OPENIOP_AUDIT_EXPORT_MAX_ROWS", 100_000))


def org_tz(organization_id: int) -> dt.tzinfo:
    """The organization's main time zone (its first site's): the officer's "local" dates."""
    from openiop.organizations.models import Site

    site = Site.objects.for_org(organization_id).order_by("id").only("timezone").first()
    return site.tz if site is not None else dt.UTC


def local_day_bounds(
    start: dt.date | None, end: dt.date | None, tz: dt.tzinfo
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start 00:00 local, day after end 00:00 local) as aware datetimes (DST-safe)."""
    lower = dt.datetime.combine(start, dt.time.min, tzinfo=tz) if start else None
    upper = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz) if end else None
    return lower, upper


@dataclass
class ReportFilters:
    patient: Any = None  # a Patient of the officer's organization, or None
    user: Any = None  # a User of the officer's organization, or None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    action: str = ""
    category: str = ""
    outcome: str = ""
    sort: str = DEFAULT_SORT

    def as_detail(self) -> dict[str, str]:
        """The filters as written to the report's own audit row (ids, never names)."""
        out = {
            "patient": str(self.patient.public_id) if self.patient is not None else "",
            "user": self.user.get_username() if self.user is not None else "",
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "action": self.action,
            "category": self.category,
            "outcome": self.outcome,
            "sort": self.sort,
        }
        return {k: v for k, v in out.items() if v}


def _ordering(sort: str) -> list[str]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    fields = SORT_FIELDS.get(key, SORT_FIELDS["time"])
    prefix = "-" if descending else ""
    # id breaks ties, so equal values keep a stable order across pages.
    return [prefix + f for f in fields] + [prefix + "id"]


def event_queryset(
    *, organization_id: int, filters: ReportFilters, tz: dt.tzinfo
) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.filter(organization_id=organization_id)
    if filters.patient is not None:
        qs = qs.filter(patient_id=str(filters.patient.public_id))
    if filters.user is not None:
        qs = qs.filter(actor_id=filters.user.pk)
    lower, upper = local_day_bounds(filters.date_from, filters.date_to, tz)
    if lower is not None:
        qs = qs.filter(occurred_at__gte=lower)
    if upper is not None:
        qs = qs.filter(occurred_at__lt=upper)
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.outcome:
        qs = qs.filter(outcome=filters.outcome)
    return qs.order_by(*_ordering(filters.sort))


# --- the report page ----------------------------------------------------------------------------


@dataclass
class ReportRow:
    event: AuditEvent
    local_time: dt.datetime
    actor: Any  # the User (None once the account is deleted; the username stays on the row)
    patient: Any  # Patient or None (a list row, or no patient)
    listed_patients: int  # how many patients a list/search row names in detail["patients"]

    @property
    def detail_text(self) -> str:
        return detail_json(self.event.detail)

    @property
    def detail_short(self) -> str:
        text = self.detail_text
        return text if len(text) <= 160 else text[:157] + "..."


@dataclass
class ReportPage:
    rows: list[ReportRow]
    number: int
    has_next: bool
    capped: bool  # the next page would pass OPENIOP_AUDIT_REPORT_MAX_PAGE

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def detail_json(detail: Any) -> str:
    return json.dumps(detail, sort_keys=True, separators=(", ", ": "), default=str)


def _uuid_strings(values: Iterable[str]) -> set[str]:
    out = set()
    for value in values:
        try:
            out.add(str(uuid.UUID(value)))
        except (ValueError, TypeError, AttributeError):
            continue
    return out


def patients_by_public_id(organization_id: int, ids: Iterable[str]) -> dict[str, Any]:
    """One query: {public id string: Patient} for the ids that are this organization's patients."""
    from openiop.patients.models import Patient

    keys = _uuid_strings(ids)
    if not keys:
        return {}
    found = Patient.objects.for_org(organization_id).filter(public_id__in=keys)
    return {str(p.public_id): p for p in found.only("public_id", "mrn", "first_name",
                                                   "last_name", "preferred_name")}  # fmt: skip


def _users(ids: Iterable[int | None]) -> dict[int, Any]:
    """One query: {user id: User} (for names and for links that filter by user)."""
    from openiop.accounts.models import User

    keys = {i for i in ids if i}
    if not keys:
        return {}
    users = User.objects.filter(id__in=keys).only(
        "id", "public_id", "first_name", "last_name", "username"
    )
    return {u.id: u for u in users}


def report_page(
    *,
    user: Any,
    filters: ReportFilters,
    page: int,
    tz: dt.tzinfo,
    request: HttpRequest | None = None,
) -> ReportPage:
    """One page of the filtered, sorted report; writes the report's own audit row."""
    size = page_size()
    page = max(1, min(page, max_page()))
    qs = event_queryset(organization_id=user.organization_id, filters=filters, tz=tz)
    events = list(qs[(page - 1) * size : page * size + 1])
    has_next = len(events) > size
    events = events[:size]
    direct = [e.patient_id for e in events if e.patient_id]
    patients = patients_by_public_id(user.organization_id, direct)
    users = _users(e.actor_id for e in events)
    rows = [
        ReportRow(
            event=e,
            local_time=timezone.localtime(e.occurred_at, tz),
            actor=users.get(e.actor_id or 0),
            patient=patients.get(e.patient_id),
            listed_patients=len(e.detail.get("patients", []))
            if isinstance(e.detail, dict) and isinstance(e.detail.get("patients"), list)
            else 0,
        )
        for e in events
    ]
    # The report names patients: its read is audited like any list of patients (T3).
    audit_log(
        actor=user, action=ACTION_REPORT_VIEW, category=ADMIN, patient=filters.patient,
        request=request,
        detail={"filters": filters.as_detail(), "page": page, "rows": len(rows),
                "patients": sorted(patients)},
    )  # fmt: skip
    return ReportPage(rows=rows, number=page, has_next=has_next and page < max_page(),
                      capped=has_next and page >= max_page())  # fmt: skip


def patient_search(
    *, user: Any, text: str, request: HttpRequest | None = None, limit: int = 20
) -> list[Any]:
    """Patients of the officer's organization matching a name or MRN, to pick one (audited)."""
    from openiop.patients.models import Patient

    text = text.strip()
    if not text:
        return []
    found = list(Patient.objects.for_org(user.organization_id).search(text)[:limit])
    audit_log_many(
        actor=user, action=ACTION_PATIENT_SEARCH, category=AuditEvent.Category.DEMOGRAPHICS,
        patients=found, request=request, detail={"search": text[:100]},
    )  # fmt: skip
    return found


def recent_exports(*, organization_id: int, limit: int = 5) -> list[AuditEvent]:
    """The organization's latest report exports with their SHA-256 digests (from the trail)."""
    return list(
        AuditEvent.objects.filter(
            organization_id=organization_id, action=ACTION_REPORT_EXPORT
        ).order_by("-occurred_at", "-id")[:limit]
    )


# --- CSV export ----------------------------------------------------------------------------------

CSV_HEADER = [
    "occurred_at_utc",
    "local_time",
    "user",
    "roles",
    "action",
    "category",
    "patient_id",
    "patient_mrn",
    "patient_name",
    "object_type",
    "object_id",
    "outcome",
    "source_ip",
    "user_agent",
    "detail",
    "row_hash",
]
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> str:
    """A spreadsheet must not run a cell as a formula (ASVS 1.2.10): prefix such cells with '."""
    text = log_safe("" if value is None else str(value))
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


@dataclass
class ExportFile:
    file: Any  # a binary file object positioned at 0
    size: int
    sha256: str
    rows: int
    truncated: bool
    filename: str
    patients: set[str] = field(default_factory=set)


def _csv_lines(
    events: Iterator[AuditEvent], organization_id: int, tz: dt.tzinfo, patients_seen: set[str]
) -> Iterator[list[str]]:
    cache: dict[str, Any] = {}
    batch: list[AuditEvent] = []

    def flush() -> Iterator[list[str]]:
        missing = {e.patient_id for e in batch if e.patient_id and e.patient_id not in cache}
        if missing:
            found = patients_by_public_id(organization_id, missing)
            for key in missing:
                cache[key] = found.get(key)
        for e in batch:
            p = cache.get(e.patient_id) if e.patient_id else None
            if e.patient_id:
                patients_seen.add(e.patient_id)
            if isinstance(e.detail, dict) and isinstance(e.detail.get("patients"), list):
                patients_seen.update(str(x) for x in e.detail["patients"])
            yield [
                e.occurred_at.astimezone(dt.UTC).isoformat(),
                timezone.localtime(e.occurred_at, tz).strftime("%Y-%m-%d %H:%M:%S %Z"),
                e.actor_username,
                e.actor_roles,
                e.action,
                e.category,
                e.patient_id,
                p.mrn if p is not None else "",
                f"{p.last_name}, {p.first_name}" if p is not None else "",
                e.object_type,
                e.object_id,
                e.outcome,
                e.source_ip,
                e.user_agent,
                detail_json(e.detail),
                e.hash,
            ]
        batch.clear()

    for event in events:
        batch.append(event)
        if len(batch) >= 2000:
            yield from flush()
    yield from flush()


def report_export(
    *, user: Any, filters: ReportFilters, tz: dt.tzinfo, request: HttpRequest | None = None
) -> ExportFile:
    """The filtered report as CSV in a spooled temporary file, with its SHA-256.

    The file is written first and sent afterwards so that its digest can go in a response header
    and in the export's audit row (ONC (d)(8)); rows are read in chunks and the file spills to
    disk past a few megabytes, so memory stays flat. At most ``OPENIOP_AUDIT_EXPORT_MAX_ROWS``
    rows: a larger export is cut there and says so (header, audit row, page).
    """
    cap = export_max_rows()
    qs = event_queryset(organization_id=user.organization_id, filters=filters, tz=tz)
    # Rows are append-only: bounding by the newest id now makes the file a fixed snapshot even
    # while other staff keep working (and excludes this export's own audit row).
    newest = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    events = qs.filter(id__lte=newest)[: cap + 1].iterator(chunk_size=2000)
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (returned)
    digest = hashlib.sha256()
    line = io.StringIO()
    writer = csv.writer(line, lineterminator="\r\n")
    patients_seen: set[str] = set()

    def emit(cells: list[str]) -> None:
        writer.writerow([csv_safe(c) for c in cells])
        data = line.getvalue().encode("utf-8")
        line.seek(0)
        line.truncate()
        out.write(data)
        digest.update(data)

    emit(CSV_HEADER)
    rows = 0
    truncated = False
    for cells in _csv_lines(events, user.organization_id, tz, patients_seen):
        if rows >= cap:
            truncated = True
            break
        emit(cells)
        rows += 1
    size = out.tell()
    out.seek(0)
    stamp = timezone.localtime(timezone.now(), tz).strftime("%Y%m%d-%H%M%S")
    filename = f"audit-report-{stamp}.csv"
    sha = digest.hexdigest()
    audit_log(
        actor=user, action=ACTION_REPORT_EXPORT, category=ADMIN, patient=filters.patient,
        request=request,
        detail={"filters": filters.as_detail(), "rows": rows, "truncated": truncated,
                "sha256": sha, "filename": filename, "patients": sorted(patients_seen)},
    )  # fmt: skip
    return ExportFile(out, size, sha, rows, truncated, filename, patients_seen)


# --- who looked at this patient ------------------------------------------------------------------


@dataclass
class AccessGroup:
    """One user's accesses to one patient on one local day."""

    day: dt.date
    actor_id: int | None
    username: str
    roles: str
    count: int = 0
    denied: int = 0
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    actions: dict[str, int] = field(default_factory=dict)
    actor: Any = None  # the User, filled in by ``patient_access``

    @property
    def action_list(self) -> list[tuple[str, int]]:
        return sorted(self.actions.items())


def _group(qs: QuerySet[AuditEvent], tz: dt.tzinfo) -> list[AccessGroup]:
    """Group rows by (user, local day) in SQL, then fold the per-action counts in Python."""
    summary = (
        qs.annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .values("day", "actor_id", "actor_username", "actor_roles", "action", "outcome")
        .annotate(n=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"))
        .order_by()
    )
    groups: dict[tuple[Any, ...], AccessGroup] = {}
    for row in summary:
        key = (row["day"], row["actor_id"], row["actor_username"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = AccessGroup(
                day=row["day"], actor_id=row["actor_id"], username=row["actor_username"],
                roles=row["actor_roles"],
            )  # fmt: skip
        group.count += row["n"]
        if row["outcome"] != AuditEvent.Outcome.SUCCESS:
            group.denied += row["n"]
        group.actions[row["action"]] = group.actions.get(row["action"], 0) + row["n"]
        first = timezone.localtime(row["first"], tz)
        last = timezone.localtime(row["last"], tz)
        group.first = first if group.first is None else min(group.first, first)
        group.last = last if group.last is None else max(group.last, last)
    return sorted(groups.values(), key=lambda g: (g.day, g.last), reverse=True)


def _listed_in(qs: QuerySet[AuditEvent], patient_key: str) -> QuerySet[AuditEvent]:
    """Rows that name the patient in ``detail`` (lists, searches, exports: audit_log_many)."""
    if connection.vendor == "postgresql":
        # ``detail @> '{"patients": [...]}'``: served by a GIN index on detail (jsonb_path_ops).
        return qs.filter(detail__contains={"patients": [patient_key]})
    return qs.filter(detail__icontains=patient_key)  # SQLite: JSON is text; a scan in the org


@dataclass
class PatientAccess:
    opened: list[AccessGroup]
    listed: list[AccessGroup]
    disclosures_available: bool
    disclosures: list[Any]
    break_glass_available: bool
    break_glass: list[Any]


def patient_disclosures(patient: Any) -> tuple[bool, list[Any]]:
    """Every disclosure of the patient's records (made and refused), newest first.

    The consent app is optional to this module: without it the page says so instead of failing.
    """
    try:
        from openiop.consent.models import Disclosure
    except ImportError:  # pragma: no cover - the consent app is installed in this build
        return False, []
    rows = (
        Disclosure.objects.for_org(patient.organization_id)
        .filter(patient=patient)
        .select_related("disclosed_by", "consent")
        .order_by("-disclosed_at", "-id")
    )
    return True, list(rows)


def patient_break_glass(patient: Any) -> tuple[bool, list[Any]]:
    try:
        from openiop.consent.models import BreakGlassAccess
    except ImportError:  # pragma: no cover
        return False, []
    rows = (
        BreakGlassAccess.objects.for_org(patient.organization_id)
        .filter(patient=patient)
        .select_related("user", "reviewed_by")
        .order_by("-started_at", "-id")
    )
    return True, list(rows)


def patient_access(
    *,
    user: Any,
    patient: Any,
    tz: dt.tzinfo,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    request: HttpRequest | None = None,
) -> PatientAccess:
    """Who looked at (or was refused) this patient's record, by user and local day, and who
    received it (disclosures). Writes this page's own audit row, naming the patient."""
    key = str(patient.public_id)
    qs = AuditEvent.objects.filter(organization_id=patient.organization_id)
    lower, upper = local_day_bounds(date_from, date_to, tz)
    if lower is not None:
        qs = qs.filter(occurred_at__gte=lower)
    if upper is not None:
        qs = qs.filter(occurred_at__lt=upper)
    opened = _group(qs.filter(patient_id=key), tz)
    listed = _group(_listed_in(qs.filter(~Q(patient_id=key)), key), tz)
    users = _users(g.actor_id for g in opened + listed)
    for group in opened + listed:
        group.actor = users.get(group.actor_id or 0)
    has_disclosures, disclosures = patient_disclosures(patient)
    has_break_glass, break_glass = patient_break_glass(patient)
    audit_log(
        actor=user, action=ACTION_PATIENT_ACCESS, category=ADMIN, patient=patient,
        request=request,
        detail={"from": date_from.isoformat() if date_from else "",
                "to": date_to.isoformat() if date_to else "",
                "groups": len(opened) + len(listed), "disclosures": len(disclosures)},
    )  # fmt: skip
    return PatientAccess(opened, listed, has_disclosures, disclosures, has_break_glass, break_glass)


# --- chain check ---------------------------------------------------------------------------------


def chain_verify_run(*, user: Any, request: HttpRequest | None = None) -> ChainReport:
    """Run ``audit_verify`` over the whole chain (one chain holds every organization's rows) and
    record the result as an audit row of the officer's organization.

    Where the chain breaks at another organization's row, only that fact is recorded: the other
    organization's action and time are theirs.
    """
    started = time.monotonic()
    report = audit_verify()
    elapsed_ms = int((time.monotonic() - started) * 1000)
    detail: dict[str, Any] = {"ok": report.ok, "problem": report.problem, "ms": elapsed_ms}
    if report.first_bad_id is not None:
        bad = AuditEvent.objects.filter(id=report.first_bad_id).first()
        if bad is not None and bad.organization_id == user.organization_id:
            detail["broken_at"] = {
                "occurred_at": bad.occurred_at.isoformat(),
                "action": bad.action,
                "user": bad.actor_username,
                "hash": bad.hash,
            }
        else:
            detail["broken_at"] = {"other_organization": True}
    audit_log(
        actor=user,
        action=ACTION_CHAIN_VERIFY,
        category=ADMIN,
        outcome=AuditEvent.Outcome.SUCCESS if report.ok else AuditEvent.Outcome.FAILED,
        request=request,
        detail=detail,
    )
    return report


def chain_last_check(*, organization_id: int) -> AuditEvent | None:
    """The organization's latest chain check (the result lives in the trail itself)."""
    return (
        AuditEvent.objects.filter(organization_id=organization_id, action=ACTION_CHAIN_VERIFY)
        .order_by("-occurred_at", "-id")
        .first()
    )
