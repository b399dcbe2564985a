"""The ways a simulated citizen reaches the bot, as seen by the benchmark.

Every path opens conversations; a conversation says one line at a time and
records a :class:`Turn` (latency, error, the reply texts received). At the end
``finish()`` gives each turn a verdict by comparing what arrived with the
expected replies (recorded from Rasa directly for the same scripted
conversation: the domain has one variant per response, so a conversation's
replies are deterministic):

- ``ok``: exactly the expected replies, in order;
- ``lost`` / ``duplicated`` / ``reordered``: a reply is missing, came twice,
  or came out of order (the transport failed the citizen);
- ``mismatch``: different replies (another conversation's, or a busy reply);
- ``unchecked``: nothing to compare with (the turn that records the reference).

Paths: Rasa's own REST channel, the front door's REST channel, the web widget
WebSocket (acks, transcript frames) and the WeChat webhook (signed plaintext
requests; replies passive or pushed to :class:`FakeWeChatApi`).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from defusedxml import ElementTree

log = logging.getLogger("benchmark.paths")

TURN_TIMEOUT = 30.0
WS_SETTLE = 0.2  # wait for straggling frames before a widget conversation is judged
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=TURN_TIMEOUT)
_SPACE = re.compile(r"\s+")
#: Start of the front door's polite busy reply (bot.hub_routing.BUSY_TEXT): Rasa
#: was down or slower than RASA_TIMEOUT. Counted as an error, not a wrong reply.
BUSY_MARKER = "系统繁忙"


def _busy(texts: Sequence[str]) -> bool:
    return any(text.startswith(BUSY_MARKER) for text in texts)


@dataclass
class Turn:
    """One citizen message and what came back."""

    text: str
    expected: tuple[str, ...] | None
    latency: float | None = None
    error: str | None = None
    replies: list[str] = field(default_factory=list)
    verdict: str = "unchecked"
    extra: dict[str, Any] = field(default_factory=dict)


def compare(got: Sequence[str], expected: Sequence[str] | None) -> str:
    """The verdict of a list of reply texts against the expected list."""
    if expected is None:
        return "unchecked"
    if list(got) == list(expected):
        return "ok"
    missing = Counter(expected) - Counter(got)
    extra = Counter(got) - Counter(expected)
    if not missing and not extra:
        return "reordered"
    if missing and not extra:
        return "lost"
    if extra and not missing and all(text in expected for text in extra):
        return "duplicated"
    return "mismatch"


# --- the common shape ------------------------------------------------------------


class Conversation:
    """One conversation on one path; subclasses implement ``_exchange``."""

    conversation_id: str = ""

    def __init__(self) -> None:
        self.turns: list[Turn] = []

    async def say(self, text: str, expected: tuple[str, ...] | None) -> Turn:
        turn = Turn(text, expected)
        self.turns.append(turn)
        started = time.perf_counter()
        try:
            await self._exchange(turn)
        except TimeoutError:
            turn.error = "timeout"
        except (aiohttp.ClientError, OSError, ValueError, KeyError) as exc:
            turn.error = type(exc).__name__
        if turn.error is None and turn.latency is None:
            turn.latency = time.perf_counter() - started
        return turn

    async def _exchange(self, turn: Turn) -> None:
        raise NotImplementedError

    async def finish(self) -> list[Turn]:
        for turn in self.turns:
            if turn.error is None:
                turn.verdict = compare(turn.replies, turn.expected)
        return self.turns


class ClientPath:
    """A way in: Rasa directly, the front door's REST, the widget, WeChat."""

    name = ""
    channel = ""  # the front door channel (transcript audit), "" for Rasa directly

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def open(self, tag: str) -> Conversation:
        raise NotImplementedError

    async def close(self) -> None:
        await self.http.close()


# --- REST: Rasa directly, or the front door --------------------------------------


class RestConversation(Conversation):
    #: ``X-Hotline-Status`` values that carry the answer (anything else is an error).
    answer_statuses: tuple[str, ...] = ("ok",)

    def __init__(self, path: RestPath, sender: str) -> None:
        super().__init__()
        self.path = path
        self.sender = sender
        # The front door namespaces REST senders by their token's name.
        self.conversation_id = f"rest:{path.namespace}:{sender}" if path.front_door else sender

    async def _exchange(self, turn: Turn) -> None:
        seq = len(self.turns)
        body: dict[str, Any] = {
            "sender": self.sender,
            "message": turn.text,
            "metadata": {"benchmark_seq": seq},
        }
        if self.path.front_door:
            body["message_id"] = f"{self.sender}-{seq}"
        url = self.path.base_url + "/webhooks/rest/webhook"
        post = self.path.http.post(url, json=body, headers=self.path.headers, timeout=HTTP_TIMEOUT)
        async with post as resp:
            data = await resp.json(content_type=None)
            status = resp.headers.get("X-Hotline-Status", "ok")
            if resp.status != 200:
                turn.error = f"HTTP {resp.status}"
            elif status not in self.answer_statuses:
                turn.error = f"status {status}"
        if turn.error is None:
            _check_recipients(data, self.sender)
            if not self.path.front_door:  # what the front door shows of Rasa's answer
                data = [item for item in data if not answer_note_only(item)]
            turn.replies = [str(item.get("text") or "") for item in data]


