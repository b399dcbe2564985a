"""Review: a closed ticket past its contact period keeps no conversation id anywhere.

The ticket's idempotency key is built from the conversation id
("<sender id>:<submission>", "callback:<cid>:...", "console:<cid>:..."):
the WeChat openid, Telegram chat id or widget session would outlive the
contact data in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from bot.db import Database
from bot.db.crypto import Cipher
from bot.db.schema import tickets
from bot.retention import RetentionSweep
from bot.store.memory import MemoryStore
from tests.db.conftest import ticket_args

T0 = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
async def tdb(db_url: str, cipher: Cipher) -> AsyncIterator[Database]:
    database = Database(db_url, cipher=cipher, clock=lambda: T0)
    await database.connect()
    yield database
    await database.close()


async def test_expired_ticket_keeps_no_conversation_id_in_its_key(tdb: Database) -> None:
    cid = "wechat:oABCdef-openid-123"
    ticket, _ = await tdb.tickets.create(
        **ticket_args(f"{cid}:1733300000", conversation_id=cid, channel="wechat")
    )
    await tdb.tickets.reply(ticket.number, "已处理", actor="dept:urban")
    await tdb.tickets.rate(ticket.number, 5, "满意")
    later = T0 + dt.timedelta(days=366)
    sweep = RetentionSweep(
        tdb, MemoryStore(), retention_days=180, ticket_contact_days=365, clock=lambda: later
    )
    assert (await sweep.sweep()).tickets == 1
    async with tdb.read() as conn:
        row = (await conn.execute(sa.select(tickets))).one()._mapping
    assert "oABCdef-openid-123" not in " ".join(str(v) for v in row.values())
    assert row["number"] == ticket.number and row["description"]
    assert (await sweep.sweep()).tickets == 0  # idempotent
