"""Consent pages: each works, needs login, gives outsiders 404 and other roles 403; bad input
changes nothing; refusals say why (security.md T8)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.template.loader import render_to_string
from django.urls import reverse

from conftest import login
from openiop.consent import rules, services
from openiop.consent.models import BreakGlassAccess, Consent, Disclosure
from openiop.consent.tests.factories import PROBATION, make_consent, make_named
from openiop.core.models import AuditEvent

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)
REASON = "Patient collapsed in the lobby; ER physician asks about current medications."


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def named(patient, site):
    return make_named(patient)


@pytest.fixture
def disclosure(named, supervisor):
    return services.disclosure_make(
        actor=supervisor, patient=named.patient, recipient=PROBATION["recipient_name"],
        recipient_organization=PROBATION["recipient_organization"], purpose="criminal_justice",
        categories=["attendance"], channel="print",
    )  # fmt: skip


@pytest.fixture
def access(patient, site, counselor):
    return services.break_glass_start(actor=counselor, patient=patient, reason=REASON)


# (url name, kwargs builder, allowed user fixture, a role without the permission)
def pages(patient, named, disclosure):
    p = {"patient_id": patient.public_id}
    return [
        ("consent:consent-list", p, "auditor", "front_desk"),
        ("consent:consent-create", p, "intake", "billing"),
        ("consent:consent-revoke", {"public_id": named.public_id}, "intake", "billing"),
        ("consent:disclosure-create", p, "billing", "counselor"),
        ("consent:disclosure-accounting", p, "auditor", "front_desk"),
        ("consent:disclosure-detail", {"public_id": disclosure.public_id}, "auditor",
         "front_desk"),
        ("consent:break-glass-start", p, "counselor", "front_desk"),
    ]  # fmt: skip


@pytest.mark.parametrize("index", range(7))
def test_every_page_works_needs_login_hides_from_outsiders_and_checks_role(
    client, request, patient, named, disclosure, outsider, index
):
    name, kwargs, allowed, refused = pages(patient, named, disclosure)[index]
    url = reverse(name, kwargs=kwargs)
    assert client.get(url).status_code == 302  # to the login page
    login(client, outsider)
    assert client.get(url).status_code == 404
    login(client, request.getfixturevalue(refused))
    assert client.get(url).status_code == 403
    login(client, request.getfixturevalue(allowed))
    assert client.get(url).status_code == 200


def test_review_queue_works_needs_login_and_role(client, supervisor, counselor, access):
    url = reverse("consent:break-glass-queue")
    assert client.get(url).status_code == 302
    login(client, counselor)
    assert client.get(url).status_code == 403
    login(client, supervisor)
    response = client.get(url)
    assert response.status_code == 200 and REASON in response.content.decode()


def test_review_post_checks_outsider_and_role(client, access, outsider, counselor, auditor):
    url = reverse("consent:break-glass-review", kwargs={"public_id": access.public_id})
    login(client, outsider)
    assert client.post(url, {"note": "x"}).status_code == 404
    login(client, counselor)
    assert client.post(url, {"note": "x"}).status_code == 403
    login(client, auditor)
    assert client.post(url, {"note": ""}).status_code == 400
    assert client.post(url, {"note": "Justified: ER call."}).status_code == 302
    access.refresh_from_db()
    assert access.reviewed_by == auditor


# --- consents -----------------------------------------------------------------------------------


def consent_post(**kw):
    data = {
        "kind": "named", "disclosing_party": "Riverbend IOP", "recipient_name": "Officer Reyes",
        "recipient_organization": "County Probation", "purpose": "criminal_justice",
        "categories": ["attendance", "drug_screens"], "expires_on": "2027-05-01",
        "signed_by_name": "Dana Whitfield", "signer_role": "patient",
        "signed_at": "2026-11-16T09:30",
    }  # fmt: skip
    data.update(kw)
    return data


def test_intake_records_a_consent(client, intake, patient, site):
    login(client, intake)
    url = reverse("consent:consent-create", kwargs={"patient_id": patient.public_id})
    response = client.post(url, consent_post())
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert consent.recipient_label == "Officer Reyes, County Probation"
    assert consent.signed_at == dt.datetime(2026, 11, 16, 14, 30, tzinfo=dt.UTC)  # 9:30 New York
    page = client.get(reverse("consent:consent-list", kwargs={"patient_id": patient.public_id}))
    assert "Officer Reyes, County Probation" in page.content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"expires_on": "", "expiry_event": ""}, "Give an expiry date or an expiry event"),
        ({"recipient_name": "", "recipient_organization": ""}, "Name the recipient"),
        ({"categories": []}, "Choose at least one kind of information"),
        ({"signed_by_name": ""}, "This field is required"),
    ],
)
def test_consent_form_errors_are_clear_and_change_nothing(
    client, intake, patient, site, changes, message
):
    login(client, intake)
    url = reverse("consent:consent-create", kwargs={"patient_id": patient.public_id})
    response = client.post(url, consent_post(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Consent.objects.exists()


def test_revoke_page_revokes_with_a_note(client, intake, named):
    login(client, intake)
    url = reverse("consent:consent-revoke", kwargs={"public_id": named.public_id})
    assert client.post(url, {"note": ""}).status_code == 400
    named.refresh_from_db()
    assert named.revoked_at is None
    assert client.post(url, {"note": "Signed revocation form"}).status_code == 302
    named.refresh_from_db()
    assert named.revoked_by == intake and named.revocation_note == "Signed revocation form"


def test_expiry_event_is_recorded_from_the_list(client, intake, patient, site):
    consent = make_consent(patient)
    login(client, intake)
    url = reverse("consent:consent-expiry-event", kwargs={"public_id": consent.public_id})
    assert client.post(url, {"happened_on": "2027-01-01"}).status_code == 400  # future
    assert client.post(url, {"happened_on": "2026-11-16"}).status_code == 302
    consent.refresh_from_db()
    assert consent.status_on(dt.date(2026, 11, 16)) == Consent.Status.EXPIRED


# --- release records ----------------------------------------------------------------------------


def release_url(patient):
    return reverse("consent:disclosure-create", kwargs={"patient_id": patient.public_id})


def test_release_to_a_named_recipient_produces_the_cover_page(client, supervisor, named):
    login(client, supervisor)
    response = client.post(release_url(named.patient), {
        "recipient_choice": str(named.public_id), "purpose": "criminal_justice",
        "categories": ["attendance", "drug_screens"], "channel": "print",
    })  # fmt: skip
    disclosure = Disclosure.objects.made().get()
    assert response.status_code == 302 and response.url == reverse(
        "consent:disclosure-detail", kwargs={"public_id": disclosure.public_id}
    )
    page = client.get(response.url).content.decode()
    assert "42 CFR part 2 prohibits unauthorized use or disclosure" in page
    assert "Copy of the consent" in page and str(named.public_id) in page
    assert "Drug screen results" in page and "Officer Dana Reyes" in page


def test_release_without_consent_is_refused_and_says_why(client, supervisor, patient, site):
    login(client, supervisor)
    response = client.post(release_url(patient), {
        "recipient_choice": "typed", "recipient_name": "Officer Sam Cole",
        "purpose": "criminal_justice", "categories": ["attendance"], "channel": "print",
    })  # fmt: skip
    assert response.status_code == 409
    assert "There is no Part 2 consent on file" in response.content.decode()
    assert not Disclosure.objects.made().exists()
    assert Disclosure.objects.filter(status="refused").count() == 1
    assert AuditEvent.objects.filter(
        action="openiop.consent.disclosure.make", outcome="denied"
    ).exists()


def test_release_of_sud_counseling_notes_is_refused(client, supervisor, named):
    login(client, supervisor)
    response = client.post(release_url(named.patient), {
        "recipient_choice": str(named.public_id), "purpose": "criminal_justice",
        "categories": ["attendance", rules.SUD_COUNSELING_NOTES], "channel": "print",
    })  # fmt: skip
    assert response.status_code == 409
    assert "SUD counseling notes are never released" in response.content.decode()
    assert not Disclosure.objects.made().exists()


def test_release_with_nothing_chosen_is_a_form_error(client, supervisor, named):
    login(client, supervisor)
    response = client.post(release_url(named.patient), {
        "recipient_choice": str(named.public_id), "purpose": "criminal_justice",
        "channel": "print",
    })  # fmt: skip
    assert response.status_code == 400
    assert not Disclosure.objects.exists()


# --- accounting ---------------------------------------------------------------------------------


def test_accounting_lists_every_disclosure_and_prints(
    client, auditor, named, supervisor, disclosure, django_assert_max_num_queries
):
    for _ in range(5):
        services.disclosure_make(
            actor=supervisor, patient=named.patient, recipient="Officer Dana Reyes",
            recipient_organization="County Probation", purpose="criminal_justice",
            categories=["drug_screens"], channel="release",
        )  # fmt: skip
    login(client, auditor)
    url = reverse("consent:disclosure-accounting", kwargs={"patient_id": named.patient.public_id})
    with django_assert_max_num_queries(20):
        page = client.get(url).content.decode()
    assert page.count("Officer Dana Reyes, County Probation</a>") == 6
    printed = client.get(url + "?print=1&years=6").content.decode()
    assert "Accounting of disclosures" in printed and printed.count("County Probation") >= 6


# --- break-glass --------------------------------------------------------------------------------


def test_counselor_opens_emergency_access(client, counselor, patient, site):
    login(client, counselor)
    url = reverse("consent:break-glass-start", kwargs={"patient_id": patient.public_id})
    assert client.post(url, {"reason": "help"}).status_code == 400
    assert not BreakGlassAccess.objects.exists()
    response = client.post(url, {"reason": REASON, "disclosed_to": "Dr. Lee, Mercy ER"})
    assert response.status_code == 302
    assert BreakGlassAccess.objects.get().disclosed_to == "Dr. Lee, Mercy ER"


def test_front_desk_break_glass_is_refused_and_logged(client, front_desk, patient, site):
    login(client, front_desk)
    url = reverse("consent:break-glass-start", kwargs={"patient_id": patient.public_id})
    assert client.post(url, {"reason": REASON}).status_code == 403
    assert not BreakGlassAccess.objects.exists()
    assert AuditEvent.objects.filter(
        action="openiop.consent.break_glass.start", outcome="denied", actor=front_desk
    ).exists()


def test_dashboard_panel_shows_unreviewed_access(rf, supervisor, access):
    from openiop.consent.selectors import break_glass_panel_context

    html = render_to_string(
        "consent/_break_glass_panel.html", break_glass_panel_context(supervisor)
    )
    assert "Emergency access to review" in html and access.patient.display_name in html
    assert (
        render_to_string(
            "consent/_break_glass_panel.html", break_glass_panel_context(access.user)
        ).strip()
        == ""
    )