def answer_note_only(item: dict[str, Any]) -> bool:
    """A message of Rasa's that only names the FAQ of the answer before it
    (``{"custom": {"answer": {...}}}``): the front door folds it into that
    answer (bot/hub_routing.py) and never shows it, so the reference does not
    expect it either."""
    custom = item.get("custom")
    shown = item.get("text") or item.get("image") or item.get("buttons")
    return not shown and isinstance(custom, dict) and set(custom) == {"answer"}


def _check_recipients(data: Any, sender: str) -> None:
    if not isinstance(data, list):
        raise ValueError("the answer is not a list")
    if any(item.get("recipient_id") != sender for item in data):
        raise ValueError("a reply for another recipient")


class RestPath(ClientPath):
    """``token``: the front door's REST token (``namespace`` is its name in
    REST_TOKENS), or Rasa's RASA_AUTH_TOKEN for Rasa's own REST channel."""

    def __init__(
        self, name: str, base_url: str, front_door: bool, token: str, namespace: str = ""
    ) -> None:
        super().__init__(base_url)
        self.name = name
        self.front_door = front_door
        self.channel = "rest" if front_door else ""
        self.namespace = namespace
        self.headers = {"Authorization": f"Bearer {token}"}

    async def open(self, tag: str) -> Conversation:
        return RestConversation(self, f"bench-{tag}-{secrets.token_hex(4)}")


# --- the web widget: session + WebSocket -------------------------------------------


