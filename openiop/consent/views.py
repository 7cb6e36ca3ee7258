"""Consent pages: a patient's consents (record, revoke, expiry event), "Release records" with its
printable cover page, the accounting of disclosures, break-glass and its review queue.

Views are thin: fetch with permission first (outsiders 404, roles without the permission 403),
then form -> service -> redirect or render. Bad input re-renders the form with errors (400) and
changes nothing; a release no consent covers is refused (409) and the page says why.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.consent import rules, selectors, services
from openiop.consent.forms import (
    AccountingForm,
    BreakGlassFindForm,
    BreakGlassForm,
    ConsentForm,
    DisclosureForm,
    ExpiryEventForm,
    ReviewForm,
    RevokeForm,
)
from openiop.consent.models import BreakGlassAccess, Consent
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.patients.models import Patient

CAT = AuditEvent.Category.CLINICAL


def _list_context(request: HttpRequest, patient: Any, **extra: Any) -> dict[str, Any]:
    return {
        "patient": patient,
        "rows": selectors.consent_list(user=request.user, patient=patient, request=request),
        "today": patient.organization.today(),
        **extra,
    }


# --- consents -----------------------------------------------------------------------------------


@login_required
def consent_list(request: HttpRequest, patient_id: Any) -> HttpResponse:
    patient = selectors.patient_get(user=request.user, public_id=patient_id, perm=Perm.CONSENT_VIEW)
    return render(request, "consent/consent_list.html", _list_context(request, patient))


@login_required
def consent_create(request: HttpRequest, patient_id: Any) -> HttpResponse:
    patient = selectors.patient_get(
        user=request.user, public_id=patient_id, perm=Perm.CONSENT_MANAGE
    )
    tz = services.org_tz(patient.organization)
    initial = {
        "kind": Consent.Kind.TPO,
        "disclosing_party": patient.organization.name,
        "signed_at": timezone.localtime(timezone=tz).replace(second=0, microsecond=0),
        "state": services.default_state(),
        "expiry_event": rules.NO_EXPIRY_EVENT,
    }
    form = ConsentForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.consent_record(
                    actor=request.user, patient=patient, request=request,
                    **form.service_kwargs(tz),
                )  # fmt: skip
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, "Consent recorded.")
                return redirect("consent:consent-list", patient_id=patient.public_id)
    audit_log(
        actor=request.user, action="openiop.consent.consent.form", category=CAT,
        patient=patient, request=request,
    )  # fmt: skip
    context = {"patient": patient, "form": form, "ages": services.minor_self_consent_ages()}
    return render(request, "consent/consent_create.html", context, status=status)


@login_required
def consent_revoke(request: HttpRequest, public_id: Any) -> HttpResponse:
    consent = selectors.consent_get(
        user=request.user, public_id=public_id, perm=Perm.CONSENT_MANAGE
    )
    form = RevokeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.consent_revoke(
                    actor=request.user, consent=consent, note=form.cleaned_data["note"],
                    request=request,
                )  # fmt: skip
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, "Consent revoked. Earlier disclosures stay on record.")
                return redirect("consent:consent-list", patient_id=consent.patient.public_id)
    audit_log(
        actor=request.user, action="openiop.consent.consent.read", category=CAT, obj=consent,
        patient=consent.patient, request=request, detail={"view": "revoke"},
    )  # fmt: skip
    context = {"consent": consent, "patient": consent.patient, "form": form}
    return render(request, "consent/consent_revoke.html", context, status=status)


@login_required
@require_POST
def consent_expiry_event(request: HttpRequest, public_id: Any) -> HttpResponse:
    consent = selectors.consent_get(
        user=request.user, public_id=public_id, perm=Perm.CONSENT_MANAGE
    )
    patient = consent.patient
    form = ExpiryEventForm(request.POST)
    if form.is_valid():
        try:
            services.consent_expiry_event_record(
                actor=request.user, consent=consent,
                happened_on=form.cleaned_data["happened_on"], request=request,
            )  # fmt: skip
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Recorded: {consent.expiry_event}. The consent has expired.")
            return redirect("consent:consent-list", patient_id=patient.public_id)
    context = _list_context(request, patient, event_form=form, event_for=consent.public_id)
    return render(request, "consent/consent_list.html", context, status=400)


# --- disclosures --------------------------------------------------------------------------------


@login_required
def disclosure_create(request: HttpRequest, patient_id: Any) -> HttpResponse:
    patient = selectors.patient_get(
        user=request.user, public_id=patient_id, perm=Perm.DISCLOSURE_MAKE
    )
    today = patient.organization.today()
    covering = selectors.consents_covering(patient, today)
    form = DisclosureForm(request.POST or None, consents=covering)
    status, refusal = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            name, organization = form.recipient()
            try:
                disclosure = services.disclosure_make(
                    actor=request.user, patient=patient, recipient=name,
                    recipient_organization=organization, purpose=form.cleaned_data["purpose"],
                    categories=form.cleaned_data["categories"],
                    channel=form.cleaned_data["channel"], request=request,
                )  # fmt: skip
            except ValidationError as exc:
                form.add_service_errors(exc)
            except services.DisclosureRefused as exc:
                status, refusal = 409, exc.messages
            else:
                return redirect("consent:disclosure-detail", public_id=disclosure.public_id)
    audit_log(
        actor=request.user, action="openiop.consent.disclosure.form", category=CAT,
        patient=patient, request=request,
    )  # fmt: skip
    context = {"patient": patient, "form": form, "covering": covering, "refusal": refusal}
    return render(request, "consent/disclosure_create.html", context, status=status)


@login_required
def disclosure_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The printable release cover page: what went to whom, the 2.32 notice, the consent."""
    disclosure = selectors.disclosure_get(user=request.user, public_id=public_id, request=request)
    context = {
        "d": disclosure,
        "patient": disclosure.patient,
        "snapshot": disclosure.consent_snapshot,
        "tz": services.org_tz(disclosure.patient.organization),
    }
    return render(request, "consent/disclosure_detail.html", context)


