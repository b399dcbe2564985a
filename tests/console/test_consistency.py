"""The store's conversation state and the SQL handoff record agree after every
transition the console makes (bot/console/conversations.py gives the order),
on the in-process store and on Redis, without a sweep in between."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.console import texts
from bot.console.context import Console
from bot.console.queue import claim_key
from bot.conversations import ConversationState
from tests.console.conftest import Agent, SignIn, connect, console_of, runtime_of, said_to, say

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


async def on_duty(
    client: TestClient, sign_in: SignIn, people: int = 1
) -> tuple[Console, list[Agent]]:
    """No sweep (nothing here may rely on it); 张三 (and 李四) signed in and connected."""
    runtime_of(client).sweeper.stopped = True
    names = [("zhangsan", "张三"), ("lisi", "李四")][:people]
    agents = [await sign_in(client, user, display_name=name) for user, name in names]
    for agent in agents:
        await connect(agent)
    return console_of(client), agents


async def test_every_transition_keeps_store_and_sql_in_step(
    client: TestClient, sign_in: SignIn
) -> None:
    console, (agent, colleague) = await on_duty(client, sign_in, 2)
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
    console, [agent] = await on_duty(client, sign_in)
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


# --- the two crash windows closed by construction (no sweep) ---------------------
# A replica that stops between two writes leaves them half-done; the next reader
# under the conversation's lock (the citizen's next message, an agent's claim)
# finishes them (Desk.settle). The sweeper is stopped in every test below.


class Stopped(RuntimeError):
    """The replica stops here (raised between the two writes)."""


def stop_once(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[int]:
    """Make ``owner.name`` raise :class:`Stopped` on its first call; the calls seen."""
    real = getattr(owner, name)
    calls: list[int] = []

    async def stopping(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise Stopped(name)
        return await real(*args, **kwargs)

    monkeypatch.setattr(owner, name, stopping)
    return calls


async def rows_of(console: Console, cid: str = CID) -> list[int]:
    """Ids of every handoff row of ``cid`` (open or ended)."""
    latest = await console.handoffs.latest(cid)
    if latest is None:
        return []
    return [i for i in range(1, latest.id + 1) if (r := await console.handoffs.get(i)) and
            r.conversation_id == cid]  # fmt: skip


async def test_a_handoff_stopped_after_its_row_is_finished_by_the_next_message(
    client: TestClient, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    console, [agent] = await on_duty(client, sign_in)
    stop_once(monkeypatch, console.conversations, "opened")  # SQL row written, store not
    await say(client, "c1", "转人工")
    conv = await console.conv(CID)
    assert conv.state is ConversationState.QUEUED and conv.handoff_id is None
    [row] = await console.handoffs.open_rows()
    # the citizen writes again: the same row is named in the store, none added
    assert await say(client, "c1", "还在吗") == [texts.queued_ack().text]  # waits for an agent
    assert await agree(console) is ConversationState.QUEUED
    assert (await console.conv(CID)).handoff_id == str(row.id)
    assert await rows_of(console) == [row.id]
    assert (await agent.post(CONV + "/claim")).status == 200
    assert await agree(console) is ConversationState.WITH_AGENT


async def test_a_handoff_stopped_after_its_row_is_finished_by_a_claim(
    client: TestClient, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    console, [agent] = await on_duty(client, sign_in)
    stop_once(monkeypatch, console.conversations, "opened")
    await say(client, "c1", "转人工")
    [row] = await console.handoffs.open_rows()
    resp = await agent.post(CONV + "/claim")  # was 409 "会话正在进入队列" until the sweep
    assert resp.status == 200, await resp.text()
    assert await agree(console) is ConversationState.WITH_AGENT
    assert (await console.conv(CID)).handoff_id == str(row.id)
    assert await rows_of(console) == [row.id]
    assert texts.agent_joined("张三").text in [t for _, t in await said_to(client, CID)]


async def test_a_handoff_stopped_before_its_row_is_finished_by_a_claim(
    client: TestClient, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    console, [agent] = await on_duty(client, sign_in)
    stop_once(monkeypatch, console.handoffs, "open")  # store queued, no SQL row
    await say(client, "c1", "转人工")
    assert await console.state(CID) is ConversationState.QUEUED
    assert await console.handoffs.open_rows() == []
    assert (await agent.post(CONV + "/claim")).status == 200
    assert await agree(console) is ConversationState.WITH_AGENT
    assert len(await rows_of(console)) == 1


async def test_a_later_handoff_never_reuses_the_previous_stays_row(
    client: TestClient, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    console, [agent] = await on_duty(client, sign_in)
    await say(client, "c1", "转人工")
    assert (await agent.post(CONV + "/claim")).status == 200
    assert (await agent.post(CONV + "/handback")).status == 200
    first = await console.handoffs.latest(CID)
    assert first is not None
    stop_once(monkeypatch, console.handoffs, "open")
    await say(client, "c1", "转人工")  # stops before the second stay's row
    assert (await console.conv(CID)).handoff_id is None  # not the first stay's id
    await say(client, "c1", "还在吗")
    assert await agree(console) is ConversationState.QUEUED
    assert int((await console.conv(CID)).handoff_id or 0) > first.id


async def half_done_claim(console: Console, agent_id: int, name: str, username: str) -> int:
    """What a claim that stopped between the SQL claim and the store's assign()
    left: the claim key and the claimed row; the store still says queued."""
    conv = await console.conv(CID)
    handoff_id = int(conv.handoff_id or 0)
    assert await console.store.acquire_lock(claim_key(str(handoff_id)), f"{agent_id}|{name}", 60)
    assert await console.handoffs.claim(handoff_id, username)
    assert await console.state(CID) is ConversationState.QUEUED
    return handoff_id


async def test_a_claim_stopped_before_the_store_is_finished_by_the_citizens_next_message(
    client: TestClient, sign_in: SignIn
) -> None:
    console, [agent] = await on_duty(client, sign_in)
    await say(client, "c1", "转人工")
    await half_done_claim(console, agent.id, "张三", "zhangsan")
    # to the agent; the citizen hears the agent joined, not "please wait"
    assert await say(client, "c1", "有人吗") == [texts.agent_joined("张三").text]
    assert await agree(console) is ConversationState.WITH_AGENT
    assert (await console.conv(CID)).agent_username == "zhangsan"
    assert texts.agent_joined("张三").text in [t for _, t in await said_to(client, CID)]
    await say(client, "c1", "取消")  # goes to the agent now: nothing changes
    assert await agree(console) is ConversationState.WITH_AGENT


async def test_a_claim_stopped_before_the_store_is_finished_by_the_next_claim(
    client: TestClient, sign_in: SignIn
) -> None:
    console, (agent, colleague) = await on_duty(client, sign_in, 2)
    await say(client, "c1", "转人工")
    await half_done_claim(console, agent.id, "张三", "zhangsan")
    resp = await colleague.post(CONV + "/claim")
    assert resp.status == 409 and (await resp.json())["message"] == "已被 张三 接入"
    assert await agree(console) is ConversationState.WITH_AGENT
    assert (await console.conv(CID)).agent_username == "zhangsan"
    # the agent whose claim stopped tries again: it is theirs
    assert (await agent.post(CONV + "/claim")).status == 200
    assert await agree(console) is ConversationState.WITH_AGENT
    assert (await agent.post(CONV + "/close")).status == 200
    assert await agree(console) is ConversationState.CLOSED


# --- a held conversation's way out stopped between SQL and the store --------------
# Every way out of a held stay writes SQL first; the citizen's next message
# (Desk.settle under the conversation's lock) brings the store in line, no sweep.


async def test_a_requeue_stopped_before_its_new_row_is_finished_by_the_next_message(
    client: TestClient, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    console, [agent] = await on_duty(client, sign_in)
    await say(client, "c1", "转人工")
    assert (await agent.post(CONV + "/claim")).status == 200
    old = await console.handoffs.latest(CID)
    assert old is not None
    stop_once(monkeypatch, console.handoffs, "open")  # the old row ended, no new one
    with pytest.raises(Stopped):
        await runtime_of(client).desk.requeue(CID, "坐席离线")
    assert await console.state(CID) is ConversationState.WITH_AGENT
    assert await console.handoffs.open_rows() == []  # the sweep sees nothing to repair
    assert (await say(client, "c1", "还有人吗"))[-1] == texts.queued_ack().text
    assert await agree(console) is ConversationState.QUEUED
    conv = await console.conv(CID)
    assert int(conv.handoff_id or 0) > old.id and conv.agent_id is None
    assert (await agent.post(CONV + "/claim")).status == 200
    assert await agree(console) is ConversationState.WITH_AGENT


async def test_a_requeue_stopped_before_the_store_reuses_its_new_row(
    client: TestClient, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    console, [agent] = await on_duty(client, sign_in)
    await say(client, "c1", "转人工")
    assert (await agent.post(CONV + "/claim")).status == 200
    stop_once(monkeypatch, console.conversations, "requeue")  # both SQL rows written
    with pytest.raises(Stopped):
        await runtime_of(client).desk.requeue(CID, "坐席离线")
    [new] = await console.handoffs.open_rows()
    assert await console.state(CID) is ConversationState.WITH_AGENT
    await say(client, "c1", "还有人吗")
    assert await agree(console) is ConversationState.QUEUED
    assert (await console.conv(CID)).handoff_id == str(new.id)
    assert (await rows_of(console))[-1] == new.id  # no third row


async def test_a_requeue_run_again_after_a_stop_finishes_it(
    client: TestClient, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    console, [agent] = await on_duty(client, sign_in)
    await say(client, "c1", "转人工")
    assert (await agent.post(CONV + "/claim")).status == 200
    stop_once(monkeypatch, console.handoffs, "open")
    desk = runtime_of(client).desk
    with pytest.raises(Stopped):
        await desk.requeue(CID, "坐席离线")
    assert await desk.requeue(CID, "坐席离线")  # e.g. the sweep's next round
    assert await agree(console) is ConversationState.QUEUED
    assert not await desk.requeue(CID, "坐席离线")  # queued: nothing left to do


async def test_a_transfer_stopped_before_the_store_is_finished_by_the_next_message(
    client: TestClient, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    console, (agent, colleague) = await on_duty(client, sign_in, 2)
    await say(client, "c1", "转人工")
    assert (await agent.post(CONV + "/claim")).status == 200
    stop_once(monkeypatch, console.conversations, "transfer")  # SQL names 李四, the store 张三
    resp = await agent.post(CONV + "/transfer", {"user_id": colleague.id})
    assert resp.status == 500  # the error middleware's answer to the stop
    assert (await console.conv(CID)).agent_username == "zhangsan"
    await say(client, "c1", "你好")
    assert await agree(console) is ConversationState.WITH_AGENT
    assert (await console.conv(CID)).agent_username == "lisi"
