from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from conftest import login
from openiop.attendance.models import AttendanceRecord
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program
from openiop.patients.models import UnavailableWindow
from openiop.patients.services import unavailable_window_add
from openiop.placement import services
from openiop.placement.models import Assessment, Referral, Screening
from openiop.placement.rules import DISCLAIMER
from openiop.scheduling.services import series_create

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)  # Monday 10:00 in New York
IOP = {"d1": 0, "d2": 0, "d3": 1, "d4": 2, "d5": 2, "d6": 1}
NOTES = {n: f"Reason for dimension {n}" for n in range(1, 7)}


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def make_referral(org, actor, **kw):
    args = dict(
        actor=actor,
        organization=org,
        first_name="Maya",
        last_name="Lindqvist",
        date_of_birth=dt.date(1990, 6, 1),
        phone="555-0142",
        source="employer",
        received_on=dt.date(2026, 11, 12),
        reason="Drinking after work",
    )
    args.update(kw)
    return services.referral_create(**args)


@pytest.fixture
def referral(org, intake, site):
    return make_referral(org, intake)


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


@pytest.fixture
def day_group(program, room):
    return series_create(
        actor=None,
        program=program,
        title="Day group B",
        weekdays=[1, 3, 4],
        start_time=dt.time(9),
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
        ratings={**IOP, **{f: False for f in FACTS}},
        notes=NOTES,
        chosen_level="2.1",
        responsibilities=["work"],
        substances=["alcohol"],
    )
    args.update(kw)
    return services.assessment_record(**args)


FACTS = (
    "needs_detox_now",
    "needs_24h_supervision",
    "toxic_home",
    "harmful_environment",
    "serious_co_occurring",
    "medically_unstable",
)


