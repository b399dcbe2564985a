"""The agents' live WebSocket, ``GET /console/ws``.

Authentication: the session cookie plus the session's CSRF token, either as
``?csrf=`` (checked before the upgrade) or in the first frame
``{"type": "auth", "csrf_token": ...}`` within 10 s. Agents and
supervisors get everything below; department users, and the ticket page's
socket (``?view=tickets``: an agent reading tickets is not at the desk, so
not counted present), only ``hello``, ``tickets`` and ``notice`` (their
heartbeats answer ``pong``).

Client -> server: ``{"type": "heartbeat", "status": "online"|"away"}`` (every
~20 s; keeps presence alive and returns a fresh snapshot),
``{"type": "watch", "conversation_id": ...}`` (the chat open on screen),
``{"type": "typing", "conversation_id": ..., "on": bool}`` (the agent is typing
in a chat they hold: shown to the citizen where the channel can, the widget's
"客服正在输入…", Telegram's sendChatAction, WeChat's typing state; "on" at most
every :data:`AGENT_TYPING_EVERY` seconds per chat, "off" only after an "on"),
``{"type": "live", "on": true|false}`` (supervisors: the "all conversations"
view is on screen; others get an ``error`` frame ``forbidden``),
``{"type": "ping"}``.

Server -> client: ``hello`` (the user), ``queue`` (snapshot: ``items`` waiting,
``active`` held conversations, ``agents`` present), ``conversation`` (something
changed in one conversation: fetch its new entries; to the holding agent,
supervisors and the consoles showing it, and to every console when a queued
citizen writes; ``"citizen": true`` when it is a citizen's new message, which
the console counts as unread while that conversation is not open), ``delivery`` (an agent's
message was sent or failed: ``seq``, ``request_id``, ``delivery`` with
``state``, ``reason`` and the Chinese ``text``), ``claimed`` (who took a
queue entry), ``canned`` (the canned replies changed: reload them),
``notice`` (a message for this agent), ``typing`` (the citizen
is typing or stopped: ``conversation_id``, ``on``; to the holder, supervisors
and consoles watching the chat), ``live`` (to supervisors
with the live view on: ``items`` as ``GET /console/api/live`` and ``at``, the
server's clock; sent at once when the view is switched on, then after any
change of a conversation, the queue or presence, and after turns with the
assistant, at most one every :data:`LIVE_MIN_INTERVAL` seconds per replica),
``tickets`` (``changes``: tickets in the viewer's scope that were created or
changed, each ``number``, ``kind``, ``status``; bot/console/ticket_feed.py),
``error``.

Every replica subscribes once to the hub's ``agents`` channel and to
``console:events`` and forwards to its own sockets, so a citizen's message
reaches the holding agent's browsers wherever they are connected.

The socket's session is re-checked (read, never renewed: only the agent's
own HTTP requests renew its idle timeout) before each frame it acts on, every
``CONSOLE_SOCKET_RECHECK`` seconds (30), and at once when a
``sessions_ended`` event names its user: when the session has ended (signed
out, past its lifetime, password or role changed, user deactivated) the
server sends an ``error`` frame (``session_ended``) and closes with 4401.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from sqlalchemy.exc import SQLAlchemyError

from bot.aio import cancel_and_wait
from bot.console.auth import COOKIE_NAME, current_session, session_user, user_for_socket
from bot.console.context import Console
from bot.console.events import CONSOLE_CHANNEL, LIVE_VIEW_KEY, WATCH_TTL, watch_key
from bot.console.live import live_conversations
from bot.console.snapshot import snapshot
from bot.console.users import User
from bot.conversations import ConversationState
from bot.going_away import CLOSE_TIMEOUT, GoingAway
from bot.hub_routing import AGENTS_CHANNEL
from bot.store.base import StoreUnavailable

log = logging.getLogger(__name__)

AUTH_TIMEOUT = 10.0
MAX_FRAME = 16 * 1024
CLOSE_STEP_TIMEOUT = 5.0  # shutdown: the most closing every socket may take
SOCKET_ROLES = ("agent", "supervisor", "department")
#: Roles that serve citizens: presence, the queue and conversations. Department
#: users' sockets carry only their own department's ticket changes
#: (``tickets``, bot/console/ticket_feed.py) and notices.
DESK_ROLES = ("agent", "supervisor")
AGENT_TYPING_EVERY = 2.0  # seconds: an agent's "typing" reaches the citizen at most this often
#: The least time between two ``live`` frames of one replica (a burst of turns
#: costs one recount of the live view, not one per turn).
LIVE_MIN_INTERVAL = 1.0
#: Events after which the supervisors' live view is recounted.
LIVE_EVENTS = frozenset(
    {"queue", "presence", "handoff", "message", "conversation", "claimed", "activity"}
)


#: Frames one console may have waiting; more and it is cut off.
SEAT_QUEUE = 200
#: The most one frame's write may take before the console is cut off.
SEAT_WRITE_TIMEOUT = 5.0
WRITER_NAME = "console-seat-writer"


@dataclass(frozen=True)
class _Close:
    code: int
    message: bytes


@dataclass(eq=False)
class Seat:
    """One console socket. Frames go through a bounded queue to the seat's own
    writer task, so a console that stops reading (its TCP buffers full) holds
    up no one else: when its queue overflows or a write takes longer than
    :data:`SEAT_WRITE_TIMEOUT`, its connection is aborted (the browser
    reconnects and gets a fresh snapshot)."""

    ws: web.WebSocketResponse
    user: User
    watching: set[str] = field(default_factory=set)
    live: bool = False  # a supervisor's "all conversations" view is on screen
    #: An agent's desk (presence, queue, conversations); false: a tickets-only
    #: socket (department users, and the ticket page's ``?view=tickets``).
    desk: bool = True
    app: web.Application | None = None
    session_id: str | None = None
    transport: asyncio.Transport | None = None
    outbox: asyncio.Queue[dict[str, Any] | _Close] = field(
        default_factory=lambda: asyncio.Queue(SEAT_QUEUE)
    )
    writer: asyncio.Task[None] | None = None
    cut_off: bool = False
    closing: bool = False
    #: Chats whose citizen was told this agent is typing, and when (monotonic).
    typing: dict[str, float] = field(default_factory=dict)

    async def send(self, frame: dict[str, Any]) -> None:
        """Queue ``frame`` (never waits for the client)."""
        if self.cut_off or self.closing or self.ws.closed:
            return
        try:
            self.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            self.cut("its queue is full")

    def close_after_queued(self, code: int, message: bytes) -> None:
        """Close with ``code`` once the frames queued before are out."""
        if self.cut_off or self.closing:
            return
        self.closing = True
        try:
            self.outbox.put_nowait(_Close(code, message))
        except asyncio.QueueFull:
            self.cut("its queue is full")

    def start(self) -> None:
        self.writer = asyncio.create_task(self._write_forever(), name=WRITER_NAME)

    def cut(self, why: str) -> None:
        """Drop the connection at once (a close frame could not get through)."""
        if self.cut_off:
            return
        self.cut_off = True
        log.warning("console socket of user %s cut off: %s", self.user.id, why)
        if self.transport is not None:
            self.transport.abort()

    async def _write_forever(self) -> None:
        while not self.cut_off:
            frame = await self.outbox.get()
            try:
                if isinstance(frame, _Close):
                    await asyncio.wait_for(
                        self.ws.close(code=frame.code, message=frame.message), SEAT_WRITE_TIMEOUT
                    )
                    return
                await asyncio.wait_for(self.ws.send_json(frame), SEAT_WRITE_TIMEOUT)
            except TimeoutError:
                self.cut("a write did not finish in time")
            except (ConnectionError, RuntimeError):
                return  # the connection is gone: the socket's handler ends

    async def stop(self) -> None:
        """The socket's handler ends: let a queued close go out (bounded), then end the writer."""
        if self.writer is None:
            return
        if self.closing and not self.cut_off:
            await asyncio.wait({self.writer}, timeout=CLOSE_TIMEOUT)
        await cancel_and_wait([self.writer])


