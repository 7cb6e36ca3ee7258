"""The group-note screen: start, write, autosave, check, sign, read signed, amend."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from conftest import login
from openiop.clinical.models import GroupNote, Note
from openiop.clinical.services.group_notes import group_note_save, group_note_start
from openiop.clinical.tests.test_group_notes_services import (
    AFTER,
    SHARED,
    change_attendance,
    make_group,
    part_text,
    signed_group,
)

SECTIONS = ("participation", "response", "progress", "risk")


@pytest.fixture
def group(org, program, counselor):
    return make_group(org, program, counselor, ["present", "late", "absent"])


def session_url(group) -> str:
    return reverse("clinical:group-note-session", kwargs={"public_id": group.session.public_id})


def detail_url(group_note) -> str:
    return reverse("clinical:group-note-detail", kwargs={"public_id": group_note.public_id})


def form_data(group, group_note, parts=None, action="save", **extra):
    data = {"version": group_note.version, "action": action, **SHARED, **extra}
    for key, part in (parts or {}).items():
        for section, text in part["sections"].items():
            data[f"p-{key}-{section}"] = text
        if part.get("objectives"):
            data[f"p-{key}-objectives"] = part["objectives"]
    return data


def two_parts(group):
    return {
        group.key(0): part_text("Avery", "a family party"),
        group.key(1): part_text("Blake", "overtime at the warehouse"),
    }


def test_session_page_says_take_attendance_first(client, org, program, counselor):
    fresh = make_group(org, program, counselor, ["expected", "expected"])
    response = login(client, counselor).get(session_url(fresh))
    assert response.status_code == 200
    assert b"Take attendance first" in response.content
    response = client.post(session_url(fresh))
    assert response.status_code == 400
    assert b"Take attendance first" in response.content
    assert not GroupNote.objects.exists()


def test_counselor_starts_and_sees_one_card_per_attendee(client, group, counselor):
    login(client, counselor)
    response = client.get(session_url(group))
    assert b"Start group note" in response.content
    response = client.post(session_url(group), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Shared narrative" in page
    assert page.count('class="card attendee-card') == 2
    assert "Avery Alder" in page and "Blake Birch" in page
    assert "Absent: no note" in page and "Casey Cedar" in page
    assert "1.1.1 Attend 3 groups a week" in page  # the attendee's plan objectives
    assert f'name="p-{group.key(2)}-participation"' not in page


def test_save_keeps_text_and_objectives(client, group, counselor):
    group_note = group_note_start(actor=counselor, session=group.session)
    parts = two_parts(group)
    parts[group.key(0)]["objectives"] = group.objectives[group.key(0)][:1]
    response = login(client, counselor).post(
        detail_url(group_note), form_data(group, group_note, parts)
    )
    assert response.status_code == 302
    group_note.refresh_from_db()
    assert (group_note.version, group_note.topic) == (2, SHARED["topic"])
    part = Note.objects.get(group_note=group_note, patient=group.patients[0])
    assert part.objectives == group.objectives[group.key(0)][:1]
    page = client.get(response.url).content.decode()
    assert "Avery shared about a family party" in page
    assert "checked" in page


def test_a_conflict_keeps_the_typed_text_and_shows_what_was_saved(
    client, group, counselor, supervisor
):
    group_note = group_note_start(actor=counselor, session=group.session)
    stale = form_data(group, group_note, two_parts(group))
    group_note_save(
        actor=supervisor, group_note=group_note, narrative="Their narrative", expected_version=1
    )
    response = login(client, counselor).post(detail_url(group_note), stale)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else saved this group note" in page
    assert "Their narrative" in page  # what they saved
    assert "Avery shared about a family party" in page  # what I typed, still in the form
    assert 'name="version" value="2"' in page
    group_note.refresh_from_db()
    assert group_note.narrative == "Their narrative"


def test_autosave_saves_and_returns_the_new_version(client, group, counselor):
    group_note = group_note_start(actor=counselor, session=group.session)
    url = reverse("clinical:group-note-autosave", kwargs={"public_id": group_note.public_id})
    response = login(client, counselor).post(
        url, form_data(group, group_note, two_parts(group)), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Draft saved at" in page
    assert 'value="2"' in page and 'hx-swap-oob="true"' in page
    # A second autosave with the old version is refused, and says so.
    response = client.post(url, form_data(group, group_note, two_parts(group)))
    assert "Not saved: someone else saved" in response.content.decode()


def test_check_notes_shows_the_copy_warning_at_both_attendees(client, group, counselor):
    group_note = group_note_start(actor=counselor, session=group.session)
    same = part_text("The patient", "triggers at home")
    data = form_data(group, group_note, {group.key(0): same, group.key(1): same}, action="check")
    response = login(client, counselor).post(detail_url(group_note), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Check notes: 2 warnings" in page
    assert page.count("Avery Alder&#x27;s part is identical to Blake Birch&#x27;s") == 1
    assert page.count("Blake Birch&#x27;s part is identical to Avery Alder&#x27;s") == 1
    assert "I reviewed the quality warnings" in page


def test_sign_needs_the_warnings_acknowledged(client, group, counselor):
    group_note = group_note_start(actor=counselor, session=group.session)
    same = part_text("The patient", "triggers at home")
    parts = {group.key(0): same, group.key(1): same}
    login(client, counselor)
    response = client.post(detail_url(group_note), form_data(group, group_note, parts, "sign"))
    assert response.status_code == 400
    assert b"I reviewed the quality warnings" in response.content
    group_note.refresh_from_db()
    assert group_note.status == "draft"
    data = form_data(group, group_note, parts, "sign", acknowledge_warnings="on")
    with time_machine.travel(AFTER, tick=False):
        response = client.post(detail_url(group_note), data)
    assert response.status_code == 302
    group_note.refresh_from_db()
    assert group_note.is_signed


def test_sign_refusal_names_the_missing_text_at_the_attendee(client, group, counselor):
    group_note = group_note_start(actor=counselor, session=group.session)
    parts = {group.key(0): part_text("Avery", "a party")}
    data = form_data(group, group_note, parts, "sign", narrative="")
    response = login(client, counselor).post(detail_url(group_note), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Write the group narrative before signing." in page
    assert "Blake Birch: write the participation and response." in page
    assert "Avery shared about a party" in page  # saved and shown again


def test_signed_note_is_read_only_with_an_amend_action(client, group, counselor):
    group_note = signed_group(group, counselor)
    page = login(client, counselor).get(session_url(group)).content.decode()
    assert "Signed by" in page and "<textarea" in page  # only the amendment reason
    assert 'name="p-' not in page
    assert "Reason for the amendment" in page
    # A stale form posted to the signed note changes nothing.
    response = client.post(detail_url(group_note), form_data(group, group_note, {}))
    assert response.status_code == 409
    amend = reverse("clinical:group-note-amend", kwargs={"public_id": group_note.public_id})
    response = client.post(amend, {"reason": ""})
    assert response.status_code == 400
    assert b"Give the reason for the amendment." in response.content
    change_attendance(group, counselor, 2, "present")
    response = client.post(
        amend, {"reason": "Casey attended after all.", "add_patients": [group.key(2)]}
    )
    assert response.status_code == 302
    amendment = GroupNote.objects.get(amends=group_note)
    page = client.get(response.url).content.decode()
    assert "Amendment to the group note" in page and "Casey Cedar" in page
    assert f'name="p-{group.key(2)}-participation"' in page
    assert f'name="p-{group.key(0)}-participation"' not in page
    assert amendment.amendment_reason == "Casey attended after all."


def test_login_is_required(client, group):
    response = client.get(session_url(group))
    assert response.status_code == 302 and "/login" in response.url


@pytest.mark.parametrize("persona", ["front_desk", "billing"])
def test_roles_without_note_view_get_403(client, group, persona, request):
    response = login(client, request.getfixturevalue(persona)).get(session_url(group))
    assert response.status_code == 403


def test_auditor_reads_but_cannot_write(client, group, counselor, auditor):
    group_note = group_note_start(actor=counselor, session=group.session)
    login(client, auditor)
    page = client.get(session_url(group)).content.decode()
    assert "read-only for your role" in page and 'name="p-' not in page
    response = client.post(detail_url(group_note), form_data(group, group_note, {}))
    assert response.status_code == 403


def test_outsider_gets_404(client, group, counselor, outsider):
    group_note = group_note_start(actor=counselor, session=group.session)
    login(client, outsider)
    assert client.get(session_url(group)).status_code == 404
    assert client.get(detail_url(group_note)).status_code == 404
    assert client.post(detail_url(group_note), {}).status_code == 404


def test_the_page_costs_the_same_queries_with_eight_attendees(
    client, org, program, counselor, django_assert_max_num_queries
):
    small = make_group(org, program, counselor, ["present", "present"])
    big = make_group(org, program, counselor, ["present"] * 7 + ["absent"])
    for g in (small, big):
        group_note_start(actor=counselor, session=g.session)
    login(client, counselor)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(session_url(small)).status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(session_url(big))
    assert response.content.decode().count('class="card attendee-card') == 7
