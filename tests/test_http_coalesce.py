"""bot.http_coalesce: one socket write per small HTTP message, nothing else changed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import http_writer, web
from aiohttp.test_utils import unused_port

from bot import http_coalesce


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """Every chunk aiohttp hands to a transport, in order."""
    http_coalesce.install()
    seen: list[bytes] = []
    original = http_writer.StreamWriter._write

    def spy(self: http_writer.StreamWriter, chunk: bytes) -> None:
        seen.append(bytes(chunk))
        original(self, chunk)

    monkeypatch.setattr(http_writer.StreamWriter, "_write", spy)
    yield seen


async def _json(_request: web.Request) -> web.Response:
    return web.json_response({"answer": "您好"})


async def _echo(request: web.Request) -> web.Response:
    return web.json_response({"got": await request.json()})


async def _empty(_request: web.Request) -> web.Response:
    return web.Response(status=204)


async def _stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    for part in (b"one,", b"two,", b"three"):
        await response.write(part)
        await asyncio.sleep(0.01)
    await response.write_eof()
    return response


async def _socket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_str("hello")  # right after the handshake, before any await
    async for frame in ws:
        await ws.send_str("echo:" + frame.data)
    return ws


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[str]:
    http_coalesce.install()
    (tmp_path / "page.html").write_text("<p>东莞12345</p>", encoding="utf-8")
    app = web.Application()
    app.router.add_get("/json", _json)
    app.router.add_post("/echo", _echo)
    app.router.add_get("/empty", _empty)
    app.router.add_get("/stream", _stream)
    app.router.add_get("/ws", _socket)
    app.router.add_get("/file", lambda _r: web.FileResponse(tmp_path / "page.html"))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = unused_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def _raw_exchange(base: str, request: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(65536), 5)
    writer.close()
    return data


async def test_a_json_response_is_one_write_with_headers_and_body(
    server: str, writes: list[bytes]
) -> None:
    raw = await _raw_exchange(server, b"GET /json HTTP/1.1\r\nHost: x\r\n\r\n")
    assert len(writes) == 1  # was two: the headers, then the body
    assert writes[0] == raw
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert json.loads(body) == {"answer": "您好"}


async def test_a_client_request_is_one_write_and_arrives_whole(
    server: str, writes: list[bytes]
) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(server + "/echo", json={"question": "居住证"}) as resp:
            assert await resp.json() == {"got": {"question": "居住证"}}
    request = [w for w in writes if w.startswith(b"POST /echo")]
    assert len(request) == 1
    assert request[0].endswith(b'{"question": "\\u5c45\\u4f4f\\u8bc1"}')
    # The server's answer went out in one write too.
    assert len([w for w in writes if w.startswith(b"HTTP/1.1 200")]) == 1


async def test_expect_100_continue_still_sends_the_headers_first(server: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(server + "/echo", json={"a": 1}, expect100=True) as resp:
            assert await resp.json() == {"got": {"a": 1}}


async def test_empty_and_head_responses(server: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server + "/empty") as resp:
            assert resp.status == 204
            assert await resp.read() == b""
        async with http.head(server + "/json") as resp:
            assert resp.status == 200
            assert await resp.read() == b""
        async with http.get(server + "/json") as resp:  # the connection is still good
            assert await resp.json() == {"answer": "您好"}


async def test_streamed_file_and_websocket_responses_are_unchanged(server: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server + "/stream") as resp:
            assert await resp.read() == b"one,two,three"
        async with http.get(server + "/file") as resp:
            assert (await resp.text()) == "<p>东莞12345</p>"
        async with http.ws_connect(server + "/ws") as ws:
            assert (await ws.receive_str(timeout=5)) == "hello"
            await ws.send_str("你好")
            assert (await ws.receive_str(timeout=5)) == "echo:你好"


async def test_held_headers_are_sent_by_drain(writes: list[bytes]) -> None:
    """A writer whose body never comes still sends its headers on drain/eof."""

    class Protocol(asyncio.Protocol):
        transport: asyncio.Transport | None = None
        connected = True

        async def _drain_helper(self) -> None:
            return None

    sent: list[bytes] = []

    class Transport(asyncio.Transport):
        def write(self, data: bytes) -> None:  # type: ignore[override]
            sent.append(bytes(data))

        def is_closing(self) -> bool:
            return False

    protocol = Protocol()
    protocol.transport = Transport()
    writer = http_coalesce.CoalescingStreamWriter(protocol, asyncio.get_running_loop())  # type: ignore[arg-type]
    writer.hold_headers = True
    await writer.write_headers("HTTP/1.1 200 OK", {"Content-Length": "0"})  # type: ignore[arg-type]
    assert sent == []
    await writer.drain()
    assert sent == [b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]
    await writer.write_eof()
    assert len(sent) == 1  # nothing written twice
