"""The UR packet: assembled from the record, never with SUD counseling notes."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from conftest import NY
from openiop.billing.services import authorization_create
from openiop.clinical.models import Note
from openiop.clinical.selectors.ur import packet_html, ur_packet
from openiop.clinical.services.ur import ur_create
from openiop.clinical.tests.ur_fixtures import full_record, signed_note
from openiop.core.models import AuditEvent

START, END = dt.date(2026, 11, 2), dt.date(2026, 11, 22)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=NY), tick=False):
        yield


@pytest.fixture
def record(episode, counselor):
    full_record(episode, counselor)
    return episode


def test_packet_assembles_every_section_from_the_record(supervisor, counselor, record):
    authorization_create(
        actor=None, episode=record, payer_name="Blue River Health", auth_number="BR-7",
        units_authorized=20, start_on=START, end_on=dt.date(2026, 11, 29),
    )  # fmt: skip
    ur_create(
        actor=counselor,
        episode=record,
        period_start=START,
        period_end=END,
        clinician_summary="Meets 2.1 criteria; D3 still rated 2.",
    )
    p = ur_packet(supervisor, record, START, END)
    assert p.authorization.used == 8 and p.authorization.remaining == 12
    assert [d.rating for d in p.placement.dimensions] == [1, 0, 2, 3, 2, 1]
    assert p.placement.dimensions[0].justification == "Justification for dimension 1"
    assert p.attendance.sessions_attended == 8 and p.attendance.sessions_missed == 1
    assert p.attendance.hours_attended == "24.0"
    assert [w.week_start for w in p.attendance.weeks] == [
        dt.date(2026, 11, 2),
        dt.date(2026, 11, 9),
        dt.date(2026, 11, 16),
    ]
    assert [w.status for w in p.attendance.weeks] == ["met", "met", "below"]
    assert p.attendance.chart_svg.startswith("<svg")
    objectives = p.plan.problems[0].goals[0].objectives
    assert [o.rating for o in objectives] == ["achieved", "progressing", ""]  # latest review wins
    assert objectives[2].rating_label == "Not yet reviewed"
    assert [n.kind for n in p.notes] == ["individual", "family"]
    assert p.review.clinician_summary.startswith("Meets 2.1")


def test_sud_counseling_notes_never_appear_in_the_packet(supervisor, counselor, record):
    assert Note.objects.filter(kind="sud_counseling").count() == 1
    p = ur_packet(counselor, record, START, END)  # even their author's packet leaves them out
    assert all(n.kind != "sud_counseling" for n in p.notes)
    html = packet_html(ur_packet(supervisor, record, START, END))
    assert "SUD counseling note" not in html.replace("SUD counseling notes (42 CFR 2.11)", "")
    assert "SECRET-SUD-COUNSELING-TEXT" not in html
    assert "45</td>" not in html  # its duration is not listed either


def test_note_text_never_leaves_in_a_packet(supervisor, counselor, episode):
    signed_note(episode, counselor, dt.date(2026, 11, 3), secret="PRIVATE-NOTE-TEXT")
    html = packet_html(ur_packet(supervisor, episode, START, END))
    assert "PRIVATE-NOTE-TEXT" not in html and "Individual" in html


def test_notes_outside_the_period_and_drafts_are_left_out(supervisor, counselor, episode):
    signed_note(episode, counselor, dt.date(2026, 11, 3))
    signed_note(episode, counselor, dt.date(2026, 11, 25))  # after the period
    signed_note(episode, counselor, dt.date(2026, 11, 4), signed=False)  # a draft
    p = ur_packet(supervisor, episode, START, END)
    assert [n.on for n in p.notes] == [dt.date(2026, 11, 3)]


def test_html_is_standalone_with_notice_print_css_and_running_head(supervisor, record):
    html = packet_html(ur_packet(supervisor, record, START, END))
    assert html.lstrip().startswith("<!doctype html>")
    assert "42 CFR part 2 prohibits unauthorized use or disclosure of these records" in html
    assert html.index("42 CFR part 2 prohibits") < html.index("Placement: six-dimension")
    assert "@media print" in html and "break-before:page" in html
    assert 'class="running-head">Dana Whitfield' in html and "Nov 2, 2026 – Nov 22, 2026" in html
    assert "<link" not in html and "<script" not in html  # nothing to fetch: works as a file
    assert "<svg" in html


def test_missing_sections_are_labelled(supervisor, episode):
    html = packet_html(ur_packet(supervisor, episode, START, END))
    assert "No six-dimension assessment recorded" in html
    assert "No signed treatment plan in effect" in html
    assert "No active payer authorization covers" in html
    assert "No clinician summary recorded" in html
    assert "No signed notes dated in this period" in html
    assert "No drug screens recorded in this period." in html


def test_billing_reads_the_packet_but_clinical_only_sections_are_marked(billing, record):
    html = packet_html(ur_packet(billing, record, START, END))
    assert "Not included: drug-screen results need clinical-record access" in html
    assert "Not included: questionnaire scores need clinical-record access" in html


def test_roles_without_ur_permission_and_outsiders_are_refused(front_desk, outsider, episode):
    with pytest.raises(PermissionDenied):
        ur_packet(front_desk, episode, START, END)
    with pytest.raises(PermissionDenied):
        ur_packet(outsider, episode, START, END)


def test_the_packet_is_one_audited_read(billing, record):
    before = AuditEvent.objects.count()
    ur_packet(billing, record, START, END)
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [e.action for e in events] == ["openiop.clinical.ur_packet.view"]
    assert events[0].detail["start"] == "2026-11-02" and events[0].category == "clinical"


def test_end_before_start_is_refused(supervisor, episode):
    with pytest.raises(ValueError, match="end date"):
        ur_packet(supervisor, episode, END, START)


@pytest.mark.parametrize("weeks", [1, 3])
@pytest.mark.parametrize(("who", "pin"), [("billing", 17), ("supervisor", 34)])
def test_packet_takes_a_fixed_number_of_queries(
    request, counselor, episode, weeks, who, pin, django_assert_max_num_queries
):
    """Billing: 12 reads + 5 for the audit row. A clinician adds the drug-screen (up to 4 reads)
    and questionnaire (2 reads) sections, each with its own audit row."""
    from openiop.billing.tests.helpers import attend

    user = request.getfixturevalue(who)
    full_record(episode, counselor)
    for w in range(weeks):
        attend(episode, dt.date(2026, 11, 3) + dt.timedelta(days=7 * w))
        signed_note(episode, counselor, dt.date(2026, 11, 5) + dt.timedelta(days=7 * w))
    user._openiop_roles = None
    with django_assert_max_num_queries(pin):
        ur_packet(user, episode, START, END)


def test_drug_screens_from_the_medications_app_appear_for_clinicians(supervisor, episode):
    from openiop.medications.services import drug_screen_record

    collected = dt.datetime(2026, 11, 10, 15, 0, tzinfo=NY)
    drug_screen_record(actor=None, patient=episode.patient, episode=episode,
                       method="presumptive", collected_at=collected,
                       results=[("cocaine", True), ("etg", False)])  # fmt: skip
    html = packet_html(ur_packet(supervisor, episode, START, END))
    assert "1 specimen:" in html and "Positive for: Cocaine (1)" in html
    assert "Cocaine: Positive" in html


def test_questionnaire_trends_appear_for_clinicians(supervisor, episode):
    from openiop.questionnaires.services import response_record

    for day, answer in ((3, 2), (17, 1)):
        response_record(actor=None, patient=episode.patient, episode=episode, instrument="gad7",
                        answers=[answer] * 7,
                        administered_at=dt.datetime(2026, 11, day, 15, tzinfo=NY))  # fmt: skip
    p = ur_packet(supervisor, episode, START, END)
    assert p.questionnaires.state == "shown"
    [gad] = p.questionnaires.data.instruments
    assert gad.count == 2 and gad.change == -7
    assert "-7</td>" in packet_html(p)
