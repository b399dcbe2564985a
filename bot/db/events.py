"""``EventRepo``: quality events (answered, fell back, handed off, ticket
created, rated...) counted for the supervisors' figures.

Event data is masked before it is written (``bot.privacy.mask_value``): a
payload that quotes the citizen keeps no phone, ID or bank-card number."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.db.schema import events
from bot.db.ticket_store import like_pattern
from bot.db.validation import optional, required
from bot.privacy import mask_value

if TYPE_CHECKING:
    from bot.db.database import Database

logger = logging.getLogger(__name__)

#: What every event recorded now carries besides its own data (the front door
#: sets it to the emergency switch's: ``{"drill": True}`` during a drill).
Tagger = Callable[[], Awaitable[Mapping[str, Any]]]


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
        #: The one place where events get the emergency drill flag
        #: (bot/emergency: ``EmergencyBoard.event_tags``); None: nothing added.
        self.tagger: Tagger | None = None

    async def tags(self) -> Mapping[str, Any]:
        """The tags of events recorded now; none when the tagger fails (the
        event is still recorded: statistics never break a conversation)."""
        if self.tagger is None:
            return {}
        try:
            return await self.tagger()
        except Exception as exc:  # noqa: BLE001 - e.g. the store is down
            logger.warning("event tags unavailable: %s", type(exc).__name__)
            return {}

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
        """Record several events in one transaction (statistics written in batches).

        During an emergency drill every event's data gets ``"drill": true``
        (:attr:`tagger`), so the city's figures can leave it out."""
        tags = await self.tags()
        rows = [
            {
                "kind": required(item.kind, "kind", 60),
                "conversation_id": optional(item.conversation_id, "conversation_id", 200),
                "ticket_number": optional(item.ticket_number, "ticket_number", 20),
                "data": mask_value({**(item.data or {}), **tags}),  # no plaintext numbers at rest
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
