"""The web chat channel: sessions, the WebSocket protocol, replay, live delivery.

The real front door (``bot.app.create_app``) runs on an in-process store (on
Redis for the two-replica test) with the fake transcript database and the
fake Rasa server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import HUB_KEY, create_app
from bot.config import Secret, Settings
from bot.hub import Hub
from bot.inbound import DeliveryMode
from bot.messages import Button, InboundMessage, OutboundMessage
from bot.rasa_client import RasaClient
from bot.store import MemoryStore, SharedStore
from bot.store.base import StoreUnavailable, Subscription
from bot.store.memory import MemorySubscription
from bot.store.redis import RedisStore
from channels.webchat._auth import TokenSigner, load_secret
from channels.webchat._fanout import TOPIC, encode
from channels.webchat._socket import one_segment
from tests.fakes.db import TempDatabase
from tests.fakes.rasa import FakeRasa
from tests.support.waiting import frames_until

SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
WS = "/webchat/ws"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBCHAT_SECRET", SECRET)
    monkeypatch.delenv("WEBCHAT_ALLOWED_ORIGINS", raising=False)


def front_door(
    store: SharedStore, db: TempDatabase, rasa: FakeRasa, **overrides: Any
) -> web.Application:
    """The real front door app on the given store, the fake database and the fake Rasa."""
    settings = Settings(
        rasa_url=rasa.url, rasa_timeout=2.0, webchat_secret=Secret(SECRET), **overrides
    )
    rasa_client = RasaClient(rasa.url, 2.0)
    return create_app(settings, store=store, db=db, rasa=rasa_client)  # type: ignore[arg-type]


@pytest.fixture
def db() -> TempDatabase:
    return TempDatabase()


@pytest.fixture
def app(db: TempDatabase, fake_rasa: FakeRasa) -> web.Application:
    return front_door(MemoryStore(), db, fake_rasa)


@pytest.fixture
def hub(app: web.Application) -> Hub:
    return app[HUB_KEY]


@pytest.fixture
def handled(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> list[InboundMessage]:
    """Every message the channel handed to the (real) hub."""
    calls: list[InboundMessage] = []
    real = hub.handle

    async def spy(msg: InboundMessage, mode: DeliveryMode = DeliveryMode.ANSWER_IN_PLACE) -> Any:
        calls.append(msg)
        return await real(msg, mode)

    monkeypatch.setattr(hub, "handle", spy)
    return calls


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Any], app: web.Application, handled: list[InboundMessage]
) -> TestClient:
    return await aiohttp_client(app)


async def new_session(client: TestClient) -> dict[str, str]:
    resp = await client.post("/webchat/session")
    assert resp.status == 201
    return dict(await resp.json())


async def connect(client: TestClient, token: str, **params: Any) -> aiohttp.ClientWebSocketResponse:
    query = {"token": token, **{k: str(v) for k, v in params.items()}}
    return await client.ws_connect(WS, params=query)


def messages(frames: list[dict[str, Any]], direction: str | None = None) -> list[dict[str, Any]]:
    return [
        f
        for f in frames
        if f["type"] == "message" and (direction is None or f["direction"] == direction)
    ]


def has_reply(text: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda frames: any(f.get("text") == text for f in messages(frames, "out"))


async def quiet(ws: aiohttp.ClientWebSocketResponse, seconds: float = 0.3) -> list[Any]:
    """Frames that arrive within ``seconds`` (expected: none)."""
    got = []
    try:
        while True:
            msg = await ws.receive(timeout=seconds)
            got.append(json.loads(msg.data) if msg.type == aiohttp.WSMsgType.TEXT else msg)
    except TimeoutError:
        return got


# --- sessions ----------------------------------------------------------------


async def test_session_creation_and_continuation(client: TestClient) -> None:
    data = await new_session(client)
    assert len(data["session_id"]) == 32 and int(data["session_id"], 16) >= 0
    assert data["conversation_id"] == f"webchat:{data['session_id']}"
    signer = TokenSigner(SECRET)
    assert signer.verify(data["token"]).session_id == data["session_id"]  # type: ignore[union-attr]

    again = await client.post("/webchat/session", json={"token": data["token"]})
    assert again.status == 200
    assert (await again.json())["session_id"] == data["session_id"]
    assert again.headers["Cache-Control"] == "no-store"

    forged = await client.post("/webchat/session", json={"token": data["token"][:-2] + "xx"})
    assert forged.status == 201
    assert (await forged.json())["session_id"] != data["session_id"]


async def test_session_ids_are_random(
    aiohttp_client: Callable[..., Any], db: TempDatabase, fake_rasa: FakeRasa
) -> None:
    app = front_door(MemoryStore(), db, fake_rasa, webchat_sessions_per_minute=20)
    client = await aiohttp_client(app)
    ids = {(await new_session(client))["session_id"] for _ in range(20)}
    assert len(ids) == 20


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe", b"{}" + b" " * 5000])
async def test_session_bad_body_is_400(client: TestClient, body: bytes) -> None:
    resp = await client.post("/webchat/session", data=body)
    assert resp.status == 400
    assert "请求格式有误" in await resp.text()


async def test_session_cors_for_embedding_sites(client: TestClient) -> None:
    origin = {"Origin": "https://www.example.gov.cn"}
    pre = await client.options("/webchat/session", headers=origin)
    assert pre.status == 204
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    resp = await client.post("/webchat/session", headers=origin)
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


async def test_allowed_origins_restrict_embedding(
    aiohttp_client: Callable[..., Any],
    db: TempDatabase,
    fake_rasa: FakeRasa,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = front_door(MemoryStore(), db, fake_rasa, webchat_allowed_origins="https://www.dg.gov.cn")
    client = await aiohttp_client(app)
    ok = await client.post("/webchat/session", headers={"Origin": "https://www.dg.gov.cn"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://www.dg.gov.cn"
    other = await client.post("/webchat/session", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    token = (await other.json())["token"]
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await client.ws_connect(WS, params={"token": token}, origin="https://evil.example")
    assert err.value.status == 403
    own = str(client.make_url("")).rstrip("/")  # the demo page on the front door itself
    ws = await client.ws_connect(WS, params={"token": token}, origin=own)
    await ws.close()


# --- authentication ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "garbage", "tampered", "other_secret", "expired"])
async def test_bad_token_is_403_before_upgrade(
    client: TestClient, handled: list[InboundMessage], kind: str
) -> None:
    token = (await new_session(client))["token"]
    params = {
        "missing": {},
        "garbage": {"token": "v1.abc.def.ghi"},
        "tampered": {"token": token.replace(token.split(".")[1], "0" * 32)},
        "other_secret": {"token": TokenSigner("another-secret-" + "x" * 32).new_session()[1]},
        "expired": {"token": TokenSigner(SECRET).new_session(now=time.time() - 91 * 86400)[1]},
    }[kind]
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await client.ws_connect(WS, params=params)
    assert err.value.status == 403
    assert handled == []


async def test_bad_after_seq_is_400(client: TestClient) -> None:
    token = (await new_session(client))["token"]
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await connect(client, token, after_seq="-1")
    assert err.value.status == 400


# --- messages in and out --------------------------------------------------------


async def test_message_goes_to_hub_and_is_acked(
    client: TestClient, handled: list[InboundMessage], fake_rasa: FakeRasa
) -> None:
    session = await new_session(client)
    sid = session["session_id"]
    ws = await connect(client, session["token"])
    await ws.send_json({"type": "message", "id": "c-1", "text": "  居住证怎么办理  "})
    frames = await frames_until(ws, has_reply("echo: 居住证怎么办理"))

    assert frames[0] == {"type": "ack", "id": "c-1", "status": "pending"}
    [msg] = handled
    assert msg.channel == "webchat" and msg.channel_user_id == sid
    assert msg.conversation_id == f"webchat:{sid}"
    assert msg.message_id == f"{sid}:c-1"
    assert (msg.text, msg.payload) == ("居住证怎么办理", None)
    assert fake_rasa.by_sender[f"webchat:{sid}"] == ["居住证怎么办理"]

    [echo] = messages(frames, "in")
    assert echo["id"] == "c-1" and echo["text"] == "居住证怎么办理"
    assert echo["sender"] == "citizen"
    [reply] = messages(frames, "out")
    assert reply["seq"] > echo["seq"]
    assert reply["at"].endswith("+00:00")
    await ws.close()


async def test_button_click_sends_payload_and_shows_title(
    client: TestClient, handled: list[InboundMessage], fake_rasa: FakeRasa
) -> None:
    session = await new_session(client)
    fake_rasa.replies["/faq"] = [
        {
            "text": "请选择您要了解的业务：",
            "buttons": [{"title": "居住证", "payload": '/ask{"service":"居住证"}'}],
            "image": "https://example.gov.cn/guide.png",
        }
    ]
    ws = await connect(client, session["token"])
    await ws.send_json({"type": "message", "id": "b-1", "payload": "/faq", "title": "常见问题"})
    frames = await frames_until(ws, has_reply("请选择您要了解的业务："))

    [msg] = handled
    assert (msg.text, msg.payload) == ("常见问题", "/faq")
    assert fake_rasa.by_sender[msg.conversation_id] == ["/faq"]
    [echo] = messages(frames, "in")
    assert echo["text"] == "常见问题"
    [reply] = messages(frames, "out")
    assert reply["buttons"] == [{"title": "居住证", "payload": '/ask{"service":"居住证"}'}]
    assert reply["image"] == "https://example.gov.cn/guide.png"
    await ws.close()


async def test_push_reaches_the_socket(client: TestClient, hub: Hub) -> None:
    session = await new_session(client)
    ws = await connect(client, session["token"])
    reply = OutboundMessage(
        text="您好，我是人工客服李敏。", buttons=(Button("满意", "/rate{\"score\":5}"),),
        sender="agent:李敏",
    )  # fmt: skip
    await hub.push(f"webchat:{session['session_id']}", [reply])
    [frame] = messages(await frames_until(ws, lambda f: bool(messages(f))))
    assert frame["direction"] == "out"
    assert frame["sender"] == "agent:李敏"
    assert frame["text"] == "您好，我是人工客服李敏。"
    assert frame["buttons"] == [{"title": "满意", "payload": '/rate{"score":5}'}]
    await ws.close()


async def test_push_reaches_every_tab_of_the_session(client: TestClient, hub: Hub) -> None:
    session = await new_session(client)
    tabs = [await connect(client, session["token"]) for _ in range(2)]
    await hub.push(f"webchat:{session['session_id']}", [OutboundMessage(text="工单已受理")])
    for ws in tabs:
        frames = await frames_until(ws, has_reply("工单已受理"))
        assert len(messages(frames)) == 1
        await ws.close()


async def test_typing_signal_is_forwarded(client: TestClient, hub: Hub) -> None:
    """The channel's typing hook is the agent's typing: flagged for "客服正在输入…"."""
    session = await new_session(client)
    channel = hub.channels["webchat"]
    ws = await connect(client, session["token"])
    await channel.typing(session["session_id"], True)
    frames = await frames_until(ws, lambda f: any(x["type"] == "typing" for x in f))
    assert frames[-1] == {"type": "typing", "on": True, "by": "agent"}
    await ws.close()


async def test_typing_on_while_the_bot_works(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.delay = (0.3, 0.3)
    ws = await connect(client, (await new_session(client))["token"])
    await ws.send_json({"type": "message", "id": "t1", "text": "你好"})
    frames = await frames_until(ws, has_reply("echo: 你好"))
    kinds = [f["type"] if f["type"] != "message" else f["direction"] for f in frames]
    assert kinds == ["ack", "in", "typing", "out"]
    assert frames[2] == {"type": "typing", "on": True}
    await ws.close()


async def test_no_typing_when_an_agent_holds_the_conversation(
    client: TestClient, hub: Hub, fake_rasa: FakeRasa
) -> None:
    session = await new_session(client)
    cid = f"webchat:{session['session_id']}"
    await hub.set_conversation_state(cid, "with_agent")
    ws = await connect(client, session["token"])
    await ws.send_json({"type": "message", "id": "a1", "text": "我要找人工"})
    frames = await frames_until(ws, lambda f: any(x["type"] == "typing" for x in f))
    assert frames[-1] == {"type": "typing", "on": False}
    assert messages(frames, "in")[0]["text"] == "我要找人工"
    assert fake_rasa.calls == []
    await ws.close()


# --- replay and resume ------------------------------------------------------------


async def _conversation(client: TestClient, token: str, texts: list[str]) -> list[dict[str, Any]]:
    ws = await connect(client, token)
    frames: list[dict[str, Any]] = []
    for i, text in enumerate(texts):
        await ws.send_json({"type": "message", "id": f"m{i}", "text": text})
        frames += await frames_until(ws, has_reply(f"echo: {text}"))
    await ws.close()
    return messages(frames)


async def test_reconnect_replays_the_whole_history(client: TestClient) -> None:
    session = await new_session(client)
    first = await _conversation(client, session["token"], ["你好", "居住证"])
    assert [f["text"] for f in first] == ["你好", "echo: 你好", "居住证", "echo: 居住证"]

    ws = await connect(client, session["token"])  # a reload: no after_seq
    replay = messages(await frames_until(ws, lambda f: len(messages(f)) == 4))
    assert replay == first
    assert await quiet(ws) == []
    await ws.close()


async def test_after_seq_and_resume_send_only_later_entries(client: TestClient) -> None:
    session = await new_session(client)
    first = await _conversation(client, session["token"], ["你好", "居住证"])
    ws = await connect(client, session["token"], after_seq=first[1]["seq"])
    later = messages(await frames_until(ws, lambda f: len(messages(f)) == 2))
    assert later == first[2:]

    await ws.send_json({"type": "resume", "after_seq": first[2]["seq"]})
    again = messages(await frames_until(ws, lambda f: len(messages(f)) == 1))
    assert again == first[3:]
    await ws.close()


async def test_push_while_disconnected_arrives_on_resume(client: TestClient, hub: Hub) -> None:
    session = await new_session(client)
    first = await _conversation(client, session["token"], ["投诉噪音"])
    await hub.push(f"webchat:{session['session_id']}", [OutboundMessage(text="工单已派发")])
    ws = await connect(client, session["token"], after_seq=first[-1]["seq"])
    [frame] = messages(await frames_until(ws, lambda f: len(messages(f)) == 1))
    assert frame["text"] == "工单已派发"
    await ws.close()


async def test_duplicate_client_id_is_not_forwarded_twice(
    client: TestClient, hub: Hub, fake_rasa: FakeRasa
) -> None:
    session = await new_session(client)
    ws = await connect(client, session["token"])
    frame = {"type": "message", "id": "same-id", "text": "你好"}
    await ws.send_json(frame)
    frames = await frames_until(ws, has_reply("echo: 你好"))
    await ws.close()

    ws = await connect(client, session["token"], after_seq=messages(frames)[-1]["seq"])
    await ws.send_json(frame)  # the widget resends after a reconnect
    [ack] = await frames_until(ws, lambda f: bool(f))
    assert ack == {"type": "ack", "id": "same-id", "status": "duplicate"}
    assert await quiet(ws) == []
    assert fake_rasa.by_sender[f"webchat:{session['session_id']}"] == ["你好"]
    await ws.close()


async def test_client_ids_are_scoped_to_the_session(
    client: TestClient, fake_rasa: FakeRasa
) -> None:
    one, two = await new_session(client), await new_session(client)
    for session in (one, two):
        ws = await connect(client, session["token"])
        await ws.send_json({"type": "message", "id": "shared", "text": "你好"})
        await frames_until(ws, has_reply("echo: 你好"))
        await ws.close()
    assert fake_rasa.by_sender[f"webchat:{two['session_id']}"] == ["你好"]


# --- bad frames ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code", "client_id"),
    [
        ("{not json", "bad_json", None),
        ("[1,2]", "bad_json", None),
        ('{"type": "shout"}', "bad_frame", None),
        ('{"type": "message", "text": "没有编号"}', "bad_frame", None),
        ('{"type": "message", "id": "a b", "text": "x"}', "bad_frame", None),
        ('{"type": "message", "id": "e1", "text": "   "}', "empty", "e1"),
        ('{"type": "message", "id": "e2", "text": 42}', "bad_frame", "e2"),
        (
            json.dumps({"type": "message", "id": "e3", "text": "长" * 2001}, ensure_ascii=False),
            "too_long",
            "e3",
        ),
        (json.dumps({"type": "message", "id": "e4", "text": "x" * 9000}), "too_large", None),
        ('{"type": "resume", "after_seq": -3}', "bad_frame", None),
    ],
    ids=[
        "json",
        "not_object",
        "type",
        "no_id",
        "bad_id",
        "empty",
        "not_str",
        "long",
        "large",
        "seq",
    ],
)
async def test_bad_frames_get_error_frames_and_touch_nothing(
    client: TestClient, handled: list[InboundMessage], raw: str, code: str, client_id: str | None
) -> None:
    session = await new_session(client)
    ws = await connect(client, session["token"])
    await ws.send_str(raw)
    [error] = await frames_until(ws, lambda f: bool(f))
    assert error["type"] == "error" and error["code"] == code
    assert error.get("id") == client_id
    assert any("\u4e00" <= c <= "\u9fff" for c in error["message"])  # a Chinese explanation
    assert handled == []
    # the socket stays usable after a refused frame
    await ws.send_json({"type": "ping"})
    assert (await frames_until(ws, lambda f: bool(f)))[0] == {"type": "pong"}
    await ws.close()


async def test_binary_frame_is_refused(client: TestClient, handled: list[InboundMessage]) -> None:
    ws = await connect(client, (await new_session(client))["token"])
    await ws.send_bytes(b"\x00\x01")
    [error] = await frames_until(ws, lambda f: bool(f))
    assert error["code"] == "bad_frame"
    assert handled == []
    await ws.close()


async def test_flood_is_rate_limited(client: TestClient, handled: list[InboundMessage]) -> None:
    ws = await connect(client, (await new_session(client))["token"])
    for i in range(12):  # WEBCHAT_MESSAGE_LIMIT: 10 per 10 s by default
        await ws.send_json({"type": "message", "id": f"f{i}", "text": f"第{i}条"})
    frames = await frames_until(
        ws, lambda f: len([x for x in f if x["type"] in ("ack", "error")]) == 12
    )
    errors = [f for f in frames if f["type"] == "error"]
    assert errors and all(e["code"] == "rate_limited" for e in errors)
    assert errors[0]["message"] == "发送太频繁，请稍后再试"
    assert len(handled) == 12 - len(errors)
    assert {e["id"] for e in errors}.isdisjoint(m.message_id.split(":")[1] for m in handled)
    await ws.close()


async def test_hub_failure_is_an_error_frame_and_no_ack(
    client: TestClient, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(msg: InboundMessage, wait: float | None = None) -> Any:
        raise StoreUnavailable("redis down")

    monkeypatch.setattr(hub, "handle", down)
    ws = await connect(client, (await new_session(client))["token"])
    await ws.send_json({"type": "message", "id": "keep-me", "text": "你好"})
    [error] = await frames_until(ws, lambda f: bool(f))
    assert (error["type"], error["code"], error["id"]) == ("error", "server_error", "keep-me")
    assert await quiet(ws) == []  # no ack: the widget keeps the message and resends it
    await ws.close()


async def test_transcript_failure_keeps_the_socket(
    client: TestClient, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> list[Any]:
        raise OSError("database gone")

    monkeypatch.setattr(hub, "history", broken)
    ws = await connect(client, (await new_session(client))["token"])
    await ws.send_json({"type": "ping"})
    assert (await frames_until(ws, lambda f: bool(f)))[0] == {"type": "pong"}
    await ws.close()


class FlakySubscription(MemorySubscription):
    """Loses one event and fails, like a Redis connection that drops."""

    async def _next(self) -> str:
        value = await super()._next()
        store = self._store
        assert isinstance(store, FlakyStore)
        if store.drop_next:
            store.drop_next = False
            raise StoreUnavailable("connection lost")
        return value


class FlakyStore(MemoryStore):
    drop_next = False

    def subscribe(self, channel: str) -> Subscription:
        if channel.startswith("webchat:"):
            return FlakySubscription(self, channel)
        return super().subscribe(channel)


async def test_lost_subscription_is_renewed_and_catches_up(
    aiohttp_client: Callable[..., Any], db: TempDatabase, fake_rasa: FakeRasa
) -> None:
    store = FlakyStore()
    app = front_door(store, db, fake_rasa)
    client = await aiohttp_client(app)
    session = await new_session(client)
    ws = await connect(client, session["token"])
    store.drop_next = True
    # Another replica's reply: its transcript entry, then its event, which is lost.
    cid = f"webchat:{session['session_id']}"
    await app[HUB_KEY].router.transcribe_out(cid, [OutboundMessage(text="断线期间的回复")], None)
    await store.publish(TOPIC, encode(session["session_id"], {"type": "sync", "origin": "B"}))
    frames = await frames_until(ws, has_reply("断线期间的回复"), timeout=3)
    assert not store.drop_next
    assert len(messages(frames)) == 1
    await ws.close()


async def test_replies_reach_this_replicas_socket_when_the_store_cannot_publish(
    client: TestClient, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket held here gets the event directly; only other replicas miss it."""
    session = await new_session(client)
    ws = await connect(client, session["token"])

    async def down(channel: str, message: str) -> int:
        raise StoreUnavailable("publish refused")

    monkeypatch.setattr(hub.store, "publish", down)
    await hub.push(f"webchat:{session['session_id']}", [OutboundMessage(text="照常送达")])
    frames = await frames_until(ws, has_reply("照常送达"), timeout=3)
    assert len(messages(frames)) == 1
    await ws.close()


