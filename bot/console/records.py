"""Handoff records and internal notes in SQL (tables ``handoffs``, ``handoff_notes``).

One row per stay in the queue: it is opened when a conversation is queued
and ended with an outcome (``handed_back``, ``closed``, ``abandoned``,
``callback``, ``requeued``). SQL is the durable truth of who holds what; the
shared store is rebuilt from it after a Redis restart (``bot.console.sweep``).
Claiming updates the row only while nobody has claimed it, a second guard
behind the store's atomic claim key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.db.engine import inserted_key
from bot.db.models import LOCAL_TZ
from bot.db.schema import handoff_notes, handoffs
from bot.privacy import mask_text

if TYPE_CHECKING:
    from bot.db.database import Database

OUTCOMES = ("handed_back", "closed", "abandoned", "callback", "requeued")
MAX_NOTE = 2000


@dataclass(frozen=True)
class Handoff:
    id: int
    conversation_id: str
    channel: str
    reason: str
    priority: str
    summary: dict[str, Any]
    queued_at: dt.datetime
    claimed_at: dt.datetime | None
    claimed_by: str | None
    first_agent_message_at: dt.datetime | None
    ended_at: dt.datetime | None
    outcome: str | None
    rating: int | None
    comment: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "reason": self.reason,
            "priority": self.priority,
            "summary": self.summary,
            "queued_at": _iso(self.queued_at),
            "claimed_at": _iso(self.claimed_at),
            "claimed_by": self.claimed_by,
            "ended_at": _iso(self.ended_at),
            "outcome": self.outcome,
            "rating": self.rating,
            "comment": self.comment,
        }


@dataclass(frozen=True)
class Note:
    id: int
    conversation_id: str
    author: str
    text: str
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "author": self.author,
            "text": self.text,
            "created_at": _iso(self.created_at),
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(LOCAL_TZ).isoformat() if value is not None else None


class HandoffRepo:
    """The ``handoffs`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def now(self) -> dt.datetime:
        return self._db.now()

    async def open(
        self,
        *,
        conversation_id: str,
        channel: str,
        reason: str,
        priority: str,
        summary: dict[str, Any],
        queued_at: dt.datetime | None = None,
    ) -> int:
        values = {
            "conversation_id": conversation_id, "channel": channel, "reason": reason[:200],
            # masked already: it comes from the front door, which masks it on
            # its way in (bot/hub_routing.py Router._request_handoff)
            "priority": priority, "summary": summary,
            "queued_at": queued_at or self.now(),
        }  # fmt: skip
        async with self._db.write() as conn:
            result = await conn.execute(handoffs.insert().values(**values))
        return inserted_key(result)

    async def _update(self, handoff_id: int, where: Any, **values: Any) -> bool:
        stmt = handoffs.update().where(handoffs.c.id == handoff_id, where).values(**values)
        async with self._db.write() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def claim(self, handoff_id: int, username: str) -> bool:
        """Mark the row claimed by ``username``; false when claimed or ended already."""
        where = sa.and_(handoffs.c.claimed_by.is_(None), handoffs.c.ended_at.is_(None))
        return await self._update(handoff_id, where, claimed_by=username, claimed_at=self.now())

    async def unclaim(self, handoff_id: int, username: str) -> bool:
        """Undo :meth:`claim` of ``username`` (a claim whose next step failed)."""
        where = sa.and_(handoffs.c.claimed_by == username, handoffs.c.ended_at.is_(None))
        return await self._update(handoff_id, where, claimed_by=None, claimed_at=None)

    async def transfer(self, handoff_id: int, username: str) -> bool:
        return await self._update(handoff_id, handoffs.c.ended_at.is_(None), claimed_by=username)

    async def agent_message(self, handoff_id: int) -> bool:
        where = handoffs.c.first_agent_message_at.is_(None)
        return await self._update(handoff_id, where, first_agent_message_at=self.now())

    async def end(self, handoff_id: int, outcome: str) -> bool:
        """End an open row; false when it had ended already."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        where = handoffs.c.ended_at.is_(None)
        return await self._update(handoff_id, where, ended_at=self.now(), outcome=outcome)

    async def set_outcome(self, handoff_id: int, outcome: str) -> bool:
        """Correct the outcome of an ended row (an offered callback that was taken)."""
        return await self._update(handoff_id, handoffs.c.ended_at.isnot(None), outcome=outcome)

    async def rate(self, handoff_id: int, rating: int) -> bool:
        if not 1 <= rating <= 5:
            raise ValueError("rating must be 1 to 5")
        return await self._update(handoff_id, handoffs.c.rating.is_(None), rating=rating)

    async def comment(self, handoff_id: int, text: str) -> bool:
        """The citizen's comment on the service, numbers masked (bot.privacy)."""
        comment = mask_text(text[:1000])
        return await self._update(handoff_id, handoffs.c.comment.is_(None), comment=comment)

    async def get(self, handoff_id: int) -> Handoff | None:
        rows = await self._select(handoffs.c.id == handoff_id)
        return rows[0] if rows else None

    async def latest(self, conversation_id: str) -> Handoff | None:
        rows = await self._select(handoffs.c.conversation_id == conversation_id, newest=1)
        return rows[0] if rows else None

    async def open_rows(self) -> list[Handoff]:
        """Every row not ended yet (queued or held), oldest first."""
        return await self._select(handoffs.c.ended_at.is_(None))

    async def held_by(self, username: str) -> list[Handoff]:
        return await self._select(
            sa.and_(handoffs.c.ended_at.is_(None), handoffs.c.claimed_by == username)
        )

    async def recent_waits(self, since: dt.datetime) -> list[float]:
        """Seconds from queued to claimed of the rows claimed since ``since``."""
        stmt = sa.select(handoffs.c.queued_at, handoffs.c.claimed_at).where(
            handoffs.c.claimed_at >= since
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [max(0.0, (claimed - queued).total_seconds()) for queued, claimed in rows]

    async def between(self, since: dt.datetime, until: dt.datetime) -> list[Handoff]:
        return await self._select(
            sa.and_(handoffs.c.queued_at >= since, handoffs.c.queued_at < until)
        )

    async def _select(self, where: Any, newest: int | None = None) -> list[Handoff]:
        stmt = sa.select(handoffs).where(where)
        if newest:
            stmt = stmt.order_by(handoffs.c.id.desc()).limit(newest)
        else:
            stmt = stmt.order_by(handoffs.c.id)
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_handoff(row) for row in rows]


def _handoff(row: Any) -> Handoff:
    return Handoff(
        id=int(row.id), conversation_id=row.conversation_id, channel=row.channel,
        reason=row.reason, priority=row.priority, summary=dict(row.summary or {}),
        queued_at=row.queued_at, claimed_at=row.claimed_at, claimed_by=row.claimed_by,
        first_agent_message_at=row.first_agent_message_at, ended_at=row.ended_at,
        outcome=row.outcome, rating=row.rating, comment=row.comment,
    )  # fmt: skip


class NoteRepo:
    """Internal notes on a conversation, never shown to the citizen."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, conversation_id: str, author: str, text: str) -> Note:
        text = (text or "").strip()
        if not text:
            raise ValueError("note text is required")
        if len(text) > MAX_NOTE:
            raise ValueError(f"note is longer than {MAX_NOTE} characters")
        now = self._db.now()
        text = mask_text(text)  # no plaintext numbers at rest (bot.privacy)
        values = {"conversation_id": conversation_id, "author": author[:60], "text": text}
        async with self._db.write() as conn:
            result = await conn.execute(handoff_notes.insert().values(**values, created_at=now))
        return Note(inserted_key(result), conversation_id, author, text, now)

    async def list(self, conversation_id: str) -> list[Note]:
        stmt = (
            sa.select(handoff_notes)
            .where(handoff_notes.c.conversation_id == conversation_id)
            .order_by(handoff_notes.c.id)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [Note(int(r.id), r.conversation_id, r.author, r.text, r.created_at) for r in rows]
