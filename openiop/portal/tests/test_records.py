"""Portal: my questionnaires (fill in, safety alerts), my consents (revoke), who saw my records."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import login
from openiop.consent import services as consent_services
from openiop.consent.models import Consent
from openiop.consent.tests.factories import PROBATION, make_named
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.patients.models import Guardian
from openiop.patients.services import patient_create
from openiop.portal import services
from openiop.portal.tests.helpers import make_account as _account
from openiop.portal.tests.helpers import signed_in
from openiop.questionnaires import services as q_services
from openiop.questionnaires.instruments import registry
from openiop.questionnaires.models import (
    ClinicalAlert,
    QuestionnaireResponse,
    QuestionnaireSchedule,
)

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)
PHQ9 = [item.link_id for item in registry.get("phq9").items]
PAGES = ["portal:questionnaires", "portal:consents", "portal:accounting"]


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


@pytest.fixture
def phq9_due(episode):
    return QuestionnaireSchedule.objects.create(
        organization=episode.organization, program=episode.program, instrument="phq9"
    )


@pytest.fixture
def other_patient(org):
    return patient_create(
        actor=None, organization=org, first_name="Lee", last_name="Other",
        date_of_birth=dt.date(1990, 1, 1), sex="male", phone="555-0199",
    )  # fmt: skip


def _phq9(item9=0, skip=None):
    data = {link_id: "0" for link_id in PHQ9}
    data[PHQ9[8]] = str(item9)
    if skip:
        del data[skip]
    return data


# --- questionnaires ------------------------------------------------------------------------------


def test_my_questionnaires_lists_what_is_due_and_what_the_team_sent(
    portal, account, phq9_due, patient, counselor, django_assert_max_num_queries
):
    q_services.invitation_create(actor=counselor, patient=patient, instrument="gad7")
    with django_assert_max_num_queries(20):
        page = portal.get(reverse("portal:questionnaires"))
    body = page.content.decode()
    assert page.status_code == 200
    assert registry.get("phq9").title in body and registry.get("gad7").title in body
    assert reverse("portal:questionnaire-fill", args=["phq9"]) in body
    assert reverse("portal:questionnaire-fill", args=["gad7"]) in body
    assert AuditEvent.objects.filter(
        action="openiop.portal.questionnaires.list", actor=account.user,
        patient_id=str(patient.public_id),
    ).exists()  # fmt: skip


def test_phq9_with_item_9_raises_the_clinic_alert_and_shows_988_at_once(
    portal, account, phq9_due, patient, counselor
):
    url = reverse("portal:questionnaire-fill", args=["phq9"])
    assert portal.get(url).status_code == 200
    page = portal.post(url, _phq9(item9=2))
    body = page.content.decode()
    assert page.status_code == 200
    assert "portal-crisis" in body and 'href="tel:988"' in body and "911" in body
    response = QuestionnaireResponse.objects.get(patient=patient)
    assert response.source == QuestionnaireResponse.Source.PORTAL
    assert response.administered_by == account.user and response.total == 2
    alert = ClinicalAlert.objects.get(response=response)
    assert alert.kind == ClinicalAlert.Kind.SUICIDAL_IDEATION and alert.is_open
    assert alert.assigned_to == counselor  # the episode's primary counselor, as in clinic
    # Done: it is no longer listed, and the form is no longer offered.
    assert url not in portal.get(reverse("portal:questionnaires")).content.decode()
    assert portal.get(url).status_code == 404


def test_answers_without_a_safety_flag_show_no_crisis_card(portal, phq9_due):
    page = portal.post(reverse("portal:questionnaire-fill", args=["phq9"]), _phq9(item9=0))
    assert page.status_code == 200 and "portal-crisis" not in page.content.decode()
    assert not ClinicalAlert.objects.exists() and QuestionnaireResponse.objects.count() == 1


def test_a_missing_answer_is_a_form_error_and_records_nothing(portal, phq9_due):
    url = reverse("portal:questionnaire-fill", args=["phq9"])
    page = portal.post(url, _phq9(item9=2, skip=PHQ9[3]))
    assert page.status_code == 400 and "Answer item 4." in page.content.decode()
    page = portal.post(url, {**_phq9(), PHQ9[0]: "9"})
    assert page.status_code == 400
    assert not QuestionnaireResponse.objects.exists() and not ClinicalAlert.objects.exists()


def test_a_questionnaire_not_assigned_to_me_is_404(
    portal, episode, other_patient, counselor, phq9_due
):
    # A link sent to another patient does not assign the instrument to me.
    q_services.invitation_create(actor=counselor, patient=other_patient, instrument="gad7")
    for key in ("gad7", "nonsense"):
        url = reverse("portal:questionnaire-fill", args=[key])
        assert portal.get(url).status_code == 404
        assert portal.post(url, {"x": "0"}).status_code == 404
    assert not QuestionnaireResponse.objects.exists()


# --- consents ------------------------------------------------------------------------------------


def test_my_consents_and_revoking_one(portal, account, patient, site, intake):
    consent = make_named(patient, intake)
    page = portal.get(reverse("portal:consents"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Officer Dana Reyes, County Probation" in body and "Active" in body
    url = reverse("portal:consent-revoke", args=[consent.public_id])
    assert portal.get(url).status_code == 405
    page = portal.post(url, follow=True)
    assert "is revoked" in page.content.decode() and "Revoked" in page.content.decode()
    consent.refresh_from_db()
    assert consent.revoked_at is not None and consent.revoked_by == account.user
    assert "patient portal" in consent.revocation_note
    assert AuditEvent.objects.filter(
        action="openiop.consent.consent.revoke", actor=account.user,
        patient_id=str(patient.public_id),
    ).exists()  # fmt: skip
    # Twice: a message, no error page, no second revocation row.
    assert portal.post(url, follow=True).status_code == 200
    assert AuditEvent.objects.filter(action="openiop.consent.consent.revoke").count() == 1


def test_another_patients_consent_is_404(portal, other_patient, site, intake):
    theirs = make_named(other_patient, intake)
    assert portal.post(reverse("portal:consent-revoke", args=[theirs.public_id])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert "County Probation" not in portal.get(reverse("portal:consents")).content.decode()


# --- accounting ----------------------------------------------------------------------------------


def test_who_received_and_who_opened_my_record(
    portal, account, patient, site, intake, supervisor, counselor, django_assert_max_num_queries
):
    make_named(patient, intake)
    consent_services.disclosure_make(
        actor=supervisor, patient=patient, recipient=PROBATION["recipient_name"],
        recipient_organization=PROBATION["recipient_organization"], purpose="criminal_justice",
        categories=["attendance"], channel="print",
    )  # fmt: skip
    with time_machine.travel(NOW - dt.timedelta(days=120), tick=False):
        audit_log(
            actor=counselor, action="openiop.clinical.note.sign", category="clinical",
            patient=patient,
        )  # fmt: skip
    audit_log(
        actor=counselor, action="openiop.clinical.note.read", category="clinical",
        patient=patient,
    )  # fmt: skip
    with django_assert_max_num_queries(25):
        page = portal.get(reverse("portal:accounting"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Officer Dana Reyes, County Probation" in body  # the disclosure
    assert "Counselor Tester" in body and "(Counselor)" in body
    assert "Viewed a clinical note" in body
    assert "openiop.clinical" not in body  # plain words, not codes
    assert "Signed a clinical note" not in body  # older than 90 days
    assert AuditEvent.objects.filter(
        action="openiop.portal.access_log.read", actor=account.user
    ).exists()
    assert AuditEvent.objects.filter(
        action="openiop.consent.disclosure.accounting", actor=account.user
    ).exists()


def test_access_log_pages_by_50(portal, patient, counselor):
    for _ in range(51):
        audit_log(
            actor=counselor, action="openiop.patients.patient.read", category="demographics",
            patient=patient,
        )  # fmt: skip
    first = portal.get(reverse("portal:accounting")).content.decode()
    assert first.count("Viewed your profile") == 50 and "Page 1 of 2" in first
    second = portal.get(reverse("portal:accounting") + "?page=2").content.decode()
    assert second.count("Viewed your profile") == 1


# --- who may see these pages ---------------------------------------------------------------------


def test_guardian_sees_the_areas_only_when_allowed(patient, intake, phq9_due, site):
    consent = make_named(patient, intake)
    guardian = Guardian.objects.create(
        organization=patient.organization, patient=patient, name="Rosa Whitfield"
    )
    account = _account(patient, intake, guardian=guardian, username="rosa")
    services.guardian_visibility_set(actor=intake, account=account, areas=set())
    client = _client(account)
    fill = reverse("portal:questionnaire-fill", args=["phq9"])
    revoke = reverse("portal:consent-revoke", args=[consent.public_id])
    for url in [*(reverse(n) for n in PAGES), fill]:
        assert client.get(url).status_code == 404, url
    assert client.post(revoke).status_code == 404
    services.guardian_visibility_set(
        actor=intake, account=account, areas={"questionnaires", "consents"}
    )
    for url in [*(reverse(n) for n in PAGES), fill]:
        assert client.get(url).status_code == 200, url
    assert client.post(revoke).status_code == 302
    consent.refresh_from_db()
    assert "guardian (Rosa Whitfield)" in consent.revocation_note


@pytest.mark.parametrize("staff", ["counselor", "supervisor", "intake"])
def test_staff_get_404(request, staff, account, phq9_due, site, intake, patient):
    consent = make_named(patient, intake)
    client = login(Client(), request.getfixturevalue(staff))
    for url in [*(reverse(n) for n in PAGES), reverse("portal:questionnaire-fill", args=["phq9"])]:
        assert client.get(url).status_code == 404, url
    url = reverse("portal:consent-revoke", args=[consent.public_id])
    assert client.post(url).status_code == 404
    assert Consent.objects.get(pk=consent.pk).revoked_at is None


def test_anonymous_goes_to_log_in(client, phq9_due):
    for url in [*(reverse(n) for n in PAGES), reverse("portal:questionnaire-fill", args=["phq9"])]:
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"], url


def test_answering_in_the_portal_uses_up_the_link_the_team_sent(
    portal, account, patient, counselor
):
    from openiop.questionnaires.models import QuestionnaireInvitation

    invitation, token = q_services.invitation_create(
        actor=counselor, patient=patient, instrument="phq9"
    )
    page = portal.post(reverse("portal:questionnaire-fill", args=["phq9"]), _phq9(item9=0))
    assert page.status_code == 200
    invitation = QuestionnaireInvitation.objects.get(pk=invitation.pk)
    response = QuestionnaireResponse.objects.get(patient=patient)
    assert invitation.used_at is not None and invitation.response == response
    # The link itself no longer opens the form.
    assert Client().get(reverse("questionnaires:link-respond", args=[token])).status_code != 200
