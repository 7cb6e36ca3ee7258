import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from conftest import NY
from openiop.billing.tests.helpers import second_episode
from openiop.clinical.models import DischargeSummary, NoteSignedError
from openiop.clinical.selectors.discharge import discharge_summaries_due
from openiop.clinical.services.discharge import (
    DischargeSummaryConflict,
    discharge_summary_amend,
    discharge_summary_save_draft,
    discharge_summary_sign,
    discharge_summary_start,
)
from openiop.clinical.tests.ur_fixtures import full_record
from openiop.enrollment.services import episode_discharge

DISCHARGED = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=NY), tick=False):
        yield


@pytest.fixture
def discharged(episode, counselor):
    full_record(episode, counselor)
    return episode_discharge(actor=None, episode=episode, discharged_on=DISCHARGED, reason=1)


def texts(**kw):
    return {"progress_narrative": "Completed all objectives.", "aftercare_plan": "Weekly OP"} | kw


def test_start_prefills_the_facts_from_the_record(counselor, discharged):
    s = discharge_summary_start(actor=counselor, episode=discharged)
    assert s.due_on == DISCHARGED + dt.timedelta(days=7)
    assert s.reason_code == 1
    assert s.level_at_admission == s.level_at_discharge == "2.1"
    assert s.last_service_on == dt.date(2026, 11, 18)
    assert s.services["total_sessions"] == 8 and s.services["total_hours"] == "24.0"
    assert [(n["label"], n["count"]) for n in s.services["notes"]] == [
        ("Family", 1),
        ("Individual", 1),
    ]  # the SUD counseling note is not counted
    assert [g["rating"] for g in s.goal_progress] == ["achieved", "progressing", ""]
    assert s.status == "draft" and s.author == counselor


def test_start_lists_medications_taken_at_discharge(counselor, prescriber, discharged):
    from openiop.medications.models import Medication

    Medication.objects.create(
        organization_id=discharged.organization_id, patient_id=discharged.patient_id,
        name="Naltrexone", dose="50 mg", frequency="daily", prescriber=prescriber,
        start_on=dt.date(2026, 11, 5), is_mat=True, mat_kind="naltrexone",
    )  # fmt: skip
    s = discharge_summary_start(actor=counselor, episode=discharged)
    assert s.medications.startswith("Naltrexone 50 mg oral daily (MAT)")


def test_start_only_for_discharged_episodes_and_only_once(counselor, episode, discharged):
    other = second_episode(episode.organization, episode.program)
    with pytest.raises(ValidationError, match="discharged"):
        discharge_summary_start(actor=counselor, episode=other)
    discharge_summary_start(actor=counselor, episode=discharged)
    with pytest.raises(ValidationError, match="already"):
        discharge_summary_start(actor=counselor, episode=discharged)


def test_outsider_cannot_start(outsider, discharged):
    with pytest.raises(PermissionDenied):
        discharge_summary_start(actor=outsider, episode=discharged)


def test_stale_save_is_a_conflict_that_keeps_the_text(counselor, discharged):
    s = discharge_summary_start(actor=counselor, episode=discharged)
    discharge_summary_save_draft(actor=counselor, summary=s, expected_version=1, texts=texts())
    stale = DischargeSummary.objects.get(pk=s.pk)
    with pytest.raises(DischargeSummaryConflict) as exc:
        discharge_summary_save_draft(
            actor=counselor,
            summary=stale,
            expected_version=1,
            texts=texts(progress_narrative="Mine"),
        )
    assert exc.value.texts["progress_narrative"] == "Mine" and exc.value.current_version == 2
    s.refresh_from_db()
    assert s.progress_narrative == "Completed all objectives."


def test_sign_needs_narrative_and_aftercare_then_locks(counselor, supervisor, discharged):
    s = discharge_summary_start(actor=counselor, episode=discharged)
    with pytest.raises(ValidationError) as exc:
        discharge_summary_sign(actor=counselor, summary=s, expected_version=s.version)
    assert set(exc.value.message_dict) == {"progress_narrative", "aftercare_plan"}
    discharge_summary_save_draft(actor=counselor, summary=s, expected_version=1, texts=texts())
    with pytest.raises(PermissionDenied):
        discharge_summary_sign(actor=supervisor, summary=s, expected_version=s.version)
    discharge_summary_sign(actor=counselor, summary=s, expected_version=s.version)
    s.refresh_from_db()
    assert s.is_signed and s.signed_by == counselor
    with pytest.raises(ValidationError):
        discharge_summary_save_draft(
            actor=counselor,
            summary=s,
            expected_version=s.version,
            texts=texts(progress_narrative="changed"),
        )
    s.progress_narrative = "changed"
    with pytest.raises(NoteSignedError):
        s.save()
    with pytest.raises(DatabaseError), transaction.atomic():  # the database refuses too
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE clinical_dischargesummary SET progress_narrative = 'x' WHERE id = %s",
                [s.pk],
            )


