"""``openiop backup`` / ``openiop restore``: a round trip under load restores the same rows.

The test database is in memory (SQLite) or inside a transaction (PostgreSQL), neither of which
another process can back up, so these tests build their own file database (or scratch
PostgreSQL databases) and drive the real commands in subprocesses, as an operator would.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bench.crash import REPO, _python_env, migrated_sqlite
from openiop.core.backup import (
    BackupError,
    Manifest,
    NeedsConfirmation,
    TableState,
    backup,
    restore,
    sqlite_manifest,
)

CRASH = str(REPO / "bench" / "crash.py")


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own interpreter and command)
        [sys.executable, "-m", "openiop.cli", *args],
        cwd=REPO,
        env=_python_env(url),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def build_world(url: str, tmp_path: Path, patients: int = 12, sessions: int = 3) -> Path:
    done = subprocess.run(  # noqa: S603
        [sys.executable, CRASH, "_world", str(patients), str(sessions)],
        cwd=REPO,
        env=_python_env(url),
        capture_output=True,
        text=True,
        check=True,
    )
    world = tmp_path / "world.json"
    world.write_text(done.stdout.strip().splitlines()[-1])
    return world


def manifest_in(path: Path) -> Manifest:
    with tarfile.open(path) as tar:
        raw = tar.extractfile("manifest.json")
        assert raw is not None
        return Manifest.from_json(raw.read().decode())


def count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def sqlite_settings(path: Path) -> dict[str, object]:
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}


@pytest.fixture(scope="module")
def clinic_db(tmp_path_factory) -> tuple[Path, Path]:
    """A migrated SQLite file with a small clinic in it, built once: (database, world.json)."""
    where = tmp_path_factory.mktemp("clinic")
    db = where / "clinic.sqlite3"
    migrated_sqlite(db)
    return db, build_world(f"sqlite:///{db}", where)


@pytest.fixture
def live_db(clinic_db, tmp_path: Path) -> tuple[Path, Path]:
    """This test's own copy of the clinic."""
    db = tmp_path / "live.sqlite3"
    src, dst = sqlite3.connect(clinic_db[0]), sqlite3.connect(db)
    src.backup(dst)
    dst.close()
    src.close()
    return db, clinic_db[1]


