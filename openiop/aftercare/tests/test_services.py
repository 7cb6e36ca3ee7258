"""Aftercare writes: the plan at discharge and its follow-up schedule, components, engagement,
follow-up attempts, contacts and closing. Today is frozen at Sunday 2027-01-10 in New York; the
``episode`` persona (admitted 2026-11-02) is discharged on 2026-12-04."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from conftest import NY, make_user
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
from openiop.aftercare.services import ComponentSpec
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_create, episode_discharge, episode_transfer
from openiop.organizations.models import Program
from openiop.patients.services import patient_create

NOW = dt.datetime(2027, 1, 10, 10, 0, tzinfo=NY)
DISCHARGED = dt.date(2026, 12, 4)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


# --- helpers shared by the aftercare test modules ------------------------------------------------


def discharge(episode, on=DISCHARGED, reason=1):
    return episode_discharge(actor=None, episode=episode, discharged_on=on, reason=reason)


def aftercare_program(site, name="Alumni group"):
    return Program.objects.create(
        organization=site.organization, site=site, name=name,
        cohort=Program.Cohort.EVENING, weekly_min_hours=Decimal("0"),
        weekly_max_hours=Decimal("3"), min_days_per_week=1, group_size_cap=20,
    )  # fmt: skip


def discharged_patient(org, program, counselor, first, last, *, admitted, discharged, reason=1):
    """Another patient, admitted and discharged (the counselor's caseload)."""
    person = patient_create(
        actor=None, organization=org, first_name=first, last_name=last,
        date_of_birth=dt.date(1985, 3, 3),
    )  # fmt: skip
    ep = episode_create(
        actor=None, patient=person, program=program, admitted_on=admitted,
        referral_source="self", primary_substance=2, primary_counselor=counselor,
    )  # fmt: skip
    return episode_discharge(actor=None, episode=ep, discharged_on=discharged, reason=reason)


def answers(**kw):
    values = dict(
        contacted_on=dt.date(2027, 1, 8), any_use_since_last=True, days_used_30=3,
        substance_days={"2": 3}, employment=1, living=3, arrests_30=0, in_treatment=True,
        phq9=6, gad7=4, notes="Doing well at work",
    )  # fmt: skip
    values.update(kw)
    return values


@pytest.fixture
def discharged(episode):
    return discharge(episode)


@pytest.fixture
def plan(counselor, discharged):
    return services.aftercare_plan_create(actor=counselor, episode=discharged)


@pytest.fixture
def component(counselor, plan):
    return services.component_add(
        actor=counselor, plan=plan, kind=ComponentKind.MUTUAL_HELP, provider="SMART Recovery",
        schedule="Tuesdays 7 pm",
    )  # fmt: skip


@pytest.fixture
def follow_up(plan):
    return plan.follow_ups.get(offset_days=30)


def actions(action):
    return AuditEvent.objects.filter(action=action)


# --- the plan ------------------------------------------------------------------------------------


def test_plan_starts_the_day_after_discharge_and_schedules_the_follow_ups(counselor, discharged):
    plan = services.aftercare_plan_create(actor=counselor, episode=discharged, notes="Alumni")
    assert plan.starts_on == dt.date(2026, 12, 5)
    assert plan.ends_on == dt.date(2027, 10, 4)  # 10 months: the day before Oct 5
    assert plan.patient_id == discharged.patient_id and plan.notes == "Alumni"
    due = list(plan.follow_ups.order_by("offset_days").values_list("offset_days", "due_on"))
    assert due == [
        (30, dt.date(2027, 1, 3)),
        (90, dt.date(2027, 3, 4)),
        (180, dt.date(2027, 6, 2)),
        (365, dt.date(2027, 12, 4)),
    ]
    assert set(plan.follow_ups.values_list("status", flat=True)) == {FollowUp.Status.PENDING}
    event = actions("openiop.aftercare.plan.create").get()
    assert event.patient_id == str(discharged.patient.public_id)
    assert event.actor == counselor
    assert event.detail["follow_ups"][0] == "2027-01-03"


def test_plan_starts_with_its_components(counselor, discharged, site):
    group = aftercare_program(site)
    plan = services.aftercare_plan_create(
        actor=counselor, episode=discharged, starts_on=dt.date(2026, 12, 7),
        components=[
            ComponentSpec(kind=ComponentKind.ALUMNI_GROUP, program=group, schedule="Thursdays"),
            ComponentSpec(
                kind=ComponentKind.OUTPATIENT_THERAPY, provider="Dr. Reyes",
                starts_on=dt.date(2026, 12, 14),
            ),
        ],
    )  # fmt: skip
    assert plan.ends_on == dt.date(2027, 10, 6)
    rows = list(plan.components.order_by("starts_on").values_list("kind", "starts_on", "program"))
    assert rows == [
        ("alumni_group", dt.date(2026, 12, 7), group.pk),
        ("outpatient_therapy", dt.date(2026, 12, 14), None),
    ]


def test_the_schedule_and_length_come_from_the_settings(settings, counselor, discharged):
    settings.OPENIOP_FOLLOW_UP_DAYS = (14, 60)
    settings.OPENIOP_AFTERCARE_MONTHS = 6
    plan = services.aftercare_plan_create(actor=counselor, episode=discharged)
    assert plan.ends_on == dt.date(2027, 6, 4)
    assert list(plan.follow_ups.values_list("due_on", flat=True)) == [
        dt.date(2026, 12, 18),
        dt.date(2027, 2, 2),
    ]


def test_an_open_episode_gets_no_plan(counselor, episode):
    with pytest.raises(ValidationError) as exc:
        services.aftercare_plan_create(actor=counselor, episode=episode)
    assert "not discharged" in exc.value.message_dict["episode"][0]
    assert not AftercarePlan.objects.exists()


def test_a_transfer_segment_gets_no_plan_but_the_next_discharge_does(counselor, episode, site):
    step_down = aftercare_program(site, "Step-down OP")
    new = episode_transfer(
        actor=None, episode=episode, to_program=step_down, effective_on=dt.date(2026, 12, 1)
    )
    episode.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        services.aftercare_plan_create(actor=counselor, episode=episode)
    assert "ended in a transfer" in exc.value.message_dict["episode"][0]
    new = discharge(new, on=dt.date(2026, 12, 20))  # the transfer admitted the next segment
    plan = services.aftercare_plan_create(actor=counselor, episode=new)
    assert plan.starts_on == dt.date(2026, 12, 21)
    assert plan.follow_ups.get(offset_days=30).due_on == dt.date(2027, 1, 19)


def test_a_patient_who_died_gets_no_plan(counselor, episode):
    died = discharge(episode, reason=6)
    with pytest.raises(ValidationError, match="died"):
        services.aftercare_plan_create(actor=counselor, episode=died)


def test_one_plan_per_episode(counselor, plan):
    with pytest.raises(ValidationError) as exc:
        services.aftercare_plan_create(actor=counselor, episode=plan.episode)
    assert exc.value.message_dict["episode"] == ["This episode already has an aftercare plan."]
    assert AftercarePlan.objects.count() == 1 and FollowUp.objects.count() == 4


def test_the_plan_cannot_start_before_discharge(counselor, discharged):
    with pytest.raises(ValidationError) as exc:
        services.aftercare_plan_create(
            actor=counselor, episode=discharged, starts_on=dt.date(2026, 12, 3)
        )
    assert "on or after the discharge (Dec 4, 2026)" in exc.value.message_dict["starts_on"][0]
    assert not AftercarePlan.objects.exists()


def test_a_bad_component_starts_nothing(counselor, discharged):
    with pytest.raises(ValidationError) as exc:
        services.aftercare_plan_create(
            actor=counselor, episode=discharged,
            components=[ComponentSpec(kind="yoga")],
        )  # fmt: skip
    assert exc.value.message_dict["components"] == ["Component 1: Choose the kind of aftercare."]
    assert not AftercarePlan.objects.exists() and not FollowUp.objects.exists()


def test_roles_without_the_permission_and_other_organizations_are_refused(
    front_desk, outsider, discharged
):
    with pytest.raises(PermissionDenied):
        services.aftercare_plan_create(actor=front_desk, episode=discharged)
    with pytest.raises(PermissionDenied):
        services.aftercare_plan_create(actor=outsider, episode=discharged)
    assert not AftercarePlan.objects.exists()


def test_plan_update_extends_it_and_refuses_a_stale_save(counselor, plan):
    updated = services.aftercare_plan_update(
        actor=counselor, plan=plan, notes="Extended: new job", ends_on=dt.date(2027, 12, 31),
        expected_version=1,
    )  # fmt: skip
    assert updated.ends_on == dt.date(2027, 12, 31) and updated.version == 2
    assert updated.notes == "Extended: new job"
    event = actions("openiop.aftercare.plan.update").get()
    assert event.detail["changed"] == ["notes", "ends_on"]
    with pytest.raises(ValidationError) as exc:
        services.aftercare_plan_update(
            actor=counselor, plan=plan, notes="Mine", ends_on=dt.date(2027, 11, 1),
            expected_version=1,
        )  # fmt: skip
    assert "Someone else changed this plan" in exc.value.message_dict["version"][0]
    plan.refresh_from_db()
    assert plan.notes == "Extended: new job"


def test_plan_cannot_end_before_it_starts(counselor, plan):
    with pytest.raises(ValidationError) as exc:
        services.aftercare_plan_update(
            actor=counselor, plan=plan, notes="", ends_on=dt.date(2026, 12, 1), expected_version=1
        )
    assert "ends_on" in exc.value.message_dict
    plan.refresh_from_db()
    assert plan.ends_on == dt.date(2027, 10, 4) and plan.version == 1


# --- components and engagement -------------------------------------------------------------------


def test_component_add_defaults_to_the_plan_start_and_is_audited(counselor, plan, component):
    assert component.starts_on == plan.starts_on
    assert component.provider == "SMART Recovery" and component.ends_on is None
    event = actions("openiop.aftercare.component.create").get()
    assert event.object_id == str(component.public_id)
    assert event.patient_id == str(plan.patient.public_id)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "yoga"}, "kind"),
        ({"kind": "mutual_help", "starts_on": dt.date(2026, 12, 4)}, "starts_on"),
        ({"kind": "mutual_help", "starts_on": dt.date(2027, 10, 5)}, "starts_on"),
        ({"kind": "mutual_help", "provider": "x" * 201}, "provider"),
    ],
)
def test_component_add_refuses_bad_input(counselor, plan, kwargs, field):
    with pytest.raises(ValidationError) as exc:
        services.component_add(actor=counselor, plan=plan, **kwargs)
    assert field in exc.value.message_dict
    assert not AftercareComponent.objects.exists()


