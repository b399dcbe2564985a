"""bot/health.py: /healthz is 200 only when Rasa, the action server and the store are up."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

from bot.app import create_app
from bot.config import Settings
from bot.store import MemoryStore, SharedStore
from bot.store.redis import RedisStore
from channels import registry
from tests.fakes.db import FakeDatabase
from tests.fakes.rasa import FakeActionServer, FakeRasa


def dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def health_client(
    fake_rasa: FakeRasa,
    fake_action_server: FakeActionServer,
    make_settings: Callable[..., Settings],
    aiohttp_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Any]:
    monkeypatch.setattr(registry, "OPTIONAL_CHANNELS", ())

    async def make(
        rasa_url: str | None = None,
        action_url: str | None = None,
        store: SharedStore | None = None,
    ) -> Any:
        settings = make_settings(
            rasa_url=rasa_url or fake_rasa.url,
            action_server_url=action_url or fake_action_server.url,
        )
        app = create_app(settings, store=store or MemoryStore(), db=FakeDatabase())  # type: ignore[arg-type]
        return await aiohttp_client(app)

    return make


async def test_ready_when_everything_answers(health_client: Callable[..., Any]) -> None:
    client = await health_client()
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok", "rasa": "ok", "action_server": "ok", "store": "ok"}


async def test_no_model_loaded(health_client: Callable[..., Any], fake_rasa: FakeRasa) -> None:
    fake_rasa.model_loaded = False
    resp = await (await health_client()).get("/healthz")
    assert resp.status == 503
    body = await resp.json()
    assert body["rasa"] == "no model loaded" and body["action_server"] == "ok"


async def test_rasa_down(health_client: Callable[..., Any]) -> None:
    resp = await (await health_client(rasa_url=dead_url())).get("/healthz")
    assert resp.status == 503
    assert (await resp.json())["rasa"].startswith("unreachable")


async def test_action_server_failing_or_down(
    health_client: Callable[..., Any], fake_action_server: FakeActionServer
) -> None:
    fake_action_server.healthy = False
    resp = await (await health_client()).get("/healthz")
    assert resp.status == 503
    assert (await resp.json())["action_server"] == "HTTP 500"
    resp = await (await health_client(action_url=dead_url())).get("/healthz")
    assert resp.status == 503
    body = await resp.json()
    assert body["action_server"].startswith("unreachable") and body["rasa"] == "ok"


async def test_store_down(health_client: Callable[..., Any], redis_prefix: str) -> None:
    client = await health_client(store=RedisStore("redis://127.0.0.1:1/0", redis_prefix))
    resp = await client.get("/healthz")
    assert resp.status == 503
    body = await resp.json()
    assert body == {
        "status": "unavailable",
        "rasa": "ok",
        "action_server": "ok",
        "store": "unreachable",
    }


async def test_livez_is_always_ok(health_client: Callable[..., Any]) -> None:
    resp = await (await health_client(rasa_url=dead_url())).get("/livez")
    assert resp.status == 200
