"""Stopping with sockets open: the consoles' and the widgets' 1001 closes are
bounded whatever the clients do, and sockets that connect late are refused.

A client that stops reading (a frozen tab, a dead mobile link) fills the
connection's buffers; the server's close frame then waits behind the data
and, once out, for an answer that never comes. The widget's close used to
wait for ever (until the stop's watchdog), the console's until its 5 s step
was cut off; a widget or console that connected after the close loop started
stayed open. The clients here are raw TCP sockets with a tiny receive
buffer that complete the handshake and then never read nor answer.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from yarl import URL

from bot.app import CHANNELS_KEY
from bot.going_away import CLOSE_TIMEOUT
from bot.messages import OutboundMessage
from channels.webchat import WebChatChannel
from tests.console.conftest import Agent, MakeReplica, SignIn, console_of, hub_of, runtime_of
from tests.support.waiting import eventually

#: The shutdown step's bound (bot/console/agent_socket.py, channels/webchat/_channel.py).
STEP_BOUND = 5.0


class RawSocket:
    """A WebSocket client that completes the handshake, then never answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(
        cls, client: TestClient, path: str, headers: dict[str, str] | None = None
    ) -> RawSocket:
        host, port = "127.0.0.1", client.port
        assert port is not None
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills at once
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=2**22)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    async def close_code(self) -> int | None:
        """The code of the server's close frame among what it sent (None: none)."""
        while True:
            try:
                first, second = await asyncio.wait_for(self.reader.readexactly(2), 5)
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                return None
            size = second & 0x7F
            if size == 126:
                (size,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif size == 127:
                (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
            body = await self.reader.readexactly(size)
            if first & 0x0F == 0x8:
                return int(struct.unpack("!H", body[:2])[0]) if len(body) >= 2 else None

    def close(self) -> None:
        self.writer.close()


@pytest.fixture
async def raw_sockets() -> AsyncIterator[list[RawSocket]]:
    opened: list[RawSocket] = []
    yield opened
    for sock in opened:
        sock.close()


async def _widget_token(client: TestClient) -> str:
    resp = await client.post("/webchat/session")
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["token"])


def _cookie(agent: Agent) -> str:
    cookies = agent.session.cookie_jar.filter_cookies(URL(agent.base + "/console/ws"))
    return "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())


def _app(client: TestClient) -> web.Application:
    assert client.app is not None
    return client.app


def _webchat_sockets(client: TestClient) -> int:
    (channel,) = [c for c in _app(client)[CHANNELS_KEY] if isinstance(c, WebChatChannel)]
    return len(channel._sockets)


async def _shutdown(client: TestClient) -> float:
    started = time.monotonic()
    # The on_shutdown step: the sockets' 1001 closes (the old widget close never ended).
    await asyncio.wait_for(_app(client).shutdown(), 3 * STEP_BOUND)
    return time.monotonic() - started


LONG = "请问" * 5000  # 10000 characters, 30 KB as UTF-8
#: More than the kernel's buffers take (a widget's catch-up page is 200 entries).
HUGE = LONG * 4


async def test_a_widget_that_never_answers_the_close_does_not_hold_the_stop(
    make_replica: MakeReplica, raw_sockets: list[RawSocket]
) -> None:
    client = await make_replica()
    resp = await client.post("/webchat/session")
    session = await resp.json()
    entries = [OutboundMessage(text=HUGE, sender="bot")] * 200  # one page of catch-up
    await hub_of(client).router.transcribe_out(session["conversation_id"], entries, None)
    raw = await RawSocket.connect(client, f"/webchat/ws?token={session['token']}")
    raw_sockets.append(raw)

    async def registered() -> bool:
        return _webchat_sockets(client) == 1

    await eventually(registered)
    await asyncio.sleep(0.3)  # the catch-up is stuck on the full connection
    took = await _shutdown(client)
    assert took < STEP_BOUND, took
    assert took >= CLOSE_TIMEOUT * 0.9, took  # it did give the client a chance
    assert await raw.close_code() == 1001  # behind the data, but sent


async def test_a_console_that_never_answers_the_close_does_not_hold_the_stop(
    make_replica: MakeReplica, sign_in: SignIn, raw_sockets: list[RawSocket]
) -> None:
    client = await make_replica()
    agent = await sign_in(client, "zhangsan", display_name="张三")
    raw = await RawSocket.connect(
        client, f"/console/ws?csrf={agent.csrf}", {"Cookie": _cookie(agent)}
    )
    raw_sockets.append(raw)

    async def registered() -> bool:
        return len(runtime_of(client).sockets.seats) == 1

    await eventually(registered)
    for _ in range(200):  # notices for this agent until the connection is full
        await console_of(client).notifier.notice(agent.id, LONG)
    await asyncio.sleep(0.3)
    took = await _shutdown(client)
    assert took < STEP_BOUND, took  # was cut off at the 5 s step limit, then 1 s more
    assert await raw.close_code() == 1001


async def test_sockets_opened_after_the_close_loop_started_are_refused(
    make_replica: MakeReplica, sign_in: SignIn
) -> None:
    client = await make_replica()
    agent = await sign_in(client, "lisi", display_name="李四")
    token = await _widget_token(client)
    await _shutdown(client)  # the listening socket of a test server stays open: a late client
    with pytest.raises(aiohttp.WSServerHandshakeError) as widget:
        await client.ws_connect("/webchat/ws", params={"token": token})
    assert widget.value.status == 503
    with pytest.raises(aiohttp.WSServerHandshakeError) as console:
        await agent.session.ws_connect(agent.base + "/console/ws", params={"csrf": agent.csrf})
    assert console.value.status == 503