# --- two replicas sharing Redis -------------------------------------------------------


@pytest.mark.redis
async def test_reply_reaches_a_socket_held_by_another_replica(
    aiohttp_client: Callable[..., Any],
    db: TempDatabase,
    fake_rasa: FakeRasa,
    redis_url: str,
    redis_prefix: str,
) -> None:
    apps = [front_door(RedisStore(redis_url, redis_prefix), db, fake_rasa) for _ in range(2)]
    clients = [await aiohttp_client(app) for app in apps]
    session = await new_session(clients[0])
    ws = await connect(clients[0], session["token"])
    await apps[1][HUB_KEY].push(f"webchat:{session['session_id']}", [OutboundMessage(text="来自B")])
    frames = await frames_until(ws, has_reply("来自B"))
    assert len(messages(frames)) == 1
    # and a message sent to replica B is answered on replica A's socket
    ws_b = await connect(clients[1], session["token"])
    await ws_b.send_json({"type": "message", "id": "r1", "text": "你好"})
    await frames_until(ws, has_reply("echo: 你好"))
    await ws.close()
    await ws_b.close()


# --- static files and the secret ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type", "needle"),
    [
        ("/", "text/html", "东莞市政务服务"),
        ("/widget.js", "text/javascript", "DG12345Chat"),
        ("/widget.css", "text/css", ".dgc-panel"),
        ("/demo.css", "text/css", ".tiles"),
    ],
)
async def test_static_files(client: TestClient, path: str, content_type: str, needle: str) -> None:
    resp = await client.get(path)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == f"{content_type}; charset=utf-8"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "Cache-Control" in resp.headers
    assert needle in await resp.text()
    cached = await client.get(path, headers={"If-None-Match": resp.headers["ETag"]})
    assert cached.status == 304


