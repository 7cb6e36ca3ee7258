"""Billing set-up pages: payers and their rules, a patient's coverage and certifications, and
the organization's billing profile (billing provider, clearinghouse, list prices)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.billing import selectors_claims, services_setup
from openiop.billing.forms import BillingProfileForm, CertificationForm, CoverageForm, PayerForm
from openiop.billing.models import BillingProfile, Coverage, Payer
from openiop.billing.payer_config import OVERRIDABLE
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.enrollment.models import Episode
from openiop.patients.models import Patient


@login_required
def payer_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.BILLING_VIEW)
    payers = list(
        Payer.objects.for_org(request.user.organization_id)
        .annotate(n_coverages=Count("coverages"))
        .order_by("name")
    )
    return render(
        request,
        "billing/payer_list.html",
        {"payers": payers, "can_manage": user_has_perm(request.user, Perm.BILLING_MANAGE),
         "profile": BillingProfile.objects.for_org(request.user.organization_id).first()},
    )  # fmt: skip


def _payer_form_page(request: HttpRequest, payer: Payer | None) -> HttpResponse:
    initial = PayerForm.initial_for(payer) if payer else {"active": True, "kind": "commercial"}
    form = PayerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services_setup.payer_save(
                actor=request.user, organization=request.user.organization, payer=payer,
                request=request, **form.cleaned_data,
            )  # fmt: skip
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Payer saved.")
            return redirect("billing:payer-list")
    return render(
        request,
        "billing/payer_form.html",
        {"form": form, "payer": payer, "overridable": sorted(OVERRIDABLE)},
    )


@login_required
def payer_create(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.BILLING_MANAGE)
    return _payer_form_page(request, None)


@login_required
def payer_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    payer = get_for_user_or_404(Payer.objects.all(), request.user, public_id, Perm.BILLING_MANAGE)
    return _payer_form_page(request, payer)


def _patient(request: HttpRequest, public_id: Any, perm: Perm) -> Patient:
    return get_for_user_or_404(Patient.objects.all(), request.user, public_id, perm)


@login_required
def coverage_list(request: HttpRequest, patient_id: Any) -> HttpResponse:
    patient = _patient(request, patient_id, Perm.BILLING_VIEW)
    today = request.user.organization.today()
    rows, certs, episodes = selectors_claims.coverage_list_for_patient(
        user=request.user, patient=patient, today=today, request=request
    )
    return render(
        request,
        "billing/coverage_list.html",
        {
            "patient": patient, "rows": rows, "certifications": certs, "episodes": episodes,
            "today": today, "can_manage": user_has_perm(request.user, Perm.BILLING_MANAGE),
            "can_estimate": user_has_perm(request.user, Perm.COST_ESTIMATE),
        },
    )  # fmt: skip


def _coverage_form_page(
    request: HttpRequest, patient: Patient, coverage: Coverage | None
) -> HttpResponse:
    initial = CoverageForm.initial_for(coverage) if coverage else {"priority": 1, "active": True}
    form = CoverageForm(
        request.POST or None, initial=initial, organization_id=request.user.organization_id
    )
    if request.method == "POST" and form.is_valid():
        try:
            services_setup.coverage_save(
                actor=request.user, patient=patient, coverage=coverage, request=request,
                **form.cleaned_data,
            )  # fmt: skip
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Coverage saved.")
            return redirect("billing:coverage-list", patient_id=patient.public_id)
    return render(
        request,
        "billing/coverage_form.html",
        {"form": form, "patient": patient, "coverage": coverage},
    )


@login_required
def coverage_create(request: HttpRequest, patient_id: Any) -> HttpResponse:
    patient = _patient(request, patient_id, Perm.BILLING_MANAGE)
    return _coverage_form_page(request, patient, None)


@login_required
def coverage_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    qs = Coverage.objects.select_related("patient", "payer")
    coverage = get_for_user_or_404(qs, request.user, public_id, Perm.BILLING_MANAGE)
    return _coverage_form_page(request, coverage.patient, coverage)


@login_required
def certification_create(request: HttpRequest, episode_id: Any) -> HttpResponse:
    qs = Episode.objects.select_related("patient", "program")
    episode = get_for_user_or_404(qs, request.user, episode_id, Perm.BILLING_MANAGE)
    form = CertificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services_setup.certification_create(
                actor=request.user, episode=episode, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Certification recorded.")
            return redirect("billing:coverage-list", patient_id=episode.patient.public_id)
    return render(
        request,
        "billing/certification_form.html",
        {"form": form, "episode": episode, "patient": episode.patient},
    )


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.BILLING_MANAGE)
    org = request.user.organization
    profile = BillingProfile.objects.for_org(org.pk).first()
    form = BillingProfileForm(request.POST or None, instance=profile, organization_id=org.pk)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in BillingProfileForm.Meta.fields}
        try:
            services_setup.billing_profile_save(
                actor=request.user, organization=org, values=values, request=request
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Billing settings saved.")
            return redirect("billing:payer-list")
    return render(request, "billing/profile_form.html", {"form": form, "profile": profile})
