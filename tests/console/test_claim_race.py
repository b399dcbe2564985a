"""Claiming is atomic across replicas: 20 agents on two app instances, one winner."""

from __future__ import annotations

import asyncio

from bot.store import MemoryStore, SharedStore
from tests.console.conftest import MakeReplica, SignIn, console_of, runtime_of, said_to, say


async def test_twenty_claims_from_two_replicas_one_winner(
    make_replica: MakeReplica, sign_in: SignIn, store: SharedStore
) -> None:
    first, second = await make_replica(), await make_replica()
    # These agents never open the console's socket (no presence): the sweep, every
    # 10 s, would requeue the winner's conversation as "agent gone" and a slower
    # claimer, still waiting for the lock on a loaded machine, would win it again.
    for replica in (first, second):
        runtime_of(replica).sweeper.stopped = True
    await say(first, "c1", "转人工")
    agents = [
        await sign_in((first, second)[i % 2], f"agent{i:02d}", display_name=f"坐席{i:02d}")
        for i in range(20)
    ]
    path = "/console/api/conversations/rest:t:c1/claim"
    responses = await asyncio.gather(*(a.post(path) for a in agents))
    statuses = [r.status for r in responses]
    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == 19
    winner = agents[statuses.index(200)]
    messages = {(await r.json())["message"] for r in responses if r.status == 409}
    assert messages == {f"已被 {winner.display_name} 接入"}
    console = console_of(second)
    row = await console.handoffs.latest("rest:t:c1")
    assert row is not None and row.claimed_by == winner.username
    joined = [t for s, t in await said_to(first, "rest:t:c1") if "已为您接入" in t]
    assert joined == [f"人工客服 {winner.display_name} 已为您接入，请问有什么可以帮您？"]
    assert (await console.conv("rest:t:c1")).agent_username == winner.username
    if not isinstance(store, MemoryStore):
        assert store.__class__.__name__ == "RedisStore"  # the real proof runs on Redis


async def test_cancel_and_claim_at_once_exactly_one_happens(
    make_replica: MakeReplica, sign_in: SignIn
) -> None:
    first, second = await make_replica(), await make_replica()
    for i in range(5):
        await say(first, f"r{i}", "转人工")
        agent = await sign_in(second, f"agent{i}")
        claim = agent.post(f"/console/api/conversations/rest:t:r{i}/claim")
        cancel = say(first, f"r{i}", "取消")
        resp, replies = await asyncio.gather(claim, cancel)
        console = console_of(first)
        state = await console.state(f"rest:t:r{i}")
        if resp.status == 200:
            # The claim's greeting is pushed to the same REST sender: it is in
            # this response when the push came before the answer to "取消",
            # else it waits in the sender's outbox for the next request. Either
            # way it is in the citizen's transcript. The "取消" either lost the
            # race for the queue entry (the citizen is told an agent has joined)
            # or came after the claim and went to the agent like any message
            # (no answer from the front door).
            told = [text for _, text in await said_to(first, f"rest:t:r{i}")]
            assert state == "with_agent"
            answered = [r for r in replies if "已为您接入" not in r]  # not the greeting
            assert "客服已经接入，请直接描述您的问题。" in told or answered == []
            assert set(replies) <= set(told)
        else:
            assert state == "bot" and (await resp.json())["message"] == "市民已取消排队"
