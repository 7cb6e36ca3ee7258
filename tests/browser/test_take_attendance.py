"""Front desk takes attendance in a real Chromium against a real server.

No pytest-django ``live_server``: its transactional flush would DELETE the append-only audit table.
The test runs ``openiop migrate``, a seed script and ``openiop runserver`` in subprocesses against
their own SQLite file in a temporary directory, drives Debian's Chromium with Playwright, then
checks the rows in that SQLite file.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
USERNAME, PASSWORD = "frontdesk", "browser-test-pw-2026"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited early: {server.stdout.read()}")  # type: ignore[union-attr]
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (local test server)
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer at {url} within {timeout} s")


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt install chromium); skipped outside CI")
    return CHROMIUM


@pytest.fixture
def server(tmp_path):
    """A migrated, seeded SQLite database and ``openiop runserver`` on a free port."""
    db = tmp_path / "e2e.sqlite3"
    env = {
        **os.environ, "DATABASE_URL": f"sqlite:///{db}", "DEBUG": "true",
        "OPENIOP_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "openiop.settings"),
        "PYTHONUNBUFFERED": "1",
    }  # fmt: skip
    cli = [sys.executable, "-m", "openiop.cli"]
    run = {"cwd": ROOT, "env": env, "check": True, "capture_output": True, "text": True}
    subprocess.run([*cli, "migrate", "--noinput"], timeout=60, **run)  # noqa: S603
    seeded = subprocess.run(  # noqa: S603
        [sys.executable, str(Path(__file__).with_name("seed.py")), USERNAME, PASSWORD],
        timeout=60, **run,
    )  # fmt: skip
    data = json.loads(seeded.stdout.strip().splitlines()[-1])
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603
        [*cli, "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base + "/accounts/login/", proc)
        yield {"url": base, "db": db, **data}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


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
