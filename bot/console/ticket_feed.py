"""The live ticket list: ticket changes pushed to the consoles over ``/console/ws``.

Tickets change in several processes: the console and the tickets API of any
replica, the action server (a citizen's complaint becomes a ticket there),
the ticket sweep (overdue, escalated). All of them append to the ticket's
timeline (``ticket_events``) in the same transaction as the change, so the
timeline is the one complete feed: each replica with consoles connected
reads the rows after the last one it saw, every :data:`POLL_SECONDS`, with
one indexed query (while no console is connected, only the newest id), and
sends each console a ``tickets`` frame naming the changed tickets in its
scope. Department users are told only of their own department's tickets
(the ticket's department now, or the one it was transferred or returned
from); agents and supervisors of every ticket. The page then reloads its
list through ``GET /console/api/tickets``, which applies the same scope.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.db.schema import ticket_events, tickets

if TYPE_CHECKING:
    from bot.console.agent_socket import AgentSockets
    from bot.console.users import User
    from bot.db.database import Database

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
BATCH = 500


@dataclass(frozen=True)
class TicketChange:
    event_id: int
    number: str
    kind: str
    status: str
    department: str
    from_department: str | None

    def visible_to(self, user: User) -> bool:
        if user.role != "department":
            return True
        return user.department in (self.department, self.from_department)

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "kind": self.kind, "status": self.status}


class TicketFeed:
    """One per replica: timeline rows after :attr:`last_id`, pushed to the sockets."""

    def __init__(self, db: Database, sockets: AgentSockets, interval: float = POLL_SECONDS):
        self.db = db
        self.sockets = sockets
        self.interval = interval
        self.last_id: int | None = None

    async def run_forever(self) -> None:
        while True:
            try:
                await self.step()
            except Exception as exc:  # a database hiccup: the next round reads on
                log.warning("ticket feed round failed: %s", type(exc).__name__)
            await asyncio.sleep(self.interval)

    async def step(self) -> int:
        """One round; how many changes were read."""
        if self.last_id is None or not self.sockets.seats:
            # Nobody to tell: only follow the newest id, so that a console that
            # connects hears of every change since (also one made between its
            # list's load and its socket's opening).
            self.last_id = await self._newest()
            return 0
        changes = await self.changes_after(self.last_id)
        if changes:
            self.last_id = changes[-1].event_id
            await self.tell(changes)
        return len(changes)

    async def tell(self, changes: list[TicketChange]) -> None:
        for seat in list(self.sockets.seats):
            mine = [c.to_dict() for c in changes if c.visible_to(seat.user)]
            if mine:
                await seat.send({"type": "tickets", "changes": mine})

    async def _newest(self) -> int:
        async with self.db.read() as conn:
            value = (await conn.execute(sa.select(sa.func.max(ticket_events.c.id)))).scalar()
        return int(value or 0)

    async def changes_after(self, event_id: int) -> list[TicketChange]:
        stmt = (
            sa.select(
                ticket_events.c.id,
                ticket_events.c.kind,
                ticket_events.c.data,
                tickets.c.number,
                tickets.c.status,
                tickets.c.department,
            )  # fmt: skip
            .join(tickets, tickets.c.id == ticket_events.c.ticket_id)
            .where(ticket_events.c.id > event_id)
            .order_by(ticket_events.c.id)
            .limit(BATCH)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            TicketChange(
                event_id=int(r.id),
                number=r.number,
                kind=r.kind,
                status=r.status,
                department=r.department,
                from_department=_from(r.data),
            )  # fmt: skip
            for r in rows
        ]


def _from(data: Any) -> str | None:
    value = data.get("from") if isinstance(data, dict) else None
    return str(value) if value else None
