"""Alembic, run programmatically: upgrade to head at start-up, or to a given revision.

Several processes may start at once (front door, action server, replicas).
The upgrade runs in one transaction that first takes a lock (a PostgreSQL
advisory lock, or SQLite's write lock through ``BEGIN IMMEDIATE``), so the
first process migrates and the others find the schema at head.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from bot.db.engine import DatabaseUrl, create_sync

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Arbitrary constant naming this application's advisory lock.
_PG_LOCK_ID = 1234512345
#: A fresh SQLite file opened by several processes at once (front door and
#: action server starting together) can refuse the switch to WAL with
#: "database is locked" before its busy timeout applies: try again.
SQLITE_LOCKED_RETRIES = 10
SQLITE_LOCKED_PAUSE = 0.2


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at ``bot/db/migrations``; no alembic.ini needed."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def lock(conn: Connection, url: DatabaseUrl) -> None:
    """Serialise schema changes across processes until ``conn``'s transaction ends.

    SQLite needs nothing more: the sync engine's transactions are
    ``BEGIN IMMEDIATE``, which already holds the database's write lock.
    """
    if not url.is_sqlite:
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})


def upgrade(url: DatabaseUrl, revision: str = "head") -> str | None:
    """Upgrade the database to ``revision``; returns the revision it is at afterwards."""
    if url.sqlite_path is not None:
        url.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(SQLITE_LOCKED_RETRIES):
        try:
            return _upgrade(url, revision)
        except OperationalError as exc:
            locked = url.is_sqlite and "database is locked" in str(exc.orig)
            if not locked or attempt == SQLITE_LOCKED_RETRIES - 1:
                raise
            log.info("sqlite database busy during migration; trying again")
            time.sleep(SQLITE_LOCKED_PAUSE * (attempt + 1))
    raise AssertionError("unreachable")


def _upgrade(url: DatabaseUrl, revision: str) -> str | None:
    engine = create_sync(url)
    try:
        with engine.begin() as conn:
            lock(conn, url)
            before = MigrationContext.configure(conn).get_current_revision()
            command.upgrade(alembic_config(conn), revision)
            after = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    if before != after:
        log.info("database migrated from %s to %s", before or "empty", after)
    return after


def current_revision(url: DatabaseUrl) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    engine = create_sync(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
