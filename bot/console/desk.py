"""What agents do with a conversation: claim, talk, hand back, close, requeue.

Every way out of a queue entry (an agent's claim, the citizen's cancel, a
callback, giving up) first sets the entry's claim key with SET NX, so
exactly one of them happens whatever the number of replicas. Ways out of a
held conversation end its SQL row with ``ended_at IS NULL`` as the guard.

A way out whose SQL row or state change fails gives the claim key back (and
undoes the SQL claim), so the entry stays queued and claimable; a key left by
a replica that died between the steps is cleared by the sweep
(``bot.console.sweep``, after :data:`CLAIM_STALE` seconds).
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from dataclasses import dataclass, field

from bot.console import texts
from bot.console.context import Console
from bot.console.delivery import (
    FAILED,
    REQUEST_ID,
    SENDING,
    SENT,
    AgentMessage,
    DeliveryRepo,
)
from bot.console.queue import Estimator, PositionNotices, claim_key, front_score, parse_summary
from bot.console.records import Handoff
from bot.console.users import User
from bot.conversations import Agent, Conversation, ConversationState
from bot.messages import OutboundMessage
from bot.store.base import LockTimeout

log = logging.getLogger(__name__)

CLAIM_TTL = 7 * 24 * 3600.0
#: A claim key this old whose SQL row is still unclaimed and open was left
#: half-done (its replica died between the steps); the sweep releases it.
CLAIM_STALE = 60.0
#: How long a claim waits for the conversation's lock (a turn in progress).
CLAIM_LOCK_WAIT = 15.0
#: Clocks of two replicas may differ this much (a row's ``queued_at`` against
#: the store's, when another replica finishes a stopped turn's step).
QUEUED_AT_SKEW = 5.0
MAX_MESSAGE = 2000
CITIZEN_CLAIM = "citizen|"
SYSTEM_CLAIM = "system|"
CLAIM_FAILED = "接入失败，系统暂时繁忙，请稍后重试"


class DeskError(Exception):
    """An action that cannot be done; ``message`` is shown to the agent (Chinese)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message


def taken_error(holder_token: str | None) -> DeskError:
    """The answer to a losing claim, naming who won."""
    who, _, name = (holder_token or "").partition("|")
    if who == "citizen":
        return DeskError(409, "cancelled", "市民已取消排队")
    if who == "system":
        return DeskError(409, "gone", "该会话已转为回电登记或已结束排队")
    return DeskError(409, "taken", f"已被 {name or '其他坐席'} 接入")


def agent_token(user: User) -> str:
    return f"{user.id}|{user.display_name}"


def as_agent(user: User) -> Agent:
    return Agent(id=user.id, name=user.display_name, username=user.username)


