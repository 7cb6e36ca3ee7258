from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from openiop.core.models import AuditEvent
from openiop.medications import selectors, services
from openiop.medications.models import DrugScreen, DrugScreenResult, Medication
from openiop.medications.tests.conftest import TODAY, at

pytestmark = pytest.mark.django_db


def record(actor, patient, episode, results, **kw):
    args = dict(
        actor=actor,
        patient=patient,
        episode=episode,
        collected_at=at(16),
        method="presumptive",
        results=results,
    )
    args.update(kw)
    return services.drug_screen_record(**args)


def interpretations(screen):
    return dict(screen.results.values_list("substance", "interpretation"))


# --- medications --------------------------------------------------------------------------------


def test_start_mat_suggests_the_panel_substance_and_audits(bup, patient):
    assert bup.is_mat and bup.mat_kind == "buprenorphine"
    assert bup.panel_substance == "buprenorphine"
    row = AuditEvent.objects.filter(action="openiop.medications.medication.start").get()
    assert row.category == "clinical" and row.patient_id == str(patient.public_id)


def test_outside_methadone_program_needs_no_staff_prescriber(patient, episode, prescriber):
    med = services.medication_start(
        actor=prescriber, patient=patient, episode=episode, name="Methadone", dose="80 mg",
        frequency="daily at the OTP", start_on=dt.date(2026, 10, 1),
        outside_prescriber="Capital District OTP", mat_kind="methadone",
    )  # fmt: skip
    assert med.prescriber is None and med.panel_substance == "methadone"
    assert med.prescriber_display == "Capital District OTP"


def test_start_without_any_prescriber_is_refused(patient, prescriber):
    with pytest.raises(ValidationError) as exc:
        services.medication_start(
            actor=prescriber, patient=patient, name="Naltrexone", dose="50 mg",
            frequency="daily", start_on=TODAY,
        )  # fmt: skip
    assert "outside_prescriber" in exc.value.message_dict
    assert not Medication.objects.exists()


def test_counselor_cannot_prescribe(patient, counselor, prescriber):
    with pytest.raises(PermissionDenied):
        services.medication_start(
            actor=counselor, patient=patient, name="Naltrexone", dose="50 mg",
            frequency="daily", start_on=TODAY, prescriber=prescriber,
        )  # fmt: skip


def test_change_stops_the_old_row_and_keeps_history(bup, prescriber, patient):
    new = services.medication_change(
        actor=prescriber, medication=bup, changed_on=dt.date(2026, 11, 17), dose="12 mg/3 mg",
        reason="Cravings in the evening",
    )  # fmt: skip
    bup.refresh_from_db()
    assert bup.stop_on == dt.date(2026, 11, 17) and "Cravings" in bup.stop_reason
    assert new.replaces == bup and new.dose == "12 mg/3 mg" and new.is_mat
    assert new.panel_substance == "buprenorphine" and new.prescriber == prescriber
    active = selectors.medication_list_for_patient(
        user=prescriber, patient=patient, active_on=TODAY
    )
    assert active == [new]
    history = selectors.medication_list_for_patient(user=prescriber, patient=patient)
    assert history == [new, bup]


def test_change_with_nothing_changed_or_a_bad_date_writes_nothing(bup, prescriber):
    with pytest.raises(ValidationError) as exc:
        services.medication_change(
            actor=prescriber, medication=bup, changed_on=dt.date(2026, 11, 1), reason="",
        )  # fmt: skip
    assert set(exc.value.message_dict) == {"changed_on", "reason", "dose"}
    bup.refresh_from_db()
    assert bup.stop_on is None and Medication.objects.count() == 1


def test_stop_records_date_and_reason_and_refuses_a_second_stop(bup, prescriber):
    services.medication_stop(actor=prescriber, medication=bup, stop_on=TODAY, reason="Tapered off")
    bup.refresh_from_db()
    assert bup.stop_on == TODAY and bup.stop_reason == "Tapered off"
    with pytest.raises(ValidationError, match="already stopped"):
        services.medication_stop(actor=prescriber, medication=bup, stop_on=TODAY, reason="x")


