"""Typing indicators between citizen and agent, through the real front door.

The citizen's widget sends ``{"type": "typing", "on": ...}`` frames; the agent
holding the chat sees them on the console socket (``by: citizen``), nobody
else does, and they never reach Rasa or the transcript. The agent's console
sends ``{"type": "typing", "conversation_id", "on"}``; the citizen sees
"客服正在输入…" in the widget (``by: agent``), Telegram's sendChatAction, or
WeChat's customer-service typing state (fake APIs on 127.0.0.1 with WeChat's
real error codes). Both directions are rate limited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from channels.webchat._protocol import FrameError, Typing, parse_frame
from tests.console.conftest import (
    Agent,
    SignIn,
    connect,
    hub_of,
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

CHAT = 770002
Frames = list[dict[str, Any]]


def test_typing_frame_is_parsed_and_checked() -> None:
    assert parse_frame('{"type": "typing", "on": true}') == Typing(True)
    assert parse_frame('{"type": "typing", "on": false}') == Typing(False)
    bad_frames = (
        '{"type": "typing"}',
        '{"type": "typing", "on": "yes"}',
        '{"type": "typing", "on": 1}',
    )
    for bad in bad_frames:
        with pytest.raises(FrameError) as refused:
            parse_frame(bad)
        assert refused.value.code == "bad_frame"


async def _claim(agent: Agent, cid: str) -> None:
    assert (await agent.post(f"/console/api/conversations/{cid}/claim")).status == 200


async def _frames(ws: aiohttp.ClientWebSocketResponse, done: Callable[[Frames], bool]) -> Frames:
    return await frames_until(ws, done)


def _typing(frames: Frames) -> Frames:
    return [f for f in frames if f.get("type") == "typing"]


async def _pong(ws: aiohttp.ClientWebSocketResponse) -> Frames:
    """Everything the socket sent before the answer to a ping (its frames are
    handled in order: what a frame before the ping caused has been sent)."""
    await ws.send_json({"type": "ping"})
    return await frames_until(ws, lambda fs: any(f["type"] == "pong" for f in fs))


async def _web_chat_with_agent(
    app: TestClient, agent: Agent, agent_ws: aiohttp.ClientWebSocketResponse
) -> tuple[str, aiohttp.ClientWebSocketResponse]:
    session = await (await app.post("/webchat/session")).json()
    widget = await app.ws_connect("/webchat/ws", params={"token": session["token"]})
    cid = session["conversation_id"]
    # typing while the assistant answers goes nowhere
    assert await hub_of(app).citizen_typing(cid, True) is False
    await widget.send_json({"type": "message", "id": "m1", "text": "转人工"})
    await frames_until(widget, lambda fs: any("排在第 1 位" in (f.get("text") or "") for f in fs))
    await _claim(agent, cid)
    await frames_until(widget, lambda fs: any("已为您接入" in (f.get("text") or "") for f in fs))
    await frames_until(
        agent_ws,
        lambda fs: any(f.get("type") == "claimed" and f["conversation_id"] == cid for f in fs),
    )
    return cid, widget


async def test_web_widget_typing_both_ways(
    full_app: TestClient, sign_in: SignIn, rasa_handoff: FakeRasa
) -> None:
    agent = await sign_in(full_app, "zhangsan", display_name="张三")
    agent_ws = await connect(agent)
    other = await sign_in(full_app, "lisi", display_name="李四")
    other_ws = await connect(other)
    cid, widget = await _web_chat_with_agent(full_app, agent, agent_ws)
    hub = hub_of(full_app)
    entries = len(await hub.history(cid, limit=500))
    turns = len(rasa_handoff.calls)

    # the citizen types: a burst of "on" reaches the holding agent once, then "off"
    for _ in range(5):
        await widget.send_json({"type": "typing", "on": True})
    await widget.send_json({"type": "typing", "on": False})
    seen = await frames_until(agent_ws, lambda fs: any(f.get("on") is False for f in _typing(fs)))
    assert _typing(seen) == [
        {"type": "typing", "conversation_id": cid, "by": "citizen", "on": True},
        {"type": "typing", "conversation_id": cid, "by": "citizen", "on": False},
    ]
    assert not _typing(await _pong(widget))  # no answer to the citizen's own typing
    # another agent, neither holding nor watching the chat, is not told
    assert not _typing(await _pong(other_ws))

    # the agent types: the widget shows "客服正在输入…" (by agent), then stops
    await agent_ws.send_json({"type": "typing", "conversation_id": cid, "on": True})
    await agent_ws.send_json({"type": "typing", "conversation_id": cid, "on": True})  # too soon
    await agent_ws.send_json({"type": "typing", "conversation_id": cid, "on": False})
    got = await frames_until(widget, lambda fs: any(f.get("on") is False for f in _typing(fs)))
    assert _typing(got) == [
        {"type": "typing", "on": True, "by": "agent"},
        {"type": "typing", "on": False, "by": "agent"},
    ]
    # a colleague not holding the chat cannot make the citizen see typing
    await other_ws.send_json({"type": "typing", "conversation_id": cid, "on": True})
    await _pong(other_ws)
    assert not _typing(await _pong(widget))

    # none of it is a message: nothing in the transcript, nothing sent to Rasa
    assert len(await hub.history(cid, limit=500)) == entries
    assert len(rasa_handoff.calls) == turns
    await widget.close()


async def test_bad_typing_frames_are_refused(full_app: TestClient, sign_in: SignIn) -> None:
    agent = await sign_in(full_app, "zhangsan", display_name="张三")
    agent_ws = await connect(agent)
    await agent_ws.send_json({"type": "typing", "conversation_id": "webchat:x", "on": "yes"})
    frames = await frames_until(agent_ws, lambda fs: any(f["type"] == "error" for f in fs))
    assert [f for f in frames if f["type"] == "error"][0]["code"] == "bad_frame"
    session = await (await full_app.post("/webchat/session")).json()
    widget = await full_app.ws_connect("/webchat/ws", params={"token": session["token"]})
    await widget.send_json({"type": "typing"})
    frames = await frames_until(widget, lambda fs: any(f["type"] == "error" for f in fs))
    error = [f for f in frames if f["type"] == "error"][0]
    assert error["code"] == "bad_frame" and error["message"]
    await widget.close()


async def test_telegram_shows_the_agent_typing(
    full_app: TestClient, sign_in: SignIn, fake_telegram: FakeTelegramApi
) -> None:
    agent = await sign_in(full_app, "zhangsan", display_name="张三")
    agent_ws = await connect(agent)
    await telegram_asks_for_agent(full_app, fake_telegram, CHAT)
    cid = f"telegram:{CHAT}"
    await _claim(agent, cid)
    await agent_ws.send_json({"type": "typing", "conversation_id": cid, "on": True})
    await fake_telegram.wait_for("sendChatAction")
    call = fake_telegram.calls_to("sendChatAction")[0]
    assert call["chat_id"] == CHAT and call["action"] == "typing"
    # within the rate limit nothing more; "off" has no Telegram call
    await agent_ws.send_json({"type": "typing", "conversation_id": cid, "on": True})
    await agent_ws.send_json({"type": "typing", "conversation_id": cid, "on": False})
    await _pong(agent_ws)
    assert len(fake_telegram.calls_to("sendChatAction")) == 1


async def test_wechat_typing_state(
    full_app: TestClient,
    sign_in: SignIn,
    fake_wechat: FakeWeChatApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    agent = await sign_in(full_app, "zhangsan", display_name="张三")
    agent_ws = await connect(agent)
    platform = FakeWeChatPlatform(token=TOKEN, encoding_aes_key=AES_KEY)
    encrypt = platform.encrypt(text_xml("转人工", msg_id="900101"))
    resp = await full_app.post(URL, params=platform.query(encrypt), data=platform.envelope(encrypt))
    assert resp.status == 200
    cid = f"wechat:{OPENID}"

    async def claimed() -> bool:  # the handoff is queued once WeChat's turn is done
        return (await agent.post(f"/console/api/conversations/{cid}/claim")).status == 200

    await eventually(claimed)

    # "off" before any "on": nothing to cancel
    await agent_ws.send_json({"type": "typing", "conversation_id": cid, "on": False})
    await agent_ws.send_json({"type": "typing", "conversation_id": cid, "on": True})
    await agent_ws.send_json({"type": "typing", "conversation_id": cid, "on": True})  # too soon
    await agent_ws.send_json({"type": "typing", "conversation_id": cid, "on": False})
    await eventually(lambda: len(fake_wechat.typing) == 2)
    assert fake_wechat.typing == [
        {"touser": OPENID, "command": "Typing"},
        {"touser": OPENID, "command": "CancelTyping"},
    ]

    # the citizen wrote nothing in the last 30 s: WeChat refuses (45080), logged, no harm
    fake_wechat.quiet_users.add(OPENID)
    caplog.set_level(logging.INFO, logger="channels.wechat._channel")
    await agent_ws.send_json({"type": "typing", "conversation_id": cid, "on": True})
    await eventually(lambda: "errcode=45080" in caplog.text)
    assert len(fake_wechat.typing) == 2
    sent = await agent.post(f"/console/api/conversations/{cid}/messages", {"text": "您好"})
    assert sent.status == 200
    assert (await sent.json())["message"]["delivery"]["state"] == "sent"