def test_sqlite_round_trip_while_patients_are_checked_in(live_db, tmp_path):
    db, world = live_db
    url = f"sqlite:///{db}"
    audit_before = count(db, "SELECT count(*) FROM core_auditevent")
    stop = tmp_path / "stop"
    writer = subprocess.Popen(  # noqa: S603
        [sys.executable, CRASH, "_write", str(world), str(stop)],
        cwd=REPO,
        env=_python_env(url),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "writing"  # check-ins are being written
        out = tmp_path / "nightly.openiop-backup"
        made = cli(url, "backup", "--out", str(out))
        assert writer.poll() is None  # the writer never stopped while the backup ran
    finally:
        stop.touch()
        written = int(writer.communicate(timeout=60)[0].split()[-1])
    assert made.returncode == 0, made.stderr
    assert "backup written to" in made.stdout
    manifest = manifest_in(out)
    assert manifest.integrity == "ok"
    backed_up_audit = manifest.tables["core_auditevent"].rows
    audit_after = count(db, "SELECT count(*) FROM core_auditevent")
    # the backup is a snapshot from the middle of the load: it holds some of the writer's rows,
    # and the live database went on growing after it
    assert audit_before < backed_up_audit < audit_after
    assert written > 1

    fresh = tmp_path / "restored.sqlite3"
    restored = cli(f"sqlite:///{fresh}", "restore", str(out))
    assert restored.returncode == 0, restored.stderr
    tables = len(manifest.tables)
    assert f"restored {tables} tables, {manifest.total_rows} rows: counts and hashes match" in (
        restored.stdout
    )
    assert "integrity check: ok" in restored.stdout
    assert f"audit chain intact: {backed_up_audit} rows verified" in restored.stdout
    # independently of the command: the restored file is the backup, table by table
    conn = sqlite3.connect(fresh)
    try:
        assert sqlite_manifest(conn).tables == manifest.tables
    finally:
        conn.close()
    present = count(fresh, "SELECT count(*) FROM attendance_attendancerecord")
    assert present == manifest.tables["attendance_attendancerecord"].rows > 0

    # restoring over a database with data needs --yes, and says what it would replace
    again = cli(f"sqlite:///{fresh}", "restore", str(out))
    assert again.returncode != 0
    assert "--yes" in again.stderr
    assert "core_auditevent" in again.stderr
    forced = cli(f"sqlite:///{fresh}", "restore", str(out), "--yes")
    assert forced.returncode == 0, forced.stderr
    assert "counts and hashes match the backup" in forced.stdout
    assert "audit chain intact" in forced.stdout


def test_a_damaged_backup_is_refused_and_the_database_is_left_alone(live_db, tmp_path):
    db, _ = live_db
    good = backup(sqlite_settings(db), tmp_path / "good.tar")
    target = tmp_path / "target.sqlite3"
    migrated_sqlite(target)
    before = count(target, "SELECT count(*) FROM django_migrations")
    # a tampered copy: one table's hash no longer matches what the file holds
    manifest = good.manifest
    name = "patients_patient"
    manifest.tables[name] = TableState(manifest.tables[name].rows, "0" * 64)
    bad = tmp_path / "bad.tar"
    with tarfile.open(good.path) as src, tarfile.open(bad, "w") as dst:
        body = manifest.to_json().encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(body)
        dst.addfile(info, io.BytesIO(body))
        member = src.getmember("database.sqlite3")
        dst.addfile(member, src.extractfile(member))
    with pytest.raises(BackupError, match="damaged .*patients_patient.*nothing changed"):
        restore(sqlite_settings(target), bad, replace=True)
    assert count(target, "SELECT count(*) FROM django_migrations") == before
    assert count(target, "SELECT count(*) FROM patients_patient") == 0


def test_restore_refuses_a_database_with_data_without_yes(live_db, tmp_path):
    db, _ = live_db
    made = backup(sqlite_settings(db), tmp_path / "b.tar")
    with pytest.raises(NeedsConfirmation) as refused:
        restore(sqlite_settings(db), made.path, replace=False)
    assert refused.value.existing["patients_patient"] == 12
    result = restore(sqlite_settings(db), made.path, replace=True)
    assert result.comparison.ok
    assert result.integrity == "ok"
    assert result.replaced["patients_patient"] == 12


def test_restore_of_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("restore", str(tmp_path / "nope.tar"))


def test_restore_of_a_file_that_is_not_a_backup_is_a_clear_error(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup\n")
    with pytest.raises(CommandError, match="is not an OpenIOP backup"):
        call_command("restore", str(junk))
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w") as tar:
        tar.add(junk, arcname="notes.txt")
    with pytest.raises(CommandError, match="has no manifest.json"):
        call_command("restore", str(other))


def test_backup_without_pg_dump_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # nowhere to find pg_dump
    settings = {"ENGINE": "django.db.backends.postgresql", "NAME": "openiop"}
    with pytest.raises(BackupError, match="pg_dump not found: install the PostgreSQL client"):
        backup(settings, tmp_path / "b.tar")


def test_backup_into_a_missing_directory_is_a_clear_error(live_db, tmp_path):
    db, _ = live_db
    with pytest.raises(BackupError, match="does not exist"):
        backup(sqlite_settings(db), tmp_path / "no" / "such" / "b.tar")


# --- PostgreSQL (CI runs the suite against PostgreSQL 15 too) ---------------------------------


def _pg_url(name: str) -> str:
    s = connection.settings_dict
    auth = s["USER"] or ""
    if s["PASSWORD"]:
        auth += ":" + s["PASSWORD"]
    host = f"{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{name}" if auth else f"postgres://{host}/{name}"


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="PostgreSQL backup round trip: runs when DATABASE_URL is postgres:// (the CI PG run)",
)
def test_postgresql_round_trip_with_pg_dump_and_pg_restore(tmp_path):
    import psycopg

    s = connection.settings_dict
    params = {"dbname": "postgres", "user": s["USER"], "password": s["PASSWORD"]}
    params |= {"host": s["HOST"], "port": s["PORT"]}
    params = {k: v for k, v in params.items() if v}
    tag = f"{os.getpid()}_{int(time.time())}"
    source, target = f"openiop_bk_src_{tag}", f"openiop_bk_dst_{tag}"
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{source}"')
        admin.execute(f'CREATE DATABASE "{target}"')
    try:
        src_url, dst_url = _pg_url(source), _pg_url(target)
        migrated = cli(src_url, "migrate", "-v0")
        assert migrated.returncode == 0, migrated.stderr
        world = build_world(src_url, tmp_path)
        sessions = json.loads(world.read_text())["sessions"]
        assert len(sessions) == 3
        out = tmp_path / "pg.openiop-backup"
        made = cli(src_url, "backup", "--out", str(out))
        assert made.returncode == 0, made.stderr
        manifest = manifest_in(out)
        assert manifest.engine == "postgresql"
        assert manifest.tables["patients_patient"].rows == 12
        restored = cli(dst_url, "restore", str(out))
        assert restored.returncode == 0, restored.stderr
        assert "counts and hashes match the backup" in restored.stdout
        assert (
            f"audit chain intact: {manifest.tables['core_auditevent'].rows} rows verified"
            in restored.stdout
        )
        # the audit table's append-only triggers came back with it
        with psycopg.connect(**{**params, "dbname": target}) as conn:
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute("DELETE FROM core_auditevent")
        refused = cli(dst_url, "restore", str(out))
        assert refused.returncode != 0 and "--yes" in refused.stderr
        forced = cli(dst_url, "restore", str(out), "--yes")
        assert forced.returncode == 0, forced.stderr
        assert "counts and hashes match the backup" in forced.stdout
    finally:
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{source}" WITH (FORCE)')
            admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
