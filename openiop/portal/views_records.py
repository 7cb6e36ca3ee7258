"""Portal pages: my questionnaires (fill in), my consents (revoke), who saw my records.

Every view is ``@portal_view(area)``: staff 404, anonymous to the log-in page, guardians only for
the areas their account shows. Objects named in the URL are looked up through the account's own
patient (another patient's consent or an unassigned questionnaire: 404).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from openiop.consent import services as consent_services
from openiop.portal import selectors_records as records
from openiop.portal.access import portal_view, sees
from openiop.portal.forms import ConsentSignForm
from openiop.portal.models import PortalAccount
from openiop.portal.services import consent_request_sign
from openiop.questionnaires import services as questionnaire_services
from openiop.questionnaires.forms import ResponseForm
from openiop.questionnaires.instruments import registry
from openiop.questionnaires.models import QuestionnaireResponse


def portal_nav(account: PortalAccount, current: str) -> list[dict[str, Any]]:
    """The portal's menu for this account (areas a guardian may not see are left out)."""
    items = [("home", "portal:home", "My week", None)]
    items += [
        ("questionnaires", "portal:questionnaires", "Questionnaires", "questionnaires"),
        ("plan", "portal:plan", "My plan", "plan"),
        ("consents", "portal:consents", "Consents", "consents"),
        ("accounting", "portal:accounting", "Who saw my records", "consents"),
    ]
    if not account.is_guardian:
        items.append(("preferences", "portal:preferences", "Reminders", None))
    return [
        {"url": reverse(name), "label": label, "current": key == current}
        for key, name, label, area in items
        if area is None or sees(account, area)
    ]


@never_cache
@portal_view("questionnaires")
def questionnaires(request: HttpRequest, account: PortalAccount) -> HttpResponse:
    rows = records.assigned_questionnaires(account, request=request)
    return render(
        request,
        "portal/questionnaires.html",
        {"account": account, "rows": rows, "portal_nav": portal_nav(account, "questionnaires")},
    )


@never_cache
@portal_view("questionnaires")
def questionnaire_fill(request: HttpRequest, account: PortalAccount, key: str) -> HttpResponse:
    """The same questions, validation and scoring as in clinic (``response_record``); a safety
    answer raises the same ClinicalAlert, and the page shows crisis resources at once."""
    if key not in registry.INSTRUMENTS:
        raise Http404("Not found")
    assigned = records.assigned_get(account, key)
    instrument = registry.get(key)
    form = ResponseForm(request.POST or None, instrument=instrument, ask_sex=False)
    context = {
        "account": account, "assigned": assigned, "instrument": instrument, "form": form,
        "portal_nav": portal_nav(account, "questionnaires"),
    }  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            response = questionnaire_services.response_record(
                actor=account.user, patient=account.patient, episode=None, instrument=key,
                answers=form.answers(), source=QuestionnaireResponse.Source.PORTAL,
                request=request,
            )  # fmt: skip
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            questionnaire_services.invitation_fulfil(
                actor=account.user, response=response, request=request
            )
            context.update(done=True, crisis=bool(response.alert_flags))
            return render(request, "portal/questionnaire_fill.html", context)
    return render(
        request,
        "portal/questionnaire_fill.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@portal_view("consents")
def consents(request: HttpRequest, account: PortalAccount) -> HttpResponse:
    rows = records.my_consents(account, request=request)
    pending = records.my_consent_requests(account, request=request)
    return render(
        request,
        "portal/consents.html",
        {
            "account": account, "rows": rows, "portal_nav": portal_nav(account, "consents"),
            "pending": [(r, ConsentSignForm(prefix=str(r.public_id))) for r in pending],
        },
    )  # fmt: skip


@portal_view("consents")
def consent_sign(request: HttpRequest, account: PortalAccount, public_id: Any) -> HttpResponse:
    """Sign a consent staff sent to the portal (typed name + "I agree")."""
    row = records.my_consent_request_get(account, public_id)
    form = ConsentSignForm(request.POST or None, prefix=str(row.public_id))
    if request.method == "POST" and form.is_valid():
        try:
            consent_request_sign(
                account=account, consent_request=row, request=request,
                typed_name=form.cleaned_data["typed_name"], agreed=form.cleaned_data["agreed"],
            )  # fmt: skip
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                f"Signed. Your consent for {row.preview().recipient_label} is in effect; you "
                "can revoke it here at any time.",
            )
            return redirect("portal:consents")
    return render(
        request,
        "portal/consent_sign.html",
        {"account": account, "row": row, "form": form,
         "portal_nav": portal_nav(account, "consents")},
        status=400 if request.method == "POST" else 200,
    )  # fmt: skip


@require_POST
@portal_view("consents")
def consent_revoke(request: HttpRequest, account: PortalAccount, public_id: Any) -> HttpResponse:
    consent = records.my_consent_get(account, public_id)
    who = f"the guardian ({account.guardian.name})" if account.is_guardian else "the patient"
    try:
        consent_services.consent_revoke(
            actor=account.user, consent=consent, request=request,
            note=f"Revoked by {who} in the patient portal.",
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Your consent for {consent.recipient_label} is revoked. Records already shared "
            "under it stay shared; nothing more is released under it.",
        )
    return redirect("portal:consents")


@never_cache
@portal_view("consents")
def accounting(request: HttpRequest, account: PortalAccount) -> HttpResponse:
    data = records.my_accounting(account, page=request.GET.get("page") or 1, request=request)
    return render(
        request,
        "portal/accounting.html",
        {"account": account, "data": data, "portal_nav": portal_nav(account, "accounting")},
    )
