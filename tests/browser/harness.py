"""The browser tests' harness: a real ``openiop runserver`` on its own SQLite file.

pytest-django's ``live_server`` is not used: its flush would DELETE from the append-only audit
table (ADR 0005). Each test migrates a fresh SQLite file, seeds it with a small script of its own,
serves it on a free loopback port and reads the database file afterwards.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, server: subprocess.Popen, log: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited early: {log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (local test server)
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer at {url} within {timeout} s")


@contextmanager
def served(tmp_path: Path, seed: str, username: str, password: str) -> Iterator[dict[str, Any]]:
    """Migrate a fresh SQLite file, run ``seed`` (a script beside this file that prints one JSON
    line), serve it, and yield ``{"url", "db", "log", **seeded}``. The server's output goes to a
    log file (read back when it fails to start) and its environment reaches any background
    process it starts."""
    db = tmp_path / "browser.sqlite3"
    env = {
        **os.environ, "DATABASE_URL": f"sqlite:///{db}", "DEBUG": "true",
        "OPENIOP_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "openiop.settings"),
        "PYTHONUNBUFFERED": "1",
    }  # fmt: skip
    cli = [sys.executable, "-m", "openiop.cli"]
    run: dict[str, Any] = {
        "cwd": ROOT, "env": env, "check": True, "capture_output": True, "text": True,
    }  # fmt: skip
    subprocess.run([*cli, "migrate", "--noinput"], timeout=60, **run)  # noqa: S603
    seeded = subprocess.run(  # noqa: S603
        [sys.executable, str(HERE / seed), username, password], timeout=60, **run
    )
    data = json.loads(seeded.stdout.strip().splitlines()[-1])
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603
            [*cli, "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT, env=env,
            stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base + "/accounts/login/", proc, log)
        yield {"url": base, "db": db, "log": log, **data}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
