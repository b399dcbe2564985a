"""Failures: an agent's presence expiring, the store losing its state."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient

from bot.console.sweep import LOCK_NAME, Sweeper
from bot.store import SharedStore
from tests.console.conftest import (
    SignIn,
    connect,
    console_of,
    forget_conversations,
    runtime_of,
    said_to,
    say,
)
from tests.support.waiting import eventually


async def test_expired_presence_requeues_at_the_front(client: TestClient, sign_in: SignIn) -> None:
    console = console_of(client)
    console.presence.ttl = 0.5
    agent = await sign_in(client, "zhangsan", display_name="张三")
    ws = await connect(agent)
    await say(client, "c1", "转人工")
    await say(client, "c2", "转人工")
    assert (await agent.post("/console/api/conversations/rest:t:c1/claim")).status == 200
    await say(client, "c3", "转人工")
    await ws.close()  # the browser is gone: no more heartbeats
    await asyncio.sleep(0.7)
    report = await runtime_of(client).sweeper.run_once()
    assert report.requeued == ["rest:t:c1"]
    assert await console.state("rest:t:c1") == "queued"
    assert await console.conversations.queue_order() == ["rest:t:c1", "rest:t:c2", "rest:t:c3"]
    told = [t for _, t in await said_to(client, "rest:t:c1")]
    assert "客服连接中断，正在为您重新转接，请稍候。" in told
    notes = await console.notes.list("rest:t:c1")
    assert notes and "会话已自动退回队列" in notes[-1].text
    first = await console.handoffs.get(1)
    latest = await console.handoffs.latest("rest:t:c1")
    assert first is not None and first.outcome == "requeued"
    assert latest is not None and latest.claimed_by is None and latest.ended_at is None
    # a new agent can claim it again
    other = await sign_in(client, "lisi", display_name="李四")
    await connect(other)
    assert (await other.post("/console/api/conversations/rest:t:c1/claim")).status == 200
    assert (await runtime_of(client).sweeper.run_once()).requeued == []


async def test_heartbeats_keep_an_agent_present(client: TestClient, sign_in: SignIn) -> None:
    console = console_of(client)
    console.presence.ttl = 0.5
    agent = await sign_in(client, "zhangsan")
    ws = await connect(agent)
    await say(client, "c1", "转人工")
    assert (await agent.post("/console/api/conversations/rest:t:c1/claim")).status == 200
    for _ in range(4):
        await asyncio.sleep(0.25)
        await ws.send_json({"type": "heartbeat", "status": "away"})
    await asyncio.sleep(0.1)
    assert (await runtime_of(client).sweeper.run_once()).requeued == []
    present = await console.presence.all()
    assert [(a.username, a.status) for a in present] == [("zhangsan", "away")]
    assert await console.presence.online_count() == 0  # away agents take no new citizens


async def test_state_is_rebuilt_after_the_store_forgot_it(
    client: TestClient, sign_in: SignIn
) -> None:
    console = console_of(client)
    agent = await sign_in(client, "zhangsan", display_name="张三")
    await connect(agent)
    await say(client, "c1", "转人工")
    await say(client, "c2", "转人工")
    assert (await agent.post("/console/api/conversations/rest:t:c1/claim")).status == 200
    # Redis restarted without persistence: states and the queue are gone
    await forget_conversations(console.store)
    assert await console.state("rest:t:c1") == "bot"
    report = await runtime_of(client).sweeper.run_once()
    assert sorted(report.restored) == ["rest:t:c1", "rest:t:c2"]
    assert await console.state("rest:t:c1") == "with_agent"
    assert (await console.conv("rest:t:c1")).agent_name == "张三"
    assert await console.state("rest:t:c2") == "queued"
    assert await console.conversations.queue_order() == ["rest:t:c2"]
    # the agent goes on talking; the citizen's messages reach the agent, not Rasa
    assert (
        await agent.post("/console/api/conversations/rest:t:c1/messages", {"text": "还在"})
    ).status == 200


async def test_a_stray_queue_entry_gets_a_record(client: TestClient) -> None:
    console = console_of(client)
    await say(client, "c1", "转人工")
    async with console.db.write() as conn:
        from bot.db.schema import handoffs

        await conn.execute(handoffs.delete())
    report = await runtime_of(client).sweeper.run_once()
    assert report.restored == ["rest:t:c1"]
    row = await console.handoffs.latest("rest:t:c1")
    assert row is not None and row.ended_at is None


async def test_only_one_replica_sweeps_at_a_time(client: TestClient) -> None:
    runtime = runtime_of(client)
    runtime.sweeper.stopped = True  # keep the app's own periodic sweep out of the way
    store = console_of(client).store
    await asyncio.sleep(0.1)
    await eventually(lambda: _free(store))
    replicas = [Sweeper(runtime.desk) for _ in range(3)]
    results = await asyncio.gather(*(s.run_once() for s in replicas))
    assert sum(1 for r in results if r.ran) == 1


async def _free(store: SharedStore) -> bool:
    return await store.get(LOCK_NAME) is None
