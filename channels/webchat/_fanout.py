"""One store subscription per replica, fanned out to this replica's sockets.

``channel.send`` publishes an event for a session on the single store channel
``webchat:events`` (the message is ``"<session id> <json>"``); every replica
is subscribed to it once, looks up the sockets it holds for that session and
tells each of them. A replica therefore holds one pub/sub connection however
many sockets it serves (one per socket exhausted file descriptors and Redis
``maxclients``). The subscription opens with the first socket and stays open
until the application stops; after a store failure it is reopened and every
socket catches up from the transcript.

The sockets of the publishing replica itself get the event directly, before
it goes to the store: no round trip through the store on the usual path (the
replica that produced a reply mostly holds the citizen's socket), and a
store that is down does not keep the replies from them. The event carries
the replica's ``origin`` so that its own subscription skips it.

Every replica reads every session's events; the session id comes first in the
message so an event for a session held elsewhere is dropped without decoding.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable
from typing import Any, Protocol

from bot.aio import cancel_and_wait
from bot.inbound import ChannelStore
from bot.store.base import StoreUnavailable, Subscription

log = logging.getLogger(__name__)

#: The one store channel of every web chat event, under the channel's namespace;
#: ``TOPIC`` is its full name in the store.
TOPIC_NAME = "events"
TOPIC = f"webchat:{TOPIC_NAME}"


class Listener(Protocol):
    """A connected socket that reacts to its session's events."""

    async def on_event(self, event: dict[str, Any]) -> None: ...


def encode(session_id: str, event: dict[str, Any]) -> str:
    """The store message of one session's event."""
    return f"{session_id} {json.dumps(event, ensure_ascii=False)}"


class Fanout:
    """Tracks this replica's sockets per session and feeds them store events."""

    def __init__(self, store: ChannelStore) -> None:
        self._store = store
        self._sessions: dict[str, set[Listener]] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        #: Marks this replica's events, which its own sockets got directly.
        self.origin = secrets.token_hex(8)

    async def publish(self, session_id: str, event: dict[str, Any]) -> None:
        """Send ``event`` to every socket of the session: here directly, elsewhere via the store."""
        await self._notify(session_id, event)
        raw = encode(session_id, {**event, "origin": self.origin})
        try:
            await self._store.publish(TOPIC_NAME, raw)
        except StoreUnavailable:
            log.warning("store unavailable: live event for other replicas not published")

    async def join(self, session_id: str, listener: Listener) -> None:
        """Register a socket; the replica's subscription is live when this returns.

        Raises :class:`StoreUnavailable` (and registers nothing) when the
        subscription cannot be opened for the first socket.
        """
        if self._task is None or self._task.done():
            async with self._lock:
                if self._task is None or self._task.done():
                    subscription = await self._open()
                    self._task = asyncio.create_task(self._pump(subscription))
        self._sessions.setdefault(session_id, set()).add(listener)

    async def leave(self, session_id: str, listener: Listener) -> None:
        """Unregister a socket (the subscription stays for the next one)."""
        listeners = self._sessions.get(session_id)
        if listeners is None:
            return
        listeners.discard(listener)
        if not listeners:
            del self._sessions[session_id]

    def connected(self, session_id: str) -> int:
        """How many sockets of the session this replica holds."""
        return len(self._sessions.get(session_id, ()))

    async def close(self) -> None:
        """Close the subscription (application shutdown)."""
        async with self._lock:
            task, self._task = self._task, None
            self._sessions = {}
        if task is not None:
            await cancel_and_wait([task])

    async def _open(self) -> Subscription:
        subscription = self._store.subscribe(TOPIC_NAME)
        try:
            await subscription.open()
        except BaseException:
            with contextlib.suppress(StoreUnavailable):
                await subscription.aclose()
            raise
        return subscription

    async def _pump(self, subscription: Subscription) -> None:
        """Feed events to the sockets; resubscribe after a store failure."""
        current = subscription
        try:
            while True:
                await self._forward(current)
                with contextlib.suppress(StoreUnavailable):
                    await current.aclose()
                current = await self._reopen()
                # Events published while unsubscribed are lost: let every socket catch up.
                for session_id in list(self._sessions):
                    await self._notify(session_id, {"type": "sync"})
        finally:
            with contextlib.suppress(StoreUnavailable):
                await current.aclose()

    async def _forward(self, subscription: Subscription) -> None:
        try:
            async for raw in subscription:
                session_id, _, body = raw.partition(" ")
                if session_id not in self._sessions:
                    continue  # a session held by another replica (or by nobody)
                event = _decode(body)
                if event is not None and event.pop("origin", None) != self.origin:
                    await self._notify(session_id, event)
        except StoreUnavailable:
            log.warning("web chat subscription lost; resubscribing")

    async def _reopen(self) -> Subscription:
        delay = 0.5
        while True:
            await asyncio.sleep(delay)
            try:
                return await self._open()
            except StoreUnavailable:
                delay = min(delay * 2, 10.0)

    async def _notify(self, session_id: str, event: dict[str, Any]) -> None:
        listeners = self._sessions.get(session_id)
        if listeners:
            await _deliver(list(listeners), event)


async def _deliver(listeners: list[Listener], event: dict[str, Any]) -> None:
    if len(listeners) == 1:
        # The usual case, one tab: awaited in place, without a task for it, so
        # a reply's frames leave in the same loop iteration that produced them.
        try:
            await listeners[0].on_event(event)
        except Exception as exc:
            log.warning("web chat socket failed to take an event: %r", exc)
        return
    calls: list[Awaitable[None]] = [listener.on_event(event) for listener in listeners]
    for result in await asyncio.gather(*calls, return_exceptions=True):
        if isinstance(result, Exception):
            log.warning("web chat socket failed to take an event: %r", result)


def _decode(raw: str) -> dict[str, Any] | None:
    try:
        event = json.loads(raw)
    except ValueError:
        log.warning("ignoring a malformed web chat event")
        return None
    return event if isinstance(event, dict) else None