def test_component_add_refuses_another_organizations_program(counselor, plan, other_org):
    from openiop.organizations.models import Site

    site = Site.objects.create(organization=other_org, name="Lakeside", timezone="UTC")
    theirs = aftercare_program(site)
    with pytest.raises(ValidationError) as exc:
        services.component_add(actor=counselor, plan=plan, kind="alumni_group", program=theirs)
    assert exc.value.message_dict["program"] == ["Unknown program."]


def test_component_end(counselor, component):
    with pytest.raises(ValidationError, match="before it started"):
        services.component_end(actor=counselor, component=component, ends_on=dt.date(2026, 12, 4))
    with pytest.raises(ValidationError, match="on or after the day it happens"):
        services.component_end(actor=counselor, component=component, ends_on=dt.date(2027, 1, 11))
    services.component_end(actor=counselor, component=component, ends_on=dt.date(2027, 1, 9))
    component.refresh_from_db()
    assert component.ends_on == dt.date(2027, 1, 9)
    assert actions("openiop.aftercare.component.end").count() == 1
    with pytest.raises(ValidationError, match="already ended on Jan 9, 2027"):
        services.component_end(actor=counselor, component=component, ends_on=dt.date(2027, 1, 10))


def test_engagement_log_is_saved_and_audited(counselor, component):
    entry = services.engagement_log(
        actor=counselor, component=component, occurred_on=dt.date(2027, 1, 5),
        source=EngagementEntry.Source.PATIENT, note="Tuesday meeting",
    )  # fmt: skip
    assert entry.occurred_on == dt.date(2027, 1, 5) and entry.source == "patient"
    event = actions("openiop.aftercare.engagement.create").get()
    assert event.detail["occurred_on"] == "2027-01-05"


