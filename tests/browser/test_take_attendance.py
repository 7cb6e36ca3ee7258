"""Front desk takes attendance in a real Chromium against a real server.

No pytest-django ``live_server``: its transactional flush would DELETE the append-only audit table.
The test runs ``openiop migrate``, a seed script and ``openiop runserver`` in subprocesses against
their own SQLite file in a temporary directory, drives Debian's Chromium with Playwright, then
checks the rows in that SQLite file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.browser.harness import ARTIFACTS, CHROMIUM_ARGS, served

USERNAME, PASSWORD = "frontdesk", "browser-test-pw-2026"

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    """A migrated, seeded SQLite database and ``openiop runserver`` on a free port."""
    with served(tmp_path, "seed.py", USERNAME, PASSWORD) as data:
        yield data


def _attendance_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT status, COUNT(*) FROM attendance_attendancerecord GROUP BY status"
        ).fetchall()
    return dict(rows)


def test_front_desk_takes_attendance_for_a_group(chromium, server):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    alder, birch, cedar = server["patients"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(10_000)
            failed: list[str] = []
            page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
            page.goto(server["url"] + "/accounts/login/")
            # The page is styled and htmx loaded: a missing static file is a broken screen.
            assert page.evaluate("() => typeof window.htmx") == "object"
            assert page.evaluate("() => getComputedStyle(document.body).margin") == "0px"
            page.get_by_label("Username").fill(USERNAME)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()

            expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
            today = page.locator("tr.session-row", has_text="Evening process group")
            expect(today).to_contain_text("0 / 3")
            today.get_by_role("link", name="Roster").click()

            expect(page.get_by_role("heading", name="Evening process group")).to_be_visible()
            page.locator("tr.roster-row", has_text=alder).get_by_label("Present").check()
            page.locator("tr.roster-row", has_text=birch).get_by_label("Present").check()
            page.locator("tr.roster-row", has_text=cedar).get_by_label("Absent").check()
            page.get_by_role("button", name="Save attendance").click()

            expect(page.get_by_text("Attendance saved: 2 present, 1 absent.")).to_be_visible()
            expect(page.locator("tr.roster-row", has_text=alder)).to_contain_text("saved: Present")
            expect(page.locator("tr.roster-row", has_text=cedar)).to_contain_text("saved: Absent")
            expect(page.locator(".session-header")).to_contain_text("Held")
            page.screenshot(path=str(ARTIFACTS / "take_attendance.png"), full_page=True)
            assert failed == []
        finally:
            browser.close()

    assert _attendance_counts(server["db"]) == {"present": 2, "absent": 1}
