"""The WeChat channel inside the whole front door (bot.app.create_app).

Real hub, store (in process and Redis) and channel registry; fake Rasa, fake
database and fake WeChat API on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

import channels.wechat._channel as wechat_module
from bot.app import CHANNELS_KEY, create_app
from bot.config import Secret, Settings
from bot.rasa_client import RasaClient
from bot.store import SharedStore
from channels.wechat import WeChatChannel
from tests.fakes.db import TempDatabase
from tests.fakes.rasa import FakeRasa
from tests.fakes.wechat_api import (
    AES_KEY,
    APP_ID,
    APP_SECRET,
    OPENID,
    TOKEN,
    URL,
    FakeWeChatApi,
    FakeWeChatPlatform,
    message_xml,
    reply_text,
    text_xml,
)
from tests.support.waiting import eventually


@pytest.fixture
def fake_api() -> FakeWeChatApi:
    return FakeWeChatApi()


@pytest.fixture
async def app_client(  # type: ignore[no-untyped-def]
    aiohttp_client,
    aiohttp_server,
    store: SharedStore,
    fake_rasa: FakeRasa,
    fake_api: FakeWeChatApi,
    make_settings: Callable[..., Settings],
) -> TestClient:
    server = await aiohttp_server(fake_api.app)
    settings = make_settings(
        rasa_url=fake_rasa.url,
        wechat_token=Secret(TOKEN),
        wechat_app_id=APP_ID,
        wechat_app_secret=Secret(APP_SECRET),
        wechat_encoding_aes_key=Secret(AES_KEY),
        wechat_api_base_url=str(server.make_url("")).rstrip("/"),
    )
    rasa = RasaClient(fake_rasa.url, settings.rasa_timeout)
    app = create_app(settings, store=store, db=TempDatabase(), rasa=rasa)
    client: TestClient = await aiohttp_client(app)
    return client


@pytest.fixture
def platform() -> FakeWeChatPlatform:
    return FakeWeChatPlatform(token=TOKEN, encoding_aes_key=AES_KEY)


async def _say(client: TestClient, platform: FakeWeChatPlatform, xml: str) -> str:
    encrypt = platform.encrypt(xml)
    resp = await client.post(URL, params=platform.query(encrypt), data=platform.envelope(encrypt))
    assert resp.status == 200
    body = await resp.read()
    return "" if body == b"success" else platform.open_reply(body)["Content"]


async def test_registry_serves_the_wechat_channel(app_client: TestClient) -> None:
    channels = app_client.app[CHANNELS_KEY]
    assert any(isinstance(c, WeChatChannel) for c in channels)
    q = {**FakeWeChatPlatform(token=TOKEN).query(), "echostr": "hello-wechat"}
    resp = await app_client.get(URL, params=q)
    assert (resp.status, await resp.text()) == (200, "hello-wechat")


async def test_safe_mode_message_through_the_front_door(
    app_client: TestClient, platform: FakeWeChatPlatform, fake_rasa: FakeRasa
) -> None:
    xml = text_xml("你好", msg_id="800001")
    assert await _say(app_client, platform, xml) == "echo: 你好"
    assert await _say(app_client, platform, xml) == ""  # WeChat's retry
    assert [(c["sender"], c["message"]) for c in fake_rasa.calls] == [(f"wechat:{OPENID}", "你好")]


async def test_slow_answer_arrives_as_one_cs_message(
    app_client: TestClient,
    platform: FakeWeChatPlatform,
    fake_rasa: FakeRasa,
    fake_api: FakeWeChatApi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wechat_module, "RESPONSE_DEADLINE", 0.8)
    monkeypatch.setattr(wechat_module, "HUB_WAIT", 0.4)
    fake_rasa.delay = (1.0, 1.0)
    xml = text_xml("慢", msg_id="800002")
    replies: list[Any] = [await _say(app_client, platform, xml) for _ in range(2)]
    assert replies == ["", ""]
    await eventually(lambda: bool(fake_api.sent), timeout=5)
    await asyncio.sleep(0.3)
    assert fake_api.sent == [{"touser": OPENID, "msgtype": "text", "text": {"content": "echo: 慢"}}]
    assert len(fake_rasa.calls) == 1


async def test_refused_request_never_reaches_rasa(
    app_client: TestClient, platform: FakeWeChatPlatform, fake_rasa: FakeRasa
) -> None:
    encrypt = platform.encrypt(text_xml("伪造"))
    q = platform.query(encrypt)
    q["msg_signature"] = "0" * 40
    resp = await app_client.post(URL, params=q, data=platform.envelope(encrypt))
    assert resp.status == 403
    resp = await app_client.post(URL, params=platform.query(), data=text_xml("明文").encode())
    assert resp.status == 403  # plaintext refused when an EncodingAESKey is configured
    assert fake_rasa.calls == []


async def test_view_event_is_acked(
    app_client: TestClient, platform: FakeWeChatPlatform, fake_rasa: FakeRasa
) -> None:
    encrypt = platform.encrypt(message_xml(OPENID, "event", Event="VIEW", EventKey="https://x"))
    resp = await app_client.post(
        URL, params=platform.query(encrypt), data=platform.envelope(encrypt)
    )
    assert await reply_text(resp) == ""
    assert fake_rasa.calls == []
