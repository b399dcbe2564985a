"""网上业务办理成功率: the outcome question after the online way, its answers,
the one follow-up on the next contact, and the events the figures count
(real SQLite and PostgreSQL through the ``db`` fixture)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from rasa_sdk.executor import CollectingDispatcher

from actions.guidance import ActionServiceGuide
from actions.online import (
    FOLLOWUP_WINDOW,
    SLOT,
    ActionOnlineOutcome,
    ActionSessionStart,
    ActionStartOnlineTicket,
    open_question,
)
from bot.db import Database
from bot.db.schema import events as events_table
from bot.knowledge import load_services, service_by_id
from tests.actions.helpers import parse_data, slot_events, tracker

SERVICE = "residence_permit"


async def recorded(db: Database) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(kind, conversation id, data) of the guidance.* events, oldest first."""
    stmt = (
        sa.select(events_table.c.kind, events_table.c.conversation_id, events_table.c.data)
        .where(events_table.c.kind.like("guidance.%"))
        .order_by(events_table.c.id)
    )
    async with db.read() as conn:
        rows = (await conn.execute(stmt)).all()
    return [(str(k), c, dict(d or {})) for k, c, d in rows]


def question(days_ago: float = 0, followup: bool = False, service: str = SERVICE) -> dict:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    return {"service": service, "offered_at": at.isoformat(), "followup": followup}


def button(intent: str, service: str = SERVICE) -> dict[str, Any]:
    """The parse data of a pressed outcome button (the payload names the service)."""
    return parse_data(
        f'/{intent}{{"service":"{service}"}}',
        intent,
        entities=[{"entity": "service", "value": service}],
    )


async def guide(mode: str, slots: dict[str, Any] | None = None) -> tuple[dict, dict]:
    dispatcher = CollectingDispatcher()
    t = tracker(
        parse_data("网上" if mode == "online" else "线下", "inform_service_mode"),
        {"service": SERVICE, "service_mode": mode, **(slots or {})},
    )
    result = await ActionServiceGuide().run(dispatcher, t, {})
    return dispatcher.messages[0], slot_events(result)


# --- the question at the end of the guidance ------------------------------------


async def test_online_guidance_asks_for_the_outcome_and_records_the_offer(db: Database) -> None:
    message, slots = await guide("online")
    titles = [b["title"] for b in message["buttons"]]
    assert titles[:2] == ["已办好", "遇到问题"]
    assert message["buttons"][0]["payload"] == '/online_done{"service":"residence_permit"}'
    assert message["buttons"][1]["payload"] == '/online_problem{"service":"residence_permit"}'
    assert "看线下办理" in titles and "转人工客服" in titles  # the guidance's own stay
    assert "办好后请告诉我结果" in message["text"]
    opened = open_question(slots[SLOT])
    assert opened is not None and opened["service"] == SERVICE and opened["followup"] is False
    assert await recorded(db) == [
        ("guidance.online_offered", "webchat:test-session", {"service": SERVICE})
    ]


async def test_offline_guidance_asks_nothing(db: Database) -> None:
    message, slots = await guide("offline")
    assert "已办好" not in [b["title"] for b in message["buttons"]]
    assert SLOT not in slots
    assert await recorded(db) == []


async def test_the_same_online_way_again_keeps_the_open_question(db: Database) -> None:
    """Shown again while its question is open: the buttons, no second offer."""
    message, slots = await guide("online", {SLOT: question(days_ago=1)})
    assert [b["title"] for b in message["buttons"]][:2] == ["已办好", "遇到问题"]
    assert SLOT not in slots
    assert await recorded(db) == []


async def test_another_services_online_way_replaces_the_open_question(db: Database) -> None:
    other = next(s for s in load_services() if s.online is not None and s.id != SERVICE)
    _, slots = await guide("online", {SLOT: question(service=other.id, followup=True)})
    assert slots[SLOT]["service"] == SERVICE and slots[SLOT]["followup"] is False
    assert [k for k, _, _ in await recorded(db)] == ["guidance.online_offered"]


# --- the answers -----------------------------------------------------------------


async def test_done_thanks_and_closes_the_question(db: Database) -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(button("online_done"), {SLOT: question(days_ago=0.01)})
    slots = slot_events(await ActionOnlineOutcome().run(dispatcher, t, {}))
    assert "感谢" in dispatcher.messages[0]["text"]
    assert slots[SLOT] is None and slots["service"] is None
    assert await recorded(db) == [
        (
            "guidance.online_outcome",
            "webchat:test-session",
            {"service": SERVICE, "outcome": "done", "asked": "first"},
        )
    ]


async def test_problem_offers_the_offline_way_a_person_and_a_ticket(db: Database) -> None:
    service = service_by_id(SERVICE)
    assert service is not None and service.offline is not None
    dispatcher = CollectingDispatcher()
    t = tracker(button("online_problem"), {SLOT: question()})
    slots = slot_events(await ActionOnlineOutcome().run(dispatcher, t, {}))
    text = dispatcher.messages[0]["text"]
    assert service.offline.office in text and service.offline.hours in text
    assert all(m in text for m in service.offline.materials)
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        '/request_service_guide{"service":"residence_permit","service_mode":"offline"}',
        "/request_human",
        '/online_ticket{"service":"residence_permit"}',
    ]
    assert slots[SLOT] is None
    outcome = {"service": SERVICE, "outcome": "problem", "asked": "first"}
    assert (await recorded(db))[0][2] == outcome


