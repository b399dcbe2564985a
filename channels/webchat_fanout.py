"""One store subscription per connected web chat session on this replica.

``channel.send`` publishes an event on ``webchat:<session id>`` in the shared
store; whichever replica holds the session's sockets receives it and tells
each socket to catch up from the transcript. The subscription opens with the
session's first socket and closes with its last one.

The sockets of the publishing replica itself get the event directly, before
it goes to the store: no round trip through the store on the usual path (the
replica that produced a reply mostly holds the citizen's socket), and a
store that is down does not keep the replies from them. The event carries
the replica's ``origin`` so that its own subscription skips it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.aio import cancel_and_wait
from bot.store.base import SharedStore, StoreUnavailable, Subscription

log = logging.getLogger(__name__)


class Listener(Protocol):
    """A connected socket that reacts to its session's events."""

    async def on_event(self, event: dict[str, Any]) -> None: ...


@dataclass
class _Session:
    listeners: set[Listener] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


def topic(session_id: str) -> str:
    """The store channel of one session."""
    return f"webchat:{session_id}"


class Fanout:
    """Tracks this replica's sockets per session and feeds them store events."""

    def __init__(self, store: Callable[[], SharedStore]) -> None:
        self._store = store  # looked up late: the hub opens its store at startup
        self._sessions: dict[str, _Session] = {}
        self._lock = asyncio.Lock()
        #: Marks this replica's events, which its own sockets got directly.
        self.origin = secrets.token_hex(8)

    async def publish(self, session_id: str, event: dict[str, Any]) -> None:
        """Send ``event`` to every socket of the session: here directly, elsewhere via the store."""
        await self._notify(session_id, event)
        raw = json.dumps({**event, "origin": self.origin}, ensure_ascii=False)
        try:
            await self._store().publish(topic(session_id), raw)
        except StoreUnavailable:
            log.warning("store unavailable: live event for other replicas not published")

    async def join(self, session_id: str, listener: Listener) -> None:
        """Register a socket; the subscription is live when this returns."""
        async with self._lock:
            session = self._sessions.setdefault(session_id, _Session())
            session.listeners.add(listener)
            if session.task is None:
                try:
                    subscription = await self._open(session_id)
                except BaseException:
                    self._drop(session_id, listener)
                    raise
                session.task = asyncio.create_task(self._pump(session_id, subscription))

    async def leave(self, session_id: str, listener: Listener) -> None:
        """Unregister a socket; the last one closes the subscription."""
        async with self._lock:
            session = self._drop(session_id, listener)
        if session is not None:
            await _close(session)

    def connected(self, session_id: str) -> int:
        """How many sockets of the session this replica holds."""
        session = self._sessions.get(session_id)
        return len(session.listeners) if session else 0

    async def close(self) -> None:
        """Close every subscription (application shutdown)."""
        async with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await _close(session)

    def _drop(self, session_id: str, listener: Listener) -> _Session | None:
        session = self._sessions.get(session_id)
        if session is None:
            return None
        session.listeners.discard(listener)
        if session.listeners:
            return None
        del self._sessions[session_id]
        return session

    async def _open(self, session_id: str) -> Subscription:
        subscription = self._store().subscribe(topic(session_id))
        try:
            await subscription.open()
        except BaseException:
            with contextlib.suppress(StoreUnavailable):
                await subscription.aclose()
            raise
        return subscription

    async def _pump(self, session_id: str, subscription: Subscription) -> None:
        """Feed events to the session's sockets; resubscribe after a store failure."""
        current = subscription
        try:
            while True:
                await self._forward(session_id, current)
                with contextlib.suppress(StoreUnavailable):
                    await current.aclose()
                current = await self._reopen(session_id)
                # Events published while unsubscribed are lost: let the sockets catch up.
                await self._notify(session_id, {"type": "sync"})
        finally:
            with contextlib.suppress(StoreUnavailable):
                await current.aclose()

    async def _forward(self, session_id: str, subscription: Subscription) -> None:
        try:
            async for raw in subscription:
                event = _decode(raw)
                if event is not None and event.pop("origin", None) != self.origin:
                    await self._notify(session_id, event)
        except StoreUnavailable:
            log.warning("web chat subscription lost; resubscribing")

    async def _reopen(self, session_id: str) -> Subscription:
        delay = 0.5
        while True:
            await asyncio.sleep(delay)
            try:
                return await self._open(session_id)
            except StoreUnavailable:
                delay = min(delay * 2, 10.0)

    async def _notify(self, session_id: str, event: dict[str, Any]) -> None:
        session = self._sessions.get(session_id)
        if session is not None:
            await _deliver(list(session.listeners), event)


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


async def _close(session: _Session) -> None:
    if session.task is not None:
        await cancel_and_wait([session.task])


def _decode(raw: str) -> dict[str, Any] | None:
    try:
        event = json.loads(raw)
    except ValueError:
        log.warning("ignoring a malformed web chat event")
        return None
    return event if isinstance(event, dict) else None
