from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from openiop.attendance.models import AttendanceRecord
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program
from openiop.patients.services import unavailable_window_add
from openiop.placement import selectors, services
from openiop.placement.models import Referral
from openiop.scheduling.availability import Window
from openiop.scheduling.services import series_create

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)  # Monday 10:00 in New York
IOP = {
    "d1": 0,
    "d2": 0,
    "d3": 1,
    "d4": 2,
    "d5": 2,
    "d6": 1,
    "needs_detox_now": False,
    "needs_24h_supervision": False,
    "toxic_home": False,
    "harmful_environment": False,
    "serious_co_occurring": False,
    "medically_unstable": False,
}
NOTES = {n: f"Reason for dimension {n}" for n in range(1, 7)}


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def referral(org, intake):
    return services.referral_create(
        actor=intake,
        organization=org,
        first_name="Maya",
        last_name="Lindqvist",
        date_of_birth=dt.date(1990, 6, 1),
        phone="555-0142",
        source="employer",
        urgency="routine",
        received_on=dt.date(2026, 11, 12),
        reason="Drinking after work",
    )


@pytest.fixture
def evening_group(program, room):
    return series_create(
        actor=None,
        program=program,
        title="Evening group A",
        weekdays=[0, 2, 3],
        start_time=dt.time(18),
        duration_minutes=180,
        start_date=dt.date(2026, 11, 2),
        end_date=dt.date(2026, 12, 31),
        room=room,
    )


def assess(referral, actor, **kw):
    args = dict(
        actor=actor,
        referral=referral,
        assessed_on=dt.date(2026, 11, 14),
        ratings=IOP,
        notes=NOTES,
        chosen_level="2.1",
        responsibilities=["work"],
        substances=["alcohol"],
    )
    args.update(kw)
    return services.assessment_record(**args)


def test_a_referral_needs_a_way_to_reach_someone(org, intake):
    with pytest.raises(ValidationError) as err:
        services.referral_create(
            actor=intake,
            organization=org,
            first_name="A",
            last_name="B",
            received_on=dt.date(2026, 11, 12),
        )
    assert "phone" in err.value.message_dict
    assert not Referral.objects.exists()


def test_withdrawal_on_the_phone_routes_to_detox_at_once(referral, intake):
    screen = services.screening_record(
        actor=intake,
        referral=referral,
        substances=["Alcohol"],
        withdrawal_symptoms=True,
        last_use_on=dt.date(2026, 11, 15),
    )
    assert screen.route == "withdrawal_management"
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SCREENING
    services.referral_refer_out(actor=intake, referral=referral, to="Riverside Detox Unit")
    referral.refresh_from_db()
    assert referral.status == Referral.Status.REFERRED_OUT
    assert referral.referred_out_to == "Riverside Detox Unit"


def test_assessment_stores_the_recommendation_and_its_reasons(referral, counselor):
    a = assess(referral, counselor)
    assert (a.recommended_level, a.recommended_category, a.age) == ("2.1", "iop", 36)
    assert a.recommendation["mat_evaluation"] is True
    assert any(r["driver"] == "d4" for r in a.recommendation["reasons"])
    assert not a.is_variance


def test_every_dimension_needs_a_justification(referral, counselor):
    with pytest.raises(ValidationError) as err:
        assess(referral, counselor, notes={**NOTES, 3: " "})
    assert "d3_note" in err.value.message_dict
    assert not referral.assessments.exists()


def test_out_of_range_rating_names_the_field(referral, counselor):
    with pytest.raises(ValidationError) as err:
        assess(referral, counselor, ratings={**IOP, "d2": 5})
    assert "d2" in err.value.message_dict


def test_a_different_choice_needs_a_variance_reason(referral, counselor):
    toxic = {**IOP, "toxic_home": True}
    with pytest.raises(ValidationError) as err:
        assess(referral, counselor, ratings=toxic, chosen_level="2.1")
    assert "variance_reason" in err.value.message_dict
    a = assess(
        referral,
        counselor,
        ratings=toxic,
        chosen_level="2.1",
        variance_reason="Refuses residential; sober living arranged",
    )
    assert a.recommended_level == "3.5" and a.is_variance


def test_reassessment_keeps_the_first_one(referral, counselor):
    first = assess(referral, counselor)
    second = assess(
        referral,
        counselor,
        assessed_on=dt.date(2026, 11, 15),
        ratings={**IOP, "d5": 3},
        chosen_level="2.5",
    )
    assert second.supersedes == first
    assert referral.assessments.count() == 2
    assert second.recommended_category == "php"


