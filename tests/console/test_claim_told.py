"""Review: a claim the citizen was told about is never undone.

Once the conversation is the agent's and the citizen got the greeting
("人工客服 张三 已为您接入"), what follows (the statistics event, the
consoles' ``claimed`` event, the queue refresh) is best effort: a failure
there is logged, the claim stands, the agent's request succeeds.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.console.queue import claim_key
from bot.conversations import ConversationState
from tests.console.conftest import MakeReplica, SignIn, connect, console_of, said_to, say
from tests.support.rest_auth import rest_cid

CID = rest_cid("c1")


async def test_a_failing_notifier_after_the_greeting_does_not_undo_the_claim(
    make_replica: MakeReplica, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await make_replica()
    console = console_of(client)
    agent = await sign_in(client, "zhangsan", display_name="张三")
    await connect(agent)
    await say(client, "c1", "转人工")
    handoff_id = (await console.conv(CID)).handoff_id

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionResetError("store connection lost")

    monkeypatch.setattr(console.notifier, "claimed", broken)
    monkeypatch.setattr(console.notifier, "queue_changed", broken)
    resp = await agent.post(f"/console/api/conversations/{CID}/claim")
    assert resp.status == 200, await resp.text()
    joined = [t for _, t in await said_to(client, CID) if "已为您接入" in t]
    assert joined == ["人工客服 张三 已为您接入，请问有什么可以帮您？"]
    # the claim stands everywhere: state, SQL row, claim key
    conv = await console.conv(CID)
    assert conv.state is ConversationState.WITH_AGENT and conv.agent_username == "zhangsan"
    row = await console.handoffs.get(int(handoff_id))
    assert row is not None and row.claimed_by == "zhangsan" and row.ended_at is None
    assert (await console.store.get(claim_key(handoff_id)) or "").startswith(f"{agent.id}|")
    # the agent can talk to the citizen
    resp = await agent.post(f"/console/api/conversations/{CID}/messages", {"text": "您好"})
    assert resp.status in (200, 201), await resp.text()
