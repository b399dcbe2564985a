"""Group commit: rows from concurrent writers inserted in one transaction.

Every message writes two transcript rows and a statistics event. One
transaction per row cost about 1.7 ms of CPU on this machine (SQLAlchemy,
``BEGIN IMMEDIATE``, the insert and the commit each cross to aiosqlite's
thread), which at saturation took a sixth of the front door's throughput
(docs/adr/0006-group-commit.md). Here a writer queues its row and waits for the commit
that holds it; one flusher task inserts everything queued so far, per table
with a single ``executemany``, in one write transaction, and repeats while
rows keep arriving. A lone row is written at once, exactly as before, so no
one waits for a batch to fill; under load the batches grow by themselves.

Durability is unchanged: ``insert_many`` returns only after the transaction with
its row committed. Isolation is kept too: when a shared transaction fails,
each of its rows is tried again in a transaction of its own, so a bad row
fails only its own writer (with that row's error), never its neighbours. Rows of
one table are inserted in the order they were queued, so a row queued after
another's commit gets the higher primary key (transcript order).

On SQLite a row that finds no queue is first offered to ``now``: the loop's
own connection inserts and commits it on the spot, in about 0.15 ms and with
no thread hop (bot/db/loop_sqlite.py). Only when that connection cannot take
the lock at once, or on PostgreSQL, does the row go through the queue above.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

#: At most this many rows per transaction (keeps one commit short).
MAX_BATCH = 200

WriteTransaction = Callable[[], AbstractAsyncContextManager[AsyncConnection]]
#: Inserts rows (grouped by table) and commits at once without awaiting;
#: false when it cannot right now (bot/db/loop_sqlite.py).
InsertNow = Callable[[list[tuple[sa.Table, list[dict[str, Any]]]]], bool]


class GroupCommit:
    """Queue rows; a flusher task commits whatever is queued, batch by batch."""

    def __init__(self, write: WriteTransaction, now: InsertNow | None = None) -> None:
        self._write = write
        self._now = now
        self._pending: list[tuple[sa.Table, dict[str, Any], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.batches = 0  # for tests and diagnostics
        self.rows = 0

    async def insert_many(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """Insert rows of one table, in one transaction when possible.

        Returns once all are committed. A row that fails fails the call with
        its error; the other rows are still written. They are written even
        if the caller is cancelled meanwhile.
        """
        if not rows:
            return
        idle = not self._pending and (self._flusher is None or self._flusher.done())
        if idle and self._now is not None and self._now([(table, rows)]):
            self.batches += 1  # committed on the spot (SQLite on the loop's thread)
            self.rows += len(rows)
            return
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[None]] = []
        for values in rows:
            future: asyncio.Future[None] = loop.create_future()
            self._pending.append((table, values, future))
            futures.append(future)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        done = await asyncio.shield(asyncio.gather(*futures, return_exceptions=True))
        for outcome in done:
            if isinstance(outcome, BaseException):
                raise outcome

    async def drain(self) -> None:
        """Wait until every queued row has been written (shutdown)."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                await self._commit(batch)
            except Exception as exc:
                if len(batch) == 1:
                    _fail(batch[0][2], exc)
                    continue
                for row in batch:  # one by one: only the bad row's writer fails
                    try:
                        await self._commit([row])
                    except Exception as row_exc:
                        _fail(row[2], row_exc)
                    else:
                        _succeed(row[2])
                continue
            for _, _, future in batch:
                _succeed(future)

    async def _commit(
        self, batch: list[tuple[sa.Table, dict[str, Any], asyncio.Future[None]]]
    ) -> None:
        async with self._write() as conn:
            for table, rows in _by_table(batch):
                await conn.execute(table.insert(), rows)
        self.batches += 1
        self.rows += len(batch)


def _succeed(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _fail(future: asyncio.Future[None], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
        future.exception()  # retrieved: a cancelled writer logs nothing


def _by_table(
    batch: list[tuple[sa.Table, dict[str, Any], asyncio.Future[None]]],
) -> list[tuple[sa.Table, list[dict[str, Any]]]]:
    """Rows grouped by table, each group in queue order; tables in first-seen order."""
    groups: dict[str, tuple[sa.Table, list[dict[str, Any]]]] = {}
    for table, values, _ in batch:
        groups.setdefault(table.name, (table, []))[1].append(values)
    return list(groups.values())
