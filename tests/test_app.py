"""bot/app.py and channels/registry.py: channel selection, lifecycle, headers."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import pytest

from bot.__main__ import PathOnlyAccessLogger
from bot.app import CHANNELS_KEY, DB_KEY, HUB_KEY, SETTINGS_KEY, STORE_KEY, create_app
from bot.config import Secret, Settings
from bot.hub import Hub
from bot.rasa_client import RasaClient
from bot.store import MemoryStore
from channels import registry
from tests.fakes.db import FakeDatabase


@pytest.fixture(autouse=True)
def _webchat_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBCHAT_SECRET", "s" * 48)  # no generated file under var/


def make_hub(settings: Settings) -> Hub:
    return Hub(MemoryStore(), FakeDatabase(), RasaClient(settings.rasa_url, 1.0), settings)


def test_rest_and_webchat_are_always_on() -> None:
    names = [c.name for c in registry.enabled_channels(make_hub(Settings()), Settings())]
    assert names[0] == "rest"
    assert "wechat" not in names and "telegram" not in names


def test_secret_channels_need_their_secret() -> None:
    settings = Settings(
        wechat_token=Secret("token"),
        wechat_app_id="wx1",
        telegram_bot_token=Secret("123:abc"),
        telegram_webhook_secret=Secret("hook-secret"),
    )
    names = {c.name for c in registry.enabled_channels(make_hub(settings), settings)}
    assert {"rest", "wechat", "telegram"} <= names


def test_missing_channel_module_is_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(
        registry, "OPTIONAL_CHANNELS", (("channels.not_written_yet", "XChannel", lambda s: True),)
    )
    with caplog.at_level(logging.WARNING):
        channels = registry.enabled_channels(make_hub(Settings()), Settings())
    assert [c.name for c in channels] == ["rest"]
    assert "channels.not_written_yet" in caplog.text


async def test_lifecycle_connects_and_closes(
    aiohttp_client: Any, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "OPTIONAL_CHANNELS", ())
    db = FakeDatabase()
    settings = make_settings(max_body_bytes=1234)
    app = create_app(settings, store=MemoryStore(), db=db)  # type: ignore[arg-type]
    assert not db.connected  # nothing connects at creation
    assert app[SETTINGS_KEY] is settings and app[DB_KEY] is db
    assert isinstance(app[STORE_KEY], MemoryStore) and app[HUB_KEY].store is app[STORE_KEY]
    assert [c.name for c in app[CHANNELS_KEY]] == ["rest"]
    assert app._client_max_size == 1234
    client = await aiohttp_client(app)
    assert db.connected
    resp = await client.get("/nothing-here")
    assert resp.status == 404
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
    await client.close()
    assert not db.connected


def test_access_log_leaves_out_the_query(caplog: pytest.LogCaptureFixture) -> None:
    class Req:
        method, path = "POST", "/webhooks/wechat"

    class Resp:
        status = 200

    log = PathOnlyAccessLogger(logging.getLogger("test.access"), "")
    with caplog.at_level(logging.INFO):
        log.log(Req(), Resp(), 0.01)  # type: ignore[arg-type]
    assert "POST /webhooks/wechat 200" in caplog.text


@pytest.mark.skipif(
    os.environ.get("TEST_EVENT_LOOP") == "uvloop",
    reason="uvloop connects and resolves in C, past the guard's Python hooks",
)
async def test_outbound_network_is_refused_in_tests(_no_network: list[str]) -> None:
    """The autouse guard of tests/conftest.py: loopback only."""
    import asyncio

    from tests.conftest import NetworkAccessDisallowed

    with pytest.raises(NetworkAccessDisallowed, match="Network access disallowed"):
        await asyncio.open_connection("203.0.113.7", 443)
    with pytest.raises(NetworkAccessDisallowed):
        await asyncio.get_running_loop().getaddrinfo("api.weixin.qq.com", 443)
    assert _no_network == ["203.0.113.7", "api.weixin.qq.com"]
    _no_network.clear()
