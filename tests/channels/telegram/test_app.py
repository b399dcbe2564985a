"""Telegram through the whole front door (bot.app.create_app), in process and on Redis.

Two app instances sharing one store stand for two replicas behind a load
balancer: Telegram's redelivery may reach either, and still makes exactly
one Rasa turn and one answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from bot.app import CHANNELS_KEY, create_app
from bot.config import Secret, Settings
from bot.rasa_client import RasaClient
from bot.store import SharedStore
from channels.telegram import AUTH_HEADER, WEBHOOK_PATH, TelegramChannel
from tests.fakes.db import TempDatabase
from tests.fakes.rasa import FakeRasa
from tests.fakes.telegram_api import TOKEN, FakeTelegramApi, text_update

SECRET = "app-level-webhook-secret"
CHAT = 880001

MakeReplica = Callable[[], Awaitable[TestClient]]


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramApi]:
    fake = FakeTelegramApi()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def make_replica(
    store: SharedStore,
    fake_rasa: FakeRasa,
    api: FakeTelegramApi,
    make_settings: Callable[..., Settings],
) -> AsyncIterator[MakeReplica]:
    clients: list[TestClient] = []
    settings = make_settings(
        rasa_url=fake_rasa.url,
        telegram_bot_token=Secret(TOKEN),
        telegram_webhook_secret=Secret(SECRET),
        telegram_api_base_url=api.url,
    )

    async def make() -> TestClient:
        rasa = RasaClient(fake_rasa.url, settings.rasa_timeout)
        app = create_app(settings, store=_Shared(store), db=TempDatabase(), rasa=rasa)
        for channel in app[CHANNELS_KEY]:
            if isinstance(channel, TelegramChannel):
                channel.limiter.per_chat_interval = 0.05  # keep the test fast
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


class _Shared:
    """The shared store, closed by its fixture rather than by each replica."""

    def __init__(self, store: SharedStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def close(self) -> None:
        return None


async def _post(client: TestClient, body: Any, secret: str | None = SECRET) -> ClientResponse:
    headers = {AUTH_HEADER: secret} if secret is not None else {}
    return await client.post(WEBHOOK_PATH, data=json.dumps(body), headers=headers)


async def test_the_app_serves_the_telegram_webhook(
    make_replica: MakeReplica, api: FakeTelegramApi, fake_rasa: FakeRasa
) -> None:
    client = await make_replica()
    assert any(isinstance(c, TelegramChannel) for c in client.app[CHANNELS_KEY])
    assert (await _post(client, text_update(1, CHAT, "你好"), secret=None)).status == 403
    assert (await _post(client, text_update(1, CHAT, "你好"), secret="x")).status == 403
    assert fake_rasa.calls == []

    assert (await _post(client, text_update(2, CHAT, "你好"))).status == 200
    await api.wait_for("sendMessage")
    assert api.sent_texts(CHAT) == ["echo: 你好"]
    assert [c["sender"] for c in fake_rasa.calls] == [f"telegram:{CHAT}"]


async def test_redelivery_to_another_replica_is_one_turn(
    make_replica: MakeReplica, api: FakeTelegramApi, fake_rasa: FakeRasa
) -> None:
    first, second = await make_replica(), await make_replica()
    fake_rasa.delay = (0.2, 0.2)
    update = text_update(3, CHAT, "公积金怎么提取")
    statuses = await asyncio.gather(*(_post(c, update) for c in (first, second, first, second)))
    assert [r.status for r in statuses] == [200, 200, 200, 200]
    await api.wait_for("sendMessage")
    await asyncio.sleep(0.5)
    assert [c["message"] for c in fake_rasa.calls] == ["公积金怎么提取"]
    assert api.sent_texts(CHAT) == ["echo: 公积金怎么提取"]


async def test_messages_of_one_chat_stay_in_order_across_replicas(
    make_replica: MakeReplica, api: FakeTelegramApi, fake_rasa: FakeRasa
) -> None:
    replicas = [await make_replica(), await make_replica()]
    fake_rasa.delay = (0.0, 0.05)
    for i in range(6):
        response = await _post(replicas[i % 2], text_update(10 + i, CHAT, f"第{i}句"))
        assert response.status == 200
    await api.wait_for("sendMessage", 6, timeout=15)
    assert fake_rasa.by_sender[f"telegram:{CHAT}"] == [f"第{i}句" for i in range(6)]
    assert api.sent_texts(CHAT) == [f"echo: 第{i}句" for i in range(6)]
    assert fake_rasa.overlaps == []
