"""bot/db/loop_sqlite: SQLite statements on the loop's own connection, and the
fall-back to aiosqlite whenever that connection would have to wait."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

import bot.db.database as database_module
from bot.db import Database
from bot.db.crypto import Cipher
from bot.db.loop_sqlite import NotNow
from bot.db.models import LOCAL_TZ
from bot.db.schema import events
from bot.db.transcripts import _PREPARED_LATEST


@pytest.fixture
async def sqlite_db(tmp_path: Path, cipher: Cipher) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'hotline.db'}", cipher=cipher)
    await database.connect()
    yield database  # type: ignore[misc]
    await database.close()


def _add(db: Database, text: str, cid: str = "webchat:s1"):  # type: ignore[no-untyped-def]
    return db.transcripts.add(
        conversation_id=cid, channel="webchat", direction="in", sender="citizen",
        message_id=None, text=text, data={},
    )  # fmt: skip


async def test_rows_and_reads_go_through_the_loop_connection(sqlite_db: Database) -> None:
    loop_conn = sqlite_db.on_loop
    assert loop_conn is not None
    await _add(sqlite_db, "你好")
    await sqlite_db.events.record("answered", conversation_id="webchat:s1")
    entry = await sqlite_db.transcripts.append(
        conversation_id="webchat:s1", channel="webchat", direction="out", sender="bot",
        message_id=None, text="您好，这里是东莞12345", data={},
    )  # fmt: skip
    assert loop_conn.commits == 3 and loop_conn.not_now == 0
    assert [e.text for e in await sqlite_db.transcripts.history("webchat:s1")] == [
        "你好", "您好，这里是东莞12345",
    ]  # fmt: skip
    assert [e.seq for e in await sqlite_db.transcripts.history("webchat:s1", after_seq=0)][-1] == (
        entry.seq
    )
    # Committed: a separate process-level connection sees both rows.
    raw = sqlite3.connect(loop_conn.path)
    try:
        assert raw.execute("SELECT count(*) FROM transcripts").fetchone() == (2,)
    finally:
        raw.close()


async def test_a_held_write_lock_sends_the_row_to_the_waiting_path(sqlite_db: Database) -> None:
    """Another process writing: the loop never blocks, the row waits its turn, nothing is lost."""
    assert sqlite_db.on_loop is not None
    other = sqlite3.connect(sqlite_db.on_loop.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        writer = asyncio.create_task(_add(sqlite_db, "排队中的一句"))
        ticks = 0
        for _ in range(20):  # the loop keeps running while the lock is held
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20 and not writer.done()
        assert sqlite_db.on_loop.not_now >= 1
        # Reads do not need the write lock (WAL): still answered on the loop.
        assert await sqlite_db.transcripts.history("webchat:s1") == []
    finally:
        other.execute("COMMIT")
        other.close()
    await asyncio.wait_for(writer, 10)
    assert [e.text for e in await sqlite_db.transcripts.history("webchat:s1")] == ["排队中的一句"]
    await _add(sqlite_db, "下一句")  # the loop connection takes writes again
    assert [e.text for e in await sqlite_db.transcripts.history("webchat:s1")][-1] == "下一句"


async def test_other_threads_use_the_async_path(sqlite_db: Database) -> None:
    errors: list[BaseException] = []

    def from_a_thread() -> None:
        try:
            sqlite_db.fetch_now(_PREPARED_LATEST, {"cid": "webchat:s1", "limit": 5})
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=from_a_thread)
    thread.start()
    thread.join()
    assert len(errors) == 1 and isinstance(errors[0], NotNow)
    sqlite_db.on_loop, saved = None, sqlite_db.on_loop
    try:
        with pytest.raises(NotNow):
            sqlite_db.insert_now([(events, [{}])])
        await _add(sqlite_db, "走异步路径")
    finally:
        sqlite_db.on_loop = saved
    assert [e.text for e in await sqlite_db.transcripts.history("webchat:s1")] == ["走异步路径"]


async def test_rows_are_stored_exactly_as_sqlalchemy_stores_them(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same row through the fast path and through SQLAlchemy: identical stored values."""
    at = dt.datetime(2026, 11, 29, 18, 30, 5, 123456, tzinfo=LOCAL_TZ)
    sqlite_db.clock = lambda: at
    data = {"buttons": [{"title": "转人工", "payload": "/request_human"}], "n": 1.5, "ok": True}
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(sqlite_db, "on_loop", None)
        await sqlite_db.transcripts.add(
            conversation_id="webchat:same", channel="webchat", direction="out", sender="bot",
            message_id="m-1", text="您好，\n这里是东莞12345", data=data,
        )  # fmt: skip
        await sqlite_db.events.record("answered", conversation_id="webchat:same", data=data)
    monkeypatch.undo()
    assert sqlite_db.on_loop is not None
    raw = sqlite3.connect(sqlite_db.on_loop.path)
    try:
        rows = raw.execute("SELECT * FROM transcripts ORDER BY seq").fetchall()
        evs = raw.execute("SELECT * FROM events ORDER BY id").fetchall()
    finally:
        raw.close()
    assert len(rows) == 2 and rows[0][1:] == rows[1][1:]  # all but the key
    assert len(evs) == 2 and evs[0][1:] == evs[1][1:]
    assert rows[0][8] == "2026-11-29 10:30:05.123456"  # UTC, as AwareDateTime writes it


