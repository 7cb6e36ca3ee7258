"""A biller's week in a real Chromium: from last week's attendance to a validated 837P file.

Same harness as the other browser tests (no pytest-django ``live_server``: its flush would DELETE
the append-only audit table): ``openiop migrate``, ``seed_billing.py`` and ``openiop runserver``
run in subprocesses on their own SQLite file; Playwright drives Debian's Chromium.

The biller follows the Billing menu to the charges of last week: three 3-hour days ready as H0015
lines, the 2-hour day flagged "Day short" with no line. She builds the draft claim, tries to
export before marking it ready (refused, with what to do), opens the claim (three H0015 units,
one per qualifying day, nothing for the short day), marks it ready, exports an 837P for the
Medicaid payer and downloads it. The file is checked as X12 here and by pyx12 (the repo's
``pyx12_errors``), its SHA-256 against the one the page shows, and the rows in the SQLite file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from tests.browser.harness import ARTIFACTS, CHROMIUM_ARGS, served

USERNAME, PASSWORD = "robin", "browser-billing-pw-2026"

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    with served(tmp_path, "seed_billing.py", USERNAME, PASSWORD) as data:
        yield data


def _day_label(iso: str) -> str:
    """How the pages write a service date ("D M j"): "Thu Nov 19"."""
    day = dt.date.fromisoformat(iso)
    return f"{day:%a %b} {day.day}"


def _segments(text: str) -> list[list[str]]:
    return [s.strip().split("*") for s in text.split("~") if s.strip()]


def _rows(db: Path) -> dict[str, object]:
    with sqlite3.connect(db) as conn:
        claims = conn.execute(
            "SELECT claim_number, status, total_charge, prior_authorization, export_batch_id "
            "FROM billing_claim"
        ).fetchall()
        lines = conn.execute(
            "SELECT service_date, code, units, charge FROM billing_claimline ORDER BY position"
        ).fetchall()
        batches = conn.execute(
            "SELECT id, format, claim_count, total_charge, sha256, usage_indicator, "
            "interchange_control_number FROM billing_exportbatch"
        ).fetchall()
    return {"claims": claims, "lines": lines, "batches": batches}


def test_biller_turns_last_week_into_an_837p_file(chromium, server):
    from playwright.sync_api import expect, sync_playwright

    from openiop.billing.x12.pyx12_check import pyx12_errors

    ARTIFACTS.mkdir(exist_ok=True)
    billed, short = server["billed_days"], server["short_day"]
    monday, sunday = (dt.date.fromisoformat(d) for d in server["week"])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(10_000)
            failed: list[str] = []
            page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
            page.goto(server["url"] + "/accounts/login/")
            page.get_by_label("Username").fill(USERNAME)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()

            # 1. Charges by day: the screen opens on last week.
            page.get_by_role("link", name="Billing", exact=True).click()
            expect(page.get_by_role("heading", name="Charges by day")).to_be_visible()
            expect(page.get_by_label("From")).to_have_value(server["week"][0])
            expect(page.get_by_label("To (inclusive)")).to_have_value(server["week"][1])
            card = page.locator("section.bill-patient").filter(has_text=server["patient"])
            expect(card).to_contain_text(f"{server['payer']} · member {server['member_id']}")
            expect(card).to_contain_text("3 ready · 0 blocked · 0 claimed")
            rows = card.locator("table.bill-days tbody tr")
            expect(rows).to_have_count(4)
            for iso in billed:
                row = rows.filter(has=page.get_by_role("rowheader", name=_day_label(iso)))
                expect(row).to_contain_text("180 min")
                expect(row).to_contain_text("note signed")
                expect(row.locator(".line-clean")).to_contain_text("ready H0015")
                expect(row.locator(".line-clean")).to_contain_text("1 unit · $160.00")
            short_row = rows.filter(has=page.get_by_role("rowheader", name=_day_label(short)))
            expect(short_row).to_contain_text("120 min")
            expect(short_row).to_contain_text("no line")
            expect(short_row.locator("ul.skipped")).to_have_text(
                f"Day short: 2 h of 3 h minimum (120 of 180 minutes); no H0015 unit for {short}."
            )
            expect(page.locator(".billing-totals")).to_contain_text("3 lines ready to claim")
            expect(page.locator(".billing-totals")).to_contain_text("$480.00 ready to claim")
            page.screenshot(path=str(ARTIFACTS / "billing_charges.png"), full_page=True)

            # 2. Build the draft claim from the three ready lines.
            page.get_by_role("button", name="Build draft claims from the 3 ready lines").click()
            expect(page.get_by_role("heading", name="Claims")).to_be_visible()
            expect(page.get_by_text("1 draft claim built.")).to_be_visible()
            claim_link = page.locator("table.claims tbody a", has_text=re.compile(r"^IOP\d{6}$"))
            expect(claim_link).to_have_count(1)
            number = claim_link.inner_text()

            # A biller who exports before marking ready is told why nothing was written.
            page.get_by_role("link", name="Export ready claims").click()
            expect(page.get_by_role("heading", name="Export claims")).to_be_visible()
            page.get_by_label("Payer").select_option(label=server["payer"])
            page.get_by_role("button", name="Check and export").click()
            refusal = page.locator(".problem-list[role=alert]")
            expect(refusal).to_contain_text("Nothing was exported.")
            expect(refusal).to_contain_text(
                f"No claims are ready to send for {monday:%b} {monday.day} to {sunday:%b} "
                f"{sunday.day}, {sunday.year} ({server['payer']}): build them and mark them "
                "ready first."
            )

            # 3. The claim: three H0015 units, one per qualifying day; the short day not billed.
            page.get_by_role("link", name="Claims", exact=True).click()
            page.get_by_role("link", name=number, exact=True).click()
            expect(page.get_by_role("heading", name=f"Claim {number}")).to_contain_text("Draft")
            facts = page.locator("dl.facts")
            expect(facts).to_contain_text(server["patient"])
            expect(facts).to_contain_text(f"{server['payer']} (KSMCD)")
            expect(facts).to_contain_text("F10.20")
            expect(facts).to_contain_text(server["auth_number"])
            expect(facts).to_contain_text("$480.00")
            expect(page.locator(".problem-list")).to_have_count(0)
            lines = page.locator("table tbody tr")
            expect(lines).to_have_count(3)
            for i, iso in enumerate(billed):
                cells = lines.nth(i).locator("td")
                expect(cells.nth(1)).to_have_text(_day_label(iso))
                expect(cells.nth(2)).to_have_text("H0015")
                expect(cells.nth(5)).to_have_text("1")
                expect(cells.nth(6)).to_have_text("180")
                expect(cells.nth(7)).to_have_text("$160.00")
            expect(page.locator("table tbody")).not_to_contain_text(_day_label(short))
            page.screenshot(path=str(ARTIFACTS / "billing_claim.png"), full_page=True)
            page.get_by_role("button", name="Mark ready to send").click()
            expect(page.get_by_text(f"Claim {number} updated.")).to_be_visible()
            expect(page.locator(".claim-status")).to_have_text("Ready to send")

            # 4. Export the 837P for the Medicaid payer and download it.
            page.get_by_role("link", name="Claim files").click()
            page.get_by_role("link", name="Export claims").click()
            expect(page.get_by_label("Format")).to_have_value("837p")
            page.get_by_label("Payer").select_option(label=server["payer"])
            page.get_by_role("button", name="Check and export").click()
            expect(page.get_by_text("Exported 1 claim.")).to_be_visible()
            expect(page.locator("dl.facts")).to_contain_text("test file (ISA15 T)")
            expect(page.locator("dl.facts")).to_contain_text("1 · $480.00")
            sha_shown = page.locator("dd.sha").inner_text().strip()
            expect(page.locator("table tbody tr")).to_contain_text("Submitted")
            with page.expect_download() as info:
                page.get_by_role("link", name="Download").click()
            download = info.value
            filename = download.suggested_filename
            text = Path(download.path()).read_text(encoding="utf-8")

            # The claim now reads submitted, with the file it went in.
            page.get_by_role("link", name=number, exact=True).click()
            expect(page.locator(".claim-status")).to_have_text("Submitted")
            expect(page.locator("dl.facts").get_by_role("link", name=filename)).to_be_visible()
            expect(page.get_by_role("button", name="Mark ready to send")).to_have_count(0)
            page.screenshot(path=str(ARTIFACTS / "billing_claim_submitted.png"), full_page=True)

            # Back on the charges: the three lines are on the claim, nothing is left to build.
            page.get_by_role("link", name="Charges by day").click()
            expect(page.locator(".line-claimed")).to_have_count(3)
            expect(page.locator(".line-claimed").first).to_contain_text(f"on claim {number}")
            expect(page.locator(".billing-totals")).to_contain_text("0 lines ready to claim")
            expect(page.get_by_role("button", name=re.compile("Build draft claims"))).to_have_count(
                0
            )
            expect(page.locator("ul.skipped")).to_contain_text("Day short")
            assert failed == []
        finally:
            browser.close()

    # The file: an X12 837P interchange that pyx12 accepts, fingerprinted as the page said.
    assert re.fullmatch(r"837p-\d{9}-\d{8}\.x12", filename)
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == sha_shown
    assert text.startswith("ISA*")
    segments = _segments(text)
    ids = [s[0] for s in segments]
    assert ids[:3] == ["ISA", "GS", "ST"] and ids[-3:] == ["SE", "GE", "IEA"]
    assert segments[0][15] == "T"  # ISA15: a test file until the clearinghouse approves
    assert segments[2][:2] == ["ST", "837"] and segments[2][3] == "005010X222A1"
    assert ["SBR", "P", "18", "", "", "", "", "", "", "MC"] in segments
    assert any(s[:2] == ["NM1", "IL"] and s[-1] == server["member_id"] for s in segments)
    assert ["REF", "G1", server["auth_number"]] in segments
    assert ["HI", "ABK:F1020"] in segments
    clm = next(s for s in segments if s[0] == "CLM")
    assert clm[1:3] == [number, "480"]
    sv1 = [s for s in segments if s[0] == "SV1"]
    assert [s[1:5] for s in sv1] == [["HC:H0015", "160", "UN", "1"]] * 3
    dates = [s[3] for s in segments if s[:3] == ["DTP", "472", "D8"]]
    assert dates == [d.replace("-", "") for d in billed]
    assert short.replace("-", "") not in dates
    assert pyx12_errors(text) == []

    # The database says what the pages said.
    rows = _rows(server["db"])
    assert len(rows["claims"]) == 1
    claim_number, status, total, prior_auth, batch_id = rows["claims"][0]
    assert (claim_number, status, prior_auth) == (number, "submitted", server["auth_number"])
    assert Decimal(str(total)) == Decimal("480")
    assert [(d, c, Decimal(str(u)), Decimal(str(fee))) for d, c, u, fee in rows["lines"]] == [
        (d, "H0015", Decimal(1), Decimal("160")) for d in billed
    ]
    assert len(rows["batches"]) == 1  # the refused attempt wrote nothing
    bid, fmt, count, _, sha, usage, isa = rows["batches"][0]
    assert (bid, fmt, count, sha, usage) == (batch_id, "837p", 1, sha_shown, "T")
    assert f"{isa:09d}" in filename
