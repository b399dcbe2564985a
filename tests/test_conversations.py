"""bot/conversations.py: every transition of a conversation's state, on the
in-process store and on Redis, and the stored layout ARCHITECTURE.md keeps."""

from __future__ import annotations

import pytest

from bot.conversations import (
    AGENT_FIELDS,
    CONV_TTL,
    Agent,
    Conversation,
    Conversations,
    ConversationState,
)
from bot.store import SharedStore

CID = "rest:u1"
ZHANG = Agent(id=7, name="张三", username="zhangsan")
LI = Agent(id=8, name="李四", username="lisi")


async def queued(conversations: Conversations, cid: str = CID, score: float = 10.0) -> None:
    await conversations.queue(
        cid, channel="rest", channel_user_id=cid.split(":", 1)[1], reason="citizen_request",
        priority="normal", summary='{"slots": {}}', queued_at=1000.0, score=score,
    )  # fmt: skip


async def test_a_conversation_never_seen_is_with_the_assistant(store: SharedStore) -> None:
    conversations = Conversations(store)
    conv = await conversations.get(CID)
    assert conv == Conversation(id=CID)
    assert conv.state is ConversationState.BOT and not conv.exists
    assert await conversations.state(CID) is ConversationState.BOT
    assert await conversations.queue_order() == []
    assert await conversations.position(CID) is None


async def test_queue_then_opened(store: SharedStore) -> None:
    conversations = Conversations(store)
    await queued(conversations)
    conv = await conversations.get(CID)
    assert conv.state is ConversationState.QUEUED and conv.state.with_agents
    assert (conv.channel, conv.channel_user_id) == ("rest", "u1")
    assert (conv.handoff_reason, conv.handoff_priority) == ("citizen_request", "normal")
    assert conv.handoff_summary == '{"slots": {}}' and conv.queued_at == "1000.000"
    assert conv.handoff_id is None  # not claimable until its SQL row exists
    assert await conversations.queue_order() == [CID]
    assert await conversations.in_queue(CID) and await conversations.position(CID) == 1
    await conversations.opened(CID, 41)
    conv = await conversations.get(CID)
    assert conv.handoff_id == "41" and conv.callback == "" and conv.told_position == ""
    assert conv.state is ConversationState.QUEUED
    # a later stay in the queue starts without the previous stay's row
    await conversations.leave_queue(CID, 41)
    await queued(conversations)
    assert (await conversations.get(CID)).handoff_id is None


async def test_queue_order_follows_the_scores(store: SharedStore) -> None:
    conversations = Conversations(store)
    await queued(conversations, "rest:a", score=30.0)
    await queued(conversations, "rest:b", score=10.0)
    await queued(conversations, "rest:c", score=20.0)
    assert await conversations.queue_order() == ["rest:b", "rest:c", "rest:a"]
    assert await conversations.queue_order(1, 1) == ["rest:c"]
    assert await conversations.queue_size() == 3
    assert await conversations.position("rest:a") == 3


async def test_assign_holds_it_and_takes_it_out_of_the_queue(store: SharedStore) -> None:
    conversations = Conversations(store)
    await queued(conversations)
    await conversations.opened(CID, 41)
    await conversations.assign(CID, ZHANG, 41, claimed_at=1010.0)
    conv = await conversations.get(CID)
    assert conv.state is ConversationState.WITH_AGENT and conv.holder == "7"
    assert (conv.agent_name, conv.agent_username, conv.claimed_at) == (
        "张三",
        "zhangsan",
        "1010.000",
    )
    assert conv.held_by(7) and not conv.held_by(8) and conv.agent_user_id == 7
    assert conv.handoff_id == "41"
    assert await conversations.queue_order() == []


async def test_transfer_changes_only_the_holder(store: SharedStore) -> None:
    conversations = Conversations(store)
    await queued(conversations)
    await conversations.assign(CID, ZHANG, 41, claimed_at=1010.0)
    await conversations.transfer(CID, LI)
    conv = await conversations.get(CID)
    assert conv.state is ConversationState.WITH_AGENT and conv.held_by(8)
    assert (conv.agent_name, conv.agent_username) == ("李四", "lisi")
    assert conv.claimed_at == "1010.000" and conv.handoff_id == "41"


async def test_hand_back_forgets_the_agent(store: SharedStore) -> None:
    conversations = Conversations(store)
    await queued(conversations)
    await conversations.assign(CID, ZHANG, 41, claimed_at=1010.0)
    await conversations.hand_back(CID)
    conv = await conversations.get(CID)
    assert conv.state is ConversationState.BOT and not conv.state.with_agents
    assert all(getattr(conv, name) is None for name in AGENT_FIELDS)
    assert conv.handoff_id == "41" and conv.rating_pending is None


@pytest.mark.parametrize("rating", [41, None])
async def test_close_asks_for_a_rating_or_not(store: SharedStore, rating: int | None) -> None:
    conversations = Conversations(store)
    await queued(conversations)
    await conversations.assign(CID, ZHANG, 41, claimed_at=1010.0)
    await conversations.close(CID, rating_pending=rating)
    conv = await conversations.get(CID)
    assert conv.state is ConversationState.CLOSED and not conv.state.with_agents
    assert conv.agent_id is None and conv.holder is None
    assert conv.rating_pending == (None if rating is None else "41")


