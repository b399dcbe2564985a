"""Short SQLite statements run directly on the event loop thread.

Every message writes transcript rows and a statistics event, and the web
widget reads its replies back from the transcript. Through aiosqlite each
statement crosses to a worker thread and back; on this 2-core machine a
single-row insert transaction took 0.7-1.9 ms of wall time and a transcript
read 0.7-1.6 ms, mostly waiting for thread wake-ups. The same insert on a
plain ``sqlite3`` connection in WAL mode with ``synchronous = NORMAL`` (no
fsync at commit) takes about 0.15 ms of CPU and no waiting, the read about
0.3 ms (docs/benchmark.md).

A blocking call must never wait on the loop, so this connection differs from
the pooled ones in two ways:

- ``busy_timeout = 0``: when another connection holds the write lock (the
  action server, a ticket transaction of this process, a restore), the
  statement fails at once with "database is locked", :class:`NotNow` is
  raised and the caller takes the aiosqlite path, which waits for the lock in
  its worker thread. Transactions here never span an ``await``, so this
  connection holds the lock for a fraction of a millisecond.
- ``wal_autocheckpoint = 0``: a checkpoint fsyncs, so none runs on the loop;
  :class:`bot.db.database.Database` checkpoints in a worker thread every
  :data:`CHECKPOINT_EVERY` commits made here.

Only the thread that created it may use it (the loop's thread); any other
thread gets :class:`NotNow` and the usual path. PostgreSQL has no such
connection: asyncpg does not hop threads.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from bot.db.engine import WRITE_OPTION, DatabaseUrl, install_sqlite_setup

T = TypeVar("T")

#: Commits on the loop connection between two background WAL checkpoints
#: (SQLite's own automatic checkpoint is at 1000 pages, a few hundred rows).
CHECKPOINT_EVERY = 500


class NotNow(Exception):
    """The statement cannot run at once here; use the asynchronous path."""


class LoopSqlite:
    """One synchronous SQLite connection for the event loop's short statements."""

    def __init__(self, url: DatabaseUrl) -> None:
        if not url.is_sqlite:
            raise ValueError("LoopSqlite is for SQLite databases only")
        self.path = str(url.sqlite_path)
        # One connection, reused: StaticPool never blocks on a checkout, and
        # nothing here is concurrent (every transaction ends before it returns).
        self._engine = create_engine(
            url.sync_url, future=True, hide_parameters=True, poolclass=StaticPool
        )
        install_sqlite_setup(self._engine)  # WAL, synchronous=NORMAL, BEGIN IMMEDIATE
        event.listen(self._engine, "connect", _never_wait)  # runs after the setup above
        self._write_engine = self._engine.execution_options(**{WRITE_OPTION: True})
        self._thread = threading.get_ident()
        self.commits = 0
        self.not_now = 0  # statements handed to the asynchronous path (diagnostics)

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a write transaction and commit, or raise :class:`NotNow`."""
        self._check_thread()
        try:
            with self._write_engine.begin() as conn:
                result = work(conn)
        except OperationalError as exc:
            if _busy(exc):
                self.not_now += 1
                raise NotNow from None
            raise
        self.commits += 1
        return result

    def read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a read transaction, or raise :class:`NotNow`."""
        self._check_thread()
        try:
            with self._engine.connect() as conn:
                result = work(conn)
                conn.rollback()
        except OperationalError as exc:
            if _busy(exc):
                self.not_now += 1
                raise NotNow from None
            raise
        return result

    def close(self) -> None:
        self._engine.dispose()

    def _check_thread(self) -> None:
        if threading.get_ident() != self._thread:
            raise NotNow


def checkpoint(path: str) -> None:
    """Copy the WAL into the database file without blocking anyone (worker thread)."""
    conn = sqlite3.connect(path, timeout=5.0, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        conn.close()


def _never_wait(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 0")
    cursor.execute("PRAGMA wal_autocheckpoint = 0")
    cursor.close()


def _busy(exc: OperationalError) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED: someone else holds a lock right now."""
    return "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower()
