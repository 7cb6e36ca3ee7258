"""Portal: signing a consent staff sent, my plan and aftercare check-in, reminder preferences."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import login
from openiop.aftercare.models import EngagementEntry
from openiop.aftercare.services import aftercare_plan_create, component_add
from openiop.clinical.services import plans as plan_svc
from openiop.clinical.tests.test_plans_services import active_plan, objective_ids
from openiop.consent.models import Consent
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_discharge
from openiop.messaging import services as messaging
from openiop.messaging.models import ContactPreference, OutboxMessage
from openiop.patients.models import Guardian
from openiop.portal import services
from openiop.portal.models import ConsentRequest
from openiop.portal.tests.helpers import PASSWORD, signed_in
from openiop.portal.tests.helpers import make_account as _account

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)
PROBATION_TERMS = {
    "kind": "named", "disclosing_party": "Riverside IOP", "recipient_name": "Dana Reyes",
    "recipient_organization": "County Adult Probation", "purpose": "criminal_justice",
    "categories": ["attendance", "drug_screens"], "expiry_event": "end of probation",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _client(account):
    return signed_in(account.user.username)


@pytest.fixture
def account(patient, intake):
    return _account(patient, intake)


@pytest.fixture
def portal(account):
    return _client(account)


# --- consents sent for signature ---------------------------------------------------------------


def test_staff_send_a_consent_and_the_patient_signs_it_in_the_portal(
    client, intake, patient, account, portal
):
    login(client, intake)
    url = reverse("portal_staff:consent-request-new", args=[patient.public_id])
    form = client.get(url)
    assert form.status_code == 200 and b"Send to the portal" in form.content
    data = {**PROBATION_TERMS, "categories": PROBATION_TERMS["categories"]}
    sent = client.post(url, data)
    assert sent.status_code == 302
    row = ConsentRequest.objects.get(patient=patient)
    assert row.status == "pending" and not Consent.objects.filter(patient=patient).exists()

    page = portal.get(reverse("portal:consents"))
    assert b"Waiting for your signature" in page.content
    assert b"County Adult Probation" in page.content and b"end of probation" in page.content

    sign = reverse("portal:consent-sign", args=[row.public_id])
    prefix = str(row.public_id)
    refused = portal.post(sign, {f"{prefix}-typed_name": "Dana Whitfield"})
    assert refused.status_code == 400 and b"Tick the box" in refused.content
    assert not Consent.objects.filter(patient=patient).exists()

    done = portal.post(sign, {f"{prefix}-typed_name": "Dana Whitfield", f"{prefix}-agreed": "on"})
    assert done.status_code == 302
    consent = Consent.objects.get(patient=patient)
    assert consent.signed_by_name == "Dana Whitfield" and consent.signer_role == "patient"
    assert consent.recipient_organization == "County Adult Probation"
    assert consent.signed_at == NOW and consent.status_on(NOW.date()) == "active"
    row.refresh_from_db()
    assert row.status == "signed" and row.consent == consent
    assert AuditEvent.objects.filter(
        action="openiop.portal.consent_request.sign", actor_id=account.user.pk
    ).exists()
    # It is signed once: a second post changes nothing.
    again = portal.post(sign, {f"{prefix}-typed_name": "Dana Whitfield", f"{prefix}-agreed": "on"})
    assert again.status_code == 400 and Consent.objects.filter(patient=patient).count() == 1
    # Staff see it signed on the portal access page.
    access = client.get(reverse("portal_staff:access", args=[patient.public_id]))
    assert b"Signed" in access.content


def test_bad_terms_are_refused_before_they_reach_the_patient(client, intake, patient):
    login(client, intake)
    url = reverse("portal_staff:consent-request-new", args=[patient.public_id])
    bad = {**PROBATION_TERMS, "recipient_name": "", "recipient_organization": ""}
    response = client.post(url, bad)
    assert response.status_code == 400
    assert b"Name the recipient" in response.content
    assert not ConsentRequest.objects.exists()


def test_a_withdrawn_consent_cannot_be_signed(client, intake, patient, portal):
    row = services.consent_request_create(actor=intake, patient=patient, terms=PROBATION_TERMS)
    login(client, intake)
    client.post(reverse("portal_staff:consent-request-withdraw", args=[row.public_id]))
    row.refresh_from_db()
    assert row.status == "withdrawn"
    assert b"Waiting for your signature" not in portal.get(reverse("portal:consents")).content
    prefix = str(row.public_id)
    response = portal.post(
        reverse("portal:consent-sign", args=[row.public_id]),
        {f"{prefix}-typed_name": "Dana Whitfield", f"{prefix}-agreed": "on"},
    )
    assert response.status_code == 400 and not Consent.objects.exists()


def test_another_patients_consent_request_is_404(intake, patient, other_org_patient, portal):
    theirs = services.consent_request_create(
        actor=None, patient=other_org_patient, terms=PROBATION_TERMS
    )
    response = portal.get(reverse("portal:consent-sign", args=[theirs.public_id]))
    assert response.status_code == 404


@pytest.fixture
def other_org_patient(org, intake):
    from openiop.patients.services import patient_create

    return patient_create(
        actor=None, organization=org, first_name="Lee", last_name="Other",
        date_of_birth=dt.date(1990, 1, 1), sex="male",
    )  # fmt: skip


def test_a_guardian_signs_as_the_guardian(intake, patient, org):
    guardian = Guardian.objects.create(
        organization=org, patient=patient, name="Pat Whitfield", relationship="mother"
    )
    account = _account(patient, intake, guardian=guardian, username="pat-w")
    services.guardian_visibility_set(actor=intake, account=account, areas={"schedule", "consents"})
    row = services.consent_request_create(actor=intake, patient=patient, terms=PROBATION_TERMS)
    prefix = str(row.public_id)
    response = _client(account).post(
        reverse("portal:consent-sign", args=[row.public_id]),
        {f"{prefix}-typed_name": "Pat Whitfield", f"{prefix}-agreed": "on"},
    )
    assert response.status_code == 302
    consent = Consent.objects.get(patient=patient)
    assert (consent.signed_by_name, consent.signer_role) == ("Pat Whitfield", "guardian")


# --- my plan and aftercare -----------------------------------------------------------------------


def test_my_plan_shows_my_goals_and_the_latest_progress(counselor, episode, account):
    plan = active_plan(counselor, episode)
    first, second = objective_ids(plan)
    with time_machine.travel(dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC), tick=False):
        plan_svc.plan_review_record(
            actor=counselor, plan=plan, reviewed_on=dt.date(2026, 12, 8), summary="Going well",
            progress={first: ("achieved", "staff-only remark"), second: ("progressing", "")},
        )  # fmt: skip
        page = _client(account).get(reverse("portal:plan"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "I want to stop drinking." in text
    assert "Objective 1: 3 negative breath tests a week" in text
    assert "Achieved" in text and "Progressing" in text
    assert "staff-only remark" not in text  # clinician comments stay in the chart
    assert AuditEvent.objects.filter(action="openiop.portal.plan.read").exists()


def test_no_plan_yet_says_so(portal):
    page = portal.get(reverse("portal:plan"))
    assert page.status_code == 200 and b"not signed a treatment plan yet" in page.content


@pytest.fixture
def aftercare(counselor, episode):
    episode_discharge(
        actor=counselor, episode=episode, discharged_on=dt.date(2026, 11, 10), reason=1,
        days_used_30=0,
    )  # fmt: skip
    plan = aftercare_plan_create(actor=counselor, episode=episode)
    component = component_add(
        actor=counselor, plan=plan, kind="mutual_help", provider="Tuesday SMART Recovery"
    )
    return plan, component


def test_the_patient_checks_in_to_an_aftercare_activity(aftercare, account, portal):
    plan, component = aftercare
    page = portal.get(reverse("portal:plan"))
    assert b"Tuesday SMART Recovery" in page.content and b"Check in" in page.content
    url = reverse("portal:aftercare-check-in", args=[component.public_id])
    response = portal.post(url, {"occurred_on": "2026-11-14", "note": "went with my sister"})
    assert response.status_code == 302
    entry = EngagementEntry.objects.get(component=component)
    assert (entry.occurred_on, entry.source, entry.note) == (
        dt.date(2026, 11, 14), "patient", "went with my sister",
    )  # fmt: skip
    assert entry.created_by == account.user
    assert b"You checked in: Nov 14" in portal.get(reverse("portal:plan")).content


def test_a_check_in_in_the_future_is_refused(aftercare, portal):
    _, component = aftercare
    url = reverse("portal:aftercare-check-in", args=[component.public_id])
    response = portal.post(url, {"occurred_on": "2026-11-30"}, follow=True)
    assert b"cannot be in the future" in response.content
    assert not EngagementEntry.objects.exists()


def test_a_guardian_cannot_check_in_for_the_patient(aftercare, intake, patient, org):
    _, component = aftercare
    guardian = Guardian.objects.create(
        organization=org, patient=patient, name="Pat Whitfield", relationship="mother"
    )
    account = _account(patient, intake, guardian=guardian, username="pat-w")
    services.guardian_visibility_set(actor=intake, account=account, areas={"schedule", "plan"})
    client = _client(account)
    assert client.get(reverse("portal:plan")).status_code == 200
    url = reverse("portal:aftercare-check-in", args=[component.public_id])
    assert client.post(url, {"occurred_on": "2026-11-14"}).status_code == 404
    assert not EngagementEntry.objects.exists()


# --- reminder preferences ------------------------------------------------------------------------


def test_the_patient_chooses_channels_and_stops_reminders(patient, portal, account):
    url = reverse("portal:preferences")
    assert portal.get(url).status_code == 200
    bad = portal.post(url, {"action": "save", "sms_ok": "on", "phone": ""})
    assert bad.status_code == 400 and b"Give a mobile number" in bad.content
    ok = portal.post(
        url, {"action": "save", "email_ok": "", "sms_ok": "on", "phone": "+1 555 0100"}
    )
    assert ok.status_code == 302
    pref = ContactPreference.objects.get(patient=patient)
    assert (pref.email_ok, pref.sms_ok, pref.phone) == (False, True, "+1 555 0100")
    pending = OutboxMessage.objects.create(
        organization=patient.organization, patient=patient, channel="sms", to=pref.phone,
        body="Reminder", kind="session_reminder", send_after=NOW, dedupe_key="k1",
    )  # fmt: skip
    portal.post(url, {"action": "stop"})
    pref.refresh_from_db()
    pending.refresh_from_db()
    assert pref.opted_out and pending.status == "cancelled"
    assert b"Reminders are off" in portal.get(url).content
    portal.post(url, {"action": "resume"})
    pref.refresh_from_db()
    assert not pref.opted_out
    assert messaging.contact_preference_for(patient).allows("sms")


def test_guardians_have_no_reminder_page(intake, patient, org):
    guardian = Guardian.objects.create(
        organization=org, patient=patient, name="Pat Whitfield", relationship="mother"
    )
    account = _account(patient, intake, guardian=guardian, username="pat-w")
    assert _client(account).get(reverse("portal:preferences")).status_code == 404


# --- optional two-step sign-in (TOTP) -----------------------------------------------------------


def test_a_patient_can_turn_on_two_step_sign_in_and_is_asked_for_the_code(account, portal):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from openiop.accounts.tests.helpers import current_code, password_login

    settings_page = portal.get(reverse("accounts:mfa-settings"))
    assert settings_page.status_code == 200
    assert b"portal-nav" in settings_page.content  # the portal's layout, not the staff one
    assert b"Set up two-factor authentication" in settings_page.content
    portal.get(reverse("accounts:mfa-setup"))
    device = TOTPDevice.objects.get(user=account.user, confirmed=False)
    done = portal.post(reverse("accounts:mfa-setup"), {"code": current_code(device)})
    assert done.status_code == 200
    portal.post(reverse("logout"))

    fresh = Client()
    password_login(fresh, account.user, password=PASSWORD)
    blocked = fresh.get(reverse("portal:home"))
    assert blocked.status_code == 302 and blocked["Location"].startswith(
        reverse("accounts:mfa-verify")
    )
    with time_machine.travel(NOW + dt.timedelta(seconds=31), tick=False):
        device.refresh_from_db()
        ok = fresh.post(
            reverse("accounts:mfa-verify"),
            {"code": current_code(device), "next": reverse("portal:home")},
        )
        assert ok.status_code == 302
        assert fresh.get(reverse("portal:home")).status_code == 200


# --- calendar link ------------------------------------------------------------------------------


def test_the_patient_makes_a_calendar_link_shown_once_with_neutral_events(
    portal, account, booked_session
):
    import re

    page = portal.post(reverse("portal:calendar"), {"action": "new"})
    assert page.status_code == 200
    link = re.search(r'<code class="feed-link">([^<]+)</code>', page.content.decode()).group(1)
    path = link.replace("http://testserver", "")
    feed = Client().get(path)
    assert feed.status_code == 200 and b"BEGIN:VCALENDAR" in feed.content
    text = feed.content.decode()
    assert "Appointment" in text and "Relapse" not in text and "IOP" not in text
    # Not shown again; a new link stops the old one; "stop" stops it for good.
    assert link not in portal.get(reverse("portal:calendar")).content.decode()
    again = portal.post(reverse("portal:calendar"), {"action": "new"})
    assert Client().get(path).status_code == 404
    new = re.search(r'<code class="feed-link">([^<]+)</code>', again.content.decode()).group(1)
    portal.post(reverse("portal:calendar"), {"action": "stop"})
    assert Client().get(new.replace("http://testserver", "")).status_code == 404


@pytest.fixture
def booked_session(episode, program):
    from openiop.scheduling.services import session_book, session_create

    start = NOW + dt.timedelta(days=1)
    session = session_create(
        actor=None, program=program, title="Relapse prevention group", starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
    )  # fmt: skip
    session_book(actor=None, session=session, episode=episode)
    return session