async def test_requeue_puts_it_back_under_a_new_row(store: SharedStore) -> None:
    conversations = Conversations(store)
    await queued(conversations, "rest:other", score=5.0)
    await queued(conversations)
    await conversations.assign(CID, ZHANG, 41, claimed_at=1010.0)
    await conversations.requeue(
        CID, handoff_id=42, priority="high", first_queued_at=1000.0, score=1.0
    )
    conv = await conversations.get(CID)
    assert conv.state is ConversationState.QUEUED and conv.agent_id is None
    assert (conv.handoff_id, conv.handoff_priority) == ("42", "high")
    assert conv.first_queued_at == "1000.000" and conv.queued_at is not None
    assert await conversations.queue_order() == [CID, "rest:other"]


async def test_leave_queue_goes_back_to_the_assistant(store: SharedStore) -> None:
    conversations = Conversations(store)
    await queued(conversations)
    await conversations.opened(CID, 41)
    await conversations.leave_queue(CID, 41, callback="offered")
    conv = await conversations.get(CID)
    assert conv.state is ConversationState.BOT
    assert (conv.callback, conv.callback_handoff, conv.told_position) == ("offered", "41", "")
    assert await conversations.queue_order() == []


async def test_take_over_from_the_assistant(store: SharedStore) -> None:
    conversations = Conversations(store)
    await conversations.mark_taken_over(CID, 43, queued_at=1000.0)
    conv = await conversations.get(CID)
    assert conv.state is ConversationState.BOT  # until the agent is seated
    assert (conv.handoff_id, conv.handoff_reason, conv.handoff_summary) == (
        "43",
        "taken_over",
        "{}",
    )
    assert (conv.channel, conv.channel_user_id, conv.handoff_priority) == ("rest", "u1", "normal")
    await conversations.assign(CID, ZHANG, 43, claimed_at=1001.0)
    assert await conversations.state(CID) is ConversationState.WITH_AGENT


async def test_repairs_from_the_sql_record(store: SharedStore) -> None:
    conversations = Conversations(store)
    fields = {"handoff_id": "44", "channel": "rest", "handoff_reason": "angry"}
    await conversations.restore_queued(CID, fields)
    assert (await conversations.get(CID)).handoff_reason == "angry"
    assert await conversations.state(CID) is ConversationState.QUEUED
    assert not await conversations.in_queue(CID)  # the order is put back separately
    await conversations.put_in_queue(CID, 3.0)
    assert await conversations.queue_order() == [CID]
    await conversations.set_handoff_id(CID, 45)
    assert (await conversations.get(CID)).handoff_id == "45"
    await conversations.restore_held(CID, {"handoff_id": "45", "agent_id": "7"})
    conv = await conversations.get(CID)
    assert conv.state is ConversationState.WITH_AGENT and conv.held_by(7)
    assert await conversations.queue_order() == []
    await conversations.put_in_queue("rest:stray", 1.0)
    await conversations.drop_from_queue("rest:stray")
    assert await conversations.queue_order() == []


async def test_the_citizens_dialogue_fields(store: SharedStore) -> None:
    conversations = Conversations(store)
    await conversations.close(CID, rating_pending=41)
    await conversations.set_callback(CID, "awaiting_phone")
    assert (await conversations.get(CID)).callback == "awaiting_phone"
    await conversations.clear_callback(CID)
    assert (await conversations.get(CID)).callback is None
    await conversations.rated(CID, 41)
    conv = await conversations.get(CID)
    assert conv.rating_pending is None and conv.rated_handoff == "41"
    await conversations.ask_comment(CID)
    assert (await conversations.get(CID)).comment_pending == "1"
    await conversations.comment_taken(CID)
    conv = await conversations.get(CID)
    assert conv.comment_pending is None and conv.state is ConversationState.CLOSED


async def test_force_sets_a_known_state_only(store: SharedStore) -> None:
    conversations = Conversations(store)
    await conversations.force(CID, "with_agent")
    assert await conversations.state(CID) is ConversationState.WITH_AGENT
    with pytest.raises(ValueError):
        await conversations.force(CID, "holding")
    assert await conversations.state(CID) is ConversationState.WITH_AGENT


async def test_the_stored_layout_is_the_stable_one(store: SharedStore) -> None:
    """``conv:<id>`` with the field names and TTL of ARCHITECTURE.md, the queue
    in ``handoff:queue``: running deployments read what this release writes."""
    conversations = Conversations(store)
    await queued(conversations)
    await conversations.assign(CID, ZHANG, 41, claimed_at=1010.0)
    raw = await store.hgetall(f"conv:{CID}")
    assert raw["state"] == "with_agent" and raw["agent_id"] == "7"
    assert raw["agent_username"] == "zhangsan" and raw["handoff_id"] == "41"
    assert float(raw["updated_at"]) > 0
    left = await store.ttl(f"conv:{CID}")
    assert left is not None and CONV_TTL - 60 < left <= CONV_TTL
    await store.hset(f"conv:{CID}", {"state": "queued"}, ttl=CONV_TTL)  # an older replica
    await store.zadd("handoff:queue", {CID: 1.0}, ttl=60)
    assert await conversations.state(CID) is ConversationState.QUEUED
    assert await conversations.queue_order() == [CID]


def test_unknown_stored_values_read_as_the_assistant() -> None:
    assert ConversationState.parse(None) is ConversationState.BOT
    assert ConversationState.parse("") is ConversationState.BOT
    assert ConversationState.parse("mystery") is ConversationState.BOT
    conv = Conversation.from_hash(CID, {"state": "queued", "unknown_field": "x"})
    assert conv.state is ConversationState.QUEUED and conv.exists
    assert conv.agent_user_id is None
    assert Conversation.from_hash(CID, {"agent_id": "x7"}).agent_user_id is None
