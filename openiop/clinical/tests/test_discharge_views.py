import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from conftest import NY, login
from openiop.clinical.models import DischargeSummary
from openiop.clinical.services.discharge import (
    discharge_summary_save_draft,
    discharge_summary_sign,
    discharge_summary_start,
)
from openiop.enrollment.services import episode_discharge


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=NY), tick=False):
        yield


@pytest.fixture
def discharged(episode):
    return episode_discharge(
        actor=None, episode=episode, discharged_on=dt.date(2026, 11, 20), reason=1
    )


@pytest.fixture
def summary(counselor, discharged):
    return discharge_summary_start(actor=counselor, episode=discharged)


def post_texts(version, **kw):
    data = {
        "version": str(version),
        "progress_narrative": "Met goals",
        "medications": "",
        "aftercare_plan": "Weekly outpatient",
        "referrals": "SMART Recovery",
        "risk_at_discharge": "Low",
        "recommendations": "",
    }
    return data | kw


def test_counselor_starts_edits_and_signs(client, counselor, discharged):
    login(client, counselor)
    start = reverse("clinical:discharge-start", args=[discharged.public_id])
    assert "due by <strong>Nov 27, 2026" in client.get(start).content.decode()
    response = client.post(start)
    summary = DischargeSummary.objects.get()
    assert response["Location"] == reverse("clinical:discharge-edit", args=[summary.public_id])
    assert client.get(start)["Location"].endswith(f"{summary.public_id}/")  # already started
    edit = reverse("clinical:discharge-edit", args=[summary.public_id])
    assert client.get(edit).status_code == 200
    assert client.post(edit, post_texts(1)).status_code == 302
    detail = reverse("clinical:discharge-detail", args=[summary.public_id])
    assert "Sign discharge summary" in client.get(detail).content.decode()
    client.post(reverse("clinical:discharge-sign", args=[summary.public_id]), {"version": "2"})
    summary.refresh_from_db()
    assert summary.is_signed
    body = client.get(detail).content.decode()
    assert "Met goals" in body and "Amend" in body and "Sign discharge summary" not in body
    assert client.get(edit).status_code == 302  # a signed summary is not edited


def test_a_stale_save_shows_a_conflict_and_keeps_the_text(client, counselor, summary):
    discharge_summary_save_draft(
        actor=counselor,
        summary=summary,
        expected_version=1,
        texts={"progress_narrative": "Saved first"},
    )
    edit = reverse("clinical:discharge-edit", args=[summary.public_id])
    response = login(client, counselor).post(edit, post_texts(1, progress_narrative="My text"))
    body = response.content.decode()
    assert response.status_code == 409
    assert "Someone else saved this summary first" in body and "My text" in body
    assert 'name="version" value="2"' in body
    summary.refresh_from_db()
    assert summary.progress_narrative == "Saved first"


def test_signing_an_incomplete_summary_shows_what_is_missing(client, counselor, summary):
    login(client, counselor)
    response = client.post(
        reverse("clinical:discharge-sign", args=[summary.public_id]), {"version": "1"}, follow=True
    )
    assert "Describe the patient&#x27;s progress before signing." in response.content.decode()
    summary.refresh_from_db()
    assert not summary.is_signed


def test_amend_a_signed_summary(client, counselor, summary):
    discharge_summary_save_draft(
        actor=counselor,
        summary=summary,
        expected_version=1,
        texts={"progress_narrative": "x", "aftercare_plan": "y"},
    )
    discharge_summary_sign(actor=counselor, summary=summary, expected_version=2)
    url = reverse("clinical:discharge-amend", args=[summary.public_id])
    login(client, counselor)
    assert "This field is required." in client.post(url, {"reason": ""}).content.decode()
    response = client.post(url, {"reason": "Referral added"})
    amendment = DischargeSummary.objects.get(amends=summary)
    assert response["Location"] == reverse("clinical:discharge-edit", args=[amendment.public_id])


def test_login_required(client, discharged, summary):
    for url in (
        reverse("clinical:discharge-start", args=[discharged.public_id]),
        reverse("clinical:discharge-detail", args=[summary.public_id]),
        reverse("clinical:discharge-edit", args=[summary.public_id]),
        reverse("clinical:discharge-amend", args=[summary.public_id]),
    ):
        assert client.get(url).status_code == 302
    assert (
        client.post(reverse("clinical:discharge-sign", args=[summary.public_id])).status_code == 302
    )


def test_outsider_gets_404(client, outsider, discharged, summary):
    login(client, outsider)
    assert (
        client.get(reverse("clinical:discharge-start", args=[discharged.public_id])).status_code
        == 404
    )
    for name in ("detail", "edit", "amend"):
        assert (
            client.get(reverse(f"clinical:discharge-{name}", args=[summary.public_id])).status_code
            == 404
        )
    sign = reverse("clinical:discharge-sign", args=[summary.public_id])
    assert client.post(sign, {"version": "1"}).status_code == 404


@pytest.mark.parametrize("role", ["billing", "front_desk"])
def test_billing_and_front_desk_cannot_read_or_write(request, client, role, discharged, summary):
    login(client, request.getfixturevalue(role))
    assert (
        client.get(reverse("clinical:discharge-start", args=[discharged.public_id])).status_code
        == 403
    )
    assert (
        client.post(reverse("clinical:discharge-start", args=[discharged.public_id])).status_code
        == 403
    )
    for name in ("detail", "edit", "amend"):
        assert (
            client.get(reverse(f"clinical:discharge-{name}", args=[summary.public_id])).status_code
            == 403
        )
    sign = reverse("clinical:discharge-sign", args=[summary.public_id])
    assert client.post(sign, {"version": "1"}).status_code == 403


def test_auditor_reads_but_cannot_write(client, auditor, summary):
    login(client, auditor)
    assert (
        client.get(reverse("clinical:discharge-detail", args=[summary.public_id])).status_code
        == 200
    )
    assert (
        client.get(reverse("clinical:discharge-edit", args=[summary.public_id])).status_code == 403
    )


def test_start_refused_for_an_open_episode(client, counselor, episode):
    login(client, counselor)
    url = reverse("clinical:discharge-start", args=[episode.public_id])
    assert "is not discharged" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 400 and not DischargeSummary.objects.exists()


def test_due_partial(supervisor, front_desk, discharged):
    from django.template.loader import render_to_string

    from openiop.clinical.selectors.discharge import discharge_due_context

    today = dt.date(2026, 11, 23)
    html = render_to_string(
        "clinical/_discharge_due.html", discharge_due_context(supervisor, today)
    )
    assert "Discharge summaries due" in html and "Whitfield" in html and "in 4 days" in html
    assert (
        render_to_string(
            "clinical/_discharge_due.html", discharge_due_context(front_desk, today)
        ).strip()
        == ""
    )
