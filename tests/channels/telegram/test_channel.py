"""The Telegram channel end to end: webhook -> real hub -> fake Rasa -> fake Bot API.

The hub is the real one (in-process store, fake database); Rasa and the
Telegram Bot API are fake servers on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Secret, Settings
from bot.hub import Hub
from bot.inbound import DeliveryMode
from bot.messages import InboundMessage, OutboundMessage
from bot.rasa_client import RasaClient
from bot.store import MemoryStore, StoreUnavailable
from channels.telegram import AUTH_HEADER, WEBHOOK_PATH, TelegramChannel
from channels.telegram._limiter import ChatRateLimiter
from channels.telegram._parse import (
    BUTTON_EXPIRED_TEXT,
    HELP_TEXT,
    PHOTO_ACK_TEXT,
    UNKNOWN_COMMAND_TEXT,
    UNSUPPORTED_TEXT,
)
from tests.fakes.db import FakeDatabase
from tests.fakes.rasa import FakeRasa
from tests.fakes.telegram_api import (
    TOKEN,
    FakeTelegramApi,
    callback_update,
    message_update,
    text_update,
)
from tests.support.waiting import eventually

SECRET = "webhook-secret-for-tests"
CHAT = 777001
OTHER_CHAT = 777002


class RecordingHub(Hub):
    """The real hub, remembering what the channel handed it."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.handled: list[tuple[InboundMessage, DeliveryMode]] = []

    async def handle(
        self, msg: InboundMessage, mode: DeliveryMode = DeliveryMode.ANSWER_IN_PLACE
    ) -> Any:
        self.handled.append((msg, mode))
        return await super().handle(msg, mode)


@dataclass
class Harness:
    api: FakeTelegramApi
    rasa: FakeRasa
    hub: RecordingHub
    db: FakeDatabase
    channel: TelegramChannel
    client: TestClient

    async def post(self, body: Any, secret: str | None = SECRET) -> ClientResponse:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[AUTH_HEADER] = secret
        data = body if isinstance(body, (bytes, str)) else json.dumps(body, ensure_ascii=False)
        return await self.client.post(WEBHOOK_PATH, data=data, headers=headers)

    def rasa_messages(self) -> list[str]:
        return [c["message"] for c in self.rasa.calls]


MakeHarness = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def make_harness(
    make_settings: Callable[..., Settings], fake_rasa: FakeRasa
) -> AsyncIterator[MakeHarness]:
    api = FakeTelegramApi()
    await api.start()
    clients: list[TestClient] = []

    async def make(**overrides: Any) -> Harness:
        values: dict[str, Any] = {
            "telegram_bot_token": Secret(TOKEN),
            "telegram_webhook_secret": Secret(SECRET),
            "telegram_api_base_url": api.url,
            "rasa_url": fake_rasa.url,
            "max_body_bytes": 8192,
        }
        values.update(overrides)
        settings = make_settings(**values)
        db = FakeDatabase()
        rasa = RasaClient(settings.rasa_url, settings.rasa_timeout)
        hub = RecordingHub(MemoryStore(), db, rasa, settings)
        limiter = ChatRateLimiter(per_chat_interval=0.01)
        channel = TelegramChannel(hub.inbound, settings, limiter=limiter, poll_timeout=1)
        hub.register_channel(channel)
        app = web.Application()
        channel.add_routes(app)

        async def startup(_app: web.Application) -> None:
            await hub.start()
            await channel.start()

        async def cleanup(_app: web.Application) -> None:
            await channel.stop()
            await hub.close()
            await rasa.close()

        app.on_startup.append(startup)
        app.on_cleanup.append(cleanup)
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return Harness(api, fake_rasa, hub, db, channel, client)

    yield make
    for client in clients:
        await client.close()
    await api.close()


@pytest.fixture
async def tg(make_harness: MakeHarness) -> Harness:
    return await make_harness()


# --- authentication and request checks ---------------------------------------------
async def test_missing_secret_is_403_and_touches_nothing(tg: Harness) -> None:
    response = await tg.post(text_update(1, CHAT, "你好"), secret=None)
    assert response.status == 403
    assert tg.hub.handled == []
    assert tg.api.calls == []


async def test_wrong_secret_is_403_and_touches_nothing(tg: Harness) -> None:
    response = await tg.post(text_update(1, CHAT, "你好"), secret=SECRET + "x")
    assert response.status == 403
    response = await tg.post(text_update(2, CHAT, "你好"), secret="")
    assert response.status == 403
    assert tg.hub.handled == []


async def test_secret_is_checked_before_the_body_size(tg: Harness) -> None:
    response = await tg.post(b"x" * 100_000, secret="wrong")
    assert response.status == 403


