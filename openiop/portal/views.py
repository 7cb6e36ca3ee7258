"""Portal pages (mobile-first) and the staff side of portal access (issue 10)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm
from openiop.core.access import get_for_user_or_404
from openiop.patients.models import Guardian, Patient
from openiop.portal import selectors, services
from openiop.portal.access import portal_view, sees
from openiop.portal.forms import AcceptForm, ConsentRequestForm
from openiop.portal.models import ConsentRequest, PortalAccount, PortalInvitation


@portal_view()
def home(request: HttpRequest, account: PortalAccount) -> HttpResponse:
    week = selectors.my_week(account, request=request) if sees(account, "schedule") else None
    from openiop.portal.views_records import portal_nav

    return render(
        request,
        "portal/home.html",
        {"account": account, "week": week, "portal_nav": portal_nav(account, "home")},
    )


def accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link: choose a user name and password, then straight into the portal."""
    invitation = services.invitation_for_token(token)
    if invitation is None:
        raise Http404("Not found")
    if request.user.is_authenticated:  # a link never attaches to a session already open
        return render(request, "portal/accept_signed_in.html", {"invitation": invitation})
    form = AcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account = services.invitation_accept(
                invitation=invitation, username=data["username"], password=data["password"],
                request=request,
            )  # fmt: skip
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            login(request, account.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome. This is your portal.")
            return redirect("portal:home")
    who = invitation.guardian.name if invitation.guardian else invitation.patient.first_name
    return render(
        request, "portal/accept.html", {"form": form, "invitation": invitation, "who": who}
    )


# --- staff side ---------------------------------------------------------------------------------


@login_required
def access(request: HttpRequest, patient_id: Any) -> HttpResponse:
    """A patient's portal log-ins and invitations, for staff."""
    patient = get_for_user_or_404(
        Patient.objects.all(), request.user, patient_id, Perm.PORTAL_INVITE
    )
    accounts = list(
        PortalAccount.objects.for_org(patient.organization_id)
        .filter(patient=patient)
        .select_related("user", "guardian")
    )
    invitations = list(
        PortalInvitation.objects.for_org(patient.organization_id)
        .filter(patient=patient)
        .select_related("guardian")[:20]
    )
    return render(
        request,
        "portal/staff_access.html",
        {
            "patient": patient, "accounts": accounts, "invitations": invitations,
            "guardians": list(patient.guardians.all()),
            "link": request.session.pop("portal_invite_link", None),
            "consent_requests": list(
                ConsentRequest.objects.for_org(patient.organization_id)
                .filter(patient=patient)
                .select_related("consent")[:20]
            ),
        },
    )  # fmt: skip


@login_required
@require_POST
def invite(request: HttpRequest, patient_id: Any) -> HttpResponse:
    patient = get_for_user_or_404(
        Patient.objects.all(), request.user, patient_id, Perm.PORTAL_INVITE
    )
    guardian = None
    if request.POST.get("guardian"):
        guardian = (
            Guardian.objects.for_org(patient.organization_id)
            .filter(patient=patient, public_id=_uuid(request.POST["guardian"]))
            .first()
        )
        if guardian is None:
            raise Http404("Not found")
    try:
        _, token = services.invitation_create(
            actor=request.user, patient=patient, guardian=guardian, request=request
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        link = request.build_absolute_uri(f"/portal/join/{token}/")
        request.session["portal_invite_link"] = link
        messages.success(
            request, "Invitation created. Give the link below to the person; it is shown once."
        )
    return redirect("portal_staff:access", patient_id=patient.public_id)


@login_required
@require_POST
def disable(request: HttpRequest, public_id: Any) -> HttpResponse:
    account = get_for_user_or_404(
        PortalAccount.objects.select_related("patient"), request.user, public_id, Perm.PORTAL_INVITE
    )
    services.account_disable(actor=request.user, account=account, request=request)
    messages.success(request, "Portal log-in disabled.")
    return redirect("portal_staff:access", patient_id=account.patient.public_id)


@login_required
def consent_request_new(request: HttpRequest, patient_id: Any) -> HttpResponse:
    """Staff prepare a Part 2 consent and send it to the patient's portal for signature."""
    patient = get_for_user_or_404(
        Patient.objects.all(), request.user, patient_id, Perm.CONSENT_MANAGE
    )
    form = ConsentRequestForm(
        request.POST or None,
        initial={"disclosing_party": patient.organization.name},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.consent_request_create(
                    actor=request.user, patient=patient, terms=form.terms(), request=request
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    "Consent sent to the portal. The patient sees it under Consents and signs "
                    "it there.",
                )
                return redirect("portal_staff:access", patient_id=patient.public_id)
    has_account = (
        PortalAccount.objects.for_org(patient.organization_id)
        .filter(patient=patient, is_active=True)
        .exists()
    )
    return render(
        request,
        "portal/staff_consent_request.html",
        {"patient": patient, "form": form, "has_account": has_account},
        status=status,
    )


@login_required
@require_POST
def consent_request_withdraw(request: HttpRequest, public_id: Any) -> HttpResponse:
    row = get_for_user_or_404(
        ConsentRequest.objects.select_related("patient"), request.user, public_id,
        Perm.CONSENT_MANAGE,
    )  # fmt: skip
    try:
        services.consent_request_withdraw(actor=request.user, consent_request=row, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "The consent is no longer offered for signature.")
    return redirect("portal_staff:access", patient_id=row.patient.public_id)


def _uuid(value: str) -> Any:
    import uuid

    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404("Not found") from None
