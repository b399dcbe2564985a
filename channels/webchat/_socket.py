"""One connected widget socket: reads citizen frames, writes transcript frames.

The transcript is the single source of what the widget shows: on connect, on
``resume``, after each accepted message and on every store event for the
session, the socket sends the entries after the last ``seq`` it sent. That
makes replay and live delivery the same code path, in order and without gaps.
One catch-up sends at most one page (:data:`PAGE` entries): a socket further
behind than that (``resume`` from 0 on a long conversation) gets the latest
page, so no frame can make the server read and send thousands of rows.

Every frame counts against the session's rate limits (shared by all its
sockets on every replica): messages against ``WEBCHAT_MESSAGE_LIMIT``, any
other frame (``ping``, ``resume``, refused frames, socket opens) against
``WEBCHAT_FRAME_LIMIT``, per ``WEBCHAT_RATE_WINDOW`` seconds. A frame over
the limit gets a ``rate_limited`` error frame and is not acted on; over twice
the limit the socket is closed (1008, reason ``rate_limited``).

A citizen's message is activity: it slides the session's idle expiry. When
the session has ended (结束会话 on any tab or replica) or idled out, the
socket gets a ``session_ended`` error frame and is closed (4001).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from bot.inbound import ConversationState, DeliveryMode, InboundPort
from bot.messages import InboundMessage
from bot.store.base import StoreUnavailable
from channels.webchat._fanout import Fanout
from channels.webchat._limits import ABUSE, LIMITED, Limits, WindowCounter
from channels.webchat._protocol import (
    CLOSE_RATE_LIMITED,
    CLOSE_SESSION_ENDED,
    ClientMessage,
    Feedback,
    FrameError,
    Ping,
    Resume,
    Typing,
    entry_frame,
    error_frame,
    parse_frame,
)
from channels.webchat._sessions import SessionActivity

log = logging.getLogger(__name__)

CHANNEL = "webchat"
PAGE = 200  # the most entries one catch-up sends
TOUCH_EVERY = 60.0  # seconds between two writes of a session's activity
_WAITING = {"ok", "pending"}  # the bot is still working on an answer


@contextlib.contextmanager
def one_segment(transport: asyncio.BaseTransport | None) -> Iterator[None]:
    """Frames written inside leave together (Linux ``TCP_CORK``).

    A turn's replies are several transcript frames. Written one by one on a
    socket with ``TCP_NODELAY`` (aiohttp's default), each is its own TCP
    segment and wakes the browser once; corked, they arrive together. The
    kernel sends corked data after 200 ms at the latest, so nothing can be
    held back for long. Without a socket or ``TCP_CORK``, nothing changes.
    """
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or not hasattr(socket, "TCP_CORK"):
        yield
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    except OSError:  # not a TCP socket (tests, a Unix socket behind a proxy)
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):  # the socket closed meanwhile
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)


@dataclass(frozen=True)
class Guards:
    """What a socket checks its frames against: rate limits and the session's life."""

    counter: WindowCounter
    limits: Limits
    activity: SessionActivity
    clock: Callable[[], float]


class Connection:
    """The server side of one widget WebSocket of one session."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        inbound: InboundPort,
        fanout: Fanout,
        session_id: str,
        guards: Guards,
        seen_at: float,
        after_seq: int | None = None,
        transport: asyncio.BaseTransport | None = None,
        client_address: str | None = None,
    ) -> None:
        self.ws = ws
        self._transport = transport
        #: The citizen's address (trusted-proxy aware): per-address handoff limits.
        self.client_address = client_address
        self.session_id = session_id
        self._port = inbound
        self._fanout = fanout
        self._guards = guards
        self._seen_at = seen_at  # the session's last activity as last read or written
        self._last_seq = after_seq
        self._last_direction: str | None = None
        self._sync_lock = asyncio.Lock()
        self._send_lock = asyncio.Lock()
        self._ending: asyncio.Task[None] | None = None

    @property
    def conversation_id(self) -> str:
        return f"{CHANNEL}:{self.session_id}"

    async def run(self) -> None:
        """Subscribe, replay the transcript, then serve frames until the socket closes."""
        try:
            await self._fanout.join(self.session_id, self)
        except StoreUnavailable:
            log.warning("store unavailable: web chat socket refused")
            await self._send(error_frame("server_error"))
            await self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER)
            return
        try:
            await self.sync()
            async for msg in self.ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_text(msg.data)
                elif msg.type == WSMsgType.BINARY and await self._admit("frame"):
                    await self._send(error_frame("bad_frame"))
        finally:
            await self._fanout.leave(self.session_id, self)
            if self._ending is not None:
                with contextlib.suppress(Exception):
                    await self._ending

    async def on_event(self, event: dict[str, Any]) -> None:
        """A store event for this session: a typing signal, the session's end, or new entries."""
        if event.get("type") == "typing":
            frame: dict[str, Any] = {"type": "typing", "on": bool(event.get("on"))}
            if event.get("by") == "agent":
                frame["by"] = "agent"
            await self._send(frame)
            return
        if event.get("type") == "end":
            # Closing waits for the browser's answer: not in the publisher's task.
            if self._ending is None:
                self._ending = asyncio.create_task(self.end())
            return
        upto = event.get("upto")
        if isinstance(upto, int) and self._last_seq is not None and self._last_seq >= upto:
            return  # this socket already sent everything the event announces
        await self.sync()

    async def sync(self) -> None:
        """Send every transcript entry after the last one this socket sent."""
        async with self._sync_lock:
            await self._catch_up()

    async def end(self) -> None:
        """The session is over: say so and close (the widget then clears itself)."""
        await self._send(error_frame("session_ended"))
        await self.ws.close(code=CLOSE_SESSION_ENDED, message=b"session_ended")

    async def _catch_up(self) -> None:
        try:
            entries = await self._port.history(
                self.conversation_id, limit=PAGE, after_seq=self._last_seq
            )
            if self._last_seq is not None and len(entries) >= PAGE:
                # More than a page behind: the latest page, not the whole gap.
                latest = await self._port.history(self.conversation_id, limit=PAGE)
                entries = [entry for entry in latest if entry.seq > self._last_seq]
            with one_segment(self._transport if len(entries) > 1 else None):
                for entry in entries:
                    await self._send_entry(entry)
        except Exception as exc:  # the next event or ping catches up; the socket stays
            log.warning("web chat transcript catch-up failed: %s", type(exc).__name__)

    async def _send_entry(self, entry: Any) -> None:
        if self._last_seq is not None and entry.seq <= self._last_seq:
            return
        await self._send(entry_frame(entry, id_prefix=f"{self.session_id}:"))
        self._last_seq = entry.seq
        self._last_direction = entry.direction

    async def _on_text(self, raw: str) -> None:
        try:
            frame = parse_frame(raw)
        except FrameError as exc:
            if await self._admit("frame", exc.client_id):
                await self._send(error_frame(exc.code, exc.client_id))
            return
        is_message = isinstance(frame, ClientMessage)
        client_id = frame.client_id if isinstance(frame, ClientMessage) else None
        if not await self._admit("message" if is_message else "frame", client_id):
            return
        if not await self._still_live(activity=is_message):
            return
        if isinstance(frame, ClientMessage):
            await self._on_message(frame)
        elif isinstance(frame, Resume):
            async with self._sync_lock:
                self._last_seq = frame.after_seq
                await self._catch_up()
        elif isinstance(frame, Ping):
            await self._send({"type": "pong"})
            await self.sync()  # safety net should a live event have been missed
        elif isinstance(frame, Feedback):
            await self._on_feedback(frame)
        elif isinstance(frame, Typing):
            await self._on_typing(frame)

    async def _admit(self, kind: str, client_id: str | None = None) -> bool:
        """Count the frame against the session's limit; false when it must not be acted on."""
        guards = self._guards
        limit = guards.limits.message_limit if kind == "message" else guards.limits.frame_limit
        verdict = await guards.counter.verdict(kind, self.session_id, limit, guards.limits.window)
        if verdict == LIMITED:
            await self._send(error_frame("rate_limited", client_id))
        elif verdict == ABUSE:
            log.warning("web chat socket closed: sustained frames over the rate limit")
            await self._send(error_frame("rate_limited", client_id))
            await self.ws.close(code=CLOSE_RATE_LIMITED, message=b"rate_limited")
        return verdict not in (LIMITED, ABUSE)

    async def _still_live(self, activity: bool) -> bool:
        """False (and the socket ended) when the session has ended or idled out.

        The store is read only when this socket's view says the session idled
        out, or for a message at most every :data:`TOUCH_EVERY` seconds, which
        then also records the activity. A store that is down changes nothing.
        """
        guards = self._guards
        now = guards.clock()
        stale = now - self._seen_at > guards.activity.idle_seconds
        if not stale and not (activity and now - self._seen_at >= TOUCH_EVERY):
            return True
        try:
            seen = await guards.activity.last_seen(self.session_id)
            if seen is None:
                await self.end()
                return False
            self._seen_at = await guards.activity.touch(self.session_id) if activity else seen
        except StoreUnavailable:
            log.debug("store unavailable: web chat session state not checked")
        return True

    async def _on_message(self, frame: ClientMessage) -> None:
        try:
            result = await self._port.handle(self._inbound(frame), DeliveryMode.PUSH_LATER)
        except Exception as exc:  # the widget keeps the message and sends it again
            log.error("hub did not accept a web chat message: %s", type(exc).__name__)
            await self._send(error_frame("server_error", frame.client_id))
            return
        status = str(getattr(result, "status", "ok"))
        await self._send({"type": "ack", "id": frame.client_id, "status": status})
        async with self._sync_lock:  # the hint must not overtake a reply
            await self._catch_up()
            await self._typing_hint(status)
        # The session's other tabs; "upto" lets this socket skip its own echo.
        await self._fanout.publish(self.session_id, {"type": "sync", "upto": self._last_seq})

    async def _on_feedback(self, frame: Feedback) -> None:
        reply: dict[str, Any] = {"type": "feedback", "seq": frame.seq, "vote": frame.vote}
        try:
            reply["status"] = await self._port.answer_feedback(
                self.conversation_id, frame.seq, frame.vote
            )
        except Exception as exc:  # the widget lets the citizen try again
            log.error("web chat feedback not recorded: %s", type(exc).__name__)
            reply["status"] = "error"
        await self._send(reply)

    async def _on_typing(self, frame: Typing) -> None:
        """The citizen's typing, for an agent holding the chat (the hub drops it
        otherwise, and passes an "on" at most every 2 s). Like every frame it
        counts against the session's frame limit. Not a message: no ack, no
        transcript, no Rasa."""
        try:
            await self._port.citizen_typing(self.conversation_id, frame.on)
        except Exception as exc:  # only a hint: the next one may get through
            log.debug("citizen typing not passed on: %s", type(exc).__name__)

    def _inbound(self, frame: ClientMessage) -> InboundMessage:
        # Scoping the id by session keeps one session from suppressing another's
        # messages through the hub's (channel, message id) dedupe.
        return InboundMessage(
            channel=CHANNEL,
            channel_user_id=self.session_id,
            message_id=f"{self.session_id}:{frame.client_id}",
            text=frame.text or frame.title,
            payload=frame.payload,
            metadata={"client_id": frame.client_id},
            client_address=self.client_address,
        )

    async def _typing_hint(self, status: str) -> None:
        """Typing on while the bot works on this message; off when a person will answer."""
        if status in _WAITING and self._last_direction == "in" and await self._bot_answers():
            await self._send({"type": "typing", "on": True})
        elif status in _WAITING or status == "to_agent":
            await self._send({"type": "typing", "on": False})

    async def _bot_answers(self) -> bool:
        try:
            state = await self._port.conversation_state(self.conversation_id)
            return state == ConversationState.BOT
        except Exception as exc:  # only a hint: assume the bot
            log.debug("conversation state unavailable: %s", type(exc).__name__)
            return True

    async def _send(self, frame: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        async with self._send_lock:
            try:
                await self.ws.send_str(json.dumps(frame, ensure_ascii=False))
            except ConnectionError:
                log.debug("web chat socket closed while sending")
