"""Portal pages: my treatment plan and aftercare (with a check-in), and reminder preferences."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from openiop.aftercare import services as aftercare_services
from openiop.aftercare.models import EngagementEntry
from openiop.core.forms import ServiceErrorsMixin
from openiop.messaging import services as messaging
from openiop.portal import selectors_plan
from openiop.portal.access import portal_view, sees
from openiop.portal.models import PortalAccount
from openiop.portal.views_records import portal_nav

DATE = forms.DateInput(attrs={"type": "date"})


class CheckInForm(ServiceErrorsMixin, forms.Form):
    occurred_on = forms.DateField(label="When", widget=DATE)
    note = forms.CharField(
        label="Anything to add (optional)", max_length=300, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )  # fmt: skip


class PreferencesForm(ServiceErrorsMixin, forms.Form):
    email_ok = forms.BooleanField(label="Send me e-mail reminders", required=False)
    email = forms.EmailField(label="E-mail address", required=False)
    sms_ok = forms.BooleanField(label="Send me text message reminders", required=False)
    phone = forms.CharField(
        label="Mobile number", max_length=32, required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("email_ok") and not data.get("email"):
            self.add_error("email", "Give an e-mail address, or turn e-mail reminders off.")
        if data.get("sms_ok") and not (data.get("phone") or "").strip():
            self.add_error("phone", "Give a mobile number, or turn text reminders off.")
        phone = (data.get("phone") or "").strip()
        if phone and not all(c.isdigit() or c in "+-() ." for c in phone):
            self.add_error("phone", "Use digits only (spaces, dashes and + are fine).")
        return data


@never_cache
@portal_view("plan")
def plan(request: HttpRequest, account: PortalAccount) -> HttpResponse:
    view = selectors_plan.my_plan(account, request=request)
    aftercare = (
        selectors_plan.my_aftercare(account, request=request)
        if sees(account, "aftercare")
        else None
    )
    today = account.patient.organization.today()
    components = []
    if aftercare is not None:
        for component in aftercare.components.all():
            current = component.starts_on <= today and (
                component.ends_on is None or component.ends_on >= today
            )
            mine = [e for e in component.engagement.all() if e.source == "patient"][:5]
            components.append({"c": component, "current": current, "mine": mine})
    can_check_in = (
        aftercare is not None
        and not account.is_guardian
        and aftercare.starts_on <= today <= aftercare.ends_on
    )
    return render(
        request,
        "portal/plan.html",
        {
            "account": account, "view": view, "aftercare": aftercare,
            "components": components, "can_check_in": can_check_in,
            "form": CheckInForm(initial={"occurred_on": today}), "today": today,
            "portal_nav": portal_nav(account, "plan"),
        },
    )  # fmt: skip


@require_POST
@portal_view("aftercare")
def aftercare_check_in(
    request: HttpRequest, account: PortalAccount, public_id: Any
) -> HttpResponse:
    """The patient logs that they went to a meeting, a therapy visit, ... (source: patient)."""
    if account.is_guardian:
        raise Http404("Not found")
    component = selectors_plan.my_component_get(account, public_id)
    if component is None:
        raise Http404("Not found")
    form = CheckInForm(request.POST)
    if form.is_valid():
        try:
            aftercare_services.engagement_log(
                actor=account.user, component=component, request=request,
                occurred_on=form.cleaned_data["occurred_on"],
                note=form.cleaned_data["note"], source=EngagementEntry.Source.PATIENT,
            )  # fmt: skip
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Thanks, logged: {component.get_kind_display()}.")
            return redirect("portal:plan")
    problems = (
        " ".join(f"{e}" for errors in form.errors.values() for e in errors)
        or "Please check the date."
    )
    messages.error(request, problems)
    return redirect("portal:plan")


@never_cache
@portal_view()
def preferences(request: HttpRequest, account: PortalAccount) -> HttpResponse:
    """Reminder channels and opt-out, for the patient's own account."""
    if account.is_guardian:
        raise Http404("Not found")
    patient = account.patient
    pref = messaging.contact_preference_for(patient)
    form = PreferencesForm(
        request.POST or None,
        initial={"email_ok": pref.email_ok, "sms_ok": pref.sms_ok, "email": pref.email,
                 "phone": pref.phone},
    )  # fmt: skip
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action == "stop":
            messaging.contact_preference_opt_out(
                actor=account.user, patient=patient, now=timezone.now(), request=request
            )
            messages.success(request, "Done: we will not send you reminders.")
            return redirect("portal:preferences")
        if action == "resume":
            messaging.contact_preference_opt_in(
                actor=account.user, patient=patient, request=request
            )
            messages.success(request, "Reminders are on again.")
            return redirect("portal:preferences")
        if form.is_valid():
            data = form.cleaned_data
            messaging.contact_preference_update(
                actor=account.user, patient=patient, request=request,
                email_ok=data["email_ok"], sms_ok=data["sms_ok"],
                email=data["email"], phone=data["phone"].strip(),
            )  # fmt: skip
            messages.success(request, "Saved.")
            return redirect("portal:preferences")
    return render(
        request,
        "portal/preferences.html",
        {"account": account, "pref": pref, "form": form,
         "portal_nav": portal_nav(account, "preferences")},
        status=400 if request.method == "POST" else 200,
    )  # fmt: skip


@never_cache
@portal_view("schedule")
def calendar(request: HttpRequest, account: PortalAccount) -> HttpResponse:
    """A calendar link for the patient's phone or computer calendar. The events say only
    "Appointment" and the time (no program, no kind of care). A new link replaces the old one;
    it is shown once, as for staff."""
    from django.urls import reverse

    from openiop.scheduling import feeds

    link = None
    if request.method == "POST":
        action = request.POST.get("action", "new")
        if action == "stop":
            active = feeds.calendar_feed_active(patient=account.patient)
            if active is not None:
                feeds.calendar_feed_revoke(actor=account.user, feed=active, request=request)
            messages.success(request, "Your calendar link no longer works.")
            return redirect("portal:calendar")
        _, token = feeds.calendar_feed_rotate(
            actor=account.user, patient=account.patient, request=request
        )
        link = request.build_absolute_uri(reverse("calendar:feed", args=[token]))
    active = feeds.calendar_feed_active(patient=account.patient)
    return render(
        request,
        "portal/calendar.html",
        {"account": account, "link": link, "active": active,
         "portal_nav": portal_nav(account, "home")},
    )  # fmt: skip
