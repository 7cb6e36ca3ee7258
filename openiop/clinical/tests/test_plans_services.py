"""Treatment plan services and selectors: drafting, signing, activation, revision, reviews and
the dashboard's "plan reviews due"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from openiop.clinical.models import (
    ObjectiveProgress,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanReview,
    TreatmentPlan,
)
from openiop.clinical.selectors.plans import (
    plan_objectives_for_patient,
    plan_objectives_for_patients,
    plan_reviews_due,
)
from openiop.clinical.services import plans as svc
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_create
from openiop.organizations.models import Program
from openiop.patients.services import patient_create

# Thursday Nov 5, 2026, 10:00 in New York.
NOW = dt.datetime(2026, 11, 5, 15, 0, tzinfo=dt.UTC)
S = TreatmentPlan.Status


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def build_plan(actor, episode, *, objectives: int = 2) -> TreatmentPlan:
    """A complete draft: one problem (alcohol use disorder), one goal, ``objectives``
    objectives each with one intervention."""
    plan = svc.plan_create_draft(actor=actor, episode=episode)
    problem = svc.plan_problem_add(
        actor=actor, plan=plan, description="Drinks a fifth a day; lost job in September.",
        icd10_code="F10.20", icd10_text="Alcohol dependence, uncomplicated",
    )  # fmt: skip
    goal = svc.plan_goal_add(actor=actor, problem=problem, text="I want to stop drinking.")
    for n in range(objectives):
        objective = svc.plan_objective_add(
            actor=actor, goal=goal, text=f"Objective {n + 1}: 3 negative breath tests a week",
            target_on=dt.date(2026, 12, 15),
        )  # fmt: skip
        svc.plan_intervention_add(
            actor=actor, objective=objective, modality="group", frequency="3 groups a week",
            responsible=actor,
        )  # fmt: skip
    plan.refresh_from_db()
    return plan


def sign_all(actor, plan, name="Dana Whitfield", **guardian) -> TreatmentPlan:
    svc.plan_sign_clinician(actor=actor, plan=plan)
    return svc.plan_sign_patient(actor=actor, plan=plan, patient_signature=name, **guardian)


def active_plan(actor, episode, **kw) -> TreatmentPlan:
    plan = sign_all(actor, build_plan(actor, episode, **kw))
    assert plan.status == S.ACTIVE
    return plan


def objective_ids(plan) -> list[str]:
    return [
        str(o.public_id)
        for o in PlanObjective.objects.filter(goal__problem__plan=plan).order_by("position")
    ]


# --- drafting -------------------------------------------------------------------------------


def test_a_draft_copies_the_programs_review_cadence(counselor, episode, program):
    program.plan_review_interval = 2
    program.plan_review_unit = "months"
    program.save()
    plan = svc.plan_create_draft(actor=counselor, episode=episode)
    assert (plan.status, plan.version, plan.review_interval, plan.review_unit) == (
        S.DRAFT, 1, 2, "months",
    )  # fmt: skip
    event = AuditEvent.objects.get(action="openiop.clinical.plan.create")
    assert event.category == AuditEvent.Category.CLINICAL
    assert event.patient_id == str(episode.patient.public_id)


def test_an_episode_has_at_most_one_draft(counselor, episode):
    svc.plan_create_draft(actor=counselor, episode=episode)
    with pytest.raises(ValidationError) as err:
        svc.plan_create_draft(actor=counselor, episode=episode)
    assert "episode" in err.value.message_dict
    assert TreatmentPlan.objects.count() == 1


def test_front_desk_and_outsiders_cannot_write_plans(front_desk, billing, outsider, episode):
    for who in (front_desk, billing, outsider):
        with pytest.raises(PermissionDenied):
            svc.plan_create_draft(actor=who, episode=episode)
    assert not TreatmentPlan.objects.exists()


def test_cadence_override_for_a_medicare_patient(counselor, episode):
    plan = svc.plan_create_draft(actor=counselor, episode=episode)
    svc.plan_update_draft(
        actor=counselor, plan=plan, strengths="Supportive sister", barriers="No car",
        review_interval=2, review_unit="months",
    )  # fmt: skip
    plan.refresh_from_db()
    assert (plan.strengths, plan.review_interval, plan.review_unit) == (
        "Supportive sister", 2, "months",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("interval", "unit", "field"),
    [
        (0, "days", "review_interval"),
        (30, "weeks", "review_unit"),
        (400, "days", "review_interval"),
    ],
)
def test_a_bad_cadence_names_the_field_and_changes_nothing(
    counselor, episode, interval, unit, field
):
    plan = svc.plan_create_draft(actor=counselor, episode=episode)
    with pytest.raises(ValidationError) as err:
        svc.plan_update_draft(
            actor=counselor, plan=plan, strengths="changed", barriers="",
            review_interval=interval, review_unit=unit,
        )  # fmt: skip
    assert field in err.value.message_dict
    plan.refresh_from_db()
    assert (plan.strengths, plan.review_interval) == ("", 30)


@pytest.mark.parametrize("code", ["F10.20", "f11.20", "F32.1", "F41.1", "F1020", "Z59.01", ""])
def test_icd10_codes_of_the_right_shape_are_accepted(counselor, episode, code):
    plan = svc.plan_create_draft(actor=counselor, episode=episode)
    problem = svc.plan_problem_add(
        actor=counselor, plan=plan, description="Problem", icd10_code=code
    )
    assert problem.icd10_code == {"f11.20": "F11.20", "F1020": "F10.20"}.get(code, code)


@pytest.mark.parametrize("code", ["alcohol", "F1", "10.20", "F10.20000", "F10-20"])
def test_a_malformed_icd10_code_is_refused(counselor, episode, code):
    plan = svc.plan_create_draft(actor=counselor, episode=episode)
    with pytest.raises(ValidationError) as err:
        svc.plan_problem_add(actor=counselor, plan=plan, description="Problem", icd10_code=code)
    assert "icd10_code" in err.value.message_dict
    assert not PlanProblem.objects.exists()


def test_a_problem_needs_text(counselor, episode):
    plan = svc.plan_create_draft(actor=counselor, episode=episode)
    with pytest.raises(ValidationError) as err:
        svc.plan_problem_add(actor=counselor, plan=plan, description="  ", icd10_code="F10.20")
    assert "description" in err.value.message_dict


def test_an_objective_target_date_cannot_be_before_admission(counselor, episode):
    plan = svc.plan_create_draft(actor=counselor, episode=episode)
    problem = svc.plan_problem_add(actor=counselor, plan=plan, description="Problem")
    goal = svc.plan_goal_add(actor=counselor, problem=problem, text="Stay sober")
    with pytest.raises(ValidationError) as err:
        svc.plan_objective_add(
            actor=counselor, goal=goal, text="Attend AA", target_on=dt.date(2026, 11, 1)
        )
    assert "target_on" in err.value.message_dict
    assert not PlanObjective.objects.exists()
    ok = svc.plan_objective_add(
        actor=counselor, goal=goal, text="Attend AA", target_on=dt.date(2026, 11, 2)
    )
    assert ok.target_on == dt.date(2026, 11, 2)


def test_an_intervention_needs_a_frequency_and_a_known_modality(counselor, episode):
    plan = build_plan(counselor, episode, objectives=1)
    objective = PlanObjective.objects.get()
    for kwargs, field in (
        ({"modality": "group", "frequency": ""}, "frequency"),
        ({"modality": "yoga", "frequency": "weekly"}, "modality"),
    ):
        with pytest.raises(ValidationError) as err:
            svc.plan_intervention_add(actor=counselor, objective=objective, **kwargs)
        assert field in err.value.message_dict
    assert PlanIntervention.objects.filter(objective__goal__problem__plan=plan).count() == 1


def test_parts_are_numbered_in_order_and_removal_cascades(counselor, episode):
    plan = build_plan(counselor, episode, objectives=2)
    assert list(PlanObjective.objects.values_list("position", flat=True)) == [0, 1]
    svc.plan_goal_remove(actor=counselor, goal=PlanGoal.objects.get())
    assert not PlanObjective.objects.exists()
    assert not PlanIntervention.objects.exists()
    assert PlanProblem.objects.filter(plan=plan).count() == 1


# --- signing and activation -----------------------------------------------------------------


def test_the_clinician_cannot_sign_an_incomplete_plan(counselor, episode):
    plan = svc.plan_create_draft(actor=counselor, episode=episode)
    problem = svc.plan_problem_add(actor=counselor, plan=plan, description="Problem")
    svc.plan_goal_add(actor=counselor, problem=problem, text="Stay sober")
    with pytest.raises(ValidationError) as err:
        svc.plan_sign_clinician(actor=counselor, plan=plan)
    assert "Goal 1.1 has no measurable objective." in err.value.message_dict["plan"]
    plan.refresh_from_db()
    assert plan.clinician_signed_at is None


def test_signing_by_clinician_and_patient_activates_the_plan(counselor, episode):
    plan = build_plan(counselor, episode)
    plan = svc.plan_sign_clinician(actor=counselor, plan=plan)
    assert plan.status == S.DRAFT and plan.clinician_signed_by == counselor
    plan = svc.plan_sign_patient(actor=counselor, plan=plan, patient_signature="Dana Whitfield")
    plan.refresh_from_db()
    assert plan.status == S.ACTIVE
    assert plan.effective_on == dt.date(2026, 11, 5)
    assert plan.next_review_on == dt.date(2026, 12, 5)  # 30 days
    assert plan.patient_signature == "Dana Whitfield" and plan.patient_signed_at == NOW
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"openiop.clinical.plan.sign_clinician", "openiop.clinical.plan.sign_patient",
            "openiop.clinical.plan.activate"} <= actions  # fmt: skip


def test_the_patient_may_sign_first(counselor, episode):
    plan = build_plan(counselor, episode)
    svc.plan_sign_patient(actor=counselor, plan=plan, patient_signature="Dana Whitfield")
    plan = svc.plan_sign_clinician(actor=counselor, plan=plan)
    assert plan.status == S.ACTIVE


def test_activation_uses_the_sites_local_date(counselor, episode, _frozen):
    # 10 pm in New York on Nov 5 is already Nov 6 in UTC.
    _frozen.move_to(dt.datetime(2026, 11, 6, 3, 0, tzinfo=dt.UTC))
    plan = sign_all(counselor, build_plan(counselor, episode))
    assert plan.effective_on == dt.date(2026, 11, 5)


def test_a_monthly_cadence_counts_calendar_months(counselor, episode, _frozen):
    _frozen.move_to(dt.datetime(2026, 12, 31, 15, 0, tzinfo=dt.UTC))
    plan = build_plan(counselor, episode)
    svc.plan_update_draft(
        actor=counselor, plan=plan, strengths="", barriers="", review_interval=2,
        review_unit="months",
    )  # fmt: skip
    plan = sign_all(counselor, plan)
    assert plan.next_review_on == dt.date(2027, 2, 28)


def test_editing_a_signed_draft_clears_the_signatures(counselor, episode):
    plan = build_plan(counselor, episode)
    svc.plan_sign_clinician(actor=counselor, plan=plan)
    svc.plan_problem_add(actor=counselor, plan=plan, description="Housing unstable")
    plan.refresh_from_db()
    assert plan.clinician_signed_at is None and plan.clinician_signed_by is None
    event = AuditEvent.objects.filter(action="openiop.clinical.plan.problem.add").last()
    assert event.detail["signatures_cleared"] is True


def test_an_active_plan_is_not_edited(counselor, episode):
    plan = active_plan(counselor, episode)
    with pytest.raises(ValidationError) as err:
        svc.plan_problem_add(actor=counselor, plan=plan, description="Another")
    assert "status" in err.value.message_dict
    with pytest.raises(ValidationError):
        svc.plan_goal_update(actor=counselor, goal=PlanGoal.objects.get(), text="changed")
    assert PlanGoal.objects.get().text == "I want to stop drinking."


def test_signatures_need_a_signed_in_clinician(front_desk, episode, counselor):
    plan = build_plan(counselor, episode)
    with pytest.raises(PermissionDenied):
        svc.plan_sign_clinician(actor=None, plan=plan)
    with pytest.raises(PermissionDenied):
        svc.plan_sign_patient(actor=front_desk, plan=plan, patient_signature="Dana")


@pytest.fixture
def teen_program(site):
    return Program.objects.create(
        organization=site.organization, site=site, name="Adolescent IOP",
        population=Program.Population.ADOLESCENT, min_age=14, max_age=17,
        weekly_min_hours=Decimal("6.0"), weekly_max_hours=Decimal("12.0"),
    )  # fmt: skip


def teen_episode(org, program, counselor, dob):
    teen = patient_create(
        actor=None, organization=org, first_name="Jordan", last_name="Reyes", date_of_birth=dob,
        sex="male",
    )  # fmt: skip
    return episode_create(
        actor=None, patient=teen, program=program, admitted_on=dt.date(2026, 11, 2),
        primary_counselor=counselor,
    )  # fmt: skip


def test_a_minor_needs_a_guardian_signature_and_relationship(org, teen_program, counselor):
    episode = teen_episode(org, teen_program, counselor, dt.date(2010, 3, 1))
    plan = build_plan(counselor, episode)
    svc.plan_sign_clinician(actor=counselor, plan=plan)
    with pytest.raises(ValidationError) as err:
        svc.plan_sign_patient(actor=counselor, plan=plan, patient_signature="Jordan Reyes")
    assert "guardian_signature" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        svc.plan_sign_patient(
            actor=counselor, plan=plan, patient_signature="Jordan Reyes",
            guardian_signature="Maria Reyes",
        )  # fmt: skip
    assert "guardian_relationship" in err.value.message_dict
    plan.refresh_from_db()
    assert plan.patient_signed_at is None and plan.status == S.DRAFT
    plan = svc.plan_sign_patient(
        actor=counselor, plan=plan, patient_signature="Jordan Reyes",
        guardian_signature="Maria Reyes", guardian_relationship="Mother",
    )  # fmt: skip
    assert plan.status == S.ACTIVE
    assert (plan.guardian_signature, plan.guardian_relationship) == ("Maria Reyes", "Mother")


def test_a_patient_who_turns_18_on_the_signing_day_signs_alone(org, teen_program, counselor):
    # Born Nov 5, 2008: 17 when admitted on Nov 2, 18 today (Nov 5, 2026).
    episode = teen_episode(org, teen_program, counselor, dt.date(2008, 11, 5))
    plan = build_plan(counselor, episode)
    assert sign_all(counselor, plan, name="Jordan Reyes").status == S.ACTIVE


# --- revision -------------------------------------------------------------------------------


def test_revise_copies_the_whole_plan_into_a_new_draft(counselor, episode):
    plan = active_plan(counselor, episode)
    draft = svc.plan_revise(actor=counselor, plan=plan)
    assert (draft.status, draft.version, draft.supersedes_id) == (S.DRAFT, 2, plan.pk)
    original = PlanObjective.objects.filter(goal__problem__plan=plan)
    copied = PlanObjective.objects.filter(goal__problem__plan=draft)
    assert [o.text for o in copied] == [o.text for o in original]
    assert PlanIntervention.objects.filter(objective__goal__problem__plan=draft).count() == 2
    assert PlanProblem.objects.get(plan=draft).icd10_code == "F10.20"
    plan.refresh_from_db()
    assert plan.status == S.ACTIVE  # stays in force until the revision is signed
    with pytest.raises(ValidationError):
        svc.plan_revise(actor=counselor, plan=plan)  # one draft at a time


def test_signing_a_revision_supersedes_the_active_plan(counselor, episode, _frozen):
    plan = active_plan(counselor, episode)
    _frozen.move_to(dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC))
    draft = svc.plan_revise(actor=counselor, plan=plan)
    svc.plan_objective_add(
        actor=counselor, goal=PlanGoal.objects.get(problem__plan=draft),
        text="Find a sponsor", target_on=dt.date(2027, 1, 5),
    )  # fmt: skip
    svc.plan_intervention_add(
        actor=counselor, objective=PlanObjective.objects.get(text="Find a sponsor"),
        modality="peer_support", frequency="weekly",
    )  # fmt: skip
    draft = sign_all(counselor, draft)
    plan.refresh_from_db()
    assert (plan.status, draft.status) == (S.SUPERSEDED, S.ACTIVE)
    assert draft.effective_on == dt.date(2026, 11, 20)
    assert draft.next_review_on == dt.date(2026, 12, 20)
    assert PlanObjective.objects.filter(goal__problem__plan=plan).count() == 2


def test_only_an_active_plan_is_revised(counselor, episode):
    plan = build_plan(counselor, episode)
    with pytest.raises(ValidationError) as err:
        svc.plan_revise(actor=counselor, plan=plan)
    assert "status" in err.value.message_dict


# --- reviews --------------------------------------------------------------------------------


def test_a_review_rates_every_objective_and_moves_the_next_review(counselor, episode, _frozen):
    plan = active_plan(counselor, episode)  # effective Nov 5, due Dec 5
    _frozen.move_to(dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC))
    first, second = objective_ids(plan)
    review = svc.plan_review_record(
        actor=counselor, plan=plan, reviewed_on=dt.date(2026, 12, 8), summary="Going well",
        progress={first: ("achieved", "5 negative tests"), second: ("progressing", "")},
    )  # fmt: skip
    plan.refresh_from_db()
    assert review.due_on == dt.date(2026, 12, 5)  # it was late
    assert review.next_review_on == plan.next_review_on == dt.date(2027, 1, 7)
    ratings = dict(ObjectiveProgress.objects.values_list("objective__public_id", "rating"))
    assert {str(k): v for k, v in ratings.items()} == {first: "achieved", second: "progressing"}
    event = AuditEvent.objects.get(action="openiop.clinical.plan.review")
    assert event.detail["late"] is True


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"reviewed_on": dt.date(2026, 11, 6)}, "reviewed_on"),  # future
        ({"reviewed_on": dt.date(2026, 11, 1)}, "reviewed_on"),  # before the plan
        ({"summary": " "}, "summary"),
        ({"progress": "missing one"}, "progress"),
        ({"progress": "unknown"}, "progress"),
        ({"progress": "bad rating"}, "progress"),
    ],
)
def test_a_bad_review_names_the_field_and_writes_nothing(counselor, episode, kwargs, field):
    plan = active_plan(counselor, episode)
    first, second = objective_ids(plan)
    progress = {first: ("achieved", ""), second: ("progressing", "")}
    special = {
        "missing one": {first: ("achieved", "")},
        "unknown": {**progress, "00000000-0000-0000-0000-000000000000": ("achieved", "")},
        "bad rating": {first: ("great", ""), second: ("achieved", "")},
    }
    args = {"reviewed_on": dt.date(2026, 11, 5), "summary": "ok", "progress": progress}
    args.update(kwargs)
    if isinstance(args["progress"], str):
        args["progress"] = special[args["progress"]]
    with pytest.raises(ValidationError) as err:
        svc.plan_review_record(actor=counselor, plan=plan, **args)
    assert field in err.value.message_dict
    assert not PlanReview.objects.exists() and not ObjectiveProgress.objects.exists()
    plan.refresh_from_db()
    assert plan.next_review_on == dt.date(2026, 12, 5)


def test_a_draft_is_not_reviewed(counselor, episode):
    plan = build_plan(counselor, episode)
    with pytest.raises(ValidationError) as err:
        svc.plan_review_record(
            actor=counselor, plan=plan, reviewed_on=dt.date(2026, 11, 5), summary="x", progress={}
        )
    assert "status" in err.value.message_dict


# --- selectors ------------------------------------------------------------------------------


def test_objectives_for_a_patient_come_from_the_active_plan_in_order(counselor, episode):
    draft = build_plan(counselor, episode)
    assert plan_objectives_for_patient(user=counselor, patient=episode.patient) == []
    plan = sign_all(counselor, draft)
    choices = plan_objectives_for_patient(user=counselor, patient=episode.patient)
    assert [c.public_id for c in choices] == objective_ids(plan)
    assert [c.number for c in choices] == ["1.1.1", "1.1.2"]
    assert choices[0].goal == "I want to stop drinking." and choices[0].icd10_code == "F10.20"
    assert choices[0].label.startswith("1.1.1 Objective 1")


def test_objectives_for_many_patients_take_one_query(counselor, episode, django_assert_num_queries):
    active_plan(counselor, episode)
    # 1 objectives query + the user's roles + 5 for the audit row (savepoint, chain head,
    # insert, head update, release); the same for any number of patients.
    with django_assert_num_queries(7, exact=False):
        out = plan_objectives_for_patients(user=counselor, patients=[episode.patient])
    assert len(out[episode.patient.pk]) == 2


def test_front_desk_cannot_read_objectives(front_desk, patient):
    with pytest.raises(PermissionDenied):
        plan_objectives_for_patient(user=front_desk, patient=patient)


def make_episode(org, program, counselor, first, admitted):
    person = patient_create(
        actor=None, organization=org, first_name=first, last_name="Case",
        date_of_birth=dt.date(1980, 1, 1), sex="female",
    )  # fmt: skip
    return episode_create(
        actor=None, patient=person, program=program, admitted_on=admitted,
        primary_counselor=counselor,
    )  # fmt: skip


def test_reviews_due_lists_overdue_due_soon_and_missing_plans_most_overdue_first(
    org, program, counselor, supervisor, front_desk, outsider, _frozen,
    django_assert_max_num_queries,
):  # fmt: skip
    _frozen.move_to(dt.datetime(2026, 10, 1, 15, 0, tzinfo=dt.UTC))
    overdue = make_episode(org, program, counselor, "Olga", dt.date(2026, 9, 28))
    active_plan(counselor, overdue)  # due Oct 31
    _frozen.move_to(dt.datetime(2026, 10, 8, 15, 0, tzinfo=dt.UTC))
    soon = make_episode(org, program, counselor, "Sam", dt.date(2026, 10, 5))
    active_plan(counselor, soon)  # due Nov 7
    _frozen.move_to(dt.datetime(2026, 10, 20, 15, 0, tzinfo=dt.UTC))
    fine = make_episode(org, program, counselor, "Fiona", dt.date(2026, 10, 19))
    active_plan(counselor, fine)  # due Nov 19: not listed
    missing = make_episode(org, program, counselor, "Mona", dt.date(2026, 10, 26))  # due Nov 2
    drafted = make_episode(org, program, counselor, "Dora", dt.date(2026, 10, 20))  # due Oct 27
    _frozen.move_to(NOW)
    svc.plan_create_draft(actor=counselor, episode=drafted)
    make_episode(org, program, counselor, "Nell", dt.date(2026, 11, 1))  # due Nov 8: not yet
    # plans + episodes + the user's roles + 5 for the audit row, however many rows.
    with django_assert_max_num_queries(8):
        rows = plan_reviews_due(user=supervisor, today=dt.date(2026, 11, 5))
    assert [(r.patient.first_name, r.kind, r.days_overdue) for r in rows] == [
        ("Dora", "plan_missing", 9),
        ("Olga", "overdue", 5),
        ("Mona", "plan_missing", 3),
        ("Sam", "due_soon", -2),
    ]
    assert rows[0].has_draft and rows[0].what == "Plan not signed (draft started)"
    assert {r.episode for r in rows} >= {overdue, soon, missing}
    assert plan_reviews_due(user=front_desk, today=dt.date(2026, 11, 5)) == []
    assert plan_reviews_due(user=outsider, today=dt.date(2026, 11, 5)) == []
    event = AuditEvent.objects.filter(action="openiop.clinical.plan.reviews_due").last()
    assert len(event.detail["patients"]) == 4
    # The dashboard shows the most overdue few and the whole count; only those are audited.
    top = plan_reviews_due(user=supervisor, today=dt.date(2026, 11, 5), limit=2)
    assert [r.patient.first_name for r in top] == ["Dora", "Olga"]
    assert top.total == 4 and top.truncated
    event = AuditEvent.objects.filter(action="openiop.clinical.plan.reviews_due").last()
    assert len(event.detail["patients"]) == 2


def test_a_counselor_sees_missing_plans_of_their_caseload_only(
    org, program, counselor, supervisor, _frozen
):
    from conftest import make_user
    from openiop.accounts.permissions import Role

    colleague = make_user("colleague", org, Role.COUNSELOR)
    _frozen.move_to(dt.datetime(2026, 10, 20, 15, 0, tzinfo=dt.UTC))
    make_episode(org, program, counselor, "Mine", dt.date(2026, 10, 20))
    make_episode(org, program, colleague, "Theirs", dt.date(2026, 10, 20))
    _frozen.move_to(NOW)
    today = dt.date(2026, 11, 5)
    assert {r.patient.first_name for r in plan_reviews_due(user=supervisor, today=today)} == {
        "Mine", "Theirs"
    }  # fmt: skip
    mine = plan_reviews_due(user=counselor, today=today, limit=25)
    assert [r.patient.first_name for r in mine] == ["Mine"] and mine.total == 1


# --- the demo -------------------------------------------------------------------------------


def test_demo_plans_are_signed_reviewed_and_leave_work_for_the_dashboard(
    org, program, counselor, supervisor, _frozen, django_assert_max_num_queries
):
    import random

    from openiop.clinical.demo_plans import seed_plans

    _frozen.move_to(dt.datetime(2026, 6, 1, 15, 0, tzinfo=dt.UTC))
    long_stay = make_episode(org, program, counselor, "Lena", dt.date(2026, 6, 1))
    late = make_episode(org, program, counselor, "Mona", dt.date(2026, 10, 20))
    newest = make_episode(org, program, counselor, "Nell", dt.date(2026, 11, 5))
    _frozen.move_to(NOW)
    with django_assert_max_num_queries(25):  # bulk: a fixed number, not one per row
        counts = seed_plans(
            organization=org, episodes=[long_stay, late, newest], rng=random.Random(1),
            today=dt.date(2026, 11, 5),
        )  # fmt: skip
    assert counts == {"plans": 1, "drafts": 1, "reviews": counts["reviews"], "missing": 1}
    plan = TreatmentPlan.objects.get(episode=long_stay)
    assert plan.status == S.ACTIVE and plan.patient_signature == "Lena Case"
    reviews = list(plan.reviews.order_by("reviewed_on"))
    assert len(reviews) >= 4  # about every 30 days since June
    assert all(r.next_review_on > r.reviewed_on for r in reviews)
    assert plan.next_review_on >= reviews[-1].reviewed_on
    objectives = PlanObjective.objects.filter(goal__problem__plan=plan).count()
    assert all(r.progress.count() == objectives for r in reviews)
    assert PlanProblem.objects.filter(plan=plan, icd10_code="F10.20").exists()
    assert not TreatmentPlan.objects.filter(episode=late).exists()
    assert TreatmentPlan.objects.get(episode=newest).status == S.DRAFT
    rows = plan_reviews_due(user=supervisor, today=dt.date(2026, 11, 5))
    assert ("Mona", "plan_missing") in [(r.patient.first_name, r.kind) for r in rows]
