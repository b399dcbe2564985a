"""The live ticket list: ticket changes reach the consoles over /console/ws
(department users only their own department's), and the timeline names
console users by their display names."""

from __future__ import annotations

import json
from collections.abc import Callable

import aiohttp
from aiohttp.test_utils import TestClient

from bot.db import Database
from tests.console.conftest import Agent, SignIn, connect, create_user, runtime_of
from tests.support.waiting import Frames, frames_until
from tests.tickets.conftest import create_ticket


def _told(number: str) -> Callable[[Frames], bool]:
    def done(frames: Frames) -> bool:
        return any(
            f["type"] == "tickets" and number in [c["number"] for c in f["changes"]] for f in frames
        )

    return done


#: How long a test waits for the feed (it reads every second; generous for a loaded machine).
FEED_WAIT = 15.0


async def _department_socket(user: Agent) -> aiohttp.ClientWebSocketResponse:
    ws = await user.session.ws_connect(user.base + "/console/ws", params={"csrf": user.csrf})
    hello = json.loads((await ws.receive(timeout=5)).data)
    assert hello["type"] == "hello" and hello["user"]["role"] == "department"
    return ws


async def _quiet(ws: aiohttp.ClientWebSocketResponse, seconds: float) -> Frames:
    """The frames that arrive within ``seconds`` (none expected)."""
    frames: Frames = []
    try:
        while True:
            msg = await ws.receive(timeout=seconds)
            if msg.type != aiohttp.WSMsgType.TEXT:
                return frames
            frames.append(json.loads(msg.data))
    except TimeoutError:
        return frames


async def test_ticket_changes_are_pushed_in_scope(
    client: TestClient, sign_in: SignIn, console_db: Database
) -> None:
    agent = await sign_in(client, "zhangsan", display_name="张三")
    ecology = await sign_in(client, "huanbao", role="department", display_name="环保局小李")
    await create_user(
        client,
        "zhujian",
        "department",
        display_name="住建局小王",
        department="housing_construction",
    )
    housing = await sign_in(client, "zhujian", role="department")
    agent_ws = await connect(agent)
    ecology_ws = await _department_socket(ecology)
    housing_ws = await _department_socket(housing)

    ticket = await create_ticket(console_db, "webchat:feed-1")  # noise: ecology's
    assert ticket.department == "ecology_environment"
    frames = await frames_until(agent_ws, _told(ticket.number), FEED_WAIT)
    changes = [c for f in frames if f["type"] == "tickets" for c in f["changes"]]
    assert {c["number"] for c in changes} == {ticket.number}
    assert "created" in [c["kind"] for c in changes]
    assert changes[-1]["status"] == ticket.status
    await frames_until(ecology_ws, _told(ticket.number), FEED_WAIT)
    # the other department hears nothing of it, and no queue or presence either
    assert [f for f in await _quiet(housing_ws, 1.5) if f["type"] != "pong"] == []

    # the department sends it back to triage: it hears of the ticket that left it
    resp = await ecology.post(
        f"/console/api/tickets/{ticket.number}/return", {"reason": "非本单位职责"}
    )
    assert resp.status == 200, await resp.text()
    frames = await frames_until(ecology_ws, _told(ticket.number), FEED_WAIT)
    kinds = [c["kind"] for f in frames if f["type"] == "tickets" for c in f["changes"]]
    assert "returned" in kinds
    assert [f for f in await _quiet(housing_ws, 1.0) if f["type"] != "pong"] == []


async def test_department_socket_is_no_desk(client: TestClient, sign_in: SignIn) -> None:
    ecology = await sign_in(client, "huanbao", role="department", display_name="环保局小李")
    ws = await _department_socket(ecology)
    await ws.send_json({"type": "heartbeat", "status": "online"})
    assert json.loads((await ws.receive(timeout=5)).data) == {"type": "pong"}
    presence = runtime_of(client).console.presence
    assert await presence.online_count() == 0
    await ws.close()


async def test_nothing_is_read_without_consoles(client: TestClient, console_db: Database) -> None:
    feed = runtime_of(client).ticket_feed
    await create_ticket(console_db, "webchat:feed-2")
    assert await feed.step() == 0  # no socket: nothing read but the newest id
    assert feed.last_id == await feed._newest()


async def test_timeline_shows_display_names(
    client: TestClient, sign_in: SignIn, console_db: Database
) -> None:
    agent = await sign_in(client, "zhangsan", display_name="张三")
    boss = await sign_in(client, "banzhang", role="supervisor", display_name="王班长")
    ticket = await create_ticket(console_db, "webchat:feed-3")
    path = f"/console/api/tickets/{ticket.number}"
    resp = await agent.post(path + "/note", {"text": "已电话联系市民"})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["ticket"]["actor_names"] == {"zhangsan": "张三"}
    shown = (await boss.json(path))["ticket"]
    assert shown["actor_names"] == {"zhangsan": "张三"}
    assert [e["actor"] for e in shown["events"]][-1] == "zhangsan"  # the account stays on record


async def test_the_ticket_page_socket_is_not_at_the_desk(
    client: TestClient, sign_in: SignIn, console_db: Database
) -> None:
    """An agent reading tickets is not counted present (the sweep would otherwise
    never requeue a conversation whose agent left the desk for the ticket page)."""
    agent = await sign_in(client, "zhangsan", display_name="张三")
    params = {"csrf": agent.csrf, "view": "tickets"}
    ws = await agent.session.ws_connect(agent.base + "/console/ws", params=params)
    assert json.loads((await ws.receive(timeout=5)).data)["type"] == "hello"
    assert await runtime_of(client).console.presence.online_count() == 0
    ticket = await create_ticket(console_db, "webchat:feed-4")
    frames = await frames_until(ws, _told(ticket.number), FEED_WAIT)
    assert {f["type"] for f in frames} == {"tickets"}  # no queue snapshot, no presence
