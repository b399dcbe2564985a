"""Console events between replicas: one store pub/sub channel, ``console:events``.

Every replica's agent sockets listen (``bot.console.agent_socket``); any
replica that changes a conversation or the queue publishes here. Events are
hints to refresh ("the queue changed", "conversation X changed"); the data
itself is read from the store and SQL, so a lost event costs a refresh at
the next one or at the socket's periodic resync, not a message.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.store.base import SharedStore, StoreUnavailable

log = logging.getLogger(__name__)

CONSOLE_CHANNEL = "console:events"
WATCH_TTL = 90.0  # a console shows this conversation (renewed by its heartbeats)
#: Set (with :data:`WATCH_TTL`) while a supervisor's console shows the live
#: "all conversations" view, renewed by its heartbeats: only then does a turn
#: with the assistant publish an ``activity`` event (one store read per turn
#: otherwise, like :func:`watch_key`).
LIVE_VIEW_KEY = "console:live-view"


def watch_key(conversation_id: str) -> str:
    return f"console:watch:{conversation_id}"


class Notifier:
    """Publish console events."""

    def __init__(self, store: SharedStore) -> None:
        self._store = store

    async def publish(self, event: dict[str, Any]) -> None:
        try:
            await self._store.publish(CONSOLE_CHANNEL, json.dumps(event, ensure_ascii=False))
        except StoreUnavailable as exc:  # sockets resync periodically
            log.warning("console event not published: %s", exc)

    async def if_watched(self, conversation_id: str) -> None:
        """A turn with the assistant: tell consoles reading along, if any."""
        try:
            watched = await self._store.get(watch_key(conversation_id)) is not None
        except StoreUnavailable:
            return
        if watched:
            await self.conversation_changed(conversation_id, "message")

    async def if_live_view(self, conversation_id: str) -> None:
        """A turn with the assistant: tell the supervisors' live views, if one is open."""
        try:
            shown = await self._store.get(LIVE_VIEW_KEY) is not None
        except StoreUnavailable:
            return
        if shown:
            await self.publish({"type": "activity", "conversation_id": conversation_id})

    async def queue_changed(self) -> None:
        await self.publish({"type": "queue"})

    async def conversation_changed(self, conversation_id: str, kind: str = "message") -> None:
        await self.publish(
            {"type": "conversation", "conversation_id": conversation_id, "kind": kind}
        )

    async def delivery(self, conversation_id: str, message: dict[str, Any]) -> None:
        """An agent's message was sent or failed (``message``: seq, request_id, delivery)."""
        await self.publish({"type": "delivery", "conversation_id": conversation_id, **message})

    async def claimed(self, conversation_id: str, by_id: int, by_name: str) -> None:
        await self.publish(
            {"type": "claimed", "conversation_id": conversation_id, "by_id": by_id, "by": by_name}
        )

    async def notice(self, user_id: int, text: str, conversation_id: str | None = None) -> None:
        await self.publish(
            {"type": "notice", "user_id": user_id, "text": text, "conversation_id": conversation_id}
        )

    async def presence_changed(self) -> None:
        await self.publish({"type": "presence"})
