"""The hub's write-behind transcript: SQL writes kept off the citizen's wait.

- Who writes a citizen's message, and when, follows its place in the
  conversation's inbox (bot/hub_inbox.py), so that the transcript records a
  conversation's messages in exactly the order they are answered, each
  message's replies right after it. Two replicas writing on arrival could
  record A, B while the inbox served B, A (a same-sender burst sent to two
  front doors: 33 of 100 rounds, tests/faults/test_bursts.py).

  - A message that found its inbox empty (first in line: nothing of the
    conversation is being processed, and everything after it waits for its
    turn) is written by the receiving replica at once, in the background
    while Rasa works on it (:meth:`WriteBehindTranscript.write_inbound`),
    and marked written in the store (``inbound:<channel>:<sender>:<id>``).
  - A message queued behind others is written by the replica that
    processes it, under the conversation lock, after the replies of the
    message before it, again while Rasa works on it (:meth:`inbound_entry`).

  Both claim the write first (``inbound-writer:<channel>:<sender>:<id>``),
  so it happens once. The processing replica writes the replies only after
  the inbound entry: its own write task, or the marker of the receiving
  replica, or, when that replica died between its claim and its write, the
  entry itself. Nothing is lost when a front door dies after accepting: the
  message stays in the inbox until it is answered and written.
- The replies are written after a caller waiting here got them; until then
  the conversation is *settling* on this replica (:meth:`settling`):
  history reads and pushes of it wait (:meth:`settled`), so this replica
  never shows a transcript without the replies it just sent.

Why and what it buys: bot/hub_timing.py, trick 1.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence

from bot.hub_results import message_key
from bot.hub_routing import Router
from bot.hub_timing import (
    INBOUND_POLL,
    INBOUND_TASK_KEPT,
    INBOUND_WAIT,
    INBOUND_WRITE_YIELDS,
    RESULT_TTL,
    yield_loop,
)
from bot.messages import InboundMessage, OutboundMessage
from bot.store.base import SharedStore, StoreUnavailable

logger = logging.getLogger(__name__)


class Settling:
    """One message's replies being written on this replica
    (see :meth:`WriteBehindTranscript.settling`)."""

    def __init__(self, owner: WriteBehindTranscript, key: str, conversation_id: str) -> None:
        self._owner = owner
        self._key = key
        self._cid = conversation_id
        self.written = asyncio.Event()

    def begin(self) -> None:
        """From now until :meth:`end`, reads and pushes of the conversation wait."""
        self._owner._written[self._key] = self.written
        self._owner._settling[self._cid] = self.written

    def end(self) -> None:
        """The replies are written (or will not be): let the waiters go."""
        self.written.set()
        owner = self._owner
        owner._written.pop(self._key, None)
        if owner._settling.get(self._cid) is self.written:
            del owner._settling[self._cid]


class WriteBehindTranscript:
    """Transcript writes of the hub, ordered, and the waits that keep reads whole."""

    def __init__(self, store: SharedStore, router: Router) -> None:
        self.store = store
        self.router = router
        #: How long to wait for another replica's inbound write (tests shorten it).
        self.inbound_wait = INBOUND_WAIT
        #: Inbound transcript writes in flight on this replica, by result key.
        self._inbound: dict[str, asyncio.Task[None]] = {}
        #: Replies being written, by result key (pending pushes wait for them) ...
        self._written: dict[str, asyncio.Event] = {}
        #: ... and the same events by conversation (reads and pushes wait for them).
        self._settling: dict[str, asyncio.Event] = {}

    # --- the inbound entry ---------------------------------------------------
    def write_inbound(self, msg: InboundMessage) -> asyncio.Task[None]:
        """The receiving replica, for a message that found its inbox empty:
        claim the write and write the entry in the background, then mark it
        written (see the module doc)."""
        key = message_key("result", msg)

        async def write() -> None:
            await yield_loop(INBOUND_WRITE_YIELDS)  # the request to Rasa leaves first
            try:
                mine = await self.store.claim(message_key("inbound-writer", msg), RESULT_TTL)
            except StoreUnavailable:
                mine = True  # nobody can process it meanwhile: keep the citizen's words
            if not mine:  # the processing replica took it (it writes it)
                self._inbound.pop(key, None)
                return
            await self.router.transcribe_in(msg)  # logs and goes on should the database fail
            try:
                await self.store.set(message_key("inbound", msg), "1", RESULT_TTL)
            except StoreUnavailable as exc:
                # Keep the finished task a while: this replica's own processing
                # then needs no marker; another replica would write the entry.
                logger.warning("inbound marker not stored: %s", exc)
                loop = asyncio.get_running_loop()
                loop.call_later(INBOUND_TASK_KEPT, self._inbound.pop, key, None)
                return
            self._inbound.pop(key, None)

        task = asyncio.create_task(write())
        self._inbound[key] = task
        return task

    def inbound_entry(self, msg: InboundMessage) -> Awaitable[None]:
        """The processing replica: done when the message's inbound entry is in
        the transcript; writes it when the receiving replica did not claim it."""
        own = self._inbound.get(message_key("result", msg))
        if own is not None:  # written by this replica on arrival: no extra task
            return asyncio.shield(own)
        return asyncio.create_task(self.inbound_written(msg))

    async def inbound_written(self, msg: InboundMessage) -> None:
        """Until the message's inbound entry is in the transcript (see module doc)."""
        task = self._inbound.get(message_key("result", msg))
        if task is not None:
            await asyncio.shield(task)
            return
        if await self.store.claim(message_key("inbound-writer", msg), RESULT_TTL):
            # Queued behind others (or its receiver never got to claim it):
            # written now, under the conversation lock, after the replies before it.
            await self.router.transcribe_in(msg)
            try:  # for a replica that takes this turn over should this one die
                await self.store.set(message_key("inbound", msg), "1", RESULT_TTL)
            except StoreUnavailable as exc:
                logger.warning("inbound marker not stored: %s", exc)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.inbound_wait
        while loop.time() < deadline:
            if await self.store.get(message_key("inbound", msg)) is not None:
                return
            await asyncio.sleep(INBOUND_POLL)
        # The receiving replica died between its claim and its write: keep the citizen's words.
        logger.warning("inbound %s entry written by the processing replica", msg.channel)
        await self.router.transcribe_in(msg)

    # --- the replies -------------------------------------------------------------
    def settling(self, key: str, conversation_id: str) -> Settling:
        """The replies of result ``key``, to be written on this replica."""
        return Settling(self, key, conversation_id)

    async def write_replies(
        self, conversation_id: str, replies: Sequence[OutboundMessage], message_id: str | None
    ) -> None:
        await self.router.transcribe_out(conversation_id, replies, message_id)

    async def settled(self, conversation_id: str) -> None:
        """Until this replica has written the replies it just produced for it."""
        settling = self._settling.get(conversation_id)
        if settling is not None:
            await settling.wait()

    async def replies_written(self, key: str) -> None:
        """Until the replies of result ``key`` are written, if they are being written here."""
        written = self._written.get(key)
        if written is not None:
            await written.wait()
