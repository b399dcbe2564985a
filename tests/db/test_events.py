"""EventRepo: quality events and their counts."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.db import Database

T0 = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)


async def test_counts_by_kind_prefix_and_period(db: Database) -> None:
    for kind, hours in [
        ("message.answered", 1), ("message.answered", 2), ("message.fallback", 3),
        ("handoff.requested", 4), ("ticket.created", 5), ("ticket.rated", 30),
    ]:  # fmt: skip
        await db.events.record(
            kind, conversation_id="webchat:u", data={"n": hours}, at=T0 + dt.timedelta(hours=hours)
        )
    await db.events.record("ticket.created", ticket_number="20260302-000001")  # now
    assert (await db.events.counts())["ticket.created"] == 2
    assert await db.events.counts("message.") == {"message.answered": 2, "message.fallback": 1}
    day = await db.events.counts(since=T0, until=T0 + dt.timedelta(days=1))
    assert day == {
        "message.answered": 2, "message.fallback": 1, "handoff.requested": 1, "ticket.created": 1,
    }  # fmt: skip
    assert await db.events.counts(
        "ticket.", since=T0 + dt.timedelta(hours=6), until=T0 + dt.timedelta(days=2)
    ) == {"ticket.rated": 1}
    assert await db.events.counts("no_such_") == {}


async def test_prefix_wildcards_are_literal(db: Database) -> None:
    await db.events.record("a_b")
    await db.events.record("axb")
    assert await db.events.counts("a_") == {"a_b": 1}


async def test_kind_is_required(db: Database) -> None:
    with pytest.raises(ValueError, match="kind"):
        await db.events.record("  ")
