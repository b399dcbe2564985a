"""Fakes of WeChat for tests: its API server and its webhook requests.

``FakeWeChatApi``: serve ``FakeWeChatApi().app`` on 127.0.0.1
(``aiohttp_server``) and point ``WECHAT_API_BASE_URL`` at it. It implements
``/cgi-bin/token``, ``/cgi-bin/message/custom/send`` and the customer-service
typing state ``/cgi-bin/message/custom/typing`` (45072 for a bad command,
45081 for ``Typing`` while typing is shown), records every call,
issues a new token on each token call (invalidating the previous one, as
WeChat does) and can be told to fail the next sends with given errcodes.

``FakeWeChatPlatform``: signs (and in AES mode encrypts) webhook requests as
WeChat's servers do, and opens encrypted passive replies.

``FakeHub`` and ``channel_client``: the channel on its own, with a scripted hub.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from bot.config import Secret, Settings
from bot.hub_routing import HandleResult
from bot.inbound import ChannelStore, DeliveryMode, InboundPort
from bot.messages import InboundMessage, OutboundMessage
from bot.store.memory import MemoryStore
from bot.store.sealed import InProcessValues
from channels.wechat import WeChatChannel
from channels.wechat._crypto import WeChatCrypto, signature
from channels.wechat._xml import parse_message
from tests.fakes.db import FakeDatabase

CHANNEL_KEY = web.AppKey("wechat_channel", WeChatChannel)

APP_ID = "wx1234567890abcdef"
APP_SECRET = "fake-app-secret-0123456789"

ERRMSG = {
    40001: "invalid credential, access_token is invalid or not latest",
    42001: "access_token expired",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    45072: "command invalid",
    45080: "has not sent message to user in the past 30 seconds",
    45081: "already in typing status",
}


@dataclass
class FakeWeChatApi:
    """State and handlers of the fake server."""

    app_id: str = APP_ID
    app_secret: str = APP_SECRET
    token_delay: float = 0.0
    send_delay: float = 0.0
    token_calls: int = 0
    valid_token: str | None = None
    sent: list[dict[str, Any]] = field(default_factory=list)
    send_attempts: list[dict[str, Any]] = field(default_factory=list)
    _fail_next: list[int] = field(default_factory=list)
    #: Accepted typing calls ({"touser", "command"}), and the users shown "typing" now.
    typing: list[dict[str, Any]] = field(default_factory=list)
    typing_shown: set[str] = field(default_factory=set)
    #: Users who wrote nothing in the last 30 s: ``Typing`` answers 45080.
    quiet_users: set[str] = field(default_factory=set)

    @property
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self.token)
        app.router.add_post("/cgi-bin/message/custom/send", self.custom_send)
        app.router.add_post("/cgi-bin/message/custom/typing", self.custom_typing)
        return app

    def fail_next(self, *errcodes: int) -> None:
        """The next sends answer these errcodes, in order (40001 also drops the token)."""
        self._fail_next.extend(errcodes)

    def expire_token(self) -> None:
        """Make the current token invalid, as if another client refreshed it."""
        self.valid_token = None

    @property
    def sent_texts(self) -> list[str]:
        return [m["text"]["content"] for m in self.sent if m.get("msgtype") == "text"]

    async def token(self, request: web.Request) -> web.Response:
        self.token_calls += 1
        q = request.query
        if q.get("grant_type") != "client_credential" or q.get("appid") != self.app_id:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        if q.get("secret") != self.app_secret:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        self.valid_token = f"ACCESS_TOKEN_{self.token_calls}"
        return web.json_response({"access_token": self.valid_token, "expires_in": 7200})

    async def custom_send(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.send_attempts.append(body)
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        token = request.query.get("access_token")
        if self.valid_token is None or token != self.valid_token:
            return _error(40001)
        if self._fail_next:
            code = self._fail_next.pop(0)
            if code in (40001, 42001):
                self.valid_token = None
            return _error(code)
        self.sent.append(body)
        self.typing_shown.discard(str(body.get("touser")))  # a message ends "typing"
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def custom_typing(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        if self.valid_token is None or request.query.get("access_token") != self.valid_token:
            return _error(40001)
        user, command = str(body.get("touser")), body.get("command")
        if command not in ("Typing", "CancelTyping"):
            return _error(45072)
        if command == "Typing" and user in self.quiet_users:
            return _error(45080)
        if command == "Typing" and user in self.typing_shown:
            return _error(45081)
        if command == "Typing":
            self.typing_shown.add(user)
        else:
            self.typing_shown.discard(user)
        self.typing.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})


def _error(code: int) -> web.Response:
    return web.json_response({"errcode": code, "errmsg": ERRMSG.get(code, "error")})


# --- WeChat's side of the webhook: signed (and encrypted) requests ----------


@dataclass
class FakeWeChatPlatform:
    """Builds requests the way WeChat's servers send them to our webhook."""

    token: str
    app_id: str = APP_ID
    encoding_aes_key: str | None = None
    account: str = "gh_0123456789ab"
    _nonce: int = 1000

    def query(self, encrypt: str | None = None, timestamp: int | None = None) -> dict[str, str]:
        """Query parameters with ``signature`` (and ``msg_signature`` for ``encrypt``)."""
        self._nonce += 1
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = str(self._nonce)
        q = {"timestamp": ts, "nonce": nonce, "signature": signature(self.token, ts, nonce)}
        if encrypt is not None:
            q["encrypt_type"] = "aes"
            q["msg_signature"] = signature(self.token, ts, nonce, encrypt)
        return q

    def encrypt(self, xml: str | bytes) -> str:
        assert self.encoding_aes_key, "AES mode needs an EncodingAESKey"
        raw = xml.encode() if isinstance(xml, str) else xml
        return WeChatCrypto(self.encoding_aes_key, self.app_id).encrypt(raw)

    def envelope(self, encrypt: str) -> bytes:
        """The safe-mode body around an ``Encrypt`` value."""
        return (
            f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        ).encode()

    def open_reply(self, body: bytes) -> dict[str, str]:
        """Check an encrypted passive reply's signature and decrypt it."""
        outer = parse_message(body)
        expected = signature(self.token, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
        assert outer["MsgSignature"] == expected, "reply signature does not verify"
        assert self.encoding_aes_key
        inner = WeChatCrypto(self.encoding_aes_key, self.app_id).decrypt(outer["Encrypt"])
        return parse_message(inner)


def message_xml(openid: str, msg_type: str, create_time: int | None = None, **fields: str) -> str:
    """A WeChat message or event as plaintext XML."""
    ts = int(time.time()) if create_time is None else create_time
    parts = [
        "<xml>",
        "<ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>",
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
        f"<CreateTime>{ts}</CreateTime>",
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>",
    ]
    parts += [f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()]
    parts.append("</xml>")
    return "".join(parts)


# --- the channel under test, with a scripted hub ------------------------------

TOKEN = "test-wechat-token"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
OPENID = "oUser1234567890abcdefghijk"
URL = "/webhooks/wechat"

Reply = Callable[[InboundMessage], Awaitable[HandleResult]]


class FakeHub:
    """A scripted inbound port (bot.inbound.InboundPort): records the messages
    it is handed and answers with ``reply(msg)`` (default: echo)."""

    def __init__(self) -> None:
        self.shared_store = MemoryStore()
        self.db = FakeDatabase()
        self.calls: list[InboundMessage] = []
        self.modes: list[DeliveryMode] = []
        self.reply: Reply = self._echo

    async def _echo(self, msg: InboundMessage) -> HandleResult:
        return HandleResult([OutboundMessage(text=f"收到：{msg.rasa_text}")], "ok")

    async def handle(self, msg: InboundMessage, mode: DeliveryMode) -> HandleResult:
        self.calls.append(msg)
        self.modes.append(mode)
        return await self.reply(msg)

    async def history(
        self, conversation_id: str, limit: int = 200, after_seq: int | None = None
    ) -> list[Any]:
        return list(await self.db.transcripts.history(conversation_id, limit, after_seq))

    async def conversation_state(self, conversation_id: str) -> str:
        return "bot"

    def store(self, namespace: str) -> ChannelStore:
        return ChannelStore(self.shared_store, namespace, InProcessValues())

    async def record_event(
        self, kind: str, conversation_id: str | None, data: dict[str, Any]
    ) -> None:
        await self.db.events.record(kind, conversation_id=conversation_id, data=data)


def channel_settings(base_url: str, aes: bool = False, **extra: Any) -> Settings:
    """Settings of a WeChat channel talking to the fake API at ``base_url``."""
    return Settings(
        wechat_token=Secret(TOKEN),
        wechat_app_id=APP_ID,
        wechat_app_secret=Secret(APP_SECRET),
        wechat_encoding_aes_key=Secret(AES_KEY) if aes else None,
        wechat_api_base_url=base_url,
        **extra,
    )


async def channel_client(
    aiohttp_client: Any, inbound: InboundPort, settings: Settings
) -> TestClient:
    """A test client for an app with only the WeChat channel's routes, built
    on ``inbound`` (a :class:`FakeHub` or a real hub's ``inbound``)."""
    channel = WeChatChannel(inbound, settings)
    app = web.Application()
    channel.add_routes(app)
    app[CHANNEL_KEY] = channel

    async def stop(_: web.Application) -> None:
        await channel.stop()

    app.on_cleanup.append(stop)
    client: TestClient = await aiohttp_client(app)
    return client


async def reply_text(resp: ClientResponse) -> str:
    """The Content of a plaintext passive reply ("" for the "success" ack)."""
    assert resp.status == 200
    body = await resp.read()
    if body == b"success":
        return ""
    fields = parse_message(body)
    assert fields["MsgType"] == "text" and fields["ToUserName"] == OPENID
    return fields["Content"]


def text_xml(content: str, msg_id: str = "10001", openid: str = OPENID) -> str:
    return message_xml(openid, "text", Content=content, MsgId=msg_id)
