"""Note pages: list, new, edit with autosave and conflicts, sign, read-only view, amendments."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from conftest import login
from openiop.clinical.models import Cosignature, Note
from openiop.clinical.services import note_amend, note_create_draft, note_save_draft
from openiop.clinical.tests.test_notes_fixtures import DAP, START, supervisee, write_note

__all__ = ["supervisee"]

HX = {"HTTP_HX_REQUEST": "true"}


def stored(note: Note) -> dict:
    return Note.objects.filter(pk=note.pk).values().get()


def edit_data(note: Note, version: int | None = None, **sections: str) -> dict:
    return {
        "version": version if version is not None else note.version,
        "modality": "video",
        "day": "2026-11-10",
        "start_time": "15:00",
        "end_time": "15:50",
        **{f"s_{k}": v for k, v in {**DAP, **sections}.items()},
    }


@pytest.fixture
def draft(counselor, episode) -> Note:
    return note_create_draft(actor=counselor, episode=episode, kind="individual")


@pytest.fixture
def signed(counselor, episode) -> Note:
    return write_note(counselor, episode)


# --- access: every page -------------------------------------------------------------------------


def pages(episode, note):
    return [
        ("get", reverse("clinical:note-list", args=[episode.public_id])),
        ("get", reverse("clinical:note-create", args=[episode.public_id])),
        ("get", reverse("clinical:note-detail", args=[note.public_id])),
        ("get", reverse("clinical:note-edit", args=[note.public_id])),
        ("post", reverse("clinical:note-autosave", args=[note.public_id])),
        ("post", reverse("clinical:note-sign", args=[note.public_id])),
        ("post", reverse("clinical:note-amend", args=[note.public_id])),
        ("post", reverse("clinical:note-cosign", args=[note.public_id])),
    ]


def test_every_page_needs_login(client, episode, draft):
    for method, url in [*pages(episode, draft), ("get", reverse("clinical:cosign-queue"))]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert "/login" in response["Location"]


def test_an_outsider_gets_404_everywhere(client, outsider, episode, draft):
    login(client, outsider)
    for method, url in pages(episode, draft):
        assert getattr(client, method)(url).status_code == 404, url


@pytest.mark.parametrize("role", ["front_desk", "billing"])
def test_front_desk_and_billing_get_403(client, request, role, episode, draft):
    login(client, request.getfixturevalue(role))
    for method, url in [*pages(episode, draft), ("get", reverse("clinical:cosign-queue"))]:
        assert getattr(client, method)(url).status_code == 403, url
    assert stored(draft)["version"] == 1


def test_an_auditor_reads_but_cannot_write(client, auditor, episode, signed):
    login(client, auditor)
    assert client.get(reverse("clinical:note-list", args=[episode.public_id])).status_code == 200
    assert client.get(reverse("clinical:note-detail", args=[signed.public_id])).status_code == 200
    assert client.get(reverse("clinical:note-create", args=[episode.public_id])).status_code == 403
    url = reverse("clinical:note-amend", args=[signed.public_id])
    assert client.post(url, {"reason": "x", "s_plan": "y"}).status_code == 403
    assert not Note.objects.filter(amends=signed).exists()


# --- list ---------------------------------------------------------------------------------------


def test_list_is_newest_first_with_amendments_under_their_note(
    client, counselor, supervisee, episode
):
    old = write_note(counselor, episode, start=START - dt.timedelta(days=2))
    amendment = note_amend(
        actor=counselor, note=old, sections={"plan": "Refer to psychiatry."}, reason="Late entry"
    )
    pending = write_note(supervisee, episode, start=START - dt.timedelta(days=1))
    newest = note_create_draft(actor=counselor, episode=episode, kind="family")
    login(client, counselor)
    response = client.get(reverse("clinical:note-list", args=[episode.public_id]))
    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(f'data-note="{n.public_id}"') for n in (newest, pending, old)]
    assert positions == sorted(positions)
    assert html.index(f'data-note="{old.public_id}"') < html.index(
        f'data-note="{amendment.public_id}"'
    )
    assert "Late entry" in html
    assert "Awaiting co-signature" in html
    assert "Draft" in html and "Signed" in html


def test_list_query_count_does_not_grow_with_notes(
    client, counselor, supervisee, episode, django_assert_max_num_queries
):
    for day in range(6):
        note = write_note(counselor, episode, start=START - dt.timedelta(days=day + 1))
        if day % 2 == 0:
            note_amend(actor=counselor, note=note, sections={"plan": "x"}, reason=f"fix {day}")
    for day in range(3):
        write_note(supervisee, episode, start=START - dt.timedelta(days=10 + day))
    login(client, counselor)
    url = reverse("clinical:note-list", args=[episode.public_id])
    client.get(url)  # warm caches (session, content types)
    with django_assert_max_num_queries(14):  # incl. the caseload and break-glass checks
        response = client.get(url)
    assert response.content.decode().count('class="note-row') == 12


# --- create -------------------------------------------------------------------------------------


def test_new_note_preselects_the_programs_format_and_opens_the_draft(
    client, counselor, episode, program
):
    program.note_format = "BIRP"
    program.save()
    login(client, counselor)
    url = reverse("clinical:note-create", args=[episode.public_id])
    page = client.get(url).content.decode()
    assert '<option value="BIRP" selected>' in page
    response = client.post(
        url,
        {
            "kind": "family",
            "format": "BIRP",
            "modality": "audio_only",
            "day": "2026-11-10",
            "start_time": "15:00",
            "end_time": "15:40",
        },
    )
    note = Note.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("clinical:note-edit", args=[note.public_id])
    assert (note.kind, note.format, note.modality, note.author) == (
        "family",
        "BIRP",
        "audio_only",
        counselor,
    )
    assert note.started_at == START  # 15:00 in New York
    assert note.duration_minutes == 40


def test_new_note_with_end_before_start_shows_an_error(client, counselor, episode):
    login(client, counselor)
    url = reverse("clinical:note-create", args=[episode.public_id])
    response = client.post(
        url,
        {
            "kind": "individual",
            "format": "DAP",
            "modality": "in_person",
            "day": "2026-11-10",
            "start_time": "15:00",
            "end_time": "14:00",
        },
    )
    assert response.status_code == 400
    assert "The end must be after the start." in response.content.decode()
    assert not Note.objects.exists()


# --- edit, autosave, conflicts ------------------------------------------------------------------


def test_edit_page_autosaves_with_htmx_and_carries_the_version(client, counselor, draft):
    login(client, counselor)
    page = client.get(reverse("clinical:note-edit", args=[draft.public_id])).content.decode()
    assert 'hx-trigger="keyup changed delay:2s, blur"' in page
    assert reverse("clinical:note-autosave", args=[draft.public_id]) in page
    assert 'name="version" value="1"' in page
    assert "Save and sign" in page


def test_autosave_saves_and_answers_saved_at_with_the_new_version(client, counselor, draft):
    login(client, counselor)
    url = reverse("clinical:note-autosave", args=[draft.public_id])
    with time_machine.travel(dt.datetime(2026, 11, 10, 15, 42, tzinfo=dt.UTC), tick=False):
        response = client.post(url, edit_data(draft, data="Cravings down."), **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Saved at 10:42" in html  # New York time
    assert 'value="2"' in html and 'hx-swap-oob="true"' in html
    note = Note.objects.get(pk=draft.pk)
    assert (note.version, note.sections["data"], note.modality) == (2, "Cravings down.", "video")


def test_autosave_without_changes_writes_nothing(client, counselor, draft):
    login(client, counselor)
    url = reverse("clinical:note-autosave", args=[draft.public_id])
    client.post(url, edit_data(draft), **HX)
    note = Note.objects.get(pk=draft.pk)
    response = client.post(url, edit_data(note), **HX)
    assert "Saved at" in response.content.decode()
    assert Note.objects.get(pk=draft.pk).version == 2


def test_autosave_conflict_keeps_the_users_text_and_shows_both(
    client, counselor, supervisor, draft
):
    note_save_draft(
        actor=supervisor, note=draft, sections={"data": "Director's words."}, expected_version=1
    )
    login(client, counselor)
    url = reverse("clinical:note-autosave", args=[draft.public_id])
    response = client.post(url, edit_data(draft, version=1, data="My words."), **HX)
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert "Someone else saved this note first. Your text is kept below as a draft" in html
    assert "Director&#x27;s words." in html or "Director's words." in html
    assert 'name="overwrite" value="2"' in html
    stored_note = Note.objects.get(pk=draft.pk)
    assert stored_note.sections == {"data": "Director's words."}
    assert stored_note.version == 2


def test_save_button_conflict_shows_both_versions_and_keeps_the_text(
    client, counselor, supervisor, draft
):
    note_save_draft(
        actor=supervisor, note=draft, sections={"data": "Director's words."}, expected_version=1
    )
    login(client, counselor)
    url = reverse("clinical:note-edit", args=[draft.public_id])
    response = client.post(url, edit_data(draft, version=1, data="My words."))
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone else saved this note first. Your text is kept below as a draft" in html
    assert "My words." in html  # still in the text box
    assert "Director" in html
    assert Note.objects.get(pk=draft.pk).sections == {"data": "Director's words."}
    # The user chooses to keep their text: it is saved over theirs, knowingly.
    response = client.post(url, {**edit_data(draft, version=1, data="My words."), "overwrite": 2})
    assert response.status_code == 302
    assert Note.objects.get(pk=draft.pk).sections["data"] == "My words."


def test_save_button_without_javascript_saves(client, counselor, draft):
    login(client, counselor)
    url = reverse("clinical:note-edit", args=[draft.public_id])
    response = client.post(url, edit_data(draft, plan="Family session next week."))
    assert response.status_code == 302
    assert Note.objects.get(pk=draft.pk).sections["plan"] == "Family session next week."
    page = client.get(url).content.decode()
    assert "Saved at" in page
    assert "38-52" in page  # a 50-minute individual note


# --- sign ---------------------------------------------------------------------------------------


def test_signing_an_incomplete_note_shows_the_services_errors_and_keeps_the_text(
    client, counselor, draft
):
    login(client, counselor)
    data = {**edit_data(draft, assessment="", plan=""), "start_time": "", "end_time": "", "day": ""}
    response = client.post(reverse("clinical:note-sign", args=[draft.public_id]), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Complete every section before signing; empty: assessment, plan." in html
    assert "Enter the start and end time before signing." in html
    assert "Reports 10 days abstinent." in html
    assert Note.objects.get(pk=draft.pk).status == "draft"


def test_save_and_sign_locks_the_note(client, counselor, draft):
    login(client, counselor)
    response = client.post(reverse("clinical:note-sign", args=[draft.public_id]), edit_data(draft))
    assert response.status_code == 302
    note = Note.objects.get(pk=draft.pk)
    assert (note.status, note.signed_by, note.cosign_required) == ("signed", counselor, False)
    page = client.get(reverse("clinical:note-detail", args=[note.public_id])).content.decode()
    assert "Signed" in page and "Write an amendment" in page and "Edit draft" not in page


def test_a_supervisees_signed_note_waits_for_cosignature(client, supervisee, episode):
    draft = note_create_draft(actor=supervisee, episode=episode, kind="individual")
    login(client, supervisee)
    client.post(reverse("clinical:note-sign", args=[draft.public_id]), edit_data(draft))
    note = Note.objects.get(pk=draft.pk)
    assert (note.status, note.cosign_required) == ("signed", True)
    page = client.get(reverse("clinical:note-detail", args=[note.public_id])).content.decode()
    assert "Awaiting co-signature" in page


def test_only_the_author_can_sign(client, counselor, supervisor, draft):
    login(client, supervisor)
    response = client.post(reverse("clinical:note-sign", args=[draft.public_id]), edit_data(draft))
    assert response.status_code == 403
    assert "only the note&#x27;s author can sign it" in response.content.decode()
    assert Note.objects.get(pk=draft.pk).status == "draft"


# --- a signed note is never edited (every path) -------------------------------------------------


def test_edit_page_post_does_not_change_a_signed_note(client, counselor, signed):
    before = stored(signed)
    login(client, counselor)
    url = reverse("clinical:note-edit", args=[signed.public_id])
    response = client.post(url, edit_data(signed, plan="rewritten"))
    assert response.status_code == 302
    assert response["Location"] == reverse("clinical:note-detail", args=[signed.public_id])
    assert client.get(url).status_code == 302
    assert stored(signed) == before


def test_autosave_post_does_not_change_a_signed_note(client, counselor, signed):
    before = stored(signed)
    login(client, counselor)
    url = reverse("clinical:note-autosave", args=[signed.public_id])
    response = client.post(url, edit_data(signed, plan="rewritten"), **HX)
    assert "can no longer be changed" in response.content.decode()
    assert stored(signed) == before


def test_sign_post_does_not_change_a_signed_note(client, counselor, signed):
    before = stored(signed)
    login(client, counselor)
    client.post(reverse("clinical:note-sign", args=[signed.public_id]), edit_data(signed))
    assert stored(signed) == before


def test_notes_are_not_editable_in_the_admin():
    assert Note not in admin.site._registry
    assert Cosignature not in admin.site._registry


# --- read-only view and amendments --------------------------------------------------------------


def test_signed_note_page_lists_amendments_and_writes_a_new_one(client, counselor, signed):
    first = note_amend(actor=counselor, note=signed, sections={"plan": "x"}, reason="Typo in plan")
    login(client, counselor)
    url = reverse("clinical:note-detail", args=[signed.public_id])
    page = client.get(url).content.decode()
    assert "Typo in plan" in page
    assert "Reports 10 days abstinent." in page
    assert "<textarea" not in page.split("Write an amendment")[0]  # the note itself is read-only
    response = client.post(
        reverse("clinical:note-amend", args=[signed.public_id]),
        {"reason": "Late entry: referral", "s_plan": "Referred to psychiatry."},
    )
    amendment = Note.objects.exclude(pk__in=[signed.pk, first.pk]).get()
    assert response["Location"] == reverse("clinical:note-edit", args=[amendment.public_id])
    assert (amendment.amends, amendment.amendment_reason) == (signed, "Late entry: referral")
    assert amendment.sections == {"plan": "Referred to psychiatry."}


def test_an_amendment_needs_a_reason(client, counselor, signed):
    login(client, counselor)
    response = client.post(
        reverse("clinical:note-amend", args=[signed.public_id]), {"reason": "", "s_plan": "x"}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Note.objects.filter(amends=signed).exists()


def test_reading_a_note_is_audited(client, counselor, signed):
    from openiop.core.models import AuditEvent

    login(client, counselor)
    client.get(reverse("clinical:note-detail", args=[signed.public_id]))
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.category, event.object_id) == (
        "openiop.clinical.note.view",
        "clinical",
        str(signed.public_id),
    )


def test_garbage_input_is_a_form_error_not_a_500(client, counselor, draft):
    login(client, counselor)
    url = reverse("clinical:note-edit", args=[draft.public_id])
    response = client.post(url, {"version": "abc", "modality": "telepathy", "day": "2026-13-40"})
    assert response.status_code == 400
    assert stored(draft)["version"] == 1
    assert Client().get(url).status_code == 302


def test_save_and_sign_right_after_an_autosave_of_the_same_text_is_not_a_conflict(
    client, counselor, draft
):
    # Clicking the button blurs the text box: the autosave lands first, with the same text,
    # and the click still carries the version from before it.
    login(client, counselor)
    client.post(reverse("clinical:note-autosave", args=[draft.public_id]), edit_data(draft), **HX)
    assert Note.objects.get(pk=draft.pk).version == 2
    response = client.post(
        reverse("clinical:note-sign", args=[draft.public_id]), edit_data(draft, version=1)
    )
    assert response.status_code == 302
    assert Note.objects.get(pk=draft.pk).status == "signed"


def test_autosave_of_text_already_saved_refreshes_the_version(client, counselor, draft):
    login(client, counselor)
    url = reverse("clinical:note-autosave", args=[draft.public_id])
    client.post(url, edit_data(draft), **HX)
    response = client.post(url, edit_data(draft, version=1), **HX)  # a second, late trigger
    html = response.content.decode()
    assert "Someone else" not in html
    assert 'value="2"' in html and 'hx-swap-oob="true"' in html
    assert Note.objects.get(pk=draft.pk).version == 2
