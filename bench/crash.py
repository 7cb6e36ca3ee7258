"""Crash test: kill -9 the server while clients check patients in; nothing acknowledged is lost.

    .venv/bin/python bench/crash.py [--rounds 30] [--clients 8] [--patients 30] [--workers 2]

Builds a small clinic in a fresh database (a temporary SQLite file; with DATABASE_URL=postgres://
a scratch database created next to the one it names, dropped at the end), starts gunicorn on it,
and then, every round: K client threads POST single check-ins to
``/api/v1/sessions/<id>/attendance`` (a quarter of them are re-sent at once, as a client does when
a response is lost), the whole server process group gets SIGKILL at a random moment, the server
is started again, and a checker process verifies that

* every check-in answered 200 is in the database (status present, the check-in time sent),
* no patient has two attendance rows for one session, and re-sending acknowledged check-ins to
  the restarted server changes nothing,
* ``PRAGMA integrity_check`` says ok (SQLite), and the audit chain verifies.

Prints one line per round and a summary; exit status 1 if anything was lost or broken.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SESSIONS_PER_ROUND = 2
RESEND_SHARE = 0.25


# --- inside a Django process (world building, checking) ----------------------------------------


def _django() -> None:
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    import django

    django.setup()


def build_world(patients: int, sessions: int) -> dict[str, Any]:
    """One organization, site, program, a front-desk user with an API token, ``patients``
    admitted patients booked into ``sessions`` sessions that are under way now."""
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from openiop.accounts.models import User
    from openiop.accounts.permissions import Role
    from openiop.accounts.tokens import token_create
    from openiop.attendance.models import AttendanceRecord
    from openiop.enrollment.services import episode_create
    from openiop.organizations.models import Organization, Program, Site
    from openiop.patients.services import patient_create
    from openiop.scheduling.services import session_create

    with transaction.atomic():
        org = Organization.objects.create(name="Crash Test Recovery", slug="crash-test")
        site = Site.objects.create(organization=org, name="Main", timezone="America/New_York")
        program = Program.objects.create(
            organization=org,
            site=site,
            name="Adult IOP",
            cohort=Program.Cohort.EVENING,
            weekly_min_hours=Decimal("9.0"),
            weekly_max_hours=Decimal("19.0"),
            min_days_per_week=3,
            group_size_cap=patients + 10,
        )
        user = User.objects.create_user(
            username="frontdesk", password=None, organization=org, first_name="Front"
        )
        from django.contrib.auth.models import Group

        group, _ = Group.objects.get_or_create(name=Role.FRONT_DESK.value)
        user.groups.add(group)
        _, raw = token_create(user=user, name="crash test")
        admitted = site.today() - dt.timedelta(days=1)
        episodes = []
        for i in range(patients):
            patient = patient_create(
                actor=None,
                organization=org,
                first_name=f"Pat{i:03d}",
                last_name="Crash",
                date_of_birth=dt.date(1980, 1, 1) + dt.timedelta(days=97 * i),
            )
            episodes.append(
                episode_create(actor=None, patient=patient, program=program, admitted_on=admitted)
            )
        now = timezone.now().replace(microsecond=0)
        ids = []
        for s in range(sessions):
            session = session_create(
                actor=None,
                program=program,
                title=f"Group {s}",
                starts_at=now - dt.timedelta(minutes=20),
                ends_at=now + dt.timedelta(minutes=160),
                capacity=patients + 10,
            )
            AttendanceRecord.objects.bulk_create(  # bookings: EXPECTED rows, as session_book
                AttendanceRecord(organization=org, session=session, patient=e.patient, episode=e)
                for e in episodes
            )
            ids.append(str(session.public_id))
    return {
        "token": raw,
        "sessions": ids,
        "patients": [str(e.patient.public_id) for e in episodes],
        "starts_at": (now - dt.timedelta(minutes=20)).isoformat(),
    }


def check(acked: Sequence[Sequence[str]], sessions: Sequence[str]) -> dict[str, Any]:
    """What the database holds for the acknowledged check-ins [session, patient, checked_in_at]."""
    from django.db import connection
    from django.db.models import Count

    from openiop.attendance.models import AttendanceRecord
    from openiop.core.audit import audit_verify

    rows = AttendanceRecord.objects.filter(session__public_id__in=sessions).values_list(
        "session__public_id", "patient__public_id", "status", "checked_in_at"
    )
    held: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    for session, patient, status, checked_in in rows:
        held.setdefault((str(session), str(patient)), []).append((status, checked_in))
    present = lost = 0
    for session, patient, checked_in_at in acked:
        want = dt.datetime.fromisoformat(checked_in_at)
        if any(s == "present" and c == want for s, c in held.get((session, patient), [])):
            present += 1
        else:
            lost += 1
    dupes = (
        AttendanceRecord.objects.filter(session__public_id__in=sessions)
        .values("session", "patient")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    checked_in = sum(1 for v in held.values() for s, _ in v if s == "present")
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA integrity_check")
            integrity = "; ".join(str(r[0]) for r in cur.fetchall())
    else:
        integrity = "n/a"  # PostgreSQL: no cheap whole-database check; amcheck is separate
    chain = audit_verify()
    connection.close()
    return {
        "present": present,
        "lost": lost,
        "duplicates": dupes,
        "checked_in": checked_in,
        "integrity": integrity,
        "audit_ok": chain.ok,
        "audit_rows": chain.checked,
        "audit_problem": chain.problem,
    }


def write_until(world: dict[str, Any], stop: Path) -> int:
    """Keep checking the world's patients in and out (audited service calls, one transaction
    each) until ``stop`` exists: the load a backup has to be consistent under."""
    from openiop.accounts.models import User
    from openiop.attendance.services import AttendanceEntry, attendance_record
    from openiop.patients.models import Patient
    from openiop.scheduling.models import Session

    user = User.objects.get(username="frontdesk")
    sessions = list(Session.objects.filter(public_id__in=world["sessions"]))
    patients = list(Patient.objects.filter(public_id__in=world["patients"]))
    written = 0
    while not stop.exists():
        session = sessions[written % len(sessions)]
        patient = patients[(written // len(sessions)) % len(patients)]
        status = "present" if (written // (len(sessions) * len(patients))) % 2 == 0 else "absent"
        entry = AttendanceEntry(patient=patient, status=status)
        attendance_record(actor=user, session=session, entries=[entry])
        written += 1
        if written == 1:
            print("writing", flush=True)
    return written


def _serve_checks() -> None:
    """A checker process: one JSON request per stdin line, one JSON answer per stdout line."""
    _django()
    for line in sys.stdin:
        request = json.loads(line)
        print(json.dumps(check(request["acked"], request["sessions"])), flush=True)


# --- the driver --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _python_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["DJANGO_SETTINGS_MODULE"] = "openiop.settings"
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("LOG_LEVEL", "ERROR")
    return env


def _migrations_key() -> str:
    import hashlib
    from importlib import metadata

    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(REPO.glob("openiop/*/migrations/*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    for dist in sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions()):
        digest.update(dist.encode())
    return digest.hexdigest()[:16]


def migrated_sqlite(target: Path) -> None:
    """A freshly migrated SQLite database at ``target``. Migrating takes a while, so the result is
    kept as a template in the temporary directory, keyed by the migrations and installed
    packages, and copied (online backup API) on the next call."""
    import sqlite3

    template = Path(tempfile.gettempdir()) / f"openiop-migrated-{_migrations_key()}.sqlite3"
    if not template.exists():
        fresh = template.with_suffix(f".{os.getpid()}.tmp")
        env = _python_env(f"sqlite:///{fresh}")
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "openiop.cli", "migrate", "-v0"], cwd=REPO, env=env, check=True
        )
        single = sqlite3.connect(fresh)
        single.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        single.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        single.close()
        os.replace(fresh, template)  # atomic: parallel test workers never see half a file
    src = sqlite3.connect(template)
    dst = sqlite3.connect(target)
    src.backup(dst)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.close()
    src.close()


class Server:
    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.env, self.workers, self.log = env, workers, log
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> float:
        began = time.monotonic()
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        argv = [gunicorn, "openiop.wsgi", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}"]
        argv += ["--timeout", "60", "--log-level", "warning"]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 (fixed argv)
                argv, cwd=REPO, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        while time.monotonic() - began < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log}")
            try:
                urllib.request.urlopen(self.base + "/api/v1/openapi.json", timeout=5).read()  # noqa: S310
                return time.monotonic() - began
            except urllib.error.HTTPError:
                return time.monotonic() - began  # a worker answered
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s; see {self.log}")

    def kill(self) -> None:
        """SIGKILL the whole process group: master and workers, mid-request, no clean-up."""
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _post(base: str, token: str, session: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 (our own server)
        f"{base}/api/v1/sessions/{session}/attendance",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()[:300]


@dataclass
class Round:
    number: int
    kill_after: float
    sent: int = 0
    acked: list[tuple[str, str, str]] = field(default_factory=list)
    resent: int = 0
    resend_changed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    restart_s: float = 0.0

    @property
    def ok(self) -> bool:
        r = self.result
        return (
            r.get("lost") == 0
            and r.get("duplicates") == 0
            and str(r.get("integrity", "")).startswith(("ok", "n/a"))
            and bool(r.get("audit_ok"))
            and self.resend_changed == 0
        )


def _clients(
    server: Server, token: str, jobs: queue.Queue[tuple[str, str, str]], rnd: Round, k: int
) -> list[threading.Thread]:
    lock = threading.Lock()
    stop = threading.Event()

    def note_error(kind: str) -> None:
        with lock:
            rnd.errors[kind] = rnd.errors.get(kind, 0) + 1

    def work(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            try:
                job = jobs.get_nowait()
            except queue.Empty:
                return
            session, patient, at = job
            body = {"entries": [{"patient": patient, "status": "present", "checked_in_at": at}]}
            with lock:
                rnd.sent += 1
            try:
                status, answer = _post(server.base, token, session, body)
            except OSError:  # the server died under us: outcome unknown, never acknowledged
                note_error("connection")
                stop.set()
                return
            if status != 200:
                note_error(f"http {status}")
                continue
            with lock:
                rnd.acked.append(job)
            if rng.random() < RESEND_SHARE:  # the response "was lost": send it again
                try:
                    status, again = _post(server.base, token, session, body)
                except OSError:
                    note_error("connection")
                    stop.set()
                    return
                with lock:
                    rnd.resent += 1
                    if status == 200 and again["records"][0]["changed"]:
                        rnd.resend_changed += 1

    threads = [threading.Thread(target=work, args=(rnd.number * 1000 + i,)) for i in range(k)]
    for t in threads:
        t.start()
    return threads


def _resend_after_restart(server: Server, token: str, rnd: Round, rng: random.Random) -> None:
    """A client retrying after the crash: acknowledged check-ins must come back unchanged."""
    for session, patient, at in rng.sample(rnd.acked, min(5, len(rnd.acked))):
        body = {"entries": [{"patient": patient, "status": "present", "checked_in_at": at}]}
        status, answer = _post(server.base, token, session, body)
        rnd.resent += 1
        if status != 200 or answer["records"][0]["changed"]:
            rnd.resend_changed += 1


def _pg_scratch(url: str) -> tuple[str, Any]:
    """A scratch database on the server ``url`` names (created from the ``postgres`` maintenance
    database); returns its URL and a function that drops it."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    name = f"openiop_crash_{os.getpid()}"
    params = {"dbname": "postgres", "user": cfg.get("USER") or None}
    params |= {"password": cfg.get("PASSWORD") or None, "host": cfg.get("HOST") or None}
    params |= {"port": cfg.get("PORT") or None}
    params = {k: v for k, v in params.items() if v}
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.rsplit("/", 1)[0] + "/" + name, drop


