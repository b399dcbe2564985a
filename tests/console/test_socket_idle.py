"""Review: an open console tab does not keep its session alive for ever.

The socket's periodic re-check and the browser's automatic heartbeats read
the session without renewing its idle timeout (``CONSOLE_SESSION_IDLE``, 8 h);
only the agent's own requests renew it. A tab left open reaches the idle
limit, and its socket is then closed with ``session_ended``.

Time is moved by hand: the session store's clock (which the renewal uses to
cut the idle timeout at the absolute lifetime) and the session key's own
expiry in the shared store, set to what is left of it.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
from aiohttp.test_utils import TestClient
from yarl import URL

from bot.console.auth import COOKIE_NAME, SESSIONS_KEY
from bot.console.sessions import _key
from tests.console.conftest import Agent, SignIn, connect, console_of, runtime_of
from tests.support.waiting import frames_until

IDLE = 8 * 3600.0


def _session_key(agent: Agent) -> str:
    cookies = agent.session.cookie_jar.filter_cookies(URL(agent.base + "/console/"))
    return _key(cookies[COOKIE_NAME].value)


async def test_rechecks_and_heartbeats_do_not_renew_the_idle_timeout(
    client: TestClient, sign_in: SignIn
) -> None:
    assert client.app is not None
    sessions = client.app[SESSIONS_KEY]
    now = [sessions.clock()]
    sessions.clock = lambda: now[0]
    agent = await sign_in(client, "zhangsan")
    ws = await connect(agent)
    store = console_of(client).store
    key = _session_key(agent)

    # 8 hours less 5 seconds later, the tab open all that time, nobody touching it
    now[0] += IDLE - 5
    await store.expire(key, 5)
    for _ in range(3):
        await runtime_of(client).sockets.recheck_all()  # the 30-second re-check
        await ws.send_json({"type": "heartbeat", "status": "online"})  # the browser's own
        await frames_until(ws, lambda fs: any(f["type"] == "queue" for f in fs))
    left = await store.ttl(key)
    assert left is not None and left <= 5, left  # was renewed to 4 h (the lifetime's rest)

    # the idle limit passes: the next re-check closes the socket
    await store.expire(key, 0.2)
    await asyncio.sleep(0.4)
    await runtime_of(client).sockets.recheck_all()
    frames = []
    while True:
        msg = await ws.receive(timeout=5)
        if msg.type != aiohttp.WSMsgType.TEXT:
            break
        frames.append(json.loads(msg.data))
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), msg
    assert any(f.get("code") == "session_ended" for f in frames)
    assert (await agent.get("/console/api/me")).status == 401


async def test_the_agents_own_request_renews_the_idle_timeout(
    client: TestClient, sign_in: SignIn
) -> None:
    agent = await sign_in(client, "lisi")
    store = console_of(client).store
    key = _session_key(agent)
    await store.expire(key, 5)
    assert (await agent.get("/console/api/me")).status == 200
    left = await store.ttl(key)
    assert left is not None and left > IDLE - 60, left
