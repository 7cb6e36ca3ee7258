import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from conftest import NY, login
from openiop.billing.models import Authorization
from openiop.billing.services import authorization_create
from openiop.billing.tests.helpers import attend

FROZEN = dt.datetime(2026, 11, 16, 12, 0, tzinfo=NY)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(FROZEN, tick=False):
        yield


@pytest.fixture
def authorization(episode):
    return authorization_create(
        actor=None, episode=episode, payer_name="Blue River Health", auth_number="BR-7",
        units_authorized=12, start_on=dt.date(2026, 11, 2), end_on=dt.date(2026, 11, 29),
    )  # fmt: skip


def list_url(episode):
    return reverse("billing:authorization-list", args=[episode.public_id])


def form_data(**kw):
    data = {
        "payer_name": "Blue River Health", "auth_number": "BR-9", "level_of_care": "2.1",
        "service_code": "h0015", "unit_kind": "days", "units_authorized": "10",
        "start_on": "2026-11-02", "end_on": "2026-11-29", "status": "active",
        "alert_units_remaining": "2", "alert_days_before_end": "7", "notes": "",
    }  # fmt: skip
    data.update(kw)
    return data


def test_list_shows_units_used_from_attendance_and_a_bar(client, billing, episode, authorization):
    for d in (2, 4, 6):
        attend(episode, dt.date(2026, 11, d))
    body = login(client, billing).get(list_url(episode)).content.decode()
    assert "Blue River Health" in body and "BR-7" in body
    assert '<meter min="0" max="100"' in body and 'value="25"' in body  # 3 of 12 days
    assert ">9<" in body  # left


def test_list_login_required(client, episode):
    assert client.get(list_url(episode)).status_code == 302


def test_list_outsider_404(client, outsider, episode):
    assert login(client, outsider).get(list_url(episode)).status_code == 404


def test_front_desk_cannot_see_authorizations(client, front_desk, episode):
    assert login(client, front_desk).get(list_url(episode)).status_code == 403


def test_counselor_sees_but_cannot_record(client, counselor, episode, authorization):
    login(client, counselor)
    body = client.get(list_url(episode)).content.decode()
    assert "Record an authorization" not in body
    url = reverse("billing:authorization-create", args=[episode.public_id])
    assert client.get(url).status_code == 403
    assert client.post(url, form_data()).status_code == 403


def test_billing_records_an_authorization(client, billing, episode):
    url = reverse("billing:authorization-create", args=[episode.public_id])
    login(client, billing)
    assert client.get(url).status_code == 200
    response = client.post(url, form_data())
    assert response.status_code == 302
    auth = Authorization.objects.get()
    assert auth.units_authorized == 10 and auth.service_code == "H0015"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"end_on": "2026-11-01"}, "The end date must not be before the start date."),
        ({"units_authorized": "0"}, "Authorize at least 1 unit."),
        ({"start_on": "not a date"}, "Enter a valid date."),
    ],
)
def test_bad_input_shows_a_clear_error_and_records_nothing(client, billing, episode, kw, message):
    url = reverse("billing:authorization-create", args=[episode.public_id])
    response = login(client, billing).post(url, form_data(**kw))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Authorization.objects.exists()


def test_create_outsider_404(client, outsider, episode):
    url = reverse("billing:authorization-create", args=[episode.public_id])
    assert login(client, outsider).post(url, form_data()).status_code == 404


def test_edit_changes_the_authorization(client, billing, authorization):
    url = reverse("billing:authorization-edit", args=[authorization.public_id])
    login(client, billing)
    assert "BR-7" in client.get(url).content.decode()
    assert client.post(url, form_data(units_authorized="20")).status_code == 302
    authorization.refresh_from_db()
    assert authorization.units_authorized == 20


def test_edit_permissions(client, outsider, front_desk, counselor, authorization):
    url = reverse("billing:authorization-edit", args=[authorization.public_id])
    assert client.get(url).status_code == 302
    assert login(client, outsider).get(url).status_code == 404
    assert login(client, front_desk).get(url).status_code == 403
    assert login(client, counselor).get(url).status_code == 403


def test_void_from_the_list(client, billing, authorization):
    url = reverse("billing:authorization-void", args=[authorization.public_id])
    login(client, billing)
    assert client.post(url, {"reason": ""}).status_code == 302
    authorization.refresh_from_db()
    assert authorization.status == "active"
    client.post(url, {"reason": "entered twice"})
    authorization.refresh_from_db()
    assert authorization.status == "void"
    edit = reverse("billing:authorization-edit", args=[authorization.public_id])
    assert client.get(edit).status_code == 302  # void ones cannot be edited


def test_void_permissions(client, outsider, counselor, authorization):
    url = reverse("billing:authorization-void", args=[authorization.public_id])
    assert client.post(url, {"reason": "x"}).status_code == 302
    assert login(client, outsider).post(url, {"reason": "x"}).status_code == 404
    assert login(client, counselor).post(url, {"reason": "x"}).status_code == 403
    authorization.refresh_from_db()
    assert authorization.status == "active"


def test_alerts_page(client, billing, front_desk, episode):
    url = reverse("billing:authorization-alerts")
    assert client.get(url).status_code == 302
    body = login(client, billing).get(url).content.decode()
    assert "No authorization" in body and "Whitfield" in body
    assert login(client, front_desk).get(url).status_code == 403


def test_alerts_partial_renders_nothing_for_roles_without_permission(rf, front_desk, billing):
    from django.template.loader import render_to_string

    from openiop.billing.selectors import authorization_alerts_context

    today = dt.date(2026, 11, 16)
    hidden = render_to_string(
        "billing/_authorization_alerts.html", authorization_alerts_context(front_desk, today)
    )
    assert hidden.strip() == ""
    shown = render_to_string(
        "billing/_authorization_alerts.html", authorization_alerts_context(billing, today)
    )
    assert "Authorizations needing attention" in shown