def assessment_post(action="preview", **overrides):
    data = {
        "action": action,
        "criteria_edition": "3",
        "assessed_on": "2026-11-16",
        "age": "",
        "responsibilities": ["work"],
        "substances": ["alcohol"],
        "substances_other": "",
        "chosen_level": "",
        "chosen_program": "",
        "variance_reason": "",
        **{k: str(v) for k, v in IOP.items()},
        **{f"d{n}_note": text for n, text in NOTES.items()},
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def url(name, referral=None, **query):
    path = reverse(
        f"placement:{name}", kwargs={"public_id": referral.public_id} if referral else {}
    )
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def audits(action):
    return AuditEvent.objects.filter(action=action)


# --- access ---------------------------------------------------------------------------------

PAGES = ["referral-detail", "assessment-create", "referral-admit"]


@pytest.mark.parametrize("name", ["referral-list", "referral-create", "waitlist", "intake-report"])
def test_anonymous_is_sent_to_login(client, name, db):
    response = client.get(url(name))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_login_from_referral_pages(client, referral, name):
    response = client.get(url(name, referral))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", PAGES)
def test_outsider_gets_404_for_our_referral(client, outsider, referral, name):
    login(client, outsider)
    assert client.get(url(name, referral)).status_code == 404
    # A read-only page refuses POST outright (405) before looking anything up.
    expected = 405 if name == "referral-detail" else 404
    assert client.post(url(name, referral), {"action": "save"}).status_code == expected


@pytest.mark.parametrize("name", ["screening-create", "referral-refer-out", "referral-close"])
def test_outsider_cannot_act_on_our_referral(client, outsider, referral, name):
    login(client, outsider)
    data = {"to": "Elsewhere", "status": "declined", "note": "x", "pregnant": "no"}
    assert client.post(url(name, referral), data).status_code == 404
    assert not Screening.objects.exists()
    assert Referral.objects.get().status == Referral.Status.NEW


def test_billing_cannot_see_referrals(client, billing, referral):
    login(client, billing)
    assert client.get(url("referral-list")).status_code == 403
    assert client.get(url("referral-detail", referral)).status_code == 403
    assert client.get(url("waitlist")).status_code == 403
    assert client.get(url("intake-report")).status_code == 403
    assert not audits("openiop.placement.referral.read").exists()


def test_nav_shows_intake_to_roles_that_may_see_referrals(client, counselor, billing):
    login(client, counselor)
    assert b">Intake</a>" in client.get(reverse("patients:patient-list")).content
    login(client, billing)
    assert b">Intake</a>" not in client.get(reverse("patients:patient-list")).content


def test_auditor_cannot_create_a_referral(client, auditor, org, site):
    login(client, auditor)
    assert client.get(url("referral-create")).status_code == 403
    response = client.post(
        url("referral-create"), {"first_name": "A", "last_name": "B", "phone": "555"}
    )
    assert response.status_code == 403
    assert not Referral.objects.exists()
    page = client.get(url("referral-list"))
    assert page.status_code == 200 and b"New referral" not in page.content


def test_front_desk_cannot_record_an_assessment(client, front_desk, referral):
    login(client, front_desk)
    assert client.get(url("assessment-create", referral)).status_code == 403
    assert client.post(url("assessment-create", referral), assessment_post("save")).status_code == (
        403
    )
    assert not Assessment.objects.exists()
    assert client.get(url("referral-detail", referral)).status_code == 200


def test_front_desk_cannot_admit(client, front_desk, referral):
    login(client, front_desk)
    assert client.get(url("referral-admit", referral)).status_code == 403


# --- referral list --------------------------------------------------------------------------


def test_referral_list_shows_open_referrals_and_audits_one_row(client, intake, org, referral):
    closed = make_referral(org, intake, first_name="Omar", last_name="Closed")
    services.referral_close(actor=intake, referral=closed, status="declined", note="Not now")
    login(client, intake)
    response = client.get(url("referral-list"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Lindqvist, Maya" in text and "Closed, Omar" not in text
    assert "Employer" in text and "Routine" in text
    [row] = response.context["rows"]
    assert row["days"] == 4  # Nov 12 -> Nov 16
    event = audits("openiop.placement.referral.list").get()
    assert event.detail["referrals"] == [str(referral.public_id)]
    assert event.detail["patients"] == []

    every = client.get(url("referral-list", status="all")).content.decode()
    assert "Closed, Omar" in every and "Lindqvist, Maya" in every
    declined = client.get(url("referral-list", status="declined")).content.decode()
    assert "Closed, Omar" in declined and "Lindqvist, Maya" not in declined
    found = client.get(url("referral-list", status="all", q="omar")).content.decode()
    assert "Closed, Omar" in found and "Lindqvist" not in found


def test_referral_list_queries_do_not_grow_with_rows(
    client, intake, org, site, django_assert_max_num_queries
):
    login(client, intake)
    make_referral(org, intake)
    client.get(url("referral-list"))  # warm caches (session, site)
    with django_assert_max_num_queries(12) as few:
        client.get(url("referral-list"))
    for i in range(15):
        make_referral(org, intake, first_name=f"P{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("referral-list"))
    assert len(response.context["rows"]) == 16


# --- new referral ---------------------------------------------------------------------------


def test_new_referral_form_saves_and_opens_the_referral(client, intake, program):
    login(client, intake)
    page = client.get(url("referral-create"))
    assert page.status_code == 200 and page.context["form"]["received_on"].value() == dt.date(
        2026, 11, 16
    )
    response = client.post(
        url("referral-create"),
        {
            "first_name": "Jon",
            "last_name": "Reyes",
            "date_of_birth": "1984-02-03",
            "phone": "555-0177",
            "source": "court",
            "referrer_name": "Judge Amos",
            "urgency": "urgent",
            "received_on": "2026-11-15",
            "program_requested": program.public_id,
        },
    )
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("referral-detail", referral)
    assert (referral.last_name, referral.urgency, referral.program_requested) == (
        "Reyes",
        "urgent",
        program,
    )
    assert audits("openiop.placement.referral.create").count() == 1


def test_new_referral_without_any_contact_shows_the_field_error(client, intake, site):
    login(client, intake)
    response = client.post(
        url("referral-create"),
        {"first_name": "Jon", "last_name": "Reyes", "source": "self", "urgency": "routine",
         "received_on": "2026-11-15"},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.context["form"].errors["phone"]
    assert not Referral.objects.exists()


# --- referral page, screen, close -----------------------------------------------------------


def test_referral_page_shows_the_person_and_audits_the_read(client, counselor, referral):
    assess(referral, counselor)
    login(client, counselor)
    response = client.get(url("referral-detail", referral))
    text = response.content.decode()
    assert response.status_code == 200
    assert "Maya Lindqvist" in text and "555-0142" in text and "Drinking after work" in text
    assert "Referral received" in text and "recommended 2.1, chosen 2.1" in text
    event = audits("openiop.placement.referral.read").get()
    assert event.object_id == str(referral.public_id)


def test_screen_with_recent_alcohol_withdrawal_shows_the_withdrawal_alert(client, intake, referral):
    login(client, intake)
    response = client.post(
        url("screening-create", referral),
        {
            "substances": ["alcohol"],
            "last_use_on": "2026-11-15",
            "withdrawal_symptoms": "on",
            "pregnant": "unknown",
        },
    )
    assert response.status_code == 302
    screen = Screening.objects.get()
    assert screen.route == "withdrawal_management"
    page = client.get(response["Location"]).content.decode()
    assert 'role="alert"' in page
    assert "Refer to withdrawal management now" in page
    assert "Withdrawal symptoms with recent alcohol use" in page
    assert 'value="Withdrawal management"' in page and "Record referral out" in page

    out = client.post(url("referral-refer-out", referral), {"to": "Withdrawal management"})
    assert out.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.REFERRED_OUT
    assert referral.referred_out_to == "Withdrawal management"


def test_screen_without_risk_continues_to_assessment(client, intake, referral):
    login(client, intake)
    client.post(url("screening-create", referral), {"substances": ["alcohol"], "pregnant": "no",
                                                     "substances_other": "kratom"})  # fmt: skip
    screen = Screening.objects.get()
    assert screen.route == "assess" and screen.substances == ["alcohol", "kratom"]
    page = client.get(url("referral-detail", referral)).content.decode()
    assert "Continue to assessment" in page and "Record referral out" not in page


def test_closing_needs_a_note_and_changes_nothing_without_one(client, intake, referral):
    login(client, intake)
    response = client.post(url("referral-close", referral), {"status": "lost_to_contact"})
    assert response.status_code == 400
    assert response.context["close_form"].errors["note"]
    referral.refresh_from_db()
    assert referral.status == Referral.Status.NEW
    ok = client.post(
        url("referral-close", referral), {"status": "lost_to_contact", "note": "Three calls"}
    )
    assert ok.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.LOST and referral.closed_on == dt.date(2026, 11, 16)


# --- assessment -----------------------------------------------------------------------------


def test_assessment_page_prefills_age_and_shows_both_editions_names(client, counselor, referral):
    login(client, counselor)
    response = client.get(url("assessment-create", referral))
    assert response.status_code == 200
    assert response.context["form"]["age"].value() == 36
    text = response.content.decode()
    assert "Dimension 4: readiness to change" in text
    assert "4th edition: substance use-related risks" in text
    assert audits("openiop.placement.referral.read").get().detail["view"] == "assess"


def test_preview_shows_the_recommendation_with_reasons_and_disclaimer_and_writes_nothing(
    client, counselor, referral, program
):
    login(client, counselor)
    response = client.post(url("assessment-create", referral), assessment_post("preview"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Decision support — not ASAM software" in text
    assert DISCLAIMER.replace("'", "&#x27;") in text
    assert 'Recommendation: <span class="level">2.1</span> Intensive outpatient (IOP)' in text
    assert "Dimension 4 (readiness to change) rated 2: IOP structure" in text
    assert "recommend a medication (MAT) evaluation" in text
    assert "Adult Evening IOP" in text and "evening cohort fits work" in text
    assert response.context["form"]["chosen_level"].value() == "2.1"
    assert not Assessment.objects.exists()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.NEW
    assert not audits("openiop.placement.assessment.create").exists()


def test_fourth_edition_labels_follow_the_edition(client, counselor, referral):
    login(client, counselor)
    response = client.post(
        url("assessment-create", referral), assessment_post("preview", criteria_edition="4")
    )
    text = response.content.decode()
    assert "Dimension 4: substance use-related risks" in text
    assert "3rd edition: readiness to change" in text
    assert "Dimension 4 (4th ed., substance use-related risks) rated 2" in text


def test_assessment_without_justification_shows_field_errors(client, counselor, referral):
    login(client, counselor)
    response = client.post(
        url("assessment-create", referral), assessment_post("save", d3_note="", d5_note=" ")
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "d3_note" in errors and "d5_note" in errors
    assert not Assessment.objects.exists()


def test_a_missing_rating_is_a_field_error(client, counselor, referral):
    login(client, counselor)
    data = assessment_post("preview")
    del data["d2"]
    response = client.post(url("assessment-create", referral), data)
    assert response.status_code == 400 and "d2" in response.context["form"].errors


def test_a_different_level_needs_a_variance_reason(client, counselor, referral):
    login(client, counselor)
    toxic = assessment_post("save", toxic_home="on", chosen_level="2.1")
    response = client.post(url("assessment-create", referral), toxic)
    assert response.status_code == 400
    assert "variance_reason" in response.context["form"].errors
    assert "The recommendation is 3.5" in response.content.decode()
    assert not Assessment.objects.exists()

    toxic["variance_reason"] = "Refuses residential; sober living arranged"
    saved = client.post(url("assessment-create", referral), toxic)
    assert saved.status_code == 302
    a = Assessment.objects.get()
    assert (a.recommended_level, a.chosen_level, a.is_variance) == ("3.5", "2.1", True)
    page = client.get(url("referral-detail", referral)).content.decode()
    assert 'class="badge variance"' in page and "sober living arranged" in page


def test_saving_records_the_assessment_and_reassessment_supersedes_it(
    client, counselor, referral, program
):
    login(client, counselor)
    first = client.post(
        url("assessment-create", referral),
        assessment_post("save", chosen_program=str(program.public_id)),
    )
    assert first.status_code == 302 and first["Location"] == url("referral-detail", referral)
    a = Assessment.objects.get()
    assert (a.recommended_level, a.chosen_level, a.chosen_program, a.age) == (
        "2.1",
        "2.1",
        program,
        36,
    )
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ASSESSMENT
    again = client.get(url("assessment-create", referral))
    assert b"Reassessment" in again.content
    client.post(url("assessment-create", referral), assessment_post("save", d5="3"))
    second = Assessment.objects.latest("id")
    assert second.supersedes == a and second.recommended_level == "2.5"
    page = client.get(url("referral-detail", referral)).content.decode()
    assert page.count('class="assessment-row"') == 2


# --- admission ------------------------------------------------------------------------------


def admit_post(program, series=(), action="admit", **overrides):
    data = {
        "action": action,
        "program": str(program.public_id),
        "admitted_on": "2026-11-16",
        "consent_signed_by": "Maya Lindqvist",
        "guardian_signed_by": "",
        "primary_counselor": "",
        "primary_substance": "2",
        "window_kind": "work",
        "series": [str(s.public_id) for s in series],
    }
    data.update(overrides)
    return data


def test_admit_page_offers_the_groups_fitting_ones_checked(
    client, counselor, org, program, evening_group, day_group, patient
):
    for day in range(5):
        unavailable_window_add(
            actor=None, patient=patient, weekday=day, start_time=dt.time(8), end_time=dt.time(17)
        )
    ref = make_referral(org, counselor, patient=patient, first_name="Dana", last_name="Whitfield")
    assess(ref, counselor, chosen_program=program)
    login(client, counselor)
    response = client.get(url("referral-admit", ref))
    assert response.status_code == 200
    rows = {r["series"].title: r for r in response.context["offers"]}
    assert rows["Evening group A"]["fits"] and rows["Evening group A"]["checked"]
    assert not rows["Day group B"]["fits"] and not rows["Day group B"]["checked"]
    assert rows["Day group B"]["clashes"] == [
        "Tue 08:00–17:00 (Work)",
        "Thu 08:00–17:00 (Work)",
        "Fri 08:00–17:00 (Work)",
    ]
    assert rows["Evening group A"]["free"] == 10
    assert response.context["form"]["program"].value() == str(program.public_id)
    assert "guardian_signed_by" not in response.content.decode()
    assert audits("openiop.placement.referral.read").get().patient_id == str(patient.public_id)


def test_admission_books_the_chosen_group_and_lands_on_the_episode(
    client, counselor, referral, program, evening_group, day_group
):
    assess(referral, counselor, chosen_program=program)
    login(client, counselor)
    response = client.post(url("referral-admit", referral), admit_post(program, [evening_group]))
    assert response.status_code == 302
    referral.refresh_from_db()
    episode = referral.episode
    assert referral.status == Referral.Status.ADMITTED
    assert response["Location"] == reverse("enrollment:episode-detail", args=[episode.public_id])
    booked = AttendanceRecord.objects.filter(episode=episode)
    assert booked.count() == 21 and {r.session.series for r in booked} == {evening_group}
    assert episode.consent_to_treat.signed_by_patient == "Maya Lindqvist"
    assert episode.primary_substance == 2
    page = client.get(response["Location"]).content.decode()
    assert "First group: Evening group A on Monday, November 16, 2026 at 18:00." in page


def test_admission_needs_the_patients_signature(client, counselor, referral, program):
    assess(referral, counselor)
    login(client, counselor)
    response = client.post(
        url("referral-admit", referral), admit_post(program, consent_signed_by="  ")
    )
    assert response.status_code == 400
    assert "consent_signed_by" in response.context["form"].errors
    assert not Episode.objects.exists()


def test_a_minor_needs_a_guardian_signature(client, counselor, org, site, intake):
    teens = Program.objects.create(
        organization=org, site=site, name="Adolescent IOP", population="adolescent",
        min_age=14, max_age=17, weekly_min_hours=Decimal("6.0"),
    )  # fmt: skip
    ref = make_referral(org, intake, first_name="Leo", date_of_birth=dt.date(2010, 3, 3))
    assess(ref, counselor, responsibilities=["school"], chosen_program=teens)
    login(client, counselor)
    page = client.get(url("referral-admit", ref))
    assert b"guardian_signed_by" in page.content and b"Age 16" in page.content
    response = client.post(url("referral-admit", ref), admit_post(teens))
    assert response.status_code == 400
    assert "guardian_signed_by" in response.context["form"].errors
    assert not Episode.objects.exists()
    ref.refresh_from_db()
    assert ref.status == Referral.Status.ASSESSMENT and ref.patient is None


def test_typed_work_hours_uncheck_clashing_groups_and_are_saved_on_admission(
    client, counselor, referral, program, evening_group, day_group
):
    assess(referral, counselor)
    login(client, counselor)
    hours = {"window_days": ["0", "1", "2", "3", "4"], "window_start": "08:00",
             "window_end": "17:00"}  # fmt: skip
    check = client.post(
        url("referral-admit", referral), admit_post(program, action="offers", **hours)
    )
    assert check.status_code == 200
    rows = {r["series"].title: r for r in check.context["offers"]}
    assert rows["Evening group A"]["checked"] and not rows["Day group B"]["checked"]
    assert not Episode.objects.exists()
    client.post(url("referral-admit", referral), admit_post(program, [evening_group], **hours))
    referral.refresh_from_db()
    windows = UnavailableWindow.objects.filter(patient=referral.patient)
    assert sorted(w.weekday for w in windows) == [0, 1, 2, 3, 4]


# --- waitlist -------------------------------------------------------------------------------


def waitlisted(org, intake, counselor, program, first, urgency, day, evenings_busy=False):
    ref = make_referral(
        org, intake, first_name=first, last_name="Waiting", urgency=urgency,
        received_on=dt.date(2026, 11, day),
    )  # fmt: skip
    assess(ref, counselor)
    episode = services.referral_waitlist(actor=intake, referral=ref, program=program)
    if evenings_busy:
        unavailable_window_add(
            actor=None, patient=episode.patient, weekday=0, start_time=dt.time(17),
            end_time=dt.time(23),
        )  # fmt: skip
    return ref


def test_put_on_waitlist_from_the_admit_page(client, counselor, referral, program):
    assess(referral, counselor)
    login(client, counselor)
    response = client.post(url("referral-admit", referral), admit_post(program, action="waitlist"))
    assert response.status_code == 302
    assert response["Location"] == url("waitlist", program=program.public_id)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.WAITLISTED
    assert referral.episode.status == Episode.Status.WAITLISTED


def test_waitlist_orders_by_urgency_then_date_and_offers_the_first_who_fits(
    client, intake, counselor, org, program, evening_group, django_assert_max_num_queries
):
    waitlisted(org, intake, counselor, program, "Ann", "routine", 1)
    bea = waitlisted(org, intake, counselor, program, "Bea", "urgent", 5, evenings_busy=True)
    cal = waitlisted(org, intake, counselor, program, "Cal", "urgent", 8)
    login(client, counselor)
    client.get(url("waitlist"))
    with django_assert_max_num_queries(20) as few:
        response = client.get(url("waitlist", program=program.public_id))
    assert response.status_code == 200
    names = [r["episode"].patient.first_name for r in response.context["rows"]]
    assert names == ["Bea", "Cal", "Ann"]
    assert [r["days"] for r in response.context["rows"]] == [11, 8, 15]
    [group] = response.context["groups"]
    assert group["first"].patient.first_name == "Cal"
    assert url("referral-admit", cal) in response.content.decode()
    assert url("referral-admit", bea) not in response.content.decode()
    event = audits("openiop.placement.waitlist.list").latest("id")
    assert len(event.detail["patients"]) == 3
    for i in range(4):
        waitlisted(org, intake, counselor, program, f"Dee{i}", "routine", 10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("waitlist", program=program.public_id))


# --- intake report --------------------------------------------------------------------------


def test_intake_report_counts_medians_and_variances(client, counselor, org, intake, program):
    quick = make_referral(org, intake, first_name="Quick", program_requested=program,
                          received_on=dt.date(2026, 11, 10))  # fmt: skip
    assess(quick, counselor, assessed_on=dt.date(2026, 11, 12), chosen_program=program)
    slow = make_referral(org, intake, first_name="Slow", program_requested=program,
                         received_on=dt.date(2026, 11, 1))  # fmt: skip
    assess(slow, counselor, assessed_on=dt.date(2026, 11, 9),
           ratings={**IOP, **{f: False for f in FACTS}, "toxic_home": True},
           variance_reason="Has sober housing lined up")  # fmt: skip
    make_referral(org, intake, first_name="Old", program_requested=program,
                  received_on=dt.date(2026, 6, 1))  # fmt: skip
    login(client, counselor)
    response = client.get(url("intake-report"))
    assert response.status_code == 200
    assert (response.context["start"], response.context["end"]) == (
        dt.date(2026, 8, 18),
        dt.date(2026, 11, 16),
    )
    [row] = [r for r in response.context["rows"] if r.program == program]
    assert (row.referrals, row.assessed, row.admitted) == (2, 2, 0)
    assert row.median_days_to_assessment == 5.0  # 2 and 8 days
    text = response.content.decode()
    assert "<svg" in text and "Median days from referral" in text
    [variance] = response.context["variances"]
    assert variance.referral == slow and "Has sober housing lined up" in text
    assert "3.5" in text
    event = audits("openiop.placement.assessment.list").get()
    assert event.detail["referrals"] == [str(slow.public_id)]

    june = client.get(url("intake-report", start="2026-06-01", end="2026-06-30"))
    [row] = [r for r in june.context["rows"] if r.program == program]
    assert row.referrals == 1 and june.context["variances"] == []


def test_intake_report_rejects_an_end_before_the_start(client, counselor, site):
    login(client, counselor)
    response = client.get(url("intake-report", start="2026-11-10", end="2026-11-01"))
    assert response.status_code == 400 and response.context["form"].errors["end"]


def test_residential_recommendation_lists_iop_variance_options(
    client, counselor, referral, program
):
    login(client, counselor)
    response = client.post(url("assessment-create", referral), assessment_post("preview", d6="3"))
    panel = response.context["panel"]
    assert panel["rec"].level == "3.5" and panel["rec"].variance_allowed
    text = response.content.decode()
    assert "Variance options (IOP)" in text and "Adult Evening IOP" in text
    assert "may be met by IOP as a documented variance" in text
    assert not Assessment.objects.exists()


def test_a_full_group_is_shown_but_cannot_be_booked(
    client, counselor, org, intake, referral, program, room
):
    tiny = series_create(
        actor=None, program=program, title="Tiny group", weekdays=[0], start_time=dt.time(18),
        duration_minutes=120, start_date=dt.date(2026, 11, 16), end_date=dt.date(2026, 11, 30),
        room=room, capacity=1,
    )  # fmt: skip
    other = make_referral(org, intake, first_name="First")
    assess(other, counselor)
    services.referral_admit(
        actor=counselor, referral=other, program=program, admitted_on=dt.date(2026, 11, 16),
        consent_signed_by="First", series=[tiny],
    )  # fmt: skip
    assess(referral, counselor)
    login(client, counselor)
    page = client.get(url("referral-admit", referral))
    [row] = page.context["offers"]
    assert (row["free"], row["bookable"], row["checked"]) == (0, False, False)
    assert (
        f'value="{tiny.public_id}" id="series-{tiny.public_id}" disabled' in page.content.decode()
    )
    response = client.post(url("referral-admit", referral), admit_post(program, [tiny]))
    assert response.status_code == 400 and "series" in response.context["form"].errors
    assert AttendanceRecord.objects.filter(session__series=tiny).count() == 3


# --- audit follow-ups -----------------------------------------------------------------------


def test_screen_with_a_typed_opioid_and_no_last_use_date_alerts_withdrawal_management(
    client, intake, referral
):
    login(client, intake)
    response = client.post(
        url("screening-create", referral),
        {"substances_other": "Oxycodone, xanax", "withdrawal_symptoms": "on", "pregnant": "no"},
    )
    assert response.status_code == 302
    screen = Screening.objects.get()
    assert screen.route == "withdrawal_management" and screen.last_use_on is None
    page = client.get(response["Location"]).content.decode()
    assert "Refer to withdrawal management now" in page
    assert "oxycodone, xanax use and no last-use date" in page
    assert "No urgent risk reported" not in page


@pytest.fixture
def php(org, site):
    return Program.objects.create(
        organization=org, site=site, name="Day PHP", level_of_care="2.5",
        weekly_min_hours=Decimal("20.0"), weekly_max_hours=Decimal("30.0"),
    )  # fmt: skip


def test_admit_page_refuses_a_program_at_another_level_than_chosen(
    client, counselor, referral, program, php
):
    assess(referral, counselor, chosen_program=program)
    login(client, counselor)
    page = client.get(url("referral-admit", referral))
    assert page.context["form"]["program"].value() == str(program.public_id)
    for action in ("admit", "waitlist"):
        response = client.post(url("referral-admit", referral), admit_post(php, action=action))
        assert response.status_code == 400
        [error] = response.context["form"].errors["program"]
        assert "Day PHP is level 2.5, but the latest assessment" in error
        assert "with a variance reason" in response.content.decode()
    assert not Episode.objects.exists()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ASSESSMENT and referral.patient is None


def test_admit_page_preselects_a_program_at_the_chosen_level(
    client, counselor, org, intake, program, php
):
    ref = make_referral(org, intake, program_requested=program)
    assess(ref, counselor, ratings={**IOP, **{f: False for f in FACTS}, "d5": 3},
           chosen_level="2.5")  # fmt: skip
    login(client, counselor)
    page = client.get(url("referral-admit", ref))
    assert page.context["form"]["program"].value() == str(php.public_id)


def test_intake_report_shows_the_median_days_to_first_session(
    client, counselor, referral, program, evening_group
):
    from openiop.attendance.services import AttendanceEntry, attendance_record

    assess(referral, counselor, chosen_program=program)
    episode = services.referral_admit(
        actor=counselor, referral=referral, program=program, admitted_on=dt.date(2026, 11, 16),
        consent_signed_by="Maya Lindqvist", series=[evening_group],
    )  # fmt: skip
    monday = evening_group.sessions.get(starts_at__date=dt.date(2026, 11, 16))
    with time_machine.travel(monday.starts_at + dt.timedelta(minutes=20), tick=False):
        attendance_record(
            actor=counselor, session=monday, entries=[AttendanceEntry(episode.patient, "present")]
        )
        login(client, counselor)
        response = client.get(url("intake-report"))
    [row] = [r for r in response.context["rows"] if r.program == program]
    assert row.median_days_to_first_session == 4.0  # received Nov 12, first group Nov 16
    text = " ".join(response.content.decode().split())
    assert (
        '<td>Adult Evening IOP</td> <td class="num">1</td> <td class="num">1</td> '
        '<td class="num">1</td> <td class="num">2.0</td> <td class="num">4.0</td>'
    ) in text


def test_a_freed_seat_goes_to_the_first_waiting_patient_whose_week_fits(
    client, intake, counselor, org, program, room
):
    from openiop.enrollment.models import TedsDischargeReason
    from openiop.enrollment.services import episode_discharge

    group = series_create(
        actor=None, program=program, title="Small evening group", weekdays=[0, 2, 3],
        start_time=dt.time(18), duration_minutes=180, start_date=dt.date(2026, 11, 16),
        end_date=dt.date(2026, 12, 31), room=room, capacity=2,
    )  # fmt: skip
    members = []
    for first in ("Mo", "Ned"):
        ref = make_referral(org, intake, first_name=first, last_name="Member")
        assess(ref, counselor)
        members.append(
            services.referral_admit(
                actor=counselor,
                referral=ref,
                program=program,
                admitted_on=dt.date(2026, 11, 16),
                consent_signed_by=first,
                series=[group],
            )  # fmt: skip
        )
    waitlisted(org, intake, counselor, program, "Ann", "routine", 1)
    bea = waitlisted(org, intake, counselor, program, "Bea", "urgent", 5, evenings_busy=True)
    cal = waitlisted(org, intake, counselor, program, "Cal", "urgent", 8)
    tuesday = dt.datetime(2026, 11, 17, 15, 0, tzinfo=dt.UTC)
    with time_machine.travel(tuesday, tick=False):
        login(client, counselor)  # sessions expire; log in on the day
        full = client.get(url("waitlist", program=program.public_id))
        assert full.context["groups"] == []
        assert "No group of Adult Evening IOP has a free seat" in full.content.decode()

    episode_discharge(
        actor=counselor, episode=members[0], discharged_on=dt.date(2026, 11, 16),
        reason=TedsDischargeReason.COMPLETED,
    )  # fmt: skip
    with time_machine.travel(tuesday, tick=False):
        freed = client.get(url("waitlist", program=program.public_id))
        [offer] = freed.context["groups"]
        assert offer["offer"].series == group and offer["offer"].free_seats == 1
        # Bea is more urgent than Ann and waited longer than Cal, but works Monday evenings.
        names = [r["episode"].patient.first_name for r in freed.context["rows"]]
        assert names == ["Bea", "Cal", "Ann"]
        assert offer["first"].patient.first_name == "Cal"
        text = freed.content.decode()
        assert url("referral-admit", cal) in text and url("referral-admit", bea) not in text

        response = client.post(
            url("referral-admit", cal), admit_post(group.program, [group], admitted_on="2026-11-17")
        )
        assert response.status_code == 302
        cal.refresh_from_db()
        assert cal.episode.status == Episode.Status.ADMITTED
        booked = AttendanceRecord.objects.filter(episode=cal.episode)
        assert booked.count() == 20 and {r.session.series for r in booked} == {group}
        again = client.get(url("waitlist", program=program.public_id))
        assert again.context["groups"] == []


def test_a_fourth_edition_assessment_is_stored_with_its_edition_and_mapped_level(
    client, counselor, referral
):
    login(client, counselor)
    response = client.post(
        url("assessment-create", referral),
        assessment_post(
            "save", criteria_edition="4", d5="3", chosen_level="2.1",
            variance_reason="Works full time; evening IOP with sober-living support",
        ),
    )  # fmt: skip
    assert response.status_code == 302
    a = Assessment.objects.get()
    assert a.criteria_edition == "4"
    # 4th-edition D5 (recovery environment) at 3 reads as 3rd-edition d6 3: residential.
    assert (a.recommended_level, a.recommended_category) == ("3.5", "residential")
    assert a.recommendation["ratings_3rd_edition"]["d6"] == 3
    assert a.recommendation["reasons"][0]["driver"] == "d5"
    assert "4th ed., recovery environment" in a.recommendation["reasons"][0]["text"]
    assert (a.chosen_level, a.is_variance) == ("2.1", True)
