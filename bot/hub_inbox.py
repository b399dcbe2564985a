"""Per-conversation ordering across replicas: the inbox and its drainer.

Every inbound message is appended to its conversation's inbox list in the
shared store (``inbox:<conversation id>``). Whichever replica takes the
conversation lock (``lock:conv:<conversation id>``, renewed while held)
processes the inbox in arrival order, one entry at a time; an entry leaves
the inbox only after it was processed, so a replica that dies mid-turn
leaves it for the next lock holder (after ``LOCK_TTL``). A replica that
finds the lock taken leaves the inbox to the holder, which looks at it
again after it lets go.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.hub_timing import INBOX_TTL, LOCK_TTL
from bot.store.base import SharedStore, StoreUnavailable

logger = logging.getLogger(__name__)


def inbox_key(conversation_id: str) -> str:
    return f"inbox:{conversation_id}"


def lock_key(conversation_id: str) -> str:
    return f"lock:conv:{conversation_id}"


class ConversationInbox:
    """The inboxes of every conversation, drained here one conversation at a time."""

    def __init__(self, store: SharedStore, process: Callable[[str], Awaitable[None]]) -> None:
        self.store = store
        #: Processes one raw inbox entry (under the conversation's lock).
        self._process = process
        #: Conversations to look at again; one drainer task per conversation.
        self._kicked: set[str] = set()
        self._drainers: dict[str, asyncio.Task[None]] = {}

    async def append(self, conversation_id: str, raw: str) -> int:
        """Queue one entry and make sure some task here tries to drain the inbox;
        the entry's place in line (1: the inbox was empty, nothing is processed
        before it)."""
        position = await self.store.rpush(inbox_key(conversation_id), raw, ttl=INBOX_TTL)
        self.kick(conversation_id)
        return position

    def kick(self, conversation_id: str) -> None:
        """Make sure some task of this replica tries to drain the inbox."""
        self._kicked.add(conversation_id)
        if conversation_id not in self._drainers:
            task = asyncio.create_task(self._drain(conversation_id))
            self._drainers[conversation_id] = task

    def drainers(self) -> list[asyncio.Task[None]]:
        """The running drainers (the hub cancels them when it closes; unfinished
        entries stay in the inbox for other replicas)."""
        return list(self._drainers.values())

    async def _drain(self, cid: str) -> None:
        try:
            while cid in self._kicked:
                self._kicked.discard(cid)
                if await self._drain_once(cid):
                    self._kicked.add(cid)
        except StoreUnavailable as exc:
            logger.warning("inbox drain stopped: %s", exc)
        except Exception as exc:
            logger.error("inbox drain failed: %s", type(exc).__name__)
        finally:
            self._drainers.pop(cid, None)

    async def _drain_once(self, cid: str) -> bool:
        """Hold the lock and process the inbox; true when entries remain after release."""
        held = await self.store.try_lock(lock_key(cid), LOCK_TTL)
        if held is None:
            return False  # the holder re-checks the inbox after it lets go
        async with held:
            while not held.lost:
                raw = await self.store.lindex(inbox_key(cid), 0)
                if raw is None:
                    break
                await self._process(raw)
                await self.store.lrem(inbox_key(cid), 1, raw)
        return await self.store.llen(inbox_key(cid)) > 0
