"""The web chat widget channel: anonymous sessions, a WebSocket, static files.

Routes
------
``GET /`` demo page, ``GET /widget.js`` (embed with one
``<script src="https://front.door/widget.js" defer></script>``),
``GET /widget.css``, ``GET /demo.css``;
``POST /webchat/session`` -> ``{"session_id", "token"}`` (body optional:
``{"token": old}`` returns the same session while the old token is valid
and its session live, else a new one; 201 for a new session, 200 for a
continued one; 429 ``{"error": "rate_limited", "message"}`` with
``Retry-After`` when the client address created more than
``WEBCHAT_SESSIONS_PER_MINUTE`` sessions in the current minute, or when a
continued session is over its frame limit, which a continuation counts in);
``POST /webchat/session/end`` with ``{"token": ...}`` ends the session for
good on every replica ("结束会话"): its open sockets get a ``session_ended``
error frame and close 4001, the token no longer opens a socket or continues
the session, and the transcript stays in the database for agents; a
conversation waiting for an agent leaves the queue, one held by an agent is
closed as by the citizen and the agent told ("市民已结束会话"); answers
``{"ended": true}`` (``false`` when the token was already dead: nothing to do);
``GET /webchat/ws?token=...&after_seq=n`` the WebSocket (403 before the
upgrade unless the token verifies and its session is live). The
conversation id is ``webchat:<session id>``.

A session is live until "结束会话" or ``WEBCHAT_IDLE_HOURS`` (4) without a
citizen's message (channels/webchat/_sessions.py). A socket over a cap is
accepted and then refused with an error frame and a close code: at most
``WEBCHAT_SOCKETS_PER_SESSION`` (5) sockets per session and
``WEBCHAT_SOCKETS_PER_ADDRESS`` (100) per client address, on all replicas
together (``too_many_connections``, close 4029); a socket opened over the
session's frame limit is closed with 1008 (``rate_limited``). Both per-address
limits count an IPv6 client by its /64 network, like the handoff and sign-in
limits (bot/netaddr.py): rotating through one's /64 gives no fresh allowance.

WebSocket protocol (JSON text frames)
-------------------------------------
Client -> server:

- ``{"type": "message", "id": "<client uuid>", "text": "..."}`` typed text
  (at most 2000 characters, frame at most 8 KB);
- ``{"type": "message", "id": "...", "payload": "/x", "title": "按钮标题"}`` a
  clicked button (the title is the citizen's visible text);
- ``{"type": "resume", "after_seq": n}`` send again the entries after ``n``
  (at most one page of 200; further behind, the latest 200);
- ``{"type": "ping"}`` -> ``{"type": "pong"}`` (and a catch-up).
- ``{"type": "typing", "on": bool}`` the citizen is typing (or stopped);
  passed on to the consoles only while an agent holds the chat, an "on" at
  most every :data:`bot.hub.CITIZEN_TYPING_EVERY` seconds per conversation
  (the widget sends one every 3 s while typing), every "off"; never to Rasa,
  never into the transcript, no answer.
- ``{"type": "feedback", "seq": n, "vote": "up"|"down"}`` the citizen's
  有帮助/没帮助 on the FAQ answer at ``seq`` -> ``{"type": "feedback", "seq",
  "vote", "status": "recorded"|"already"|"not_an_answer"|"error"}``; one vote
  per answer (bot/feedback.py).

Every frame type is rate limited per session (see channels/webchat/_socket.py):
over the limit a frame gets a ``rate_limited`` error frame and is dropped;
over twice the limit the socket is closed (1008).

Server -> client:

- ``{"type": "ack", "id": "<client id>", "status": ...}`` once the hub accepted
  the message. The widget resends unacked messages after a reconnect; the hub
  drops duplicates by ``(webchat, "<session id>:<client id>")``.
- ``{"type": "message", "seq": n, "direction": "in"|"out", "sender": ...,
  "text": ..., "buttons": [{"title", "payload"}], "image": url|null,
  "at": "<ISO 8601 UTC>", "id": "<client id, inbound only>", "faq": "<key,
  FAQ answers only>"}`` one transcript entry. On connect the server sends
  every entry after ``after_seq`` (all of them when absent), then each new
  entry as it is written: the transcript is the one source, so a reload or
  a dropped connection loses nothing.
- ``{"type": "typing", "on": bool, "by"?: "agent"}`` the bot is working on a
  reply, or (``by: agent``) the agent holding the chat is typing.
- ``{"type": "error", "code": ..., "message": "<Chinese text>", "id"?: ...}``
  a refused frame (``bad_json``, ``bad_frame``, ``too_large``, ``too_long``,
  ``empty``, ``rate_limited``, ``server_error``); nothing was forwarded. Sent
  before the server closes a socket: ``too_many_connections`` (close 4029),
  ``session_ended`` (close 4001), ``rate_limited`` (close 1008).

Live delivery across replicas: :meth:`WebChatChannel.send` publishes on the
one store channel ``webchat:events``; every replica is subscribed once and
lets the sockets it holds for that session catch up from the transcript
(channels/webchat/_fanout.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from aiohttp import WSCloseCode, web

from bot.config import Settings
from bot.going_away import GoingAway
from bot.inbound import DeliveryMode, InboundPort
from bot.messages import CITIZEN_LEFT, InboundMessage, OutboundMessage
from bot.netaddr import address_key
from bot.store.base import StoreUnavailable
from channels.base import Channel
from channels.webchat._auth import Session, TokenSigner, load_secret
from channels.webchat._fanout import Fanout
from channels.webchat._http import CorsPolicy, read_small_json
from channels.webchat._limits import OK, Limits, SocketLeases, TooManySockets, WindowCounter
from channels.webchat._protocol import CLOSE_RATE_LIMITED, CLOSE_TOO_MANY, error_frame
from channels.webchat._sessions import SessionActivity
from channels.webchat._socket import CHANNEL, Connection, Guards
from channels.webchat._static import StaticFiles

log = logging.getLogger(__name__)

MAX_WS_MESSAGE = 64 * 1024  # larger frames close the socket; 8 KB..64 KB get an error frame
SESSION_WINDOW = 60.0  # seconds: WEBCHAT_SESSIONS_PER_MINUTE counts per minute
TOO_MANY_SESSIONS = "请求过于频繁，请稍后再试。"
CLOSE_STEP_TIMEOUT = 5.0  # shutdown: the most closing every socket may take
END_TEXT = "结束会话"  # the widget's button: what the agent sees the citizen do
END_WAIT = 5.0  # seconds the end request waits for the queue or the agent's chat to close


class WebChatChannel(Channel):
    """The embeddable web chat widget and its WebSocket."""

    name = CHANNEL

    def __init__(self, inbound: InboundPort, settings: Settings) -> None:
        self._inbound = inbound
        store = inbound.store(CHANNEL)
        self._signer = TokenSigner(load_secret(settings.webchat_secret))
        self._cors = CorsPolicy.from_env(settings.webchat_allowed_origins)
        self._fanout = Fanout(store)
        self._static = StaticFiles()
        self._limits = Limits.from_settings(settings)
        #: Wall clock of token ages, idle expiry and rate windows (tests move it).
        self.clock: Callable[[], float] = time.time
        self._counter = WindowCounter(store, self._now)
        self._leases = SocketLeases(store)
        self._activity = SessionActivity(
            store, self._now, max(0.01, settings.webchat_idle_hours) * 3600
        )
        self._guards = Guards(self._counter, self._limits, self._activity, self._now)
        self._sockets: set[web.WebSocketResponse] = set()
        #: The server's own 1001 closes at shutdown ("going away": reconnect elsewhere).
        self._going_away = GoingAway("web chat")

    def add_routes(self, app: web.Application) -> None:
        self._static.add_routes(app)
        app.router.add_post("/webchat/session", self._create_session)
        app.router.add_route("OPTIONS", "/webchat/session", self._preflight)
        app.router.add_post("/webchat/session/end", self._end_session)
        app.router.add_route("OPTIONS", "/webchat/session/end", self._preflight)
        app.router.add_get("/webchat/ws", self._socket)
        # aiosignal's generic parameter confuses mypy; the callback has the usual shape.
        app.on_shutdown.append(self._close_sockets)  # type: ignore[arg-type]

    async def send(self, channel_user_id: str, messages: Sequence[OutboundMessage]) -> None:
        """Tell the session's sockets, on any replica, to fetch the new entries."""
        await self._fanout.publish(channel_user_id, {"type": "sync", "count": len(messages)})

    async def typing(self, channel_user_id: str, on: bool) -> None:
        """The agent is typing (or stopped): "客服正在输入…" in the session's widgets,
        on every replica (the console rate-limits it, bot/console/agent_socket.py)."""
        await self._fanout.publish(channel_user_id, {"type": "typing", "on": on, "by": "agent"})

    async def stop(self) -> None:
        await self._fanout.close()
        await self._leases.close()

    def _now(self) -> float:
        return self.clock()

    def _verify(self, token: str | None) -> Session | None:
        return self._signer.verify(token, now=self.clock())

    async def _create_session(self, request: web.Request) -> web.Response:
        headers = self._cors.headers(request)
        token = await _body_token(request, headers)
        session = self._verify(token)
        if session is not None and token is not None:
            if await self._activity.alive(session.session_id):
                # Continuing counts as one of the session's frames (like a socket open).
                limits = self._limits
                count, left = await self._counter.hit("frame", session.session_id, limits.window)
                if count > limits.frame_limit:
                    return _too_many(headers, left)
                return _session_response(session.session_id, token, 200, headers)
        address = address_key(request.remote) or "unknown"
        count, left = await self._counter.hit("session", address, SESSION_WINDOW)
        if count > self._limits.sessions_per_minute:
            log.warning("web chat session refused: too many new sessions from one address")
            return _too_many(headers, left)
        session, token = self._signer.new_session(now=self.clock())
        await self._activity.begin(session.session_id)
        log.info("web chat session created")
        return _session_response(session.session_id, token, 201, headers)

    async def _end_session(self, request: web.Request) -> web.Response:
        """结束会话: the session ends on every replica; its open sockets are closed."""
        headers = {**self._cors.headers(request), "Cache-Control": "no-store"}
        session = self._verify(await _body_token(request, headers))
        if session is None:
            return web.json_response({"ended": False}, headers=headers)
        ended = await self._activity.end(session.session_id)
        if ended:  # once per session: repeating the call publishes nothing
            await self._fanout.publish(session.session_id, {"type": "end"})
            await self._tell_hub_citizen_left(session.session_id)
            log.info("web chat session ended by the citizen")
        return web.json_response({"ended": ended}, headers=headers)

    async def _tell_hub_citizen_left(self, session_id: str) -> None:
        """A conversation with the handoff (queued, or held by an agent) ends with
        the session: the hub gets the citizen's 结束会话 in order after their last
        messages, flagged :data:`~bot.messages.CITIZEN_LEFT` (the console takes
        them out of the queue or closes the agent's chat)."""
        cid = f"{CHANNEL}:{session_id}"
        try:
            if not (await self._inbound.conversation_state(cid)).with_agents:
                return
            message = InboundMessage(  # "#": no client message id has one (dedupe)
                channel=CHANNEL, channel_user_id=session_id, message_id=f"{session_id}:#end",
                text=END_TEXT, metadata={CITIZEN_LEFT: True},
            )  # fmt: skip
            await self._inbound.handle(message, DeliveryMode.answer_within(END_WAIT))
        except StoreUnavailable as exc:  # the session has ended anyway
            log.warning("web chat session end not handed to the hub: %s", exc)

    async def _preflight(self, request: web.Request) -> web.Response:
        return web.Response(status=204, headers=self._cors.preflight_headers(request))

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        session = self._verify(request.query.get("token"))
        if session is None or not self._cors.allows(request):
            raise web.HTTPForbidden(text="forbidden")
        after_seq = _after_seq(request.query.get("after_seq"))
        sid = session.session_id
        seen_at = await self._activity.last_seen(sid)
        if seen_at is None:  # ended, or idle too long: the widget starts a new session
            raise web.HTTPForbidden(text="session ended")
        self._going_away.refuse_if_stopping()
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_WS_MESSAGE)
        await ws.prepare(request)
        limits = self._limits
        if await self._counter.verdict("frame", sid, limits.frame_limit, limits.window) != OK:
            await _refuse(ws, "rate_limited", CLOSE_RATE_LIMITED)
            return ws
        try:
            address = address_key(request.remote) or "unknown"
            lease = await self._leases.acquire(sid, address, limits)
        except TooManySockets as exc:
            log.warning("web chat socket refused: too many sockets for one %s", exc)
            await _refuse(ws, "too_many_connections", CLOSE_TOO_MANY)
            return ws
        except StoreUnavailable:
            log.warning("store unavailable: web chat socket refused")
            await _refuse(ws, "server_error", WSCloseCode.TRY_AGAIN_LATER)
            return ws
        self._sockets.add(ws)
        try:
            if self._going_away.started:  # connected while the close loop ran: 1001 now
                self._going_away.close(ws)
            else:
                connection = Connection(
                    ws, self._inbound, self._fanout, sid, self._guards, seen_at, after_seq,
                    request.transport, client_address=request.remote,
                )  # fmt: skip
                await connection.run()
        finally:
            self._sockets.discard(ws)
            await self._going_away.closed_by_server(ws)
            await self._leases.release(lease)
        return ws

    async def _close_sockets(self, app: web.Application) -> None:
        """Shutdown: every socket closes with 1001 at once (the widget reconnects),
        within :data:`CLOSE_STEP_TIMEOUT` seconds; later ones are refused."""
        await self._going_away.close_all(list(self._sockets), CLOSE_STEP_TIMEOUT)


