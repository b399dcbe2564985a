"""The conversation hub: every channel hands its inbound messages to it.

One message: dedupe by (channel, message id), transcript, then serial
processing per conversation across replicas. The message is appended to the
conversation's inbox list in the shared store; whichever replica takes the
conversation lock drains the inbox in arrival order, routes each message
(bot/hub_routing.py), stores the result under ``result:<channel>:<id>`` and
announces it on pub/sub. The replica that received the message waits for
that result (pub/sub, with a polling fallback that also takes over the
inbox of a crashed replica once its lock expires).

Delivery is exactly once: the handler returning the replies and the push
path (``channel.send``) both claim ``delivered:<channel>:<id>`` first.
An entry leaves the inbox only after its result is stored, so a replica
that dies mid-turn leaves it for the next lock holder.

Transcript writes are kept off the citizen's wait where that loses nothing
(docs/benchmark.md measured each SQLite write at 1-2 ms of a 30 ms turn):

- the inbound entry is written while Rasa works on the message; the
  replies are written only after it (same replica: its own write task;
  another replica: the ``inbound:`` marker in the store), and an agent sees
  the message only after it is written;
- a caller waiting on this replica gets the result as soon as it exists;
  the replies are then written, and only after that is the result stored
  for other replicas, pushed (the web widget reads its replies from the
  transcript) and the inbox entry removed. A replica that dies in between
  leaves the entry in the inbox, as before.

Inbox entries and results hold the citizen's words and the replies as they
are: both are encrypted in the store with the data key ring (see
bot/store/sealed.py for why encrypted rather than masked or deleted sooner).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from bot.aio import cancel_and_wait
from bot.config import Settings
from bot.db.crypto import Cipher, DataKeyError
from bot.hub_routing import (
    BUSY_TEXT,
    HANDOFF_ACK_TEXT,
    DataLayer,
    HandleResult,
    Router,
    busy_result,
)
from bot.messages import InboundMessage, OutboundMessage
from bot.rasa_client import RasaClient
from bot.store.base import SharedStore, StoreUnavailable
from bot.store.sealed import InProcessValues, Sealer, ValueSealer
from channels.base import Channel, Delivery

logger = logging.getLogger(__name__)

__all__ = ["BUSY_TEXT", "HANDOFF_ACK_TEXT", "HandleResult", "Hub"]

DEDUPE_TTL = 24 * 3600.0
INBOX_TTL = 24 * 3600.0
RESULT_TTL = 3600.0
LOCK_TTL = 10.0  # renewed every LOCK_TTL/3 while a replica works on the inbox
POLL_INTERVAL = 0.5
DELIVER_WINDOW = 600.0  # how long a pending reply may still be pushed
RESULTS_CHANNEL = "hub:results"
#: How long a replica processing a message received by another replica waits
#: for that replica's inbound transcript write before writing it itself.
INBOUND_WAIT = 5.0
INBOUND_POLL = 0.05
#: Loop iterations a waiting caller needs to wake up and send its answer
#: (event -> the handler), plus one.
ANSWER_YIELDS = 2
#: Loop iterations the inbound transcript write waits before it starts, so
#: that the request to Rasa leaves first (the drainer's first step, then
#: aiohttp's task that sends the request): the write takes the loop for a
#: fraction of a millisecond, while Rasa works for tens of milliseconds.
INBOUND_WRITE_YIELDS = 2

#: A hook that may answer a message itself (e.g. a ticket rating button) before
#: it is routed to Rasa or an agent; ``None`` lets it through. Runs under the
#: conversation lock, so it is serial with the conversation's other messages.
Interceptor = Callable[[InboundMessage], Awaitable["HandleResult | None"]]


def _key(kind: str, msg: InboundMessage) -> str:
    # Scoped to the sender: message ids are only unique per sender on the REST
    # channel (and a widget's client-made ids), so sender B's id 7 is not
    # dropped as a duplicate of sender A's id 7.
    return f"{kind}:{msg.channel}:{msg.channel_user_id}:{msg.message_id}"


def inbox_key(conversation_id: str) -> str:
    return f"inbox:{conversation_id}"


def lock_key(conversation_id: str) -> str:
    return f"lock:conv:{conversation_id}"


class Hub:
    """Dedupe, order, route and deliver the messages of every channel."""

    def __init__(
        self,
        store: SharedStore,
        db: DataLayer,
        rasa: RasaClient,
        settings: Settings,
        cipher: Cipher | None = None,
    ) -> None:
        self.store = store
        #: Encrypts store values that hold message text (default: the database's
        #: keys); a store that never leaves this process keeps them as they are.
        self.sealer: ValueSealer = (
            InProcessValues() if store.in_process else Sealer(cipher or (lambda: db.cipher))
        )
        self.db = db
        self.rasa = rasa
        self.settings = settings
        self.router = Router(store, db, rasa, settings)
        self.channels: dict[str, Channel] = {}
        self.interceptors: list[Interceptor] = []
        #: Upper bound of ``wait=None``: a few Rasa turns queued ahead, plus a lock expiry.
        self.max_wait = max(60.0, 3 * settings.rasa_timeout + LOCK_TTL)
        self._events: dict[str, asyncio.Event] = {}
        #: Result keys whose caller waits to answer in place (not a later push).
        self._answering: set[str] = set()
        #: Inbound transcript writes in flight on this replica, by message key.
        self._inbound: dict[str, asyncio.Task[None]] = {}
        #: Results produced here whose replies are still being written.
        self._fresh: dict[str, HandleResult] = {}
        self._written: dict[str, asyncio.Event] = {}
        #: The same events by conversation: reads and pushes wait for them, so
        #: this replica never shows a transcript without the replies just sent.
        self._settling: dict[str, asyncio.Event] = {}
        self._kicked: set[str] = set()
        self._drainers: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------
    def register_channel(self, channel: Channel) -> None:
        self.channels[channel.name] = channel

    def add_interceptor(self, interceptor: Interceptor) -> None:
        """Let ``interceptor`` answer messages before routing (see :data:`Interceptor`)."""
        self.interceptors.append(interceptor)

    async def start(self) -> None:
        """Listen for results finished by other replicas."""
        self._listener = asyncio.create_task(self._listen(), name="hub-results")

    async def close(self) -> None:
        """Stop background work; unfinished inbox entries stay for other replicas."""
        tasks = [*self._drainers.values(), *self._tasks]
        if self._listener is not None:
            tasks.append(self._listener)
        await cancel_and_wait(tasks)
        await self.router.flush()

    # --- public interface -----------------------------------------------------
    async def handle(self, msg: InboundMessage, wait: float | None = None) -> HandleResult:
        """Take one inbound message; see docs/interfaces.md for ``wait``.

        Raises StoreUnavailable only when the store is down before anything
        was recorded (the caller answers 503 and the client may retry); a
        store failure after that gives the polite busy reply.
        """
        if not await self.store.claim(_key("dedupe", msg), DEDUPE_TTL):
            logger.info("duplicate %s message dropped", msg.channel)
            return HandleResult([], "duplicate")
        # A citizen may answer within a millisecond of our reply (a script
        # does): the replies of the previous turn go into the transcript first.
        await self._settled(msg.conversation_id)
        inbound = self._write_inbound(msg)
        try:
            result = await self._enqueue_and_wait(msg, wait)
        except StoreUnavailable as exc:
            logger.warning("store failed while handling a %s message: %s", msg.channel, exc)
            result = busy_result()
            await inbound
            await self.router.transcribe_out(msg.conversation_id, result.replies, msg.message_id)
            return result
        if wait is not None and wait <= 0:
            await inbound  # the caller shows the citizen's own entry next (web widget)
        return result

    def _write_inbound(self, msg: InboundMessage) -> asyncio.Task[None]:
        """Write the inbound entry in the background, then mark it written."""
        key = _key("result", msg)

        async def write() -> None:
            for _ in range(INBOUND_WRITE_YIELDS):
                await asyncio.sleep(0)
            await self.router.transcribe_in(msg)  # logs and goes on should the database fail
            try:
                await self.store.set(_key("inbound", msg), "1", RESULT_TTL)
            except StoreUnavailable as exc:
                # Keep the finished task a while: this replica's own processing
                # then needs no marker; another replica would write the entry.
                logger.warning("inbound marker not stored: %s", exc)
                asyncio.get_running_loop().call_later(60.0, self._inbound.pop, key, None)
                return
            self._inbound.pop(key, None)

        task = asyncio.create_task(write())
        self._inbound[key] = task
        return task

    async def _inbound_written(self, msg: InboundMessage) -> None:
        """Until the message's inbound entry is in the transcript (see module doc)."""
        task = self._inbound.get(_key("result", msg))
        if task is not None:
            await asyncio.shield(task)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + INBOUND_WAIT
        while loop.time() < deadline:
            if await self.store.get(_key("inbound", msg)) is not None:
                return
            await asyncio.sleep(INBOUND_POLL)
        # The receiving replica died before writing it: keep the citizen's words.
        logger.warning("inbound %s entry written by the processing replica", msg.channel)
        await self.router.transcribe_in(msg)

    async def push(self, conversation_id: str, messages: Sequence[OutboundMessage]) -> None:
        """Transcript out, then deliver through the conversation's channel."""
        await self._settled(conversation_id)
        await self.router.transcribe_out(conversation_id, messages, None)
        await self._send(conversation_id, messages)

    async def deliver(self, conversation_id: str, messages: Sequence[OutboundMessage]) -> Delivery:
        """Deliver messages already in the transcript; the outcome (never raises
        for the channel's refusal or failure): the console's delivery state."""
        await self._settled(conversation_id)
        channel_name, user_id = conversation_id.split(":", 1)
        channel = self.channels.get(channel_name)
        if channel is None:
            return Delivery(False, "no_channel")
        try:
            return await channel.deliver(user_id, messages)
        except StoreUnavailable:
            return Delivery(False, "store_unavailable")
        except Exception as exc:
            logger.error("delivery to %s failed: %s", channel_name, type(exc).__name__)
            return Delivery(False, "error")

    async def history(
        self, conversation_id: str, limit: int = 200, after_seq: int | None = None
    ) -> list[Any]:
        """The conversation's transcript entries, oldest first."""
        await self._settled(conversation_id)
        return await self.db.transcripts.history(conversation_id, limit=limit, after_seq=after_seq)

    async def conversation_state(self, conversation_id: str) -> str:
        """``bot`` | ``queued`` | ``with_agent`` | ``closed``."""
        return await self.router.state(conversation_id)

    async def set_conversation_state(self, conversation_id: str, state: str) -> None:
        await self.router.set_state(conversation_id, state)

    async def _settled(self, conversation_id: str) -> None:
        """Until this replica has written the replies it just produced for it."""
        settling = self._settling.get(conversation_id)
        if settling is not None:
            await settling.wait()

    def wake(self, conversation_id: str) -> None:
        """Drain the conversation's inbox now (after someone else held its lock)."""
        self._kick(conversation_id)

    # --- inbound path ---------------------------------------------------------
    async def _enqueue_and_wait(self, msg: InboundMessage, wait: float | None) -> HandleResult:
        deliver_after = None if wait is None else time.time() + wait
        entry = {"message": msg.to_dict(), "deliver_after": deliver_after}
        raw = self.sealer.seal(json.dumps(entry, ensure_ascii=False, default=str))
        await self.store.rpush(inbox_key(msg.conversation_id), raw, ttl=INBOX_TTL)
        self._kick(msg.conversation_id)
        if wait is not None and wait <= 0:
            self._spawn(self._deliver_later(msg))
            return HandleResult([], "pending")
        key = _key("result", msg)
        self._answering.add(key)
        try:
            result = await self._await_result(msg, self.max_wait if wait is None else wait)
        finally:
            self._answering.discard(key)
        if result is None:
            if wait is None:
                logger.warning(
                    "no result within %.0fs for a %s message", self.max_wait, msg.channel
                )
                result = busy_result()
                await self.router.transcribe_out(msg.conversation_id, result.replies, None)
                return result
            self._spawn(self._deliver_later(msg))
            return HandleResult([], "pending")
        if await self.store.claim(_key("delivered", msg), RESULT_TTL):
            return result
        return HandleResult([], "pending")  # the processing replica pushed it already

    async def _await_result(self, msg: InboundMessage, timeout: float) -> HandleResult | None:
        key = _key("result", msg)
        event = self._events.setdefault(key, asyncio.Event())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        timed_out = False

        def poll() -> None:
            nonlocal timed_out
            timed_out = True
            event.set()

        try:
            while True:
                fresh = self._fresh.get(key)
                if fresh is not None:
                    return fresh
                stored = self._result(await self.store.get(key))
                if stored is not None:
                    return stored
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return None
                # A timer instead of asyncio.wait_for: no extra task, and the
                # caller wakes one loop iteration after the result is announced.
                timer = loop.call_later(min(remaining, POLL_INTERVAL), poll)
                try:
                    await event.wait()
                finally:
                    timer.cancel()
                # Re-armed before the checks above run again: an announced
                # result that then vanished (its replica stopped before
                # storing it) must not make this loop spin.
                event.clear()
                if timed_out:
                    timed_out = False
                    self._kick(msg.conversation_id)  # take over if the lock holder died
        finally:
            if self._events.get(key) is event:
                del self._events[key]

    async def _deliver_later(self, msg: InboundMessage) -> None:
        try:
            result = await self._await_result(msg, DELIVER_WINDOW)
            if result is None:
                logger.warning("gave up delivering a pending %s reply", msg.channel)
                return
            written = self._written.get(_key("result", msg))
            if written is not None:  # pushes may read the transcript (web widget)
                await written.wait()
            await self._deliver_once(msg, result)
        except StoreUnavailable as exc:
            logger.warning("pending %s reply not delivered: %s", msg.channel, exc)

    async def _deliver_once(self, msg: InboundMessage, result: HandleResult) -> None:
        if not await self.store.claim(_key("delivered", msg), RESULT_TTL):
            return
        try:
            await self._send(msg.conversation_id, result.replies)
        except Exception as exc:  # the channel's API failed; the transcript keeps the reply
            logger.error("push to %s failed: %s", msg.channel, type(exc).__name__)

    async def _send(self, conversation_id: str, messages: Sequence[OutboundMessage]) -> None:
        if not messages:
            return
        channel_name, user_id = conversation_id.split(":", 1)
        channel = self.channels.get(channel_name)
        if channel is None:
            logger.warning(
                "no channel %r registered; %d replies not sent", channel_name, len(messages)
            )
            return
        await channel.send(user_id, messages)

    # --- serial processing ----------------------------------------------------
    def _kick(self, conversation_id: str) -> None:
        """Make sure some task of this replica tries to drain the inbox."""
        self._kicked.add(conversation_id)
        if conversation_id not in self._drainers:
            task = asyncio.create_task(self._drain(conversation_id))
            self._drainers[conversation_id] = task

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
                await self._process_entry(raw)
                await self.store.lrem(inbox_key(cid), 1, raw)
        return await self.store.llen(inbox_key(cid)) > 0

    async def _process_entry(self, raw: str) -> None:
        try:
            entry = json.loads(self.sealer.unseal(raw))
            msg = InboundMessage.from_dict(entry["message"])
            deliver_after = entry.get("deliver_after")
        except DataKeyError:
            logger.error("dropping an inbox entry that the data keys cannot decrypt")
            return
        except (ValueError, KeyError, TypeError):
            logger.error("dropping a malformed inbox entry")
            return
        key = _key("result", msg)
        # set when a dead replica got this far
        stored: HandleResult | None = self._result(await self.store.get(key))
        if stored is not None:
            result = stored
        else:
            written = asyncio.Event()
            try:
                own = self._inbound.get(key)  # written by this replica: no extra task
                inbound: Awaitable[None] = (
                    asyncio.shield(own)
                    if own is not None
                    else asyncio.create_task(self._inbound_written(msg))
                )
                try:
                    result = await self._route(msg, inbound)
                    # Written long before Rasa answers, as a rule; the next
                    # message's entry must not overtake it.
                    await inbound
                    # From here until the replies are written, reads and pushes
                    # of this conversation on this replica wait for them.
                    self._written[key] = self._settling[msg.conversation_id] = written
                    self._fresh[key] = result
                    event = self._events.get(key)
                    if event is not None:
                        event.set()
                    if key in self._answering:  # a caller waiting here answers now,
                        for _ in range(ANSWER_YIELDS):  # before the writes take the loop
                            await asyncio.sleep(0)
                    # A push waits for the replies to be written anyway: no yield.
                finally:
                    await inbound
                await self.router.transcribe_out(
                    msg.conversation_id, result.replies, msg.message_id
                )
                await self.store.set(key, self.sealer.seal(result.to_json()), RESULT_TTL)
            finally:
                written.set()
                self._written.pop(key, None)
                self._fresh.pop(key, None)
                if self._settling.get(msg.conversation_id) is written:
                    del self._settling[msg.conversation_id]
        await self._announce(key)
        if deliver_after is not None and time.time() >= float(deliver_after):
            await self._deliver_once(msg, result)

    def _result(self, raw: str | None) -> HandleResult | None:
        """A stored result, decrypted; None when missing or unreadable."""
        if raw is None:
            return None
        try:
            return HandleResult.from_json(self.sealer.unseal(raw))
        except DataKeyError:
            logger.error("a stored result cannot be decrypted with the data keys")
        except (ValueError, KeyError, TypeError):
            logger.error("a stored result is malformed")
        return None

    async def _route(self, msg: InboundMessage, inbound: Awaitable[None]) -> HandleResult:
        try:
            for intercept in self.interceptors:
                answered = await intercept(msg)
                if answered is not None:
                    return answered
            return await self.router.route(msg, inbound)
        except StoreUnavailable:
            raise
        except Exception as exc:  # a bug must not leave the citizen without an answer
            logger.error("routing a %s message failed: %s", msg.channel, type(exc).__name__)
            return busy_result()

    async def _announce(self, key: str) -> None:
        event = self._events.get(key)
        if event is not None:
            event.set()
        await self.store.publish(RESULTS_CHANNEL, key)

    async def _listen(self) -> None:
        while True:
            try:
                async with self.store.subscribe(RESULTS_CHANNEL) as results:
                    async for key in results:
                        event = self._events.get(key)
                        if event is not None:
                            event.set()
            except StoreUnavailable as exc:
                logger.warning("results subscription lost: %s", exc)
                await asyncio.sleep(1.0)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
