"""The web chat widget channel: anonymous sessions, a WebSocket, static files.

Routes
------
``GET /`` demo page, ``GET /widget.js`` (embed with one
``<script src="https://front.door/widget.js" defer></script>``),
``GET /widget.css``, ``GET /demo.css``;
``POST /webchat/session`` -> ``{"session_id", "token"}`` (body optional:
``{"token": old}`` returns the same session while the old token is valid,
else a new one; 201 for a new session, 200 for a continued one);
``GET /webchat/ws?token=...&after_seq=n`` the WebSocket (403 before the
upgrade unless the token verifies). The conversation id is
``webchat:<session id>``.

WebSocket protocol (JSON text frames)
-------------------------------------
Client -> server:

- ``{"type": "message", "id": "<client uuid>", "text": "..."}`` typed text
  (at most 2000 characters, frame at most 8 KB);
- ``{"type": "message", "id": "...", "payload": "/x", "title": "按钮标题"}`` a
  clicked button (the title is the citizen's visible text);
- ``{"type": "resume", "after_seq": n}`` send again every entry after ``n``;
- ``{"type": "ping"}`` -> ``{"type": "pong"}`` (and a catch-up).

Server -> client:

- ``{"type": "ack", "id": "<client id>", "status": ...}`` once the hub accepted
  the message. The widget resends unacked messages after a reconnect; the hub
  drops duplicates by ``(webchat, "<session id>:<client id>")``.
- ``{"type": "message", "seq": n, "direction": "in"|"out", "sender": ...,
  "text": ..., "buttons": [{"title", "payload"}], "image": url|null,
  "at": "<ISO 8601 UTC>", "id": "<client id, inbound only>"}`` one transcript
  entry. On connect the server sends every entry after ``after_seq`` (all of
  them when absent), then each new entry as it is written: the transcript is
  the one source, so a reload or a dropped connection loses nothing.
- ``{"type": "typing", "on": bool}`` the bot (or agent) is working on a reply.
- ``{"type": "error", "code": ..., "message": "<Chinese text>", "id"?: ...}``
  a refused frame (``bad_json``, ``bad_frame``, ``too_large``, ``too_long``,
  ``empty``, ``rate_limited``, ``server_error``); nothing was forwarded.

Live delivery across replicas: :meth:`WebChatChannel.send` publishes on the
store channel ``webchat:<session id>``; the replica holding the session's
sockets is subscribed and lets each socket catch up from the transcript.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode, web

from bot.config import Settings
from bot.messages import OutboundMessage
from channels.base import Channel
from channels.webchat_auth import TokenSigner, load_secret
from channels.webchat_fanout import Fanout
from channels.webchat_http import CorsPolicy, read_small_json
from channels.webchat_protocol import RateLimits
from channels.webchat_socket import CHANNEL, Connection
from channels.webchat_static import StaticFiles

if TYPE_CHECKING:
    from bot.hub import Hub
    from bot.store.base import SharedStore

log = logging.getLogger(__name__)

MAX_WS_MESSAGE = 64 * 1024  # larger frames close the socket; 8 KB..64 KB get an error frame


class WebChatChannel(Channel):
    """The embeddable web chat widget and its WebSocket."""

    name = CHANNEL

    def __init__(self, hub: Hub, settings: Settings) -> None:
        self._hub = hub
        self._signer = TokenSigner(load_secret())
        self._cors = CorsPolicy.from_env(os.environ.get("WEBCHAT_ALLOWED_ORIGINS", "*"))
        self._fanout = Fanout(self._store)
        self._static = StaticFiles()
        self._limits = RateLimits()
        self._sockets: set[web.WebSocketResponse] = set()

    def add_routes(self, app: web.Application) -> None:
        self._static.add_routes(app)
        app.router.add_post("/webchat/session", self._create_session)
        app.router.add_route("OPTIONS", "/webchat/session", self._preflight)
        app.router.add_get("/webchat/ws", self._socket)
        # aiosignal's generic parameter confuses mypy; the callback has the usual shape.
        app.on_shutdown.append(self._close_sockets)  # type: ignore[arg-type]

    async def send(self, channel_user_id: str, messages: Sequence[OutboundMessage]) -> None:
        """Tell the session's sockets, on any replica, to fetch the new entries."""
        await self._fanout.publish(channel_user_id, {"type": "sync", "count": len(messages)})

    async def typing(self, channel_user_id: str, on: bool) -> None:
        """Show or hide the typing indicator in the session's widgets."""
        await self._fanout.publish(channel_user_id, {"type": "typing", "on": on})

    async def stop(self) -> None:
        await self._fanout.close()

    def _store(self) -> SharedStore:
        return self._hub.store

    async def _create_session(self, request: web.Request) -> web.Response:
        headers = self._cors.headers(request)
        try:
            body = await read_small_json(request)
        except ValueError:
            raise web.HTTPBadRequest(
                text='{"error":"bad_request","message":"请求格式有误"}',
                content_type="application/json",
                headers=headers,
            ) from None
        token = body.get("token") if isinstance(body.get("token"), str) else None
        session = self._signer.verify(token)
        if session is not None and token is not None:
            return _session_response(session.session_id, token, 200, headers)
        session, token = self._signer.new_session()
        log.info("web chat session created")
        return _session_response(session.session_id, token, 201, headers)

    async def _preflight(self, request: web.Request) -> web.Response:
        return web.Response(status=204, headers=self._cors.preflight_headers(request))

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        session = self._signer.verify(request.query.get("token"))
        if session is None or not self._cors.allows(request):
            raise web.HTTPForbidden(text="forbidden")
        after_seq = _after_seq(request.query.get("after_seq"))
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_WS_MESSAGE)
        await ws.prepare(request)
        sid = session.session_id
        bucket = self._limits.bucket(sid)
        self._sockets.add(ws)
        try:
            connection = Connection(
                ws, self._hub, self._fanout, sid, bucket, after_seq, request.transport
            )
            await connection.run()
        finally:
            self._sockets.discard(ws)
        return ws

    async def _close_sockets(self, app: web.Application) -> None:
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


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