def test_stop_in_the_future_or_before_start_is_refused(bup, prescriber):
    for day in (TODAY + dt.timedelta(days=1), dt.date(2026, 11, 1)):
        with pytest.raises(ValidationError):
            services.medication_stop(actor=prescriber, medication=bup, stop_on=day, reason="x")
    bup.refresh_from_db()
    assert bup.stop_on is None


def test_database_refuses_stop_before_start(bup):
    with pytest.raises(IntegrityError), transaction.atomic():
        Medication.objects.filter(pk=bup.pk).update(stop_on=dt.date(2026, 1, 1))


# --- screens ------------------------------------------------------------------------------------


def test_prescribed_buprenorphine_is_expected_fentanyl_positive(bup, counselor, patient, episode):
    screen = record(
        counselor, patient, episode, [("buprenorphine", True), ("fentanyl", True), ("thc", False)]
    )
    assert interpretations(screen) == {
        "buprenorphine": "expected",
        "fentanyl": "positive",
        "thc": "negative",
    }
    assert screen.collected_on == dt.date(2026, 11, 16) and screen.recorded_by == counselor
    assert AuditEvent.objects.filter(action="openiop.medications.drug_screen.record").exists()


def test_missing_buprenorphine_is_flagged(bup, counselor, patient, episode):
    screen = record(counselor, patient, episode, [("buprenorphine", False)])
    assert interpretations(screen) == {"buprenorphine": "expected_not_detected"}


def test_interpretation_uses_medications_on_the_collection_day(bup, prescriber, patient, episode):
    services.medication_stop(
        actor=prescriber, medication=bup, stop_on=dt.date(2026, 11, 5), reason="Declined"
    )
    screen = record(prescriber, patient, episode, [("buprenorphine", True)], collected_at=at(4))
    later = record(prescriber, patient, episode, [("buprenorphine", True)], collected_at=at(19))
    assert interpretations(screen) == {"buprenorphine": "expected"}
    assert interpretations(later) == {"buprenorphine": "positive"}


def test_collection_date_is_the_sites_local_date(counselor, patient, episode):
    # 02:00 UTC on the 17th is still the evening of the 16th in New York.
    screen = record(counselor, patient, episode, [("thc", True)], collected_at=at(17, hour=2))
    assert screen.collected_on == dt.date(2026, 11, 16)


def test_adulterated_specimen_results_are_invalid(bup, counselor, patient, episode):
    screen = record(
        counselor, patient, episode, [("cocaine", True), ("buprenorphine", False)],
        specimen_validity="adulterated",
    )  # fmt: skip
    assert set(interpretations(screen).values()) == {"invalid"}


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"results": []}, "results"),
        ({"results": [("kratom", True)]}, "results"),
        ({"results": [("thc", True), ("thc", False)]}, "results"),
        ({"collected_at": at(21)}, "collected_at"),
        ({"collected_at": dt.datetime(2026, 11, 16, 9)}, "collected_at"),
        ({"method": "confirmatory"}, "lab_name"),
        ({"specimen": "hair"}, "specimen"),
        ({"specimen_validity": "cloudy"}, "specimen_validity"),
    ],
)
def test_bad_screen_input_names_the_field_and_writes_nothing(
    kw, field, counselor, patient, episode
):
    args = {"results": [("thc", True)], **kw}
    with pytest.raises(ValidationError) as exc:
        record(counselor, patient, episode, **args)
    assert field in exc.value.message_dict
    assert not DrugScreen.objects.exists() and not DrugScreenResult.objects.exists()


def test_front_desk_cannot_record_a_screen(front_desk, patient, episode):
    with pytest.raises(PermissionDenied):
        record(front_desk, patient, episode, [("thc", True)])


def test_lab_confirmation_supersedes_point_of_care_result(counselor, patient, episode, supervisor):
    poc = record(counselor, patient, episode, [("opiates", True), ("thc", False)])
    lab = record(
        counselor, patient, episode, [("opiates", False)], method="confirmatory",
        collected_at=None, confirms=poc, lab_name="Quest", accession_number="A-1",
    )  # fmt: skip
    assert lab.collected_at == poc.collected_at and lab.episode == episode
    items = selectors.drug_screen_list_for_patient(user=supervisor, patient=patient)
    assert len(items) == 1 and items[0].confirmation == lab
    final = {c.substance: (c.interpretation, c.method) for c in items[0].row.results}
    assert final == {"opiates": ("negative", "confirmatory"), "thc": ("negative", "presumptive")}


