"""The agents' desk calls for attention (issue 20): the supervisors' "all
conversations" view is pushed over the console socket (``live`` frames), not
polled, and a citizen's new message is marked as such for the unread counts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.console import agent_socket
from bot.console.events import LIVE_VIEW_KEY
from tests.console.conftest import MakeReplica, SignIn, connect, console_of, say
from tests.support.waiting import Frames, frames_until

CID = "rest:t:c1"
CONV = f"/console/api/conversations/{CID}"


def live_has(cid: str, state: str) -> Any:
    """A ``live`` frame lists ``cid`` in ``state``."""

    def check(frames: Frames) -> bool:
        return any(
            f["type"] == "live"
            and any(i["conversation_id"] == cid and i["state"] == state for i in f["items"])
            for f in frames
        )

    return check


async def test_live_view_is_pushed_to_supervisors(client: TestClient, sign_in: SignIn) -> None:
    await say(client, "bot1", "你好")
    supervisor = await sign_in(client, "banzhang", role="supervisor", display_name="王班长")
    ws = await connect(supervisor)
    await ws.send_json({"type": "live", "on": True})
    frames = await frames_until(ws, live_has("rest:t:bot1", "bot"))
    live = next(f for f in frames if f["type"] == "live")
    item = live["items"][0]
    assert item["state_name"] == "智能助手" and item["last_at"] <= live["at"]
    # a new citizen talking with the assistant shows up without any request
    await say(client, "bot2", "你好")
    await frames_until(ws, live_has("rest:t:bot2", "bot"))
    # and a handoff moves it to the queue
    await say(client, "bot2", "转人工")
    await frames_until(ws, live_has("rest:t:bot2", "queued"))
    # claimed by an agent: the view names the agent
    agent = await sign_in(client, "zhangsan", display_name="张三")
    assert (await agent.post("/console/api/conversations/rest:t:bot2/claim")).status == 200

    def served(frames: Frames) -> bool:
        return any(
            f["type"] == "live"
            and any(i["agent_name"] == "张三" and i["state"] == "with_agent" for i in f["items"])
            for f in frames
        )

    await frames_until(ws, served)


async def test_agents_cannot_switch_the_live_view_on(client: TestClient, sign_in: SignIn) -> None:
    agent = await sign_in(client, "zhangsan")
    ws = await connect(agent)
    await ws.send_json({"type": "live", "on": True})
    frames = await frames_until(ws, lambda fs: any(f["type"] == "error" for f in fs))
    error = next(f for f in frames if f["type"] == "error")
    assert error == {"type": "error", "code": "forbidden", "message": "仅班长可以查看全部会话"}
    assert not any(f["type"] == "live" for f in frames)
    # nobody shows the live view: turns with the assistant publish nothing for it
    assert await console_of(client).store.get(LIVE_VIEW_KEY) is None


async def test_live_view_switched_off_gets_no_more_frames(
    client: TestClient, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agent_socket, "LIVE_MIN_INTERVAL", 0.05)
    supervisor = await sign_in(client, "banzhang", role="supervisor")
    ws = await connect(supervisor)
    await ws.send_json({"type": "live", "on": True})
    await frames_until(ws, lambda fs: any(f["type"] == "live" for f in fs))
    await ws.send_json({"type": "live", "on": False})
    await say(client, "bot3", "你好")
    await asyncio.sleep(0.3)  # well past the recount's delay
    await ws.send_json({"type": "ping"})
    frames = await frames_until(ws, lambda fs: any(f["type"] == "pong" for f in fs))
    assert not any(f["type"] == "live" for f in frames)


async def test_citizen_messages_are_marked_for_unread_counts(
    client: TestClient, sign_in: SignIn
) -> None:
    agent = await sign_in(client, "zhangsan", display_name="张三")
    ws = await connect(agent)
    await say(client, "c1", "转人工")
    assert (await agent.post(CONV + "/claim")).status == 200

    def about(citizen: bool) -> Any:
        def check(frames: Frames) -> bool:
            return any(
                f["type"] == "conversation"
                and f["conversation_id"] == CID
                and f["kind"] == "message"
                and f.get("citizen", False) is citizen
                for f in frames
            )

        return check

    await say(client, "c1", "路灯坏了")
    await frames_until(ws, about(citizen=True))
    # the agent's own message is a change of the conversation, not an unread one
    assert (await agent.post(CONV + "/messages", {"text": "请问在哪条路？"})).status == 200
    frames = await frames_until(ws, about(citizen=False))
    assert not any(f.get("citizen") for f in frames if f["type"] == "conversation")


async def test_live_view_follows_turns_on_another_replica(
    make_replica: MakeReplica, sign_in: SignIn
) -> None:
    here = await make_replica()
    there = await make_replica()
    supervisor = await sign_in(here, "banzhang", role="supervisor")
    ws = await connect(supervisor)
    await ws.send_json({"type": "live", "on": True})
    await frames_until(ws, lambda fs: any(f["type"] == "live" for f in fs))
    await say(there, "far1", "你好")  # a turn with the assistant on the other replica
    await frames_until(ws, live_has("rest:t:far1", "bot"))


async def test_a_queued_citizens_message_reaches_every_agent(
    client: TestClient, sign_in: SignIn
) -> None:
    agent = await sign_in(client, "zhangsan")
    colleague = await sign_in(client, "lisi")
    await say(client, "c1", "转人工")
    ws = await connect(agent)
    await say(client, "c1", "还要等多久")  # still queued: for whoever will claim it
    frames = await frames_until(
        ws, lambda fs: any(f["type"] == "conversation" and f.get("citizen") for f in fs)
    )
    assert {f["conversation_id"] for f in frames if f["type"] == "conversation"} == {CID}
    assert (await colleague.post(CONV + "/claim")).status == 200
    await say(client, "c1", "你好")  # now 李四's: not the first agent's concern
    await ws.send_json({"type": "ping"})
    late = await frames_until(ws, lambda fs: any(f["type"] == "pong" for f in fs))
    assert not any(f["type"] == "conversation" and f.get("citizen") for f in late)
