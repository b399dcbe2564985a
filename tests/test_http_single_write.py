"""aiohttp sends a small response's headers and body in one socket write.

The front door once patched aiohttp 3.9's private StreamWriter to get this
(bot/http_coalesce.py, removed in issue 16): two writes per answer cost a
delayed-ACK round trip on some clients. aiohttp 3.12+ buffers the headers and
sends them with the first body bytes itself. This test watches the socket
transport and fails if a later aiohttp goes back to separate writes.
"""

from __future__ import annotations

import asyncio
import socket
from asyncio import selector_events
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.support.ports import free_port


@pytest.fixture
async def server() -> AsyncIterator[int]:
    app = web.Application()

    async def answer(_request: web.Request) -> web.Response:
        return web.json_response({"answer": "您好，这里是东莞12345智能助手"})

    app.router.add_get("/json", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield port
    await runner.cleanup()


async def test_small_response_leaves_in_one_write(
    server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not isinstance(asyncio.get_running_loop(), selector_events.BaseSelectorEventLoop):
        pytest.skip("watches asyncio's own socket transport")
    writes: list[bytes] = []
    transport_cls = selector_events._SelectorSocketTransport
    original_write = transport_cls.write
    original_writelines = transport_cls.writelines

    def write(self: selector_events._SelectorSocketTransport, data: bytes) -> None:
        writes.append(bytes(data))
        original_write(self, data)

    def writelines(self: selector_events._SelectorSocketTransport, lines: list[bytes]) -> None:
        writes.append(b"".join(bytes(x) for x in lines))
        original_writelines(self, lines)

    monkeypatch.setattr(transport_cls, "write", write)
    monkeypatch.setattr(transport_cls, "writelines", writelines)

    def fetch() -> bytes:
        with socket.create_connection(("127.0.0.1", server)) as sock:
            sock.sendall(b"GET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            return data

    raw = await asyncio.to_thread(fetch)
    assert raw.startswith(b"HTTP/1.1 200")
    assert raw.endswith(b"12345\\u667a\\u80fd\\u52a9\\u624b\"}")
    responses = [w for w in writes if w.startswith(b"HTTP/1.1")]
    assert len(responses) == 1, writes
    assert responses[0] == raw, "headers and body in one transport write"