def test_admission_creates_patient_episode_consent_and_books_the_chosen_group(
    referral, counselor, program, evening_group
):
    assess(referral, counselor)
    episode = services.referral_admit(
        actor=counselor,
        referral=referral,
        program=program,
        admitted_on=dt.date(2026, 11, 16),
        consent_signed_by="Maya Lindqvist",
        series=[evening_group],
        primary_counselor=counselor,
    )
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ADMITTED and referral.episode == episode
    assert episode.status == Episode.Status.ADMITTED
    assert episode.patient.last_name == "Lindqvist"
    assert episode.consent_to_treat.signed_by_patient == "Maya Lindqvist"
    booked = AttendanceRecord.objects.filter(episode=episode)
    assert booked.count() == 21  # 7 Mondays, 7 Wednesdays, 7 Thursdays, Nov 16 - Dec 31
    assert episode.referral.assessments.first().patient == episode.patient


def test_admission_without_an_assessment_is_refused(referral, counselor, program):
    with pytest.raises(ValidationError, match="assessment"):
        services.referral_admit(
            actor=counselor,
            referral=referral,
            program=program,
            admitted_on=dt.date(2026, 11, 16),
            consent_signed_by="Maya",
        )
    assert not Episode.objects.exists()


def test_a_minor_needs_a_guardian_signature(org, intake, counselor, site):
    teens = Program.objects.create(
        organization=org,
        site=site,
        name="Adolescent IOP",
        population="adolescent",
        min_age=14,
        max_age=17,
        weekly_min_hours=Decimal("6.0"),
    )
    ref = services.referral_create(
        actor=intake,
        organization=org,
        first_name="Leo",
        last_name="Park",
        date_of_birth=dt.date(2010, 3, 3),
        phone="555-0199",
        received_on=dt.date(2026, 11, 12),
    )
    a = assess(ref, counselor, responsibilities=["school"], substances=["marijuana"])
    assert a.recommendation["population"] == "adolescent"
    with pytest.raises(ValidationError) as err:
        services.referral_admit(
            actor=counselor,
            referral=ref,
            program=teens,
            admitted_on=dt.date(2026, 11, 16),
            consent_signed_by="Leo Park",
        )
    assert "guardian_signed_by" in err.value.message_dict


def test_seat_offers_put_groups_that_fit_the_work_week_first(
    referral, counselor, program, room, evening_group, patient
):
    day_group = series_create(
        actor=None,
        program=program,
        title="Day group",
        weekdays=[0, 2, 4],
        start_time=dt.time(9),
        duration_minutes=180,
        start_date=dt.date(2026, 11, 2),
        end_date=dt.date(2026, 12, 31),
        room=room,
    )
    for day in range(5):
        unavailable_window_add(
            actor=None, patient=patient, weekday=day, start_time=dt.time(8), end_time=dt.time(17)
        )
    offers = selectors.seat_offers(
        program=program, windows=selectors.patient_windows(patient), from_date=dt.date(2026, 11, 16)
    )
    assert [o.series for o in offers] == [evening_group, day_group]
    assert offers[0].fits and offers[0].free_seats == program.group_size_cap
    assert not offers[1].fits and offers[1].clashes


def test_waitlist_orders_by_urgency_then_date_and_offers_the_first_who_fits(
    org, intake, counselor, program, evening_group
):
    people = [("Ann", "routine", 1, False), ("Bea", "urgent", 5, True), ("Cal", "urgent", 8, False)]
    for first, urgency, day, works_evenings in people:
        ref = services.referral_create(
            actor=intake,
            organization=org,
            first_name=first,
            last_name="Waiting",
            phone="555",
            date_of_birth=dt.date(1980, 1, 1),
            urgency=urgency,
            received_on=dt.date(2026, 11, day),
        )
        assess(ref, counselor, assessed_on=dt.date(2026, 11, 14))
        episode = services.referral_waitlist(actor=intake, referral=ref, program=program)
        if works_evenings:
            unavailable_window_add(
                actor=None,
                patient=episode.patient,
                weekday=0,
                start_time=dt.time(17),
                end_time=dt.time(23),
            )
    order = [e.patient.first_name for e in selectors.waitlist_for_program(program=program)]
    assert order == ["Bea", "Cal", "Ann"]
    assert selectors.waitlist_first_fit(series=evening_group).patient.first_name == "Cal"


