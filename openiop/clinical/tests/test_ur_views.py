import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from conftest import NY, login
from openiop.clinical.models import UtilizationReview
from openiop.clinical.services.ur import ur_create, ur_record_outcome
from openiop.clinical.tests.ur_fixtures import full_record
from openiop.consent.models import Consent, Disclosure
from openiop.consent.services import consent_revoke
from openiop.consent.tests.factories import make_consent

START, END = dt.date(2026, 11, 2), dt.date(2026, 11, 22)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=NY), tick=False):
        yield


ALL_CATEGORIES = [
    "demographics", "attendance", "diagnoses", "treatment_plan", "notes_summary",
    "questionnaire_scores", "drug_screens", "medications", "discharge_summary",
]  # fmt: skip


@pytest.fixture
def review(episode, counselor):
    full_record(episode, counselor)
    make_consent(episode.patient, categories=ALL_CATEGORIES)  # TPO: covers payment to a payer
    return ur_create(
        actor=counselor,
        episode=episode,
        period_start=START,
        period_end=END,
        clinician_summary="Still meets 2.1 criteria.",
    )


def urls(episode, review):
    return {
        "list": reverse("clinical:ur-list", args=[episode.public_id]),
        "create": reverse("clinical:ur-create", args=[episode.public_id]),
        "packet": reverse("clinical:ur-packet", args=[episode.public_id])
        + "?start=2026-11-02&end=2026-11-22",
        "detail": reverse("clinical:ur-detail", args=[review.public_id]),
    }


def download_url(review):
    return reverse("clinical:ur-download", args=[review.public_id])


def test_every_page_works_for_the_program_director(client, supervisor, episode, review):
    login(client, supervisor)
    for name, url in urls(episode, review).items():
        response = client.get(url)
        assert response.status_code == 200, name
    body = client.get(urls(episode, review)["detail"]).content.decode()
    assert "Still meets 2.1 criteria." in body and "Download HTML" in body


def test_login_required(client, episode, review):
    for url in urls(episode, review).values():
        assert client.get(url).status_code == 302


def test_outsider_gets_404(client, outsider, episode, review):
    login(client, outsider)
    assert client.post(download_url(review)).status_code == 404
    for url in urls(episode, review).values():
        assert client.get(url).status_code == 404


def test_front_desk_cannot_see_ur_packets(client, front_desk, episode, review):
    login(client, front_desk)
    assert client.post(download_url(review)).status_code == 403
    for url in urls(episode, review).values():
        assert client.get(url).status_code == 403


def test_billing_sees_packets_but_cannot_write_the_clinical_summary(
    client, billing, episode, review
):
    login(client, billing)
    u = urls(episode, review)
    assert client.get(u["detail"]).status_code == 200
    assert client.post(download_url(review)).status_code == 200
    assert client.get(u["create"]).status_code == 403
    assert "Prepare a review" not in client.get(u["list"]).content.decode()


def test_download_is_a_standalone_html_attachment(client, supervisor, episode, review):
    response = login(client, supervisor).post(download_url(review))
    assert response["Content-Disposition"] == (
        'attachment; filename="ur-packet-20261102-20261122.html"'
    )
    body = response.content.decode()
    assert 'class="toolbar"' not in body and "Download HTML" not in body
    assert "42 CFR part 2 prohibits" in body


def test_pdf_link_is_absent_and_pdf_url_404_without_weasyprint(client, supervisor, episode, review):
    from openiop.clinical.selectors.ur import pdf_available

    assert not pdf_available()
    login(client, supervisor)
    assert "Download PDF" not in client.get(urls(episode, review)["detail"]).content.decode()
    assert client.post(reverse("clinical:ur-pdf", args=[review.public_id])).status_code == 404


