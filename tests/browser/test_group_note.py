"""A counselor writes and signs a group note on one screen, in a real Chromium against a real
server (see ``test_take_attendance.py`` for why there is no ``live_server``).

The counselor opens the session's group note from its URL, starts it from attendance (the
absent patient shows "Absent: no note"), fills the shared narrative and two attendees' parts,
copies one part into the other and sees the copy warning at both attendees, fixes it, signs,
and sees the note signed and read-only. Then the rows in the SQLite file are checked.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.browser.harness import ARTIFACTS, CHROMIUM_ARGS, served

USERNAME, PASSWORD = "counselor", "browser-test-pw-2026"

pytestmark = pytest.mark.browser

AVERY = {
    "Participation": "Shared about a near-relapse at a family party and how she left early.",
    "Response": "Accepted feedback from peers and named two people she can call.",
    "Progress": "Used urge surfing twice this week instead of drinking.",
    "Risk": "Denies SI/HI.",
}
BIRCH = {
    "Participation": "Quiet at check-in; later spoke about overtime and cravings after work.",
    "Response": "Agreed to try a HALT check before driving home.",
    "Progress": "Attended three groups this week; plans a mutual-help meeting Saturday.",
    "Risk": "Denies SI/HI.",
}


@pytest.fixture
def server(tmp_path):
    with served(tmp_path, "seed_group_note.py", USERNAME, PASSWORD) as data:
        yield data


def _rows(db: Path) -> tuple[list[tuple], list[tuple]]:
    with sqlite3.connect(db) as conn:
        notes = conn.execute("SELECT status, topic FROM clinical_groupnote").fetchall()
        parts = conn.execute(
            "SELECT p.last_name, n.status, n.kind, n.format, n.objectives FROM clinical_note n "
            "JOIN patients_patient p ON p.id = n.patient_id ORDER BY p.last_name"
        ).fetchall()
    return notes, parts


def test_counselor_writes_and_signs_a_group_note(chromium, server):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    alder, birch, cedar = server["patients"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(10_000)
            failed: list[str] = []
            # 400 answers are the page telling the user what to fix; anything else is a fault.
            page.on(
                "response",
                lambda r: (
                    r.status >= 400 and r.status != 400 and failed.append(f"{r.status} {r.url}")
                ),
            )
            page.goto(server["url"] + "/accounts/login/")
            page.get_by_label("Username").fill(USERNAME)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()

            page.goto(f"{server['url']}/clinical/sessions/{server['session']}/group-note/")
            page.get_by_role("button", name="Start group note").click()
            expect(page.get_by_role("heading", name="Shared narrative")).to_be_visible()
            expect(page.locator(".absent-list")).to_contain_text(f"{cedar} · Absent: no note")
            expect(page.locator("article.attendee-card")).to_have_count(2)

            page.get_by_label("Topic").fill("Relapse prevention: high-risk situations")
            page.get_by_label("Curriculum module").fill("Module 3: triggers")
            page.get_by_label("Interventions").fill(
                "CBT skills rehearsal; motivational interviewing."
            )
            page.get_by_label("Group narrative").fill(
                "Members mapped personal triggers and rehearsed refusal skills in pairs."
            )
            for label, text in AVERY.items():
                page.get_by_label(f"{label} for {alder}").fill(text)
                page.get_by_label(f"{label} for {birch}").fill(text)  # copied word for word
            card = page.get_by_role("article", name=alder)
            card.get_by_label("1.1.1 Avery names two coping skills for cravings").check()

            page.get_by_role("button", name="Check notes").click()
            expect(page.get_by_role("heading", name="Check notes: 2 warnings")).to_be_visible()
            birch_card = page.get_by_role("article", name=birch)
            expect(birch_card.locator(".quality-warnings")).to_contain_text(
                f"{birch}'s part is identical to {alder}'s"
            )
            alder_card = page.get_by_role("article", name=alder)
            expect(alder_card.locator(".quality-warnings")).to_contain_text(
                f"identical to {birch}'s"
            )

            page.screenshot(path=str(ARTIFACTS / "group_note_warnings.png"), full_page=True)
            for label, text in BIRCH.items():
                page.get_by_label(f"{label} for {birch}").fill(text)
            page.get_by_role("button", name="Check notes").click()
            expect(page.get_by_text("Check notes: no warnings.")).to_be_visible()
            page.get_by_role("button", name="Sign group note").click()

            expect(page.get_by_text("Group note signed.")).to_be_visible()
            expect(page.locator(".group-note-status")).to_have_text("Signed")
            expect(page.locator(".signature")).to_contain_text("Signed by Morgan Counselor")
            expect(page.locator("textarea[name^='p-']")).to_have_count(0)
            expect(page.get_by_role("button", name="Sign group note")).to_have_count(0)
            expect(page.get_by_role("button", name="Amend")).to_be_visible()
            expect(page.get_by_role("article", name=birch)).to_contain_text(BIRCH["Participation"])
            page.screenshot(path=str(ARTIFACTS / "group_note_signed.png"), full_page=True)
            assert failed == []
        finally:
            browser.close()

    notes, parts = _rows(server["db"])
    assert notes == [("signed", "Relapse prevention: high-risk situations")]
    assert [(name, status, kind, fmt) for name, status, kind, fmt, _ in parts] == [
        ("Alder", "signed", "group_individualized", "GRP"),
        ("Birch", "signed", "group_individualized", "GRP"),
    ]
    assert parts[0][4] != "[]" and parts[1][4] == "[]"  # Avery's picked objective
