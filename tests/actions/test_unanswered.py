"""What the actions keep for the knowledge editors: a fallback, an FAQ guess
below the threshold and a handoff keep the citizen's words (masked) with
what the assistant did; a fallback event keeps the text too."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa_sdk.executor import CollectingDispatcher

from actions._runtime import FAQ_MIN_CONFIDENCE
from actions.faq import ActionAnswerFaq, ActionHandleFallback
from actions.handoff import ActionHandoff
from bot.db import Database
from bot.db.schema import events
from bot.knowledge import load_faq
from tests.actions.helpers import faq_parse, parse_data, tracker, user_event


async def _events(db: Database, kind: str) -> list[dict[str, Any]]:
    async with db.read() as conn:
        rows = (await conn.execute(sa.select(events).where(events.c.kind == kind))).all()
    return [dict(r._mapping) for r in rows]


async def test_fallback_keeps_the_text_masked_in_the_event_and_the_store(db: Database) -> None:
    parse = parse_data("我手机13912345678办那个啥", "nlu_fallback", 0.3)
    parse["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.3},
        {"name": "faq", "confidence": 0.21},
    ]
    await ActionHandleFallback().run(CollectingDispatcher(), tracker(parse), {})
    [event] = await _events(db, "fallback")
    assert event["data"] == {"reason": "nlu_fallback", "text": "我手机139****5678办那个啥"}
    [row] = await db.unanswered.all_rows()
    assert row["text"] == "我手机139****5678办那个啥" and row["reason"] == "fallback"
    assert (row["intent"], row["action"]) == ("faq", "action_handle_fallback")
    assert row["confidence"] == 0.21 and row["conversation_id"] == "webchat:test-session"


async def test_a_guess_below_the_threshold_is_kept_with_its_faq(db: Database) -> None:
    entry = next(iter(load_faq().values()))
    low = FAQ_MIN_CONFIDENCE - 0.02
    await ActionAnswerFaq().run(
        CollectingDispatcher(), tracker(faq_parse("那个钱咋弄回来", entry.id, low)), {}
    )
    [row] = await db.unanswered.all_rows()
    assert (row["reason"], row["text"], row["faq_key"]) == (
        "low_confidence",
        "那个钱咋弄回来",
        entry.id,
    )
    assert row["confidence"] == round(low, 4) and row["action"] == "action_answer_faq"
    [event] = await _events(db, "fallback")
    assert event["data"]["text"] == "那个钱咋弄回来"


async def test_a_confident_answer_is_not_kept_and_names_its_faq(db: Database) -> None:
    entry = next(iter(load_faq().values()))
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, tracker(faq_parse("社保转移", entry.id, 0.9)), {})
    assert await db.unanswered.all_rows() == []
    assert dispatcher.messages[-1]["custom"] == {"answer": {"faq": entry.id}}


async def test_a_handoff_keeps_the_question_before_the_request(db: Database) -> None:
    history = [
        user_event(parse_data("新生儿医保怎么交 电话 0769-22345678", "nlu_fallback", 0.2)),
        {"event": "bot", "text": "抱歉，我没太理解"},
    ]
    t = tracker(parse_data("/request_human", "request_human"), history=history)
    await ActionHandoff().run(CollectingDispatcher(), t, {})
    [row] = await db.unanswered.all_rows()
    assert row["reason"] == "handoff" and row["action"] == "action_handoff"
    assert row["text"] == "新生儿医保怎么交 电话 076*-****5678"  # the masking keeps separators


async def test_a_handoff_after_a_complaint_or_an_emergency_keeps_nothing(db: Database) -> None:
    complaint = tracker(
        parse_data("转人工", "request_human"),
        history=[user_event(parse_data("楼下工地晚上施工太吵", "complain"))],
    )
    await ActionHandoff().run(CollectingDispatcher(), complaint, {})
    danger = tracker(parse_data("家里着火了救命", "emergency"))
    await ActionHandoff().run(CollectingDispatcher(), danger, {})
    assert await db.unanswered.all_rows() == []