def _too_many(headers: dict[str, str], left: float) -> web.Response:
    """429 with a Chinese message and the seconds until the window ends."""
    return web.json_response(
        {"error": "rate_limited", "message": TOO_MANY_SESSIONS},
        status=429,
        headers={**headers, "Retry-After": str(max(1, round(left)))},
    )


async def _refuse(ws: web.WebSocketResponse, code: str, close_code: int) -> None:
    """An error frame saying why, then the close with the same reason."""
    try:
        await ws.send_json(error_frame(code))
    except ConnectionError:
        return
    await ws.close(code=close_code, message=code.encode())


async def _body_token(request: web.Request, headers: dict[str, str]) -> str | None:
    """The optional ``token`` of a small JSON body; 400 when the body is malformed."""
    try:
        body = await read_small_json(request)
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"error":"bad_request","message":"请求格式有误"}',
            content_type="application/json",
            headers=headers,
        ) from None
    token = body.get("token")
    return token if isinstance(token, str) else None


def _session_response(
    session_id: str, token: str, status: int, headers: dict[str, str]
) -> web.Response:
    body = {"session_id": session_id, "token": token, "conversation_id": f"{CHANNEL}:{session_id}"}
    headers = {**headers, "Cache-Control": "no-store"}
    return web.json_response(body, status=status, headers=headers)


def _after_seq(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise web.HTTPBadRequest(text="after_seq must be a non-negative integer")
    return int(value)