def test_intake_times_report_days_to_assessment_per_program(referral, counselor, program):
    assess(referral, counselor, chosen_program=program)
    services.referral_admit(
        actor=counselor,
        referral=referral,
        program=program,
        admitted_on=dt.date(2026, 11, 16),
        consent_signed_by="Maya",
    )
    [row] = [
        r
        for r in selectors.intake_times(
            user=counselor, start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30)
        )
        if r.program == program
    ]
    assert (row.referrals, row.assessed, row.admitted) == (1, 1, 1)
    assert row.median_days_to_assessment == 2.0
    assert row.median_days_to_first_session is None


def test_closed_referral_cannot_be_screened_again(referral, intake):
    services.referral_close(
        actor=intake, referral=referral, status="lost_to_contact", note="Three calls, no answer"
    )
    with pytest.raises(ValidationError, match="closed"):
        services.screening_record(actor=intake, referral=referral, substances=["alcohol"])


def test_windows_helper_reads_the_patient(patient):
    unavailable_window_add(
        actor=None,
        patient=patient,
        weekday=1,
        start_time=dt.time(7),
        end_time=dt.time(15),
        kind="school",
    )
    assert selectors.patient_windows(patient) == [Window(1, dt.time(7), dt.time(15), "School")]


def test_a_returning_person_is_admitted_into_their_existing_chart(org, intake, counselor, program):
    from openiop.patients.services import patient_create

    existing = patient_create(
        actor=None,
        organization=org,
        first_name="Maya",
        last_name="Lindqvist",
        date_of_birth=dt.date(1990, 6, 1),
    )
    ref = services.referral_create(
        actor=intake,
        organization=org,
        first_name="maya",
        last_name="LINDQVIST",
        date_of_birth=dt.date(1990, 6, 1),
        phone="555",
        received_on=dt.date(2026, 11, 12),
    )
    assess(ref, counselor)
    episode = services.referral_admit(
        actor=counselor,
        referral=ref,
        program=program,
        admitted_on=dt.date(2026, 11, 16),
        consent_signed_by="Maya Lindqvist",
    )
    assert episode.patient == existing
    assert ref.assessments.get().patient == existing


def test_every_bad_rating_is_named_at_once(referral, counselor):
    with pytest.raises(ValidationError) as err:
        assess(referral, counselor, ratings={**IOP, "d2": 5, "d4": -1})
    assert {"d2", "d4"} <= set(err.value.message_dict)


def test_admitting_a_waitlisted_person_records_counselor_and_mat(
    referral, counselor, intake, program
):
    assess(referral, counselor)
    services.referral_waitlist(actor=intake, referral=referral, program=program)
    episode = services.referral_admit(
        actor=counselor,
        referral=referral,
        program=program,
        admitted_on=dt.date(2026, 11, 16),
        consent_signed_by="Maya",
        primary_counselor=counselor,
        mat=True,
        primary_substance=2,
    )
    episode.refresh_from_db()
    assert (episode.primary_counselor, episode.mat, episode.primary_substance) == (
        counselor,
        True,
        2,
    )
    assert episode.status == Episode.Status.ADMITTED


@pytest.fixture
def php(org, site):
    return Program.objects.create(
        organization=org, site=site, name="Day PHP", level_of_care="2.5",
        weekly_min_hours=Decimal("20.0"), weekly_max_hours=Decimal("30.0"),
    )  # fmt: skip


def _nothing_changed(referral):
    from openiop.patients.models import Patient
    from openiop.placement.models import ConsentToTreat

    referral.refresh_from_db()
    assert (referral.status, referral.patient_id, referral.episode_id) == (
        Referral.Status.ASSESSMENT, None, None,
    )  # fmt: skip
    assert not Episode.objects.exists()
    assert not Patient.objects.filter(last_name="Lindqvist").exists()
    assert not ConsentToTreat.objects.exists()


