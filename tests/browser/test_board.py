"""A program director builds, solves and publishes next week on the weekly board, in Chromium.

Same harness as ``test_take_attendance.py`` (no pytest-django ``live_server``: its flush would
DELETE the append-only audit table): ``openiop migrate``, ``seed_board.py`` and ``openiop
runserver`` run in subprocesses on their own SQLite file. "Build and solve" makes the server start
the real background runner (``openiop schedule run-draft``, which inherits the server's
environment, so it writes to the same SQLite file); the board polls it with htmx and reloads when
it is done. The published sessions and their rosters are checked in that SQLite file afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
import zoneinfo
from pathlib import Path

import pytest

from tests.browser.harness import ARTIFACTS, CHROMIUM_ARGS, served

USERNAME, PASSWORD = "director", "browser-board-pw-2026"
NY = zoneinfo.ZoneInfo("America/New_York")
SOLVE_TIMEOUT_MS = 45_000

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    """A migrated, seeded SQLite database and ``openiop runserver`` on a free port."""
    with served(tmp_path, "seed_board.py", USERNAME, PASSWORD) as data:
        yield data


def _published(db: Path) -> dict[str, object]:
    """The published draft's week and groups, the sessions created and their attendance rows."""
    with sqlite3.connect(db) as conn:
        drafts = conn.execute(
            "SELECT week_start, solution FROM scheduling_scheduledraft WHERE status = 'published'"
        ).fetchall()
        sessions = conn.execute("SELECT id, starts_at FROM scheduling_session").fetchall()
        statuses = dict(
            conn.execute(
                "SELECT status, COUNT(*) FROM attendance_attendancerecord GROUP BY status"
            ).fetchall()
        )
    (week_start, solution), *others = drafts
    assert others == []
    return {
        "week_start": dt.date.fromisoformat(week_start),
        "groups": json.loads(solution)["groups"],
        "starts": [
            dt.datetime.fromisoformat(starts).replace(tzinfo=dt.UTC).astimezone(NY)
            for _, starts in sessions
        ],
        "statuses": statuses,
    }


def test_director_builds_solves_and_publishes_next_week(chromium, server):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    monday = dt.date.fromisoformat(server["next_monday"])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(10_000)
            failed: list[str] = []
            page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
            page.goto(server["url"] + "/accounts/login/")
            page.get_by_label("Username").fill(USERNAME)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()

            page.get_by_role("navigation").get_by_role("link", name="Weekly board").click()
            expect(page.get_by_role("heading", name="Weekly board")).to_be_visible()
            page.get_by_label("Program").select_option(label=server["program"])
            page.get_by_role("button", name="Show").click()
            # The board opens on next week by default.
            heading = page.get_by_role("heading", level=1)
            expect(heading).to_contain_text(server["program"])
            expect(heading).to_contain_text(f"week of {monday:%b} {monday.day}, {monday.year}")
            expect(page.get_by_text("No draft yet.")).to_be_visible()
            page.get_by_role("button", name="Build and solve").click()

            # The draft page polls the background runner, then reloads with the board.
            progress = page.locator("#board-progress")
            expect(progress).to_be_visible()
            started = time.monotonic()
            groups = page.get_by_role("heading", name="Groups", exact=True)
            try:
                expect(groups).to_be_visible(timeout=SOLVE_TIMEOUT_MS)
            except AssertionError:
                page.screenshot(path=str(ARTIFACTS / "board_solve_timeout.png"), full_page=True)
                raise AssertionError(
                    f"no board after {SOLVE_TIMEOUT_MS / 1000:.0f} s; progress: "
                    f"{progress.inner_text()!r}; server log:\n{server['log'].read_text()}"
                ) from None
            solve_seconds = time.monotonic() - started
            expect(progress).to_contain_text("Done")
            expect(progress).not_to_have_attribute("hx-trigger", "every 2s")

            cards = page.locator(".board-group")
            expect(cards.first).to_be_visible()
            placed = [n for n in server["patients"] if n != server["short"]]
            for name in placed:
                expect(cards.filter(has_text=name).first).to_be_visible()
            shortfall = page.locator(".shortfall li", has_text=server["short"])
            expect(shortfall).to_be_visible()
            reason = shortfall.locator(".reason").inner_text().strip()
            assert reason, "a patient falls short without a reason"
            page.screenshot(path=str(ARTIFACTS / "board_draft.png"), full_page=True)

            # Pin one placed patient to another set of evenings and re-solve in the background.
            pinned_name = placed[0]
            pin = page.locator("details.board-pin", has_text=pinned_name)
            pin.locator("summary").click()
            boxes = pin.locator("input[name=blocks]")
            values = [boxes.nth(i).get_attribute("value") for i in range(boxes.count())]
            held = {v for i, v in enumerate(values) if boxes.nth(i).is_checked()}
            assert len(held) == 3, f"{pinned_name} should hold three evenings, not {held}"
            # Swap one held evening for the free one: same hours, another set of days.
            free = next(v for v in values if v not in held)
            chosen = (held - {sorted(held)[0]}) | {free}
            for i, value in enumerate(values):
                boxes.nth(i).set_checked(value in chosen)
            pin.get_by_role("button", name="Pin and re-solve").click()
            expect(progress).to_be_visible()
            try:
                expect(progress).to_contain_text("Done", timeout=SOLVE_TIMEOUT_MS)
                expect(groups).to_be_visible(timeout=SOLVE_TIMEOUT_MS)
            except AssertionError:
                page.screenshot(path=str(ARTIFACTS / "board_pin_timeout.png"), full_page=True)
                raise AssertionError(
                    f"no board after the pin; progress: {progress.inner_text()!r}; "
                    f"server log:\n{server['log'].read_text()}"
                ) from None
            expect(page.get_by_role("heading", name="Pins not kept")).to_have_count(0)
            pin = page.locator("details.board-pin", has_text=pinned_name)
            expect(pin.locator(".badge", has_text="pinned")).to_be_visible()
            pin.locator("summary").click()
            boxes = pin.locator("input[name=blocks]")
            now_held = {
                boxes.nth(i).get_attribute("value")
                for i in range(boxes.count())
                if boxes.nth(i).is_checked()
            }
            assert now_held == chosen, f"the pin was not kept: {now_held} != {chosen}"
            for name in placed:  # nobody else lost their place
                expect(cards.filter(has_text=name).first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "board_pinned.png"), full_page=True)

            page.once("dialog", lambda d: d.accept())
            page.get_by_role("button", name="Publish").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("Sessions · week of")
            message = page.locator(".messages li", has_text="Published")
            expect(message).to_contain_text(f"group sessions for {server['program']}")
            count = int(message.inner_text().split()[1])
            page.screenshot(path=str(ARTIFACTS / "board_published.png"), full_page=True)
            assert failed == []
        finally:
            browser.close()

    print(f"background solve shown on the board after {solve_seconds:.1f} s")  # noqa: T201
    published = _published(server["db"])
    assert published["week_start"] == monday
    assert count == len(published["groups"]) == len(published["starts"]) > 0
    for local in published["starts"]:
        assert monday <= local.date() < monday + dt.timedelta(days=4)
        assert local.time() == dt.time(18)
    seats = sum(len(g["patients"]) for g in published["groups"])
    assert published["statuses"] == {"expected": seats}
