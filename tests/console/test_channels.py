"""Agent messages reach citizens on their own channel: the web widget (real
channel and socket), WeChat's customer-service API and Telegram's Bot API
(fake servers on 127.0.0.1); citizens' messages reach the holding agent."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from tests.console.conftest import (
    HANDOFF_REPLY,
    Agent,
    SignIn,
    connect,
    telegram_asks_for_agent,
)
from tests.fakes.rasa import FakeRasa
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.wechat_api import (
    AES_KEY,
    OPENID,
    TOKEN,
    URL,
    FakeWeChatApi,
    FakeWeChatPlatform,
    text_xml,
)
from tests.support.waiting import eventually, frames_until

CHAT = 770001


async def _claim_and_say(agent: Agent, cid: str, text: str) -> None:
    base = f"/console/api/conversations/{cid}"
    assert (await agent.post(base + "/claim")).status == 200
    assert (await agent.post(base + "/messages", {"text": text})).status == 200


async def test_web_widget(full_app: TestClient, sign_in: SignIn) -> None:
    agent = await sign_in(full_app, "zhangsan", display_name="张三")
    agent_ws = await connect(agent)
    session = await (await full_app.post("/webchat/session")).json()
    widget = await full_app.ws_connect("/webchat/ws", params={"token": session["token"]})
    await widget.send_json({"type": "message", "id": "m1", "text": "转人工"})
    await _widget_until(widget, lambda f: "排在第 1 位" in (f.get("text") or ""))
    cid = session["conversation_id"]
    await _claim_and_say(agent, cid, "您好，我是张三")
    frame = await _widget_until(widget, lambda f: f.get("sender") == "agent:张三")
    assert frame["text"] == "您好，我是张三" and frame["direction"] == "out"
    await widget.send_json({"type": "message", "id": "m2", "text": "我想咨询居住证"})
    await frames_until(
        agent_ws,
        lambda fs: any(f["type"] == "conversation" and f["conversation_id"] == cid for f in fs),
    )

    async def arrived() -> bool:
        detail = await agent.json(f"/console/api/conversations/{cid}")
        return bool(detail["entries"][-1]["text"] == "我想咨询居住证")

    await eventually(arrived)
    await widget.close()


async def _widget_until(
    ws: aiohttp.ClientWebSocketResponse, match: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    while True:
        msg = await ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        frame = json.loads(msg.data)
        if frame.get("type") == "message" and match(frame):
            return dict(frame)


async def test_wechat_customer_service_messages(
    full_app: TestClient, sign_in: SignIn, fake_wechat: FakeWeChatApi, rasa_handoff: FakeRasa
) -> None:
    agent = await sign_in(full_app, "zhangsan", display_name="张三")
    await connect(agent)
    platform = FakeWeChatPlatform(token=TOKEN, encoding_aes_key=AES_KEY)
    encrypt = platform.encrypt(text_xml("转人工", msg_id="900001"))
    resp = await full_app.post(URL, params=platform.query(encrypt), data=platform.envelope(encrypt))
    assert resp.status == 200
    await _claim_and_say(agent, f"wechat:{OPENID}", "您好，我是张三")
    await eventually(lambda: "您好，我是张三" in fake_wechat.sent_texts)
    assert "人工客服 张三 已为您接入，请问有什么可以帮您？" in fake_wechat.sent_texts
    turns = len(rasa_handoff.calls)
    encrypt = platform.encrypt(text_xml("我家楼下很吵", msg_id="900002"))
    await full_app.post(URL, params=platform.query(encrypt), data=platform.envelope(encrypt))
    assert len(rasa_handoff.calls) == turns


async def test_telegram_messages(
    full_app: TestClient, sign_in: SignIn, fake_telegram: FakeTelegramApi
) -> None:
    agent = await sign_in(full_app, "zhangsan", display_name="张三")
    await connect(agent)
    await telegram_asks_for_agent(full_app, fake_telegram, CHAT)
    await _claim_and_say(agent, f"telegram:{CHAT}", "您好，我是张三")
    await eventually(lambda: "您好，我是张三" in fake_telegram.sent_texts(CHAT), timeout=5)
    texts = fake_telegram.sent_texts(CHAT)
    assert HANDOFF_REPLY[0]["text"] in texts
    assert any("排在第 1 位" in t for t in texts)
