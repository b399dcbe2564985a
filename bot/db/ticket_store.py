"""SQL helpers for tickets: numbering, inserting, loading rows into ``Ticket``.

Kept apart from the repository so the repository reads as the business
operations, and this module as the SQL they need.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.crypto import Cipher
from bot.db.engine import inserted_key
from bot.db.models import Ticket, TicketEvent
from bot.db.routing import Route
from bot.db.schema import ticket_events, tickets
from bot.db.validation import NewTicket
from bot.privacy import mask_text

SHANGHAI = ZoneInfo("Asia/Shanghai")

# One statement, atomic on both PostgreSQL and SQLite (>= 3.35): concurrent
# callers on any replica each get their own value.
_NEXT_VALUE = sa.text(
    "INSERT INTO ticket_counters (day, value) VALUES (:day, 1) "
    "ON CONFLICT (day) DO UPDATE SET value = ticket_counters.value + 1 "
    "RETURNING value"
)


async def next_number(conn: AsyncConnection, now: dt.datetime) -> str:
    """The next ticket number of the (Shanghai) day: ``YYYYMMDD-NNNNNN``."""
    day = now.astimezone(SHANGHAI).strftime("%Y%m%d")
    value = (await conn.execute(_NEXT_VALUE, {"day": day})).scalar_one()
    return f"{day}-{value:06d}"


async def insert_ticket(
    conn: AsyncConnection,
    new: NewTicket,
    *,
    number: str,
    route: Route,
    status: str,
    priority: str,
    deadline: dt.datetime,
    now: dt.datetime,
    cipher: Cipher,
    version: int,
) -> int:
    """Insert the ticket row (personal data encrypted); returns its id.

    ``version`` is the number of timeline events the caller appends with it."""
    result = await conn.execute(
        tickets.insert().values(
            number=number,
            idempotency_key=new.idempotency_key,
            type=new.type,
            category=new.category,
            # the citizen's words, numbers masked: the full contact number is
            # the encrypted field below, read through an audited action
            description=mask_text(new.description),
            location=mask_text(new.location) if new.location else new.location,
            occurred_at=mask_text(new.occurred_at) if new.occurred_at else new.occurred_at,
            channel=new.channel,
            conversation_id=new.conversation_id,
            contact_name_enc=cipher.encrypt(new.contact_name),
            contact_phone_enc=cipher.encrypt(new.contact_phone),
            id_number_enc=cipher.encrypt(new.id_number),
            anonymous=new.anonymous,
            department=route.department,
            department_name=route.department_name,
            priority=priority,
            status=status,
            deadline=deadline,
            version=version,
            created_at=now,
            updated_at=now,
            town=new.town,
            category_confidence=new.category_confidence,
            needs_review=new.needs_review,
        )
    )
    return inserted_key(result)


async def append_events(
    conn: AsyncConnection,
    ticket_id: int,
    first_version: int,
    events: list[tuple[str, dict[str, Any]]],
    *,
    actor: str,
    at: dt.datetime,
) -> None:
    """Append timeline events numbered ``first_version``, ``first_version + 1``, ..."""
    if not events:
        return
    rows = [
        {"ticket_id": ticket_id, "version": first_version + i, "kind": kind, "actor": actor,
         "at": at, "data": data}
        for i, (kind, data) in enumerate(events)
    ]  # fmt: skip
    await conn.execute(ticket_events.insert(), rows)


async def load_ticket(
    conn: AsyncConnection, cipher: Cipher, where: sa.sql.ColumnElement[bool]
) -> Ticket | None:
    """One ticket with its whole timeline, or ``None``."""
    row = (await conn.execute(sa.select(tickets).where(where))).first()
    if row is None:
        return None
    event_rows = await conn.execute(
        sa.select(ticket_events)
        .where(ticket_events.c.ticket_id == row.id)
        .order_by(ticket_events.c.version)
    )
    return row_to_ticket(row, cipher, [row_to_event(e) for e in event_rows])


def row_to_event(row: Row) -> TicketEvent:
    return TicketEvent(
        kind=row.kind, actor=row.actor, at=row.at, data=dict(row.data or {}), version=row.version
    )


def row_to_ticket(row: Row, cipher: Cipher, events: list[TicketEvent] | None = None) -> Ticket:
    """Build a ``Ticket`` from a ``tickets`` row, decrypting the personal data."""
    return Ticket(
        number=row.number,
        type=row.type,
        category=row.category,
        description=row.description,
        location=row.location,
        occurred_at=row.occurred_at,
        channel=row.channel,
        conversation_id=row.conversation_id,
        contact_name=cipher.decrypt(row.contact_name_enc),
        contact_phone=cipher.decrypt(row.contact_phone_enc),
        id_number=cipher.decrypt(row.id_number_enc),
        anonymous=bool(row.anonymous),
        department=row.department,
        department_name=row.department_name,
        priority=row.priority,
        status=row.status,
        deadline=row.deadline,
        created_at=row.created_at,
        updated_at=row.updated_at,
        rating=row.rating,
        version=row.version,
        events=events or [],
        rating_comment=row.rating_comment,
        escalated_at=row.escalated_at,
        town=row.town,
        category_confidence=row.category_confidence,
        needs_review=bool(row.needs_review),
    )


def like_pattern(query: str) -> str:
    """``%query%`` with LIKE wildcards in the query escaped (escape char ``\\``)."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
