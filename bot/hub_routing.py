"""Where one inbound message goes: to Rasa, or to the agents holding it.

The hub (bot/hub.py) keeps messages serial and delivers results; this module
decides what a single message produces. A conversation's state has one
owner (bot/conversations.py), read once per message: ``bot`` (default) and
``closed`` go to Rasa; ``queued`` and ``with_agent`` go to the agents channel.
A Rasa reply whose ``custom`` holds ``{"handoff": {...}}`` queues the
conversation for an agent (``Conversations.queue``) and is not shown to the
citizen. One whose ``custom`` holds only ``{"answer": {"faq": key}}`` is not
shown either: it becomes the ``custom`` of the reply before it (the FAQ
answer), so the transcript knows which FAQ a citizen rates.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy.exc
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from bot.config import Settings
from bot.conversations import Conversation, Conversations, ConversationState
from bot.db.crypto import Cipher
from bot.db.events import EventItem
from bot.emergency import EmergencyBoard, EmergencyState
from bot.emergency import frontdoor as emergency_path
from bot.handoff_limits import HandoffLimiter
from bot.hub_timing import TURN_MARK_TTL
from bot.messages import BUSY_TEXT, RETRY_TEXT, Button, InboundMessage, OutboundMessage
from bot.privacy import mask_value
from bot.rasa_client import RasaApi, RasaUnavailable
from bot.store.base import SharedStore

logger = logging.getLogger(__name__)

#: How long a transcript write is retried while the database is unreachable
#: (PostgreSQL restarting, a dropped connection): the citizen's words and the
#: answers are kept, in order (the replies' write waits for the message's),
#: instead of being logged and dropped. Measured: a 0.7-s PostgreSQL restart
#: lost 3 of 600 widget messages before this (tests/faults). Past this bound the
#: write fails as before (logged; the citizen has their answer).
TRANSCRIPT_RETRY_SECONDS = 30.0


def _transient_db_error(exc: BaseException) -> bool:
    """A database error worth another try: the connection, not the row."""
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError | ConnectionError
    )


def _transcript_retries() -> AsyncRetrying:
    return AsyncRetrying(
        retry=retry_if_exception(_transient_db_error),
        stop=stop_after_delay(TRANSCRIPT_RETRY_SECONDS),
        wait=wait_exponential(multiplier=0.1, max=2.0),
        reraise=True,
    )


HANDOFF_ACK_TEXT = "已收到，正在为您转接人工客服，请稍候。"

AGENTS_CHANNEL = "agents"
_PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2}
#: Statistics events of Router.record_soon are written together, at most
#: this many seconds after the first of them: one transaction for every
#: message answered in that time instead of one per message.
RECORD_DELAY = 1.0
#: The states whose half-done transitions the hooks finish before routing
#: (bot/console/desk.py, ``Desk.settle``).
_SETTLED = frozenset({ConversationState.QUEUED, ConversationState.WITH_AGENT})


#: Added to every score: entries queued by an older release (emergencies at
#: their bare arrival time) stay ahead of the new ones until they are served.
_BAND = 1e10


def handoff_score(
    priority: str,
    at: float,
    reason: str = "",
    head_start: float = 0.0,
    emergency_head_start: float = 0.0,
    incident_head_start: float = 0.0,
) -> float:
    """Queue order (ZRANGE ascending), fair to citizens who have waited.

    Everyone in order of arrival, except that some requests count as older
    than they are, by a bounded head start: ahead of who asked shortly before
    them, never ahead of who has waited longer than that.

    - Emergencies (``reason == "emergency"``: the emergency intent or words of
      danger, actions/handoff.py) count ``emergency_head_start`` seconds
      older (``HANDOFF_EMERGENCY_HEAD_START``, ten minutes by default). The
      citizen already got the 110/119/120 advice at once, in the same turn;
      the queue is for what an agent can do, and a danger word typed by
      anyone must not put them past citizens who have waited longer.
    - ``urgent`` and ``high`` requests (an angry citizen) count ``head_start``
      seconds older (``HANDOFF_URGENT_HEAD_START``, two minutes by default).
    - While the emergency mode is on, a request about the incident
      (``reason == "incident"``, bot/emergency/frontdoor.py) counts
      ``incident_head_start`` seconds older (``EMERGENCY_HANDOFF_HEAD_START``,
      ten minutes by default).
    """
    if reason == "emergency":
        lead = emergency_head_start
    elif reason == emergency_path.INCIDENT_REASON:
        lead = incident_head_start
    elif _PRIORITY_RANK.get(priority, 2) < _PRIORITY_RANK["normal"]:
        lead = head_start
    else:
        lead = 0.0
    return _BAND + at - lead


@dataclass
class HandleResult:
    """What the hub made of one inbound message."""

    replies: list[OutboundMessage]
    status: str  # "ok" | "duplicate" | "pending" | "busy" | "to_agent"

    def to_json(self) -> str:
        return json.dumps(
            {"status": self.status, "replies": [r.to_dict() for r in self.replies]},
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str) -> HandleResult:
        data = json.loads(raw)
        return cls([OutboundMessage.from_dict(r) for r in data["replies"]], data["status"])


def busy_result() -> HandleResult:
    return HandleResult([OutboundMessage(text=BUSY_TEXT, sender="system")], "busy")


#: A button that sends the citizen's message again, only for one this short
#: (a button payload, or a few words such as 确认).
RETRY_BUTTON_MAX = 60


def retry_result(msg: InboundMessage) -> HandleResult:
    """Rasa could not run an action for ``msg`` and undid the turn (the
    citizen is never left without an answer): say so, and offer to send it
    again or to talk to a person."""
    again = msg.rasa_text
    buttons = []
    if 0 < len(again) <= RETRY_BUTTON_MAX:
        buttons.append(Button(title="再发一次", payload=again))
    buttons.append(Button(title="转人工客服", payload="/request_human"))
    reply = OutboundMessage(text=RETRY_TEXT, buttons=tuple(buttons), sender="system")
    return HandleResult([reply], "busy")


class TranscriptLog(Protocol):
    async def add(
        self,
        *,
        conversation_id: str,
        channel: str,
        direction: str,
        sender: str,
        message_id: str | None,
        text: str | None,
        data: dict[str, Any],
    ) -> Any: ...

    async def add_many(self, rows: Sequence[Mapping[str, Any]]) -> Any: ...

    async def history(
        self, conversation_id: str, limit: int = 200, after_seq: int | None = None
    ) -> list[Any]: ...


class EventLog(Protocol):
    async def record(
        self,
        kind: str,
        *,
        conversation_id: str | None = None,
        ticket_number: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Any: ...

    async def record_many(self, items: Sequence[EventItem]) -> Any: ...


class DataLayer(Protocol):
    """The part of ``bot.db.Database`` the hub uses."""

    @property
    def cipher(self) -> Cipher: ...

    @property
    def transcripts(self) -> TranscriptLog: ...

    @property
    def events(self) -> EventLog: ...


class RouteHooks(Protocol):
    """Front-door handling around routing (the console's handoff: cancel, callback, rating).

    ``before_route`` may answer a message itself (it then reaches neither Rasa
    nor the agents); ``after_route`` sees every Rasa turn's result, e.g. to add
    the queue position after a handoff signal. Both run under the
    conversation's lock.
    """

    async def settle(self, conversation: Conversation) -> Conversation:
        """A queued conversation as it is once a transition a stopped replica
        left half-done is finished (called for queued conversations only)."""
        ...

    async def before_route(
        self, msg: InboundMessage, conversation: Conversation
    ) -> HandleResult | None: ...

    async def after_route(
        self, msg: InboundMessage, state_before: ConversationState, result: HandleResult
    ) -> HandleResult: ...

    async def queued_ack(self, msg: InboundMessage) -> list[OutboundMessage]:
        """What a citizen waiting in the queue is told about a further message
        (the message itself goes to the agents either way)."""
        ...


class Router:
    """Routes one message and keeps the transcript and quality events."""

    def __init__(
        self,
        store: SharedStore,
        db: DataLayer,
        rasa: RasaApi,
        settings: Settings | None = None,
    ) -> None:
        self.store = store
        self.db = db
        self.rasa = rasa
        #: The owner of every conversation's state (the hub and the console use it).
        self.conversations = Conversations(store)
        self.hooks: RouteHooks | None = None
        settings = settings or Settings()
        #: Injectable (tests): queue times, head starts and rate-limit windows.
        self.clock: Callable[[], float] = time.time
        self.rasa_timeout = settings.rasa_timeout
        #: Turns read back from Rasa's tracker (``_taken_over_turn``) whose
        #: replies the hub has not written yet: a replica that died may have.
        self._recovered: set[str] = set()
        self.head_start = settings.handoff_urgent_head_start
        self.emergency_head_start = settings.handoff_emergency_head_start
        self.incident_head_start = settings.emergency_handoff_head_start
        #: The emergency switch (bot/emergency): read once per message.
        self.emergency = EmergencyBoard(store, settings.emergency_refresh)
        self.limiter = HandoffLimiter(
            store,
            window=settings.handoff_rate_window,
            per_sender=settings.handoff_max_per_sender,
            per_address=settings.handoff_max_per_address,
            clock=lambda: self.clock(),
        )
        self._background: set[asyncio.Task[None]] = set()
        self._batch: list[EventItem] = []
        self._batch_timer: asyncio.TimerHandle | None = None

    def score(self, priority: str, queued_at: float, reason: str) -> float:
        """A queue entry's place (:func:`handoff_score` with this replica's head starts)."""
        return handoff_score(
            priority, queued_at, reason, self.head_start, self.emergency_head_start,
            self.incident_head_start,
        )  # fmt: skip

    async def route(
        self, msg: InboundMessage, inbound_written: Awaitable[None] | None = None
    ) -> HandleResult:
        """Produce the result of one message (runs under the conversation lock).

        ``inbound_written`` completes once the message is in the transcript;
        agents are told of the message only after that (their console shows
        the transcript), while Rasa starts at once.
        """
        conversation = await self.conversations.get(msg.conversation_id)
        if self.hooks is not None and conversation.state in _SETTLED:
            conversation = await self.hooks.settle(conversation)
        state = conversation.state
        if self.hooks is not None:
            answered = await self.hooks.before_route(msg, conversation)
            if answered is not None:
                return answered
        if state.with_agents:
            if inbound_written is not None:
                await inbound_written
            return await self._to_agents(msg, state)
        emergency = await self.emergency.current()
        answer = emergency_path.button_answer(msg)
        if answer is not None:  # a button of an emergency FAQ: answered here
            faq = emergency_path.payload_faq(msg.payload)
            data = {"faq": faq, "period_id": emergency.period_id}
            self.record_soon("emergency.faq_answered", msg.conversation_id, data)
            return HandleResult(answer, "ok")
        result = await self._rasa_turn(msg, emergency)
        if self.hooks is not None:
            result = await self.hooks.after_route(msg, state, result)
        return result

    async def _to_agents(self, msg: InboundMessage, state: ConversationState) -> HandleResult:
        payload = {
            "type": "message",
            "conversation_id": msg.conversation_id,
            "message": msg.to_dict(),
        }
        await self.store.publish(
            AGENTS_CHANNEL, json.dumps(payload, ensure_ascii=False, default=str)
        )
        await self.record("to_agent", msg.conversation_id, {"state": state.value})
        if state is not ConversationState.QUEUED:
            return HandleResult([], "to_agent")
        if self.hooks is not None:  # the console knows whether anyone is online
            return HandleResult(await self.hooks.queued_ack(msg), "to_agent")
        return HandleResult([OutboundMessage(text=HANDOFF_ACK_TEXT, sender="system")], "to_agent")

    async def _rasa_turn(self, msg: InboundMessage, emergency: EmergencyState) -> HandleResult:
        metadata = _rasa_metadata(msg, emergency)
        try:
            raw = await self._taken_over_turn(msg)
            if raw is None:
                raw = await self.rasa.send(msg.conversation_id, msg.rasa_text, metadata)
        except RasaUnavailable as exc:
            logger.warning("rasa busy for a %s message: %s", msg.channel, exc)
            await self.record("rasa_busy", msg.conversation_id, {"error": str(exc)[:200]})
            return retry_result(msg) if exc.no_reply else busy_result()
        visible: list[OutboundMessage] = []
        for item in raw:
            handoff = _handoff_signal(item)
            note = _answer_note(item)
            if note is not None and visible:
                # Which FAQ the answer above came from: kept with that answer
                # (its transcript entry), so the widget's 有帮助/没帮助 names it.
                visible[-1] = dataclasses.replace(visible[-1], custom={"answer": note})
            elif handoff is None:
                visible.append(OutboundMessage.from_rasa_dict(item))
            else:
                refused = await self._request_handoff(msg, handoff, emergency)
                if refused is not None:
                    visible.append(refused)
        if emergency.active:
            cid, period = msg.conversation_id, emergency.period_id

            def faq_first(faq: str) -> None:
                data = {"faq": faq, "period_id": period}
                self.record_soon("emergency.faq_first", cid, data)

            visible = await emergency_path.dress(self.emergency, emergency, msg, visible, faq_first)
        # Statistics only: recorded off the citizen's critical path.
        self.record_soon("answered", msg.conversation_id, {"replies": len(visible)})
        return HandleResult(visible, "ok")

    async def _taken_over_turn(self, msg: InboundMessage) -> list[dict[str, Any]] | None:
        """Rasa's replies to ``msg`` when a replica that died already had it
        run, else None (send it).

        Each message is marked in the store before it goes to Rasa. A replica
        that finds the mark took the message over from one that died after
        sending it (its lock ran out, the inbox kept the entry), and Rasa may
        have run that turn: sending it again would put the citizen's message
        twice into the tracker (a form would take it as the answer to its
        next question). So Rasa's tracker is asked (``find_turn``: the user
        event carries the front door's message id) until the dead replica's
        request could no longer be running (``RASA_TIMEOUT`` after the mark);
        the replies found there are used as the turn's. A tracker that cannot
        be read: the message is sent (at least once rather than lost)."""
        key = _turn_key(msg)
        if await self.store.claim(key, TURN_MARK_TTL):
            return None  # the first replica to send it: the usual path
        left = await self.store.ttl(key)
        sent_ago = TURN_MARK_TTL - left if left is not None else self.rasa_timeout
        deadline = time.monotonic() + max(0.0, self.rasa_timeout - sent_ago)
        while True:
            try:
                raw = await self.rasa.find_turn(msg.conversation_id, msg.message_id)
            except RasaUnavailable as exc:
                logger.warning("a taken-over %s message is sent again: %s", msg.channel, exc)
                return None
            if raw is not None:
                logger.info("a taken-over %s message had been answered by Rasa", msg.channel)
                await self.record("turn_recovered", msg.conversation_id, {})
                self._recovered.add(key)
                return raw
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

    async def replies_already_written(self, msg: InboundMessage) -> bool:
        """True when ``msg``'s turn was read back from Rasa's tracker and its
        replies are already in the transcript: the replica that died wrote
        them before it could take the message out of the inbox (a store that
        failed after the transcript write). One read of the conversation's
        latest entries, only on that rare path."""
        key = _turn_key(msg)
        if key not in self._recovered:
            return False
        self._recovered.discard(key)
        first = f"{msg.message_id}#0"
        entries = await self.db.transcripts.history(msg.conversation_id, limit=50)
        return any(e.direction == "out" and e.message_id == first for e in entries)

    async def _request_handoff(
        self, msg: InboundMessage, handoff: dict[str, Any], emergency: EmergencyState
    ) -> OutboundMessage | None:
        """Queue the conversation for an agent (the action server asked for one).

        Over the sender's or the address's allowance (bot/handoff_limits.py)
        nothing is queued; the returned message tells the citizen why.
        """
        cid = msg.conversation_id
        reason = str(handoff.get("reason") or "")[:200]
        priority = str(handoff.get("priority") or "normal")
        priority = priority if priority in _PRIORITY_RANK else "normal"
        refused = await self.limiter.refuse(msg)
        if refused is not None:
            data = {"reason": reason, "priority": priority, "by": refused.by}
            await self.record("handoff_refused", cid, data)
            return refused.message(emergency=reason == "emergency")
        summary = handoff.get("summary") if isinstance(handoff.get("summary"), dict) else {}
        # The one place the summary is masked: everything that keeps it comes
        # after (the conversation hash here, the agents' channel, the handoffs
        # table through bot/console/citizen.py, and their copies on a requeue
        # or the sweep's repairs); the action server sends it as the citizen typed it.
        summary = mask_value(summary)
        if (
            emergency.active
            and reason != "emergency"
            and emergency_path.incident_handoff(emergency, msg, summary)
        ):
            summary = {**summary, "reason_before": reason}
            reason = emergency_path.INCIDENT_REASON
        now = self.clock()
        await self.conversations.queue(
            cid,
            channel=msg.channel,
            channel_user_id=msg.channel_user_id,
            reason=reason,
            priority=priority,
            summary=json.dumps(summary, ensure_ascii=False, default=str),
            queued_at=now,
            score=self.score(priority, now, reason),
        )
        note = {
            "type": "handoff",
            "conversation_id": cid,
            "reason": reason,
            "priority": priority,
            "summary": summary,
        }
        await self.store.publish(AGENTS_CHANNEL, json.dumps(note, ensure_ascii=False, default=str))
        # The action server records "handoff_requested"; this is the queue entry.
        await self.record("handoff_queued", cid, {"reason": reason, "priority": priority})
        return None

    # --- transcript and events: never fatal to the conversation ------------
    async def transcribe_in(self, msg: InboundMessage) -> None:
        data = {
            "payload": msg.payload,
            "attachments": [a.to_dict() for a in msg.attachments],
            "metadata": msg.metadata,
        }
        await self._append(
            msg.conversation_id, msg.channel, "in", "citizen", msg.message_id, msg.text, data
        )

    async def transcribe_out(
        self, conversation_id: str, messages: Sequence[OutboundMessage], reply_to: str | None
    ) -> None:
        """A turn's replies, in one transaction (the widget shows them from the transcript)."""
        channel = conversation_id.split(":", 1)[0]
        rows = [
            {
                "conversation_id": conversation_id,
                "channel": channel,
                "direction": "out",
                "sender": message.sender,
                "message_id": f"{reply_to}#{i}" if reply_to else None,
                "text": message.text,
                "data": message.to_dict(),
            }
            for i, message in enumerate(messages)
        ]
        if rows:
            try:
                async for attempt in _transcript_retries():
                    with attempt:
                        await self.db.transcripts.add_many(rows)
            except Exception as exc:  # a bad row fails alone (the others are written)
                logger.error("transcript out append failed: %s", type(exc).__name__)

    async def _append(
        self,
        conversation_id: str,
        channel: str,
        direction: str,
        sender: str,
        message_id: str | None,
        text: str | None,
        data: dict[str, Any],
    ) -> None:
        try:
            async for attempt in _transcript_retries():
                with attempt:
                    await self.db.transcripts.add(
                        conversation_id=conversation_id,
                        channel=channel,
                        direction=direction,
                        sender=sender,
                        message_id=message_id,
                        text=text,
                        data=data,
                    )
        except Exception as exc:  # the citizen still gets an answer; details stay out of logs
            logger.error("transcript %s append failed: %s", direction, type(exc).__name__)

    def record_soon(self, kind: str, conversation_id: str, data: dict[str, Any]) -> None:
        """Record a statistics event later, in a batch (see :data:`RECORD_DELAY`).

        Off the citizen's critical path: the caller is usually answering the
        citizen right now. The event keeps the time it happened. Written at
        shutdown by :meth:`flush`; a crash loses at most RECORD_DELAY seconds
        of these counts, never a transcript entry or a ticket.
        """
        at = dt.datetime.now(dt.UTC)
        self._batch.append(EventItem(kind, conversation_id, data=data, at=at))
        if self._batch_timer is None:
            loop = asyncio.get_running_loop()
            self._batch_timer = loop.call_later(RECORD_DELAY, self._write_batch)

    def _write_batch(self) -> None:
        self._batch_timer = None
        batch, self._batch = self._batch, []
        if not batch:
            return
        task = asyncio.get_running_loop().create_task(self._record_many(batch))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _record_many(self, batch: list[EventItem]) -> None:
        try:
            await self.db.events.record_many(batch)
        except Exception as exc:  # quality statistics must not break a conversation
            logger.error("%d events not recorded: %s", len(batch), type(exc).__name__)

    async def flush(self) -> None:
        """Write pending statistics events now and wait for them (shutdown, tests)."""
        if self._batch_timer is not None:
            self._batch_timer.cancel()
        self._write_batch()
        if self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def record(self, kind: str, conversation_id: str, data: dict[str, Any]) -> None:
        try:
            await self.db.events.record(kind, conversation_id=conversation_id, data=data)
        except Exception as exc:  # quality statistics must not break a conversation
            logger.error("event %s not recorded: %s", kind, type(exc).__name__)


