"""bot/db/group_commit: concurrent single-row inserts share transactions (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa

from bot.db import Database
from bot.db.events import EventItem
from bot.db.group_commit import GroupCommit
from bot.db.schema import events


async def test_concurrent_writers_share_commits_and_keep_their_order(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The queue path (PostgreSQL; SQLite when the loop's connection finds the
    # lock taken). SQLite's on-the-spot path is tested in test_loop_sqlite.py.
    monkeypatch.setattr(db, "on_loop", None)
    writes = [
        db.transcripts.add(
            conversation_id="c1", channel="rest", direction="in" if i % 2 == 0 else "out",
            sender="citizen", message_id=f"m{i}", text=f"第{i}句", data={"i": i},
        )
        for i in range(60)
    ]  # fmt: skip
    before = db.group.batches
    await asyncio.gather(*writes, db.events.record("answered", conversation_id="c1"))
    assert db.group.batches - before < 20  # 61 rows, far fewer transactions
    entries = await db.transcripts.history("c1", limit=100)
    assert [e.message_id for e in entries] == [f"m{i}" for i in range(60)]  # queue order
    assert [e.text for e in entries][:2] == ["第0句", "第1句"]
    assert await db.events.counts("answered") == {"answered": 1}


async def test_a_lone_row_is_written_at_once_and_committed_on_return(db: Database) -> None:
    await db.transcripts.add(
        conversation_id="c2", channel="rest", direction="in", sender="citizen",
        message_id="x", text="你好", data={},
    )  # fmt: skip
    # Another connection sees it: add() returned after the commit.
    async with db.read() as conn:
        count = (await conn.execute(sa.text("SELECT count(*) FROM transcripts"))).scalar()
    assert count == 1


@pytest.mark.parametrize("on_loop", [True, False], ids=["now", "queued"])
async def test_a_bad_row_fails_only_its_own_writer(
    db: Database, on_loop: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not on_loop:
        monkeypatch.setattr(db, "on_loop", None)
    good = {"kind": "answered", "conversation_id": "c3", "ticket_number": None, "data": {}}
    good["at"] = db.now()
    bad = dict(good, kind=None)  # NOT NULL
    results = await asyncio.gather(
        db.group.insert_many(events, [good]),
        db.group.insert_many(events, [bad]),
        db.transcripts.add(
            conversation_id="c3", channel="rest", direction="in", sender="citizen",
            message_id="m", text="你好", data={},
        ),
        return_exceptions=True,
    )  # fmt: skip
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], sa.exc.IntegrityError)
    assert await db.events.counts("answered") == {"answered": 1}
    assert [e.text for e in await db.transcripts.history("c3")] == ["你好"]
    await db.group.insert_many(events, [good])  # and the next batch goes on
    assert await db.events.counts("answered") == {"answered": 2}


async def test_a_cancelled_writer_still_gets_its_row_written(db: Database) -> None:
    task = asyncio.create_task(db.events.record("answered", conversation_id="c4"))
    await asyncio.sleep(0)
    task.cancel()
    await db.group.drain()
    assert await db.events.counts("answered") == {"answered": 1}


def test_no_transaction_is_opened_for_nothing() -> None:
    opened = []

    def write() -> object:
        opened.append(1)
        raise AssertionError("no rows, no transaction")

    group = GroupCommit(write)  # type: ignore[arg-type]
    asyncio.run(group.drain())
    assert opened == []


@pytest.mark.parametrize("on_loop", [True, False], ids=["now", "queued"])
async def test_record_many_writes_a_batch_in_one_transaction(
    db: Database, on_loop: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not on_loop:
        monkeypatch.setattr(db, "on_loop", None)
    at = db.now() - dt.timedelta(minutes=5)
    items = [EventItem("answered", f"c{i}", data={"replies": i}, at=at) for i in range(30)]
    before = db.group.batches
    await db.events.record_many([*items, EventItem("rasa_busy", "c9")])
    assert db.group.batches - before == 1
    assert await db.events.counts() == {"answered": 30, "rasa_busy": 1}
    assert await db.events.counts(until=at + dt.timedelta(seconds=1)) == {"answered": 30}


async def test_record_many_with_a_bad_item_writes_the_others(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "on_loop", None)
    good = {"kind": "answered", "conversation_id": "c5", "ticket_number": None, "data": {}}
    good["at"] = db.now()
    with pytest.raises(sa.exc.IntegrityError):
        await db.group.insert_many(events, [good, dict(good, kind=None), dict(good)])
    assert await db.events.counts("answered") == {"answered": 2}


async def test_a_turns_replies_are_one_transaction_in_order(db: Database) -> None:
    rows = [
        {"conversation_id": "c6", "channel": "rest", "direction": "out", "sender": "bot",
         "message_id": f"m1#{i}", "text": f"第{i}条", "data": {"buttons": []}}
        for i in range(4)
    ]  # fmt: skip
    before = db.group.batches
    await db.transcripts.add_many(rows)
    assert db.group.batches - before == 1
    entries = await db.transcripts.history("c6")
    assert [e.message_id for e in entries] == ["m1#0", "m1#1", "m1#2", "m1#3"]
    assert [e.text for e in entries] == ["第0条", "第1条", "第2条", "第3条"]
    assert entries == sorted(entries, key=lambda e: e.seq)