async def test_typed_answer_uses_the_open_question(db: Database) -> None:
    """ "网上办不了" typed, no button: the open question names the service."""
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("网上办不了", "online_problem"), {SLOT: question(followup=True)})
    await ActionOnlineOutcome().run(dispatcher, t, {})
    assert (await recorded(db))[0][2] == {
        "service": SERVICE,
        "outcome": "problem",
        "asked": "followup",
    }


async def test_an_answer_without_an_open_question_helps_but_records_nothing(
    db: Database,
) -> None:
    """An old button pressed again after the answer, or after the expiry: one
    outcome per offer at most."""
    for slot in (None, question(days_ago=8)):
        dispatcher = CollectingDispatcher()
        t = tracker(button("online_problem"), {SLOT: slot})
        await ActionOnlineOutcome().run(dispatcher, t, {})
        assert "/request_human" in [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert await recorded(db) == []


async def test_problem_with_no_service_known_asks_which(db: Database) -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("遇到问题", "online_problem"))
    await ActionOnlineOutcome().run(dispatcher, t, {})
    assert "哪项业务" in dispatcher.messages[0]["text"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        "/request_service_guide",
        "/request_human",
        "/online_ticket",
    ]


async def test_done_with_nothing_asked_and_no_service_asks_what_is_meant(db: Database) -> None:
    """ "我那单搞掂未啊" read as "办好了": nothing was asked and no service is
    known, so the assistant asks whether it is about a ticket's progress
    instead of thanking for a result; nothing is recorded."""
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("我那单搞掂未啊", "online_done"))
    await ActionOnlineOutcome().run(dispatcher, t, {})
    assert "太好了" not in dispatcher.messages[0]["text"]
    assert "工单" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/check_ticket"
    assert await recorded(db) == []
    # a service known from the guide just read: the thanks as before
    known = tracker(parse_data("办好了", "online_done"), {"last_service": SERVICE})
    dispatcher = CollectingDispatcher()
    await ActionOnlineOutcome().run(dispatcher, known, {})
    assert dispatcher.messages[0]["text"].startswith("太好了")


async def test_ticket_starts_the_form_with_the_online_way_as_the_place() -> None:
    service = service_by_id(SERVICE)
    assert service is not None and service.online is not None
    dispatcher = CollectingDispatcher()
    t = tracker(button("online_ticket"), {"complaint_what": "旧的"})
    slots = slot_events(await ActionStartOnlineTicket().run(dispatcher, t, {}))
    assert slots["complaint_what"] is None and slots["complaint_type"] == "complaint"
    where = slots["complaint_where"]
    assert service.name in where and service.online.entry in where
    assert slots["complaint_submission_id"]
    assert service.department in dispatcher.messages[0]["text"]


# --- the next contact ------------------------------------------------------------


async def session_start(slot: Any) -> tuple[CollectingDispatcher, list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("你好", "greet"), {SLOT: slot, "last_service": "x", "rating": "5"})
    return dispatcher, await ActionSessionStart().run(dispatcher, t, {})


async def test_next_contact_asks_once_more(db: Database) -> None:
    dispatcher, result = await session_start(question(days_ago=2))
    assert result[0]["event"] == "session_started"
    assert (result[-1]["event"], result[-1]["name"]) == ("action", "action_listen")
    slots = slot_events(result)
    assert set(slots) == {SLOT}  # nothing else is carried over
    assert slots[SLOT]["followup"] is True
    assert "居住证申领" in dispatcher.messages[0]["text"]
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["已办好", "遇到问题"]
    assert await recorded(db) == [
        ("guidance.online_followup_asked", "webchat:test-session", {"service": SERVICE})
    ]
    # The contact after that: carried, never asked again.
    dispatcher, result = await session_start(slot_events(result)[SLOT])
    assert dispatcher.messages == []
    assert slot_events(result)[SLOT]["followup"] is True
    assert len(await recorded(db)) == 1


async def test_next_contact_after_an_answer_asks_nothing(db: Database) -> None:
    dispatcher, result = await session_start(None)
    assert dispatcher.messages == [] and slot_events(result) == {}
    assert await recorded(db) == []


async def test_next_contact_after_the_window_drops_the_question(db: Database) -> None:
    days = FOLLOWUP_WINDOW.days + 0.1
    dispatcher, result = await session_start(question(days_ago=days))
    assert dispatcher.messages == [] and slot_events(result) == {}
    assert await recorded(db) == []


async def test_a_malformed_slot_is_dropped(db: Database) -> None:
    for bad in ({"service": SERVICE, "offered_at": "gestern"}, "residence_permit", {"x": 1}):
        dispatcher, result = await session_start(bad)
        assert dispatcher.messages == [] and slot_events(result) == {}
    assert await recorded(db) == []