def _turn_key(msg: InboundMessage) -> str:
    """The store key marking that ``msg`` went to Rasa (``_taken_over_turn``)."""
    return f"turn:{msg.channel}:{msg.channel_user_id}:{msg.message_id}"


def _rasa_metadata(msg: InboundMessage, emergency: EmergencyState) -> dict[str, Any]:
    metadata = dict(msg.metadata)
    metadata.update(channel=msg.channel, message_id=msg.message_id)
    if emergency.active:  # the action server's events carry the drill flag
        metadata["emergency"] = {"period_id": emergency.period_id, "drill": emergency.drill}
    if msg.attachments:
        metadata["attachments"] = [a.to_dict() for a in msg.attachments]
    return metadata


def _answer_note(item: dict[str, Any]) -> dict[str, str] | None:
    """``{"faq": key}`` of a custom-only ``{"answer": {"faq": key}}`` reply (actions/faq.py)."""
    custom = item.get("custom")
    if item.get("text") or not isinstance(custom, dict) or set(custom) != {"answer"}:
        return None
    answer = custom["answer"]
    faq = answer.get("faq") if isinstance(answer, dict) else None
    return {"faq": faq[:100]} if isinstance(faq, str) and faq else None


def _handoff_signal(item: dict[str, Any]) -> dict[str, Any] | None:
    custom = item.get("custom")
    if not isinstance(custom, dict) or "handoff" not in custom:
        return None
    handoff = custom["handoff"]
    return handoff if isinstance(handoff, dict) else {}
