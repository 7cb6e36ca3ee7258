"""The compliance officer's pages: the audit report (filter, sort, page, CSV export), "who looked
at this patient and who received the record", and the on-demand chain check.

Every page needs ``audit.view`` (auditor, admin): another role gets 403, another organization's
patient is a 404. Every read writes its own audit row (selectors_audit).
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from openiop.accounts.permissions import Perm
from openiop.core import selectors_audit as selectors
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.core.forms_audit import AuditReportForm, PatientAccessForm
from openiop.core.selectors_audit import SORT_FIELDS, ReportFilters

DEFAULT_DAYS = 30

COLUMNS = [
    ("time", "Time"),
    ("user", "User"),
    ("roles", "Roles"),
    ("action", "Action"),
    ("category", "Category"),
    ("patient", "Patient"),
    ("object", "Object"),
    ("outcome", "Outcome"),
    ("ip", "IP address"),
    ("detail", "Detail"),
]
assert [c for c, _ in COLUMNS] == list(SORT_FIELDS)  # noqa: S101 (every column sorts)


def _patient_qs() -> Any:
    from openiop.patients.models import Patient

    return Patient.objects.all()


def _report_form(request: HttpRequest, tz: dt.tzinfo) -> tuple[AuditReportForm, QueryDict]:
    """The filter form; a first visit (no parameters) starts on the last 30 local days."""
    data = request.GET.copy()
    if not data:
        today = timezone.localdate(timezone.now(), tz)
        data["date_from"] = (today - dt.timedelta(days=DEFAULT_DAYS)).isoformat()
        data["date_to"] = today.isoformat()
    return AuditReportForm(data, organization_id=request.user.organization_id), data


def _filters(request: HttpRequest, form: AuditReportForm) -> ReportFilters:
    """Filters from a valid form; a patient id is fetched with permission (404 if not ours)."""
    data = form.cleaned_data
    patient = None
    if data.get("patient"):
        patient = get_for_user_or_404(_patient_qs(), request.user, data["patient"], Perm.AUDIT_VIEW)
    return ReportFilters(
        patient=patient,
        user=data.get("user"),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        action=(data.get("action") or "").strip(),
        category=data.get("category") or "",
        outcome=data.get("outcome") or "",
        sort=data.get("sort") or selectors.DEFAULT_SORT,
    )


def _query(data: QueryDict, **changes: Any) -> str:
    """The current filters with some parameters changed (None removes one), URL-encoded."""
    query = data.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = str(value)
    return query.urlencode()


def _sort_links(data: QueryDict, current: str) -> list[dict[str, Any]]:
    links = []
    for key, label in COLUMNS:
        if current == key:
            target, state = "-" + key, "ascending"
        elif current == "-" + key:
            target, state = key, "descending"
        else:
            target, state = ("-" + key if key == "time" else key), ""
        links.append(
            {"key": key, "label": label, "state": state,
             "query": _query(data, sort=target, page=None)}
        )  # fmt: skip
    return links


@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.AUDIT_VIEW)
    org_id = request.user.organization_id
    tz = selectors.org_tz(org_id)
    form, data = _report_form(request, tz)
    context: dict[str, Any] = {"form": form, "tz": tz, "page": None, "matches": []}
    status = 200
    if form.is_valid():
        filters = _filters(request, form)
        if filters.patient is None and form.cleaned_data.get("q"):
            matches = selectors.patient_search(
                user=request.user, text=form.cleaned_data["q"], request=request
            )
            context["matches"] = [
                (p, _query(data, patient=p.public_id, q=None, page=None)) for p in matches
            ]
        page = selectors.report_page(
            user=request.user, filters=filters, page=form.cleaned_data["page"], tz=tz,
            request=request,
        )  # fmt: skip
        context.update(
            filters=filters,
            page=page,
            sort_links=_sort_links(data, filters.sort),
            next_query=_query(data, page=page.number + 1),
            previous_query=_query(data, page=page.number - 1),
            export_query=_query(data, page=None),
            clear_patient_query=_query(data, patient=None, q=None, page=None),
        )
    else:
        status = 400
    context.update(
        chain=selectors.chain_last_check(organization_id=org_id),
        exports=selectors.recent_exports(organization_id=org_id),
        columns=COLUMNS,
        max_export_rows=selectors.export_max_rows(),
    )
    return render(request, "audit/event_list.html", context, status=status)


@login_required
@require_GET
def event_export(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.AUDIT_VIEW)
    tz = selectors.org_tz(request.user.organization_id)
    form, data = _report_form(request, tz)
    if not form.is_valid():
        messages.error(request, "Fix the filter before exporting.")
        return redirect(reverse("audit:event-list") + "?" + data.urlencode())
    export = selectors.report_export(
        user=request.user, filters=_filters(request, form), tz=tz, request=request
    )
    response = FileResponse(
        export.file, as_attachment=True, filename=export.filename,
        content_type="text/csv; charset=utf-8",
    )  # fmt: skip
    response["Content-Length"] = str(export.size)
    # RFC 9530 representation digest (base64), plus the hex form `sha256sum` prints.
    b64 = base64.b64encode(bytes.fromhex(export.sha256)).decode()
    response["Repr-Digest"] = f"sha-256=:{b64}:"
    response["X-OpenIOP-SHA256"] = export.sha256
    response["X-OpenIOP-Rows"] = str(export.rows)
    response["X-OpenIOP-Truncated"] = "1" if export.truncated else "0"
    return response


@login_required
@require_GET
def patient_access(request: HttpRequest, public_id: Any) -> HttpResponse:
    patient = get_for_user_or_404(_patient_qs(), request.user, public_id, Perm.AUDIT_VIEW)
    tz = selectors.org_tz(request.user.organization_id)
    form = PatientAccessForm(request.GET or None)
    context: dict[str, Any] = {"patient": patient, "form": form, "tz": tz, "access": None}
    if form.is_bound and not form.is_valid():
        return render(request, "audit/patient_access.html", context, status=400)
    data = form.cleaned_data if form.is_bound else {}
    context["access"] = selectors.patient_access(
        user=request.user, patient=patient, tz=tz, date_from=data.get("date_from"),
        date_to=data.get("date_to"), request=request,
    )  # fmt: skip
    return render(request, "audit/patient_access.html", context)


@login_required
@require_POST
def chain_verify(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.AUDIT_VIEW)
    report = selectors.chain_verify_run(user=request.user, request=request)
    if report.ok:
        # No row count: the chain holds every organization's rows, and their volume is theirs.
        messages.success(request, "Audit chain intact: every row from the first to the newest.")
    else:
        messages.error(request, f"Audit chain BROKEN: {report.problem}. See the chain panel.")
    return redirect(reverse("audit:event-list") + "#chain")
