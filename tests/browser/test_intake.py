"""A counselor takes a referral to a first scheduled group in a real Chromium.

Same harness as ``test_take_attendance.py`` (no pytest-django ``live_server``: its flush would
DELETE the append-only audit table): ``openiop migrate``, ``seed_intake.py`` and
``openiop runserver`` run in subprocesses on their own SQLite file; Playwright drives Debian's
Chromium; the rows are checked in that SQLite file afterwards.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.browser.harness import ARTIFACTS, CHROMIUM_ARGS, served

USERNAME, PASSWORD = "casey", "browser-intake-pw-2026"
RATINGS = {1: 0, 2: 0, 3: 1, 4: 2, 5: 2, 6: 1}

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    """A migrated, seeded SQLite database and ``openiop runserver`` on a free port."""
    with served(tmp_path, "seed_intake.py", USERNAME, PASSWORD) as data:
        yield data


def _outcome(db: Path, series_public_id: str) -> dict[str, object]:
    """The referral's status, and the patient's bookings against the series' sessions from the
    admission day on (dates compared in UTC text; the group meets at 18:00 New York, 23:00 UTC,
    so the UTC date is the local date)."""
    series = series_public_id.replace("-", "")
    with sqlite3.connect(db) as conn:
        status, episode_id, admitted_on = conn.execute(
            "SELECT r.status, r.episode_id, e.admitted_on FROM placement_referral r "
            "JOIN enrollment_episode e ON e.id = r.episode_id"
        ).fetchone()
        series_id = conn.execute(
            "SELECT id FROM scheduling_sessionseries WHERE replace(public_id, '-', '') = ?",
            (series,),
        ).fetchone()[0]
        expected = conn.execute(
            "SELECT COUNT(*) FROM scheduling_session WHERE series_id = ? AND status != 'cancelled'"
            " AND substr(starts_at, 1, 10) >= ?",
            (series_id, admitted_on),
        ).fetchone()[0]
        booked = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT s.series_id) FROM attendance_attendancerecord a "
            "JOIN scheduling_session s ON s.id = a.session_id WHERE a.episode_id = ?",
            (episode_id,),
        ).fetchone()
    return {"status": status, "booked": booked[0], "groups": booked[1], "expected": expected}


def test_counselor_takes_a_referral_to_a_first_group(chromium, server):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(10_000)
            failed: list[str] = []
            page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
            page.goto(server["url"] + "/accounts/login/")
            assert page.evaluate("() => getComputedStyle(document.body).margin") == "0px"
            page.get_by_label("Username").fill(USERNAME)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()

            page.get_by_role("link", name="Intake", exact=True).click()
            expect(page.get_by_role("heading", name="Intake: referrals")).to_be_visible()
            page.get_by_role("link", name="New referral").click()
            page.get_by_label("First name").fill("Maya")
            page.get_by_label("Last name").fill("Lindqvist")
            page.get_by_label("Date of birth").fill("1990-06-01")
            page.get_by_label("Phone").fill("555-0142")
            page.get_by_label("Reason for referral").fill("Drinking after work")
            page.get_by_role("button", name="Save referral").click()

            expect(page.get_by_role("heading", name="Maya Lindqvist")).to_be_visible()
            page.get_by_role("checkbox", name="Alcohol").check()
            page.get_by_role("radio", name="No", exact=True).check()
            page.get_by_role("button", name="Save phone screen").click()
            expect(page.locator("#screen-result")).to_contain_text("Continue to assessment")
            page.screenshot(path=str(ARTIFACTS / "intake_referral.png"), full_page=True)

            page.get_by_role("link", name="Assess", exact=True).click()
            for n, rating in RATINGS.items():
                dim = page.locator(f"#dimension-{n}")
                dim.get_by_role("radio", name=str(rating), exact=True).check()
                page.locator(f"#id_d{n}_note").fill(f"Dimension {n} rated {rating} at interview")
            page.get_by_role("checkbox", name="Work").check()
            page.get_by_role("button", name="See recommendation").click()
            panel = page.locator("#recommendation")
            expect(panel).to_contain_text("Recommendation: 2.1 Intensive outpatient (IOP)")
            expect(panel).to_contain_text("Decision support — not ASAM software")
            expect(panel).to_contain_text("rated 2: IOP structure")
            expect(panel).to_contain_text("medication (MAT) evaluation")
            page.screenshot(path=str(ARTIFACTS / "intake_recommendation.png"), full_page=True)
            page.get_by_role("button", name="Save assessment").click()
            expect(
                page.get_by_text("Assessment saved: recommended 2.1, chosen 2.1.")
            ).to_be_visible()

            page.get_by_role("link", name="Admit", exact=True).click()
            page.get_by_role("textbox", name="Consent to treat").fill("Maya Lindqvist")
            group = page.get_by_role("checkbox", name="Evening group")
            expect(group).to_be_checked()
            page.screenshot(path=str(ARTIFACTS / "intake_admit.png"), full_page=True)
            page.get_by_role("button", name="Admit and book").click()

            expect(page.get_by_role("heading", name="Adult Evening IOP")).to_be_visible()
            expect(page.get_by_text("First group: Evening group on")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "intake_admitted.png"), full_page=True)
            assert failed == []
        finally:
            browser.close()

    outcome = _outcome(server["db"], server["series"])
    assert outcome["status"] == "admitted"
    assert outcome["groups"] == 1
    assert outcome["booked"] == outcome["expected"] > 0
