"""The database settings a deployment gets from DATABASE_URL (DESIGN.md §1, ADR 0003).

These call the settings' own helper with a patched environment and open their own throw-away
SQLite files; they never touch the test database, so they pass the same on SQLite and PostgreSQL
runs.
"""

from __future__ import annotations

import pytest
from django.db.utils import ConnectionHandler

from openiop.core.env import ConfigError
from openiop.settings import _database_config


@pytest.fixture
def open_db(django_db_blocker):
    """Opens a real Django connection built from a config alone, outside the global registry."""
    opened = []

    def _open(config: dict[str, object]):
        conn = ConnectionHandler({"default": config})["default"]
        opened.append(conn)
        return conn

    with django_db_blocker.unblock():
        yield _open
        for conn in opened:
            conn.close()


def test_sqlite_file_is_durable_and_takes_the_write_lock_up_front(tmp_path, monkeypatch, open_db):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'clinic.sqlite3'}")
    monkeypatch.delenv("SQLITE_BUSY_TIMEOUT_MS", raising=False)
    config = _database_config()
    assert config["ENGINE"] == "django.db.backends.sqlite3"

    conn = open_db(config)
    with conn.cursor() as cursor:
        assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cursor.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
        assert cursor.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    # IMMEDIATE (Django then opens every atomic block with BEGIN IMMEDIATE): a read-then-write
    # transaction waits for the lock instead of failing later with "database is locked" when two
    # counselors save at once.
    assert conn.transaction_mode == "IMMEDIATE"


def test_sqlite_busy_timeout_comes_from_the_environment(tmp_path, monkeypatch, open_db):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'clinic.sqlite3'}")
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT_MS", "2500")
    with open_db(_database_config()).cursor() as cursor:
        assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] == 2500


def test_a_typo_in_the_busy_timeout_stops_start_up(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'clinic.sqlite3'}")
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT_MS", "10s")
    with pytest.raises(ConfigError, match="SQLITE_BUSY_TIMEOUT_MS"):
        _database_config()


def test_postgres_url_gets_no_sqlite_pragmas(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://iop:secret@db.internal:5433/openiop")
    config = _database_config()
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["HOST"], config["PORT"]) == ("openiop", "db.internal", 5433)
    assert "init_command" not in config.get("OPTIONS", {})
    assert "transaction_mode" not in config.get("OPTIONS", {})


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/openiop", "openiop.sqlite3", "sqlite:/relative.db"]
)
def test_an_unsupported_database_url_is_refused_with_its_value(url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ConfigError, match="DATABASE_URL must start with"):
        _database_config()
