"""Fakes of WeChat for tests: its API server and its webhook requests.

``FakeWeChatApi``: serve ``FakeWeChatApi().app`` on 127.0.0.1
(``aiohttp_server``) and point ``WECHAT_API_BASE_URL`` at it. It implements
``/cgi-bin/token``, ``/cgi-bin/message/custom/send``, the customer-service
typing state ``/cgi-bin/message/custom/typing`` (45072 for a bad command,
45081 for ``Typing`` while typing is shown), ``/cgi-bin/message/template/send``
and ``/cgi-bin/menu/create``, records every call, issues a new token on each
token call (invalidating the previous one, as WeChat does) and can be told to
fail the next sends with given errcodes. Like WeChat it answers 45015 to
customer-service messages for a citizen outside the 48-hour window
(``window_closed``), 40037 to a template id the account does not have
(``templates``), 43101 to a citizen who refused the account's notices
(``refused``), and checks a menu's shape (40016, 40017, 40018, 40019, 40023).

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
    40037: "invalid template_id",
    47001: "data format error",
    43101: "user refuse to accept the msg",
    45009: "reach max api daily quota limit",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40023: "invalid sub button size",
    48001: "api unauthorized",
}

#: Template ids the fake account has (模板消息 chosen in the admin).
PROGRESS_TEMPLATE = "tpl-progress-0123456789abcdefghij"
RESULT_TEMPLATE = "tpl-result-0123456789abcdefghijkl"


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
    #: Citizens (OpenIDs) who last wrote more than 48 hours ago.
    window_closed: set[str] = field(default_factory=set)
    templates: set[str] = field(default_factory=lambda: {PROGRESS_TEMPLATE, RESULT_TEMPLATE})
    #: Citizens who turned the account's template notices off.
    refused: set[str] = field(default_factory=set)
    templates_sent: list[dict[str, Any]] = field(default_factory=list)
    template_attempts: list[dict[str, Any]] = field(default_factory=list)
    _fail_next_template: list[int] = field(default_factory=list)
    menus: list[dict[str, Any]] = field(default_factory=list)
    menu_attempts: int = 0
    #: An account that may not use the menu API (unverified): 48001.
    menu_unauthorized: bool = False

    @property
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self.token)
        app.router.add_post("/cgi-bin/message/custom/send", self.custom_send)
        app.router.add_post("/cgi-bin/message/custom/typing", self.custom_typing)
        app.router.add_post("/cgi-bin/message/template/send", self.template_send)
        app.router.add_post("/cgi-bin/menu/create", self.menu_create)
        return app

    def fail_next(self, *errcodes: int) -> None:
        """The next sends answer these errcodes, in order (40001 also drops the token)."""
        self._fail_next.extend(errcodes)

    def fail_next_template(self, *errcodes: int) -> None:
        """The next template messages answer these errcodes (40001 also drops the token)."""
        self._fail_next_template.extend(errcodes)

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
            return self._injected(self._fail_next.pop(0))
        if body.get("touser") in self.window_closed:
            return _error(45015)
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

    async def template_send(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.template_attempts.append(body)
        if self.valid_token is None or request.query.get("access_token") != self.valid_token:
            return _error(40001)
        if self._fail_next_template:
            return self._injected(self._fail_next_template.pop(0))
        if body.get("template_id") not in self.templates:
            return _error(40037)
        if body.get("touser") in self.refused:
            return _error(43101)
        data = body.get("data")
        if not isinstance(data, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("value"), str) for v in data.values()
        ):
            return _error(47001)
        self.templates_sent.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": len(self.templates_sent)})

    async def menu_create(self, request: web.Request) -> web.Response:
        self.menu_attempts += 1
        if self.valid_token is None or request.query.get("access_token") != self.valid_token:
            return _error(40001)
        body = json.loads(await request.read())
        code = 48001 if self.menu_unauthorized else _menu_error(body)
        if code:
            return _error(code)
        self.menus.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def _injected(self, code: int) -> web.Response:
        if code in (40001, 42001):
            self.valid_token = None
        return _error(code)


def _menu_error(body: Any) -> int:
    """WeChat's checks of a custom menu: 3 buttons, 5 sub-buttons, names of at most
    16 (top) / 60 (sub) bytes, keys of at most 128 bytes, known types."""
    buttons = body.get("button") if isinstance(body, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return 40016
    for button in buttons:
        if len(str(button.get("name", "")).encode()) > 16 or not button.get("name"):
            return 40018
        subs = button.get("sub_button")
        if subs is not None:
            if not isinstance(subs, list) or not 1 <= len(subs) <= 5:
                return 40023
            for sub in subs:
                if len(str(sub.get("name", "")).encode()) > 60 or not sub.get("name"):
                    return 40018
                code = _leaf_error(sub)
                if code:
                    return code
        else:
            code = _leaf_error(button)
            if code:
                return code
    return 0


def _leaf_error(button: dict[str, Any]) -> int:
    kind = button.get("type")
    if kind == "click":
        key = str(button.get("key", ""))
        return 0 if 0 < len(key.encode()) <= 128 else 40019
    if kind == "view":
        return 0 if str(button.get("url", "")).startswith(("http://", "https://")) else 40017
    return 40017


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
