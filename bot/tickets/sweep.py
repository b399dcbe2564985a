"""The deadline sweep: flag tickets near their deadline, escalate overdue ones.

Every ``TICKET_SWEEP_SECONDS`` (and once with ``python -m bot.tickets sweep``):

- an open ticket whose deadline is within 24 hours gets one ``ticket.due_soon``
  event per deadline;
- an open ticket past its deadline is escalated to the supervisors
  (``escalated`` on its timeline, ``escalated_at`` set, a ``ticket.escalated``
  event, a message on the store channel ``tickets``, and the citizen told
  that it is overdue and pressed, bot/tickets/notices.py), once per deadline: a
  ticket transferred to a new deadline can be escalated again when that one
  passes too;
- a replied ticket whose citizen was not told (the channel failed) is
  notified again, at most ``NOTIFY_ATTEMPTS`` times.

Several replicas may run the sweep at the same moment. One store lock
(``lock:tickets:sweep``) lets one of them work at a time; in addition each
escalation is applied with the version the sweep read, so a second sweep
that read the same ticket (for instance ``python -m bot.tickets sweep`` next
to a front door without Redis) fails the version check instead of
escalating twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.db import workflow
from bot.db.errors import ConflictError, InvalidTransition, TicketNotFound
from bot.db.models import Ticket
from bot.tickets.notify import Notifier, was_notified
from bot.tickets.query import DUE_SOON
from bot.tickets.service import apply_plan

if TYPE_CHECKING:
    from bot.db import Database
    from bot.store.base import SharedStore

log = logging.getLogger(__name__)

LOCK_NAME = "tickets:sweep"
LOCK_TTL = 60.0
TICKETS_CHANNEL = "tickets"
NOTIFY_ATTEMPTS = 5
NOTIFY_RETRY_AFTER = dt.timedelta(minutes=2)
FLAG_TTL = 30 * 24 * 3600.0
MAX_RETRIES_PER_SWEEP = 100


@dataclass
class SweepReport:
    ran: bool = True
    due_soon: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    renotified: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.ran:
            return "sweep skipped: another replica is sweeping"
        return (
            f"sweep done: {len(self.due_soon)} due soon, {len(self.escalated)} escalated, "
            f"{len(self.renotified)} results re-sent"
        )


def needs_escalation(ticket: Ticket, now: dt.datetime) -> bool:
    """Open, past its deadline, and not escalated since that deadline passed.

    An escalation for the current deadline is later than the deadline; an
    older one (before a transfer set a new deadline, or a supervisor's early
    one) does not count.
    """
    if not ticket.is_overdue(now) or ticket.deadline is None:
        return False
    return ticket.escalated_at is None or ticket.escalated_at < ticket.deadline


class Sweeper:
    def __init__(self, db: Database, store: SharedStore, notifier: Notifier | None) -> None:
        self.db = db
        self.store = store
        self.notifier = notifier

    async def sweep(self) -> SweepReport:
        """One pass; skipped (``ran=False``) while another replica holds the lock."""
        held = await self.store.try_lock(LOCK_NAME, LOCK_TTL)
        if held is None:
            return SweepReport(ran=False)
        report = SweepReport()
        async with held:
            now = self.db.now()
            for ticket in await self.db.tickets.due_soon_or_overdue(now, DUE_SOON):
                if held.lost:
                    break
                if needs_escalation(ticket, now):
                    await self._escalate(ticket, now, report)
                elif not ticket.is_overdue(now):
                    await self._flag_due_soon(ticket, report)
            if self.notifier is not None and not held.lost:
                await self._renotify(now, report)
        if report.escalated or report.renotified:
            log.info("%s", report.summary())
        return report

    async def _escalate(self, ticket: Ticket, now: dt.datetime, report: SweepReport) -> None:
        late = now - (ticket.deadline or now)
        reason = f"超过答复期限{max(1, int(late.total_seconds() // 3600))}小时"
        try:
            escalated = await apply_plan(
                self.db,
                ticket.number,
                lambda s, at: workflow.escalate(s, at, reason),
                actor="system",
                expected_version=ticket.version,
            )
        except (ConflictError, InvalidTransition, TicketNotFound) as exc:
            log.info("ticket %s not escalated: %s", ticket.number, type(exc).__name__)
            return
        report.escalated.append(ticket.number)
        if self.notifier is not None:  # the citizen hears that it is overdue and pressed
            await self.notifier.notify_steps(escalated, ticket.version)
        data = {"department": ticket.department, "deadline": _iso(ticket.deadline)}
        await self._event("ticket.escalated", ticket, data)
        note = {"type": "escalated", "number": ticket.number, "department": ticket.department}
        try:
            await self.store.publish(TICKETS_CHANNEL, json.dumps(note, ensure_ascii=False))
        except Exception as exc:  # live update only; the console also polls
            log.warning("escalation of %s not published: %s", ticket.number, type(exc).__name__)

    async def _flag_due_soon(self, ticket: Ticket, report: SweepReport) -> None:
        key = f"ticket:due_soon:{ticket.number}:{_iso(ticket.deadline)}"
        if await self.store.claim(key, FLAG_TTL):
            report.due_soon.append(ticket.number)
            await self._event("ticket.due_soon", ticket, {"deadline": _iso(ticket.deadline)})

    async def _renotify(self, now: dt.datetime, report: SweepReport) -> None:
        assert self.notifier is not None
        for row in await self.db.tickets.list(status="replied", limit=MAX_RETRIES_PER_SWEEP):
            if row.updated_at > now - NOTIFY_RETRY_AFTER:
                continue  # the request that saved the reply is still notifying
            ticket = await self.db.tickets.get(row.number)
            if ticket is None or was_notified(ticket):
                continue
            attempts = await self.store.incr(f"ticket:notify_attempts:{ticket.number}", FLAG_TTL)
            if attempts > NOTIFY_ATTEMPTS:
                continue
            if await self.notifier.notify_result(ticket):
                report.renotified.append(ticket.number)

    async def _event(self, kind: str, ticket: Ticket, data: Mapping[str, object]) -> None:
        try:
            await self.db.events.record(
                kind,
                conversation_id=ticket.conversation_id,
                ticket_number=ticket.number,
                data=dict(data),
            )
        except Exception as exc:
            log.error("event %s not recorded: %s", kind, type(exc).__name__)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def run_forever(sweeper: Sweeper, interval: float) -> None:
    """The background job: sweep, sleep ``interval``, forever; errors are logged."""
    while True:
        try:
            await sweeper.sweep()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the next pass tries again
            log.error("ticket sweep failed: %s", type(exc).__name__)
        await asyncio.sleep(interval)
