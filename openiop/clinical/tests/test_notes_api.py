"""The notes API: list, create, read, draft save with version (409 on conflict or signed),
sign, amend, co-sign; access rules and SUD privacy.

Until ``openiop/api.py`` mounts ``openiop.clinical.api.router`` these tests mount it on an API
of their own with the same error handlers (this module is its own URLconf); once it is mounted
they run against the real ``/api/v1/``.
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import include, path
from ninja import NinjaAPI

from conftest import api_client
from openiop.api import api as main_api
from openiop.clinical.api import router
from openiop.clinical.models import Cosignature, Note
from openiop.clinical.services import note_create_draft
from openiop.clinical.tests.test_notes_fixtures import DAP, supervisee, write_note
from openiop.core.api_auth import API_AUTH

__all__ = ["supervisee"]

if any(mounted is router for _, mounted in main_api._routers):
    urlpatterns = [path("", include("openiop.urls"))]
else:
    _api = NinjaAPI(urls_namespace="clinical-notes-test-api", auth=API_AUTH)
    _api._exception_handlers = dict(main_api._exception_handlers)
    _api.add_router("/", router)
    urlpatterns = [path("api/v1/", _api.urls)]

pytestmark = pytest.mark.urls(__name__)

X = uuid.UUID("5f0c2b1e-7d4a-4c61-9a53-2e8b1d0f6a77")
START = "2026-11-10T15:00:00-05:00"
END = "2026-11-10T15:50:00-05:00"


def ep(episode) -> str:
    return f"/api/v1/episodes/{episode.public_id}/notes"


def one(note) -> str:
    return f"/api/v1/notes/{note.public_id}"


def send(client, method: str, url: str, body: dict | None = None):
    return getattr(client, method)(url, body or {}, content_type="application/json")


@pytest.fixture
def draft(counselor, episode) -> Note:
    return note_create_draft(actor=counselor, episode=episode, kind="individual")


@pytest.fixture
def signed(counselor, episode) -> Note:
    return write_note(counselor, episode)


def stored(note: Note) -> dict:
    return Note.objects.filter(pk=note.pk).values().get()


def test_create_list_read(counselor, episode):
    client = api_client(counselor)
    response = send(
        client,
        "post",
        ep(episode),
        {"kind": "individual", "started_at": START, "ended_at": END, "sections": DAP},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["format"], body["status"], body["version"]) == ("DAP", "draft", 2)
    assert body["psychotherapy_band"] == "38-52"
    assert body["sections"] == DAP
    listing = client.get(ep(episode)).json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == body["id"]
    assert client.get(f"/api/v1/notes/{body['id']}").json()["author"]["name"]


def test_patch_saves_with_the_version_and_conflicts_with_a_stale_one(counselor, draft):
    client = api_client(counselor)
    ok = send(client, "patch", one(draft), {"version": 1, "sections": {"data": "First."}})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = send(client, "patch", one(draft), {"version": 1, "sections": {"data": "Second."}})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert Note.objects.get(pk=draft.pk).sections == {"data": "First."}


def test_patch_keeps_omitted_fields(counselor, draft):
    client = api_client(counselor)
    send(client, "patch", one(draft), {"version": 1, "started_at": START, "ended_at": END})
    response = send(client, "patch", one(draft), {"version": 2, "sections": {"plan": "Go on."}})
    assert response.json()["duration_minutes"] == 50
    assert response.json()["sections"] == {"plan": "Go on."}


def test_patch_of_a_signed_note_is_409_and_changes_nothing(counselor, signed):
    before = stored(signed)
    response = send(
        api_client(counselor),
        "patch",
        one(signed),
        {"version": signed.version, "sections": {"plan": "rewritten"}},
    )
    assert response.status_code == 409
    assert "amendment" in response.json()["detail"]
    assert stored(signed) == before


def test_sign_then_amend_then_cosign(supervisor, supervisee, episode):
    client = api_client(supervisee)
    created = send(
        client,
        "post",
        ep(episode),
        {"started_at": START, "ended_at": END, "sections": DAP, "modality": "video"},
    ).json()
    url = f"/api/v1/notes/{created['id']}"
    signed = send(client, "post", url + "/sign", {"version": created["version"]})
    assert signed.status_code == 200, signed.json()
    assert (signed.json()["status"], signed.json()["cosign_required"]) == ("signed", True)
    again = send(client, "post", url + "/sign", {"version": signed.json()["version"]})
    assert again.status_code == 409
    amendment = send(client, "post", url + "/amendments", {"reason": "Typo", "sections": {}})
    assert amendment.status_code == 201
    assert amendment.json()["amends"] == created["id"]
    assert send(client, "post", url + "/cosign", {}).status_code == 403  # counselors don't
    cosigned = send(api_client(supervisor), "post", url + "/cosign", {"comment": "OK"})
    assert cosigned.status_code == 201, cosigned.json()
    assert Cosignature.objects.get().comment == "OK"
    note = client.get(url).json()
    assert note["cosignature"]["comment"] == "OK"


def test_signing_incomplete_names_the_fields(counselor, draft):
    response = send(api_client(counselor), "post", one(draft) + "/sign", {"version": 1})
    assert response.status_code == 400
    fields = {d["field"] for d in response.json()["detail"]}
    assert {"sections", "started_at"} <= fields


def test_bad_bodies_are_422(counselor, draft, episode):
    client = api_client(counselor)
    assert send(client, "patch", one(draft), {"sections": {"data": "x"}}).status_code == 422
    assert send(client, "patch", one(draft), {"version": 1, "oops": 1}).status_code == 422
    naive = {"version": 1, "started_at": "2026-11-10T15:00:00"}
    assert send(client, "patch", one(draft), naive).status_code == 422
    assert send(client, "post", ep(episode), {"kind": "group_individualized"}).status_code == 422
    assert Note.objects.get(pk=draft.pk).version == 1


def test_unknown_section_is_400_naming_the_field(counselor, draft):
    response = send(
        api_client(counselor), "patch", one(draft), {"version": 1, "sections": {"mood": "ok"}}
    )
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "sections"


ENDPOINTS = [
    ("get", "/api/v1/episodes/{e}/notes"),
    ("post", "/api/v1/episodes/{e}/notes"),
    ("get", "/api/v1/notes/{n}"),
    ("patch", "/api/v1/notes/{n}"),
    ("post", "/api/v1/notes/{n}/sign"),
    ("post", "/api/v1/notes/{n}/amendments"),
    ("post", "/api/v1/notes/{n}/cosign"),
]


def _body(method: str, path: str) -> dict:
    if path.endswith("/sign"):
        return {"version": 1}
    if path.endswith("/amendments"):
        return {"reason": "r", "sections": {}}
    if method == "patch":
        return {"version": 1, "sections": {"data": "x"}}
    return {}


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_a_credential(client, method, path, episode, draft):
    url = path.format(e=episode.public_id, n=draft.public_id)
    assert send(client, method, url, _body(method, path)).status_code == 401


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_an_outsider_gets_404(outsider, method, path, episode, draft):
    url = path.format(e=episode.public_id, n=draft.public_id)
    response = send(api_client(outsider), method, url, _body(method, path))
    assert response.status_code == 404
    assert stored(draft)["version"] == 1


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("role", ["front_desk", "billing"])
def test_front_desk_and_billing_get_403(request, role, method, path, episode, draft):
    url = path.format(e=episode.public_id, n=draft.public_id)
    response = send(api_client(request.getfixturevalue(role)), method, url, _body(method, path))
    assert response.status_code == 403
    assert Note.objects.count() == 1


def test_someone_elses_sud_note_is_404_and_never_listed(counselor, supervisor, auditor, episode):
    sud = write_note(counselor, episode, kind="sud_counseling")
    for user in (supervisor, auditor):
        client = api_client(user)
        assert client.get(one(sud)).status_code == 404
        assert client.get(ep(episode)).json()["count"] == 0
    assert api_client(counselor).get(one(sud)).status_code == 200


def test_unknown_ids_are_404(counselor):
    client = api_client(counselor)
    assert client.get(f"/api/v1/notes/{X}").status_code == 404
    assert client.get(f"/api/v1/episodes/{X}/notes").status_code == 404


def test_openapi_lists_the_note_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/episodes/{episode_id}/notes"])
    assert {"get", "patch"} <= set(paths["/api/v1/notes/{note_id}"])
    for action in ("sign", "amendments", "cosign"):
        assert "post" in paths[f"/api/v1/notes/{{note_id}}/{action}"]
    assert "409" in paths["/api/v1/notes/{note_id}"]["patch"]["responses"]