async def test_reads_match_sqlalchemy_reads(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(7):
        await _add(sqlite_db, f"第{i}句", cid="webchat:r")
    await _add(sqlite_db, "别的会话", cid="webchat:other")
    fast = [
        await sqlite_db.transcripts.history("webchat:r", limit=3),
        await sqlite_db.transcripts.history("webchat:r", after_seq=2, limit=3),
        await sqlite_db.transcripts.history("webchat:r", after_seq=100),
    ]
    monkeypatch.setattr(sqlite_db, "on_loop", None)
    slow = [
        await sqlite_db.transcripts.history("webchat:r", limit=3),
        await sqlite_db.transcripts.history("webchat:r", after_seq=2, limit=3),
        await sqlite_db.transcripts.history("webchat:r", after_seq=100),
    ]
    assert fast == slow
    assert [e.text for e in fast[0]] == ["第4句", "第5句", "第6句"]
    assert [e.seq for e in fast[1]] == [3, 4, 5] and fast[2] == []
    assert fast[0][0].created_at.tzinfo is not None and fast[0][0].data == {}


async def test_a_value_the_column_refuses_gets_sqlalchemys_error(sqlite_db: Database) -> None:
    naive = {"kind": "answered", "conversation_id": None, "ticket_number": None, "data": {}}
    naive["at"] = dt.datetime(2026, 11, 29, 12, 0)  # no time zone
    with pytest.raises(sa.exc.StatementError, match="timezone-aware"):
        await sqlite_db.group.insert_many(events, [naive])
    assert sqlite_db.on_loop is not None and sqlite_db.on_loop.not_now == 1


async def test_wal_checkpoints_run_in_a_worker_thread(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, bool]] = []
    real = database_module.checkpoint

    def recording(path: str) -> None:
        calls.append((path, threading.current_thread() is threading.main_thread()))
        real(path)

    monkeypatch.setattr(database_module, "CHECKPOINT_EVERY", 5)
    monkeypatch.setattr(database_module, "checkpoint", recording)
    for i in range(12):
        await _add(sqlite_db, f"第{i}句")
        await asyncio.sleep(0.05)  # time for the checkpoint to finish
    assert sqlite_db.on_loop is not None
    # After commits 5 and 10 (a running checkpoint is never doubled).
    assert [c[0] for c in calls] == [sqlite_db.on_loop.path] * 2
    assert not any(on_main for _, on_main in calls)


async def test_postgres_has_no_loop_connection(db: Database, backend: str) -> None:
    assert (db.on_loop is not None) == (backend == "sqlite")
