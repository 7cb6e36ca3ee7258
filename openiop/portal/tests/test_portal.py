"""Portal foundation: invitations, accounts, isolation both ways, my week."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import login
from openiop.accounts.models import User
from openiop.core.models import AuditEvent
from openiop.core.url_policy import POLICY, PORTAL, walk_urls
from openiop.patients.models import Guardian
from openiop.portal import services
from openiop.portal.models import PortalAccount, PortalInvitation
from openiop.portal.tests.helpers import PASSWORD
from openiop.portal.tests.helpers import make_account as _account

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def portal_client(patient, intake):
    account = _account(patient, intake)
    client = Client()
    assert client.login(username=account.user.username, password=PASSWORD)
    return client


def test_invitation_link_creates_a_log_in_once_and_opens_the_portal(client, intake, patient):
    page = login(Client(), intake).post(
        reverse("portal_staff:invite", args=[patient.public_id]), follow=True
    )
    body = page.content.decode()
    assert "Invitation link (shown once)" in body
    link = body.split("<code>")[1].split("</code>")[0]
    path = link.replace("http://testserver", "")
    assert client.get(path).status_code == 200
    response = client.post(
        path, {"username": "dana-w", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    user = User.objects.get(username="dana-w")
    assert user.is_portal and not user.groups.exists()
    assert user.portal_account.patient == patient
    assert "Hello, Dana" in client.get(reverse("portal:home")).content.decode()
    # The link works once; a second visitor gets nothing.
    assert Client().get(path).status_code == 404
    assert AuditEvent.objects.filter(action="openiop.portal.account.create").exists()
    # The staff page no longer shows the link after the first view.
    again = login(Client(), intake).get(reverse("portal_staff:access", args=[patient.public_id]))
    assert link not in again.content.decode() and "dana-w" in again.content.decode()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"username": "", "password": PASSWORD, "password_again": PASSWORD}, "required"),
        ({"username": "x1", "password": "short", "password_again": "short"}, "too short"),
        ({"username": "x2", "password": PASSWORD, "password_again": PASSWORD + "x"}, "differ"),
    ],
)
def test_bad_sign_up_shows_the_error_and_creates_nothing(client, intake, patient, data, error):
    _, token = services.invitation_create(actor=intake, patient=patient)
    response = client.post(reverse("portal:accept", args=[token]), data)
    assert response.status_code == 200 and error in response.content.decode()
    assert not PortalAccount.objects.exists()
    assert User.objects.filter(is_portal=True).count() == 0
    assert services.invitation_for_token(token) is not None  # still usable


def test_taken_user_name_is_refused(client, intake, patient, counselor):
    _, token = services.invitation_create(actor=intake, patient=patient)
    data = {"username": counselor.username, "password": PASSWORD, "password_again": PASSWORD}
    response = client.post(reverse("portal:accept", args=[token]), data)
    assert "That user name is taken" in response.content.decode()
    assert not PortalAccount.objects.exists()


def test_expired_or_replaced_invitations_open_nothing(client, intake, patient):
    with time_machine.travel(NOW, tick=False):
        _, old = services.invitation_create(actor=intake, patient=patient)
        _, new = services.invitation_create(actor=intake, patient=patient)
    assert client.get(reverse("portal:accept", args=[old])).status_code == 404
    with time_machine.travel(NOW + dt.timedelta(days=8), tick=False):
        assert client.get(reverse("portal:accept", args=[new])).status_code == 404
    assert client.get(reverse("portal:accept", args=["made-up"])).status_code == 404
    assert PortalInvitation.objects.filter(revoked_at__isnull=False).count() == 1


def test_a_portal_user_reaches_no_staff_page(portal_client, patient):
    """Every URL outside the portal answers 404 to a patient (GET and POST), whatever its
    arguments; the dashboard address sends them to their portal."""
    assert portal_client.get("/")["Location"] == reverse("portal:home")
    import uuid

    checked = 0
    for name, route in walk_urls():
        rule = POLICY.get(name) or POLICY.get(name.split(":")[0] + ":*") or {}
        if PORTAL in rule.values() or name.startswith("portal:"):
            continue
        path = "/" + route
        for part in ("<uuid:", "<str:", "<int:", "<slug:", "<path:", "<"):
            while part in path:
                start = path.index(part)
                path = path[:start] + str(uuid.uuid4()) + path[path.index(">", start) + 1 :]
        if path == "/" or path.startswith(
            ("/accounts/logout", "/accounts/password", "/accounts/mfa", "/static")
        ):
            continue
        for method in ("get", "post"):
            status = getattr(portal_client, method)(path).status_code
            assert status == 404, f"{method.upper()} {path} [{name}] answered {status}"
        checked += 1
    assert checked > 200
    api = portal_client.get("/api/v1/patients")
    assert api.status_code == 404


def test_staff_get_404_in_the_portal(client, counselor, patient):
    login(client, counselor)
    assert client.get(reverse("portal:home")).status_code == 404
    assert Client().get(reverse("portal:home"))["Location"].startswith("/accounts/login/")


def test_disabled_account_is_logged_out(portal_client, patient, intake):
    account = PortalAccount.objects.get()
    staff = login(Client(), intake)
    staff.post(reverse("portal_staff:disable", args=[account.public_id]))
    response = portal_client.get(reverse("portal:home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Client().login(username=account.user.username, password=PASSWORD)


def test_staff_portal_pages_need_the_permission_and_the_organization(
    client, billing, outsider, patient
):
    url = reverse("portal_staff:access", args=[patient.public_id])
    assert login(client, billing).get(url).status_code == 403
    assert login(client, outsider).get(url).status_code == 404
    assert (
        login(client, outsider)
        .post(reverse("portal_staff:invite", args=[patient.public_id]))
        .status_code
        == 404
    )
    assert not PortalInvitation.objects.exists()


def test_a_guardian_sees_only_what_the_account_allows(intake, patient):
    guardian = Guardian.objects.create(
        organization=patient.organization, patient=patient, name="Rosa Whitfield"
    )
    account = _account(patient, intake, guardian=guardian, username="rosa")
    assert account.is_guardian and account.sees_schedule and not account.sees_consents
    other = Guardian.objects.create(
        organization=patient.organization, patient=patient, name="Sam Whitfield"
    )
    services.guardian_visibility_set(actor=intake, account=account, areas=set())
    client = Client()
    client.login(username="rosa", password=PASSWORD)
    body = client.get(reverse("portal:home")).content.decode()
    assert "signed in as Rosa Whitfield" in body and "Coming up" not in body
    with pytest.raises(Exception, match="Unknown areas"):
        services.guardian_visibility_set(actor=intake, account=account, areas={"billing"})
    assert other.pk != guardian.pk


def test_my_week_shows_booked_sessions_in_local_time_and_hours(portal_client, episode):
    from openiop.scheduling.services import session_book, session_create

    with time_machine.travel(NOW, tick=False):
        session = session_create(
            actor=None, program=episode.program, title="Evening process group",
            starts_at=dt.datetime(2026, 11, 17, 23, 0, tzinfo=dt.UTC),
            ends_at=dt.datetime(2026, 11, 18, 2, 0, tzinfo=dt.UTC),
        )  # fmt: skip
        session_book(actor=None, session=session, episode=episode)
    with time_machine.travel(NOW, tick=False):
        body = portal_client.get(reverse("portal:home")).content.decode()
    local = session.starts_at.astimezone(episode.program.site.tz)
    assert "Coming up" in body and session.title in body
    assert local.strftime("%-I:%M") in body and "6:00 PM" in body and "America/New_York" in body
    assert "Tuesday, Nov 17" in body
    assert "This week&#x27;s hours" in body or "This week's hours" in body
    assert AuditEvent.objects.filter(action="openiop.portal.week.read").exists()
