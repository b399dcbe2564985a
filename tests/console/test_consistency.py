"""The store's conversation state and the SQL handoff record agree after every
transition the console makes (bot/console/conversations.py gives the order),
on the in-process store and on Redis, without a sweep in between."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from bot.console.context import Console
from bot.conversations import ConversationState
from tests.console.conftest import SignIn, connect, console_of, runtime_of, say

CID = "rest:t:c1"
CONV = f"/console/api/conversations/{CID}"


async def agree(console: Console, cid: str = CID) -> ConversationState:
    """Assert the store and SQL tell the same story of ``cid``; its state."""
    conv = await console.conv(cid)
    open_rows = [r for r in await console.handoffs.open_rows() if r.conversation_id == cid]
    queue = await console.conversations.queue_order()
    if conv.state is ConversationState.QUEUED:
        assert [str(r.id) for r in open_rows] == [conv.handoff_id]
        assert open_rows[0].claimed_by is None
        assert cid in queue
    elif conv.state is ConversationState.WITH_AGENT:
        assert [str(r.id) for r in open_rows] == [conv.handoff_id]
        assert open_rows[0].claimed_by == conv.agent_username
        assert cid not in queue
    else:
        assert open_rows == [] and cid not in queue
        assert conv.agent_id is None
    return conv.state


async def test_every_transition_keeps_store_and_sql_in_step(
    client: TestClient, sign_in: SignIn
) -> None:
    runtime_of(client).sweeper.stopped = True
    console = console_of(client)
    agent = await sign_in(client, "zhangsan", display_name="张三")
    colleague = await sign_in(client, "lisi", display_name="李四")
    await connect(agent)
    await connect(colleague)
    assert await agree(console) is ConversationState.BOT
    await say(client, "c1", "转人工")  # queue, then the row opened
    assert await agree(console) is ConversationState.QUEUED
    assert (await agent.post(CONV + "/claim")).status == 200
    assert await agree(console) is ConversationState.WITH_AGENT
    assert (await agent.post(CONV + "/transfer", {"user_id": colleague.id})).status == 200
    assert await agree(console) is ConversationState.WITH_AGENT
    assert (await console.conv(CID)).agent_username == "lisi"
    assert (await colleague.post(CONV + "/handback")).status == 200
    assert await agree(console) is ConversationState.BOT
    await say(client, "c1", "转人工")
    await say(client, "c1", "取消")  # the citizen leaves the queue
    assert await agree(console) is ConversationState.BOT
    assert (await console.handoffs.latest(CID)).outcome == "abandoned"  # type: ignore[union-attr]
    await say(client, "c1", "转人工")
    assert (await agent.post(CONV + "/claim")).status == 200
    assert await runtime_of(client).desk.requeue(CID, "坐席离线")  # the agent is gone
    assert await agree(console) is ConversationState.QUEUED
    assert (await colleague.post(CONV + "/claim")).status == 200
    assert await agree(console) is ConversationState.WITH_AGENT
    assert (await colleague.post(CONV + "/close")).status == 200
    assert await agree(console) is ConversationState.CLOSED
    assert (await console.conv(CID)).rating_pending is not None
    assert (await agent.post(CONV + "/takeover")).status == 200  # from the assistant
    assert await agree(console) is ConversationState.WITH_AGENT
    assert (await console.conv(CID)).handoff_reason == "taken_over"


async def test_refused_transitions_change_neither(client: TestClient, sign_in: SignIn) -> None:
    runtime_of(client).sweeper.stopped = True
    console = console_of(client)
    agent = await sign_in(client, "zhangsan", display_name="张三")
    colleague = await sign_in(client, "lisi", display_name="李四")
    await connect(agent)
    # nothing to claim, hand back or close while the assistant has it
    assert (await agent.post(CONV + "/claim")).status == 409
    assert (await agent.post(CONV + "/handback")).status == 409
    assert (await agent.post(CONV + "/close")).status == 409
    assert await agree(console) is ConversationState.BOT
    await say(client, "c1", "转人工")
    assert (await agent.post(CONV + "/claim")).status == 200
    # a second claim, a colleague's hand back: refused; the holder stays
    assert (await colleague.post(CONV + "/claim")).status == 409
    assert (await colleague.post(CONV + "/handback")).status == 403
    assert await agree(console) is ConversationState.WITH_AGENT
    assert (await console.conv(CID)).agent_username == "zhangsan"
    # the citizen's cancel comes too late: an agent holds it
    await say(client, "c1", "取消")
    assert await agree(console) is ConversationState.WITH_AGENT


async def test_an_ending_stopped_between_sql_and_the_store_is_finished_next_time(
    client: TestClient, sign_in: SignIn
) -> None:
    runtime_of(client).sweeper.stopped = True
    console = console_of(client)
    agent = await sign_in(client, "zhangsan", display_name="张三")
    await connect(agent)
    await say(client, "c1", "转人工")
    assert (await agent.post(CONV + "/claim")).status == 200
    row = await console.handoffs.latest(CID)
    assert row is not None
    # a replica ended the row, then stopped before the store step
    assert await console.handoffs.end(row.id, "handed_back")
    assert await console.state(CID) is ConversationState.WITH_AGENT
    resp = await agent.post(CONV + "/handback")
    assert resp.status == 409 and (await resp.json())["message"] == "该会话已结束"
    assert await agree(console) is ConversationState.BOT
    assert await say(client, "c1", "你好") != []  # the assistant answers again


async def test_a_requeue_stopped_between_sql_and_the_store_is_finished_by_the_sweep(
    client: TestClient, sign_in: SignIn
) -> None:
    runtime = runtime_of(client)
    runtime.sweeper.stopped = True
    console = console_of(client)
    agent = await sign_in(client, "zhangsan", display_name="张三")
    await connect(agent)
    await say(client, "c1", "转人工")
    assert (await agent.post(CONV + "/claim")).status == 200
    old = await console.handoffs.latest(CID)
    assert old is not None
    # the requeue's SQL steps ran, then its replica stopped before the store's
    assert await console.handoffs.end(old.id, "requeued")
    new_id = await console.handoffs.open(
        conversation_id=CID, channel=old.channel, reason=old.reason,
        priority=old.priority, summary=old.summary,
    )  # fmt: skip
    assert await console.state(CID) is ConversationState.WITH_AGENT
    await runtime.sweeper.run_once()
    assert await agree(console) is ConversationState.QUEUED
    conv = await console.conv(CID)
    assert conv.handoff_id == str(new_id) and conv.agent_id is None
    row = await console.handoffs.get(new_id)
    assert row is not None and row.ended_at is None