@pytest.mark.parametrize(
    ("day", "source", "field", "message"),
    [
        (dt.date(2027, 1, 11), "staff", "occurred_on", "cannot be in the future"),
        (dt.date(2026, 12, 4), "staff", "occurred_on", "plan starts on Dec 5, 2026"),
        (dt.date(2027, 1, 5), "robot", "source", "staff or the patient"),
    ],
)
def test_engagement_log_refuses_bad_input(counselor, component, day, source, field, message):
    with pytest.raises(ValidationError) as exc:
        services.engagement_log(
            actor=counselor, component=component, occurred_on=day, source=source
        )
    assert message in exc.value.message_dict[field][0]
    assert not EngagementEntry.objects.exists()


def test_engagement_log_refuses_a_day_after_the_component_ended(counselor, component):
    services.component_end(actor=counselor, component=component, ends_on=dt.date(2027, 1, 2))
    with pytest.raises(ValidationError, match="ended on Jan 2, 2027"):
        services.engagement_log(
            actor=counselor, component=component, occurred_on=dt.date(2027, 1, 3)
        )


# --- follow-ups ----------------------------------------------------------------------------------


def test_attempt_is_recorded_and_audited(intake, follow_up):
    at = dt.datetime(2027, 1, 7, 17, 30, tzinfo=NY)
    attempt = services.follow_up_attempt_record(
        actor=intake, follow_up=follow_up, attempted_at=at, channel="phone", result="no_answer",
        note="Voicemail full",
    )  # fmt: skip
    assert attempt.attempted_at == at and attempt.result == FollowUpAttempt.Result.NO_ANSWER
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.PENDING  # an attempt does not complete it
    event = actions("openiop.aftercare.follow_up_attempt.create").get()
    assert event.detail["result"] == "no_answer" and event.actor == intake


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"attempted_at": dt.datetime(2027, 1, 10, 12, 0, tzinfo=NY)}, "attempted_at"),
        ({"attempted_at": dt.datetime(2026, 12, 3, 12, 0, tzinfo=NY)}, "attempted_at"),
        ({"attempted_at": dt.datetime(2027, 1, 7, 12, 0)}, "attempted_at"),  # naive
        ({"result": "busy"}, "result"),
        ({"channel": "pigeon"}, "channel"),
    ],
)
def test_attempt_refuses_bad_input(counselor, follow_up, kwargs, field):
    args = {"attempted_at": dt.datetime(2027, 1, 7, 9, 0, tzinfo=NY), "result": "no_answer"}
    with pytest.raises(ValidationError) as exc:
        services.follow_up_attempt_record(
            actor=counselor, follow_up=follow_up, **{**args, **kwargs}
        )
    assert field in exc.value.message_dict
    assert not FollowUpAttempt.objects.exists()