def test_admission_to_a_program_at_another_level_than_chosen_is_refused(
    referral, counselor, intake, program, php
):
    assess(referral, counselor)  # recommended and chosen: 2.1
    with pytest.raises(ValidationError) as err:
        services.referral_admit(
            actor=counselor, referral=referral, program=php, admitted_on=dt.date(2026, 11, 16),
            consent_signed_by="Maya Lindqvist",
        )  # fmt: skip
    [message] = err.value.message_dict["program"]
    assert "Day PHP is level 2.5" in message and "chose level 2.1" in message
    assert "reassess and record the choice of level 2.5 with a variance reason" in message
    _nothing_changed(referral)
    with pytest.raises(ValidationError) as err:
        services.referral_waitlist(actor=intake, referral=referral, program=php)
    assert "chose level 2.1" in err.value.message_dict["program"][0]
    _nothing_changed(referral)


def test_a_php_choice_cannot_be_admitted_to_iop_until_reassessed(referral, counselor, program, php):
    assess(referral, counselor, ratings={**IOP, "d5": 3}, chosen_level="2.5")
    with pytest.raises(ValidationError) as err:
        services.referral_admit(
            actor=counselor, referral=referral, program=program,
            admitted_on=dt.date(2026, 11, 16), consent_signed_by="Maya Lindqvist",
        )  # fmt: skip
    assert (
        "Adult Evening IOP is level 2.1, but the latest assessment (2026-11-14) chose level 2.5"
        in (err.value.message_dict["program"][0])
    )
    _nothing_changed(referral)
    # A reassessment that records IOP as a variance (with its reason) makes the admission possible.
    assess(
        referral, counselor, ratings={**IOP, "d5": 3}, chosen_level="2.1",
        variance_reason="Cannot leave work for PHP hours; evening IOP plus weekly check-ins",
    )  # fmt: skip
    episode = services.referral_admit(
        actor=counselor, referral=referral, program=program, admitted_on=dt.date(2026, 11, 16),
        consent_signed_by="Maya Lindqvist",
    )  # fmt: skip
    assert episode.program == program and episode.status == Episode.Status.ADMITTED


def test_a_level_chosen_against_the_recommendation_points_back_to_the_recommended_one(
    referral, counselor, program, php
):
    assess(referral, counselor, chosen_level="2.5", variance_reason="Relapsed twice in IOP")
    with pytest.raises(ValidationError) as err:
        services.referral_admit(
            actor=counselor, referral=referral, program=program,
            admitted_on=dt.date(2026, 11, 16), consent_signed_by="Maya Lindqvist",
        )  # fmt: skip
    assert "choose level 2.1 (the recommended level)" in err.value.message_dict["program"][0]
    episode = services.referral_admit(
        actor=counselor, referral=referral, program=php, admitted_on=dt.date(2026, 11, 16),
        consent_signed_by="Maya Lindqvist",
    )  # fmt: skip
    assert episode.program == php


def test_time_to_first_session_is_the_median_of_the_first_attended_sessions(
    org, intake, counselor, program, evening_group
):
    from openiop.attendance.services import AttendanceEntry, attendance_record

    def admitted(first, received):
        ref = services.referral_create(
            actor=intake, organization=org, first_name=first, last_name="Early", phone="555",
            date_of_birth=dt.date(1985, 1, 1), received_on=received,
        )  # fmt: skip
        assess(ref, counselor, assessed_on=dt.date(2026, 11, 14))
        return services.referral_admit(
            actor=counselor, referral=ref, program=program, admitted_on=dt.date(2026, 11, 16),
            consent_signed_by=first, series=[evening_group],
        )  # fmt: skip

    ann = admitted("Ann", dt.date(2026, 11, 12))
    bo = admitted("Bo", dt.date(2026, 11, 10))
    monday, wednesday = evening_group.sessions.order_by("starts_at").filter(
        starts_at__date__gte=dt.date(2026, 11, 16)
    )[:2]
    with time_machine.travel(monday.starts_at + dt.timedelta(minutes=30), tick=False):
        attendance_record(
            actor=counselor,
            session=monday,
            entries=[
                AttendanceEntry(ann.patient, "present"),
                AttendanceEntry(bo.patient, "absent"),
            ],
        )
    with time_machine.travel(wednesday.starts_at + dt.timedelta(minutes=30), tick=False):
        attendance_record(
            actor=counselor, session=wednesday, entries=[AttendanceEntry(bo.patient, "late")]
        )
    [row] = [
        r
        for r in selectors.intake_times(
            user=counselor, start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30)
        )
        if r.program == program
    ]
    # Ann: Nov 12 -> Monday Nov 16 = 4 days; Bo missed Monday: Nov 10 -> Wednesday Nov 18 = 8.
    assert row.admitted == 2
    assert row.median_days_to_first_session == 6.0
