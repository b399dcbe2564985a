"""The retention sweep (bot/retention.py) on SQLite and PostgreSQL, with an
injected clock: old transcripts and notes go, old events and handoff records
lose what ties them to a citizen, closed tickets lose the contact data after
their own period, and only one replica sweeps at a time."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.console.records import HandoffRepo, NoteRepo
from bot.db import Database
from bot.db.crypto import Cipher
from bot.db.schema import events, handoffs, tickets, transcripts
from bot.retention import LOCK_NAME, RetentionSweep
from bot.store.memory import MemoryStore
from tests.db.conftest import ticket_args

T0 = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def tdb(db_url: str, cipher: Cipher, clock: Clock) -> AsyncIterator[Database]:
    database = Database(db_url, cipher=cipher, clock=clock)
    await database.connect()
    yield database
    await database.close()


async def _conversation(db: Database, cid: str) -> None:
    await db.transcripts.append(
        conversation_id=cid, channel="webchat", direction="in", sender="citizen",
        message_id=f"{cid}-m", text="楼下太吵", data={},
    )  # fmt: skip
    await db.events.record("answered", conversation_id=cid, data={"replies": 1})
    await HandoffRepo(db).open(
        conversation_id=cid, channel="webchat", reason="citizen_request", priority="normal",
        summary={"last_messages": ["楼下太吵"]},
    )  # fmt: skip
    await NoteRepo(db).add(cid, "agent1", "市民情绪激动")


async def _rows(db: Database, table: sa.Table) -> list[dict]:
    async with db.read() as conn:
        return [dict(r._mapping) for r in (await conn.execute(sa.select(table))).all()]


def sweeper(db: Database, store: MemoryStore, clock: Clock) -> RetentionSweep:
    return RetentionSweep(db, store, retention_days=180, ticket_contact_days=365, clock=clock)


async def test_old_conversations_go_and_closed_tickets_lose_contact_data(
    tdb: Database, clock: Clock
) -> None:
    store = MemoryStore()
    await _conversation(tdb, "webchat:old")
    ticket, _ = await tdb.tickets.create(**ticket_args(conversation_id="webchat:old"))
    await tdb.tickets.reply(ticket.number, "已处理", actor="dept:urban")
    await tdb.tickets.rate(ticket.number, 5, "满意")  # closed at T0
    open_ticket, _ = await tdb.tickets.create(**ticket_args("k-open"))
    clock.now = T0 + 100 * DAY
    await _conversation(tdb, "webchat:new")

    clock.now = T0 + 181 * DAY
    report = await sweeper(tdb, store, clock).sweep()
    assert report.ran and report.transcripts == 1 and report.notes == 1
    assert [r["conversation_id"] for r in await _rows(tdb, transcripts)] == ["webchat:new"]
    old_events = [r for r in await _rows(tdb, events) if r["at"] < T0 + 50 * DAY]
    assert old_events and all(r["conversation_id"] is None and r["data"] == {} for r in old_events)
    assert any(r["conversation_id"] == "webchat:new" for r in await _rows(tdb, events))
    by_cid = {r["conversation_id"]: r for r in await _rows(tdb, handoffs)}
    assert "webchat:old" not in by_cid and by_cid["webchat:new"]["summary"]
    assert all(r["summary"] == {} for c, r in by_cid.items() if c != "webchat:new")
    kept = await tdb.tickets.get(ticket.number)
    assert kept is not None and kept.contact_phone == "13812345678"  # closed 181 days ago

    clock.now = T0 + 366 * DAY
    report = await sweeper(tdb, store, clock).sweep()
    assert report.tickets == 1 and await _rows(tdb, transcripts) == []
    row = next(r for r in await _rows(tdb, tickets) if r["number"] == ticket.number)
    assert row["contact_phone_enc"] is None and row["contact_name_enc"] is None
    assert row["conversation_id"] == "webchat:expired" and row["description"]  # the record stays
    still_open = await tdb.tickets.get(open_ticket.number)  # never closed: keeps its contact
    assert still_open is not None and still_open.contact_phone == "13812345678"
    again = await sweeper(tdb, store, clock).sweep()
    assert (again.transcripts, again.events, again.tickets) == (0, 0, 0)


async def test_one_replica_sweeps_at_a_time(tdb: Database, clock: Clock) -> None:
    store = MemoryStore()
    await _conversation(tdb, "webchat:old")
    clock.now = T0 + 200 * DAY
    other = await store.try_lock(LOCK_NAME, 60)  # another replica is sweeping
    assert other is not None
    async with other:
        report = await sweeper(tdb, store, clock).sweep()
    assert not report.ran and len(await _rows(tdb, transcripts)) == 1
    assert (await sweeper(tdb, store, clock).sweep()).transcripts == 1


def test_cli_runs_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.db.cli import main

    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(["--database-url", f"sqlite:///{tmp_path}/h.db", "migrate"]) == 0
    assert main(["--database-url", f"sqlite:///{tmp_path}/h.db", "retention"]) == 0
    assert "retention done: 0 transcript entries" in capsys.readouterr().out


async def test_old_scheduled_reports_and_runs_are_deleted(tdb: Database, clock: Clock) -> None:
    from bot.ops.reports import ReportStore
    from bot.ops.runs import RunRepo

    store = MemoryStore()
    doc = {"tables": {"low_ratings": [{"comment": "没人管", "conversation_id": "webchat:u-9"}]}}
    await ReportStore(tdb).write("daily", T0.date(), T0.date(), None, doc, "csv", b"PK")
    old = await RunRepo(tdb).claim("backup", "old", "r", max_attempts=1, retry_after=DAY)
    assert old is not None
    clock.now = T0 + 100 * DAY
    await ReportStore(tdb).write("daily", clock.now.date(), clock.now.date(), None, doc, "", b"")
    assert await RunRepo(tdb).claim("backup", "new", "r", max_attempts=1, retry_after=DAY)
    clock.now = T0 + 181 * DAY
    report = await sweeper(tdb, store, clock).sweep()
    assert report.reports == 1
    left = await ReportStore(tdb).list()
    assert [i.since for i in left] == [(T0 + 100 * DAY).date().isoformat()]
    assert [r.slot for r in await RunRepo(tdb).list()] == ["new"]


async def test_old_emergency_sends_are_deleted_and_the_periods_kept(
    tdb: Database, clock: Clock
) -> None:
    from bot.emergency.records import PeriodRepo

    periods = PeriodRepo(tdb)
    period = await periods.open(
        started_at=T0, notice="停水通知", faq=(), keywords=(), drill=False, actor="cli"
    )
    await periods.add_send(period, "wechat:o-old", "wechat", True, "sent")
    clock.now = T0 + 100 * DAY
    await periods.add_send(period, "wechat:o-new", "wechat", False, "outside_window")
    clock.now = T0 + 181 * DAY
    await sweeper(tdb, MemoryStore(), clock).sweep()
    assert [s["conversation_id"] for s in await periods.sends(period)] == ["wechat:o-new"]
    assert await periods.get(period) is not None
