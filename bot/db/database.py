"""The ``Database`` object: one per process and event loop, holding the engine
and the repositories (tickets, transcripts, events).

Nothing connects at construction; ``await db.connect()`` migrates the schema
to head, opens the engine and checks that the data keys fit the stored data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.aio import bounded_step
from bot.db import migrate
from bot.db.audit import AuditRepo
from bot.db.crypto import Cipher, load_cipher
from bot.db.engine import (
    WRITE_OPTION,
    DatabaseUrl,
    close_connections,
    create_async,
    parse_url,
    track_connections,
)
from bot.db.events import EventRepo
from bot.db.group_commit import GroupCommit
from bot.db.loop_sqlite import CHECKPOINT_EVERY, LoopSqlite, NotNow, PreparedQuery, checkpoint
from bot.db.routing import Routing, load_routing
from bot.db.tickets import TicketRepo
from bot.db.transcripts import TranscriptRepo
from bot.db.unanswered import UnansweredRepo

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

CLOSE_STEP_TIMEOUT = 5.0  # the most one step of close() may take

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Database:
    """Tickets, transcripts and quality events in SQLite or PostgreSQL."""

    def __init__(
        self,
        url: str,
        *,
        cipher: Cipher | None = None,
        routing: Routing | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.url: DatabaseUrl = parse_url(url)
        self._cipher = cipher
        self._routing = routing
        self._engine: AsyncEngine | None = None
        self._connections: set[Any] = set()  # driver connections open (track_connections)
        self._write_engine: AsyncEngine | None = None
        self.clock = clock
        #: SQLite only: short statements run on the loop's thread (bot/db/loop_sqlite.py).
        self.on_loop: LoopSqlite | None = None
        self._checkpoint: asyncio.Task[None] | None = None
        self._checkpointed_at = 0  # loop commits when the last checkpoint started
        #: Single-row inserts: at once on the loop, else concurrent writers share a transaction.
        self.group = GroupCommit(self.write, now=self._insert_now)
        self.tickets = TicketRepo(self)
        self.transcripts = TranscriptRepo(self)
        self.events = EventRepo(self)
        self.audit = AuditRepo(self)
        self.unanswered = UnansweredRepo(self)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        cipher: Cipher | None = None,
        routing: Routing | None = None,
        clock: Clock = utc_now,
    ) -> Database:
        """``DATABASE_URL`` if set, else the SQLite file under ``var/``."""
        url = settings.database_url
        if not url:
            path = settings.sqlite_path
            path.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{path}"
        if cipher is None and settings.data_keys:  # else var/data.key (bot/db/crypto.py)
            cipher = load_cipher(settings.data_keys)
        return cls(url, cipher=cipher, routing=routing, clock=clock)

    @property
    def is_sqlite(self) -> bool:
        return self.url.is_sqlite

    @property
    def cipher(self) -> Cipher:
        if self._cipher is None:
            self._cipher = load_cipher(None)  # var/data.key; from_settings passes the keys
        return self._cipher

    @property
    def routing(self) -> Routing:
        if self._routing is None:
            self._routing = load_routing()
        return self._routing

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("Database is not connected: await db.connect() first")
        return self._engine

    def now(self) -> dt.datetime:
        return self.clock()

    async def connect(self, *, run_migrations: bool = True) -> None:
        """Migrate to head (in a worker thread), open the engine, check the keys."""
        if self._engine is not None:
            return
        _ = self.cipher, self.routing  # fail early on a bad key or routing file
        if run_migrations:
            await asyncio.to_thread(migrate.upgrade, self.url)
        self._engine = create_async(self.url)
        self._connections = track_connections(self._engine)
        self._write_engine = self._engine.execution_options(**{WRITE_OPTION: True})
        if self.is_sqlite:
            self.on_loop = LoopSqlite(self.url)
            self._checkpointed_at = 0
        try:
            await self.tickets.check_keys()
        except BaseException:
            await self.close()
            raise
        log.info("database ready (%s)", "sqlite" if self.is_sqlite else "postgresql")

    async def close(self) -> None:
        """Write what is pending, dispose the engine, close every connection (also
        one a cancelled request still holds): each step on its own and bounded,
        so that a failing one does not leave the rest open. Idempotent."""
        engine = self._engine
        if engine is not None:
            await bounded_step("pending writes", self.group.drain, CLOSE_STEP_TIMEOUT)
            checkpoint_task = self._checkpoint
            if checkpoint_task is not None:
                await bounded_step(
                    "WAL checkpoint",
                    lambda: asyncio.gather(checkpoint_task, return_exceptions=True),
                    CLOSE_STEP_TIMEOUT,
                )
            self._engine = self._write_engine = None
            await bounded_step("database engine", engine.dispose, CLOSE_STEP_TIMEOUT)
            connections = self._connections
            await bounded_step(
                "database connections", lambda: close_connections(connections), CLOSE_STEP_TIMEOUT
            )
        if self.on_loop is not None:
            try:
                self.on_loop.close()
            except Exception as exc:
                log.error("SQLite loop connection not closed: %s", type(exc).__name__)
        self._engine = self._write_engine = self.on_loop = None

    def insert_now(self, rows: Sequence[tuple[sa.Table, Sequence[Mapping[str, Any]]]]) -> int:
        """Insert and commit at once on the loop's own SQLite connection; the
        last row's key. Raises :class:`NotNow` (PostgreSQL, another thread, the
        write lock held elsewhere, any error); the caller then uses :meth:`write`.
        """
        if self.on_loop is None:
            raise NotNow
        last = self.on_loop.insert(rows)
        if self.on_loop.commits - self._checkpointed_at >= CHECKPOINT_EVERY:
            self._checkpoint_soon()
        return last

    def fetch_now(self, query: PreparedQuery, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Like :meth:`insert_now` for a prepared read (the fallback is :meth:`read`)."""
        if self.on_loop is None:
            raise NotNow
        return self.on_loop.fetch(query, values)

    def _insert_now(self, rows: list[tuple[sa.Table, list[dict[str, Any]]]]) -> bool:
        """GroupCommit's fast path: insert and commit at once, or say it cannot."""
        try:
            self.insert_now(rows)
        except NotNow:
            return False
        return True

    def _checkpoint_soon(self) -> None:
        if self.on_loop is None or (self._checkpoint is not None and not self._checkpoint.done()):
            return
        path = self.on_loop.path
        self._checkpointed_at = self.on_loop.commits

        async def run() -> None:
            try:
                await asyncio.to_thread(checkpoint, path)
            except Exception as exc:  # the next one catches up; SQLite stays consistent
                log.warning("WAL checkpoint failed: %s", type(exc).__name__)

        self._checkpoint = asyncio.get_running_loop().create_task(run())

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on success."""
        if self._write_engine is None:
            raise RuntimeError("Database is not connected: await db.connect() first")
        async with self._write_engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only connection (its transaction is rolled back at the end)."""
        async with self.engine.connect() as conn:
            yield conn

    async def ping(self) -> bool:
        """True when the database answers ``SELECT 1`` (the readiness check).

        False when it is not connected, refuses or fails; never raises (the
        health check logs what is not ready).
        """
        if self._engine is None:
            return False
        try:
            async with self.read() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return False
        return True

    async def __aenter__(self) -> Database:
        await self.connect()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()
