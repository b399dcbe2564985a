"""Closing the database closes every connection, also one still checked out.

A request cancelled at shutdown can leave a pooled connection checked out;
``engine.dispose()`` does not close those, and an aiosqlite connection left
open keeps its worker thread (non-daemon) alive, so the process never exits
(threading._shutdown waits for it). SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import threading

import aiosqlite
import sqlalchemy as sa

from bot.db import Database


def _aiosqlite_threads() -> list[threading.Thread]:
    threads = threading.enumerate()
    return [t for t in threads if isinstance(t, aiosqlite.Connection) and t.is_alive()]


async def test_close_closes_checked_out_connections(db: Database) -> None:
    before = set(_aiosqlite_threads())
    leaked = await db.engine.connect()  # never returned to the pool
    await leaked.execute(sa.text("SELECT 1"))
    raw = await leaked.get_raw_connection()
    driver = raw.driver_connection
    await db.close()
    if db.is_sqlite:
        left = [t for t in _aiosqlite_threads() if t not in before]
        for thread in left:
            thread.join(2.0)
        assert not [t for t in left if t.is_alive()], "aiosqlite threads left running"
    else:
        assert driver.closed
    with contextlib.suppress(Exception):  # the pool's own record of it, already closed
        await leaked.close()


async def test_close_twice_and_after_a_failed_step(db: Database) -> None:
    async def broken() -> None:
        raise RuntimeError("drain failed")

    db.group.drain = broken  # type: ignore[method-assign]
    before = set(_aiosqlite_threads())
    async with db.read() as conn:
        await conn.execute(sa.text("SELECT 1"))
    await db.close()  # the engine is disposed although the first step failed
    await db.close()
    left = [t for t in _aiosqlite_threads() if t not in before]
    for thread in left:
        thread.join(2.0)
    assert not [t for t in left if t.is_alive()]
