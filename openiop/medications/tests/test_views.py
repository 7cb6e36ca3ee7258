from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from conftest import login
from openiop.core.models import AuditEvent
from openiop.medications import selectors, services
from openiop.medications.models import DrugScreen, Medication
from openiop.medications.tests.conftest import TODAY, at

pytestmark = pytest.mark.django_db


def meds_url(patient):
    return reverse("medications:medication-list", args=[patient.public_id])


def screens_url(patient):
    return reverse("medications:drug-screen-list", args=[patient.public_id])


def screen(actor, patient, episode, results, **kw):
    args = dict(actor=actor, patient=patient, episode=episode, collected_at=at(16),
                method="presumptive", results=results)  # fmt: skip
    args.update(kw)
    return services.drug_screen_record(**args)


START = {
    "name": "Naltrexone",
    "dose": "50 mg",
    "route": "oral",
    "frequency": "once daily",
    "start_on": "2026-11-18",
    "outside_prescriber": "",
    "mat_kind": "naltrexone",
    "panel_substance": "auto",
    "adherence_notes": "",
}


# --- medications page ---------------------------------------------------------------------------


def test_medications_page_lists_active_with_mat_badge_and_history(client, prescriber, patient, bup):
    services.medication_change(
        actor=prescriber, medication=bup, changed_on=dt.date(2026, 11, 17), dose="12 mg/3 mg",
        reason="Evening cravings",
    )  # fmt: skip
    response = login(client, prescriber).get(meds_url(patient))
    assert response.status_code == 200
    body = response.content.decode()
    active, history = body.split('id="history-h"')
    assert "12 mg/3 mg" in active and "MAT: Buprenorphine" in active
    assert "8 mg/2 mg" in history and "Changed: Evening cravings" in history
    assert "Start a medication" in body
    assert AuditEvent.objects.filter(action="openiop.medications.medication.list").exists()


def test_counselor_sees_medications_but_no_prescribing_forms(client, counselor, patient, bup):
    body = login(client, counselor).get(meds_url(patient)).content.decode()
    assert "Buprenorphine/naloxone" in body
    assert "Start a medication" not in body and "Stop medication" not in body


def test_medications_page_requires_login(client, patient):
    response = client.get(meds_url(patient))
    assert response.status_code == 302 and "login" in response["Location"]


def test_outsider_gets_404(client, outsider, patient, bup):
    login(client, outsider)
    assert client.get(meds_url(patient)).status_code == 404
    assert client.get(screens_url(patient)).status_code == 404
    stop = reverse("medications:medication-stop", args=[bup.public_id])
    assert client.post(stop, {}).status_code == 404


@pytest.mark.parametrize("persona", ["front_desk", "billing"])
def test_roles_without_clinical_access_get_403(client, persona, request, patient):
    login(client, request.getfixturevalue(persona))
    assert client.get(meds_url(patient)).status_code == 403
    assert client.get(screens_url(patient)).status_code == 403


def test_counselor_cannot_start_a_medication(client, counselor, patient):
    url = reverse("medications:medication-start", args=[patient.public_id])
    response = login(client, counselor).post(url, {**START, "prescriber": ""})
    assert response.status_code == 403 and not Medication.objects.exists()


def test_prescriber_starts_a_medication(client, prescriber, patient, episode):
    url = reverse("medications:medication-start", args=[patient.public_id])
    response = login(client, prescriber).post(url, {**START, "prescriber": prescriber.public_id})
    assert response.status_code == 302
    med = Medication.objects.get()
    assert (med.is_mat, med.mat_kind, med.episode, med.prescriber) == (
        True, "naltrexone", episode, prescriber,
    )  # fmt: skip
    assert "Naltrexone" in client.get(meds_url(patient)).content.decode()


def test_start_without_prescriber_shows_the_error_and_writes_nothing(client, prescriber, patient):
    url = reverse("medications:medication-start", args=[patient.public_id])
    login(client, prescriber)
    response = client.post(url, {**START, "prescriber": ""})
    assert response.status_code == 400
    assert "name the outside prescriber or program" in response.content.decode()
    response = client.post(
        url, {**START, "prescriber": prescriber.public_id, "start_on": "2026-13-01"}
    )
    assert response.status_code == 400
    assert "Enter a valid date" in response.content.decode()
    assert not Medication.objects.exists()