def test_complete_records_the_answers(counselor, follow_up):
    done = services.follow_up_complete(
        actor=counselor, follow_up=follow_up, expected_version=1, **answers()
    )
    assert done.status == FollowUp.Status.COMPLETED and done.version == 2
    assert done.contacted_on == dt.date(2027, 1, 8) and done.contacted_by == counselor
    assert done.days_used_30 == 3 and done.substance_days == {"2": 3}
    assert (done.employment, done.living, done.arrests_30) == (1, 3, 0)
    assert (done.in_treatment, done.phq9, done.gad7) == (True, 6, 4)
    event = actions("openiop.aftercare.follow_up.complete").get()
    assert event.detail["in_window"] is True and event.detail["offset_days"] == 30


def test_complete_accepts_unanswered_questions(counselor, follow_up):
    done = services.follow_up_complete(
        actor=counselor, follow_up=follow_up, expected_version=1,
        **answers(any_use_since_last=None, days_used_30=None, substance_days={}, employment=None,
                  living=None, arrests_30=None, in_treatment=None, phq9=None, gad7=None),
    )  # fmt: skip
    assert done.status == FollowUp.Status.COMPLETED and done.days_used_30 is None


def test_no_use_and_zero_days_is_abstinence_not_a_contradiction(counselor, follow_up):
    done = services.follow_up_complete(
        actor=counselor, follow_up=follow_up, expected_version=1,
        **answers(any_use_since_last=False, days_used_30=0, substance_days={"2": 0}),
    )  # fmt: skip
    assert done.any_use_since_last is False and done.days_used_30 == 0


def test_a_contact_outside_the_window_is_marked_so_in_the_audit(counselor, plan):
    late = plan.follow_ups.get(offset_days=30)
    with time_machine.travel(dt.datetime(2027, 2, 10, 10, tzinfo=NY), tick=False):
        services.follow_up_complete(
            actor=counselor, follow_up=late, expected_version=1,
            **answers(contacted_on=dt.date(2027, 2, 10)),
        )  # fmt: skip
    assert actions("openiop.aftercare.follow_up.complete").get().detail["in_window"] is False


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"days_used_30": 31}, "days_used_30", "from 0 to 30"),
        ({"days_used_30": -1}, "days_used_30", "from 0 to 30"),
        ({"substance_days": {"2": 31}, "days_used_30": 30}, "substance_days", "from 0 to 30"),
        ({"substance_days": {"2": 5}, "days_used_30": 4}, "days_used_30", "cannot be fewer"),
        ({"substance_days": {"2": 5}, "days_used_30": None}, "days_used_30", "at least 5"),
        ({"substance_days": {"99": 1}}, "substance_days", "Unknown substance"),
        ({"any_use_since_last": False, "days_used_30": 2, "substance_days": {}},
         "any_use_since_last", "contradicts 2 days"),
        ({"phq9": 28}, "phq9", "0 to 27"),
        ({"gad7": 22}, "gad7", "0 to 21"),
        ({"employment": 5}, "employment", "employment"),
        ({"living": 4}, "living", "living"),
        ({"arrests_30": 31}, "arrests_30", "0 to 30"),
        ({"contacted_on": dt.date(2027, 1, 11)}, "contacted_on", "future"),
        ({"contacted_on": dt.date(2026, 12, 3)}, "contacted_on", "discharged on Dec 4, 2026"),
    ],
)  # fmt: skip
def test_complete_refuses_bad_or_contradictory_answers(
    counselor, follow_up, override, field, message
):
    with pytest.raises(ValidationError) as exc:
        services.follow_up_complete(
            actor=counselor, follow_up=follow_up, expected_version=1, **answers(**override)
        )
    assert message in " ".join(exc.value.message_dict[field])
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.PENDING and follow_up.version == 1
    assert follow_up.days_used_30 is None
    assert not actions("openiop.aftercare.follow_up.complete").exists()


