"""One-time questionnaire links: staff create / list / revoke; the patient's public page answers
once, raises alerts exactly as in clinic, and refuses used, expired, revoked and unknown links
with the same neutral page (audited)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from conftest import login
from openiop.core.models import AuditEvent
from openiop.questionnaires import services
from openiop.questionnaires.instruments import registry
from openiop.questionnaires.models import (
    ClinicalAlert,
    QuestionnaireInvitation,
    QuestionnaireResponse,
)

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)
PHQ9_SI = [2, 2, 1, 2, 1, 2, 1, 1, 1]


def answers_post(instrument: str, codes: list[int]) -> dict[str, str]:
    items = registry.get(instrument).items
    return {item.link_id: str(code) for item, code in zip(items, codes, strict=False)}


def make_link(actor, patient, instrument="phq9", **kw):
    return services.invitation_create(actor=actor, patient=patient, instrument=instrument, **kw)


def link_url(raw: str) -> str:
    return reverse("questionnaires:link-respond", kwargs={"token": raw})


def refusals() -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action="openiop.questionnaires.invitation.refuse").order_by("id")
    )


# -- services ------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_create_stores_only_a_digest_and_expires_after_72_hours(counselor, episode):
    invitation, raw = make_link(counselor, episode.patient)
    assert invitation.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in invitation.token_hash and len(raw) >= 40
    assert invitation.expires_at == NOW + dt.timedelta(hours=72)
    assert invitation.episode == episode  # the open episode, so alerts reach its counselor
    event = AuditEvent.objects.get(action="openiop.questionnaires.invitation.create")
    assert raw not in str(event.detail)


@time_machine.travel(NOW, tick=False)
def test_link_lifetime_follows_the_setting(settings, counselor, patient):
    settings.OPENIOP_QUESTIONNAIRE_LINK_HOURS = 24
    invitation, _ = make_link(counselor, patient)
    assert invitation.expires_at == NOW + dt.timedelta(hours=24)


def test_create_refuses_an_unknown_instrument_or_lifetime(counselor, patient):
    with pytest.raises(ValidationError) as exc:
        make_link(counselor, patient, instrument="nope")
    assert "instrument" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        make_link(counselor, patient, hours=0)
    assert "hours" in exc.value.message_dict
    assert not QuestionnaireInvitation.objects.exists()


def test_complete_uses_the_link_up_and_records_a_link_response(counselor, episode):
    invitation, raw = make_link(counselor, episode.patient, instrument="gad7")
    response = services.invitation_complete(token=raw, answers=[1] * 7)
    assert (response.source, response.total, response.administered_by) == ("link", 7, None)
    invitation.refresh_from_db()
    assert invitation.used_at is not None and invitation.response == response
    with pytest.raises(services.InvitationInvalid):
        services.invitation_complete(token=raw, answers=[0] * 7)
    assert QuestionnaireResponse.objects.count() == 1


def test_bad_answers_through_a_link_save_nothing_and_keep_the_link(counselor, episode):
    invitation, raw = make_link(counselor, episode.patient)
    with pytest.raises(ValidationError):
        services.invitation_complete(token=raw, answers=[1] * 8)
    invitation.refresh_from_db()
    assert invitation.used_at is None and not QuestionnaireResponse.objects.exists()


def test_a_used_link_cannot_be_revoked(counselor, episode):
    invitation, raw = make_link(counselor, episode.patient)
    services.invitation_complete(token=raw, answers=[0] * 9)
    with pytest.raises(ValidationError):
        services.invitation_revoke(actor=counselor, invitation=invitation)


# -- the patient's page --------------------------------------------------------------------------


def test_page_shows_only_the_questions_first_name_and_a_neutral_title(client, counselor, episode):
    _, raw = make_link(counselor, episode.patient, instrument="dast10")
    page = client.get(link_url(raw))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Hi Dana" in html and "Whitfield" not in html
    assert "<title>Health questionnaire</title>" in html
    assert html.count('type="radio"') == 10 * 2
    assert "Riverbend" not in html  # no clinic name either
    title_and_heads = " ".join(re.findall(r"<(?:title|h1|h2)[^>]*>(.*?)</", html))
    for word in ("drug", "alcohol", "substance", "DAST", "recovery", "addiction"):
        assert word.lower() not in title_and_heads.lower()
    assert page["Referrer-Policy"] == "no-referrer"
    assert "noindex" in page["X-Robots-Tag"]


def test_answering_records_the_response_and_thanks_the_patient(client, counselor, episode):
    _, raw = make_link(counselor, episode.patient)
    page = client.post(link_url(raw), answers_post("phq9", [1] * 8 + [0]))
    html = page.content.decode()
    assert page.status_code == 200 and "Thank you" in html
    assert "thoughts of hurting yourself" not in html
    response = QuestionnaireResponse.objects.get()
    assert (response.source, response.total, response.episode) == ("link", 8, episode)
    assert not ClinicalAlert.objects.exists()


def test_a_critical_answer_shows_988_at_once_and_raises_the_clinic_alert(
    client, counselor, episode
):
    _, raw = make_link(counselor, episode.patient)
    page = client.post(link_url(raw), answers_post("phq9", PHQ9_SI))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'href="tel:988"' in html and "thoughts of hurting yourself" in html
    alert = ClinicalAlert.objects.get()
    assert alert.kind == "suicidal_ideation" and alert.assigned_to == counselor
    assert alert.response.source == "link" and alert.is_open
    assert AuditEvent.objects.filter(action="openiop.questionnaires.alert.raise").count() == 1


def test_cssrs_high_risk_through_a_link_raises_a_high_risk_alert(client, counselor, episode):
    _, raw = make_link(counselor, episode.patient, instrument="cssrs")
    page = client.post(link_url(raw), answers_post("cssrs", [1, 1, 1, 1, 0, 0]))
    assert "tel:988" in page.content.decode()
    assert ClinicalAlert.objects.get().kind == "high_risk"


def test_missing_answer_is_shown_and_the_link_still_works(client, counselor, episode):
    _, raw = make_link(counselor, episode.patient)
    page = client.post(link_url(raw), answers_post("phq9", [1] * 8))
    assert page.status_code == 400
    assert "Answer item 9." in page.content.decode()
    assert not QuestionnaireResponse.objects.exists()
    assert client.get(link_url(raw)).status_code == 200


def test_reusing_a_link_is_refused_with_the_neutral_page(client, counselor, episode):
    _, raw = make_link(counselor, episode.patient)
    client.post(link_url(raw), answers_post("phq9", [0] * 9))
    again = client.post(link_url(raw), answers_post("phq9", [3] * 9))
    assert again.status_code == 404
    assert "This link is no longer valid" in again.content.decode()
    assert client.get(link_url(raw)).status_code == 404
    assert QuestionnaireResponse.objects.count() == 1
    assert [e.detail["reason"] for e in refusals()] == ["used", "used"]
    assert refusals()[0].outcome == AuditEvent.Outcome.DENIED
    assert refusals()[0].patient_id == str(episode.patient.public_id)


def test_an_expired_link_is_refused(client, counselor, episode):
    with time_machine.travel(NOW, tick=False):
        _, raw = make_link(counselor, episode.patient)
    with time_machine.travel(NOW + dt.timedelta(hours=71, minutes=59), tick=False):
        assert client.get(link_url(raw)).status_code == 200
    with time_machine.travel(NOW + dt.timedelta(hours=72), tick=False):
        page = client.post(link_url(raw), answers_post("phq9", [0] * 9))
    assert page.status_code == 404 and "This link is no longer valid" in page.content.decode()
    assert not QuestionnaireResponse.objects.exists()
    assert refusals()[-1].detail["reason"] == "expired"


def test_unknown_and_revoked_links_get_the_same_page(client, counselor, episode):
    invitation, raw = make_link(counselor, episode.patient)
    services.invitation_revoke(actor=counselor, invitation=invitation)
    revoked = client.get(link_url(raw))
    unknown = client.get(link_url("not-a-real-token-at-all"))
    assert revoked.status_code == unknown.status_code == 404
    assert revoked.content == unknown.content
    assert [e.detail["reason"] for e in refusals()] == ["revoked", "unknown"]
    assert refusals()[1].detail["prefix"] == "not-a-re"


# -- staff pages ---------------------------------------------------------------------------------


def links_url(patient) -> str:
    return reverse("questionnaires:invitation-list", args=[patient.public_id])


def test_staff_create_a_link_and_see_it_once(client, counselor, episode):
    login(client, counselor)
    page = client.post(links_url(episode.patient), {"instrument": "phq9", "hours": "48"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Copy it now" in html
    url = re.search(r'value="(http://testserver/questionnaires/r/[^"]+/)"', html).group(1)
    assert client.get(url).status_code == 200  # the copied link works
    listing = client.get(links_url(episode.patient)).content.decode()
    assert "Copy it now" not in listing and url not in listing
    assert "PHQ-9" in listing and "Revoke" in listing


def test_bad_link_form_is_a_form_error(client, counselor, episode):
    page = login(client, counselor).post(links_url(episode.patient), {"instrument": "x"})
    assert page.status_code == 400
    assert not QuestionnaireInvitation.objects.exists()


def test_staff_revoke_a_pending_link(client, counselor, episode):
    invitation, raw = make_link(counselor, episode.patient)
    login(client, counselor)
    url = reverse("questionnaires:invitation-revoke", args=[invitation.public_id])
    done = client.post(url, follow=True)
    assert "Link revoked" in done.content.decode()
    assert "No pending links" in done.content.decode()
    client.logout()
    assert client.get(link_url(raw)).status_code == 404


def test_pending_list_leaves_out_used_and_expired_links(client, counselor, episode):
    with time_machine.travel(NOW, tick=False):
        make_link(counselor, episode.patient, instrument="gad7", hours=1)
        _, used = make_link(counselor, episode.patient, instrument="pcl5")
        services.invitation_complete(token=used, answers=[0] * 20)
        make_link(counselor, episode.patient, instrument="bam")
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        html = login(client, counselor).get(links_url(episode.patient)).content.decode()
    pending = html[html.index("Pending links") :]
    assert "BAM" in pending and "GAD-7" not in pending and "PCL-5" not in pending


def test_link_pages_access(client, counselor, front_desk, outsider, patient):
    invitation, _ = make_link(counselor, patient)
    revoke = reverse("questionnaires:invitation-revoke", args=[invitation.public_id])
    assert client.get(links_url(patient)).status_code == 302
    assert client.post(revoke).status_code == 302
    assert login(client, front_desk).get(links_url(patient)).status_code == 403
    assert client.post(revoke).status_code == 403
    assert login(client, outsider).get(links_url(patient)).status_code == 404
    assert client.post(revoke).status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
