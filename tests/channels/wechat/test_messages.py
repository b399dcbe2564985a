"""The WeChat webhook: every message kind and event, replies, choices and pushes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

import channels.wechat._channel as wechat_module
from bot.hub_routing import BUSY_TEXT, HandleResult
from bot.messages import Button, InboundMessage, OutboundMessage
from bot.store.base import StoreUnavailable
from channels.wechat import WeChatSendError
from channels.wechat._inbound import (
    IMAGE_RECEIVED_TEXT,
    MENU_UNKNOWN_TEXT,
    UNSUPPORTED_TEXT,
    VOICE_NOT_RECOGNISED_TEXT,
)
from tests.fakes.wechat_api import (
    CHANNEL_KEY,
    OPENID,
    TOKEN,
    URL,
    FakeHub,
    FakeWeChatApi,
    FakeWeChatPlatform,
    channel_client,
    channel_settings,
    message_xml,
    reply_text,
    text_xml,
)
from tests.support.waiting import eventually


@pytest.fixture
def fake_api() -> FakeWeChatApi:
    return FakeWeChatApi()


@pytest.fixture
def hub() -> FakeHub:
    return FakeHub()


@pytest.fixture
async def client(aiohttp_client, aiohttp_server, hub: FakeHub, fake_api) -> TestClient:  # type: ignore[no-untyped-def]
    server = await aiohttp_server(fake_api.app)
    settings = channel_settings(str(server.make_url("")).rstrip("/"))
    return await channel_client(aiohttp_client, hub, settings)


@pytest.fixture
def platform() -> FakeWeChatPlatform:
    return FakeWeChatPlatform(token=TOKEN)


@pytest.fixture
def say(client: TestClient, platform: FakeWeChatPlatform) -> Any:
    async def say(xml: str) -> str:
        resp = await client.post(URL, params=platform.query(), data=xml.encode())
        return await reply_text(resp)

    return say


def replies(*messages: OutboundMessage, status: str = "ok") -> Any:
    async def reply(msg: InboundMessage) -> HandleResult:
        return HandleResult(list(messages), status)

    return reply


# --- message kinds ------------------------------------------------------------


async def test_text_message_gets_passive_reply(say: Any, hub: FakeHub) -> None:
    assert await say(text_xml("社保卡怎么补办", msg_id="6001")) == "收到：社保卡怎么补办"
    msg = hub.calls[0]
    assert (msg.channel, msg.channel_user_id, msg.message_id) == ("wechat", OPENID, "6001")
    assert msg.conversation_id == f"wechat:{OPENID}"
    assert msg.text == "社保卡怎么补办" and msg.payload is None
    mode = hub.modes[0]  # answered in place within WeChat's deadline, else pushed
    assert mode.push_later and mode.deadline is not None and 3.5 <= mode.deadline <= 4.0


async def test_voice_uses_recognition(say: Any, hub: FakeHub) -> None:
    xml = message_xml(
        OPENID, "voice", MediaId="m1", Format="amr", Recognition="路灯坏了", MsgId="7"
    )
    assert await say(xml) == "收到：路灯坏了"
    assert hub.calls[0].text == "路灯坏了"
    assert hub.calls[0].attachments[0].kind == "voice"


async def test_voice_without_recognition_asks_to_type(say: Any, hub: FakeHub) -> None:
    xml = message_xml(OPENID, "voice", MediaId="m1", Format="amr", Recognition="", MsgId="8")
    assert await say(xml) == VOICE_NOT_RECOGNISED_TEXT
    assert hub.calls == []


async def test_image_is_an_attachment_and_acknowledged(say: Any, hub: FakeHub) -> None:
    hub.reply = replies()
    xml = message_xml(
        OPENID, "image", PicUrl="http://mmbiz.qpic.cn/x.jpg", MediaId="mid", MsgId="9"
    )
    assert await say(xml) == IMAGE_RECEIVED_TEXT
    (image,) = hub.calls[0].attachments
    assert (image.kind, image.url, image.data["media_id"]) == (
        "image",
        "http://mmbiz.qpic.cn/x.jpg",
        "mid",
    )


async def test_location_becomes_text_and_attachment(say: Any, hub: FakeHub) -> None:
    xml = message_xml(
        OPENID,
        "location",
        Location_X="23.020536",
        Location_Y="113.751765",
        Scale="15",
        Label="东莞市南城街道",
        MsgId="10",
    )
    assert await say(xml) == "收到：我的位置:东莞市南城街道"
    (place,) = hub.calls[0].attachments
    assert place.kind == "location"
    assert place.data["latitude"] == "23.020536" and place.data["longitude"] == "113.751765"


async def test_subscribe_greets_through_rasa(say: Any, hub: FakeHub) -> None:
    xml = message_xml(OPENID, "event", create_time=1700000000, Event="subscribe", EventKey="")
    assert await say(xml) == "收到：/greet"
    msg = hub.calls[0]
    assert msg.payload == "/greet"
    assert msg.message_id == f"{OPENID}:1700000000:subscribe"


async def test_unsubscribe_is_recorded_once_without_reply(say: Any, hub: FakeHub) -> None:
    xml = message_xml(OPENID, "event", create_time=1700000001, Event="unsubscribe")
    assert await say(xml) == ""
    assert await say(xml) == ""  # WeChat's retry
    await eventually(lambda: hub.db.events.kinds() == ["wechat_unsubscribe"])
    await asyncio.sleep(0.05)
    assert hub.calls == []
    assert hub.db.events.kinds() == ["wechat_unsubscribe"]
    assert hub.db.events.items[0].conversation_id == f"wechat:{OPENID}"


@pytest.mark.parametrize(("key", "payload"), [("/faq", "/faq"), ("COMPLAIN", "/complain")])
async def test_menu_click_sends_payload(say: Any, hub: FakeHub, key: str, payload: str) -> None:
    xml = message_xml(OPENID, "event", Event="CLICK", EventKey=key)
    assert await say(xml) == f"收到：{payload}"
    assert hub.calls[0].payload == payload
    assert hub.calls[0].message_id.endswith(":CLICK")


async def test_unknown_menu_key_is_answered_politely(say: Any, hub: FakeHub) -> None:
    assert await say(message_xml(OPENID, "event", Event="CLICK", EventKey="V1001")) == (
        MENU_UNKNOWN_TEXT
    )
    assert hub.calls == []


@pytest.mark.parametrize("event", ["VIEW", "SCAN", "LOCATION", "TEMPLATESENDJOBFINISH"])
async def test_other_events_get_no_reply(say: Any, hub: FakeHub, event: str) -> None:
    assert await say(message_xml(OPENID, "event", Event=event, EventKey="https://x")) == ""
    assert hub.calls == []


@pytest.mark.parametrize("kind", ["video", "shortvideo", "link", "file", "miniprogrampage"])
async def test_unknown_kinds_get_a_polite_answer(say: Any, hub: FakeHub, kind: str) -> None:
    assert await say(message_xml(OPENID, kind, MediaId="x", MsgId="11")) == UNSUPPORTED_TEXT
    assert hub.calls == []


# --- replies ------------------------------------------------------------------


async def test_buttons_become_numbered_choices_and_map_back(say: Any, hub: FakeHub) -> None:
    menu = OutboundMessage(
        text="请问您要办理什么？",
        buttons=(Button("政策咨询", "/consult"), Button("投诉举报", "/complain")),
    )
    hub.reply = replies(menu)
    text = await say(text_xml("你好", msg_id="20"))
    assert "请问您要办理什么？" in text and "1. 政策咨询" in text and "2. 投诉举报" in text

    hub.reply = replies(OutboundMessage(text="好的，请描述您要投诉的问题。"))
    assert await say(text_xml("２", msg_id="21")) == "好的，请描述您要投诉的问题。"
    assert (hub.calls[1].text, hub.calls[1].payload) == ("２", "/complain")

    # The last reply had no buttons: a number is just text now.
    await say(text_xml("1", msg_id="22"))
    assert (hub.calls[2].text, hub.calls[2].payload) == ("1", None)


async def test_out_of_range_choice_stays_text(say: Any, hub: FakeHub) -> None:
    hub.reply = replies(OutboundMessage(text="选择：", buttons=(Button("是", "/affirm"),)))
    await say(text_xml("你好", msg_id="30"))
    await say(text_xml("3", msg_id="31"))
    await say(text_xml("²", msg_id="32"))
    assert [c.payload for c in hub.calls[1:]] == [None, None]


async def test_several_replies_are_joined(say: Any, hub: FakeHub) -> None:
    hub.reply = replies(
        OutboundMessage(text="您好，我是东莞12345智能助手。"),
        OutboundMessage(text="办事指南见：", image="https://www.dg.gov.cn/guide.png"),
    )
    assert await say(text_xml("你好")) == (
        "您好，我是东莞12345智能助手。\n\n办事指南见：\nhttps://www.dg.gov.cn/guide.png"
    )


async def test_too_long_for_passive_goes_as_cs_messages(
    say: Any, hub: FakeHub, fake_api: FakeWeChatApi
) -> None:
    long_text = "\n".join(f"第{i}条：办理社保业务需要携带身份证原件和复印件。" for i in range(120))
    hub.reply = replies(OutboundMessage(text="以下是办理须知："), OutboundMessage(text=long_text))
    assert await say(text_xml("社保", msg_id="40")) == ""
    whole = "以下是办理须知：\n\n" + long_text
    # every part sent (under load the first three arrive before the rest)
    await eventually(lambda: "\n".join(fake_api.sent_texts) == whole)
    texts = fake_api.sent_texts
    assert len(texts) >= 3
    assert texts[0].startswith("以下是办理须知：\n\n第0条：")
    assert all(len(t.encode()) <= 2048 for t in texts)
    assert {m["touser"] for m in fake_api.sent} == {OPENID}


async def test_pending_is_acked_and_pushed_later(
    client: TestClient, say: Any, hub: FakeHub, fake_api: FakeWeChatApi
) -> None:
    hub.reply = replies(status="pending")
    assert await say(text_xml("慢问题", msg_id="50")) == ""
    channel = client.app[CHANNEL_KEY]
    await channel.send(OPENID, [OutboundMessage(text="这是稍后的答复。")])
    assert fake_api.sent == [
        {"touser": OPENID, "msgtype": "text", "text": {"content": "这是稍后的答复。"}}
    ]


async def test_duplicate_is_acked(say: Any, hub: FakeHub) -> None:
    hub.reply = replies(status="duplicate")
    assert await say(text_xml("重复", msg_id="60")) == ""


async def test_hub_failure_gives_busy_text(say: Any, hub: FakeHub) -> None:
    async def boom(msg: InboundMessage) -> HandleResult:
        raise RuntimeError("store down")

    hub.reply = boom
    assert await say(text_xml("你好", msg_id="70")) == BUSY_TEXT


async def test_store_down_before_anything_was_recorded_is_503(
    client: TestClient, platform: FakeWeChatPlatform, hub: FakeHub
) -> None:
    """WeChat sends the message again (the hub recorded nothing); no busy text."""

    async def down(msg: InboundMessage) -> HandleResult:
        raise StoreUnavailable("redis unavailable during claim")

    hub.reply = down
    resp = await client.post(
        URL, params=platform.query(), data=text_xml("你好", msg_id="71").encode()
    )
    assert resp.status == 503
    assert BUSY_TEXT not in await resp.text()


async def test_answer_within_deadline_when_hub_hangs(
    say: Any, hub: FakeHub, fake_api: FakeWeChatApi
) -> None:
    release = asyncio.Event()

    async def slow(msg: InboundMessage) -> HandleResult:
        await release.wait()
        return HandleResult([OutboundMessage(text="迟到的答复")], "ok")

    hub.reply = slow
    started = time.monotonic()
    assert await say(text_xml("你好", msg_id="80")) == ""
    assert time.monotonic() - started < wechat_module.RESPONSE_DEADLINE
    release.set()  # the hub returns its replies after we acked: we push them
    await eventually(lambda: fake_api.sent_texts == ["迟到的答复"])


async def test_send_failure_raises_and_is_recorded(
    client: TestClient, hub: FakeHub, fake_api: FakeWeChatApi
) -> None:
    fake_api.fail_next(45015)
    channel = client.app[CHANNEL_KEY]
    with pytest.raises(WeChatSendError) as info:
        await channel.send(OPENID, [OutboundMessage(text="一" * 1000), OutboundMessage(text="二")])
    assert (info.value.result.errcode, info.value.result.reason) == (45015, "outside_window")
    assert fake_api.sent == []
    assert len(fake_api.send_attempts) == 1  # the first of two was refused: stop there
    event = hub.db.events.items[-1]
    assert event.kind == "wechat_send_failed" and event.data["errcode"] == 45015