async def test_no_configured_secret_refuses_every_update(
    make_harness: MakeHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="channels.telegram")
    tg = await make_harness(telegram_webhook_secret=None)
    assert "TELEGRAM_WEBHOOK_SECRET is not set" in caplog.text
    for secret in (None, "", "anything"):
        response = await tg.post(text_update(1, CHAT, "你好"), secret=secret)
        assert response.status == 403
    assert tg.hub.handled == []


async def test_too_large_body_is_413(tg: Harness) -> None:
    big = text_update(1, CHAT, "长" * 5000)
    response = await tg.post(big)
    assert response.status == 413
    assert tg.hub.handled == []


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'{"message": {}}',
        b'{"update_id": "7"}',
        b'{"update_id": 7, "message": "hello"}',
        b'{"update_id": 7, "message": {"message_id": 1}}',
    ],
)
async def test_malformed_update_is_400(tg: Harness, body: bytes) -> None:
    response = await tg.post(body)
    assert response.status == 400
    assert tg.hub.handled == []


async def test_store_outage_is_503_so_telegram_redelivers(
    tg: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(*_args: Any) -> bool:
        raise StoreUnavailable("redis down")

    monkeypatch.setattr(tg.hub.store, "claim", down)
    response = await tg.post(text_update(9, CHAT, "你好"))
    assert response.status == 503
    assert tg.rasa.calls == []

    monkeypatch.undo()  # the store is back; Telegram's redelivery is handled
    assert (await tg.post(text_update(9, CHAT, "你好"))).status == 200
    await tg.api.wait_for("sendMessage")
    assert tg.api.sent_texts(CHAT) == ["echo: 你好"]


# --- citizen messages -----------------------------------------------------------------
async def test_text_reaches_the_hub_and_the_reply_carries_a_keyboard(tg: Harness) -> None:
    tg.rasa.replies["路灯坏了"] = [
        {
            "text": "请问您要反映哪类问题？",
            "buttons": [
                {"title": "市政设施", "payload": "/report_facility"},
                {"title": "人工服务", "payload": "/human"},
            ],
        }
    ]
    response = await tg.post(text_update(10, CHAT, "路灯坏了"))
    assert response.status == 200

    await tg.api.wait_for("sendMessage")
    msg, mode = tg.hub.handled[0]
    assert (msg.channel, msg.channel_user_id, msg.message_id) == ("telegram", str(CHAT), "u10")
    assert msg.conversation_id == f"telegram:{CHAT}"
    assert msg.text == "路灯坏了" and msg.payload is None
    assert msg.metadata["update_id"] == 10
    assert mode == DeliveryMode.PUSH_LATER
    sent = tg.api.calls_to("sendMessage")[0]
    assert sent["chat_id"] == CHAT
    assert sent["text"] == "请问您要反映哪类问题？"
    assert sent["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "市政设施", "callback_data": "/report_facility"}],
            [{"text": "人工服务", "callback_data": "/human"}],
        ]
    }


async def test_redelivered_update_is_one_hub_turn(tg: Harness) -> None:
    update = text_update(11, CHAT, "办理居住证需要什么材料")
    first, second = await asyncio.gather(tg.post(update), tg.post(update))
    third = await tg.post(update)
    assert (first.status, second.status, third.status) == (200, 200, 200)
    await tg.api.wait_for("sendMessage")
    await asyncio.sleep(0.2)
    assert tg.rasa_messages() == ["办理居住证需要什么材料"]
    assert len(tg.api.calls_to("sendMessage")) == 1


async def test_button_press_comes_back_as_its_payload(tg: Harness) -> None:
    tg.rasa.replies["投诉"] = [
        {"text": "请选择：", "buttons": [{"title": "噪音", "payload": "/noise"}]}
    ]
    await tg.post(text_update(20, CHAT, "投诉"))
    await tg.api.wait_for("sendMessage")
    keyboard = tg.api.calls_to("sendMessage")[0]["reply_markup"]

    response = await tg.post(callback_update(21, CHAT, "/noise", keyboard))
    assert response.status == 200
    await tg.api.wait_for("answerCallbackQuery")
    await tg.api.wait_for("sendMessage", 2)
    assert tg.api.calls_to("answerCallbackQuery")[0]["callback_query_id"] == "cbq-21"
    msg = tg.hub.handled[-1][0]
    assert (msg.payload, msg.text, msg.message_id) == ("/noise", "噪音", "u21")
    assert tg.rasa_messages()[-1] == "/noise"


