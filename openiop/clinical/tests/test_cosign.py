"""Co-signature: who may co-sign, once, without touching the signed note; the queue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from conftest import login, make_user
from openiop.accounts.permissions import Role
from openiop.clinical.models import Cosignature, GroupNote, Note
from openiop.clinical.selectors import cosign_queue
from openiop.clinical.services import cosign, note_amend
from openiop.clinical.tests.test_notes_fixtures import START, supervisee, write_note
from openiop.core.models import AuditEvent
from openiop.scheduling.models import Session

__all__ = ["supervisee"]


@pytest.fixture
def pending(supervisee, episode) -> Note:
    return write_note(supervisee, episode)


def stored(note: Note) -> dict:
    return Note.objects.filter(pk=note.pk).values().get()


def test_signing_by_a_supervisee_requires_cosignature_and_others_do_not(
    counselor, supervisee, episode
):
    assert write_note(supervisee, episode).cosign_required is True
    assert write_note(counselor, episode).cosign_required is False


def test_the_cosigner_cosigns_without_touching_the_signed_note(supervisor, pending):
    before = stored(pending)
    signature = cosign(actor=supervisor, note=pending, comment="Reviewed.")
    assert (signature.note, signature.cosigner, signature.comment) == (
        pending,
        supervisor,
        "Reviewed.",
    )
    assert stored(pending) == before
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.category) == ("openiop.clinical.note.cosign", "clinical")


def test_a_note_is_cosigned_once(supervisor, org, pending):
    other_director = make_user("director2", org, Role.PROGRAM_DIRECTOR)
    cosign(actor=supervisor, note=pending)
    with pytest.raises(ValidationError) as err:
        cosign(actor=other_director, note=pending)
    assert "already co-signed" in str(err.value)
    assert Cosignature.objects.count() == 1


def test_a_program_director_who_is_not_the_cosigner_may_cosign(org, pending):
    other_director = make_user("director2", org, Role.PROGRAM_DIRECTOR)
    assert cosign(actor=other_director, note=pending).cosigner == other_director


def test_a_prescriber_who_is_not_the_cosigner_may_not(prescriber, pending):
    with pytest.raises(PermissionDenied):
        cosign(actor=prescriber, note=pending)
    assert not Cosignature.objects.exists()


def test_a_prescriber_cosigns_their_own_supervisee(prescriber, org, episode):
    nurse = make_user("nurse", org, Role.COUNSELOR)
    nurse.cosigner = prescriber
    nurse.save()
    note = write_note(nurse, episode)
    assert cosign(actor=prescriber, note=note).cosigner == prescriber


def test_counselors_cannot_cosign(counselor, pending):
    with pytest.raises(PermissionDenied):
        cosign(actor=counselor, note=pending)


def test_an_outsider_cannot_cosign(outsider, pending):
    with pytest.raises(PermissionDenied):
        cosign(actor=outsider, note=pending)
    assert not Cosignature.objects.exists()


def test_drafts_and_notes_not_needing_it_are_refused(supervisor, supervisee, counselor, episode):
    draft = write_note(supervisee, episode, sign=False)
    with pytest.raises(ValidationError):
        cosign(actor=supervisor, note=draft)
    alone = write_note(counselor, episode)
    with pytest.raises(ValidationError):
        cosign(actor=supervisor, note=alone)
    assert not Cosignature.objects.exists()


def test_the_author_cannot_cosign_their_own_note(supervisor, org, episode):
    director2 = make_user("director2", org, Role.PROGRAM_DIRECTOR, Role.COUNSELOR)
    director2.cosigner = supervisor
    director2.save()
    note = write_note(director2, episode)
    with pytest.raises(PermissionDenied):
        cosign(actor=director2, note=note)


def test_a_signed_group_note_is_cosigned_too(supervisor, supervisee, session_group):
    signature = cosign(actor=supervisor, group_note=session_group)
    assert signature.group_note == session_group


@pytest.fixture
def session_group(org, program, supervisee) -> GroupNote:
    session = Session.objects.create(
        organization=org,
        program=program,
        title="Relapse prevention",
        starts_at=START,
        ends_at=START + dt.timedelta(hours=3),
        capacity=10,
    )
    now = timezone.now() + dt.timedelta(days=1)  # signed after the notes of the tests
    return GroupNote.objects.create(
        organization=org,
        session=session,
        author=supervisee,
        topic="Triggers",
        status="signed",
        signed_at=now,
        signed_by=supervisee,
        started_at=START,
        ended_at=START + dt.timedelta(hours=3),
        cosign_required=True,
    )


# --- the queue ----------------------------------------------------------------------------------


def test_queue_shows_supervisees_first_then_the_rest_for_a_director(
    supervisor, supervisee, org, episode, session_group
):
    other = make_user("trainee2", org, Role.COUNSELOR)
    other.cosigner = make_user("director2", org, Role.PROGRAM_DIRECTOR)
    other.save()
    theirs = write_note(other, episode, start=START - dt.timedelta(days=3))
    mine = write_note(supervisee, episode)
    done = write_note(supervisee, episode, start=START - dt.timedelta(days=1))
    cosign(actor=supervisor, note=done)
    items = cosign_queue(supervisor)
    assert [(i.kind, i.document) for i in items] == [
        ("note", mine),
        ("group_note", session_group),
        ("note", theirs),
    ]
    assert [i.supervisee for i in items] == [True, True, False]


def test_queue_of_a_non_director_cosigner_is_their_supervisees_only(
    prescriber, supervisee, org, episode
):
    nurse = make_user("nurse", org, Role.COUNSELOR)
    nurse.cosigner = prescriber
    nurse.save()
    theirs = write_note(nurse, episode)
    write_note(supervisee, episode)
    assert [i.document for i in cosign_queue(prescriber)] == [theirs]


def test_amendments_of_a_supervisee_also_wait(supervisor, supervisee, pending):
    amendment = note_amend(actor=supervisee, note=pending, sections={"plan": "x"}, reason="typo")
    from openiop.clinical.services import note_sign

    amendment = note_sign(actor=supervisee, note=amendment, expected_version=amendment.version)
    assert {i.document for i in cosign_queue(supervisor)} == {pending, amendment}


def test_queue_query_count_is_fixed(
    supervisor, supervisee, episode, session_group, django_assert_max_num_queries
):
    for day in range(8):
        note = write_note(supervisee, episode, start=START - dt.timedelta(days=day))
        if day == 0:
            amended = note_amend(actor=supervisee, note=note, sections={"plan": "x"}, reason="r")
            from openiop.clinical.services import note_sign

            note_sign(actor=supervisee, note=amended, expected_version=amended.version)
    supervisor = type(supervisor).objects.get(pk=supervisor.pk)
    # roles, notes, group notes, then the audit row (organization, savepoint, head, insert,
    # head update, release): the same nine whatever the queue holds.
    with django_assert_max_num_queries(9):
        items = cosign_queue(supervisor)
    assert len(items) == 10


# --- the queue page -----------------------------------------------------------------------------


def test_queue_page_cosigns_with_one_button(client, supervisor, pending):
    login(client, supervisor)
    url = reverse("clinical:cosign-queue")
    page = client.get(url).content.decode()
    assert f'data-document="{pending.public_id}"' in page
    assert "your supervisee" in page
    response = client.post(
        reverse("clinical:note-cosign", args=[pending.public_id]),
        {"comment": "Agree with plan.", "next": url},
    )
    assert response["Location"] == url
    assert Cosignature.objects.get().comment == "Agree with plan."
    assert f'data-document="{pending.public_id}"' not in client.get(url).content.decode()


def test_queue_page_cosigns_a_group_note(client, supervisor, session_group):
    login(client, supervisor)
    client.post(reverse("clinical:cosign-group-note", args=[session_group.public_id]))
    assert Cosignature.objects.get().group_note == session_group


def test_queue_page_query_count_is_pinned(
    client, supervisor, supervisee, episode, session_group, django_assert_max_num_queries
):
    for day in range(6):
        write_note(supervisee, episode, start=START - dt.timedelta(days=day))
    login(client, supervisor)
    url = reverse("clinical:cosign-queue")
    client.get(url)
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.content.decode().count('class="cosign-row"') == 7


def test_queue_page_access(client, counselor, front_desk, outsider, pending):
    url = reverse("clinical:cosign-queue")
    assert client.get(url).status_code == 302
    login(client, counselor)
    assert client.get(url).status_code == 403
    login(client, front_desk)
    assert client.get(url).status_code == 403
    login(client, outsider)
    assert f'data-document="{pending.public_id}"' not in client.get(url).content.decode()
    assert client.post(reverse("clinical:note-cosign", args=[pending.public_id])).status_code == 404
    assert not Cosignature.objects.exists()


def test_a_second_cosign_click_shows_an_error(client, supervisor, pending):
    cosign(actor=supervisor, note=pending)
    login(client, supervisor)
    url = reverse("clinical:note-cosign", args=[pending.public_id])
    response = client.post(url, follow=True)
    assert "Not co-signed: This note is already co-signed." in response.content.decode()
    assert Cosignature.objects.count() == 1


def test_dashboard_panel_lists_the_queue(rf, supervisor, pending):
    from django.template.loader import render_to_string

    html = render_to_string(
        "clinical/_cosign_panel.html", {"cosign_queue": cosign_queue(supervisor)}
    )
    assert "Awaiting your co-signature" in html
    assert pending.patient.display_name in html
    assert render_to_string("clinical/_cosign_panel.html", {"cosign_queue": []}).strip() == ""