@login_required
def disclosure_accounting(request: HttpRequest, patient_id: Any) -> HttpResponse:
    patient = selectors.patient_get(user=request.user, public_id=patient_id, perm=Perm.CONSENT_VIEW)
    form = AccountingForm(request.GET or None)
    years = form.cleaned_data["years"] if form.is_valid() else 3
    now = timezone.now()
    rows = selectors.disclosure_accounting(
        user=request.user, patient=patient, years=years, now=now, request=request
    )
    since = selectors.years_before(now, years)
    context = {
        "patient": patient, "rows": rows, "years": years, "since": since, "now": now,
        "form": form, "tz": services.org_tz(patient.organization),
        "refusals": selectors.disclosure_refusals(patient=patient, since=since),
    }  # fmt: skip
    template = "consent/disclosure_accounting"
    template += "_print.html" if request.GET.get("print") else ".html"
    return render(request, template, context)


# --- break-glass --------------------------------------------------------------------------------


@login_required
def break_glass_start(request: HttpRequest, patient_id: Any) -> HttpResponse:
    # Any staff member may find the patient (404 for another organization's), also outside
    # their caseload: that is what emergency access is for. The service refuses roles without
    # break_glass.use and writes the denied attempt to the audit log.
    patient = get_for_user_or_404(
        Patient.objects.select_related("organization"), request.user, patient_id,
        Perm.PATIENT_VIEW, caseload=False,
    )  # fmt: skip
    form = BreakGlassForm(request.POST or None)
    status = 200
    if not user_has_perm(request.user, Perm.BREAK_GLASS):
        # The service checks the role before anything else: this writes the denied row and
        # raises PermissionDenied (403), for the page as for the form.
        services.break_glass_start(actor=request.user, patient=patient, reason="", request=request)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                access = services.break_glass_start(
                    actor=request.user, patient=patient, request=request, **form.cleaned_data
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                until = timezone.localtime(access.expires_at, services.org_tz(patient.organization))
                messages.warning(
                    request,
                    f"Emergency access to {patient.display_name}'s record until {until:%H:%M}. "
                    "A program director will review it.",
                )
                return redirect("patients:patient-detail", public_id=patient.public_id)
    context = {"patient": patient, "form": form, "minutes": services.break_glass_minutes()}
    return render(request, "consent/break_glass_start.html", context, status=status)


def _queue(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    context = {
        "unreviewed": selectors.break_glass_unreviewed(request.user, request=request),
        "reviewed": selectors.break_glass_reviewed(request.user, request=request),
        "now": timezone.now(),
        "tz": services.org_tz(request.user.organization),
        **extra,
    }
    return render(request, "consent/break_glass_queue.html", context, status=status)


@login_required
def break_glass_find(request: HttpRequest) -> HttpResponse:
    """Find a patient outside one's caseload for emergency access: exact last name and date of
    birth, one match or none (no list to browse). Every search is audited."""
    require_perm(request.user, Perm.BREAK_GLASS)
    form = BreakGlassFindForm(request.GET or None)
    not_found = False
    if form.is_valid():
        matches = list(
            Patient.objects.for_org(request.user.organization_id).filter(
                last_name__iexact=form.cleaned_data["last_name"].strip(),
                date_of_birth=form.cleaned_data["date_of_birth"],
            )[:2]
        )
        audit_log(
            actor=request.user, action="openiop.consent.break_glass.find",
            category=AuditEvent.Category.DISCLOSURE, request=request,
            patient=matches[0] if len(matches) == 1 else None,
            detail={"matches": len(matches)},
        )  # fmt: skip
        if len(matches) == 1:
            return redirect("consent:break-glass-start", patient_id=matches[0].public_id)
        not_found = True
    return render(request, "consent/break_glass_find.html", {"form": form, "not_found": not_found})


@login_required
def break_glass_queue(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.BREAK_GLASS_REVIEW)
    return _queue(request)


@login_required
@require_POST
def break_glass_review(request: HttpRequest, public_id: Any) -> HttpResponse:
    access = get_for_user_or_404(
        BreakGlassAccess.objects.select_related("patient", "user"), request.user, public_id,
        Perm.BREAK_GLASS_REVIEW,
    )  # fmt: skip
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.break_glass_review(
                actor=request.user, access=access, note=form.cleaned_data["note"], request=request
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Review recorded.")
            return redirect("consent:break-glass-queue")
    return _queue(request, status=400, review_form=form, review_for=access.public_id)