def test_amendment_is_linked_and_leaves_the_original(counselor, discharged):
    s = discharge_summary_start(actor=counselor, episode=discharged)
    discharge_summary_save_draft(actor=counselor, summary=s, expected_version=1, texts=texts())
    discharge_summary_sign(actor=counselor, summary=s, expected_version=2)
    with pytest.raises(ValidationError):
        discharge_summary_amend(actor=counselor, summary=s, reason=" ")
    a = discharge_summary_amend(actor=counselor, summary=s, reason="Wrong aftercare provider")
    assert a.amends == s and a.status == "draft" and a.aftercare_plan == "Weekly OP"
    discharge_summary_save_draft(
        actor=counselor,
        summary=a,
        expected_version=1,
        texts=texts(aftercare_plan="Weekly OP at Lakeview"),
    )
    discharge_summary_sign(actor=counselor, summary=a, expected_version=2)
    s.refresh_from_db()
    assert s.aftercare_plan == "Weekly OP"


def test_summaries_due_lists_unsigned_discharges_most_overdue_first(
    org, program, counselor, supervisor, billing, discharged
):
    old = second_episode(org, program, first="Al", last="Old", admitted=dt.date(2026, 10, 1))
    episode_discharge(actor=None, episode=old, discharged_on=dt.date(2026, 11, 2), reason=2)
    done = second_episode(org, program, first="Di", last="Done", admitted=dt.date(2026, 10, 1))
    episode_discharge(actor=None, episode=done, discharged_on=dt.date(2026, 11, 2), reason=1)
    s = discharge_summary_start(actor=counselor, episode=done)
    discharge_summary_save_draft(actor=counselor, summary=s, expected_version=1, texts=texts())
    discharge_summary_sign(actor=counselor, summary=s, expected_version=2)
    rows = discharge_summaries_due(supervisor, dt.date(2026, 11, 23))
    assert [r.patient.last_name for r in rows] == ["Old", "Whitfield"]
    assert rows[0].overdue and rows[0].days == -14
    assert not rows[1].overdue and rows[1].days == 4
    assert discharge_summaries_due(billing, dt.date(2026, 11, 23)) == []


@pytest.mark.parametrize("n", [1, 6])
def test_summaries_due_take_a_fixed_number_of_queries(
    org, program, supervisor, episode, n, django_assert_max_num_queries
):
    for i in range(n):
        e = second_episode(org, program, first=f"P{i}", last=f"Q{i}")
        episode_discharge(actor=None, episode=e, discharged_on=dt.date(2026, 11, 20), reason=1)
    supervisor._openiop_roles = None
    with django_assert_max_num_queries(8):
        assert len(discharge_summaries_due(supervisor, dt.date(2026, 11, 23))) == n


def test_dashboard_panel_reads_the_snapshot_but_drops_a_summary_signed_since(
    org, program, counselor, supervisor, settings
):
    """With snapshots on (ADR 0016), the dashboard's list of summaries due comes from the
    organization's snapshot; the shown rows are read again, so one signed a moment ago is not
    listed, and the total says one fewer."""
    from django.test import RequestFactory

    from openiop.clinical.selectors.discharge import discharge_due_context

    settings.OPENIOP_SNAPSHOT_MAX_AGE_SECONDS = 60
    people = []
    for first in ("Al", "Bo"):
        e = second_episode(org, program, first=first, last="Gone", admitted=dt.date(2026, 10, 1))
        people.append(episode_discharge(actor=None, episode=e, discharged_on=DISCHARGED, reason=1))
    request = RequestFactory().get("/")
    today = dt.date(2026, 11, 23)
    before = discharge_due_context(supervisor, today, request=request, snapshot=True)
    assert [r.patient.first_name for r in before["discharge_summaries_due"]] == ["Al", "Bo"]
    s = discharge_summary_start(actor=counselor, episode=people[0])
    discharge_summary_save_draft(actor=counselor, summary=s, expected_version=1, texts=texts())
    discharge_summary_sign(actor=counselor, summary=s, expected_version=2)
    after = discharge_due_context(supervisor, today, request=request, snapshot=True)
    assert (
        after["discharge_summaries_due_computed_at"]
        == before["discharge_summaries_due_computed_at"]
    )
    assert [r.patient.first_name for r in after["discharge_summaries_due"]] == ["Bo"]
    assert after["discharge_summaries_due_total"] == 1
    fresh = discharge_due_context(
        supervisor, today, request=RequestFactory().get("/?refresh=1"), snapshot=True
    )
    assert [r.patient.first_name for r in fresh["discharge_summaries_due"]] == ["Bo"]
