"""Database URLs and engines: psycopg 3 (async at run time, sync for migrations
and maintenance) for PostgreSQL; aiosqlite at run time and sqlite3 for
maintenance for SQLite.

SQLite is shared by the front door and the action server (two processes), so
every connection uses WAL and a busy timeout, and write transactions start
with ``BEGIN IMMEDIATE``: a writer waits for the lock up front instead of
failing halfway when it upgrades a read lock.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, create_engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

SQLITE_BUSY_TIMEOUT_MS = 15000
#: Execution option that makes a SQLite transaction take the write lock at BEGIN.
WRITE_OPTION = "hotline_write"


@dataclass(frozen=True)
class DatabaseUrl:
    """One database, spelled for the async run-time driver and the sync one."""

    async_url: URL
    sync_url: URL

    @property
    def is_sqlite(self) -> bool:
        return self.async_url.get_backend_name() == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        return Path(self.async_url.database or "") if self.is_sqlite else None

    def __str__(self) -> str:
        return self.sync_url.render_as_string(hide_password=True)


def parse_url(url: str) -> DatabaseUrl:
    """Accept postgresql://, postgres://, sqlite:///path.

    PostgreSQL is driven by psycopg 3, sync and async (one driver for the
    message path, migrations, backups and key rotation). The spellings
    ``postgresql+asyncpg://``, ``+psycopg2://`` and ``+psycopg://`` of older
    configurations are accepted and mean the same server.
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError("DATABASE_URL is not a valid database URL") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return _postgres_urls(parsed)
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("SQLite needs a file path (sqlite:///path/to/hotline.db)")
        return DatabaseUrl(
            parsed.set(drivername="sqlite+aiosqlite"), parsed.set(drivername="sqlite")
        )
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}")


def _postgres_urls(parsed: URL) -> DatabaseUrl:
    driver = parsed.get_driver_name()
    if driver not in ("", "asyncpg", "psycopg2", "psycopg"):
        raise ValueError(f"unsupported PostgreSQL driver {driver!r} (use postgresql://)")
    # psycopg is libpq: ``sslmode`` and the other libpq parameters pass as they are.
    url = parsed.set(drivername="postgresql+psycopg")
    return DatabaseUrl(url, url)


log = logging.getLogger(__name__)


def inserted_key(result: Any) -> int:
    """The primary key of the one row an INSERT just wrote (SQLAlchemy types it
    as optional: it is None only for statements that are not single-row inserts)."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("not a single-row INSERT: no primary key")
    return int(key[0])


def create_private_sqlite(path: Path) -> None:
    """Create the SQLite file empty with mode 0600 unless it exists.

    SQLite would create it with the process umask (usually 0644: readable by
    every local user) and gives its ``-wal`` and ``-shm`` files the database
    file's own permissions, so creating the file private first (``os.open``
    with ``O_EXCL``, no chmod afterwards, no window) makes all three private.
    An existing file is left alone, with a warning when others can read it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            log.warning("%s is readable by other users: chmod 600 it and its -wal/-shm", path)
        return
    os.close(fd)  # an empty file is an empty SQLite database


def create_async(url: DatabaseUrl) -> AsyncEngine:
    """The run-time engine (psycopg or aiosqlite).

    ``hide_parameters``: SQL errors must not carry citizens' words into logs.
    """
    if url.is_sqlite:
        create_private_sqlite(url.sqlite_path or Path())
        _quiet_aiosqlite()
        # A pool, not SQLAlchemy's default NullPool for file databases: opening
        # a connection (a thread, PRAGMAs, a WAL checkpoint on close) cost
        # ~15 ms per write on the message path (docs/adr/0001-pooled-sqlite-connections.md).
        engine = create_async_engine(
            url.async_url,
            hide_parameters=True,
            poolclass=AsyncAdaptedQueuePool,
            pool_size=5,
            max_overflow=10,
        )
        install_sqlite_setup(engine.sync_engine)
        return engine
    return create_async_engine(
        url.async_url,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
    )


def _quiet_aiosqlite() -> None:
    """aiosqlite logs every statement with its parameters at DEBUG: never allow that."""
    logger = logging.getLogger("aiosqlite")
    if logger.level < logging.INFO:
        logger.setLevel(logging.INFO)


def create_sync(url: DatabaseUrl, *, write: bool = True) -> Engine:
    """A short-lived engine for migrations, backups and key rotation.

    ``write=False`` (backups) keeps SQLite transactions deferred, so a backup
    reads a consistent snapshot without blocking the running services.
    """
    if url.is_sqlite:
        create_private_sqlite(url.sqlite_path or Path())
    engine = create_engine(url.sync_url, hide_parameters=True)
    if url.is_sqlite:
        install_sqlite_setup(engine, always_write=write)
    return engine


def install_sqlite_setup(engine: Engine, *, always_write: bool = False) -> None:
    """WAL, busy timeout and foreign keys on every SQLite connection; explicit BEGIN."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we send BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = always_write or conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def track_connections(engine: AsyncEngine) -> set[Any]:
    """The driver connections (aiosqlite, psycopg) ``engine``'s pool has opened
    and not closed, kept up to date by pool events. ``dispose()`` closes only
    the pooled ones: :func:`close_connections` closes the rest at shutdown."""
    opened: set[Any] = set()

    @event.listens_for(engine.sync_engine, "connect")
    def _opened(dbapi_connection: Any, _record: Any) -> None:
        opened.add(dbapi_connection.driver_connection)

    @event.listens_for(engine.sync_engine, "close")
    def _closed(dbapi_connection: Any, _record: Any) -> None:
        opened.discard(getattr(dbapi_connection, "driver_connection", None))

    @event.listens_for(engine.sync_engine, "close_detached")
    def _closed_detached(dbapi_connection: Any) -> None:
        opened.discard(getattr(dbapi_connection, "driver_connection", None))

    return opened


async def close_connections(opened: set[Any], timeout: float = 2.0) -> int:
    """Close the driver connections still open (checked out by a request that was
    cancelled); how many there were. An aiosqlite connection left open keeps
    its worker thread, and with it the process, alive."""
    left = list(opened)
    opened.clear()
    for conn in left:
        try:
            if getattr(conn, "closed", False) is True:  # psycopg's property
                continue
            await asyncio.wait_for(conn.close(), timeout)
        except Exception as exc:  # noqa: BLE001 - shutdown goes on; the socket dies with us
            logging.getLogger(__name__).warning(
                "database connection not closed cleanly: %s", type(exc).__name__
            )
    return len(left)
