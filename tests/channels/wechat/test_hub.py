"""WeChat retries through the real hub (in process and on Redis) and a fake Rasa.

WeChat retries an unanswered message three times: whatever the timing, one
MsgId makes exactly one Rasa turn and exactly one answer (passive or pushed).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

import channels.wechat._channel as wechat_module
from bot.config import Settings
from bot.hub import Hub
from bot.rasa_client import RasaClient
from bot.store import SharedStore
from tests.fakes.db import FakeDatabase
from tests.fakes.rasa import FakeRasa
from tests.fakes.wechat_api import (
    CHANNEL_KEY,
    TOKEN,
    URL,
    FakeWeChatApi,
    FakeWeChatPlatform,
    channel_client,
    channel_settings,
    reply_text,
    text_xml,
)


@pytest.fixture
async def hub(
    store: SharedStore, fake_rasa: FakeRasa, make_settings: Callable[..., Settings]
) -> AsyncIterator[Hub]:
    settings = make_settings(rasa_url=fake_rasa.url)
    hub = Hub(store, FakeDatabase(), RasaClient(fake_rasa.url, settings.rasa_timeout), settings)
    await hub.start()
    yield hub
    await hub.close()
    await hub.rasa.close()


@pytest.fixture
def fake_api() -> FakeWeChatApi:
    return FakeWeChatApi()


@pytest.fixture
async def client(aiohttp_client, aiohttp_server, hub: Hub, fake_api) -> TestClient:  # type: ignore[no-untyped-def]
    server = await aiohttp_server(fake_api.app)
    client = await channel_client(
        aiohttp_client, hub.inbound, channel_settings(str(server.make_url("")).rstrip("/"))
    )
    hub.register_channel(client.app[CHANNEL_KEY])
    return client


async def _post(client: TestClient, xml: str) -> str:
    platform = FakeWeChatPlatform(token=TOKEN)
    resp = await client.post(URL, params=platform.query(), data=xml.encode())
    return await reply_text(resp)


async def test_retries_of_an_answered_message_are_acked(
    client: TestClient, fake_rasa: FakeRasa, fake_api: FakeWeChatApi
) -> None:
    xml = text_xml("你好", msg_id="900001")
    answers = [await _post(client, xml) for _ in range(4)]
    assert answers == ["echo: 你好", "", "", ""]
    assert len(fake_rasa.calls) == 1
    assert fake_api.sent == []


async def test_slow_rasa_acks_then_pushes_exactly_once(
    client: TestClient,
    fake_rasa: FakeRasa,
    fake_api: FakeWeChatApi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wechat_module, "RESPONSE_DEADLINE", 0.8)
    monkeypatch.setattr(wechat_module, "HUB_WAIT", 0.4)
    fake_rasa.delay = (1.0, 1.0)
    xml = text_xml("慢慢答", msg_id="900002")
    assert await _post(client, xml) == ""  # pending: empty ack
    assert await _post(client, xml) == ""  # WeChat's retry: duplicate
    await asyncio.sleep(1.5)
    assert await _post(client, xml) == ""
    assert fake_api.sent_texts == ["echo: 慢慢答"]
    assert len(fake_rasa.calls) == 1


async def test_concurrent_retries_make_one_turn_and_one_answer(
    client: TestClient,
    fake_rasa: FakeRasa,
    fake_api: FakeWeChatApi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wechat_module, "RESPONSE_DEADLINE", 1.0)
    monkeypatch.setattr(wechat_module, "HUB_WAIT", 0.6)
    fake_rasa.delay = (0.3, 0.3)
    xml = text_xml("并发", msg_id="900003")
    answers: list[Any] = await asyncio.gather(*(_post(client, xml) for _ in range(3)))
    await asyncio.sleep(0.5)
    delivered = [a for a in answers if a] + fake_api.sent_texts
    assert delivered == ["echo: 并发"]
    assert len(fake_rasa.calls) == 1
