"""The unanswered-question store (bot/db/unanswered.py) on SQLite and
PostgreSQL: kept masked, listed, settled once, deleted by retention."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.db import Database
from bot.db.crypto import Cipher
from bot.retention import RetentionSweep
from bot.store.memory import MemoryStore

T0 = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)


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


async def test_kept_questions_are_masked_with_what_the_assistant_did(tdb: Database) -> None:
    kept = await tdb.unanswered.keep(
        reason="fallback",
        text="我电话13812345678，身份证110105194912310020，卡号6222 0202 0000 1234 567 咋办",
        conversation_id="webchat:s1",
        intent="faq",
        confidence=0.05,
        faq_key="si_transfer_in",
        action="action_handle_fallback",
    )
    assert kept
    [row] = await tdb.unanswered.all_rows()
    assert "13812345678" not in row["text"] and "138****5678" in row["text"]
    assert "110105194912310020" not in row["text"] and "110105********0020" in row["text"]
    assert "6222 0202 0000 1234 567" not in row["text"]
    assert (row["reason"], row["channel"], row["status"]) == ("fallback", "webchat", "open")
    assert (row["intent"], row["faq_key"], row["action"]) == (
        "faq", "si_transfer_in", "action_handle_fallback",
    )  # fmt: skip
    assert row["confidence"] == pytest.approx(0.05)


async def test_button_payloads_and_empty_texts_are_not_kept(tdb: Database) -> None:
    assert not await tdb.unanswered.keep(
        reason="handoff", text="/request_human", conversation_id=None
    )
    assert not await tdb.unanswered.keep(reason="handoff", text="   ", conversation_id=None)
    with pytest.raises(ValueError):
        await tdb.unanswered.keep(reason="bored", text="你好", conversation_id=None)
    assert await tdb.unanswered.all_rows() == []


async def test_settled_questions_leave_the_open_list_once(tdb: Database, clock: Clock) -> None:
    for i, text in enumerate(["公积金断缴了还能贷款吗", "公积金停缴影响贷款不"]):
        clock.now = T0 + dt.timedelta(minutes=i)
        await tdb.unanswered.keep(reason="fallback", text=text, conversation_id=f"wechat:{i}")
    items = await tdb.unanswered.list_open()
    assert [i.text for i in items] == ["公积金停缴影响贷款不", "公积金断缴了还能贷款吗"]
    ids = [i.id for i in items]
    assert await tdb.unanswered.settle(ids, "attached", by="banzhang", to="hpf_loan") == 2
    assert await tdb.unanswered.settle(ids, "dismissed", by="other", to="spam") == 0
    assert await tdb.unanswered.list_open() == [] and await tdb.unanswered.get_open(ids) == []
    rows = await tdb.unanswered.all_rows()
    assert {(r["status"], r["handled_by"], r["handled_to"]) for r in rows} == {
        ("attached", "banzhang", "hpf_loan")
    }


async def test_retention_deletes_kept_questions_after_the_period(
    tdb: Database, clock: Clock
) -> None:
    await tdb.unanswered.keep(reason="fallback", text="老问题老问题", conversation_id="webchat:a")
    clock.now = T0 + dt.timedelta(days=100)
    await tdb.unanswered.keep(reason="handoff", text="新问题新问题", conversation_id="webchat:b")
    clock.now = T0 + dt.timedelta(days=181)
    sweep = RetentionSweep(
        tdb, MemoryStore(), retention_days=180, ticket_contact_days=365, clock=clock
    )
    report = await sweep.sweep()
    assert report.unanswered == 1
    assert [r["text"] for r in await tdb.unanswered.all_rows()] == ["新问题新问题"]
