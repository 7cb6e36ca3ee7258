"""Staff pages: give a questionnaire, result with crisis resources, scores with trend charts,
open alerts and follow-up. Each: works, login required, outsider 404, role without perm 403."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from conftest import login
from openiop.questionnaires import selectors, services
from openiop.questionnaires.models import ClinicalAlert, QuestionnaireResponse

PHQ9_SI = [2, 2, 1, 2, 1, 2, 1, 1, 1]


def give(actor, episode, instrument="phq9", answers=PHQ9_SI):
    return services.response_record(
        actor=actor, patient=episode.patient, episode=episode, instrument=instrument,
        answers=answers,
    )  # fmt: skip


def phq9_post(answers):
    from openiop.questionnaires.instruments import registry

    data = {"instrument": "phq9"}
    for item, code in zip(registry.get("phq9").items, answers, strict=False):
        data[item.link_id] = str(code)
    return data


def give_url(patient):
    return reverse("questionnaires:response-create", args=[patient.public_id])


def test_pick_page_lists_every_instrument(client, counselor, patient):
    page = login(client, counselor).get(give_url(patient))
    assert page.status_code == 200
    for title in ("PHQ-9", "GAD-7", "AUDIT-C", "DAST-10", "BAM", "C-SSRS", "PCL-5"):
        assert title in page.content.decode()


def test_form_shows_one_radio_group_per_item(client, counselor, patient):
    page = login(client, counselor).get(give_url(patient) + "?instrument=phq9")
    html = page.content.decode()
    assert html.count('type="radio"') == 9 * 4
    assert "Thoughts that you would be better off dead" in html


def test_flagged_answer_saves_and_shows_alert_with_988(client, counselor, episode):
    page = login(client, counselor).post(give_url(episode.patient), phq9_post(PHQ9_SI), follow=True)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Safety alert" in html and "988" in html
    assert "13" in html and "moderate" in html
    assert ClinicalAlert.objects.get().assigned_to == counselor


def test_unflagged_answer_shows_the_score_without_an_alert(client, counselor, episode):
    page = login(client, counselor).post(give_url(episode.patient), phq9_post([0] * 9), follow=True)
    html = page.content.decode()
    assert "minimal" in html and "Safety alert" not in html


def test_missing_answer_is_a_clear_error_and_saves_nothing(client, counselor, episode):
    page = login(client, counselor).post(give_url(episode.patient), phq9_post([1] * 8))
    assert page.status_code == 400
    assert "Answer item 9." in page.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_out_of_range_answer_is_a_form_error(client, counselor, episode):
    page = login(client, counselor).post(give_url(episode.patient), phq9_post([1] * 8 + [7]))
    assert page.status_code == 400
    assert "Select a valid choice" in page.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_give_requires_login_permission_and_organization(client, front_desk, outsider, patient):
    url = give_url(patient)
    assert client.get(url).status_code == 302
    assert login(client, front_desk).get(url).status_code == 403
    assert login(client, outsider).get(url).status_code == 404


def test_patient_scores_page_shows_trend_chart_with_text_alternative(client, counselor, episode):
    give(counselor, episode)
    give(counselor, episode, answers=[0] * 9)
    page = login(client, counselor).get(
        reverse("questionnaires:patient-scores", args=[episode.patient.public_id])
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and 'role="img"' in html
    assert "PHQ-9 total over time; change -13 since the first" in html
    assert "flagged" in html


def test_scores_page_access(client, billing, outsider, patient):
    url = reverse("questionnaires:patient-scores", args=[patient.public_id])
    assert client.get(url).status_code == 302
    assert login(client, billing).get(url).status_code == 403
    assert login(client, outsider).get(url).status_code == 404


def test_response_detail_access(client, counselor, front_desk, outsider, episode):
    response = give(counselor, episode)
    url = reverse("questionnaires:response-detail", args=[response.public_id])
    assert client.get(url).status_code == 302
    assert login(client, counselor).get(url).status_code == 200
    assert login(client, front_desk).get(url).status_code == 403
    assert login(client, outsider).get(url).status_code == 404


def test_alert_list_and_follow_up(client, counselor, episode, django_assert_max_num_queries):
    give(counselor, episode)
    give(counselor, episode, instrument="cssrs", answers=[1, 1, 1, 1, 0, 0])
    login(client, counselor)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("questionnaires:alert-list"))
    html = page.content.decode()
    assert html.count("Record follow-up") == 2 and "(you)" in html
    alert = ClinicalAlert.objects.get(kind="high_risk")
    url = reverse("questionnaires:alert-follow-up", args=[alert.public_id])
    empty = client.post(url, {"note": ""})
    assert empty.status_code == 400
    alert.refresh_from_db()
    assert alert.is_open
    done = client.post(url, {"note": "Met in person; safety plan; ED evaluation."}, follow=True)
    assert "Follow-up recorded" in done.content.decode()
    alert.refresh_from_db()
    assert not alert.is_open and alert.followed_up_by == counselor
    assert (
        client.get(reverse("questionnaires:alert-list")).content.decode().count("Record follow-up")
        == 1
    )


def test_alert_pages_access(client, counselor, front_desk, intake, outsider, episode):
    give(counselor, episode)
    alert = ClinicalAlert.objects.get()
    url = reverse("questionnaires:alert-follow-up", args=[alert.public_id])
    assert client.get(url).status_code == 302
    assert login(client, intake).get(url).status_code == 403  # intake may read, not close
    assert login(client, outsider).get(url).status_code == 404
    assert login(client, front_desk).get(reverse("questionnaires:alert-list")).status_code == 403


# -- partials --------------------------------------------------------------------------------


def test_alerts_panel_partial(rf, counselor, episode):
    give(counselor, episode)
    request = rf.get("/")
    request.user = counselor
    html = render_to_string(
        "questionnaires/_alerts_panel.html",
        {"alerts": selectors.alert_list_open(counselor)},
        request=request,
    )
    assert "1 open" in html and episode.patient.display_name in html and "yours" in html


def test_scores_panel_partial(counselor, episode):
    give(counselor, episode)
    panel = selectors.scores_panel(user=counselor, patient=episode.patient)
    html = render_to_string("questionnaires/_scores_panel.html", {"scores_panel": panel})
    assert "PHQ-9" in html and "13 moderate" in html and "Open alert" in html
    assert "<svg" in html


@pytest.mark.django_db
def test_attendee_scores_tag(counselor, episode):
    from django.template import Context, Template

    give(counselor, episode)
    scores = selectors.latest_scores_for_patients(user=counselor, patients=[episode.patient])
    html = Template("{% load questionnaire_tags %}{% attendee_scores scores patient %}").render(
        Context({"scores": scores, "patient": episode.patient})
    )
    assert "PHQ-9 13 moderate" in html and "flagged" in html
