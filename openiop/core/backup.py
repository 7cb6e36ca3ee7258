"""Backups that prove their own round trip: ``openiop backup`` and ``openiop restore``.

A backup is one tar file holding the database copy and ``manifest.json``: the row count and a
SHA-256 content hash of every table (rows ordered by primary key). The manifest is computed from
the very snapshot that was copied, never from the live database, so a restore can show "counts
and hashes match the backup" even when the backup was taken while the clinic was checking
patients in.

* SQLite: the online backup API (``sqlite3.Connection.backup``) copies every page in one step.
  In WAL mode that step is a single read transaction: writers carry on, and the copy is a
  consistent snapshot. (A page-at-a-time backup would restart on every concurrent write and
  might never finish under load.) Restore uses the same API in reverse, so a running server
  sees either the old or the new database, never a half-copied file.
* PostgreSQL: ``pg_dump -Fc`` of a snapshot exported from a REPEATABLE READ transaction, and the
  manifest is read in that same transaction. Restore runs ``pg_restore --clean --if-exists
  --no-owner --single-transaction``: the audit table's triggers refuse UPDATE, DELETE and
  TRUNCATE, but ``--clean`` drops and re-creates the table, which they do not (and should not)
  refuse. The password travels in ``PGPASSWORD``, never on a command line that ``ps`` shows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "openiop-backup"
VERSION = 1
MANIFEST = "manifest.json"
MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
# Rows every migrated database has; a database holding only these has no data to lose.
BOOKKEEPING = frozenset({"django_migrations", "django_content_type", "auth_permission"})


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


class NeedsConfirmation(BackupError):
    def __init__(self, existing: dict[str, int]) -> None:
        self.existing = existing
        total = sum(existing.values())
        super().__init__(f"the database already holds {total} rows in {len(existing)} tables")


@dataclass(frozen=True)
class TableState:
    rows: int
    sha256: str


@dataclass
class Manifest:
    engine: str
    created_at: str
    tables: dict[str, TableState]
    integrity: str = ""

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "version": VERSION,
                "engine": self.engine,
                "created_at": self.created_at,
                "integrity": self.integrity,
                "tables": {
                    name: {"rows": t.rows, "sha256": t.sha256}
                    for name, t in sorted(self.tables.items())
                },
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError("not an OpenIOP backup: its manifest has the wrong format")
        if data.get("version") != VERSION:
            raise BackupError(f"backup format version {data.get('version')} is not supported")
        tables = {
            name: TableState(int(t["rows"]), str(t["sha256"])) for name, t in data["tables"].items()
        }
        return cls(data["engine"], data["created_at"], tables, data.get("integrity", ""))


@dataclass
class Comparison:
    mismatched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.mismatched or self.missing or self.extra)

    def describe(self) -> str:
        parts = []
        if self.mismatched:
            parts.append("differ: " + ", ".join(self.mismatched))
        if self.missing:
            parts.append("missing: " + ", ".join(self.missing))
        if self.extra:
            parts.append("not in the backup: " + ", ".join(self.extra))
        return "; ".join(parts) or "identical"


def compare(expected: Manifest, actual: Manifest) -> Comparison:
    result = Comparison()
    for name, state in sorted(expected.tables.items()):
        got = actual.tables.get(name)
        if got is None:
            result.missing.append(name)
        elif got != state:
            result.mismatched.append(f"{name} ({state.rows} rows in backup, {got.rows} now)")
    result.extra = sorted(set(actual.tables) - set(expected.tables))
    return result


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- SQLite ------------------------------------------------------------------------------------


def sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [r[0] for r in rows]


def _sqlite_order(conn: sqlite3.Connection, table: str) -> str:
    info = conn.execute(f"PRAGMA table_info({_quote(table)})").fetchall()
    pk = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5] > 0]
    return ", ".join(_quote(c) for c in (pk or [row[1] for row in info]))


def sqlite_manifest(conn: sqlite3.Connection) -> Manifest:
    """Counts and content hashes of every table, read in one transaction (one snapshot)."""
    tables: dict[str, TableState] = {}
    conn.execute("BEGIN")  # one read snapshot for every table
    try:
        for table in sqlite_tables(conn):
            digest = hashlib.sha256()
            count = 0
            order = _sqlite_order(conn, table)
            sql = f"SELECT * FROM {_quote(table)} ORDER BY {order}"  # noqa: S608 (quoted names from the catalog)
            for row in conn.execute(sql):
                digest.update(repr(row).encode())
                digest.update(b"\n")
                count += 1
            tables[table] = TableState(count, digest.hexdigest())
    finally:
        conn.rollback()
    return Manifest("sqlite", _now(), tables)


def sqlite_integrity(conn: sqlite3.Connection) -> str:
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(r[0]) for r in rows)


def _sqlite_connect(path: str | Path, timeout_ms: int = 10000) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=timeout_ms / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={timeout_ms}")
    return conn


def sqlite_data_counts(path: str | Path) -> dict[str, int]:
    """Row counts of the tables holding data (not migration bookkeeping); {} for no database."""
    if not Path(path).exists() or Path(path).stat().st_size == 0:
        return {}
    conn = _sqlite_connect(path)
    try:
        counts = {}
        for table in sqlite_tables(conn):
            if table in BOOKKEEPING:
                continue
            sql = f"SELECT count(*) FROM {_quote(table)}"  # noqa: S608 (quoted names from the catalog)
            n = conn.execute(sql).fetchone()[0]
            if n:
                counts[table] = n
        return counts
    finally:
        conn.close()


def sqlite_backup_to(source: str | Path, target: str | Path) -> None:
    """Copy ``source`` into ``target`` in a single step of the online backup API."""
    src = _sqlite_connect(source)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)  # pages=-1: everything in one read transaction
    finally:
        dst.close()
        src.close()


# --- PostgreSQL --------------------------------------------------------------------------------


def pg_env(settings: dict[str, Any]) -> dict[str, str]:
    """The environment pg_dump / pg_restore / psql need; the password never goes in argv."""
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if settings.get(key):
            env[var] = str(settings[key])
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    return env


def pg_connect(settings: dict[str, Any], dbname: str | None = None) -> Any:
    import psycopg

    params: dict[str, Any] = {"dbname": dbname or settings["NAME"]}
    names = (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("PASSWORD", "password"))
    for key, name in names:
        if settings.get(key):
            params[name] = settings[key]
    try:
        return psycopg.connect(**params)
    except psycopg.OperationalError as exc:
        where = params["dbname"]
        raise BackupError(f"cannot connect to PostgreSQL database {where}: {exc}") from None


def pg_tables(cur: Any) -> list[str]:
    cur.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    return [r[0] for r in cur.fetchall()]


def _pg_order(cur: Any, table: str) -> str:
    cur.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary "
        "ORDER BY array_position(i.indkey, a.attnum)",
        [_quote(table)],
    )
    pk = [r[0] for r in cur.fetchall()]
    return ", ".join(_quote(c) for c in pk) if pk else "1"


def pg_manifest(conn: Any) -> Manifest:
    """Counts and hashes inside the caller's transaction; rows hashed in PostgreSQL's own text
    form (``row::text``) under fixed output settings, so the same data always hashes the same."""
    tables: dict[str, TableState] = {}
    with conn.cursor() as cur:
        cur.execute("SET LOCAL TIME ZONE 'UTC'")
        cur.execute("SET LOCAL DateStyle = 'ISO, YMD'")
        cur.execute("SET LOCAL IntervalStyle = 'postgres'")
        cur.execute("SET LOCAL extra_float_digits = 3")
        for table in pg_tables(cur):
            order = _pg_order(cur, table)
            digest = hashlib.sha256()
            count = 0
            q = _quote(table)
            with conn.cursor(name=f"openiop_backup_{count}_{len(tables)}") as rows:
                rows.itersize = 5000
                sql = f"SELECT t::text FROM {q} AS t ORDER BY {order}"  # noqa: S608 (quoted names from the catalog)
                rows.execute(sql)
                for (text,) in rows:
                    digest.update(text.encode())
                    digest.update(b"\n")
                    count += 1
            tables[table] = TableState(count, digest.hexdigest())
    return Manifest("postgresql", _now(), tables)


def pg_data_counts(settings: dict[str, Any]) -> dict[str, int]:
    with pg_connect(settings) as conn, conn.cursor() as cur:
        counts = {}
        for table in pg_tables(cur):
            if table in BOOKKEEPING:
                continue
            cur.execute(f"SELECT count(*) FROM {_quote(table)}")  # noqa: S608 (quoted names from the catalog)
            n = cur.fetchone()[0]
            if n:
                counts[table] = n
        return counts


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise BackupError(
            f"{tool} not found: install the PostgreSQL client tools (the same major version "
            "as the server, e.g. apt-get install postgresql-client-15) and put them on PATH"
        )
    return path


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(  # noqa: S603 (fixed tool path, no shell)
        argv, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()}")


# --- the two operations ------------------------------------------------------------------------


def _engine(settings: dict[str, Any]) -> str:
    engine = str(settings["ENGINE"])
    if engine.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in engine:
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL, not {engine}")


@dataclass
class BackupResult:
    path: Path
    manifest: Manifest
    size: int


def backup(settings: dict[str, Any], out: str | Path) -> BackupResult:
    """Write a backup of the database described by Django ``settings`` (DATABASES entry)."""
    out = Path(out).resolve()
    if not out.parent.is_dir():
        raise BackupError(f"directory {out.parent} does not exist")
    engine = _engine(settings)
    with tempfile.TemporaryDirectory(prefix=".openiop-backup-", dir=out.parent) as tmp:
        data = Path(tmp) / MEMBERS[engine]
        if engine == "sqlite":
            source = Path(str(settings["NAME"]))
            if not source.exists():
                raise BackupError(f"database file {source} does not exist")
            sqlite_backup_to(source, data)
            conn = _sqlite_connect(data)
            try:
                integrity = sqlite_integrity(conn)
                if integrity != "ok":
                    raise BackupError(f"the copy fails PRAGMA integrity_check: {integrity}")
                manifest = sqlite_manifest(conn)
                manifest.integrity = integrity
            finally:
                conn.close()
        else:
            pg_dump = _need("pg_dump")
            from psycopg import IsolationLevel

            conn = pg_connect(settings)
            try:
                conn.isolation_level = IsolationLevel.REPEATABLE_READ
                conn.read_only = True
                snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
                argv = [pg_dump, "-Fc", f"--snapshot={snapshot}", "-f", str(data)]
                _run([*argv, "-d", str(settings["NAME"])], pg_env(settings), "pg_dump")
                manifest = pg_manifest(conn)  # the same snapshot pg_dump copied
                conn.rollback()
            finally:
                conn.close()
        staged = Path(tmp) / "backup.tar"
        with tarfile.open(staged, "w") as tar:
            body = manifest.to_json().encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
            tar.addfile(info, io.BytesIO(body))
            tar.add(data, arcname=data.name)
        with open(staged, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(staged, out)  # never a half-written file under the final name
    return BackupResult(out, manifest, out.stat().st_size)


@contextmanager
def open_backup(path: str | Path) -> Iterator[tuple[Manifest, Path]]:
    """Validate a backup file and yield its manifest and the extracted database copy."""
    path = Path(path)
    if not path.exists():
        raise BackupError(f"{path}: no such file")
    if not path.is_file() or not tarfile.is_tarfile(path):
        raise BackupError(f"{path} is not an OpenIOP backup (made by 'openiop backup --out')")
    with tarfile.open(path) as tar, tempfile.TemporaryDirectory(prefix="openiop-restore-") as tmp:
        names = set(tar.getnames())
        if MANIFEST not in names:
            raise BackupError(f"{path} is not an OpenIOP backup: it has no {MANIFEST}")
        raw = tar.extractfile(MANIFEST)
        assert raw is not None
        try:
            manifest = Manifest.from_json(raw.read().decode())
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"{path}: unreadable manifest ({exc})") from None
        member = MEMBERS.get(manifest.engine)
        if member is None or member not in names:
            raise BackupError(f"{path} is damaged: the database copy is missing")
        tar.extract(member, tmp, filter="data")
        yield manifest, Path(tmp) / member


@dataclass
class RestoreResult:
    manifest: Manifest
    restored: Manifest
    comparison: Comparison
    integrity: str
    replaced: dict[str, int]


def target_counts(settings: dict[str, Any]) -> dict[str, int]:
    """What a restore would replace: row counts of the target database's data tables."""
    if _engine(settings) == "sqlite":
        return sqlite_data_counts(str(settings["NAME"]))
    return pg_data_counts(settings)