def test_stop_with_a_date_before_start_shows_the_error(client, prescriber, patient, bup):
    url = reverse("medications:medication-stop", args=[bup.public_id])
    prefix = f"s-{bup.public_id}"
    response = login(client, prescriber).post(
        url, {f"{prefix}-stop_on": "2026-10-01", f"{prefix}-reason": "Side effects"}
    )
    assert response.status_code == 400
    assert "cannot be before the start date" in response.content.decode()
    bup.refresh_from_db()
    assert bup.stop_on is None


def test_stop_and_change_work(client, prescriber, patient, bup):
    login(client, prescriber)
    c = f"c-{bup.public_id}"
    response = client.post(
        reverse("medications:medication-change", args=[bup.public_id]),
        {f"{c}-changed_on": "2026-11-18", f"{c}-dose": "16 mg/4 mg", f"{c}-frequency": "",
         f"{c}-route": "", f"{c}-reason": "Cravings"},
    )  # fmt: skip
    assert response.status_code == 302
    new = Medication.objects.get(replaces=bup)
    s = f"s-{new.public_id}"
    response = client.post(
        reverse("medications:medication-stop", args=[new.public_id]),
        {f"{s}-stop_on": "2026-11-20", f"{s}-reason": "Moved to another state"},
    )
    assert response.status_code == 302
    assert not Medication.objects.active_on(TODAY).exists()
    assert Medication.objects.count() == 2


def test_medications_page_query_count_does_not_grow(
    client, prescriber, patient, episode, django_assert_max_num_queries
):
    for i in range(8):
        services.medication_start(
            actor=prescriber, patient=patient, episode=episode, name=f"Drug {i}", dose="1 mg",
            frequency="daily", start_on=dt.date(2026, 11, 1), prescriber=prescriber,
        )  # fmt: skip
    login(client, prescriber)
    # Measured 14 for 1 medication and for 12: session, user, roles, patient, episodes,
    # medications, audit (5), organization.
    with django_assert_max_num_queries(14):
        assert client.get(meds_url(patient)).status_code == 200


# --- drug screens page --------------------------------------------------------------------------


def post_screen(**kw):
    data = {
        "collected_at": "2026-11-20T09:15",
        "specimen": "urine",
        "method": "presumptive",
        "specimen_validity": "valid",
        "lab_name": "",
        "accession_number": "",
        "confirms": "",
        "notes": "",
        "r_buprenorphine": "detected",
        "r_fentanyl": "not_detected",
    }
    data.update(kw)
    return data


def test_screens_page_shows_text_labels_with_colours(client, counselor, patient, episode, bup):
    screen(counselor, patient, episode, [("buprenorphine", True), ("cocaine", True)],
           collected_at=at(10))  # fmt: skip
    screen(counselor, patient, episode, [("buprenorphine", False), ("thc", False)])
    screen(counselor, patient, episode, [("thc", False)], collected_at=at(18),
           specimen_validity="substituted")  # fmt: skip
    response = login(client, counselor).get(screens_url(patient))
    assert response.status_code == 200
    table = response.content.decode().split('class="drug-screens"')[1]
    assert '<span class="badge below interp-positive">Positive</span> Cocaine' in table
    assert '<span class="badge on_track interp-expected">Expected (prescribed)</span>' in table
    assert "Expected, not detected</span> Buprenorphine" in table
    assert '<span class="badge met interp-negative">Negative</span> THC' in table
    assert 'interp-invalid">Invalid</span>' in table
    assert AuditEvent.objects.filter(action="openiop.medications.drug_screen.list").exists()


def test_record_a_screen_from_the_form(client, counselor, patient, episode, bup):
    response = login(client, counselor).post(
        screens_url(patient), post_screen(episode=str(episode.public_id))
    )
    assert response.status_code == 302
    s = DrugScreen.objects.get()
    # 09:15 typed on the page is New York time.
    assert s.collected_at == dt.datetime(2026, 11, 20, 14, 15, tzinfo=dt.UTC)
    assert dict(s.results.values_list("substance", "interpretation")) == {
        "buprenorphine": "expected",
        "fentanyl": "negative",
    }


