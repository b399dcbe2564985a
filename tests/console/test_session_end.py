"""结束会话 in the widget (POST /webchat/session/end) while the conversation is
with the handoff: a queued citizen leaves the queue as by their own cancel,
and a conversation held by an agent is closed as by the citizen, the agent's
console being told at once ("市民已结束会话").

Before, the queue entry stayed (an agent could claim a citizen who had gone)
and the agent's chat stayed open as if the citizen were still there.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from tests.console.conftest import Agent, MakeReplica, SignIn, connect
from tests.support.waiting import eventually, frames_until

CITIZEN_LEFT = "市民已结束会话"


async def _queued_widget(
    client: TestClient,
) -> tuple[dict[str, Any], aiohttp.ClientWebSocketResponse]:
    """A widget session whose citizen asked for an agent and is queued."""
    session = await (await client.post("/webchat/session")).json()
    widget = await client.ws_connect("/webchat/ws", params={"token": session["token"]})
    await widget.send_json({"type": "message", "id": "m1", "text": "转人工"})
    while True:
        msg = await widget.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        frame = json.loads(msg.data)
        if "排在第" in (frame.get("text") or "") or "没有人工客服在线" in (frame.get("text") or ""):
            return session, widget


async def _end(client: TestClient, token: str) -> None:
    resp = await client.post("/webchat/session/end", json={"token": token})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["ended"] is True


async def _queued_ids(agent: Agent) -> list[str]:
    queue = await agent.json("/console/api/queue")
    return [item["conversation_id"] for item in queue["items"]]


async def test_a_queued_citizen_who_ends_the_session_leaves_the_queue(
    make_replica: MakeReplica, sign_in: SignIn
) -> None:
    client = await make_replica()
    agent = await sign_in(client, "zhangsan", display_name="张三")
    session, widget = await _queued_widget(client)
    cid = session["conversation_id"]
    assert cid in await _queued_ids(agent)

    await _end(client, session["token"])

    async def gone() -> bool:
        return cid not in await _queued_ids(agent)

    await eventually(gone)
    claim = await agent.post(f"/console/api/conversations/{cid}/claim")
    assert claim.status == 409, await claim.text()
    assert (await claim.json())["message"] == "市民已取消排队"
    await widget.close()


async def test_ending_a_held_conversation_tells_the_agent_and_closes_it(
    make_replica: MakeReplica, sign_in: SignIn
) -> None:
    client = await make_replica()
    agent = await sign_in(client, "zhangsan", display_name="张三")
    agent_ws = await connect(agent)
    session, widget = await _queued_widget(client)
    cid = session["conversation_id"]
    base = f"/console/api/conversations/{cid}"
    assert (await agent.post(base + "/claim")).status == 200

    await _end(client, session["token"])

    frames = await frames_until(
        agent_ws,
        lambda fs: any(f["type"] == "notice" and f.get("conversation_id") == cid for f in fs),
    )
    notice = next(f for f in frames if f["type"] == "notice")
    assert notice["text"] == CITIZEN_LEFT

    async def closed() -> bool:
        detail = await agent.json(base)
        return bool(detail["state"] == "closed")

    await eventually(closed)
    detail = await agent.json(base)
    lines = [(e["sender"], e["text"]) for e in detail["entries"]]
    assert lines[-2:] == [("citizen", "结束会话"), ("system", CITIZEN_LEFT)], lines
    queue = await agent.json("/console/api/queue")
    assert cid not in [item["conversation_id"] for item in queue["active"]]
    said = await agent.post(base + "/messages", {"text": "您还在吗？"})
    assert said.status == 409, await said.text()  # no longer held: nobody to talk to
    await widget.close()