@dataclass
class Desk:
    """Agent actions; each tells the citizen, the SQL record and the consoles."""

    console: Console
    estimator: Estimator
    notices: PositionNotices = field(init=False)
    deliveries: DeliveryRepo = field(init=False)

    def __post_init__(self) -> None:
        self.deliveries = DeliveryRepo(self.console.db)
        interval = self.console.hub.settings.handoff_notice_interval
        self.notices = PositionNotices(self.console, self.estimator, interval)

    async def claim(self, user: User, cid: str) -> None:
        """``user`` takes the queued conversation ``cid``.

        The claim key, the SQL claim and the store's ``assign`` run under the
        conversation's lock, so whoever reads the conversation under that lock
        next (the citizen's next message, another claim) sees them all done or
        finishes what a stopped replica left (:meth:`settle`). The greeting and
        the consoles' events follow outside the lock (best effort)."""
        try:
            async with self.console.hub.lock(cid, timeout=CLAIM_LOCK_WAIT):
                handoff_id = await self._claim_locked(user, cid)
        except LockTimeout:
            raise DeskError(409, "busy", "会话正在处理中，请稍后重试") from None
        finally:
            self.console.hub.wake(cid)  # messages that arrived meanwhile
        if handoff_id is not None:
            await self._announce(user, cid, handoff_id)

    async def _claim_locked(self, user: User, cid: str) -> str | None:
        """The claim's steps under the lock; the handoff id to announce (None:
        finishing a stopped claim of ``user`` announced it already)."""
        conv = await self.settle(cid, await self.console.conv(cid))
        if conv.state is ConversationState.WITH_AGENT:
            if conv.held_by(user.id) and conv.handoff_id:
                return None  # the user's own claim, finished just now by settle()
            raise taken_error(f"{conv.agent_id}|{conv.agent_name}")
        handoff_id = conv.handoff_id
        if conv.state is not ConversationState.QUEUED:
            # Say why when the queue entry was just taken (the citizen cancelled,
            # a callback was registered) rather than only "gone".
            holder = await self.console.store.get(claim_key(handoff_id)) if handoff_id else None
            if holder is not None:
                raise taken_error(holder)
            raise DeskError(409, "gone", "该会话已不在排队中")
        if not handoff_id:  # settle() gives every queued conversation its row
            raise DeskError(503, "unavailable", CLAIM_FAILED)
        group = conv.handoff_group or ""
        if not self.console.groups.may_claim(user.username, user.role, group):
            found = self.console.groups.get(group)
            name = found.name if found is not None else group
            raise DeskError(403, "not_your_group", f"该会话在{name}队列中，请由该组坐席接入")
        store = self.console.store
        token = agent_token(user)
        if not await store.acquire_lock(claim_key(handoff_id), token, CLAIM_TTL):
            raise taken_error(await store.get(claim_key(handoff_id)))
        try:
            claimed = await self.console.handoffs.claim(int(handoff_id), user.username)
        except Exception as exc:
            await self._give_back(handoff_id, token)
            log.error("claim of handoff %s failed in SQL: %s", handoff_id, type(exc).__name__)
            raise DeskError(503, "unavailable", CLAIM_FAILED) from exc
        if not claimed:  # ended or claimed in SQL meanwhile (the store forgot it)
            await self._give_back(handoff_id, token)
            raise DeskError(409, "gone", "该会话已不在排队中")
        try:
            await self._assign(user, cid, handoff_id)
        except Exception as exc:
            # Nothing was said to the citizen yet: undo, and the entry stays queued.
            await self._undo_claim(handoff_id, user.username, token)
            log.error("claim of handoff %s failed: %s", handoff_id, type(exc).__name__)
            raise DeskError(503, "unavailable", CLAIM_FAILED) from exc
        return handoff_id

    async def settle(self, cid: str, conv: Conversation) -> Conversation:
        """Finish a transition of a queued conversation that a stopped replica
        left half-done; the conversation as it is now. Call it under the
        conversation's lock (the router does for every message of a queued
        conversation, :meth:`claim` before its own steps), which every step it
        finishes is taken under too, so nothing runs it twice:

        - queued with no SQL row id (the handoff turn stopped between the store's
          ``queue()`` and ``opened()``): the row that turn opened, or a new one,
          and its id in the store; the place is told in the next notice round;
        - queued while its row is claimed in SQL (a claim stopped between the SQL
          claim and the store's ``assign()``): held by that agent, who is
          announced to the citizen and the consoles.

        Costs one store read for a queued conversation with nothing half-done
        (its claim key: every claim sets it before the SQL claim). A held
        conversation: :meth:`_settle_held`.
        """
        if conv.state is ConversationState.WITH_AGENT:
            return await self._settle_held(cid, conv)
        if conv.state is not ConversationState.QUEUED:
            return conv
        if not conv.handoff_id:
            handoff_id = await self.open_row(cid, conv)
            log.warning("handoff %s: the store was given its row on the next read", handoff_id)
            await self.notices.due(cid)
            await self.queue_changed()
            return await self.console.conv(cid)
        if await self.console.store.get(claim_key(conv.handoff_id)) is None:
            return conv  # no claim or cancel began
        row = await self.console.handoffs.get(int(conv.handoff_id))
        if row is None or row.ended_at is not None or not row.claimed_by:
            return conv  # a cancel in progress, or a stale key (the sweep releases it)
        user = await self.console.users.get_by_username(row.claimed_by)
        if user is None:
            return conv
        log.warning("handoff %s: claimed in SQL only; the store caught up", conv.handoff_id)
        await self.seat(user, cid, conv.handoff_id, claimed=True)
        return await self.console.conv(cid)

    async def _settle_held(self, cid: str, conv: Conversation) -> Conversation:
        """A held conversation whose SQL row moved on while the store did not:
        every way out of a held stay (requeue, a transfer to a group, hand back,
        close, a transfer to a colleague) writes SQL first, so a replica that
        stopped between the two steps left SQL telling the truth. The store
        catches up here, under the conversation's lock:

        - the row ended ``requeued`` (requeue, group transfer): queued again
          under the stay's newer open row if the stopped replica opened one,
          else a new row (:meth:`_requeue_store`);
        - the row ended otherwise: the store ends the stay too (:meth:`_catch_up`);
        - the row names another agent (a transfer): that agent holds it.

        Costs one SQL read by primary key per citizen message to an agent.
        """
        handoff_id = conv.handoff_id or ""
        if not handoff_id.isdigit():
            return conv
        row = await self.console.handoffs.get(int(handoff_id))
        if row is None:
            return conv
        if row.ended_at is not None and row.outcome == "requeued":
            await self._requeue_store(cid, conv, row)
            log.warning("handoff %s: requeued in SQL only; the store caught up", handoff_id)
            await self.console.notifier.conversation_changed(cid, "state")
            await self.queue_changed()
        elif row.ended_at is not None:
            await self._catch_up(cid, handoff_id)
        elif row.claimed_by and row.claimed_by != conv.agent_username:
            user = await self.console.users.get_by_username(row.claimed_by)
            if user is None:
                return conv
            await self.console.conversations.transfer(cid, as_agent(user))
            log.warning("handoff %s: transferred in SQL only; the store caught up", handoff_id)
            await self.console.notifier.conversation_changed(cid, "state")
        else:
            return conv
        return await self.console.conv(cid)

    async def _requeue_store(
        self, cid: str, conv: Conversation, ended: Handoff, *, group: str | None = None
    ) -> int:
        """The second half of a requeue whose stay ``ended`` (``requeued``) in
        SQL: the new stay's row, the one a stopped replica opened already when
        there is one (the conversation's newest row, open, unclaimed, newer than
        ``ended``), else a new one with ``ended``'s reason, priority and summary;
        then the store queues the conversation under it at the front of its
        priority. The new row's id."""
        row = await self.console.handoffs.latest(cid)
        if row is not None and row.id > ended.id and row.ended_at is None and not row.claimed_by:
            new_id = row.id
            summary = row.summary
        else:
            summary = dict(ended.summary)
            if group is not None:
                summary["group"] = group
            new_id = await self.console.handoffs.open(
                conversation_id=cid, channel=ended.channel, reason=ended.reason,
                priority=ended.priority, summary=summary,
            )  # fmt: skip
        first = float(conv.first_queued_at or conv.queued_at or time.time())
        await self.console.conversations.requeue(
            cid, handoff_id=new_id, priority=ended.priority, first_queued_at=first,
            score=front_score(ended.priority, first, ended.reason),
            group=str(summary.get("group") or ""),  # still for its agent group
        )  # fmt: skip
        await self.notices.due(cid)
        return new_id

    async def open_row(self, cid: str, conv: Conversation) -> str:
        """The SQL row of the queued conversation's stay, then its id in the store
        (``opened``): the row a stopped turn opened for this stay if there is
        one (unclaimed, open, not older than the store's ``queued_at``), else a
        new one. Under the conversation's lock."""
        row = await self.console.handoffs.latest(cid)
        queued_at = float(conv.queued_at or 0)
        if (
            row is not None
            and row.ended_at is None
            and row.claimed_by is None
            and row.queued_at.timestamp() >= queued_at - QUEUED_AT_SKEW
        ):
            handoff_id = row.id
        else:
            handoff_id = await self.console.handoffs.open(
                conversation_id=cid, channel=conv.channel or cid.split(":", 1)[0],
                reason=conv.handoff_reason or "citizen_request",
                priority=conv.handoff_priority or "normal",
                summary=parse_summary(conv.handoff_summary)
                | ({"group": conv.handoff_group} if conv.handoff_group else {}),
            )  # fmt: skip
        await self.console.conversations.opened(cid, handoff_id)
        return str(handoff_id)

    async def _give_back(self, handoff_id: str, token: str) -> None:
        """Release a claim key this action took (best effort: the sweep clears what stays)."""
        try:
            await self.console.store.release_lock(claim_key(handoff_id), token)
        except Exception as exc:
            log.warning("claim key of handoff %s not released: %s", handoff_id, type(exc).__name__)

    async def _undo_claim(self, handoff_id: str, username: str, token: str) -> None:
        try:
            await self.console.handoffs.unclaim(int(handoff_id), username)
        except Exception as exc:
            log.warning("SQL claim of handoff %s not undone: %s", handoff_id, type(exc).__name__)
        await self._give_back(handoff_id, token)

    async def seat(self, user: User, cid: str, handoff_id: str, *, claimed: bool = False) -> None:
        """Give the conversation to ``user`` (the claim key is theirs already;
        ``claimed``: the SQL row is marked already), then announce it.

        Raises only before the state change. From the state change on the
        conversation is the agent's and the citizen is greeted: the greeting,
        the statistics event, the consoles' events and the queue refresh are
        best effort (logged), never a reason to undo the claim."""
        await self._assign(user, cid, handoff_id, claimed=claimed)
        await self._announce(user, cid, handoff_id)

    async def _assign(self, user: User, cid: str, handoff_id: str, *, claimed: bool = True) -> None:
        if not claimed and not await self.console.handoffs.claim(int(handoff_id), user.username):
            log.warning("handoff %s was claimed in SQL already", handoff_id)
        await self.console.conversations.assign(cid, as_agent(user), handoff_id, time.time())

    async def _announce(self, user: User, cid: str, handoff_id: str) -> None:
        """The conversation is the agent's now: nothing here may fail the claim."""
        try:  # a channel refusing the greeting changes nothing
            await self.console.hub.push(cid, [texts.agent_joined(user.display_name)])
        except Exception as exc:
            channel = cid.split(":", 1)[0]
            log.warning("greeting on %s not delivered: %s", channel, type(exc).__name__)
        try:
            await self.console.hub.record("handoff_claimed", cid, {"handoff_id": handoff_id})
            await self.console.notifier.claimed(cid, user.id, user.display_name)
        except Exception as exc:  # the consoles resync at the next snapshot
            log.warning("claim of handoff %s not announced: %s", handoff_id, type(exc).__name__)
        try:
            await self.queue_changed()
        except Exception as exc:  # the sweep's next round tells the queue
            log.warning("queue change after claim %s not sent: %s", handoff_id, type(exc).__name__)

    async def holder_conv(self, user: User, cid: str, *, supervisor_ok: bool) -> Conversation:
        """The conversation if ``user`` may act on it as its agent."""
        conv = await self.console.conv(cid)
        if conv.state is not ConversationState.WITH_AGENT or not conv.handoff_id:
            raise DeskError(409, "not_held", "该会话当前不在人工服务中")
        mine = conv.held_by(user.id)
        if not mine and not (supervisor_ok and user.role == "supervisor"):
            raise DeskError(403, "not_yours", f"该会话由 {conv.agent_name} 负责")
        return conv

    async def send(
        self, user: User, cid: str, text: str, request_id: str | None = None
    ) -> AgentMessage:
        """Record the agent's message, then deliver it; its delivery state.

        ``request_id`` (the console's id of the composed message) makes a
        resubmission a retry: nothing new is recorded, and the message is sent
        again only if its delivery failed (bot/console/delivery.py).
        """
        text = (text or "").strip()
        if not text:
            raise DeskError(400, "empty", "消息不能为空")
        if len(text) > MAX_MESSAGE:
            raise DeskError(400, "too_long", f"消息不能超过 {MAX_MESSAGE} 字")
        if request_id is not None and not REQUEST_ID.match(request_id):
            raise DeskError(400, "bad_request_id", "请求编号无效")
        conv = await self.holder_conv(user, cid, supervisor_ok=False)
        message = OutboundMessage(text=text, sender=f"agent:{user.display_name}")
        entry, new = await self.deliveries.record(
            conversation_id=cid, sender=message.sender, text=text, data=message.to_dict(),
            request_id=request_id or uuid.uuid4().hex,
        )  # fmt: skip
        if not new:
            return await self._retry(entry)
        await self.console.notifier.conversation_changed(cid)  # shown as "sending" at once
        entry = await self._deliver(entry)
        await self.console.handoffs.agent_message(int(conv.handoff_id or 0))
        return entry

    async def retry(self, user: User, cid: str, seq: int) -> AgentMessage:
        """Send a failed message again (once, however often it is asked)."""
        await self.holder_conv(user, cid, supervisor_ok=False)
        entry = await self.deliveries.get(cid, seq)
        if entry is None:
            raise DeskError(404, "no_message", "找不到该条消息")
        return await self._retry(entry)

    async def _retry(self, entry: AgentMessage) -> AgentMessage:
        if entry.state != FAILED or not await self.deliveries.take_for_retry(entry.seq):
            return await self.deliveries.get(entry.conversation_id, entry.seq) or entry
        sending = dataclasses.replace(entry, state=SENDING, reason=None)
        await self.console.notifier.delivery(entry.conversation_id, sending.to_dict())
        return await self._deliver(sending)

    async def _deliver(self, entry: AgentMessage) -> AgentMessage:
        """Push the recorded message to the citizen; store and announce the outcome."""
        message = OutboundMessage(text=entry.text, sender=entry.sender)
        outcome = await self.console.hub.deliver(entry.conversation_id, [message])
        state, reason = (SENT, None) if outcome.ok else (FAILED, outcome.reason or "error")
        try:
            await self.deliveries.finish(entry.seq, state, reason)
        except Exception as exc:  # the console shows the outcome; the row says "sending"
            log.error("delivery state of message %s not stored: %s", entry.seq, type(exc).__name__)
        done = dataclasses.replace(entry, state=state, reason=reason)
        await self.console.notifier.delivery(entry.conversation_id, done.to_dict())
        return done

    async def hand_back(self, user: User, cid: str) -> None:
        await self._end(user, cid, "handed_back")

    async def close(self, user: User, cid: str) -> None:
        await self._end(user, cid, "closed")

    async def _end(self, user: User, cid: str, outcome: str) -> None:
        conv = await self.holder_conv(user, cid, supervisor_ok=True)
        if not await self.end_held(cid, conv, outcome):
            raise DeskError(409, "ended", "该会话已结束")

    async def citizen_left(self, cid: str, conv: Conversation) -> bool:
        """The citizen ended a held conversation (the widget's 结束会话): closed as
        by the citizen; the agent gets a system line and a notice. False when it
        had ended already."""
        return await self.end_held(cid, conv, "closed", by_citizen=True)

    async def end_held(
        self, cid: str, conv: Conversation, outcome: str, *, by_citizen: bool = False
    ) -> bool:
        """End the held conversation ``conv`` (its SQL row's ``ended_at IS NULL``
        is the guard, then the store: see bot/console/conversations.py); false
        when it had ended already."""
        handoff_id = conv.handoff_id or ""
        if not await self.console.handoffs.end(int(handoff_id), outcome):
            await self._catch_up(cid, handoff_id)
            return False
        hub = self.console.hub
        if by_citizen:  # nobody to ask for a rating: the line is for the agent
            await hub.conversations.close(cid)
            await hub.transcribe(cid, [texts.system(texts.CITIZEN_LEFT)])
        elif outcome == "closed":
            await hub.conversations.close(cid, rating_pending=handoff_id)
            await hub.push(cid, [texts.closed_with_rating()])
        else:
            await hub.conversations.hand_back(cid)
            await hub.push(cid, [texts.assistant(texts.HANDED_BACK)])
        by = "citizen" if by_citizen else "agent"
        data = {"handoff_id": handoff_id, "outcome": outcome, "by": by}
        await hub.record("handoff_ended", cid, data)
        if by_citizen and (conv.agent_id or "").isdigit():
            await self.console.notifier.notice(int(conv.agent_id or 0), texts.CITIZEN_LEFT, cid)
        await self.console.notifier.conversation_changed(cid, "state")
        await self.console.notifier.queue_changed()
        return True

    async def _catch_up(self, cid: str, handoff_id: str) -> None:
        """The row had ended; should the store still hold the conversation under
        it (the replica that ended it stopped before the store step), finish
        that step now, so the citizen is not left talking to nobody."""
        conv = await self.console.conv(cid)
        if conv.state is not ConversationState.WITH_AGENT or conv.handoff_id != handoff_id:
            return
        row = await self.console.handoffs.get(int(handoff_id))
        if row is None or row.ended_at is None:
            return
        if row.outcome == "handed_back":
            await self.console.conversations.hand_back(cid)
        elif row.outcome == "closed":
            await self.console.conversations.close(cid)
        else:
            return
        log.warning("handoff %s: ended in SQL only; the store caught up", handoff_id)
        await self.console.notifier.conversation_changed(cid, "state")

    async def requeue(self, cid: str, note: str) -> bool:
        """Put a held conversation back at the front of its priority (its agent is gone)."""
        conv = await self.console.conv(cid)
        handoff_id = conv.handoff_id
        row = await self.console.handoffs.get(int(handoff_id)) if handoff_id else None
        if row is None or conv.state is not ConversationState.WITH_AGENT:
            return False
        if not await self.console.handoffs.end(row.id, "requeued") and row.outcome != "requeued":
            return False  # ended otherwise: not this requeue's to finish
        # (ended "requeued" already: an earlier requeue stopped before the store; finished here)
        new_id = await self._requeue_store(cid, conv, row)
        await self.console.notes.add(cid, "系统", note)
        await self.console.hub.push(cid, [texts.system(texts.REQUEUED)])
        await self.console.hub.record("handoff_requeued", cid, {"handoff_id": new_id})
        await self.console.notifier.conversation_changed(cid, "state")
        await self.queue_changed()
        return True

    async def leave_queue(
        self, cid: str, handoff_id: str, token: str, outcome: str, callback: str = ""
    ) -> bool:
        """Take a queued conversation out of the queue unless an agent claimed it first."""
        if not handoff_id:
            return False
        if not await self.console.store.acquire_lock(claim_key(handoff_id), token, CLAIM_TTL):
            return False
        try:
            await self.console.handoffs.end(int(handoff_id), outcome)
        except Exception:
            await self._give_back(handoff_id, token)  # still queued: an agent may claim it
            raise
        await self.console.conversations.leave_queue(cid, handoff_id, callback)
        await self.console.hub.record("handoff_left", cid, {"outcome": outcome})
        await self.queue_changed()
        return True

    async def queue_changed(self) -> None:
        """Tell the consoles; the queued citizens whose place moved are told by a
        background round (batched, one task per replica: never inside the request)."""
        self.estimator.forget()
        await self.console.notifier.queue_changed()
        self.notices.soon()