def test_complete_refuses_a_stale_version_and_a_second_completion(counselor, intake, follow_up):
    services.follow_up_complete(
        actor=intake, follow_up=follow_up, expected_version=1, **answers(days_used_30=3)
    )
    stale = FollowUp.objects.get(pk=follow_up.pk)
    stale.status = FollowUp.Status.PENDING  # the page the counselor still has open
    with pytest.raises(ValidationError) as exc:
        services.follow_up_complete(
            actor=counselor, follow_up=stale, expected_version=1, **answers(days_used_30=9)
        )
    assert "Someone else changed this follow-up" in exc.value.message_dict["version"][0]
    follow_up.refresh_from_db()
    assert follow_up.days_used_30 == 3 and follow_up.contacted_by == intake
    with pytest.raises(ValidationError, match="already completed"):
        services.follow_up_complete(
            actor=counselor, follow_up=follow_up, expected_version=2, **answers()
        )


def test_close_takes_a_follow_up_off_without_contact(counselor, follow_up):
    closed = services.follow_up_close(
        actor=counselor, follow_up=follow_up, reason="unreachable", note="Three calls, no reply"
    )
    assert [f.pk for f in closed] == [follow_up.pk]
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.CLOSED and follow_up.contacted_on is None
    assert follow_up.notes.startswith("Closed without contact: Could not be reached")
    assert "Three calls" in follow_up.notes
    assert FollowUp.objects.filter(status=FollowUp.Status.PENDING).count() == 3
    assert actions("openiop.aftercare.follow_up.close").get().detail["reason"] == "unreachable"
    with pytest.raises(ValidationError, match="closed without contact"):
        services.follow_up_complete(
            actor=counselor, follow_up=follow_up, expected_version=2, **answers()
        )
    with pytest.raises(ValidationError, match="closed without contact"):
        services.follow_up_attempt_record(
            actor=counselor, follow_up=follow_up, result="no_answer",
            attempted_at=dt.datetime(2027, 1, 9, 9, tzinfo=NY),
        )  # fmt: skip


def test_closing_because_the_patient_died_closes_every_pending_follow_up(counselor, plan):
    first = plan.follow_ups.get(offset_days=30)
    services.follow_up_complete(actor=counselor, follow_up=first, expected_version=1, **answers())
    ninety = plan.follow_ups.get(offset_days=90)
    closed = services.follow_up_close(actor=counselor, follow_up=ninety, reason="died")
    assert [f.offset_days for f in closed] == [90, 180, 365]
    statuses = dict(plan.follow_ups.values_list("offset_days", "status"))
    assert statuses == {30: "completed", 90: "closed", 180: "closed", 365: "closed"}


def test_close_needs_a_reason(counselor, follow_up):
    with pytest.raises(ValidationError) as exc:
        services.follow_up_close(actor=counselor, follow_up=follow_up, reason="bored")
    assert "reason" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.follow_up_close(actor=counselor, follow_up=follow_up, reason="other")
    assert exc.value.message_dict["note"] == ["Say why the follow-up is closed."]
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.PENDING


def test_another_counselor_of_the_organization_may_write(org, follow_up):
    """Services check role and organization; the caseload is checked by the page's fetch."""
    colleague = make_user("counselor_b", org, Role.COUNSELOR)
    services.follow_up_attempt_record(
        actor=colleague, follow_up=follow_up, result="left_message",
        attempted_at=dt.datetime(2027, 1, 9, 9, tzinfo=NY),
    )  # fmt: skip
    assert FollowUpAttempt.objects.count() == 1
