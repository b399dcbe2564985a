"""The conversation hub: every channel hands its inbound messages to it.

What it is: per-conversation ordering across replicas, with a write-behind
transcript, and exactly-once delivery of each message's replies in the mode
the channel asked for (:class:`~bot.inbound.DeliveryMode`). The class
:class:`Hub` is a composition of three collaborators, one job each:

- :class:`~bot.hub_inbox.ConversationInbox` (bot/hub_inbox.py): ordering.
  One message: dedupe by (channel, sender, message id), then appended to
  the conversation's inbox list in the shared store; whichever replica
  takes the conversation lock drains the inbox in arrival order, routes
  each message (bot/hub_routing.py), stores the result under
  ``result:<channel>:<sender>:<id>`` and announces it on pub/sub.
- :class:`~bot.hub_results.ResultBoard` (bot/hub_results.py): the replica
  that received the message waits there for that result (pub/sub, with a
  polling fallback that also takes over the inbox of a crashed replica once
  its lock expires).
- :class:`~bot.hub_transcript.WriteBehindTranscript` (bot/hub_transcript.py):
  the transcript writes, kept off the citizen's wait where that loses nothing.

Guarantees:

- **Exactly-once delivery.** The caller answering in place and the push
  path (``channel.send``) both claim ``delivered:<channel>:<sender>:<id>``
  first; a duplicate message (a retry) is dropped before anything is
  recorded, so its replies are never sent twice.
- **Ordering across replicas.** A conversation's messages are processed
  one at a time in arrival order by the lock holder, whichever replica
  received them; the transcript records them in exactly that order, each
  message's replies before the next message's entry (who writes a message's
  entry follows its place in the inbox: bot/hub_transcript.py).
- **Crash takeover.** An entry leaves the inbox only after its result is
  stored, so a replica that dies mid-turn leaves it for the next lock holder
  (a waiting caller's poll kicks the inbox once the lock expired); a result
  stored by a dead replica is reused, never recomputed; a citizen's words
  the receiving replica did not write are written by the processing one.
- **Whole transcripts.** The inbound entry is written while Rasa works on
  the message (by the receiving replica when the message was first in line,
  else by the processing one); the replies are written only after it (same replica: its own
  write task; another replica: the ``inbound:`` marker in the store), and an
  agent sees the message only after it is written. A caller waiting on this
  replica gets the result as soon as it exists; the replies are then
  written, and only after that is the result stored for other replicas,
  pushed (the web widget reads its replies from the transcript) and the
  inbox entry removed. Reads and pushes of a conversation on this replica
  wait for its replies being written. Why: bot/hub_timing.py (with every
  time bound and speed trick of the hub and its measured figure).

Inbox entries and results hold the citizen's words and the replies as they
are: both are encrypted in the store with the data key ring (see
bot/store/sealed.py for why encrypted rather than masked or deleted sooner).

Channels never get the hub: they get :attr:`Hub.inbound`, the
:class:`~bot.inbound.InboundPort` (bot/inbound.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from bot.aio import cancel_and_wait
from bot.config import Settings
from bot.conversations import Conversations, ConversationState
from bot.db.crypto import Cipher, DataKeyError
from bot.emergency import EmergencyBoard
from bot.feedback import record_answer_feedback
from bot.hub_inbox import ConversationInbox, inbox_key, lock_key
from bot.hub_results import ResultBoard, message_key
from bot.hub_routing import (
    AGENTS_CHANNEL,
    HANDOFF_ACK_TEXT,
    DataLayer,
    HandleResult,
    RouteHooks,
    Router,
    busy_result,
)
from bot.hub_timing import (
    ANSWER_YIELDS,
    DEDUPE_TTL,
    DELIVER_WINDOW,
    LOCK_TTL,
    RESULT_TTL,
    STORE_RETRY,
    max_wait,
    yield_loop,
)
from bot.hub_transcript import WriteBehindTranscript
from bot.inbound import ChannelStore, DeliveryMode
from bot.messages import BUSY_TEXT, InboundMessage, OutboundMessage, TicketNotice
from bot.rasa_client import RasaApi
from bot.store.base import HeldLock, SharedStore, StoreUnavailable
from bot.store.sealed import InProcessValues, Sealer, ValueSealer
from channels.base import Channel, Delivery

logger = logging.getLogger(__name__)

__all__ = [
    "BUSY_TEXT",
    "HANDOFF_ACK_TEXT",
    "LOCK_TTL",
    "DeliveryMode",
    "HandleResult",
    "Hub",
    "HubInbound",
    "inbox_key",
    "lock_key",
]

#: Seconds: a citizen's "typing" reaches the agent's console at most this often.
CITIZEN_TYPING_EVERY = 2.0

#: A hook that may answer a message itself (e.g. a ticket rating button) before
#: it is routed to Rasa or an agent; ``None`` lets it through. Runs under the
#: conversation lock, so it is serial with the conversation's other messages.
Interceptor = Callable[[InboundMessage], Awaitable["HandleResult | None"]]


class Hub:
    """Dedupe, order, route and deliver the messages of every channel."""

    def __init__(
        self,
        store: SharedStore,
        db: DataLayer,
        rasa: RasaApi,
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
        #: The bound of ``DeliveryMode.ANSWER_IN_PLACE`` (bot/hub_timing.py).
        self.max_wait = max_wait(settings.rasa_timeout)
        self.inbox = ConversationInbox(store, self._process_entry)
        self.results = ResultBoard(store, self.sealer, on_poll=self.inbox.kick)
        self.transcript = WriteBehindTranscript(store, self.router)
        #: What channels get instead of the hub.
        self.inbound = HubInbound(self)
        self._tasks: set[asyncio.Task[None]] = set()  # pending pushes
        self._listener: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------
    def register_channel(self, channel: Channel) -> None:
        self.channels[channel.name] = channel

    def add_interceptor(self, interceptor: Interceptor) -> None:
        """Let ``interceptor`` answer messages before routing (see :data:`Interceptor`)."""
        self.interceptors.append(interceptor)

    async def start(self) -> None:
        """Listen for results finished by other replicas."""
        self._listener = asyncio.create_task(self.results.listen(), name="hub-results")

    async def close(self) -> None:
        """Stop background work; unfinished inbox entries stay for other replicas."""
        tasks = [*self.inbox.drainers(), *self._tasks]
        if self._listener is not None:
            tasks.append(self._listener)
        await cancel_and_wait(tasks)
        await self.router.flush()

    # --- public interface -----------------------------------------------------
    async def handle(
        self, msg: InboundMessage, mode: DeliveryMode = DeliveryMode.ANSWER_IN_PLACE
    ) -> HandleResult:
        """Take one inbound message; ``mode`` says how its replies reach the
        citizen (see :class:`~bot.inbound.DeliveryMode` and docs/interfaces.md).

        Raises StoreUnavailable only when the store is down before anything
        was recorded (the caller answers 503 and the client may retry); a
        store failure after that gives the polite busy reply.
        """
        if not await self.store.claim(message_key("dedupe", msg), DEDUPE_TTL):
            logger.info("duplicate %s message dropped", msg.channel)
            # The first copy may sit in the inbox of a replica that died before
            # its turn (a sender resends because nothing came back): waiting
            # for its result polls that inbox, so this replica drains it once
            # the dead replica's lock expired; a push channel then gets the
            # replies, once (the "delivered" claim).
            if mode.push_later:
                self._spawn(self._deliver_later(msg))
                return HandleResult([], "duplicate")
            return await self._replay(msg)
        # A citizen may answer within a millisecond of our reply (a script
        # does): the replies of the previous turn go into the transcript first.
        await self.transcript.settled(msg.conversation_id)
        position: int | None = None
        inbound: asyncio.Task[None] | None = None
        try:
            position = await self._enqueue(msg, mode)
            if position == 1:  # first in line: written now (see bot/hub_transcript.py)
                inbound = self.transcript.write_inbound(msg)
            result = await self._wait_for(msg, mode)
        except StoreUnavailable as exc:
            logger.warning("store failed while handling a %s message: %s", msg.channel, exc)
            result = busy_result()
            if inbound is not None:
                await inbound
            elif position is None:  # not in the inbox: nobody else will write it
                await self.router.transcribe_in(msg)
            await self.transcript.write_replies(msg.conversation_id, result.replies, msg.message_id)
            return result
        if mode.pushes_only and inbound is not None:
            await inbound  # the caller shows the citizen's own entry next (web widget)
        return result

    async def push(self, conversation_id: str, messages: Sequence[OutboundMessage]) -> None:
        """Transcript out, then deliver through the conversation's channel."""
        await self.transcript.settled(conversation_id)
        await self.router.transcribe_out(conversation_id, messages, None)
        await self._send(conversation_id, messages)

    async def deliver(self, conversation_id: str, messages: Sequence[OutboundMessage]) -> Delivery:
        """Deliver messages already in the transcript; the outcome (never raises
        for the channel's refusal or failure): the console's delivery state."""
        await self.transcript.settled(conversation_id)
        return await self._deliver(conversation_id, lambda c, user: c.deliver(user, messages))

    async def notify(
        self, conversation_id: str, messages: Sequence[OutboundMessage], notice: TicketNotice
    ) -> Delivery:
        """A ticket notice: transcript out, then the channel's ``deliver_notice``
        (WeChat falls back to a template message outside its 48-hour window).
        The outcome; never raises for the channel's refusal or failure."""
        await self.transcript.settled(conversation_id)
        await self.router.transcribe_out(conversation_id, messages, None)
        return await self._deliver(
            conversation_id, lambda c, user: c.deliver_notice(user, messages, notice)
        )

    async def _deliver(
        self, conversation_id: str, send: Callable[[Channel, str], Awaitable[Delivery]]
    ) -> Delivery:
        channel_name, user_id = conversation_id.split(":", 1)
        channel = self.channels.get(channel_name)
        if channel is None:
            return Delivery(False, "no_channel")
        try:
            return await send(channel, user_id)
        except StoreUnavailable:
            return Delivery(False, "store_unavailable")
        except Exception as exc:
            logger.error("delivery to %s failed: %s", channel_name, type(exc).__name__)
            return Delivery(False, "error")

    async def typing(self, conversation_id: str, on: bool) -> None:
        """Show (or stop showing) the citizen that the agent is typing, on the
        conversation's channel; best effort: a failure is logged, never raised."""
        channel_name, user_id = conversation_id.split(":", 1)
        channel = self.channels.get(channel_name)
        if channel is None:
            return
        try:
            await channel.typing(user_id, on)
        except Exception as exc:
            logger.info("typing on %s not shown: %s", channel_name, type(exc).__name__)

    async def citizen_typing(self, conversation_id: str, on: bool) -> bool:
        """The citizen is typing (or stopped): to the consoles, only while an agent
        holds the conversation (False otherwise). An "on" goes out at most every
        :data:`CITIZEN_TYPING_EVERY` seconds per conversation (on all replicas);
        an "off" always, and the next "on" right after it. Not a message: never
        routed to Rasa, never in the transcript."""
        if await self.conversation_state(conversation_id) is not ConversationState.WITH_AGENT:
            return False
        gap = f"typing:{conversation_id}"
        if on and not await self.store.claim(gap, CITIZEN_TYPING_EVERY):
            return True  # told less than CITIZEN_TYPING_EVERY seconds ago
        if not on:
            await self.store.delete(gap)
        event = {"type": "typing", "conversation_id": conversation_id, "by": "citizen", "on": on}
        await self.store.publish(AGENTS_CHANNEL, json.dumps(event))
        return True

    async def history(
        self, conversation_id: str, limit: int = 200, after_seq: int | None = None
    ) -> list[Any]:
        """The conversation's transcript entries, oldest first."""
        await self.transcript.settled(conversation_id)
        return await self.db.transcripts.history(conversation_id, limit=limit, after_seq=after_seq)

    @property
    def conversations(self) -> Conversations:
        """The owner of every conversation's state (bot/conversations.py)."""
        return self.router.conversations

    async def conversation_state(self, conversation_id: str) -> ConversationState:
        """``bot`` | ``queued`` | ``with_agent`` | ``closed`` (a ``str`` enum)."""
        return await self.router.conversations.state(conversation_id)

    async def set_conversation_state(
        self, conversation_id: str, state: ConversationState | str
    ) -> None:
        """Set the bare state (tests, operators): see ``Conversations.force``."""
        await self.router.conversations.force(conversation_id, state)

    def conversation_lock(
        self, conversation_id: str, timeout: float
    ) -> AbstractAsyncContextManager[HeldLock]:
        """Hold the conversation's processing lock (the one this hub's inbox
        drain takes), waiting at most ``timeout`` seconds (then
        ``bot.store.base.LockTimeout``): nothing of the conversation is routed
        meanwhile. Call :meth:`wake` after it: messages may have arrived."""
        return self.store.lock(lock_key(conversation_id), LOCK_TTL, timeout=timeout)

    def wake(self, conversation_id: str) -> None:
        """Drain the conversation's inbox now (after someone else held its lock)."""
        self.inbox.kick(conversation_id)

    # --- the console's seam (bot/console/conversations.py uses only these) -----
    def install_hooks(self, hooks: RouteHooks) -> None:
        """The front door's handling around routing (the console's handoff hooks)."""
        self.router.hooks = hooks

    @property
    def emergency(self) -> EmergencyBoard:
        """The emergency switch's board (bot/emergency): the mode every replica follows."""
        return self.router.emergency

    def queue_score(self, priority: str, queued_at: float, reason: str) -> float:
        """A handoff queue entry's place with this replica's head starts."""
        return self.router.score(priority, queued_at, reason)

    async def transcribe(self, conversation_id: str, messages: Sequence[OutboundMessage]) -> None:
        """Into the transcript only (never sent to the citizen)."""
        await self.router.transcribe_out(conversation_id, messages, None)

    async def record(self, kind: str, conversation_id: str, data: dict[str, Any]) -> None:
        """A statistics event (logged, never raised, should the database fail)."""
        await self.router.record(kind, conversation_id, data)

    # --- inbound path ---------------------------------------------------------
    async def _enqueue(self, msg: InboundMessage, mode: DeliveryMode) -> int:
        """Append the message to its conversation's inbox; its place in line (1: first)."""
        # The processing replica pushes the replies itself once this deadline passed.
        deliver_after = time.time() + (mode.deadline or 0.0) if mode.push_later else None
        entry = {"message": msg.to_dict(), "deliver_after": deliver_after}
        raw = self.sealer.seal(json.dumps(entry, ensure_ascii=False, default=str))
        return await self.inbox.append(msg.conversation_id, raw)

    async def _wait_for(self, msg: InboundMessage, mode: DeliveryMode) -> HandleResult:
        if mode.pushes_only:
            self._spawn(self._deliver_later(msg))
            return HandleResult([], "pending")
        with self.results.answering(message_key("result", msg)):
            timeout = self.max_wait if mode.deadline is None else mode.deadline
            result = await self.results.wait(msg, timeout)
        if result is None:
            if not mode.push_later:
                logger.warning(
                    "no result within %.0fs for a %s message", self.max_wait, msg.channel
                )
                result = busy_result()
                await self.transcript.write_replies(msg.conversation_id, result.replies, None)
                return result
            self._spawn(self._deliver_later(msg))
            return HandleResult([], "pending")
        if await self.store.claim(message_key("delivered", msg), RESULT_TTL):
            return result
        return HandleResult([], "pending")  # the processing replica pushed it already

    async def _deliver_later(self, msg: InboundMessage) -> None:
        """Push ``msg``'s replies once there are any, within DELIVER_WINDOW.

        The store failing meanwhile (Redis restarting) does not end the wait:
        the message stays in the inbox the store keeps, and this wait is what
        asks for it to be drained (its polls) and pushes its replies once the
        store is back. Before, a store outage ended it and the message waited
        in the inbox, unanswered, until the citizen wrote again."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DELIVER_WINDOW
        failing = False
        while True:
            try:
                result = await self.results.wait(msg, max(0.0, deadline - loop.time()))
                if result is None:
                    logger.warning("gave up delivering a pending %s reply", msg.channel)
                    return
                # Pushes may read the transcript (web widget).
                await self.transcript.replies_written(message_key("result", msg))
                await self._deliver_once(msg, result)
                return
            except StoreUnavailable as exc:
                if not failing:
                    logger.warning("pending %s reply waits for the store: %s", msg.channel, exc)
                    failing = True
                if loop.time() >= deadline:
                    logger.warning("pending %s reply not delivered: %s", msg.channel, exc)
                    return
                await asyncio.sleep(STORE_RETRY)

    async def _replay(self, msg: InboundMessage) -> HandleResult:
        """A resend answered in place (REST): the client resends a message id
        when no answer reached it (its connection dropped, the replica it
        reached died), so it gets the first copy's replies, waiting for them
        if that copy is still in progress; the status stays ``duplicate`` (the
        message was not processed again, nothing more is recorded). No result
        within ``max_wait``: no replies. StoreUnavailable propagates (the
        client may resend again)."""
        result = await self.results.wait(msg, self.max_wait)
        return HandleResult(list(result.replies) if result is not None else [], "duplicate")

    async def _deliver_once(self, msg: InboundMessage, result: HandleResult) -> None:
        if not await self.store.claim(message_key("delivered", msg), RESULT_TTL):
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

    # --- serial processing (under the conversation lock) ---------------------------
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
        key = message_key("result", msg)
        stored = await self.results.stored(key)  # set when a dead replica got this far
        result = stored if stored is not None else await self._turn(msg, key)
        await self.results.announce(key)
        if deliver_after is not None and time.time() >= float(deliver_after):
            await self._deliver_once(msg, result)

    async def _turn(self, msg: InboundMessage, key: str) -> HandleResult:
        """Route the message, hand the result to a caller here, write the replies
        after the inbound entry, then store the result for every replica."""
        settling = self.transcript.settling(key, msg.conversation_id)
        try:
            inbound = self.transcript.inbound_entry(msg)
            try:
                result = await self._route(msg, inbound)
                # Written long before Rasa answers, as a rule; the next
                # message's entry must not overtake it.
                await inbound
                # From here until the replies are written, reads and pushes
                # of this conversation on this replica wait for them.
                settling.begin()
                if self.results.offer(key, result):  # a caller waiting here answers now,
                    await yield_loop(ANSWER_YIELDS)  # before the writes take the loop
                # A push waits for the replies to be written anyway: no yield.
            finally:
                await inbound
            if not await self.router.replies_already_written(msg):
                await self.transcript.write_replies(
                    msg.conversation_id, result.replies, msg.message_id
                )
            await self.results.store_result(key, result)
        finally:
            settling.end()
            self.results.withdraw(key)
        return result

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

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class HubInbound:
    """The hub as a channel sees it: the :class:`~bot.inbound.InboundPort`."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def handle(self, msg: InboundMessage, mode: DeliveryMode) -> HandleResult:
        return await self._hub.handle(msg, mode)

    async def history(
        self, conversation_id: str, limit: int = 200, after_seq: int | None = None
    ) -> list[Any]:
        return await self._hub.history(conversation_id, limit=limit, after_seq=after_seq)

    async def conversation_state(self, conversation_id: str) -> ConversationState:
        return await self._hub.conversation_state(conversation_id)

    def store(self, namespace: str) -> ChannelStore:
        return ChannelStore(self._hub.store, namespace, self._hub.sealer)

    async def record_event(
        self, kind: str, conversation_id: str | None, data: dict[str, Any]
    ) -> None:
        await self._hub.db.events.record(kind, conversation_id=conversation_id, data=data)

    async def citizen_typing(self, conversation_id: str, on: bool) -> bool:
        return await self._hub.citizen_typing(conversation_id, on)

    async def answer_feedback(self, conversation_id: str, seq: int, vote: str) -> str:
        hub = self._hub

        async def history(cid: str, limit: int) -> list[Any]:
            return await hub.history(cid, limit=limit)

        return await record_answer_feedback(
            hub.db,
            hub.store,
            history,
            conversation_id,
            seq,
            vote,
            keep_days=hub.settings.retention_days,
        )