def test_create_a_review(client, counselor, episode):
    login(client, counselor)
    url = reverse("clinical:ur-create", args=[episode.public_id])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "period_start": "2026-11-02",
            "period_end": "2026-11-15",
            "clinician_summary": "Needs continued IOP.",
        },
    )
    review = UtilizationReview.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"{review.public_id}/")
    assert review.prepared_by == counselor and review.period_end == dt.date(2026, 11, 15)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"period_start": "2026-11-15", "period_end": "2026-11-02"}, "must not be before"),
        ({"clinician_summary": ""}, "This field is required."),
        ({"period_end": "11/99/2026"}, "Enter a valid date."),
    ],
)
def test_create_shows_clear_errors(client, counselor, episode, data, message):
    post = {"period_start": "2026-11-02", "period_end": "2026-11-15", "clinician_summary": "x"}
    response = login(client, counselor).post(
        reverse("clinical:ur-create", args=[episode.public_id]), post | data
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert not UtilizationReview.objects.exists()


def test_packet_with_a_bad_period_shows_the_error(client, supervisor, episode):
    url = reverse("clinical:ur-packet", args=[episode.public_id])
    response = login(client, supervisor).get(url + "?start=2026-11-22&end=2026-11-02")
    assert response.status_code == 400
    assert "The end date must not be before the start date." in response.content.decode()
    assert login(client, supervisor).get(url + "?start=junk&end=").status_code == 400


def test_outcome_recorded_by_billing(client, billing, episode, review):
    url = reverse("clinical:ur-outcome", args=[review.public_id])
    login(client, billing)
    client.post(url, {"outcome": "denied", "outcome_note": ""})
    review.refresh_from_db()
    assert review.outcome == "pending"  # a denial needs a note
    client.post(url, {"outcome": "approved", "outcome_note": "14 more days"})
    review.refresh_from_db()
    assert review.outcome == "approved" and review.outcome_note == "14 more days"


def test_outcome_permissions(client, outsider, front_desk, episode, review):
    url = reverse("clinical:ur-outcome", args=[review.public_id])
    assert client.post(url, {"outcome": "approved"}).status_code == 302
    assert login(client, outsider).post(url, {"outcome": "approved"}).status_code == 404
    assert login(client, front_desk).post(url, {"outcome": "approved"}).status_code == 403
    review.refresh_from_db()
    assert review.outcome == "pending"


def test_services_refuse_bad_input(counselor, outsider, episode):
    with pytest.raises(ValidationError):
        ur_create(
            actor=counselor,
            episode=episode,
            period_start=END,
            period_end=START,
            clinician_summary="x",
        )
    with pytest.raises(PermissionDenied):
        ur_create(
            actor=outsider,
            episode=episode,
            period_start=START,
            period_end=END,
            clinician_summary="x",
        )
    review = ur_create(
        actor=counselor, episode=episode, period_start=START, period_end=END, clinician_summary="x"
    )
    with pytest.raises(ValidationError):
        ur_record_outcome(actor=counselor, review=review, outcome="maybe")


# --- the download is a Part 2 disclosure to the payer -----------------------------------------


def test_download_is_recorded_as_a_disclosure_with_the_notice_and_consent_copy(
    client, billing, episode, review
):
    body = login(client, billing).post(download_url(review)).content.decode()
    made = Disclosure.objects.get(patient=episode.patient)
    assert made.status == Disclosure.Status.MADE and made.purpose == "payment"
    assert made.channel == Disclosure.Channel.EXPORT and made.disclosed_by == billing
    assert "42 CFR part 2 prohibits unauthorized use or disclosure" in body
    assert "Consent for this disclosure" in body and str(made.consent.public_id) in body
    accounting = client.get(
        reverse("consent:disclosure-accounting", args=[episode.patient.public_id])
    )
    assert "Payer (utilization review)" in accounting.content.decode()


def test_download_without_a_covering_consent_is_refused_and_nothing_is_released(
    client, billing, episode, counselor
):
    full_record(episode, counselor)
    review = ur_create(
        actor=counselor, episode=episode, period_start=START, period_end=END,
        clinician_summary="Still meets 2.1 criteria.",
    )  # fmt: skip
    response = login(client, billing).post(download_url(review))
    assert response.status_code == 409
    assert "Content-Disposition" not in response
    assert "no Part 2 consent on file" in response.content.decode()
    refused = Disclosure.objects.get(patient=episode.patient)
    assert refused.status == Disclosure.Status.REFUSED


def test_a_revoked_consent_stops_the_next_download(client, billing, episode, review):
    consent = Consent.objects.get(patient=episode.patient)
    consent_revoke(actor=None, consent=consent, note="Patient asked in writing.")
    response = login(client, billing).post(download_url(review))
    assert response.status_code == 409
    assert "revoked" in response.content.decode()


def test_the_release_is_a_post_a_link_or_forged_get_releases_nothing(
    client, billing, episode, review
):
    login(client, billing)
    assert client.get(download_url(review)).status_code == 405
    page = client.get(urls(episode, review)["detail"]).content.decode()
    assert f'<form method="post" action="{download_url(review)}"' in page
    assert not Disclosure.objects.filter(patient=episode.patient).exists()


def test_the_ad_hoc_packet_download_is_a_release_too(client, billing, episode, review):
    url = reverse("clinical:ur-packet", args=[episode.public_id])
    response = login(client, billing).post(url + "?start=2026-11-02&end=2026-11-22")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert Disclosure.objects.get(patient=episode.patient).status == Disclosure.Status.MADE