class AgentSockets:
    """The sockets of this replica and the subscriptions that feed them."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.seats: set[Seat] = set()
        #: The server's own 1001 closes at shutdown (the consoles reconnect elsewhere).
        self.going = GoingAway("console")
        self._tasks: list[asyncio.Task[None]] = []
        self._snapshot_due: asyncio.Task[None] | None = None
        self._live_due: asyncio.Task[None] | None = None
        self._live_dirty = False
        self._live_sent_at = 0.0

    async def start(self) -> None:
        for channel in (AGENTS_CHANNEL, CONSOLE_CHANNEL):
            self._tasks.append(
                asyncio.create_task(self._listen(channel), name=f"console-{channel}")
            )
        self._tasks.append(asyncio.create_task(self._recheck_forever(), name="console-recheck"))

    # --- sessions --------------------------------------------------------------
    @property
    def recheck_every(self) -> float:
        return float(self.console.hub.settings.console_socket_recheck)

    async def _recheck_forever(self) -> None:
        while True:
            await asyncio.sleep(self.recheck_every)
            try:
                await self.recheck_all()
            except Exception as exc:  # a store or database hiccup: next round
                log.warning("console session re-check failed: %s", type(exc).__name__)

    async def recheck_all(self, user_id: int | None = None) -> None:
        """Close the sockets (of ``user_id``, or all) whose session has ended."""
        for seat in list(self.seats):
            if user_id is None or seat.user.id == user_id:
                await self._session_alive(seat)

    async def _session_alive(self, seat: Seat) -> bool:
        """True while the seat's session lives; else tell the browser and close."""
        if seat.app is None or seat.ws.closed:
            return not seat.ws.closed
        # A read, not a renewal: the re-check and the browser's heartbeats must
        # not keep an unattended tab's session alive past the idle limit.
        found = await session_user(seat.app, seat.session_id, renew=False)
        if found is not None and found[1].role in SOCKET_ROLES:
            return True
        self.seats.discard(seat)
        await seat.send(
            {"type": "error", "code": "session_ended", "message": "登录已失效，请重新登录"}
        )
        seat.close_after_queued(4401, b"session ended")
        return False

    async def going_away(self) -> None:
        """Close every socket with 1001 at once (the consoles reconnect to another
        replica), within :data:`CLOSE_STEP_TIMEOUT` seconds; later ones are refused."""
        await self.going.close_all([seat.ws for seat in self.seats], CLOSE_STEP_TIMEOUT)

    async def stop(self) -> None:
        due = [task for task in (self._snapshot_due, self._live_due) if task is not None]
        tasks = [*self._tasks, *due]
        await cancel_and_wait(tasks)
        await self.going_away()

    # --- the socket ------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        if await current_session(request) is None:
            raise web.HTTPUnauthorized(text="sign in first")
        user = None
        if "csrf" in request.query:
            user = await user_for_socket(request, request.query["csrf"])
            if user is None:
                raise web.HTTPForbidden(text="forbidden")
        self.going.refuse_if_stopping()
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME)
        await ws.prepare(request)
        user = user or await self._first_frame_auth(request, ws)
        if user is None or user.role not in SOCKET_ROLES:
            await ws.send_json({"type": "error", "code": "unauthorized", "message": "请重新登录"})
            await ws.close(code=4401, message=b"unauthorized")
            return ws
        desk = user.role in DESK_ROLES and request.query.get("view") != "tickets"
        seat = Seat(
            ws, user, app=request.app, session_id=request.cookies.get(COOKIE_NAME),
            transport=request.transport, desk=desk,
        )  # fmt: skip
        if self.going.started:  # authenticated while the close loop ran: 1001 now
            await self.going.close(ws)
            return ws
        self.seats.add(seat)
        seat.start()
        try:
            await self._welcome(seat)
            await self._read(seat)
        finally:
            self.seats.discard(seat)
            await seat.stop()
            await self.going.closed_by_server(ws)
        return ws

    async def _first_frame_auth(
        self, request: web.Request, ws: web.WebSocketResponse
    ) -> User | None:
        try:
            msg = await ws.receive(timeout=AUTH_TIMEOUT)
        except TimeoutError:
            return None
        if msg.type != WSMsgType.TEXT:
            return None
        try:
            frame = json.loads(msg.data)
        except ValueError:
            return None
        if not isinstance(frame, dict) or frame.get("type") != "auth":
            return None
        token = frame.get("csrf_token")
        return await user_for_socket(request, token if isinstance(token, str) else None)

    async def _welcome(self, seat: Seat) -> None:
        await seat.send({"type": "hello", "user": seat.user.to_dict()})
        if not seat.desk:
            return
        if await self.console.presence.beat(seat.user, "online"):
            await self.console.notifier.presence_changed()
        await seat.send(await snapshot(self.console, groups=self._groups(seat.user)))

    async def _read(self, seat: Seat) -> None:
        async for msg in seat.ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(msg.data)
            except ValueError:
                await seat.send({"type": "error", "code": "bad_json", "message": "格式错误"})
                continue
            if isinstance(frame, dict):
                await self._frame(seat, frame)

    async def _frame(self, seat: Seat, frame: dict[str, Any]) -> None:
        if not await self._session_alive(seat):
            return
        kind = frame.get("type")
        if kind in ("heartbeat", "watch") and not seat.desk:
            await seat.send({"type": "pong"})  # alive; no presence, no queue
        elif kind == "heartbeat":
            status = frame.get("status") if frame.get("status") in ("online", "away") else "online"
            if await self.console.presence.beat(seat.user, str(status)):
                await self.console.notifier.presence_changed()
            for watched in seat.watching:
                await self.console.store.set(watch_key(watched), "1", WATCH_TTL)
            if seat.live:
                await self.console.store.set(LIVE_VIEW_KEY, "1", WATCH_TTL)
            await seat.send(await snapshot(self.console, groups=self._groups(seat.user)))
        elif kind == "watch":
            cid = frame.get("conversation_id")
            seat.watching = {cid} if isinstance(cid, str) and len(cid) <= 200 else set()
            for watched in seat.watching:
                await self.console.store.set(watch_key(watched), "1", WATCH_TTL)
        elif kind == "typing":
            await self._agent_typing(seat, frame)
        elif kind == "live":
            await self._live_switch(seat, frame.get("on") is True)
        elif kind == "ping":
            await seat.send({"type": "pong"})
        else:
            await seat.send({"type": "error", "code": "bad_frame", "message": "未知的消息类型"})

    async def _agent_typing(self, seat: Seat, frame: dict[str, Any]) -> None:
        """The agent is typing in a chat they hold: tell the citizen's channel
        (rate limited per chat; a chat not held by this agent is ignored)."""
        cid, on = frame.get("conversation_id"), frame.get("on")
        if not isinstance(cid, str) or len(cid) > 200 or ":" not in cid or not isinstance(on, bool):
            await seat.send({"type": "error", "code": "bad_frame", "message": "格式错误"})
            return
        now = time.monotonic()
        since = seat.typing.get(cid)
        if (on and since is not None and now - since < AGENT_TYPING_EVERY) or (
            not on and since is None
        ):
            return
        conv = await self.console.conv(cid)
        if conv.state is not ConversationState.WITH_AGENT or not conv.held_by(seat.user.id):
            seat.typing.pop(cid, None)
            return
        if on:
            seat.typing[cid] = now
        else:
            seat.typing.pop(cid, None)
        await self.console.hub.typing(cid, on)

    # --- fan-out ---------------------------------------------------------------
    async def _listen(self, channel: str) -> None:
        while True:
            try:
                async with self.console.store.subscribe(channel) as sub:
                    async for raw in sub:
                        await self._dispatch(raw)
            except StoreUnavailable as exc:
                log.warning("console subscription %s lost: %s", channel, exc)
                await asyncio.sleep(1.0)
            except Exception as exc:  # one bad event must not stop the console
                log.error("console event failed: %s", type(exc).__name__)
                await asyncio.sleep(0.1)

    async def _dispatch(self, raw: str) -> None:
        try:
            event = json.loads(raw)
        except ValueError:
            return
        if not isinstance(event, dict) or not self.seats:
            return
        kind = event.get("type")
        if kind in LIVE_EVENTS and any(seat.live for seat in self.seats):
            self._schedule_live()
        if kind in ("queue", "presence", "handoff"):
            self._schedule_snapshot()
        elif kind in ("message", "conversation"):
            await self._conversation(
                str(event.get("conversation_id")),
                event.get("kind", "message"),
                citizen=kind == "message",  # the hub's: a citizen wrote to the agents
            )
        elif kind in ("delivery", "typing"):
            await self._delivery(event)
        elif kind in ("claimed", "canned"):
            await self._to_all(event)
        elif kind == "notice":
            for seat in list(self.seats):
                if seat.user.id == event.get("user_id"):
                    await seat.send(event)
        elif kind == "sessions_ended" and isinstance(event.get("user_id"), int):
            await self.recheck_all(event["user_id"])

    async def _conversation(self, cid: str, kind: str, citizen: bool = False) -> None:
        conv = await self.console.conv(cid)
        holder = conv.agent_id
        frame: dict[str, Any] = {"type": "conversation", "conversation_id": cid, "kind": kind}
        if citizen:
            frame["citizen"] = True
        # A waiting citizen's words concern every agent who may claim them (unread counts).
        everyone = citizen and conv.state is ConversationState.QUEUED
        for seat in list(self.seats):
            if seat.desk and (
                everyone
                or str(seat.user.id) == holder
                or seat.user.role == "supervisor"
                or cid in seat.watching
            ):
                await seat.send(frame)
        if conv.state is ConversationState.QUEUED or kind == "state":
            self._schedule_snapshot()

    async def _delivery(self, event: dict[str, Any]) -> None:
        """An agent's message was sent or failed, or the citizen is typing: to the
        consoles showing the chat."""
        cid = str(event.get("conversation_id"))
        holder = (await self.console.conv(cid)).agent_id
        for seat in list(self.seats):
            if seat.desk and (
                str(seat.user.id) == holder
                or seat.user.role == "supervisor"
                or cid in seat.watching
            ):
                await seat.send(event)

    async def _to_all(self, frame: dict[str, Any]) -> None:
        for seat in list(self.seats):
            if seat.desk:
                await seat.send(frame)

    def _schedule_snapshot(self) -> None:
        """Coalesce bursts of changes into one snapshot per replica."""
        if self._snapshot_due is None or self._snapshot_due.done():
            self._snapshot_due = asyncio.create_task(self._send_snapshot())

    # --- the supervisors' live view ----------------------------------------------
    async def _live_switch(self, seat: Seat, on: bool) -> None:
        if seat.user.role != "supervisor":
            await seat.send(
                {"type": "error", "code": "forbidden", "message": "仅班长可以查看全部会话"}
            )
            return
        seat.live = on
        if on:
            await self.console.store.set(LIVE_VIEW_KEY, "1", WATCH_TTL)
            await seat.send(await self._live_frame())

    async def _live_frame(self) -> dict[str, Any]:
        return {
            "type": "live",
            "at": time.time(),
            "items": await live_conversations(self.console),
        }

    def _schedule_live(self) -> None:
        """Recount the live view for the supervisors showing it: one recount per
        burst, at most one every :data:`LIVE_MIN_INTERVAL` s; a change that
        arrives while a recount runs gets one more after it."""
        self._live_dirty = True
        if self._live_due is None or self._live_due.done():
            self._live_due = asyncio.create_task(self._send_live())

    async def _send_live(self) -> None:
        while self._live_dirty:
            wait = self._live_sent_at + LIVE_MIN_INTERVAL - time.monotonic()
            await asyncio.sleep(max(0.05, wait))
            self._live_dirty = False
            self._live_sent_at = time.monotonic()
            seats = [seat for seat in self.seats if seat.live]
            if not seats:
                return
            try:
                frame = await self._live_frame()
            except (StoreUnavailable, SQLAlchemyError) as exc:  # the next change retries
                log.warning("live view not recounted: %s", type(exc).__name__)
                return
            for seat in seats:
                if seat.live:
                    await seat.send(frame)

    def _groups(self, user: User) -> frozenset[str] | None:
        return self.console.groups.visible(user.username, user.role)

    async def _send_snapshot(self) -> None:
        """One snapshot per view of the queue (supervisors', each set of agent groups)."""
        await asyncio.sleep(0.05)
        frames: dict[frozenset[str] | None, dict[str, Any]] = {}
        for seat in list(self.seats):
            if not seat.desk:
                continue
            view = self._groups(seat.user)
            if view not in frames:
                try:
                    frames[view] = await snapshot(self.console, groups=view)
                except StoreUnavailable as exc:
                    log.warning("queue snapshot failed: %s", exc)
                    return
            await seat.send(frames[view])
