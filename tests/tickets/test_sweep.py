"""The deadline sweep: due-soon flags, escalation once per deadline, several replicas."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from cryptography.fernet import Fernet

from bot.db import Database
from bot.db.crypto import Cipher
from bot.store import MemoryStore
from bot.store.redis import RedisStore
from bot.tickets import TICKETS_KEY
from bot.tickets.__main__ import main as cli_main
from bot.tickets.sweep import Sweeper, needs_escalation
from tests.db.conftest import _truncate
from tests.tickets.conftest import (
    Api,
    Clock,
    MakeFrontDoor,
    Shared,
    create_ticket,
    stop_apps,
)


def sweeper_of(client: TestClient) -> Sweeper:
    return client.app[TICKETS_KEY].sweeper


async def event_kinds(db: Database, prefix: str = "ticket.") -> dict[str, int]:
    return await db.events.counts(prefix)


async def test_due_soon_is_flagged_once_and_overdue_escalated_once(
    ticket_db: Database, clock: Clock
) -> None:
    ticket = await create_ticket(ticket_db, "webchat:sw-1")  # noise: 3 working days
    sweeper = Sweeper(ticket_db, MemoryStore(), notifier=None)
    assert (await sweeper.sweep()).due_soon == []  # days away
    assert ticket.deadline is not None
    clock.now = ticket.deadline - dt.timedelta(hours=5)
    assert (await sweeper.sweep()).due_soon == [ticket.number]
    assert (await sweeper.sweep()).due_soon == []  # flagged once per deadline
    clock.now = ticket.deadline + dt.timedelta(hours=3)
    report = await sweeper.sweep()
    assert report.escalated == [ticket.number]
    assert (await sweeper.sweep()).escalated == []
    escalated = await ticket_db.tickets.get(ticket.number)
    assert escalated is not None and escalated.escalated_at == clock.now
    assert [e.kind for e in escalated.events][-1] == "escalated"
    assert escalated.events[-1].data["reason"] == "超过答复期限3小时"
    assert await event_kinds(ticket_db) == {"ticket.due_soon": 1, "ticket.escalated": 1}


async def test_a_new_deadline_can_be_escalated_again(ticket_db: Database, clock: Clock) -> None:
    ticket = await create_ticket(ticket_db, "webchat:sw-2")
    sweeper = Sweeper(ticket_db, MemoryStore(), notifier=None)
    assert ticket.deadline is not None
    clock.now = ticket.deadline + dt.timedelta(hours=1)
    assert (await sweeper.sweep()).escalated == [ticket.number]
    moved = await ticket_db.tickets.transfer(
        ticket.number, "urban_management", actor="env", reason="属城管职责"
    )
    assert not needs_escalation(moved, clock.now)
    assert moved.deadline is not None
    clock.now = moved.deadline + dt.timedelta(hours=1)
    assert (await sweeper.sweep()).escalated == [ticket.number]


async def test_answered_and_closed_tickets_are_left_alone(
    ticket_db: Database, clock: Clock
) -> None:
    replied = await create_ticket(ticket_db, "webchat:sw-3")
    await ticket_db.tickets.reply(replied.number, "已处理", actor="env")
    assert replied.deadline is not None
    clock.now = replied.deadline + dt.timedelta(days=3)
    report = await Sweeper(ticket_db, MemoryStore(), notifier=None).sweep()
    assert report.escalated == [] and report.due_soon == []


async def test_supervisors_see_escalated_tickets_flagged(
    front_door: TestClient, ticket_db: Database, clock: Clock
) -> None:
    ticket = await create_ticket(ticket_db, "webchat:sw-4")
    assert ticket.deadline is not None
    clock.now = ticket.deadline + dt.timedelta(minutes=30)
    await sweeper_of(front_door).sweep()
    status, page = await Api(front_door).call("GET", "/api/v1/tickets?flag=escalated")
    assert status == 200 and [t["number"] for t in page["items"]] == [ticket.number]
    assert page["items"][0]["flags"] == {"overdue": True, "due_soon": False, "escalated": True}
    status, page = await Api(front_door).call("GET", "/api/v1/tickets?flag=overdue")
    assert page["total"] == 1


async def test_background_job_runs_on_its_interval(
    make_front_door: MakeFrontDoor, ticket_db: Database, clock: Clock
) -> None:
    ticket = await create_ticket(ticket_db, "webchat:sw-5")
    assert ticket.deadline is not None
    clock.now = ticket.deadline + dt.timedelta(hours=2)
    await make_front_door(ticket_db, sweep_seconds=0.05)
    for _ in range(100):
        found = await ticket_db.tickets.get(ticket.number)
        if found is not None and found.escalated_at is not None:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the background sweep did not escalate")
    await asyncio.sleep(0.2)  # a few more passes
    assert (await event_kinds(ticket_db))["ticket.escalated"] == 1


# --- several replicas at once ----------------------------------------------------


@pytest.fixture
async def pg_pair(
    pg_session_url: str, clock: Clock, running_apps: list[TestClient]
) -> AsyncIterator[tuple[Database, Database]]:
    """Two Database objects (two replicas' pools) on one PostgreSQL database."""
    _truncate(pg_session_url)
    cipher = Cipher([Fernet.generate_key().decode()])
    first = Database(pg_session_url, cipher=cipher, clock=clock)
    second = Database(pg_session_url, cipher=cipher, clock=clock)
    await first.connect()
    await second.connect()
    yield first, second
    await stop_apps(running_apps)
    await first.close()
    await second.close()


@pytest.mark.postgres
@pytest.mark.redis
async def test_two_apps_sharing_redis_escalate_once(
    make_front_door: MakeFrontDoor,
    pg_pair: tuple[Database, Database],
    redis_url: str,
    redis_prefix: str,
    clock: Clock,
    running_apps: list[TestClient],
) -> None:
    first, second = pg_pair
    tickets = [await create_ticket(first, f"webchat:rep-{i}") for i in range(5)]
    redis = RedisStore(redis_url, redis_prefix)
    try:
        apps = [await make_front_door(db, Shared(redis)) for db in (first, second)]
        deadline = tickets[0].deadline
        assert deadline is not None
        clock.now = deadline + dt.timedelta(hours=1)
        for _ in range(3):
            reports = await asyncio.gather(*(sweeper_of(a).sweep() for a in apps * 2))
            assert sum(len(r.escalated) for r in reports) in (0, 5)
        counts = await event_kinds(first)
        assert counts["ticket.escalated"] == 5
        for ticket in tickets:
            found = await first.tickets.get(ticket.number)
            assert found is not None
            assert [e.kind for e in found.events].count("escalated") == 1
    finally:
        await stop_apps(running_apps)  # before their store goes away
        await redis.close()


@pytest.mark.postgres
async def test_version_guard_without_a_shared_lock(
    pg_pair: tuple[Database, Database], clock: Clock
) -> None:
    """Sweeps with separate in-process stores (no common lock) still escalate once."""
    first, second = pg_pair
    tickets = [await create_ticket(first, f"webchat:guard-{i}") for i in range(5)]
    assert tickets[0].deadline is not None
    clock.now = tickets[0].deadline + dt.timedelta(hours=1)
    sweepers = [Sweeper(db, MemoryStore(), notifier=None) for db in (first, second, first, second)]
    reports = await asyncio.gather(*(s.sweep() for s in sweepers))
    assert sorted(n for r in reports for n in r.escalated) == sorted(t.number for t in tickets)
    for ticket in tickets:
        found = await second.tickets.get(ticket.number)
        assert found is not None
        assert [e.kind for e in found.events].count("escalated") == 1


async def test_command_line_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("HOTLINE_DATA_KEYS", key)
    monkeypatch.delenv("REDIS_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    long_ago = Clock()
    long_ago.now -= dt.timedelta(days=30)
    db = Database(url, cipher=Cipher([key]), clock=long_ago)
    await db.connect()
    ticket = await create_ticket(db, "webchat:cli")
    await db.close()
    code = await asyncio.to_thread(cli_main, ["--database-url", url, "sweep"])
    assert code == 0
    assert "1 escalated" in capsys.readouterr().out
    db = Database(url, cipher=Cipher([key]))
    await db.connect()
    found = await db.tickets.get(ticket.number)
    await db.close()
    assert found is not None and found.escalated_at is not None
