"""bot/app.py and channels/registry.py: channel selection, lifecycle, headers."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import pytest

from bot.__main__ import PathOnlyAccessLogger
from bot.app import CHANNELS_KEY, DB_KEY, HUB_KEY, SETTINGS_KEY, STORE_KEY, create_app
from bot.config import Secret, Settings, parse_rest_tokens
from bot.hub import Hub
from bot.rasa_client import RasaClient
from bot.store import MemoryStore
from channels import registry
from tests.fakes.db import FakeDatabase, TempDatabase


@pytest.fixture(autouse=True)
def _webchat_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBCHAT_SECRET", "s" * 48)  # no generated file under var/


def make_hub(settings: Settings) -> Hub:
    return Hub(MemoryStore(), FakeDatabase(), RasaClient(settings.rasa_url, 1.0), settings)


REST_TOKENS = parse_rest_tokens("app:" + "t" * 32)


def test_webchat_is_always_on_rest_only_with_tokens() -> None:
    names = [c.name for c in registry.enabled_channels(make_hub(Settings()).inbound, Settings())]
    assert "webchat" in names
    assert "rest" not in names and "wechat" not in names and "telegram" not in names
    settings = Settings(rest_tokens=REST_TOKENS)
    names = [c.name for c in registry.enabled_channels(make_hub(settings).inbound, settings)]
    assert names[0] == "rest"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("short", "entry 1: the token must be at least 16"),
        ("a:" + "t" * 32 + ",b:" + "u" * 15, "entry 2: the token must be at least 16"),
        ("bad name:" + "t" * 32, "entry 1: the name"),
        ("a:b:" + "t" * 32, "expected token or name:token"),
        ("a:" + "t" * 32 + ",a:" + "u" * 32, "entry 2: repeats"),
        ("a:" + "t" * 32 + ",b:" + "t" * 32, "entry 2: repeats"),
        ("a:" + "t" * 16 + " x", "spaces"),
        ("n" * 33 + ":" + "t" * 32, "the name"),
    ],
)
def test_bad_rest_tokens_are_a_configuration_error(raw: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_rest_tokens(raw)


def test_bad_rest_tokens_stop_the_front_door_at_start_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import bot.__main__ as front_door

    monkeypatch.setenv("REST_TOKENS", "app:too-short")
    monkeypatch.setenv("RASA_AUTH_TOKEN", "r" * 32)
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "a" * 32)
    monkeypatch.setattr(front_door.web, "run_app", lambda *a, **k: pytest.fail("started"))
    with pytest.raises(SystemExit, match="REST_TOKENS entry 1: the token must be at least 16"):
        front_door.main()


def test_secret_channels_need_their_secret() -> None:
    settings = Settings(
        wechat_token=Secret("token"),
        wechat_app_id="wx1",
        telegram_bot_token=Secret("123:abc"),
        telegram_webhook_secret=Secret("hook-secret"),
        rest_tokens=REST_TOKENS,
    )
    names = {c.name for c in registry.enabled_channels(make_hub(settings).inbound, settings)}
    assert {"rest", "wechat", "telegram"} <= names


def test_missing_channel_module_is_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(
        registry, "OPTIONAL_CHANNELS", (("channels.not_written_yet", "XChannel", lambda s: True),)
    )
    settings = Settings(rest_tokens=REST_TOKENS)
    with caplog.at_level(logging.WARNING):
        channels = registry.enabled_channels(make_hub(settings).inbound, settings)
    assert [c.name for c in channels] == ["rest"]
    assert "channels.not_written_yet" in caplog.text


async def test_lifecycle_connects_and_closes(
    aiohttp_client: Any, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "OPTIONAL_CHANNELS", ())
    db = TempDatabase()
    settings = make_settings(max_body_bytes=1234, rest_tokens=REST_TOKENS)
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


async def test_an_app_on_a_test_database_has_the_console_and_the_tickets(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    """Nothing in the app looks for a test double: whatever database a test
    gives it, the console and the ticket loop are mounted and answer."""
    from bot.console.runtime import RUNTIME_KEY
    from bot.tickets import TICKETS_KEY

    app = create_app(make_settings(), store=MemoryStore(), db=TempDatabase())
    assert RUNTIME_KEY in app and TICKETS_KEY in app
    client = await aiohttp_client(app)
    assert (await client.get("/console/api/me")).status == 401  # the console, signed out
    assert (await client.get("/api/v1/tickets/GD0000000000")).status == 401  # the REST API
    assert (await client.get("/console/login")).status == 200


def test_create_app_takes_its_settings() -> None:
    """``python -m bot`` builds the settings once and passes them; the factory
    never reads the environment itself."""
    with pytest.raises(TypeError):
        create_app()  # type: ignore[call-arg]


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
