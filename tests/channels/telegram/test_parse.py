"""Parsing Telegram updates and rendering replies, without any server."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.inbound import ChannelStore
from bot.messages import Button, OutboundMessage
from bot.store import MemoryStore, SharedStore
from bot.store.sealed import InProcessValues
from channels.telegram._parse import (
    GREET_PAYLOAD,
    HELP_TEXT,
    UNKNOWN_COMMAND_TEXT,
    UNSUPPORTED_TEXT,
    parse_update,
)
from channels.telegram._render import CallbackCodec, Outgoing, plan_sends
from tests.fakes.telegram_api import callback_update, message_update, text_update


def telegram_store(store: SharedStore) -> ChannelStore:
    """The store as the telegram channel sees it (keys ``telegram:...``)."""
    return ChannelStore(store, "telegram", InProcessValues())


def parse(data: dict[str, Any]) -> Any:
    return parse_update(Update.de_json(data, None))


def test_text_becomes_an_inbound_message() -> None:
    parsed = parse(text_update(5, 42, "社保怎么转移"))
    assert parsed.chat_id == 42 and parsed.notice is None
    msg = parsed.inbound
    assert (msg.channel, msg.channel_user_id, msg.message_id) == ("telegram", "42", "u5")
    assert msg.text == "社保怎么转移"
    assert msg.metadata == {"update_id": 5, "telegram_message_id": 1005, "language_code": "zh-hans"}


def test_commands() -> None:
    start = parse(text_update(1, 42, "/start@dg12345_bot"))
    assert (start.inbound.text, start.inbound.payload) == ("/start", GREET_PAYLOAD)
    assert parse(text_update(2, 42, "/HELP")).notice == HELP_TEXT
    injected = parse(text_update(3, 42, '/create_ticket{"phone": "1"}'))
    assert injected.inbound is None and injected.notice == UNKNOWN_COMMAND_TEXT


def test_venue_location_uses_its_address() -> None:
    venue = {
        "location": {"latitude": 23.0, "longitude": 113.7},
        "title": "东莞市民服务中心",
        "address": "鸿福路",
    }
    parsed = parse(message_update(4, 42, location=venue["location"], venue=venue))
    assert parsed.inbound.text == "我的位置：东莞市民服务中心（鸿福路）"
    assert parsed.inbound.attachments[0].data["address"] == "鸿福路"


def test_unsupported_and_ignored_updates() -> None:
    sticker = {
        "file_id": "s",
        "file_unique_id": "s",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }
    assert parse(message_update(6, 42, sticker=sticker)).notice == UNSUPPORTED_TEXT
    contact = {"phone_number": "13800138000", "first_name": "张"}
    assert parse(message_update(7, 42, contact=contact)).notice == UNSUPPORTED_TEXT
    assert parse(message_update(8, -5, text="hi", chat_type="group")) is None
    assert parse({"update_id": 9}) is None


def test_callback_carries_the_button_title() -> None:
    keyboard = {"inline_keyboard": [[{"text": "噪音扰民", "callback_data": "/noise"}]]}
    parsed = parse(callback_update(10, 42, "/noise", keyboard))
    assert (parsed.callback_data, parsed.callback_title) == ("/noise", "噪音扰民")
    assert parsed.callback_query_id == "cbq-10"


def test_plan_sends() -> None:
    buttons = (Button("是", "/affirm"),)
    assert plan_sends([OutboundMessage(text="好的", buttons=buttons)]) == [
        Outgoing(text="好的", buttons=buttons)
    ]
    assert plan_sends([OutboundMessage(buttons=buttons)]) == [
        Outgoing(text="请选择：", buttons=buttons)
    ]
    assert plan_sends([OutboundMessage(custom={"x": 1})]) == []
    assert plan_sends([OutboundMessage(text="图", image="/static/a.png")]) == [
        Outgoing(text="图\n/static/a.png")
    ]
    long_caption = "说明" * 600
    sends = plan_sends([OutboundMessage(text=long_caption, image="https://e.org/a.png")])
    assert sends[0] == Outgoing(photo="https://e.org/a.png")
    assert sends[1].text == long_caption


async def test_callback_codec_round_trip() -> None:
    store = MemoryStore()
    codec = CallbackCodec(telegram_store(store))
    assert await codec.encode("/faq") == "/faq"
    long_payload = "/inform" + '{"x": "' + "很长" * 30 + '"}'
    key = await codec.encode(long_payload)
    assert key.startswith("~") and len(key.encode()) <= 64
    assert await codec.encode(long_payload) == key  # stable: no new key per rendering
    assert await codec.decode(key) == long_payload
    assert await codec.decode("~missing") is None
    assert await codec.decode("/faq") == "/faq"
