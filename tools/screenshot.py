"""Save a full-page screenshot of the dashboard from a running OpenIOP server.

    python tools/screenshot.py --url http://127.0.0.1:8000 --username demo --password ... \
        [--out docs/img/dashboard.png] [--path /]

Drives Debian's Chromium (``/usr/bin/chromium``, or ``--chromium``) with Playwright: logs in at
/accounts/login/, opens ``--path`` and writes the PNG. Run it against demo data only; a
screenshot of real patients is protected health information.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def screenshot(
    *, url: str, username: str, password: str, out: Path, path: str = "/",
    chromium: str = "/usr/bin/chromium", width: int = 1280,
) -> Path:  # fmt: skip
    from playwright.sync_api import sync_playwright

    base = url.rstrip("/")
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(base + "/accounts/login/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_load_state("networkidle")
            if "/accounts/login/" in page.url:
                raise SystemExit("login failed: check the username and password")
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(out), full_page=True)
        finally:
            browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--out", type=Path, default=Path("docs/img/dashboard.png"))
    parser.add_argument("--path", default="/", help="page to capture (default: the dashboard)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    saved = screenshot(
        url=args.url, username=args.username, password=args.password, out=args.out,
        path=args.path, chromium=args.chromium,
    )  # fmt: skip
    sys.stdout.write(f"saved {saved}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