def restore(
    settings: dict[str, Any],
    path: str | Path,
    *,
    replace: bool,
    before_write: Callable[[], None] | None = None,
) -> RestoreResult:
    """Restore a backup over the database in ``settings``.

    Checks the copy inside the file against its manifest before touching anything, refuses a
    database with data unless ``replace``, then checks the restored database against the
    manifest again. The caller closes Django's connections first and verifies the audit chain
    after (it needs the ORM). ``before_write`` runs once the file has been checked, before the
    target is read or written (the command closes Django's own connection there).
    """
    engine = _engine(settings)
    with open_backup(path) as (manifest, data):
        if manifest.engine != engine:
            raise BackupError(
                f"this is a {manifest.engine} backup; the configured database is {engine}"
            )
        if before_write is not None:
            before_write()
        existing = target_counts(settings)
        if existing and not replace:
            raise NeedsConfirmation(existing)
        if engine == "sqlite":
            conn = _sqlite_connect(data)
            try:
                copy = sqlite_manifest(conn)
            finally:
                conn.close()
            before = compare(manifest, copy)
            if not before.ok:
                damage = before.describe()
                raise BackupError(f"the backup file is damaged ({damage}); nothing changed")
            target = Path(str(settings["NAME"]))
            target.parent.mkdir(parents=True, exist_ok=True)
            src = _sqlite_connect(data)
            dst = _sqlite_connect(target)
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
            conn = _sqlite_connect(target)
            try:
                integrity = sqlite_integrity(conn)
                restored = sqlite_manifest(conn)
            finally:
                conn.close()
        else:
            pg_restore = _need("pg_restore")
            argv = [pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction"]
            argv += ["--exit-on-error", "-d", str(settings["NAME"]), str(data)]
            _run(argv, pg_env(settings), "pg_restore")
            conn = pg_connect(settings)
            try:
                restored = pg_manifest(conn)
                conn.rollback()
            finally:
                conn.close()
            integrity = "ok (pg_restore completed in one transaction)"
    return RestoreResult(manifest, restored, compare(manifest, restored), integrity, existing)