def test_screen_with_no_results_marked_is_rejected(client, counselor, patient, episode):
    response = login(client, counselor).post(
        screens_url(patient),
        post_screen(episode=str(episode.public_id), r_buprenorphine="", r_fentanyl=""),
    )
    assert response.status_code == 400
    assert "Mark at least one substance" in response.content.decode()
    assert not DrugScreen.objects.exists()


def test_screen_in_the_future_or_lab_without_name_is_rejected(client, counselor, patient, episode):
    login(client, counselor)
    ep = str(episode.public_id)
    late = post_screen(episode=ep, collected_at="2026-11-22T09:00")
    response = client.post(screens_url(patient), late)
    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()
    response = client.post(screens_url(patient), post_screen(episode=ep, method="confirmatory"))
    assert response.status_code == 400
    assert "Name the lab" in response.content.decode()
    response = client.post(screens_url(patient), post_screen(episode=ep, r_thc="maybe"))
    assert response.status_code == 400
    assert not DrugScreen.objects.exists()


def test_lab_confirmation_from_the_form_replaces_the_point_of_care_result(
    client, counselor, patient, episode
):
    poc = screen(counselor, patient, episode, [("opiates", True)])
    response = login(client, counselor).post(
        screens_url(patient),
        post_screen(episode=str(episode.public_id), collected_at="", method="confirmatory",
                    lab_name="Quest", confirms=str(poc.public_id), r_buprenorphine="",
                    r_fentanyl="", r_opiates="not_detected"),
    )  # fmt: skip
    assert response.status_code == 302
    body = client.get(screens_url(patient)).content.decode()
    table = body.split('class="drug-screens"')[1]
    assert "Confirmed by Quest" in table and ">Negative</span> Opiates" in table
    assert ">Positive</span>" not in table


def test_front_desk_cannot_record_a_screen(client, front_desk, patient, episode):
    response = login(client, front_desk).post(
        screens_url(patient), post_screen(episode=str(episode.public_id))
    )
    assert response.status_code == 403 and not DrugScreen.objects.exists()


def test_auditor_can_read_screens_but_not_record(client, auditor, patient, episode):
    login(client, auditor)
    body = client.get(screens_url(patient)).content.decode()
    assert "Record a screen" not in body
    response = client.post(screens_url(patient), post_screen(episode=str(episode.public_id)))
    assert response.status_code == 403


def test_screens_page_requires_login(client, patient):
    response = client.get(screens_url(patient))
    assert response.status_code == 302 and "login" in response["Location"]


def test_screens_page_query_count_does_not_grow(
    client, counselor, patient, episode, django_assert_max_num_queries
):
    for day in range(3, 19):
        poc = screen(counselor, patient, episode, [("thc", True), ("cocaine", False)],
                     collected_at=at(day))  # fmt: skip
        if day % 4 == 0:
            screen(counselor, patient, episode, [("thc", False)], method="confirmatory",
                   collected_at=None, confirms=poc, lab_name="Quest")  # fmt: skip
    login(client, counselor)
    # Measured 17 for 1 specimen and for 16: screens, confirmations and their results are
    # four prefetch queries whatever the count.
    with django_assert_max_num_queries(19):  # incl. the caseload and break-glass checks
        assert client.get(screens_url(patient)).status_code == 200


def test_chart_panel_renders_flags_and_links(counselor, patient, episode, bup):
    screen(counselor, patient, episode, [("buprenorphine", False), ("cocaine", True)])
    ctx = selectors.medication_chart_panel(user=counselor, patient=patient, today=TODAY)
    html = render_to_string("medications/_chart_panel.html", ctx)
    assert "Buprenorphine/naloxone" in html and "MAT: Buprenorphine" in html
    assert ">Expected, not detected</span> Buprenorphine" in html
    assert ">Positive</span> Cocaine" in html
    assert reverse("medications:drug-screen-list", args=[patient.public_id]) in html
    assert render_to_string("medications/_chart_panel.html", {"med_panel": None}).strip() == ""
