"""Web benchmark: the real server (gunicorn, sync workers) on the small demo and a large org.

    .venv/bin/python bench/web.py [--large-db PATH] [--pg URL] [--duration 600] [--workers 4]

For each database engine (SQLite always; PostgreSQL when ``--pg URL`` names a server) and each
data set (``small``: a fresh ``openiop migrate`` + ``openiop demo``; ``large``: a copy of
``--large-db``, an ``openiop demo --scale large`` SQLite file, or on PostgreSQL ``openiop demo
--scale large --patients N`` into a scratch database), it starts ``gunicorn openiop.wsgi -w N``,
logs in as the program director (a requests.Session through the login form, CSRF included) for the
HTML pages, makes an API token (``token_create``) for ``/api/v1/`` and a FHIR user client
(``fhir_client_create``, kind user, ``user/*.rs``) for ``/fhir/r4/``, and measures:

* one user: p50 / p95 of each key page and endpoint (``--samples`` sequential requests after
  ``--warmup`` requests);
* the framework ratio: requests per second of each key API read against the lightest existing
  API read, ``GET /api/v1/programs?limit=1`` (the app has no trivial JSON view and this
  benchmark adds no code to it), each measured closed-loop with ``--workers`` client threads
  for ``--ratio-seconds``;
* a mixed load for ``--duration`` seconds with 16 and 50 concurrent users (``--users``): 70%
  reads of the key pages, 20% single check-ins (``POST /api/v1/sessions/<id>/attendance``),
  10% note autosaves (``PATCH /api/v1/notes/<id>`` on a draft each user started); requests per
  second, p50/p95, errors (any status other than 2xx, or a connection failure) and "database is
  locked" (counted in the server log, where Django logs the traceback of every 500);
* worker memory: the largest resident set of the gunicorn workers (``/proc/<pid>/status``) after
  the load.

Then the growth ratio (p95 large / p95 small, one user), the SQLite / PostgreSQL ratio and one
``MET`` / ``NOT MET`` / ``NOT MEASURED`` line per target. Numbers from a machine that is doing
other work are noisy (upper bounds): never turn them into tests. Progress goes to stderr, tables
to stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crash import REPO, Server, _django, _python_env, migrated_sqlite  # noqa: E402

DEFAULT_LARGE_DB = "/tmp/openiop-large.sqlite3"
PASSWORD = "demo-password-2026"  # openiop/organizations/demo.py DEMO_PASSWORD (checked in _info)
TARGET_GROWTH = 1.5
TARGET_FRAMEWORK = 0.5
TARGET_P95_MS = 300.0
TARGET_RSS_MB = 250.0

# name -> (kind, method, path template); kinds: page (session cookie), api (token), fhir (token)
ENDPOINTS: dict[str, tuple[str, str, str]] = {
    "dashboard": ("page", "GET", "/"),
    "session roster": ("page", "GET", "/sessions/{session}/"),
    "patient chart": ("page", "GET", "/patients/{patient}/"),
    "compliance week": ("page", "GET", "/programs/{program}/?week={week}"),
    "patient search": ("page", "GET", "/patients/?q={q}"),
    "UR packet": ("page", "GET", "/clinical/episodes/{episode}/ur/packet/?start={start}&end={end}"),
    "outcome report": ("page", "GET", "/reports/outcomes/"),
    "FHIR Patient search": ("fhir", "GET", "/fhir/r4/Patient?_count=50"),
    "check-in (POST)": ("api", "POST", "/api/v1/sessions/{session}/attendance"),
    "note autosave (PATCH)": ("api", "PATCH", "/api/v1/notes/{note}"),
}
READS = [name for name, (_, method, _) in ENDPOINTS.items() if method == "GET"]
TRIVIAL = "api: programs?limit=1 (trivial)"
API_READS: dict[str, tuple[str, str, str]] = {
    TRIVIAL: ("api", "GET", "/api/v1/programs?limit=1"),
    "api: session roster": ("api", "GET", "/api/v1/sessions/{session}"),
    "api: compliance week": ("api", "GET", "/api/v1/compliance?week={week}&program={program}"),
    "api: patient search": ("api", "GET", "/api/v1/patients?q={q}"),
    "api: patient read": ("api", "GET", "/api/v1/patients/{patient}"),
    "api: episode notes": ("api", "GET", "/api/v1/episodes/{episode}/notes"),
    "FHIR Patient search": ENDPOINTS["FHIR Patient search"],
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- inside a Django process: pick the ids and make the credentials ----------------------------


def info(dataset: str) -> dict[str, Any]:
    from django.db.models import Count, Q
    from django.utils import timezone

    from openiop.accounts.models import User
    from openiop.accounts.tokens import token_create
    from openiop.attendance.models import AttendanceRecord
    from openiop.enrollment.models import Episode
    from openiop.organizations import demo, demo_large
    from openiop.organizations.models import Organization
    from openiop.scheduling.models import Session

    assert demo.DEMO_PASSWORD == PASSWORD, "the demo password changed: update bench/web.py"
    slug, username = (
        (demo.ORG_SLUG, "director") if dataset == "small" else (demo_large.ORG_SLUG, "gl.director")
    )
    org = Organization.objects.get(slug=slug)
    user = User.objects.get(username=username)
    _, token = token_create(user=user, name="bench/web.py")
    fhir_token = None
    try:
        from openiop.fhir.services import fhir_client_create

        _, fhir_token = fhir_client_create(
            actor=None, organization=org, name="bench/web.py", kind="user",
            scopes="user/*.rs", user=user,
        )  # fmt: skip
    except ImportError:
        pass
    # Today's (site time) sessions with bookings, else the latest ones; the roster page opens the
    # biggest; check-ins go to all of them.
    booked = Session.objects.for_org(org.pk).annotate(n=Count("attendance")).filter(n__gt=0)
    booked = booked.exclude(status="cancelled")
    now = timezone.now()
    near = (now - dt.timedelta(hours=14), now + dt.timedelta(hours=14))
    today = list(booked.filter(starts_at__range=near).order_by("-n")[:6])
    started = [x for x in today if x.starts_at <= now]  # check-ins need a started session
    past = list(booked.filter(starts_at__lte=now).order_by("-starts_at")[:6])
    sessions = today or past
    roster = []
    for session in started or past:
        rows = AttendanceRecord.objects.filter(session=session).select_related("patient")
        roster += [(str(session.public_id), str(r.patient.public_id)) for r in rows]
    episode = (
        Episode.objects.for_org(org.pk)
        .filter(status=Episode.Status.ACTIVE)
        .annotate(n=Count("attendance", filter=Q(attendance__status="present")))
        .select_related("patient", "program")
        .order_by("-n")
        .first()
    )
    assert episode is not None, "no active episode"
    patient = episode.patient
    from openiop.clinical.models import SECTIONS

    local = timezone.localdate()
    monday = local - dt.timedelta(days=local.weekday())
    start = max(episode.admitted_on or local, local - dt.timedelta(days=27))
    return {
        "org": org.name,
        "username": username,
        "token": token,
        "fhir_token": fhir_token,
        "session": str(sessions[0].public_id),
        "session_today": bool(today),
        "roster": roster,
        "patient": str(patient.public_id),
        "episode": str(episode.public_id),
        "program": str(episode.program.public_id),
        "week": monday.isoformat(),
        "start": start.isoformat(),
        "end": local.isoformat(),
        "sections": {k: list(v) for k, v in SECTIONS.items()},
        "q": patient.last_name[:3],
        "counts": {
            "patients": patient.__class__.objects.for_org(org.pk).count(),
            "attendance": AttendanceRecord.objects.for_org(org.pk).count(),
        },
    }


# --- HTTP client side --------------------------------------------------------------------------


@dataclass
class Target:
    engine: str
    dataset: str
    url: str
    server: Server
    data: dict[str, Any]
    log_path: Path
    notes: list[str] = field(default_factory=list)
    pages: list[Any] = field(default_factory=list)  # logged-in requests.Session pool
    errors: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # -> [count, sample]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, name: str, status: str, sample: str) -> None:
        with self.lock:
            self.errors.setdefault((name, status), [0, sample])[0] += 1


def _requests() -> Any:
    import requests

    return requests


def login(base: str, username: str) -> Any:
    requests = _requests()
    s = requests.Session()
    page = s.get(base + "/accounts/login/", timeout=60)
    m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert m, "no CSRF token on the login page"
    r = s.post(
        base + "/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": m.group(1)},
        headers={"Referer": base + "/accounts/login/"},
        timeout=60,
        allow_redirects=False,
    )
    if r.status_code != 302:
        raise RuntimeError(f"log-in as {username} failed: {r.status_code}")
    return s


class Client:
    """One simulated user: a logged-in page session plus the API and FHIR tokens."""

    def __init__(self, t: Target, page_session: Any, seed: int) -> None:
        requests = _requests()
        self.t, self.page = t, page_session
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {t.data['token']}"
        self.fhir = requests.Session()
        if t.data["fhir_token"]:
            self.fhir.headers["Authorization"] = f"Bearer {t.data['fhir_token']}"
        self.rng = random.Random(seed)
        self.draft: dict[str, Any] | None = None

    def _url(self, path: str) -> str:
        d = self.t.data
        keys = ("session", "patient", "program", "week", "q", "episode", "start", "end")
        fill = {k: d[k] for k in keys}
        if self.draft:
            fill["note"] = self.draft["id"]
        return self.t.server.base + path.format(**fill)

    def call(self, name: str, spec: tuple[str, str, str]) -> tuple[float, bool]:
        """(seconds, ok) for one request."""
        kind, method, path = spec
        body = None
        url = self._url(path)
        if name.startswith("check-in"):
            session, patient = self.rng.choice(self.t.data["roster"])
            url = self.t.server.base + f"/api/v1/sessions/{session}/attendance"
            status = self.rng.choice(("present", "present", "absent"))
            body = {"entries": [{"patient": patient, "status": status}]}
        elif name.startswith("note autosave"):
            assert self.draft is not None
            text = f"Autosave {self.rng.random():.6f}: participated, shared coping plan."
            body = {"version": self.draft["version"], "sections": {self.draft["section"]: text}}
        session = {"page": self.page, "api": self.api, "fhir": self.fhir}[kind]
        began = time.perf_counter()
        try:
            r = session.request(method, url, json=body, timeout=120, allow_redirects=False)
        except OSError as exc:
            self.t.error(name, "connection", str(exc)[:200])
            return time.perf_counter() - began, False
        took = time.perf_counter() - began
        if not 200 <= r.status_code < 300:
            text = " ".join(r.text.split())
            self.t.error(name, str(r.status_code), text[:160])
        if name.startswith("note autosave") and r.status_code == 200:
            self.draft["version"] = r.json()["version"]
        elif name.startswith("note autosave") and r.status_code == 409:
            self.draft["version"] = r.json().get("current_version") or self.draft["version"]
        return took, 200 <= r.status_code < 300

    def start_draft(self) -> None:
        r = self.api.post(
            self.t.server.base + f"/api/v1/episodes/{self.t.data['episode']}/notes",
            json={"kind": "individual"},
            timeout=120,
        )
        if r.status_code != 201:
            raise RuntimeError(f"could not start a draft note: {r.status_code} {r.text[:200]}")
        note = r.json()
        section = self.t.data["sections"][note["format"]][0]
        self.draft = {"id": note["id"], "version": note["version"], "section": section}


def pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def single_user(t: Target, clients: list[Client], samples: int, warmup: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    c = clients[0]
    extra = [(k, v) for k, v in API_READS.items() if k not in ENDPOINTS]
    for name, spec in [*ENDPOINTS.items(), *extra]:
        if spec[0] == "fhir" and not t.data["fhir_token"]:
            out[name] = None
            continue
        for _ in range(warmup):
            c.call(name, spec)
        times, errors = [], 0
        for _ in range(samples):
            took, ok = c.call(name, spec)
            times.append(took)
            errors += not ok
        out[name] = {"p50": pct(times, 0.5), "p95": pct(times, 0.95), "errors": errors}
        log(f"  {t.engine}/{t.dataset} one user {name}: p95 {out[name]['p95'] * 1000:.0f} ms")
    return out


Spec = tuple[str, str, str]


def closed_loop(
    clients: list[Client], seconds: float, pick: Callable[[Client], tuple[str, Spec]]
) -> dict[str, Any]:
    lock = threading.Lock()
    stats: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    done = threading.Event()

    def work(c: Client) -> None:
        while not done.is_set():
            name, spec = pick(c)
            took, ok = c.call(name, spec)
            with lock:
                stats.setdefault(name, []).append(took)
                if not ok:
                    errors[name] = errors.get(name, 0) + 1

    threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in clients]
    began = time.perf_counter()
    for th in threads:
        th.start()
    time.sleep(seconds)
    done.set()
    for th in threads:
        th.join()
    wall = time.perf_counter() - began
    total = sum(len(v) for v in stats.values())
    every = [x for v in stats.values() for x in v]
    return {
        "wall": wall,
        "requests": total,
        "rps": total / wall,
        "p50": pct(every, 0.5),
        "p95": pct(every, 0.95),
        "errors": sum(errors.values()),
        "by_name": {
            k: {"n": len(v), "p95": pct(v, 0.95), "errors": errors.get(k, 0)}
            for k, v in stats.items()
        },
    }


def framework(t: Target, clients: list[Client], seconds: float, threads: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in API_READS.items():
        if spec[0] == "fhir" and not t.data["fhir_token"]:
            out[name] = None
            continue
        res = closed_loop(clients[:threads], seconds, lambda c, n=name, s=spec: (n, s))
        out[name] = {"rps": res["rps"], "errors": res["errors"]}
        log(f"  {t.engine}/{t.dataset} framework {name}: {res['rps']:.1f} req/s")
    return out


def mixed_pick(t: Target) -> Callable[[Client], tuple[str, tuple[str, str, str]]]:
    reads = [n for n in READS if ENDPOINTS[n][0] != "fhir" or t.data["fhir_token"]]

    def pick(c: Client) -> tuple[str, tuple[str, str, str]]:
        x = c.rng.random()
        if x < 0.70:
            name = c.rng.choice(reads)
        elif x < 0.90:
            name = "check-in (POST)"
        else:
            name = "note autosave (PATCH)"
        return name, ENDPOINTS[name]

    return pick


def locked_in_log(path: Path, since: int) -> int:
    with open(path, "rb") as f:
        f.seek(since)
        return f.read().count(b"database is locked")


def worker_rss_mb(master: int) -> tuple[float, int]:
    """(largest worker VmRSS in MB, number of workers)."""
    rss = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parts = stat.read_text().rsplit(")", 1)[1].split()
            if int(parts[1]) != master:
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        m = re.search(r"VmRSS:\s+(\d+) kB", status)
        if m:
            rss.append(int(m.group(1)) / 1024)
    return (max(rss) if rss else float("nan")), len(rss)


# --- preparing the databases -------------------------------------------------------------------


def _cli(env: dict[str, str], *args: str, capture: bool = False) -> str:
    r = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "openiop.cli", *args],
        cwd=REPO, env=env, check=True, capture_output=capture, text=True,
    )  # fmt: skip
    return r.stdout if capture else ""


def _info(env: dict[str, str], dataset: str) -> dict[str, Any]:
    r = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "_info", dataset],
        cwd=REPO, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(r.stdout.strip().splitlines()[-1])


def pg_scratch(url: str, dataset: str) -> tuple[str, Callable[[], None]]:
    """A scratch database ``openiop_web_<pid>_<dataset>`` on the server ``url`` names (as
    crash.py's, but one per data set); returns its URL and a function that drops it."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    name = f"openiop_web_{os.getpid()}_{dataset}"
    params = {"dbname": "postgres", "user": cfg.get("USER"), "password": cfg.get("PASSWORD")}
    params |= {"host": cfg.get("HOST"), "port": cfg.get("PORT")}
    params = {k: v for k, v in params.items() if v}
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.rsplit("/", 1)[0] + "/" + name, drop


def copy_sqlite(src: Path, dst: Path) -> None:
    a, b = sqlite3.connect(f"file:{src}?mode=ro", uri=True), sqlite3.connect(dst)
    a.backup(b)
    b.execute("PRAGMA journal_mode=WAL")
    a.close()
    b.close()


def prepare(
    engine: str, dataset: str, work: Path, opts: argparse.Namespace, cleanups: list[Any]
) -> tuple[str, str] | None:
    """The database URL for one (engine, data set), built or copied; None to skip it."""
    if engine == "SQLite":
        db = work / f"{dataset}.sqlite3"
        if dataset == "small":
            migrated_sqlite(db)
            _cli(_python_env(f"sqlite:///{db}"), "demo", "-v0", capture=True)
            return f"sqlite:///{db}", "fresh openiop demo"
        src = Path(opts.large_db)
        if src.exists():
            log(f"copying {src} ({src.stat().st_size / 1e6:.0f} MB) to {db}")
            copy_sqlite(src, db)
            return f"sqlite:///{db}", f"copy of {src}"
        if opts.fallback_patients <= 0:
            return None
        log(f"{src} is absent: building --scale large --patients {opts.fallback_patients}")
        migrated_sqlite(db)
        _cli(_python_env(f"sqlite:///{db}"), "demo", "--scale", "large", "--patients",
             str(opts.fallback_patients), "-v0", capture=True)  # fmt: skip
        return f"sqlite:///{db}", f"{src} absent: built with --patients {opts.fallback_patients}"
    url, drop = pg_scratch(opts.pg, dataset)
    cleanups.append(drop)
    env = _python_env(url)
    _cli(env, "migrate", "-v0")
    if dataset == "small":
        _cli(env, "demo", "-v0", capture=True)
        return url, "fresh openiop demo"
    _cli(env, "demo", "--scale", "large", "--patients", str(opts.pg_large_patients), "-v0",
         capture=True)  # fmt: skip
    return url, f"openiop demo --scale large --patients {opts.pg_large_patients}"


# --- the run -----------------------------------------------------------------------------------


def measure(t: Target, opts: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"data": t.data, "notes": t.notes}
    users = max(opts.users)
    log(f"{t.engine}/{t.dataset}: logging {users} users in")
    pool = [login(t.server.base, t.data["username"]) for _ in range(users)]
    clients = [Client(t, pool[i], seed=i) for i in range(users)]
    for c in clients:
        c.start_draft()
    result["single"] = single_user(t, clients, opts.samples, opts.warmup)
    result["framework"] = framework(t, clients, opts.ratio_seconds, opts.workers)
    result["load"] = {}
    for n in opts.users:
        offset = t.log_path.stat().st_size if t.log_path.exists() else 0
        log(f"{t.engine}/{t.dataset}: mixed load, {n} users, {opts.duration:.0f} s")
        res = closed_loop(clients[:n], opts.duration, mixed_pick(t))
        res["locked"] = locked_in_log(t.log_path, offset) if t.log_path.exists() else 0
        assert t.server.proc is not None
        res["rss_mb"], res["workers"] = worker_rss_mb(t.server.proc.pid)
        result["load"][n] = res
        log(f"  {res['rps']:.1f} req/s, p95 {res['p95'] * 1000:.0f} ms, {res['errors']} errors")
    result["errors"] = [[n, st, c, sample] for (n, st), (c, sample) in sorted(t.errors.items())]
    return result


def run(opts: argparse.Namespace) -> dict[Any, Any]:
    engines = ([] if opts.skip_sqlite else ["SQLite"]) + (["PostgreSQL"] if opts.pg else [])
    datasets = ["small"] + ([] if opts.no_large else ["large"])
    work = Path(tempfile.mkdtemp(prefix="openiop-web-"))
    cleanups: list[Any] = []
    results: dict[Any, Any] = {}
    try:
        for engine in engines:
            for dataset in datasets:
                log(f"preparing {engine}/{dataset}")
                began = time.monotonic()
                prepared = prepare(engine, dataset, work, opts, cleanups)
                if prepared is None:
                    results[(engine, dataset)] = None
                    continue
                url, origin = prepared
                env = _python_env(url)
                data = _info(env, dataset)
                log_path = work / f"gunicorn-{engine}-{dataset}.log"
                server = Server(env, opts.workers, log_path)
                t = Target(engine, dataset, url, server, data, log_path)
                t.notes.append(f"{origin}; prepared in {time.monotonic() - began:.0f} s")
                if not data["session_today"]:
                    t.notes.append("no session today: the latest booked sessions were used")
                if not data["fhir_token"]:
                    t.notes.append("no FHIR client service: FHIR not measured")
                server.start(timeout=120)
                try:
                    results[(engine, dataset)] = measure(t, opts)
                finally:
                    server.stop()
    finally:
        for drop in cleanups:
            try:
                drop()
            except Exception as exc:  # noqa: BLE001 (report and go on cleaning)
                log(f"could not drop a scratch database: {exc}")
        if opts.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return results


# --- printing ----------------------------------------------------------------------------------


def ms(x: float | None) -> str:
    return "-" if x is None or x != x else f"{x * 1000:.0f}"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or not b or a != a or b != b:
        return "-"
    return f"{a / b:.2f}"


def report(results: dict[Any, Any], opts: argparse.Namespace, out: Any = None) -> list[str]:
    out = out or sys.stdout
    w = lambda s="": print(s, file=out)  # noqa: E731
    keys = [k for k, v in results.items() if v is not None]
    w(f"bench/web.py: gunicorn -w {opts.workers} (sync), {opts.samples} sequential requests "
      f"per endpoint after {opts.warmup} warm-up, mixed load {opts.duration:.0f} s per level, "
      f"{os.cpu_count()} CPUs")  # fmt: skip
    w("NOTE: measured on a machine shared with other work: numbers are noisy upper bounds.")
    for k, v in results.items():
        if v is None:
            w(f"  {k[0]}/{k[1]}: NOT RUN (no large database; see --large-db)")
            continue
        c = v["data"]["counts"]
        w(f"  {k[0]}/{k[1]}: {v['data']['org']} ({c['patients']:,} patients, "
          f"{c['attendance']:,} attendance records): {'; '.join(v['notes'])}")  # fmt: skip
    w()
    names = [*ENDPOINTS, *[n for n in API_READS if n not in ENDPOINTS]]
    # one user
    head = f"{'one user (ms)':<32}" + "".join(f"{k[0][:6] + '/' + k[1]:>22}" for k in keys)
    w(head + f"{'growth p95':>18}")
    w("  (* = some of these answers were errors, so the times are not the page's; see below)")
    w(f"{'':<32}" + "".join(f"{'p50':>11}{'p95':>11}" for _ in keys))
    growth: dict[str, dict[str, str]] = {}
    for n in names:
        row = f"{n:<32}"
        for k in keys:
            s = results[k]["single"].get(n)
            bad = "*" if s and s["errors"] else ""  # timings of error answers
            row += f"{ms(s and s['p50']) + bad:>11}{ms(s and s['p95']) + bad:>11}"
        g = []
        for engine in ("SQLite", "PostgreSQL"):
            a = results.get((engine, "large"))
            b = results.get((engine, "small"))
            if a and b and a["single"].get(n) and b["single"].get(n):
                r = ratio(a["single"][n]["p95"], b["single"][n]["p95"])
                if a["single"][n]["errors"] or b["single"][n]["errors"]:
                    r += "*"  # error answers on one side: not comparable
                growth.setdefault(engine, {})[n] = r
                g.append(r)
        w(row + f"{' / '.join(g) or '-':>18}")
    w()
    # framework
    w(f"{'framework ratio (req/s)':<32}" + "".join(f"{k[0][:6] + '/' + k[1]:>22}" for k in keys))
    w(f"{'':<32}" + "".join(f"{'req/s':>11}{'ratio':>11}" for _ in keys))
    fw_bad: list[str] = []
    for n in API_READS:
        row = f"{n:<32}"
        for k in keys:
            f = results[k]["framework"].get(n)
            base = results[k]["framework"].get(TRIVIAL)
            r = ratio(f and f["rps"], base and base["rps"])
            rps = f"{f['rps']:.1f}" if f else "-"
            row += f"{rps:>11}{r:>11}"
            if n != TRIVIAL and r != "-" and float(r) < TARGET_FRAMEWORK:
                fw_bad.append(f"{k[0]}/{k[1]} {n} {r}")
        w(row)
    w()
    # load
    w(f"{'mixed load (70/20/10)':<24}{'users':>6}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}"
      f"{'requests':>9}{'errors':>7}{'locked':>7}{'worker MB':>10}")  # fmt: skip
    for k in keys:
        for n, r in results[k]["load"].items():
            w(f"{k[0] + '/' + k[1]:<24}{n:>6}{r['rps']:>8.1f}{ms(r['p50']):>8}{ms(r['p95']):>8}"
              f"{r['requests']:>9}{r['errors']:>7}{r['locked']:>7}"
              f"{r['rss_mb']:>10.0f}")  # fmt: skip
    top = max(opts.users)
    w()
    w(f"p95 ms per endpoint under the {top}-user mixed load (errors in brackets)")
    w(f"{'':<32}" + "".join(f"{k[0][:6] + '/' + k[1]:>22}" for k in keys))
    for n in ENDPOINTS:
        row = f"{n:<32}"
        for k in keys:
            b = results[k]["load"][top]["by_name"].get(n)
            cell = f"{ms(b['p95'])} [{b['errors']}]" if b else "-"
            row += f"{cell:>22}"
        w(row)
    w()
    w("failed requests, all phases (endpoint, status, count, first answer)")
    failures = [(k, e) for k in keys for e in results[k]["errors"]]
    for k, (n, st, c, sample) in failures:
        w(f"  {k[0]}/{k[1]:<7} {n:<24} {st:>10} {c:>6}  {sample[:90]}")
    if not failures:
        w("  none")
    # SQLite / PostgreSQL
    if any(k[0] == "PostgreSQL" for k in keys) and any(k[0] == "SQLite" for k in keys):
        w()
        w(f"{'SQLite / PostgreSQL':<32}{'p95 small':>12}{'p95 large':>12}")
        for n in names:
            row = f"{n:<32}"
            for d in ("small", "large"):
                a, b = results.get(("SQLite", d)), results.get(("PostgreSQL", d))
                sa = a and a["single"].get(n)
                sb = b and b["single"].get(n)
                row += f"{ratio(sa and sa['p95'], sb and sb['p95']):>12}"
            w(row)
        for n in opts.users:
            row = f"{f'mixed req/s, {n} users':<32}"
            for d in ("small", "large"):
                a, b = results.get(("SQLite", d)), results.get(("PostgreSQL", d))
                row += f"{ratio(a and a['load'][n]['rps'], b and b['load'][n]['rps']):>12}"
            w(row)
    # targets
    w()
    lines = []

    def verdict(ok: bool | None, text: str, detail: str) -> None:
        tag = "NOT MEASURED" if ok is None else ("MET" if ok else "NOT MET")
        lines.append(f"{tag:>12}  {text}  [{detail}]")

    for engine in ("SQLite", "PostgreSQL"):
        g = growth.get(engine)
        if not g:
            if any(k[0] == engine for k in keys):
                text = f"{engine}: growth p95 large/small <= {TARGET_GROWTH}"
                verdict(None, text, "no large run")
            continue
        pages = [n for n in ENDPOINTS if n in g]
        bad = {n: g[n] for n in pages if "*" not in g[n] and g[n] != "-"
               and float(g[n]) > TARGET_GROWTH}  # fmt: skip
        unknown = [n for n in pages if "*" in g[n] or g[n] == "-"]
        detail = ", ".join(f"{n} {r}" for n, r in bad.items()) or "all within"
        if unknown:
            detail += "; not comparable (error answers): " + ", ".join(unknown)
        ok = None if unknown and not bad else not bad
        verdict(ok, f"{engine}: growth p95 large/small <= {TARGET_GROWTH} for every key page",
                detail)  # fmt: skip
    verdict(not fw_bad, f"framework ratio >= {TARGET_FRAMEWORK} for every key API read",
            ", ".join(fw_bad) or "all at or above")  # fmt: skip
    for k in keys:
        r = results[k]["load"].get(top)
        if r is None:
            continue
        name = f"{k[0]}/{k[1]}"
        verdict(r["errors"] == 0 and r["locked"] == 0, f"{name}: zero errors and zero locks at "
                f"{top} users", f"{r['errors']} errors, {r['locked']} locked")  # fmt: skip
        verdict(r["p95"] * 1000 < TARGET_P95_MS, f"{name}: p95 < {TARGET_P95_MS:.0f} ms at "
                f"{top} users", f"{ms(r['p95'])} ms")  # fmt: skip
        worst = max(x["rss_mb"] for x in results[k]["load"].values())
        verdict(worst < TARGET_RSS_MB, f"{name}: worker memory < {TARGET_RSS_MB:.0f} MB",
                f"largest worker {worst:.0f} MB")  # fmt: skip
    if not opts.pg:
        verdict(None, "PostgreSQL targets", "no --pg URL given")
    for line in lines:
        w(line)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["_info"]:
        _django()
        print(json.dumps(info(args[1])))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--large-db", default=DEFAULT_LARGE_DB,
                   help=f"an `openiop demo --scale large` SQLite file (copied; default "
                   f"{DEFAULT_LARGE_DB})")  # fmt: skip
    p.add_argument("--fallback-patients", type=int, default=2000,
                   help="when --large-db is absent, build a large organization of this many "
                   "patients instead (0: skip the large column)")  # fmt: skip
    p.add_argument("--no-large", action="store_true", help="small demo only")
    p.add_argument("--pg", default=None, help="postgres://... server for the PostgreSQL runs "
                   "(scratch databases are created next to the one named and dropped)")  # fmt: skip
    p.add_argument("--pg-large-patients", type=int, default=20000)
    p.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL runs only (with --pg)")
    p.add_argument("--duration", type=float, default=600.0, help="seconds per load level")
    p.add_argument("--users", default="16,50", help="concurrent users per level (default 16,50)")
    p.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    p.add_argument("--samples", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--ratio-seconds", type=float, default=10.0)
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--json", default=None, help="also write the raw results here")
    opts = p.parse_args(args)
    opts.users = [int(x) for x in opts.users.split(",")]
    results = run(opts)
    lines = report(results, opts)
    if opts.json:
        raw = {f"{k[0]}/{k[1]}": v for k, v in results.items()}
        Path(opts.json).write_text(json.dumps(raw, indent=1, default=str))
    return 0 if not any(line.lstrip().startswith("NOT MET") for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
