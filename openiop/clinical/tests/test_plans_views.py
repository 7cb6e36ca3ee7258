"""Treatment plan pages: the plan page, the draft editor, signatures, reviews, the dashboard
partial; and for every page: login required, outsider 404, front desk / billing 403."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.template.loader import render_to_string
from django.urls import reverse

from conftest import login
from openiop.clinical.models import (
    ObjectiveProgress,
    PlanGoal,
    PlanObjective,
    PlanProblem,
    PlanReview,
    TreatmentPlan,
)
from openiop.clinical.selectors.plans import plan_reviews_due
from openiop.clinical.services import plans as svc
from openiop.clinical.tests.test_plans_services import build_plan, sign_all
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_create
from openiop.organizations.models import Program
from openiop.patients.services import patient_create

NOW = dt.datetime(2026, 11, 5, 15, 0, tzinfo=dt.UTC)  # Thursday 10:00 in New York
S = TreatmentPlan.Status


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def draft(counselor, episode):
    return build_plan(counselor, episode)


@pytest.fixture
def active(counselor, draft):
    return sign_all(counselor, draft)


def url(name, *args):
    return reverse(f"clinical:{name}", args=args)


# --- the plan page --------------------------------------------------------------------------


def test_an_episode_without_a_plan_offers_to_start_one(client, counselor, episode):
    response = login(client, counselor).get(url("plan-episode", episode.public_id))
    assert response.status_code == 200
    body = response.content.decode()
    assert "No treatment plan yet" in body and "Nov 9, 2026" in body  # admitted Nov 2 + 7 days
    assert "Start the plan" in body
    response = client.post(url("plan-create", episode.public_id))
    plan = TreatmentPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == url("plan-edit", plan.public_id)
    response = client.post(url("plan-create", episode.public_id), follow=True)
    assert "already has a draft plan" in response.content.decode()
    assert TreatmentPlan.objects.count() == 1


def test_the_plan_page_shows_the_whole_active_plan(client, counselor, active, episode):
    response = login(client, counselor).get(url("plan-episode", episode.public_id))
    body = response.content.decode()
    assert response.status_code == 200
    assert "F10.20" in body and "I want to stop drinking." in body
    assert "1.1.2" in body and "3 groups a week" in body
    assert "Dana Whitfield" in body and "(typed)" in body
    assert "Dec 5, 2026" in body and "on schedule" in body and "every 30 days" in body
    assert "Record a review" in body and "Revise the plan" in body
    assert AuditEvent.objects.filter(
        action="openiop.clinical.plan.view", object_id=str(active.public_id)
    ).exists()


def test_an_overdue_review_gets_a_badge(client, counselor, active, episode, _frozen):
    _frozen.move_to(dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC))
    body = login(client, counselor).get(url("plan-episode", episode.public_id)).content.decode()
    assert "overdue by 3 days" in body


def test_an_auditor_reads_the_plan_but_cannot_change_it(client, auditor, active, episode):
    login(client, auditor)
    body = client.get(url("plan-episode", episode.public_id)).content.decode()
    assert "I want to stop drinking." in body and "Record a review" not in body
    assert client.get(url("plan-review-create", active.public_id)).status_code == 403


# --- editing a draft ------------------------------------------------------------------------


def test_the_draft_editor_saves_strengths_and_cadence(client, counselor, draft):
    login(client, counselor)
    assert client.get(url("plan-edit", draft.public_id)).status_code == 200
    response = client.post(
        url("plan-edit", draft.public_id),
        {"strengths": "Sister drives her", "barriers": "", "review_interval": "2",
         "review_unit": "months"},
    )  # fmt: skip
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.strengths, draft.review_interval, draft.review_unit) == (
        "Sister drives her", 2, "months",
    )  # fmt: skip


def test_a_bad_cadence_shows_a_field_error(client, counselor, draft):
    response = login(client, counselor).post(
        url("plan-edit", draft.public_id),
        {"strengths": "x", "barriers": "", "review_interval": "500", "review_unit": "days"},
    )
    assert response.status_code == 400
    assert "Review at least every 366 days." in response.content.decode()
    draft.refresh_from_db()
    assert draft.strengths == ""


def test_adding_a_problem_with_a_bad_code_shows_the_error_and_writes_nothing(
    client, counselor, draft
):
    login(client, counselor)
    add = url("plan-part-add", "problem", draft.public_id)
    assert client.get(add).status_code == 200
    response = client.post(add, {"description": "Low mood", "icd10_code": "depression"})
    assert response.status_code == 400
    assert "is not an ICD-10-CM code" in response.content.decode()
    assert PlanProblem.objects.filter(plan=draft).count() == 1
    response = client.post(
        add, {"description": "Low mood", "icd10_code": "f32.1", "icd10_text": "Depression"}
    )
    assert response.status_code == 302
    assert PlanProblem.objects.filter(plan=draft, icd10_code="F32.1").exists()


def test_adding_edit_and_removing_each_part(client, counselor, draft, supervisor):
    login(client, counselor)
    problem = PlanProblem.objects.get(plan=draft)
    goal = PlanGoal.objects.get(problem=problem)
    objective = PlanObjective.objects.filter(goal=goal).first()
    assert client.post(url("plan-part-add", "goal", problem.public_id),
                       {"text": "Get my kids back"}).status_code == 302  # fmt: skip
    response = client.post(
        url("plan-part-add", "objective", goal.public_id),
        {"text": "Attend 2 AA meetings a week", "target_on": "2026-10-01"},
    )
    assert response.status_code == 400 and "before admission" in response.content.decode()
    response = client.post(
        url("plan-part-add", "intervention", objective.public_id),
        {"modality": "individual", "frequency": "weekly", "responsible": supervisor.public_id},
    )
    assert response.status_code == 302
    assert objective.interventions.filter(responsible=supervisor).exists()
    response = client.post(url("plan-part-edit", "goal", goal.public_id), {"text": "Stay sober"})
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.text == "Stay sober"
    assert client.get(url("plan-part-edit", "objective", objective.public_id)).status_code == 200
    response = client.post(url("plan-part-remove", "objective", objective.public_id))
    assert response.status_code == 302
    assert not PlanObjective.objects.filter(pk=objective.pk).exists()
    assert client.get(url("plan-part-edit", "nonsense", goal.public_id)).status_code == 404


def test_an_active_plan_is_not_edited_through_the_pages(client, counselor, active):
    login(client, counselor)
    response = client.get(url("plan-edit", active.public_id))
    assert response.status_code == 302
    goal = PlanGoal.objects.get()
    response = client.post(url("plan-part-edit", "goal", goal.public_id), {"text": "changed"})
    assert response.status_code == 302
    response = client.post(url("plan-part-remove", "goal", goal.public_id), follow=True)
    assert "Only a draft plan can be changed" in response.content.decode()
    goal.refresh_from_db()
    assert goal.text == "I want to stop drinking."


# --- signatures -----------------------------------------------------------------------------


def test_clinician_and_patient_sign_on_their_pages(client, counselor, draft):
    login(client, counselor)
    sign = url("plan-sign-clinician", draft.public_id)
    assert client.get(sign).status_code == 200
    assert client.post(sign, {}).status_code == 400  # the attestation box is required
    assert client.post(sign, {"attest": "on"}).status_code == 302
    patient_page = url("plan-sign-patient", draft.public_id)
    assert "I want to stop drinking." in client.get(patient_page).content.decode()
    response = client.post(patient_page, {"patient_signature": ""})
    assert response.status_code == 400
    response = client.post(patient_page, {"patient_signature": "Dana Whitfield"}, follow=True)
    assert "first review due Dec 05, 2026" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == S.ACTIVE


def test_the_clinician_page_lists_what_is_missing(client, counselor, episode):
    plan = svc.plan_create_draft(actor=counselor, episode=episode)
    response = login(client, counselor).post(
        url("plan-sign-clinician", plan.public_id), {"attest": "on"}
    )
    assert response.status_code == 400
    assert "Add at least one problem." in response.content.decode()


def test_a_minors_plan_needs_the_guardian_on_the_patient_page(client, counselor, org, site):
    teen_program = Program.objects.create(
        organization=org, site=site, name="Adolescent IOP",
        population=Program.Population.ADOLESCENT, min_age=14, max_age=17,
        weekly_min_hours=Decimal("6.0"), weekly_max_hours=Decimal("12.0"),
    )  # fmt: skip
    teen = patient_create(
        actor=None, organization=org, first_name="Jordan", last_name="Reyes",
        date_of_birth=dt.date(2010, 3, 1), sex="male",
    )  # fmt: skip
    episode = episode_create(
        actor=None, patient=teen, program=teen_program, admitted_on=dt.date(2026, 11, 2)
    )
    plan = build_plan(counselor, episode)
    login(client, counselor)
    page = url("plan-sign-patient", plan.public_id)
    assert "The patient is under 18" in client.get(page).content.decode()
    response = client.post(page, {"patient_signature": "Jordan Reyes"})
    assert response.status_code == 400
    assert "a parent or guardian must sign too" in response.content.decode()
    response = client.post(
        page, {"patient_signature": "Jordan Reyes", "guardian_signature": "Maria Reyes",
               "guardian_relationship": "Mother"},
    )  # fmt: skip
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.guardian_signature == "Maria Reyes"


# --- reviews and revisions ------------------------------------------------------------------


def test_a_review_needs_a_rating_for_every_objective(client, counselor, active, _frozen):
    _frozen.move_to(dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC))
    first, second = PlanObjective.objects.order_by("position")
    login(client, counselor)
    page = url("plan-review-create", active.public_id)
    body = client.get(page).content.decode()
    assert body.count("<select") == 2 and "Objective 2" in body and "due soon" in body
    data = {
        "reviewed_on": "2026-12-03",
        "summary": "Engaged in every group",
        f"rating_{first.public_id}": "achieved",
        f"comment_{first.public_id}": "5 clean tests",
    }
    response = client.post(page, data)
    assert response.status_code == 400
    assert "Rate the progress on this objective." in response.content.decode()
    assert not PlanReview.objects.exists()
    data[f"rating_{second.public_id}"] = "no_progress"
    response = client.post(page, data, follow=True)
    body = response.content.decode()
    assert "next review due Jan 02, 2027" in body
    assert "Engaged in every group" in body and "5 clean tests" in body and "No progress" in body
    assert "on time" in body
    assert ObjectiveProgress.objects.count() == 2


def test_revising_lists_the_earlier_version(client, counselor, active, episode):
    login(client, counselor)
    response = client.post(url("plan-revise", active.public_id))
    draft = TreatmentPlan.objects.get(status=S.DRAFT)
    assert response["Location"] == url("plan-edit", draft.public_id)
    body = client.get(url("plan-episode", episode.public_id)).content.decode()
    assert "Continue the draft (v2)" in body and "v1" in body
    sign_all(counselor, draft)
    body = client.get(url("plan-detail", active.public_id)).content.decode()
    assert "Superseded" in body and "This version was replaced" in body


# --- the dashboard partial ------------------------------------------------------------------


def test_the_dashboard_partial_lists_reviews_due(counselor, supervisor, active, _frozen):
    _frozen.move_to(dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC))
    rows = plan_reviews_due(user=supervisor, today=dt.date(2026, 12, 8))
    html = render_to_string("clinical/_plan_reviews_due.html", {"plan_reviews_due": rows})
    assert "Dana Whitfield" in html or "Whitfield" in html
    assert "3 days overdue" in html and "Review overdue" in html
    assert url("plan-episode", active.episode.public_id) in html
    empty = render_to_string("clinical/_plan_reviews_due.html", {"plan_reviews_due": []})
    assert "No plan reviews due this week." in empty


# --- access, for every page -----------------------------------------------------------------

PAGES = [
    ("get", "plan-episode", "episode"),
    ("post", "plan-create", "episode"),
    ("get", "plan-detail", "active"),
    ("get", "plan-edit", "draft"),
    ("post", "plan-revise", "active"),
    ("get", "plan-sign-clinician", "draft"),
    ("get", "plan-sign-patient", "draft"),
    ("get", "plan-review-create", "active"),
    ("get", "plan-part-add", "problem-add"),
    ("get", "plan-part-edit", "goal"),
    ("post", "plan-part-remove", "goal"),
]


@pytest.fixture
def targets(counselor, episode, active):
    draft = svc.plan_revise(actor=counselor, plan=active)
    goal = PlanGoal.objects.filter(problem__plan=draft).get()
    return {
        "episode": (episode.public_id,),
        "active": (active.public_id,),
        "draft": (draft.public_id,),
        "problem-add": ("problem", draft.public_id),
        "goal": ("goal", goal.public_id),
    }


@pytest.mark.parametrize(("method", "name", "target"), PAGES)
def test_every_page_needs_login(client, targets, method, name, target):
    response = getattr(client, method)(url(name, *targets[target]))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize(("method", "name", "target"), PAGES)
def test_every_page_is_404_for_an_outsider(client, outsider, targets, method, name, target):
    response = getattr(login(client, outsider), method)(url(name, *targets[target]))
    assert response.status_code == 404


@pytest.mark.parametrize(("method", "name", "target"), PAGES)
@pytest.mark.parametrize("who", ["front_desk", "billing"])
def test_every_page_is_403_for_front_desk_and_billing(
    client, request, targets, method, name, target, who
):
    user = request.getfixturevalue(who)
    response = getattr(login(client, user), method)(url(name, *targets[target]))
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "name", "target"), PAGES)
def test_every_page_works_for_the_counselor(client, counselor, targets, method, name, target):
    response = getattr(login(client, counselor), method)(url(name, *targets[target]))
    assert response.status_code in (200, 302)
    assert response.status_code == 200 or method == "post" or name == "plan-part-remove"
