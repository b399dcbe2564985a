"""Follow-up until settled (跟踪反馈, 回访).

A ticket the department answered (status ``replied``) that the citizen has
not rated ``FOLLOWUP_DAYS`` (default 3) days after the latest answer is on
the agents' follow-up list. An agent calls or messages the citizen and
records the outcome (:func:`bot.db.workflow.follow_up`): a ``followup``
entry on the ticket's timeline and a ``followup.recorded`` event.

- satisfied (rating 3-5) / not satisfied (rating 1-5): the rating becomes the
  ticket's rating, exactly as if the citizen had pressed the rating button
  (``rated`` on the timeline with ``via: followup``, a ``ticket.rated`` event
  with ``via: followup``): satisfied closes the ticket, not satisfied reopens it;
- reopened: the matter is not settled, the ticket goes back to work;
- unreachable / messaged: nobody answered yet; the ticket moves to "awaiting"
  and closes by itself ``FOLLOWUP_CLOSE_DAYS`` (default 7) days after the
  first follow-up attempt after the answer, unless the citizen rates it or
  an agent records another outcome first: ``closed`` on the timeline (actor
  ``system``, reason "回访无应答自动办结") and a ``followup.auto_closed`` event.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.db import workflow
from bot.db.errors import ConflictError, InvalidTransition, TicketNotFound
from bot.db.models import Ticket, TicketEvent
from bot.db.schema import ticket_events, tickets

if TYPE_CHECKING:
    from bot.db import Database

log = logging.getLogger(__name__)

AUTO_CLOSE_REASON = "回访无应答自动办结"
MAX_LISTED = 200


@dataclass(frozen=True)
class FollowupItem:
    ticket: Ticket
    replied_at: dt.datetime
    attempts: list[TicketEvent]  # follow-ups since the latest answer, oldest first
    close_at: dt.datetime | None  # when it closes by itself (awaiting only)

    @property
    def state(self) -> str:
        return "awaiting" if self.attempts else "due"


def _since_reply(ticket: Ticket) -> tuple[dt.datetime | None, list[TicketEvent]]:
    """The latest ``replied`` time and the follow-ups after it."""
    replied_at = None
    attempts: list[TicketEvent] = []
    for event in ticket.events:
        if event.kind == "replied":
            replied_at, attempts = event.at, []
        elif event.kind == "followup" and replied_at is not None:
            attempts.append(event)
    return replied_at, attempts


class Followups:
    def __init__(self, db: Database, *, due_days: float, close_days: float) -> None:
        self.db = db
        self.due_after = dt.timedelta(days=due_days)
        self.close_after = dt.timedelta(days=close_days)

    async def _candidates(self, replied_before: dt.datetime) -> list[str]:
        """Replied, unrated tickets whose latest answer is older than ``replied_before``."""
        last_reply = (
            sa.select(
                ticket_events.c.ticket_id, sa.func.max(ticket_events.c.at).label("replied_at")
            )
            .where(ticket_events.c.kind == "replied")
            .group_by(ticket_events.c.ticket_id)
            .subquery()
        )
        stmt = (
            sa.select(tickets.c.number)
            .join(last_reply, last_reply.c.ticket_id == tickets.c.id)
            .where(
                tickets.c.status == "replied",
                tickets.c.rating.is_(None),
                last_reply.c.replied_at <= replied_before,
            )
            .order_by(last_reply.c.replied_at, tickets.c.id)
            .limit(MAX_LISTED)
        )
        async with self.db.read() as conn:
            return [str(n) for n in (await conn.execute(stmt)).scalars().all()]

    async def items(self) -> list[FollowupItem]:
        """The follow-up list: due ones (no attempt yet) first, oldest answer first."""
        now = self.db.now()
        found = []
        for number in await self._candidates(now - self.due_after):
            ticket = await self.db.tickets.get(number)
            if ticket is None or ticket.status != "replied" or ticket.rating is not None:
                continue  # changed since the query
            replied_at, attempts = _since_reply(ticket)
            if replied_at is None:
                continue
            close_at = attempts[0].at + self.close_after if attempts else None
            found.append(FollowupItem(ticket, replied_at, attempts, close_at))
        return sorted(found, key=lambda i: (i.state != "due", i.replied_at))

    async def record(
        self,
        number: str,
        *,
        actor: str,
        method: str,
        outcome: str,
        rating: int | None = None,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> Ticket:
        """Record one follow-up (raises ValueError, InvalidTransition, ConflictError,
        TicketNotFound like the other ticket actions) and its events."""

        def plan(state: workflow.State, _now: dt.datetime) -> workflow.Change:
            return workflow.follow_up(state, method, outcome, rating, note)

        ticket = await self.db.tickets._change(
            number, plan, actor=actor, expected_version=expected_version
        )
        data: dict[str, Any] = {
            "method": method, "outcome": outcome, "status": ticket.status,
            "department": ticket.department, "category": ticket.category,
        }  # fmt: skip
        if rating is not None:
            data["rating"] = rating
        await self._event("followup.recorded", ticket, data)
        if outcome in ("satisfied", "not_satisfied"):
            rated = {"rating": rating, "status": ticket.status, "via": "followup"}
            await self._event("ticket.rated", ticket, rated)
        return ticket

    async def auto_close(self) -> list[str]:
        """Close the tickets whose first follow-up attempt is ``close_days`` old."""
        now = self.db.now()
        closed = []
        for item in await self.items():
            if item.close_at is None or item.close_at > now:
                continue
            ticket = item.ticket
            try:
                await self.db.tickets.close(
                    ticket.number, actor="system", reason=AUTO_CLOSE_REASON,
                    expected_version=ticket.version,
                )  # fmt: skip
            except (ConflictError, InvalidTransition, TicketNotFound) as exc:
                log.info("ticket %s not auto-closed: %s", ticket.number, type(exc).__name__)
                continue
            closed.append(ticket.number)
            data = {
                "department": ticket.department, "category": ticket.category,
                "attempts": len(item.attempts),
                "outcome": str(item.attempts[-1].data.get("outcome", "")),
            }  # fmt: skip
            await self._event("followup.auto_closed", ticket, data)
        if closed:
            log.info("follow-up: %d tickets closed without an answer", len(closed))
        return closed

    async def _event(self, kind: str, ticket: Ticket, data: dict[str, Any]) -> None:
        try:
            await self.db.events.record(
                kind, conversation_id=ticket.conversation_id, ticket_number=ticket.number,
                data=data,
            )  # fmt: skip
        except Exception as exc:  # the timeline has it; figures are not worth a failure
            log.error("event %s not recorded: %s", kind, type(exc).__name__)
