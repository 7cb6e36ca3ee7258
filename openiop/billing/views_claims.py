"""Billing screen, claims and export pages (issue #8): a week of attendance -> charge lines and
what blocks them -> draft claims -> ready -> a validated 837 / CSV file to download.

Each view: fetch with permission -> form -> service -> redirect/render. Billing staff never see
note bodies here: the charge reads load note ids, kinds, times and status only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.billing import selectors_claims, services_claims
from openiop.billing.charge_capture import billing_day_list, week_start
from openiop.billing.forms import (
    BillingDayForm,
    ClaimActionForm,
    ClaimBuildForm,
    ClaimBulkForm,
    ClaimCorrectForm,
    ExportForm,
)
from openiop.billing.models import Claim, ClaimStatus, ExportBatch
from openiop.core.access import get_for_user_or_404, require_perm


def _last_full_week(today: dt.date) -> tuple[dt.date, dt.date]:
    monday = week_start(today) - dt.timedelta(days=7)
    return monday, monday + dt.timedelta(days=6)


def _claim(request: HttpRequest, public_id: Any, perm: Perm) -> Claim:
    qs = Claim.objects.select_related(
        "patient", "episode__program", "payer", "coverage", "export_batch", "original"
    )
    return get_for_user_or_404(qs, request.user, public_id, perm)


@login_required
def billing_day(request: HttpRequest) -> HttpResponse:
    """Per patient and day: what was attended, the charge lines and what blocks each one."""
    require_perm(request.user, Perm.BILLING_VIEW)
    org_id = request.user.organization_id
    today = request.user.organization.today()
    start, end = _last_full_week(today)
    data = request.GET if "start" in request.GET else None
    form = BillingDayForm(data, organization_id=org_id, initial={"start": start, "end": end})
    rows: list[Any] = []
    program = None
    if data is None or form.is_valid():
        if data is not None:
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
            program = form.cleaned_data.get("program")
        rows = billing_day_list(
            user=request.user, start=start, end=end, program=program, request=request
        )
    totals = {
        "clean": sum(r.counts["clean"] for r in rows),
        "blocked": sum(r.counts["blocked"] for r in rows),
        "claimed": sum(r.counts["claimed"] for r in rows),
        "amount": sum((r.clean_total for r in rows), 0),
    }
    build_form = ClaimBuildForm(
        organization_id=org_id,
        initial={"start": start, "end": end, "program": program.public_id if program else None},
    )
    return render(
        request,
        "billing/billing_day.html",
        {
            "form": form, "rows": rows, "start": start, "end": end, "program": program,
            "totals": totals, "build_form": build_form, "today": today,
            "can_manage": user_has_perm(request.user, Perm.BILLING_MANAGE),
            "prev": (start - dt.timedelta(days=7), end - dt.timedelta(days=7)),
            "next": (start + dt.timedelta(days=7), end + dt.timedelta(days=7)),
        },
    )  # fmt: skip


@login_required
@require_POST
def claim_build(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.BILLING_MANAGE)
    form = ClaimBuildForm(request.POST, organization_id=request.user.organization_id)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("billing:billing-day")
    data = form.cleaned_data
    try:
        result = services_claims.claims_build(
            actor=request.user, organization=request.user.organization, start=data["start"],
            end=data["end"], program=data.get("program"), payer=data.get("payer"),
            request=request,
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("billing:billing-day")
    n = len(result.created)
    if n:
        messages.success(request, f"{n} draft claim{'s' if n != 1 else ''} built.")
    else:
        messages.info(request, "No new claim: every clean line is already on a claim.")
    if result.lines_blocked:
        messages.warning(
            request,
            f"{result.lines_blocked} line(s) of {result.patients_with_blocked_lines} patient(s) "
            "are still blocked; see the billing screen.",
        )
    return redirect(reverse("billing:claim-list") + "?status=draft")


@login_required
def claim_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.BILLING_VIEW)
    status = request.GET.get("status", "")
    if status not in ClaimStatus.values:
        status = ""
    claims = selectors_claims.claim_list(user=request.user, status=status, request=request)
    counts = selectors_claims.claim_status_counts(request.user.organization_id)
    return render(
        request,
        "billing/claim_list.html",
        {
            "claims": claims, "status": status,
            "statuses": [(v, label, counts.get(v, 0)) for v, label in ClaimStatus.choices],
            "can_manage": user_has_perm(request.user, Perm.BILLING_MANAGE),
            "limit": selectors_claims.LIST_LIMIT,
        },
    )  # fmt: skip


@login_required
@require_POST
def claim_bulk(request: HttpRequest) -> HttpResponse:
    """Mark the ticked claims ready (each one checked; the ones with problems stay drafts)."""
    require_perm(request.user, Perm.BILLING_MANAGE)
    form = ClaimBulkForm(request.POST)
    ids = request.POST.getlist("claims")
    if not form.is_valid() or not ids:
        messages.error(request, "Tick at least one claim.")
        return redirect("billing:claim-list")
    action = form.cleaned_data["action"]
    done, failed = 0, []
    claims = [_claim(request, public_id, Perm.BILLING_MANAGE) for public_id in ids[:500]]
    if action == "ready":
        result = services_claims.claims_mark_ready(
            actor=request.user, claims=claims, request=request
        )
        done = len(result.ready)
        failed = [f"{number}: {' '.join(why)}" for number, why in result.refused.items()]
    else:
        for claim in claims:
            try:
                services_claims.claim_return_to_draft(
                    actor=request.user, claim=claim, request=request
                )
                done += 1
            except ValidationError as exc:
                failed.append(f"{claim.claim_number}: {' '.join(exc.messages)}")
    if done:
        messages.success(request, f"{done} claim(s) updated.")
    for text in failed[:20]:
        messages.error(request, text)
    return redirect(
        reverse("billing:claim-list") + f"?status={'ready' if action == 'ready' else 'draft'}"
    )


@login_required
def claim_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    claim = _claim(request, public_id, Perm.BILLING_VIEW)
    selectors_claims.claim_view(user=request.user, claim=claim, request=request)
    lines = list(claim.lines.all())
    can_manage = user_has_perm(request.user, Perm.BILLING_MANAGE)
    problems: list[str] = []
    if can_manage and claim.status == ClaimStatus.DRAFT:
        problems = services_claims.claim_problems(
            claim, services_claims.billing_profile(claim.organization_id)
        )
    return render(
        request,
        "billing/claim_detail.html",
        {
            "claim": claim, "patient": claim.patient, "lines": lines, "problems": problems,
            "can_manage": can_manage, "action_form": ClaimActionForm(),
            "correct_form": ClaimCorrectForm(initial={
                "original_claim_reference": claim.payer_claim_number}),
            "replacements": list(claim.replacements.all()),
            "allowed": services_claims.TRANSITIONS.get(claim.status, frozenset()),
        },
    )  # fmt: skip


@login_required
@require_POST
def claim_action(request: HttpRequest, public_id: Any) -> HttpResponse:
    claim = _claim(request, public_id, Perm.BILLING_MANAGE)
    form = ClaimActionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("billing:claim-detail", public_id=claim.public_id)
    data = form.cleaned_data
    action = data["action"]
    common = {"actor": request.user, "claim": claim, "request": request}
    try:
        if action == "ready":
            services_claims.claim_mark_ready(**common)
        elif action == "draft":
            services_claims.claim_return_to_draft(**common)
        elif action == "void":
            services_claims.claim_void(**common, reason=data["reason"])
        elif action == "paid":
            services_claims.claim_record_payment(
                **common, amount=data["amount"], payer_claim_number=data["payer_claim_number"]
            )
        else:
            services_claims.claim_record_denial(
                **common, reason=data["reason"], payer_claim_number=data["payer_claim_number"]
            )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"Claim {claim.claim_number} updated.")
    return redirect("billing:claim-detail", public_id=claim.public_id)


@login_required
@require_POST
def claim_correct(request: HttpRequest, public_id: Any) -> HttpResponse:
    claim = _claim(request, public_id, Perm.BILLING_MANAGE)
    form = ClaimCorrectForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say what the correction changes.")
        return redirect("billing:claim-detail", public_id=claim.public_id)
    try:
        replacement = services_claims.claim_correct(
            actor=request.user, claim=claim, request=request, **form.cleaned_data
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("billing:claim-detail", public_id=claim.public_id)
    messages.success(
        request,
        f"Replacement claim {replacement.claim_number} drafted; fix it, mark it ready and send it.",
    )
    return redirect("billing:claim-detail", public_id=replacement.public_id)


@login_required
def export_create(request: HttpRequest) -> HttpResponse:
    """Choose the format, period and payer; export the ready claims (or see why not)."""
    require_perm(request.user, Perm.BILLING_MANAGE)
    org = request.user.organization
    start, end = _last_full_week(org.today())
    form = ExportForm(
        request.POST or None, organization_id=org.pk,
        initial={"start": start, "end": end, "format": "837p"},
    )  # fmt: skip
    result = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services_claims.claims_export(
                actor=request.user, organization=org, fmt=data["format"], start=data["start"],
                end=data["end"], payer=data.get("payer"), request=request,
            )  # fmt: skip
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if result.batch is not None:
                n = result.batch.claim_count
                messages.success(request, f"Exported {n} claim{'s' if n != 1 else ''}.")
                for r in result.refused:
                    messages.warning(
                        request,
                        f"Claim {r.claim_number} ({r.patient}) was left out: no consent "
                        f"covers its release to {r.payer}. " + " ".join(r.reasons),
                    )
                return redirect("billing:export-detail", public_id=result.batch.public_id)
    return render(request, "billing/export_form.html", {"form": form, "result": result})


@login_required
def export_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.BILLING_VIEW)
    batches = list(
        ExportBatch.objects.for_org(request.user.organization_id)
        .select_related("exported_by", "payer")
        .defer("content")
        .order_by("-created_at", "-id")[:200]
    )
    return render(
        request,
        "billing/export_list.html",
        {"batches": batches, "can_manage": user_has_perm(request.user, Perm.BILLING_MANAGE)},
    )


@login_required
def export_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    qs = ExportBatch.objects.select_related("exported_by", "payer").defer("content")
    batch = get_for_user_or_404(qs, request.user, public_id, Perm.BILLING_VIEW)
    claims = selectors_claims.batch_claims(user=request.user, batch=batch, request=request)
    return render(request, "billing/export_detail.html", {"batch": batch, "claims": claims})


@login_required
def export_download(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The file exactly as exported, with its SHA-256 so the receiver can check it."""
    batch = get_for_user_or_404(ExportBatch.objects.all(), request.user, public_id,
                                Perm.BILLING_MANAGE)  # fmt: skip
    selectors_claims.batch_download(user=request.user, batch=batch, request=request)
    response = HttpResponse(batch.content.encode("utf-8"), content_type=batch.content_type)
    response["Content-Disposition"] = f'attachment; filename="{batch.filename}"'
    response["X-Content-SHA256"] = batch.sha256
    response["Cache-Control"] = "no-store"
    return response
