"""Client addresses behind the reverse proxy (bot/proxy.py, wired first in bot/app.py).

The test client connects from 127.0.0.1, so "trusted" below means
``TRUSTED_PROXIES`` lists 127.0.0.1 (or a network holding it) and
"untrusted" means it does not. A route added to the real application echoes
what every handler and middleware sees as ``request.remote`` and
``request.secure``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from bot.app import create_app
from bot.config import Settings
from bot.proxy import parse_trusted_proxies
from bot.store import MemoryStore
from channels import registry
from tests.fakes.db import TempDatabase


@pytest.fixture(autouse=True)
def _quiet_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBCHAT_SECRET", "s" * 48)  # no generated file under var/
    monkeypatch.setattr(registry, "OPTIONAL_CHANNELS", ())


async def _whoami(request: web.Request) -> web.Response:
    return web.json_response({"remote": request.remote, "secure": request.secure})


async def _client(
    aiohttp_client: Any, make_settings: Callable[..., Settings], trusted: tuple[str, ...]
) -> Any:
    app = create_app(
        make_settings(trusted_proxies=trusted),
        store=MemoryStore(),
        db=TempDatabase(),  # type: ignore[arg-type]
    )
    app.router.add_get("/_test/whoami", _whoami)
    return await aiohttp_client(app)


async def _ask(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    resp = await client.get("/_test/whoami", headers=headers)
    assert resp.status == 200
    body: dict[str, Any] = await resp.json()
    return body


async def test_untrusted_peer_cannot_claim_another_address(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    for trusted in ((), ("10.0.0.0/8", "192.0.2.7")):
        client = await _client(aiohttp_client, make_settings, trusted)
        seen = await _ask(client, {"X-Forwarded-For": "1.2.3.4"})
        assert seen["remote"] == "127.0.0.1"
        await client.close()


async def test_untrusted_peer_cannot_make_the_request_secure(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    client = await _client(aiohttp_client, make_settings, ("10.0.0.0/8",))
    seen = await _ask(client, {"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"})
    assert seen == {"remote": "127.0.0.1", "secure": False}


async def test_trusted_proxy_gives_the_real_client_and_scheme(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    client = await _client(aiohttp_client, make_settings, ("127.0.0.0/8",))
    seen = await _ask(client, {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert seen == {"remote": "203.0.113.9", "secure": True}
    seen = await _ask(client, {})  # no header: the peer itself
    assert seen == {"remote": "127.0.0.1", "secure": False}


async def test_spoofed_hop_in_front_of_the_real_client_is_ignored(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    # The citizen sent "X-Forwarded-For: 1.2.3.4"; the edge proxy (10.1.2.3)
    # appended the citizen's real address, the inner proxy (the peer) its own.
    client = await _client(aiohttp_client, make_settings, ("127.0.0.1", "10.0.0.0/8"))
    seen = await _ask(client, {"X-Forwarded-For": "1.2.3.4, 198.51.100.20, 10.1.2.3"})
    assert seen["remote"] == "198.51.100.20"
    # Two header lines count as one list, in order.
    resp = await client.get(
        "/_test/whoami",
        headers=[("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-For", "198.51.100.20")],
    )
    assert (await resp.json())["remote"] == "198.51.100.20"
    # Garbage the client wrote is never taken, and never a 500.
    seen = await _ask(client, {"X-Forwarded-For": "not-an-ip, 198.51.100.20"})
    assert seen["remote"] == "198.51.100.20"
    await client.close()


async def test_client_injected_proto_behind_a_trusted_proxy_is_not_taken(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    # A proxy that appends: the last value is the one the trusted peer wrote.
    client = await _client(aiohttp_client, make_settings, ("127.0.0.1",))
    seen = await _ask(
        client, {"X-Forwarded-For": "198.51.100.20", "X-Forwarded-Proto": "https, http"}
    )
    assert seen == {"remote": "198.51.100.20", "secure": False}
    await client.close()


def test_trusted_list_is_checked_at_start() -> None:
    assert [str(n) for n in parse_trusted_proxies(("10.0.0.0/8", "192.0.2.7", "::1"))] == [
        "10.0.0.0/8",
        "192.0.2.7/32",
        "::1/128",
    ]
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        parse_trusted_proxies(("10.0.0.300",))


def test_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import load_settings

    monkeypatch.setenv("TRUSTED_PROXIES", " 10.0.0.0/8 , 192.0.2.7,")
    assert load_settings().trusted_proxies == ("10.0.0.0/8", "192.0.2.7")
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert load_settings().trusted_proxies == ()


async def test_websocket_handshake_sees_the_forwarded_client(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    async def ws_whoami(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"remote": request.remote, "secure": request.secure})
        await ws.close()
        return ws

    app = create_app(
        make_settings(trusted_proxies=("127.0.0.1",)),
        store=MemoryStore(),
        db=TempDatabase(),  # type: ignore[arg-type]
    )
    app.router.add_get("/_test/ws", ws_whoami)
    client = await aiohttp_client(app)
    ws = await client.ws_connect(
        "/_test/ws", headers={"X-Forwarded-For": "198.51.100.20", "X-Forwarded-Proto": "https"}
    )
    assert await ws.receive_json() == {"remote": "198.51.100.20", "secure": True}
    await ws.close()
    await client.close()