class ClientBucket:
    """The widget's rate limit, mirrored conservatively so the citizen never hits it.

    The front door allows 5 messages at once and 1 per second after; the wait
    happens before a message is sent and is not part of its latency.
    """

    def __init__(self, capacity: float = 4.0, rate: float = 0.9) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.stamp = time.monotonic()

    async def take(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            await asyncio.sleep((1 - self.tokens) / self.rate)
            self.tokens, self.stamp = 1.0, time.monotonic()
        self.tokens -= 1


class TurnWatch:
    """What one sent widget message has got back so far, frame by frame.

    The same reading as :func:`_replies_after` over the whole log (and an
    error frame for the message ends the turn), but incremental: each frame
    is looked at once, as it arrives, and the waiting turn is woken once,
    when it is answered. The client used to rescan its whole log and wake
    the turn on every frame; that Python work of the measuring client
    counted as the front door's (a browser does neither).
    """

    def __init__(self, client_id: str, wanted: int) -> None:
        self.client_id = client_id
        self.wanted = wanted
        self.acked = False
        self.echoed = False
        self.closed_by_next = False  # a later inbound echo ends this turn's replies
        self.replies: list[str] = []
        self.done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    def see(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "error" and frame.get("id") == self.client_id:
            self._finish(f"ws error {frame.get('code')}")
        elif kind == "ack" and frame.get("id") == self.client_id:
            self.acked = True
        elif kind == "message" and not self.closed_by_next:
            if frame.get("direction") == "in":
                if self.echoed:
                    self.closed_by_next = True
                self.echoed = frame.get("id") == self.client_id
            elif self.echoed:
                self.replies.append(str(frame.get("text") or ""))
        if self.acked and _busy(self.replies):
            self._finish("busy reply")
        elif self.acked and len(self.replies) >= self.wanted:
            self._finish(None)

    def closed(self) -> None:
        self._finish("socket closed")

    def _finish(self, error: str | None) -> None:
        if not self.done.done():
            self.done.set_result(error)


class WebChatConversation(Conversation):
    def __init__(self, ws: aiohttp.ClientWebSocketResponse[bool], session_id: str) -> None:
        super().__init__()
        self.ws = ws
        self.conversation_id = f"webchat:{session_id}"
        self.frames: list[dict[str, Any]] = []
        self.client_ids: list[str] = []
        self.watch: TurnWatch | None = None
        self.bucket = ClientBucket()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    frame = json.loads(msg.data)
                    self.frames.append(frame)
                    if self.watch is not None:
                        self.watch.see(frame)
        finally:
            if self.watch is not None:
                self.watch.closed()

    async def say(self, text: str, expected: tuple[str, ...] | None) -> Turn:
        await self.bucket.take()
        return await super().say(text, expected)

    async def _exchange(self, turn: Turn) -> None:
        client_id = f"b{len(self.turns)}{secrets.token_hex(6)}"
        self.client_ids.append(client_id)
        watch = self.watch = TurnWatch(client_id, len(turn.expected) if turn.expected else 1)
        if self.reader.done():
            watch.closed()
        frame = {"type": "message", "id": client_id, "text": turn.text}
        await self.ws.send_str(json.dumps(frame, ensure_ascii=False))
        turn.error = await asyncio.wait_for(asyncio.shield(watch.done), TURN_TIMEOUT)

    async def finish(self) -> list[Turn]:
        await asyncio.sleep(WS_SETTLE)
        await self.ws.close()
        self.reader.cancel()
        await asyncio.gather(self.reader, return_exceptions=True)
        verdicts = judge_widget_log(self.frames, self.client_ids, [t.expected for t in self.turns])
        for turn, client_id, verdict in zip(self.turns, self.client_ids, verdicts, strict=True):
            turn.replies = _replies_after(self.frames, client_id)
            if turn.error is None:
                turn.verdict = verdict
        return self.turns


def _messages(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f.get("type") == "message"]


def _replies_after(frames: list[dict[str, Any]], client_id: str) -> list[str]:
    """Reply texts between the echo of ``client_id`` and the next inbound echo."""
    replies: list[str] = []
    seen = False
    for frame in _messages(frames):
        if frame.get("direction") == "in":
            if seen:
                break
            seen = frame.get("id") == client_id
        elif seen:
            replies.append(str(frame.get("text") or ""))
    return replies


def judge_widget_log(
    frames: list[dict[str, Any]],
    client_ids: list[str],
    expected: list[tuple[str, ...] | None],
) -> list[str]:
    """Verdict per sent message from the whole frame log of one socket."""
    messages = _messages(frames)
    seqs = [int(f["seq"]) for f in messages]
    order_broken = any(b <= a for a, b in itertools.pairwise(seqs))
    acks = Counter(f.get("id") for f in frames if f.get("type") == "ack")
    echoes = [f.get("id") for f in messages if f.get("direction") == "in"]
    early = messages and messages[0].get("direction") == "out"
    verdicts = []
    for index, client_id in enumerate(client_ids):
        verdict = compare(_replies_after(frames, client_id), expected[index])
        if acks[client_id] == 0 or client_id not in echoes:
            verdict = "lost"
        elif acks[client_id] > 1 or echoes.count(client_id) > 1:
            verdict = "duplicated"
        elif order_broken or echoes.index(client_id) != index:
            verdict = "reordered"
        verdicts.append(verdict)
    if early and verdicts:
        verdicts[0] = "duplicated"  # a reply before the first message: not ours
    return verdicts


class WebChatPath(ClientPath):
    name = "frontdoor-ws"
    channel = "webchat"

    async def open(self, tag: str) -> Conversation:
        url = self.base_url + "/webchat/session"
        async with self.http.post(url, timeout=HTTP_TIMEOUT) as resp:
            resp.raise_for_status()
            session = await resp.json()
        ws_url = f"{self.base_url}/webchat/ws?token={session['token']}"
        ws = await self.http.ws_connect(
            ws_url, timeout=aiohttp.ClientWSTimeout(ws_close=TURN_TIMEOUT), heartbeat=None
        )
        return WebChatConversation(ws, session["session_id"])


# --- WeChat: signed webhook requests, a fake API for pushed replies ---------------


def wechat_signature(token: str, *parts: str) -> str:
    """WeChat's request signature: SHA-1 of the sorted, concatenated parts."""
    joined = "".join(sorted([token, *parts]))
    return hashlib.sha1(joined.encode("utf-8"), usedforsecurity=False).hexdigest()


def _squash(text: str) -> str:
    return _SPACE.sub("", text)


def compare_wechat(delivered: Sequence[str], expected: Sequence[str] | None) -> str:
    """Every expected reply inside the delivered texts, once each and in order.

    WeChat renders buttons as numbered text and may join or split replies
    (2048-byte limit), so the comparison ignores white space and looks for
    each reply text inside the delivered stream.
    """
    if expected is None:
        return "unchecked"
    stream = _squash("".join(delivered))
    position = 0
    for text in (_squash(t) for t in expected):
        if stream.count(text) > list(map(_squash, expected)).count(text):
            return "duplicated"
        found = stream.find(text, position)
        if found < 0:
            return "reordered" if text in stream else "lost"
        position = found + len(text)
    return "ok"


@dataclass
class FakeWeChatApi:
    """WeChat's token and customer-service endpoints, recording every push."""

    app_id: str
    app_secret: str
    pushes: dict[str, list[str]] = field(default_factory=dict)
    events: dict[str, asyncio.Event] = field(default_factory=dict)
    token_calls: int = 0
    runner: web.AppRunner | None = None

    async def start(self, port: int) -> None:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._send)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def event(self, openid: str) -> asyncio.Event:
        return self.events.setdefault(openid, asyncio.Event())

    async def _token(self, request: web.Request) -> web.Response:
        self.token_calls += 1
        query = request.query
        if query.get("appid") != self.app_id or query.get("secret") != self.app_secret:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        return web.json_response({"access_token": "BENCH_TOKEN", "expires_in": 7200})

    async def _send(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        openid = str(body.get("touser"))
        self.pushes.setdefault(openid, []).append(str(body["text"]["content"]))
        self.event(openid).set()
        return web.json_response({"errcode": 0, "errmsg": "ok"})


class WeChatConversation(Conversation):
    def __init__(self, path: WeChatPath, openid: str) -> None:
        super().__init__()
        self.path = path
        self.openid = openid
        self.conversation_id = f"wechat:{openid}"
        self.pushed_seen = 0

    async def _exchange(self, turn: Turn) -> None:
        started = time.perf_counter()
        passive = await self._post(turn.text)
        turn.extra["response_s"] = time.perf_counter() - started
        turn.extra["passive"] = passive is not None
        delivered = [passive] if passive is not None else []
        if passive is None:  # acknowledged with "success": the replies are pushed
            await asyncio.wait_for(self._until_delivered(turn, delivered), TURN_TIMEOUT)
        turn.replies = delivered
        turn.latency = time.perf_counter() - started
        if _busy(delivered):
            turn.error = "busy reply"

    async def _post(
        self,
        text: str,
        msg_id: int | None = None,
        timeout: aiohttp.ClientTimeout = HTTP_TIMEOUT,
    ) -> str | None:
        """One signed request; ``msg_id`` again for a resend (as WeChat does)."""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        query = {
            "timestamp": timestamp,
            "nonce": nonce,
            "signature": wechat_signature(self.path.token, timestamp, nonce),
        }
        if msg_id is None:
            msg_id = self.path.next_msg_id()
        body = _wechat_xml(self.openid, text, msg_id, int(timestamp))
        url = self.path.base_url + "/webhooks/wechat"
        async with self.path.http.post(url, params=query, data=body, timeout=timeout) as resp:
            raw = await resp.read()
            if resp.status != 200:
                raise ValueError(f"HTTP {resp.status}")
        if raw == b"success":
            return None
        content = ElementTree.fromstring(raw).findtext("Content")
        return content or ""

    async def _until_delivered(self, turn: Turn, delivered: list[str]) -> None:
        pushes = self.path.api.pushes
        event = self.path.api.event(self.openid)
        while compare_wechat(delivered, turn.expected) not in ("ok", "duplicated"):
            if (turn.expected is None and delivered) or _busy(delivered):
                return
            event.clear()
            fresh = pushes.get(self.openid, [])[self.pushed_seen :]
            if fresh:
                self.pushed_seen += len(fresh)
                delivered.extend(fresh)
                continue
            await event.wait()

    async def finish(self) -> list[Turn]:
        late = self.path.api.pushes.get(self.openid, [])[self.pushed_seen :]
        if late and self.turns:
            self.turns[-1].replies.extend(late)  # a push nobody was waiting for
        for turn in self.turns:
            if turn.error is None:
                turn.verdict = compare_wechat(turn.replies, turn.expected)
        return self.turns


def _wechat_xml(openid: str, text: str, msg_id: int, create_time: int) -> bytes:
    return (
        "<xml><ToUserName><![CDATA[gh_bench000000]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


class WeChatPath(ClientPath):
    name = "frontdoor-wechat"
    channel = "wechat"

    def __init__(self, base_url: str, token: str, api: FakeWeChatApi) -> None:
        super().__init__(base_url)
        self.token = token
        self.api = api
        self._msg_ids: Callable[[], int] = itertools.count(secrets.randbits(40)).__next__

    def next_msg_id(self) -> int:
        return self._msg_ids()

    async def open(self, tag: str) -> Conversation:
        return WeChatConversation(self, f"oBench{secrets.token_hex(11)}")
