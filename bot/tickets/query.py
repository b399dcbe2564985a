"""Ticket lists for the console and the REST API: filters, flags, pagination.

``TicketRepo.list`` filters by status, department and text; the console and
the case system also need category, priority and the deadline flags, and a
total for paging. This is one read-only query over the ``tickets`` table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.db.models import OPEN_STATUSES, PRIORITIES, TICKET_STATUSES, Ticket
from bot.db.schema import tickets
from bot.db.ticket_store import like_pattern, row_to_ticket

if TYPE_CHECKING:
    from bot.db import Database

DUE_SOON = dt.timedelta(hours=24)
FLAGS = ("overdue", "due_soon", "escalated", "needs_review")
MAX_LIMIT = 200
MAX_QUERY = 100


@dataclass(frozen=True)
class TicketFilter:
    """Validated list criteria; build with :func:`parse_filter`."""

    statuses: tuple[str, ...] = ()
    department: str | None = None
    category: str | None = None
    town: str | None = None  # a key of data/towns.yml
    priority: str | None = None
    flag: str | None = None
    query: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass
class TicketPage:
    items: list[Ticket] = field(default_factory=list)
    total: int = 0


def _int(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValueError(f"'{name}' must be a whole number from {low} to {high}")
    return int(raw)


def _choice(params: dict[str, str], name: str, allowed: Any) -> str | None:
    value = params.get(name) or None
    if value is not None and value not in allowed:
        raise ValueError(f"'{name}' must be one of {', '.join(sorted(allowed))}")
    return value


def parse_filter(params: dict[str, str], db: Database) -> TicketFilter:
    """Query-string parameters -> filter; ``ValueError`` names the bad parameter."""
    statuses = tuple(s for s in (params.get("status") or "").split(",") if s)
    bad = [s for s in statuses if s not in TICKET_STATUSES]
    if bad:
        raise ValueError(f"'status' must be among {', '.join(TICKET_STATUSES)}")
    query = (params.get("q") or "").strip() or None
    if query is not None and len(query) > MAX_QUERY:
        raise ValueError(f"'q' is longer than {MAX_QUERY} characters")
    return TicketFilter(
        statuses=statuses,
        department=_choice(params, "department", db.routing.departments),
        category=_choice(params, "category", db.routing.categories),
        town=_choice(params, "town", db.routing.towns.towns if db.routing.towns else {}),
        priority=_choice(params, "priority", PRIORITIES),
        flag=_choice(params, "flag", FLAGS),
        query=query,
        limit=_int(params, "limit", 50, 1, MAX_LIMIT),
        offset=_int(params, "offset", 0, 0, 10_000_000),
    )


def _conditions(f: TicketFilter, now: dt.datetime) -> list[Any]:
    c = tickets.c
    where: list[Any] = []
    if f.statuses:
        where.append(c.status.in_(f.statuses))
    for column, value in (
        (c.department, f.department),
        (c.category, f.category),
        (c.town, f.town),
        (c.priority, f.priority),
    ):
        if value is not None:
            where.append(column == value)
    if f.flag is not None:
        where.append(c.status.in_(OPEN_STATUSES))
    if f.flag == "overdue":
        where.append(c.deadline < now)
    elif f.flag == "due_soon":
        where.append(sa.and_(c.deadline >= now, c.deadline < now + DUE_SOON))
    elif f.flag == "escalated":
        where.append(c.escalated_at.isnot(None))
    elif f.flag == "needs_review":  # low classifier confidence: a person checks the category
        where.append(c.needs_review.is_(True))
    if f.query:
        pattern = like_pattern(f.query)
        where.append(
            sa.or_(c.number.like(pattern, escape="\\"), c.description.like(pattern, escape="\\"))
        )
    return where


async def list_tickets(db: Database, f: TicketFilter) -> TicketPage:
    """One page, newest first, without timelines, and the total matching."""
    where = _conditions(f, db.now())
    stmt = (
        sa.select(tickets)
        .where(*where)
        .order_by(tickets.c.created_at.desc(), tickets.c.id.desc())
        .limit(f.limit)
        .offset(f.offset)
    )
    count = sa.select(sa.func.count()).select_from(tickets).where(*where)
    async with db.read() as conn:
        rows = (await conn.execute(stmt)).all()
        total = int((await conn.execute(count)).scalar_one())
    return TicketPage([row_to_ticket(row, db.cipher) for row in rows], total)


def flags(ticket: Ticket, now: dt.datetime) -> dict[str, bool]:
    """The deadline flags shown in lists: overdue, due within 24 h, escalated."""
    open_ = ticket.is_open and ticket.deadline is not None
    deadline = ticket.deadline or now
    return {
        "overdue": open_ and deadline < now,
        "due_soon": open_ and now <= deadline < now + DUE_SOON,
        "escalated": ticket.is_open and ticket.escalated_at is not None,
    }
