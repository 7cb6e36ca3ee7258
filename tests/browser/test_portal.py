"""A patient uses the portal on a phone in a real Chromium (issue 10, "Tests").

Same harness as ``test_intake.py`` (no pytest-django ``live_server``: its flush would DELETE the
append-only audit table): ``openiop migrate``, ``seed_portal.py`` and ``openiop runserver`` run in
subprocesses on their own SQLite file; Playwright drives Debian's Chromium at a 390 x 844 touch
viewport; the rows are checked in that SQLite file afterwards. The video room
(https://meet.jit.si/...) is answered by a route inside the browser: no external network is used.

The Join form posts to the portal, which answers 302 to the room; browsers apply the CSP
``form-action`` to that redirect, so the video service's origin is allowed there (settings).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tests.browser.harness import ARTIFACTS, CHROMIUM_ARGS, served

USERNAME, PASSWORD = "jordan-a", "portal-browser-pw-2026-x"
WIDTH, HEIGHT = 390, 844
ROOM = "https://meet.jit.si/"
# PHQ-9: items 1-8 "Not at all", item 9 (thoughts of self-harm) "More than half the days".
ANSWERS = ["Not at all"] * 8 + ["More than half the days"]

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    """A migrated, seeded SQLite database and ``openiop runserver`` on a free port."""
    with served(tmp_path, "seed_portal.py", USERNAME, PASSWORD) as data:
        yield data


def _rows(db: Path, patient_public_id: str) -> dict[str, list[tuple]]:
    """The patient's virtual visits and clinical alerts (UUIDs compared without dashes: SQLite
    stores them as 32 hex characters)."""
    pid = patient_public_id.replace("-", "")
    with sqlite3.connect(db) as conn:
        patient_id = conn.execute(
            "SELECT id FROM patients_patient WHERE replace(public_id, '-', '') = ?", (pid,)
        ).fetchone()[0]
        visits = conn.execute(
            "SELECT session_id, joined_at, left_at FROM portal_virtualvisit WHERE patient_id = ?",
            (patient_id,),
        ).fetchall()
        alerts = conn.execute(
            "SELECT id, response_id FROM questionnaires_clinicalalert WHERE patient_id = ?",
            (patient_id,),
        ).fetchall()
        consents = conn.execute(
            "SELECT signed_by_name, signer_role, recipient_organization, revoked_at"
            " FROM consent_consent WHERE patient_id = ?",
            (patient_id,),
        ).fetchall()
    return {"visits": visits, "alerts": alerts, "consents": consents}


def _no_sideways_scroll(page) -> None:  # noqa: ANN001
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} scrolls sideways: {width} px wide"


def _wait_for_visit(db: Path, patient_public_id: str, timeout: float = 30.0) -> list[tuple]:
    deadline = time.monotonic() + timeout
    while not (visits := _rows(db, patient_public_id)["visits"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    return visits


def _phone(browser, base: str):  # noqa: ANN001, ANN202
    """A phone-sized touch context; 5xx answers and requests leaving the test server are noted.
    The video room is answered by a route, every other outside address is refused."""
    context = browser.new_context(
        viewport={"width": WIDTH, "height": HEIGHT}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    errors: list[str] = []
    outside: list[str] = []
    context.on("response", lambda r: r.status >= 500 and errors.append(f"{r.status} {r.url}"))
    context.route(f"{ROOM}**", lambda r: r.fulfill(status=200, body="room"))
    context.route(
        lambda url: not url.startswith((base, ROOM)),
        lambda r: (outside.append(r.request.url), r.abort()),
    )
    return context, errors, outside


def _log_in(page, server) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    page.goto(server["url"] + "/accounts/login/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").tap()
    hello = page.get_by_role("heading", name=f"Hello, {server['first_name']}")
    expect(hello).to_be_visible()
    assert page.url == server["url"] + "/portal/"


def test_patient_joins_a_session_and_fills_in_a_phq9_on_a_phone(chromium, server):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            context, errors, outside = _phone(browser, server["url"])
            page = context.new_page()
            _log_in(page, server)

            # My week: the session at its time in Chicago, with a Join button.
            coming = page.locator("section[aria-labelledby='up-h']")
            expect(coming).to_contain_text(server["session_title"])
            expect(coming).to_contain_text(server["starts_local"])
            expect(coming).to_contain_text("(America/Chicago)")
            _no_sideways_scroll(page)
            page.screenshot(path=str(ARTIFACTS / "portal_week_phone.png"), full_page=True)

            # Join: the visit is recorded (the room tab itself: the next test).
            with context.expect_page(timeout=30_000) as popup:
                page.get_by_role("button", name="Join online session").tap()
            popup.value.wait_for_load_state(timeout=30_000)  # the join was answered
            visits = _wait_for_visit(server["db"], server["patient"])
            assert len(visits) == 1 and visits[0][2] is None  # joined, not left
            expect(
                page.get_by_role("heading", name=f"Hello, {server['first_name']}")
            ).to_be_visible()

            # Questionnaires: the PHQ-9 is due; item 9 answered above zero.
            page.get_by_role("link", name="Questionnaires", exact=True).tap()
            expect(page.get_by_role("heading", name="Questionnaires", exact=True)).to_be_visible()
            _no_sideways_scroll(page)
            page.get_by_role("link", name="Fill in").tap()
            title = "Patient Health Questionnaire (PHQ-9)"
            expect(page.get_by_role("heading", name=title)).to_be_visible()
            items = page.locator("fieldset.item")
            expect(items).to_have_count(len(ANSWERS))
            for n, answer in enumerate(ANSWERS):
                items.nth(n).get_by_role("radio", name=answer, exact=True).check()
            _no_sideways_scroll(page)
            page.get_by_role("button", name="Send my answers").tap()
            crisis = page.get_by_role("alert")
            expect(crisis).to_contain_text("You don't have to go through this alone")
            expect(crisis.get_by_role("link", name="988")).to_have_attribute("href", "tel:988")
            expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
            _no_sideways_scroll(page)
            assert len(_rows(server["db"], server["patient"])["alerts"]) == 1

            # Consents: read and sign the one the team sent, by tapping and typing a name.
            page.get_by_role("link", name="Consents", exact=True).tap()
            pending = page.locator("section.consent.pending")
            expect(pending).to_contain_text("Lakeview Family Medicine")
            _no_sideways_scroll(page)
            pending.get_by_label("Type your full name to sign").fill("Jordan Alvarez")
            pending.get_by_role("button", name="Sign").tap()  # without ticking the box
            expect(page.get_by_role("alert").first).to_contain_text("Tick the box")
            page.get_by_label("I have read this consent, and I agree to it.").check()
            page.get_by_role("button", name="Sign").tap()
            expect(page.locator(".messages")).to_contain_text("Signed.")
            expect(page.locator("section.consent.pending")).to_have_count(0)
            expect(page.get_by_role("button", name="Revoke this consent")).to_be_visible()
            signed = _rows(server["db"], server["patient"])["consents"]
            assert signed == [("Jordan Alvarez", "patient", "Lakeview Family Medicine", None)]
            _no_sideways_scroll(page)

            # Consents, and who saw my records.
            for link, heading in (
                ("Consents", "My consents"),
                ("Who saw my records", "Who saw my records"),
            ):
                with page.expect_response(lambda r: r.request.resource_type == "document") as r:
                    page.get_by_role("link", name=link, exact=True).tap()
                assert r.value.status == 200, r.value.url
                expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
                _no_sideways_scroll(page)

            assert errors == []
            assert outside == []
        finally:
            browser.close()

    rows = _rows(server["db"], server["patient"])
    assert len(rows["visits"]) == 1
    assert len(rows["alerts"]) == 1


def test_join_opens_the_video_room_in_a_new_tab(chromium, server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            context, errors, outside = _phone(browser, server["url"])
            asked: list[str] = []
            context.on("request", lambda r: asked.append(r.url))
            page = context.new_page()
            _log_in(page, server)
            with context.expect_page(timeout=30_000) as popup:
                page.get_by_role("button", name="Join online session").tap()
            room = popup.value
            room.wait_for_load_state()
            # The browser follows the join's redirect to the room (CSP form-action allows the
            # video origin). Playwright cannot answer a redirected navigation from a route, so
            # the room itself is not loaded: what counts is that the browser asked for it.
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not any(
                u.startswith(ROOM + "openiop-") for u in asked
            ):
                room.wait_for_timeout(100)
            assert any(u.startswith(ROOM + "openiop-") for u in asked), asked
            assert errors == []
        finally:
            browser.close()
