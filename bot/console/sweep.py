"""The handoff sweep: no conversation stranded, whatever restarted.

Every ``sweep_interval`` seconds (and at start-up) one replica at a time
(store lock ``console:sweep``) compares the open SQL handoff rows with the
store and presence:

- held by an agent whose presence expired (browser closed, network gone):
  back to the front of the queue with an internal note, the citizen told;
- held by a present agent but the store forgot it (Redis restarted): the
  state ``with_agent`` is restored;
- queued in SQL but missing from the store queue: put back in the queue;
- queued longer than ``max_queue_wait``: a callback is offered instead;
- store queue entries without an open row: given a row under the
  conversation's lock (or dropped when the conversation is no longer queued);
  a row opened and not yet named in the store, or a claim done in SQL and not
  in the store, is finished by the next reader under that lock anyway
  (``Desk.settle``: the citizen's next message, a claim), not by the sweep;
  so is a held conversation whose requeue, transfer, hand-back or close
  stopped between its SQL step and the store's (the citizen's next message);
- agents' messages still ``sending`` after ``SENDING_STALE`` (the replica
  stopped mid-send): failed, reason ``unknown``, the console told;
- claim keys against SQL: a key older than ``CLAIM_STALE`` on a row that is
  still open and unclaimed was left by a claim or cancel that failed halfway
  (its replica died between the steps): released, the entry stays queued; a
  held row whose key the store lost gets it back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from dataclasses import dataclass, field

from bot.console import texts
from bot.console.context import Console
from bot.console.desk import CLAIM_STALE, CLAIM_TTL, SYSTEM_CLAIM, Desk
from bot.console.queue import claim_key
from bot.console.records import Handoff
from bot.conversations import ConversationState
from bot.store.base import LockTimeout, StoreUnavailable

log = logging.getLogger(__name__)

LOCK_NAME = "console:sweep"
LOCK_TTL = 60.0
#: An agent's message "sending" this long: its replica stopped mid-send.
SENDING_STALE = dt.timedelta(minutes=2)
LEFT_AFTER = dt.timedelta(minutes=10)  # no message this long while queued: the citizen left


@dataclass
class SweepReport:
    ran: bool = True
    requeued: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)  # stale claim keys cleared
    unsettled: list[str] = field(default_factory=list)  # agents' messages left "sending"


class Sweeper:
    """Checks open handoffs against the store and presence."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.console: Console = desk.console
        self.stopped = False
        self.rounds = 0  # periodic rounds completed (diagnostics; tests wait for the first)

    async def run_once(self) -> SweepReport:
        held = await self.console.store.try_lock(LOCK_NAME, LOCK_TTL)
        if held is None:
            return SweepReport(ran=False)
        report = SweepReport()
        async with held:
            rows = await self.console.handoffs.open_rows()
            present = {a.username for a in await self.console.presence.all()}
            for row in rows:
                if row.claimed_by is None:
                    await self._queued(row, report)
                else:
                    await self._held(row, row.claimed_by in present, report)
            await self._stray_entries({r.id for r in rows}, report)
            await self._stale_deliveries(report)
            await self.desk.notices.tell()  # place notices held back by their interval
        if report.requeued or report.restored or report.given_up or report.released:
            log.info(
                "handoff sweep: %d requeued, %d restored, %d given up, %d claim keys released",
                len(report.requeued), len(report.restored), len(report.given_up),
                len(report.released),
            )  # fmt: skip
        return report

    async def _held(self, row: Handoff, present: bool, report: SweepReport) -> None:
        cid = row.conversation_id
        conv = await self.console.conv(cid)
        if conv.handoff_id != str(row.id) or conv.state is not ConversationState.WITH_AGENT:
            await self._restore_held(row)
            if present:
                report.restored.append(cid)
        if await self.console.store.get(claim_key(str(row.id))) is None:
            # the store forgot it: nobody else may take the entry out of the queue
            now = await self.console.conv(cid)
            token = f"{now.agent_id or ''}|{now.agent_name or row.claimed_by}"
            await self.console.store.acquire_lock(claim_key(str(row.id)), token, CLAIM_TTL)
        if present:
            return
        seconds = int(self.console.config.presence_ttl)
        note = f"坐席 {row.claimed_by} 连接中断超过 {seconds} 秒，会话已自动退回队列"
        if await self.desk.requeue(cid, note):
            report.requeued.append(cid)

    async def _restore_held(self, row: Handoff) -> None:
        user = await self.console.users.get_by_username(row.claimed_by or "")
        fields = self._row_fields(row)
        if user is not None:
            fields.update(
                agent_id=str(user.id), agent_name=user.display_name, agent_username=user.username
            )
        await self.console.conversations.restore_held(row.conversation_id, fields)

    async def _queued(self, row: Handoff, report: SweepReport) -> None:
        cid = row.conversation_id
        conv = await self.console.conv(cid)
        if (conv.handoff_id or None) not in (None, str(row.id)) and not await self._continues(
            conv.handoff_id, row
        ):
            await self.console.handoffs.end(row.id, "abandoned")  # superseded by a newer row
            return
        await self._stale_claim(row, report)
        waited = self.console.handoffs.now() - row.queued_at
        if waited.total_seconds() > self.console.config.max_queue_wait:
            await self._give_up(row, report)
            return
        conversations = self.console.conversations
        if conv.state is not ConversationState.QUEUED or conv.handoff_id != str(row.id):
            await conversations.restore_queued(cid, self._row_fields(row))
            report.restored.append(cid)
        if not await conversations.in_queue(cid):
            score = self.console.hub.score(row.priority, row.queued_at.timestamp(), row.reason)
            await conversations.put_in_queue(cid, score)
            await self.console.notifier.queue_changed()

    async def _continues(self, handoff_id: str | None, row: Handoff) -> bool:
        """Whether ``row`` is the requeue of the row ``handoff_id`` the store still
        names (a requeue that stopped after its SQL steps, before the store's)."""
        previous = await self.console.handoffs.get(int(handoff_id)) if handoff_id else None
        return previous is not None and previous.id < row.id and previous.outcome == "requeued"

    async def _stale_claim(self, row: Handoff, report: SweepReport) -> None:
        """Release a claim key that no SQL row followed within ``CLAIM_STALE``."""
        store = self.console.store
        key = claim_key(str(row.id))
        holder = await store.get(key)
        if holder is None:
            return
        left = await store.ttl(key)
        if left is not None and CLAIM_TTL - left < CLAIM_STALE:
            return  # a claim or cancel in progress right now
        if await store.release_lock(key, holder):
            log.warning("handoff %s: stale claim key released", row.id)
            report.released.append(row.conversation_id)

    async def _stale_deliveries(self, report: SweepReport) -> None:
        """Agents' messages left ``sending`` by a replica that stopped mid-send."""
        cutoff = self.console.handoffs.now() - SENDING_STALE
        for entry in await self.desk.deliveries.settle_stale(cutoff):
            await self.console.notifier.delivery(entry.conversation_id, entry.to_dict())
            report.unsettled.append(entry.conversation_id)

    async def _give_up(self, row: Handoff, report: SweepReport) -> None:
        cid = row.conversation_id
        outcome = "abandoned" if await self._citizen_left(cid) else "callback"
        if await self.desk.leave_queue(cid, str(row.id), SYSTEM_CLAIM, outcome, "offered"):
            await self.console.hub.push(cid, [texts.waited_too_long()])
            report.given_up.append(cid)

    async def _citizen_left(self, cid: str) -> bool:
        entries = await self.console.hub.history(cid, limit=20)
        last_in = max((e.created_at for e in entries if e.direction == "in"), default=None)
        return last_in is None or self.console.handoffs.now() - last_in > LEFT_AFTER

    async def _stray_entries(self, open_ids: set[int], report: SweepReport) -> None:
        conversations = self.console.conversations
        for cid in await conversations.queue_order():
            conv = await self.console.conv(cid)
            if conv.state is not ConversationState.QUEUED:
                await conversations.drop_from_queue(cid)
                continue
            handoff_id = conv.handoff_id
            if handoff_id and int(handoff_id) in open_ids:
                continue
            # Only under the conversation's lock, like the turn that queued it
            # (Desk.open_row): a turn in progress opens the row itself.
            try:
                async with self.console.hub.lock(cid, timeout=0):
                    if await self._needs_row(cid):
                        await self.desk.open_row(cid, await self.console.conv(cid))
                        report.restored.append(cid)
            except LockTimeout:
                continue
            self.console.hub.wake(cid)

    async def _needs_row(self, cid: str) -> bool:
        """Queued with no open SQL row (read again under the lock)."""
        conv = await self.console.conv(cid)
        if conv.state is not ConversationState.QUEUED:
            return False
        row = await self.console.handoffs.get(int(conv.handoff_id)) if conv.handoff_id else None
        return row is None or row.ended_at is not None

    @staticmethod
    def _row_fields(row: Handoff) -> dict[str, str]:
        channel_user_id = row.conversation_id.split(":", 1)[1]
        return {
            "channel": row.channel,
            "channel_user_id": channel_user_id,
            "handoff_id": str(row.id),
            "handoff_reason": row.reason,
            "handoff_priority": row.priority,
            "handoff_summary": json.dumps(row.summary, ensure_ascii=False),
            "queued_at": f"{row.queued_at.timestamp():.3f}",
            # a transfer to an agent group keeps the group in the row's summary
            "handoff_group": str(row.summary.get("group") or ""),
        }

    async def run_forever(self) -> None:
        """The periodic task: first sweep at once (rebuild after a restart)."""
        while not self.stopped:
            try:
                await self.run_once()
            except StoreUnavailable as exc:
                log.warning("handoff sweep skipped: %s", exc)
            except Exception as exc:  # keep sweeping; the next round may succeed
                log.error("handoff sweep failed: %s", type(exc).__name__)
            self.rounds += 1
            await asyncio.sleep(self.console.config.sweep_interval)