def run(
    *,
    rounds: int = 30,
    clients: int = 8,
    patients: int = 60,
    workers: int = 2,
    seed: int = 12,
    kill_window: tuple[float, float] = (0.3, 2.0),
    database_url: str | None = None,
    out: Any = None,
) -> list[Round]:
    """Run the crash rounds and return them; prints the table to ``out`` (stdout by default)."""
    out = out or sys.stdout
    rng = random.Random(seed)
    url = database_url if database_url is not None else os.environ.get("DATABASE_URL", "")
    drop = None
    if url.startswith(("postgres://", "postgresql://")):
        url, drop = _pg_scratch(url)
        engine = "PostgreSQL"
    work = Path(tempfile.mkdtemp(prefix="openiop-crash-"))
    if drop is None:
        url = f"sqlite:///{work / 'crash.sqlite3'}"
        engine = "SQLite (WAL, synchronous=FULL)"
    env = _python_env(url)
    server = Server(env, workers, work / "gunicorn.log")
    checker = None
    done: list[Round] = []
    try:
        began = time.monotonic()
        if drop is None:
            migrated_sqlite(work / "crash.sqlite3")
        else:
            subprocess.run(  # noqa: S603
                [sys.executable, "-m", "openiop.cli", "migrate", "-v0"],
                cwd=REPO,
                env=env,
                check=True,
            )
        built = subprocess.run(  # noqa: S603
            [sys.executable, __file__, "_world", str(patients), str(rounds * SESSIONS_PER_ROUND)],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        world = json.loads(built.stdout.strip().splitlines()[-1])
        checker = subprocess.Popen(  # noqa: S603
            [sys.executable, __file__, "_check"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        print(
            f"crash test: {engine}, gunicorn -w {workers}, {clients} clients, "
            f"{patients} patients x {SESSIONS_PER_ROUND} sessions per round "
            f"(set-up {time.monotonic() - began:.1f} s)",
            file=out,
        )
        header = (
            f"{'round':>5} {'kill@s':>6} {'sent':>5} {'acked':>5} {'present':>7} {'lost':>4} "
            f"{'dupes':>5} {'resent':>6} {'unacked-saved':>13} {'integrity':>9} "
            f"{'audit chain':>14} {'restart':>7}"
        )
        print(header, file=out)
        server.start()
        start_at = dt.datetime.fromisoformat(world["starts_at"])
        for number in range(1, rounds + 1):
            rnd = Round(number, round(rng.uniform(*kill_window), 2))
            first = (number - 1) * SESSIONS_PER_ROUND
            round_sessions = world["sessions"][first : first + SESSIONS_PER_ROUND]
            jobs: queue.Queue[tuple[str, str, str]] = queue.Queue()
            pairs = [(s, p) for s in round_sessions for p in world["patients"]]
            rng.shuffle(pairs)
            for s, p in pairs:
                at = start_at + dt.timedelta(
                    minutes=rng.randrange(0, 30), seconds=rng.randrange(60)
                )
                jobs.put((s, p, at.isoformat()))
            threads = _clients(server, world["token"], jobs, rnd, clients)
            time.sleep(rnd.kill_after)
            server.kill()
            for t in threads:
                t.join()
            rnd.restart_s = server.start()
            _resend_after_restart(server, world["token"], rnd, rng)
            assert checker.stdin is not None and checker.stdout is not None
            checker.stdin.write(json.dumps({"acked": rnd.acked, "sessions": round_sessions}) + "\n")
            checker.stdin.flush()
            rnd.result = json.loads(checker.stdout.readline())
            done.append(rnd)
            r = rnd.result
            chain = f"{'ok' if r['audit_ok'] else 'BROKEN'} {r['audit_rows']}"
            print(
                f"{number:>5} {rnd.kill_after:>6.2f} {rnd.sent:>5} {len(rnd.acked):>5} "
                f"{r['present']:>7} {r['lost']:>4} {r['duplicates']:>5} {rnd.resent:>6} "
                f"{r['checked_in'] - r['present']:>13} {r['integrity']:>9} {chain:>14} "
                f"{rnd.restart_s:>6.1f}s",
                file=out,
                flush=True,
            )
        acked = sum(len(r.acked) for r in done)
        lost = sum(r.result["lost"] for r in done)
        dupes = sum(r.result["duplicates"] for r in done)
        bad = [r.number for r in done if not r.ok]
        print(
            f"summary: {len(done)} rounds, {sum(r.sent for r in done)} check-ins sent, "
            f"{acked} acknowledged, {lost} lost, {dupes} duplicates, "
            f"{sum(r.resent for r in done)} re-sent ({sum(r.resend_changed for r in done)} "
            f"changed something), rounds failing: {bad or 'none'} "
            f"({time.monotonic() - began:.0f} s)",
            file=out,
        )
    finally:
        server.stop()
        if checker is not None:
            if checker.stdin is not None:
                checker.stdin.close()
            checker.wait(timeout=30)
        if drop is not None:
            drop()
        shutil.rmtree(work, ignore_errors=True)
    return done


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["_world"]:
        _django()
        print(json.dumps(build_world(int(args[1]), int(args[2]))))
        return 0
    if args[:1] == ["_write"]:
        _django()
        print(f"wrote {write_until(json.loads(Path(args[1]).read_text()), Path(args[2]))}")
        return 0
    if args[:1] == ["_check"]:
        _serve_checks()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--patients", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--database-url", default=None, help="default: $DATABASE_URL or SQLite")
    opts = parser.parse_args(args)
    rounds = run(
        rounds=opts.rounds,
        clients=opts.clients,
        patients=opts.patients,
        workers=opts.workers,
        seed=opts.seed,
        database_url=opts.database_url,
    )
    return 0 if rounds and all(r.ok for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