async def test_long_payload_travels_under_a_short_key(tg: Harness) -> None:
    payload = '/choose_service{"service": "港澳台居民居住证申领及换领补领服务（东莞市）"}'
    assert len(payload.encode()) > 64
    tg.rasa.replies["居住证"] = [
        {"text": "请选择：", "buttons": [{"title": "申领", "payload": payload}]}
    ]
    await tg.post(text_update(30, CHAT, "居住证"))
    await tg.api.wait_for("sendMessage")
    keyboard = tg.api.calls_to("sendMessage")[0]["reply_markup"]
    data = keyboard["inline_keyboard"][0][0]["callback_data"]
    assert data != payload and len(data.encode()) <= 64

    await tg.post(callback_update(31, CHAT, data, keyboard))
    await tg.api.wait_for("sendMessage", 2)
    assert tg.rasa_messages()[-1] == payload


async def test_unknown_button_key_gets_a_polite_answer(tg: Harness) -> None:
    await tg.post(callback_update(32, CHAT, "~no-such-key"))
    await tg.api.wait_for("sendMessage")
    assert tg.api.sent_texts() == [BUTTON_EXPIRED_TEXT]
    assert tg.api.calls_to("answerCallbackQuery")
    assert tg.hub.handled == []


async def test_start_greets(tg: Harness) -> None:
    await tg.post(text_update(40, CHAT, "/start from-website"))
    await tg.api.wait_for("sendMessage")
    msg = tg.hub.handled[0][0]
    assert (msg.text, msg.payload) == ("/start", "/greet")
    assert tg.rasa_messages() == ["/greet"]


async def test_help_and_unknown_commands_are_answered_by_the_channel(tg: Harness) -> None:
    await tg.post(text_update(41, CHAT, "/help"))
    await tg.post(text_update(41, CHAT, "/help"))  # a redelivery: answered once
    await tg.post(text_update(42, CHAT, "/restart"))
    await tg.api.wait_for("sendMessage", 2)
    await tg.channel.drain()
    assert tg.api.sent_texts() == [HELP_TEXT, UNKNOWN_COMMAND_TEXT]
    assert tg.rasa.calls == [] and tg.hub.handled == []


async def test_photo_becomes_an_attachment_with_an_acknowledgement(tg: Harness) -> None:
    photo = [
        {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 960},
    ]
    await tg.post(message_update(50, CHAT, photo=photo, caption="路面塌陷"))
    await tg.api.wait_for("sendMessage", 2)
    msg = tg.hub.handled[0][0]
    assert msg.text == "路面塌陷"
    assert [(a.kind, a.data["file_id"]) for a in msg.attachments] == [("image", "large")]
    assert tg.api.sent_texts() == [PHOTO_ACK_TEXT, "echo: 路面塌陷"]


async def test_location_becomes_an_attachment_and_text(tg: Harness) -> None:
    await tg.post(message_update(51, CHAT, location={"latitude": 23.02, "longitude": 113.75}))
    await tg.api.wait_for("sendMessage")
    msg = tg.hub.handled[0][0]
    assert msg.attachments[0].kind == "location"
    assert msg.attachments[0].data == {"latitude": 23.02, "longitude": 113.75}
    assert msg.text is not None and msg.text.startswith("我的位置")


async def test_voice_gets_a_polite_answer_without_a_hub_turn(tg: Harness) -> None:
    voice = {"file_id": "v", "file_unique_id": "v", "duration": 3}
    await tg.post(message_update(52, CHAT, voice=voice))
    await tg.api.wait_for("sendMessage")
    assert tg.api.sent_texts() == [UNSUPPORTED_TEXT]
    assert tg.hub.handled == []


async def test_group_chats_and_edits_are_ignored(tg: Harness) -> None:
    group = message_update(53, -100200, text="大家好", chat_type="supergroup")
    edit = {"update_id": 54, "edited_message": text_update(54, CHAT, "改")["message"]}
    for update in (group, edit):
        assert (await tg.post(update)).status == 200
    await tg.channel.drain()
    assert tg.hub.handled == [] and tg.api.calls == []


# --- replies ---------------------------------------------------------------------------
async def test_long_text_is_split_at_the_telegram_limit(tg: Harness) -> None:
    long_text = "\n".join(f"第{i}条：" + "政策说明" * 30 for i in range(80))
    assert len(long_text) > 2 * 4096
    tg.rasa.replies["政策"] = [{"text": long_text, "buttons": [{"title": "好", "payload": "/ok"}]}]
    await tg.post(text_update(60, CHAT, "政策"))
    await tg.api.wait_for("sendMessage", 3)
    await tg.channel.drain()
    sent = tg.api.calls_to("sendMessage")
    assert len(sent) == 3
    assert all(len(s["text"]) <= 4096 for s in sent)
    assert "\n".join(s["text"] for s in sent) == long_text
    assert [bool(s.get("reply_markup")) for s in sent] == [False, False, True]