def test_confirmation_rules(counselor, patient, episode):
    poc = record(counselor, patient, episode, [("opiates", True)])
    lab = dict(method="confirmatory", collected_at=None, confirms=poc, lab_name="Quest",
               accession_number="A-1")  # fmt: skip
    record(counselor, patient, episode, [("opiates", True)], **lab)
    with pytest.raises(ValidationError) as exc:
        record(counselor, patient, episode, [("opiates", True)], **lab)
    assert set(exc.value.message_dict) == {"confirms", "accession_number"}
    with pytest.raises(ValidationError, match="Only a confirmatory"):
        record(counselor, patient, episode, [("opiates", True)], confirms=poc)
    assert DrugScreen.objects.count() == 2


def test_summary_counts_specimens_and_lists_rows(bup, counselor, supervisor, patient, episode):
    record(counselor, patient, episode, [("buprenorphine", True), ("cocaine", False)],
           collected_at=at(9))  # fmt: skip
    poc = record(counselor, patient, episode, [("buprenorphine", True), ("cocaine", True)],
                 collected_at=at(12))  # fmt: skip
    record(counselor, patient, episode, [("cocaine", True)], method="confirmatory",
           collected_at=None, confirms=poc, lab_name="Quest")  # fmt: skip
    record(counselor, patient, episode, [("buprenorphine", False)], collected_at=at(16))
    record(counselor, patient, episode, [("thc", True)], collected_at=at(19))  # outside range
    summary = selectors.drug_screen_summary(
        user=supervisor, episode=episode, start=dt.date(2026, 11, 2), end=dt.date(2026, 11, 18)
    )
    assert (summary.specimens, summary.with_positive, summary.with_expected_not_detected) == (
        3, 1, 1,
    )  # fmt: skip
    assert summary.all_negative_or_expected == 1
    assert summary.positives_by_substance == {"Cocaine": 1}
    assert [r.collected_on.day for r in summary.rows] == [9, 12, 16]
    assert summary.rows[1].confirmed and summary.rows[1].lab_name == "Quest"
    assert [c.interpretation_label for c in summary.rows[2].flags] == ["Expected, not detected"]
    assert AuditEvent.objects.filter(action="openiop.medications.drug_screen.summary").exists()


def test_summary_requires_note_view(front_desk, episode):
    with pytest.raises(PermissionDenied):
        selectors.drug_screen_summary(user=front_desk, episode=episode, start=TODAY, end=TODAY)


def test_chart_panel_is_empty_for_front_desk_and_reads_nothing(front_desk, patient, bup):
    before = AuditEvent.objects.count()
    ctx = selectors.medication_chart_panel(user=front_desk, patient=patient, today=TODAY)
    assert ctx == {"med_panel": None} and AuditEvent.objects.count() == before


def test_chart_panel_shows_active_meds_and_last_three_screens(bup, counselor, patient, episode):
    for day in (9, 11, 13, 16):
        record(counselor, patient, episode, [("thc", False)], collected_at=at(day))
    ctx = selectors.medication_chart_panel(user=counselor, patient=patient, today=TODAY)
    panel = ctx["med_panel"]
    assert panel["medications"] == [bup] and panel["on_mat"]
    assert [i.row.collected_on.day for i in panel["screens"]] == [16, 13, 11]


def test_chart_panel_costs_a_fixed_number_of_queries_and_one_audit_row(
    bup, counselor, patient, episode, django_assert_max_num_queries
):
    for day in (9, 11, 13, 16):
        poc = record(counselor, patient, episode, [("thc", True)], collected_at=at(day))
        record(counselor, patient, episode, [("thc", False)], method="confirmatory",
               collected_at=None, confirms=poc, lab_name="Quest")  # fmt: skip
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    # Roles, medications, screens + confirmations + their results (4), audit append (5 incl.
    # savepoint) and the organization lookup in audit_log.
    with django_assert_max_num_queries(12):
        selectors.medication_chart_panel(user=counselor, patient=patient, today=TODAY)
    new = AuditEvent.objects.filter(id__gt=last).values_list("action", flat=True)
    assert list(new) == ["openiop.medications.chart_panel.view"]
