from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.harness import CHROMIUM


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium (Playwright's own browser download is unreachable here). Skipped with a
    reason on a developer machine without it; a failure in CI, which installs it."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt install chromium); skipped outside CI")
    return CHROMIUM
