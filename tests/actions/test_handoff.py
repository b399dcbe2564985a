"""Handoff signalling and the offer of a person."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff, ActionOfferHuman
from tests.actions.helpers import leaves_loop, parse_data, tracker, user_event

DOMAIN: dict = {}


def _handoff(dispatcher: CollectingDispatcher) -> dict:
    custom = [m["custom"] for m in dispatcher.messages if m.get("custom")]
    assert len(custom) == 1
    return custom[0]["handoff"]


async def test_request_signals_a_normal_handoff_with_a_summary() -> None:
    dispatcher = CollectingDispatcher()
    history = [user_event(parse_data("我想问社保的事", "faq"))]
    t = tracker(parse_data("转人工", "request_human"), {"contact_phone": "13812345678"}, history)
    events = await ActionHandoff().run(dispatcher, t, DOMAIN)
    handoff = _handoff(dispatcher)
    assert handoff["reason"] == "citizen_request" and handoff["priority"] == "normal"
    assert handoff["summary"]["slots"]["contact_phone"] == "138****5678"
    assert "我想问社保的事" in handoff["summary"]["last_messages"]
    assert "人工" in dispatcher.messages[0]["text"]
    assert events == []


async def test_emergency_is_urgent() -> None:
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker(parse_data("着火了", "emergency")), DOMAIN)
    assert _handoff(dispatcher)["priority"] == "urgent"


async def test_handoff_during_a_form_leaves_the_form() -> None:
    t = tracker(parse_data("找人工", "request_human"), active_loop="complaint_form")
    events = await ActionHandoff().run(CollectingDispatcher(), t, DOMAIN)
    assert leaves_loop(events)


async def test_angry_citizen_is_offered_a_person() -> None:
    dispatcher = CollectingDispatcher()
    await ActionOfferHuman().run(dispatcher, tracker(parse_data("什么破系统", "angry")), DOMAIN)
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/request_human"


async def test_summary_shows_the_sealed_phone_masked_never_the_seal() -> None:
    """The summary goes out as the citizen typed it (the front door masks it on
    its way in, tests/test_hub.py and tests/console/test_callback.py); the
    phone slot, kept encrypted, is shown masked, never as its ``enc:`` seal."""
    from actions.complaints import seal_phone

    history = [user_event(parse_data("我电话13912345678", "inform"))]
    slots = {"contact_phone": seal_phone("13812345678"), "complaint_what": "楼下太吵"}
    t = tracker(parse_data("转人工", "request_human"), slots, history)
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, t, DOMAIN)
    summary = _handoff(dispatcher)["summary"]
    assert "enc:" not in str(summary) and "13812345678" not in str(summary)
    assert summary["slots"]["contact_phone"] == "138****5678"
    assert summary["slots"]["complaint_what"] == "楼下太吵"
    assert "我电话13912345678" in summary["last_messages"]


async def test_words_of_danger_make_an_emergency_handoff_whatever_the_intent() -> None:
    # The model heard "a person, please"; the words say fire: it gets the
    # emergency head start in the queue (bot.hub_routing.handoff_score).
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("楼下着火了，快转人工", "request_human"))
    await ActionHandoff().run(dispatcher, t, DOMAIN)
    assert _handoff(dispatcher)["reason"] == "emergency"
    history = [user_event(parse_data("有煤气味", "nlu_fallback"))]
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(
        dispatcher, tracker(parse_data("转人工", "request_human"), None, history), DOMAIN
    )
    assert _handoff(dispatcher)["reason"] == "emergency"
    # the NLU's learned detector raised the alarm (no word of the list)
    alarmed = parse_data(
        "快转人工 我爸推不醒", "request_human", danger={"p": 0.9, "alarm": True, "words": []}
    )
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker(alarmed), DOMAIN)
    assert _handoff(dispatcher)["reason"] == "emergency"
    dispatcher = CollectingDispatcher()
    await ActionHandoff().run(dispatcher, tracker(parse_data("气死我了", "angry")), DOMAIN)
    assert _handoff(dispatcher)["reason"] == "angry"
