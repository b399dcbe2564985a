"""TranscriptRepo: ordered, append-only conversation records."""

from __future__ import annotations

import asyncio

import pytest

from bot.db import Database


async def _say(db: Database, conversation: str, text: str, direction: str = "in") -> int:
    entry = await db.transcripts.append(
        conversation_id=conversation, channel="wechat", direction=direction,
        sender="citizen" if direction == "in" else "bot", message_id=f"m-{text}", text=text,
        data={"buttons": []},
    )  # fmt: skip
    return entry.seq


async def test_history_is_oldest_first(db: Database) -> None:
    for i in range(5):
        await _say(db, "wechat:a", f"a{i}", "in" if i % 2 == 0 else "out")
        await _say(db, "wechat:b", f"b{i}")
    history = await db.transcripts.history("wechat:a")
    assert [e.text for e in history] == ["a0", "a1", "a2", "a3", "a4"]
    assert [e.direction for e in history] == ["in", "out", "in", "out", "in"]
    assert all(x.seq < y.seq for x, y in zip(history, history[1:]))
    assert history[0].data == {"buttons": []} and history[0].created_at.tzinfo is not None
    assert history[0].message_id == "m-a0" and history[0].channel == "wechat"


async def test_limit_keeps_the_latest_and_after_seq_catches_up(db: Database) -> None:
    seqs = [await _say(db, "wechat:a", f"t{i}") for i in range(6)]
    assert [e.text for e in await db.transcripts.history("wechat:a", limit=2)] == ["t4", "t5"]
    after = await db.transcripts.history("wechat:a", after_seq=seqs[1], limit=3)
    assert [e.text for e in after] == ["t2", "t3", "t4"]
    assert await db.transcripts.history("wechat:nobody") == []


async def test_concurrent_appends_all_stored_in_seq_order(db: Database) -> None:
    seqs = await asyncio.gather(*(_say(db, "wechat:c", f"x{i}") for i in range(15)))
    history = await db.transcripts.history("wechat:c")
    assert sorted(seqs) == [e.seq for e in history] and len(set(seqs)) == 15


async def test_bad_direction_is_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="direction"):
        await _say(db, "wechat:a", "x", direction="sideways")
    with pytest.raises(ValueError, match="conversation_id"):
        await _say(db, "", "x")
    assert await db.transcripts.history("wechat:a") == []