async def test_image_reply_is_a_photo_or_a_link(tg: Harness) -> None:
    image = "https://example.org/office-map.png"
    tg.rasa.replies["地址"] = [{"text": "办事大厅位置", "image": image}]
    await tg.post(text_update(61, CHAT, "地址"))
    await tg.api.wait_for("sendPhoto")
    assert tg.api.calls_to("sendPhoto")[0]["photo"] == image
    assert tg.api.calls_to("sendPhoto")[0]["caption"] == "办事大厅位置"

    tg.api.fail_once("sendPhoto")  # Telegram could not fetch the image
    await tg.post(text_update(62, CHAT, "地址"))
    await tg.api.wait_for("sendMessage")
    assert tg.api.calls_to("sendMessage")[0]["text"] == f"办事大厅位置\n{image}"


async def test_push_goes_through_send(tg: Harness) -> None:
    await tg.hub.push(f"telegram:{CHAT}", [_agent("您好，我是人工客服小李。")])
    await tg.api.wait_for("sendMessage")
    assert tg.api.sent_texts(CHAT) == ["您好，我是人工客服小李。"]


async def test_flood_control_429_is_retried_once(tg: Harness) -> None:
    tg.api.flood_once("sendMessage", retry_after=1)
    await tg.post(text_update(70, CHAT, "你好"))
    await tg.api.wait_for("sendMessage", 2, timeout=10)
    await tg.channel.drain()
    texts = [c["text"] for c in tg.api.calls_to("sendMessage")]
    assert texts == ["echo: 你好", "echo: 你好"]
    assert tg.channel.limiter.retries == 1
    assert not tg.channel.sender.failures


async def test_blocked_bot_is_logged_and_recorded_not_crashing(
    tg: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tg.api.block(CHAT)
    await tg.post(text_update(80, CHAT, "我的电话是13800138000"))
    await tg.api.wait_for("sendMessage")
    await eventually(lambda: tg.channel.sender.failures["Forbidden"] == 1)
    assert "delivery_failed" in tg.db.events.kinds()
    # The fake Bot API's own access log shows the token, like Telegram's would.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "aiohttp.access")
    assert "bot was blocked" in ours
    assert "13800138000" not in ours  # neither the citizen's text nor the reply
    assert TOKEN not in ours

    await tg.post(text_update(81, OTHER_CHAT, "你好"))  # the channel still works
    await tg.api.wait_for("sendMessage", 2)
    assert tg.api.sent_texts(OTHER_CHAT) == ["echo: 你好"]


async def test_one_chat_keeps_its_order_through_the_limiter(tg: Harness) -> None:
    first = [_agent(f"A{i}") for i in range(5)]
    second = [_agent(f"B{i}") for i in range(3)]
    await asyncio.gather(
        tg.channel.send(str(CHAT), first),
        tg.channel.send(str(OTHER_CHAT), second),
        tg.channel.send(str(CHAT), [_agent("A5")]),
    )
    assert tg.api.sent_texts(CHAT) == ["A0", "A1", "A2", "A3", "A4", "A5"]
    assert tg.api.sent_texts(OTHER_CHAT) == ["B0", "B1", "B2"]
    assert tg.channel.limiter.requests == 9


# --- polling ---------------------------------------------------------------------------
async def test_polling_feeds_updates_into_the_same_path(make_harness: MakeHarness) -> None:
    tg = await make_harness(telegram_polling=True, telegram_webhook_secret=None)
    tg.api.add_update(text_update(90, CHAT, "你好"))
    await tg.api.wait_for("sendMessage", timeout=10)
    assert tg.api.calls_to("deleteWebhook")
    assert tg.hub.handled[0][0].message_id == "u90"
    assert tg.api.sent_texts(CHAT) == ["echo: 你好"]
    await eventually(lambda: any(c.get("offset") == 91 for c in tg.api.calls_to("getUpdates")))

    await tg.channel.stop()
    assert tg.channel._poller is None


async def test_polling_keeps_the_offset_while_the_store_is_down(
    make_harness: MakeHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    tg = await make_harness(telegram_polling=True, telegram_webhook_secret=None)
    real_claim = tg.hub.store.claim
    failures = [StoreUnavailable("redis down")]

    async def flaky_claim(key: str, ttl: float) -> bool:
        if failures:
            raise failures.pop()
        return await real_claim(key, ttl)

    monkeypatch.setattr(tg.hub.store, "claim", flaky_claim)
    tg.api.add_update(text_update(95, CHAT, "你好"))
    await tg.api.wait_for("sendMessage", timeout=10)
    assert tg.api.sent_texts(CHAT) == ["echo: 你好"]
    offsets = [c.get("offset") for c in tg.api.calls_to("getUpdates")]
    assert offsets[:2] == [None, None]  # the failed update was asked for again


def _agent(text: str) -> OutboundMessage:
    return OutboundMessage(text=text, sender="agent:li")
