"""Aftercare pages: each works; login is required; an outsider (another organization) and a
counselor outside the caseload get 404; roles without the permission get 403; bad input shows
a form error and changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from conftest import NY, login, make_user
from openiop.accounts.permissions import Role
from openiop.aftercare import services
from openiop.aftercare.models import (
    AftercareComponent,
    AftercarePlan,
    ComponentKind,
    EngagementEntry,
    FollowUp,
    FollowUpAttempt,
)
from openiop.aftercare.tests.test_services import aftercare_program, discharge

NOW = dt.datetime(2027, 1, 10, 10, 0, tzinfo=NY)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def discharged(episode):
    return discharge(episode, on=dt.date(2026, 12, 4))


@pytest.fixture
def plan(counselor, discharged):
    return services.aftercare_plan_create(actor=counselor, episode=discharged)


@pytest.fixture
def component(counselor, plan):
    return services.component_add(
        actor=counselor, plan=plan, kind=ComponentKind.OUTPATIENT_THERAPY, provider="Dr. Reyes"
    )


@pytest.fixture
def follow_up(plan):
    return plan.follow_ups.get(offset_days=30)


def contact_post(version=1, **kw):
    data = {
        "version": str(version), "contacted_on": "2027-01-09", "any_use_since_last": "yes",
        "days_used_30": "2", "sub_2": "2", "other_substance": "", "other_days": "",
        "employment": "2", "living": "3", "arrests_30": "0", "in_treatment": "no", "phq9": "5",
        "gad7": "3", "notes": "Working part-time",
    }  # fmt: skip
    return data | kw


def urls(plan, component, follow_up):
    """(url, method, data) of every aftercare page, with valid input for writes."""
    return [
        (reverse("aftercare:follow-up-list"), "get", None),
        (reverse("aftercare:gone-quiet"), "get", None),
        (reverse("aftercare:plan-create", args=[plan.episode.public_id]), "get", None),
        (reverse("aftercare:plan-detail", args=[plan.public_id]), "get", None),
        (reverse("aftercare:plan-edit", args=[plan.public_id]), "get", None),
        (reverse("aftercare:component-add", args=[plan.public_id]), "post",
         {"add-kind": "mutual_help"}),
        (reverse("aftercare:component-end", args=[component.public_id]), "post",
         {"end-ends_on": "2027-01-09"}),
        (reverse("aftercare:engagement-log", args=[plan.public_id]), "post",
         {"log-component": str(component.public_id), "log-occurred_on": "2027-01-08",
          "log-source": "staff"}),
        (reverse("aftercare:follow-up-attempt", args=[follow_up.public_id]), "get", None),
        (reverse("aftercare:follow-up-contact", args=[follow_up.public_id]), "get", None),
        (reverse("aftercare:follow-up-close", args=[follow_up.public_id]), "get", None),
    ]  # fmt: skip


def call(client, url, method, data):
    return client.post(url, data or {}) if method == "post" else client.get(url)


# --- access --------------------------------------------------------------------------------------


def test_login_required(client, plan, component, follow_up):
    for url, method, data in urls(plan, component, follow_up):
        response = call(client, url, method, data)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert not EngagementEntry.objects.exists()


def test_outsider_gets_404_on_every_object(client, outsider, plan, component, follow_up):
    login(client, outsider)
    for url, method, data in urls(plan, component, follow_up)[2:]:
        assert call(client, url, method, data).status_code == 404, url
    assert AftercareComponent.objects.count() == 1 and not EngagementEntry.objects.exists()


def test_outsider_lists_show_nothing_of_ours(client, outsider, plan):
    login(client, outsider)
    body = client.get(reverse("aftercare:follow-up-list")).content.decode()
    assert "Whitfield" not in body


def test_counselor_outside_the_caseload_gets_404(client, org, plan, component, follow_up):
    login(client, make_user("counselor_b", org, Role.COUNSELOR))
    for url, method, data in urls(plan, component, follow_up)[2:]:
        assert call(client, url, method, data).status_code == 404, url
    assert "Whitfield" not in client.get(reverse("aftercare:follow-up-list")).content.decode()


@pytest.mark.parametrize("role", ["front_desk", "billing"])
def test_roles_without_the_permission_get_403(request, client, role, plan, component, follow_up):
    login(client, request.getfixturevalue(role))
    for url, method, data in urls(plan, component, follow_up):
        assert call(client, url, method, data).status_code == 403, url
    assert AftercareComponent.objects.count() == 1


def test_the_auditor_reads_but_does_not_write(client, auditor, plan, component, follow_up):
    login(client, auditor)
    pages = urls(plan, component, follow_up)
    reads = {pages[i][0] for i in (0, 1, 3)}
    for url, method, data in pages:
        expected = 200 if url in reads else 403
        assert call(client, url, method, data).status_code == expected, url
    body = client.get(reverse("aftercare:follow-up-list")).content.decode()
    assert "Whitfield" in body and "Record attempt" not in body
    assert "Add a component" not in client.get(pages[3][0]).content.decode()


# --- the work list and gone quiet ----------------------------------------------------------------


def test_work_list_shows_what_to_call_about(client, intake, plan, follow_up):
    services.follow_up_attempt_record(
        actor=intake, follow_up=follow_up, result="no_answer",
        attempted_at=dt.datetime(2027, 1, 8, 17, 30, tzinfo=NY),
    )  # fmt: skip
    login(client, intake)
    body = client.get(reverse("aftercare:follow-up-list")).content.decode()
    assert "Dana Whitfield" in body and "30-day" in body and "Jan 3, 2027" in body
    assert '<span class="badge at_risk">Due</span>' in body
    assert "No answer" in body and "Jan 8 17:30" in body  # local time
    assert reverse("aftercare:follow-up-attempt", args=[follow_up.public_id]) in body
    assert reverse("aftercare:follow-up-contact", args=[follow_up.public_id]) in body
    assert "90-day" not in body  # not due yet


def test_work_list_filters(client, supervisor, plan):
    login(client, supervisor)
    url = reverse("aftercare:follow-up-list")
    assert "Dana Whitfield" not in client.get(url, {"status": "overdue"}).content.decode()
    every = client.get(url, {"status": "all"}).content.decode()
    assert "365-day" in every
    other = aftercare_program(plan.episode.program.site, "Other IOP")
    body = client.get(url, {"program": str(other.public_id)}).content.decode()
    assert "Dana Whitfield" not in body and "No follow-ups to call about" in body
    assert client.get(url, {"status": "nonsense"}).status_code == 200  # falls back


def test_gone_quiet_page(client, counselor, plan):
    login(client, counselor)
    body = client.get(reverse("aftercare:gone-quiet")).content.decode()
    # Aftercare started Dec 5 and nothing has been logged: 36 days quiet.
    assert "Dana Whitfield" in body and "36 days" in body and "none yet" in body


# --- the plan ------------------------------------------------------------------------------------


def test_start_a_plan_with_components(client, counselor, discharged, site):
    group = aftercare_program(site)
    url = reverse("aftercare:plan-create", args=[discharged.public_id])
    login(client, counselor)
    body = client.get(url).content.decode()
    assert 'value="2026-12-05"' in body and "Start aftercare plan" in body
    data = {
        "starts_on": "2026-12-05", "notes": "Alumni group plus therapy",
        "c-TOTAL_FORMS": "3", "c-INITIAL_FORMS": "0", "c-MIN_NUM_FORMS": "0",
        "c-MAX_NUM_FORMS": "10",
        "c-0-kind": "alumni_group", "c-0-program": str(group.public_id),
        "c-0-schedule": "Thursdays 6 pm",
        "c-1-kind": "outpatient_therapy", "c-1-provider": "Dr. Reyes",
        "c-1-starts_on": "2026-12-14",
        "c-2-kind": "",
    }  # fmt: skip
    response = client.post(url, data)
    plan = AftercarePlan.objects.get()
    assert response["Location"] == reverse("aftercare:plan-detail", args=[plan.public_id])
    assert plan.components.count() == 2 and plan.follow_ups.count() == 4
    assert plan.components.get(kind="alumni_group").program == group
    assert client.get(url)["Location"].endswith(f"{plan.public_id}/")  # already started


def test_start_a_plan_bad_input_changes_nothing(client, counselor, discharged):
    url = reverse("aftercare:plan-create", args=[discharged.public_id])
    login(client, counselor)
    management = {"c-TOTAL_FORMS": "1", "c-INITIAL_FORMS": "0", "c-MAX_NUM_FORMS": "10"}
    response = client.post(url, {"starts_on": "2026-12-01", **management})
    assert response.status_code == 400
    assert "Aftercare starts on or after the discharge (Dec 4, 2026)." in response.content.decode()
    response = client.post(
        url, {"starts_on": "2026-12-05", **management, "c-0-kind": "mutual_help",
              "c-0-starts_on": "2028-01-01"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Component 1: A component starts within the plan" in response.content.decode()
    assert not AftercarePlan.objects.exists() and not FollowUp.objects.exists()


def test_an_open_episode_shows_why_there_is_no_plan_yet(client, counselor, episode):
    login(client, counselor)
    url = reverse("aftercare:plan-create", args=[episode.public_id])
    body = client.get(url).content.decode()
    assert "this episode is not discharged" in body and "Start aftercare plan" not in body
    assert client.post(url, {"starts_on": "2027-01-01"}).status_code == 400
    assert not AftercarePlan.objects.exists()


def test_plan_detail_shows_components_engagement_and_follow_ups(
    client, counselor, plan, component, follow_up
):
    services.engagement_log(
        actor=counselor, component=component, occurred_on=dt.date(2026, 12, 18), note="Intake"
    )
    services.follow_up_complete(
        actor=counselor, follow_up=follow_up, expected_version=1, contacted_on=dt.date(2027, 1, 4),
        any_use_since_last=False, days_used_30=0, substance_days={"2": 0}, employment=1,
        living=3, phq9=4,
    )  # fmt: skip
    login(client, counselor)
    body = client.get(reverse("aftercare:plan-detail", args=[plan.public_id])).content.decode()
    assert "Outpatient therapy" in body and "Dr. Reyes" in body and "Intake" in body
    assert "<svg" in body and "Components engaged per aftercare month" in body
    assert "Dec 5, 2026–Jan 4, 2027" in body  # month 1
    assert "Completed" in body and "Full-time" in body and "Independent living" in body
    assert "Alcohol: 0" in body
    assert "Gone quiet" in body  # last engagement Dec 18: more than three weeks ago


def test_edit_the_plan(client, counselor, plan):
    url = reverse("aftercare:plan-edit", args=[plan.public_id])
    login(client, counselor)
    assert 'value="2027-10-04"' in client.get(url).content.decode()
    response = client.post(url, {"version": "1", "ends_on": "2027-12-31", "notes": "Extended"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.ends_on == dt.date(2027, 12, 31) and plan.notes == "Extended"
    stale = client.post(url, {"version": "1", "ends_on": "2027-11-30", "notes": "Mine"})
    assert stale.status_code == 409
    assert "Someone else changed this plan" in stale.content.decode()
    bad = client.post(url, {"version": "2", "ends_on": "2026-01-01", "notes": ""})
    assert bad.status_code == 400 and "cannot end before it starts" in bad.content.decode()
    plan.refresh_from_db()
    assert plan.ends_on == dt.date(2027, 12, 31) and plan.version == 2


def test_add_and_end_a_component(client, counselor, plan):
    login(client, counselor)
    add = reverse("aftercare:component-add", args=[plan.public_id])
    response = client.post(add, {"add-kind": "peer_recovery", "add-provider": "Recovery Cafe"})
    assert response.status_code == 302
    component = AftercareComponent.objects.get()
    bad = client.post(add, {"add-kind": "mutual_help", "add-starts_on": "2026-11-01"})
    assert bad.status_code == 400 and "A component starts within the plan" in bad.content.decode()
    assert AftercareComponent.objects.count() == 1
    end = reverse("aftercare:component-end", args=[component.public_id])
    future = client.post(end, {"end-ends_on": "2027-02-01"})
    assert future.status_code == 400
    assert "Record the end on or after the day it happens." in future.content.decode()
    component.refresh_from_db()
    assert component.ends_on is None
    assert client.post(end, {"end-ends_on": "2027-01-09"}).status_code == 302
    component.refresh_from_db()
    assert component.ends_on == dt.date(2027, 1, 9)


def test_log_engagement(client, counselor, plan, component):
    login(client, counselor)
    url = reverse("aftercare:engagement-log", args=[plan.public_id])
    data = {"log-component": str(component.public_id), "log-occurred_on": "2027-01-08",
            "log-source": "patient", "log-note": "Kept the appointment"}  # fmt: skip
    assert client.post(url, data).status_code == 302
    entry = EngagementEntry.objects.get()
    assert entry.source == "patient" and entry.occurred_on == dt.date(2027, 1, 8)
    future = client.post(url, {**data, "log-occurred_on": "2027-01-11"})
    assert future.status_code == 400 and "cannot be in the future" in future.content.decode()
    unknown = client.post(url, {**data, "log-component": "not-a-component"})
    assert unknown.status_code == 400
    assert EngagementEntry.objects.count() == 1


# --- follow-ups ----------------------------------------------------------------------------------


def test_an_unanswered_attempt_goes_back_to_the_list(client, intake, follow_up):
    url = reverse("aftercare:follow-up-attempt", args=[follow_up.public_id])
    login(client, intake)
    body = client.get(url).content.decode()
    assert 'value="2027-01-10T10:00"' in body  # now, in the clinic's time
    response = client.post(
        url, {"attempted_at": "2027-01-10T09:15", "channel": "phone", "result": "no_answer"}
    )
    assert response["Location"] == reverse("aftercare:follow-up-list")
    attempt = FollowUpAttempt.objects.get()
    assert attempt.attempted_at == dt.datetime(2027, 1, 10, 9, 15, tzinfo=NY)


def test_reached_goes_on_to_the_contact_form(client, intake, follow_up):
    url = reverse("aftercare:follow-up-attempt", args=[follow_up.public_id])
    login(client, intake)
    response = client.post(
        url, {"attempted_at": "2027-01-10T09:15", "channel": "phone", "result": "reached"}
    )
    assert response["Location"] == reverse(
        "aftercare:follow-up-contact", args=[follow_up.public_id]
    )


def test_attempt_bad_input(client, intake, follow_up):
    url = reverse("aftercare:follow-up-attempt", args=[follow_up.public_id])
    login(client, intake)
    future = client.post(
        url, {"attempted_at": "2027-01-10T11:00", "channel": "phone", "result": "no_answer"}
    )
    assert future.status_code == 400
    assert "The attempt cannot be in the future." in future.content.decode()
    missing = client.post(url, {"attempted_at": "2027-01-10T09:00", "channel": "phone"})
    assert missing.status_code == 400 and "This field is required." in missing.content.decode()
    assert not FollowUpAttempt.objects.exists()


def test_record_the_contact(client, counselor, follow_up):
    url = reverse("aftercare:follow-up-contact", args=[follow_up.public_id])
    login(client, counselor)
    body = client.get(url).content.decode()
    assert "Days of alcohol, past 30 days" in body  # the episode's primary substance
    assert "Part-time" in body and "Dependent living" in body
    response = client.post(url, contact_post(other_substance="4", other_days="1"))
    assert response["Location"] == reverse("aftercare:plan-detail", args=[follow_up.plan.public_id])
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.COMPLETED and follow_up.contacted_by == counselor
    assert follow_up.substance_days == {"2": 2, "4": 1}
    assert (follow_up.employment, follow_up.living, follow_up.in_treatment) == (2, 3, False)
    # Completed: the contact page sends you back to the plan.
    assert client.get(url)["Location"].endswith(f"{follow_up.plan.public_id}/")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"any_use_since_last": "no"}, "contradicts 2 days of use"),
        ({"days_used_30": "1"}, "cannot be fewer than the days of one substance (2)"),
        ({"days_used_30": "31"}, "less than or equal to 30"),
        ({"phq9": "28"}, "less than or equal to 27"),
        ({"gad7": "22"}, "less than or equal to 21"),
        ({"other_substance": "4"}, "Enter the days for that substance"),
        ({"contacted_on": "2027-01-11"}, "The date cannot be in the future."),
        ({"version": "7"}, "Someone else changed this follow-up"),
    ],
)
def test_contact_bad_input_changes_nothing(client, counselor, follow_up, override, message):
    login(client, counselor)
    url = reverse("aftercare:follow-up-contact", args=[follow_up.public_id])
    response = client.post(url, contact_post(**override))
    assert response.status_code in (400, 409)
    assert message in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.PENDING and follow_up.days_used_30 is None


def test_close_a_follow_up(client, counselor, follow_up):
    url = reverse("aftercare:follow-up-close", args=[follow_up.public_id])
    login(client, counselor)
    assert "never counted as a success" in client.get(url).content.decode()
    bad = client.post(url, {"reason": "other", "note": ""})
    assert bad.status_code == 400 and "Say why the follow-up is closed." in bad.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.PENDING
    response = client.post(url, {"reason": "declined"})
    assert response["Location"] == reverse("aftercare:follow-up-list")
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.CLOSED
    body = client.get(reverse("aftercare:follow-up-list")).content.decode()
    assert "Dana Whitfield" not in body


# --- the panels other pages include --------------------------------------------------------------


def test_dashboard_panels_and_patient_section_render(rf, counselor, front_desk, plan):
    from django.template.loader import render_to_string

    from openiop.aftercare import selectors

    today = dt.date(2027, 1, 10)
    request = rf.get("/")
    request.user = counselor
    context = {
        **selectors.follow_ups_panel_context(counselor, today, request=request),
        **selectors.gone_quiet_panel_context(counselor, today, request=request),
        **selectors.plans_for_patient_context(counselor, plan.patient, request=request),
    }
    follow_ups = render_to_string("aftercare/_follow_ups_panel.html", context)
    assert "1 due, 0 overdue" in follow_ups and "Dana Whitfield" in follow_ups
    assert reverse("aftercare:plan-detail", args=[plan.public_id]) in follow_ups
    quiet = render_to_string("aftercare/_gone_quiet_panel.html", context)
    assert "Gone quiet in aftercare" in quiet and "36 days" in quiet
    section = render_to_string("aftercare/_patient_plans.html", context)
    assert "Plan Dec 5, 2026 to Oct 4, 2027" in section and "next follow-up: 30-day" in section
    hidden = {
        **selectors.follow_ups_panel_context(front_desk, today),
        **selectors.gone_quiet_panel_context(front_desk, today),
        **selectors.plans_for_patient_context(front_desk, plan.patient),
    }
    for name in ("_follow_ups_panel", "_gone_quiet_panel", "_patient_plans"):
        assert render_to_string(f"aftercare/{name}.html", hidden).strip() == "", name


def test_engagement_chart_is_accessible_and_has_no_inline_style():
    from openiop.aftercare.charts import MonthBar, engagement_chart_svg

    svg = engagement_chart_svg(
        [MonthBar(1, "Dec", 2, "2+"), MonthBar(2, "Jan", 0, "0", partial=True)]
    )
    assert svg.startswith("<svg") and 'role="img"' in svg and "style=" not in svg
    assert "month 1 (Dec): 2 components; month 2 (Jan, so far): 0 components." in svg
    assert engagement_chart_svg([]) == ""
