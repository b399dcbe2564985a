"""``EventRepo``: quality events (answered, fell back, handed off, ticket
created, rated...) counted for the supervisors' figures.

Event data is masked before it is written (``bot.privacy.mask_value``): a
payload that quotes the citizen keeps no phone, ID or bank-card number."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.db.schema import events
from bot.db.ticket_store import like_pattern
from bot.db.validation import optional, required
from bot.privacy import mask_value

if TYPE_CHECKING:
    from bot.db.database import Database


@dataclass(frozen=True)
class EventItem:
    """One event for :meth:`EventRepo.record_many` (``at`` defaults to the write time)."""

    kind: str
    conversation_id: str | None = None
    ticket_number: str | None = None
    data: dict[str, Any] | None = None
    at: dt.datetime | None = None


class EventRepo:
    """Append-only quality events; ``kind`` is a dotted name such as ``ticket.created``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        kind: str,
        *,
        conversation_id: str | None = None,
        ticket_number: str | None = None,
        data: dict[str, Any] | None = None,
        at: dt.datetime | None = None,
    ) -> None:
        """Record one event (``at`` defaults to now), committed with concurrent writes."""
        await self.record_many([EventItem(kind, conversation_id, ticket_number, data, at)])

    async def record_many(self, items: Sequence[EventItem]) -> None:
        """Record several events in one transaction (statistics written in batches)."""
        rows = [
            {
                "kind": required(item.kind, "kind", 60),
                "conversation_id": optional(item.conversation_id, "conversation_id", 200),
                "ticket_number": optional(item.ticket_number, "ticket_number", 20),
                "data": mask_value(dict(item.data or {})),  # no plaintext numbers at rest
                "at": item.at or self._db.now(),
            }
            for item in items
        ]
        await self._db.group.insert_many(events, rows)

    async def counts(
        self,
        kind_prefix: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> dict[str, int]:
        """Events per kind in ``[since, until)``, optionally only kinds starting
        with ``kind_prefix``."""
        stmt = sa.select(events.c.kind, sa.func.count()).group_by(events.c.kind)
        if kind_prefix:
            pattern = like_pattern(kind_prefix)[1:]  # prefix match: drop the leading %
            stmt = stmt.where(events.c.kind.like(pattern, escape="\\"))
        if since is not None:
            stmt = stmt.where(events.c.at >= since)
        if until is not None:
            stmt = stmt.where(events.c.at < until)
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return {str(kind): int(count) for kind, count in rows}

    async def count_for_ticket(self, kind: str, ticket_number: str, since: dt.datetime) -> int:
        """How many ``kind`` events a ticket had since ``since`` (rate limits)."""
        stmt = (
            sa.select(sa.func.count())
            .select_from(events)
            .where(events.c.kind == kind)
            .where(events.c.ticket_number == ticket_number)
            .where(events.c.at >= since)
        )
        async with self._db.read() as conn:
            return int((await conn.execute(stmt)).scalar_one())