async def test_demo_page_embeds_the_widget_with_one_script_tag(client: TestClient) -> None:
    resp = await client.get("/")
    html = await resp.text()
    assert html.count("<script") == 1
    assert '<script src="/widget.js" defer></script>' in html
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["Cache-Control"] == "no-cache"


async def test_unknown_static_path_is_404(client: TestClient) -> None:
    assert (await client.get("/widget.js/../../bot/config.py")).status == 404
    assert (await client.get("/static/widget.js")).status == 404


def test_secret_file_is_generated_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("WEBCHAT_SECRET")
    path = tmp_path / "var" / "webchat.secret"
    first = load_secret(None, path)
    assert len(first) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "WEBCHAT_SECRET is not set" in caplog.text
    assert str(first) not in caplog.text
    assert load_secret(None, path) == first
    assert repr(first) == "Secret('**********')"


async def test_frames_written_together_leave_together() -> None:
    """one_segment corks the socket: nothing leaves until the block ends, then all of it."""
    got: asyncio.Queue[bytes] = asyncio.Queue()

    async def reader_side(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            got.put_nowait(data)
        writer.close()

    server = await asyncio.start_server(reader_side, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.transport.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with one_segment(writer.transport):
        for part in (b"first,", b"second,", b"third"):
            writer.write(part)
            await asyncio.sleep(0.02)
        assert got.empty()  # held while corked
    assert await asyncio.wait_for(got.get(), 1) == b"first,second,third"
    writer.write(b"after")  # and uncorked afterwards
    assert await asyncio.wait_for(got.get(), 1) == b"after"
    writer.close()
    server.close()
    await server.wait_closed()
    with one_segment(None):  # no socket: a no-op
        pass
