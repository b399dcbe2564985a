"""``TicketRepo``: create tickets idempotently, look them up, and change them.

Every change goes through :meth:`TicketRepo._change`: in one transaction it
reads the row (``FOR UPDATE`` on PostgreSQL; SQLite write transactions are
serial), checks the rule in ``workflow``, updates the row only if its
``version`` is unchanged and appends the timeline events numbered after that
version. A unique (ticket, version) constraint makes the timeline one linear
history whatever the concurrency.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.db import ticket_store as store
from bot.db import workflow
from bot.db.errors import ConflictError, TicketNotFound
from bot.db.models import OPEN_STATUSES, PRIORITIES, Ticket
from bot.db.schema import tickets
from bot.db.ticket_changes import TicketChanges
from bot.db.validation import required, validate_new_ticket

if TYPE_CHECKING:
    from bot.db.database import Database

log = logging.getLogger(__name__)

Plan = Callable[[workflow.State, dt.datetime], workflow.Change]
TicketList = list[Ticket]  # the method TicketRepo.list shadows the builtin inside the class
_MAX_ATTEMPTS = 5


class _Retry(Exception):
    """The row's version moved between read and update; try again."""


class TicketRepo(TicketChanges):
    """Tickets (工单) and their timelines."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        *,
        idempotency_key: str,
        type: str,  # noqa: A002 - the documented keyword
        category: str,
        description: str,
        location: str | None,
        occurred_at: str | None,
        channel: str,
        conversation_id: str,
        contact_name: str | None,
        contact_phone: str | None,
        id_number: str | None = None,
        anonymous: bool = False,
        priority: str = "normal",
        actor: str = "bot",
        town: str | None = None,
        category_confidence: float | None = None,
        needs_review: bool = False,
    ) -> tuple[Ticket, bool]:
        """Create a ticket, or return the one created earlier with the same key.

        Returns ``(ticket, created)``. Known categories are assigned at once
        (status ``assigned``, department, deadline); unknown ones go to the
        triage desk with status ``new``. ``town`` (a key of data/towns.yml)
        sends a street-level category to the town's office; ``needs_review``
        (the classifier was not confident) sends any category to the triage
        desk, flagged for a person, keeping the predicted category.
        """
        new = validate_new_ticket(
            idempotency_key=idempotency_key, type=type, category=category,
            description=description, location=location, occurred_at=occurred_at,
            channel=channel, conversation_id=conversation_id, contact_name=contact_name,
            contact_phone=contact_phone, id_number=id_number, anonymous=anonymous,
            priority=priority, actor=actor, town=town,
            category_confidence=category_confidence, needs_review=needs_review,
        )  # fmt: skip
        existing = await self._by_key(new.idempotency_key)
        if existing is not None:
            return existing, False
        routing, now = self._db.routing, self._db.now()
        if new.needs_review:  # the predicted category's priority still holds
            route, known = routing.route("other"), False
            route = replace(route, priority=routing.route(new.category).priority)
        else:
            route = routing.route(new.category, new.town)
            known = routing.is_known(new.category)
        priority = max(new.priority, route.priority, key=PRIORITIES.index)
        deadline = routing.deadline(now, route.deadline_days)
        events: list[tuple[str, dict[str, object]]] = [
            (
                "created",
                {
                    "type": new.type,
                    "category": new.category,
                    "channel": new.channel,
                    "town": new.town,
                    "category_confidence": new.category_confidence,
                    "needs_review": new.needs_review,
                },
            )
        ]
        if known:
            events.append(("assigned", workflow.route_data(route, deadline)))
        try:
            async with self._db.write() as conn:
                number = await store.next_number(conn, now)
                ticket_id = await store.insert_ticket(
                    conn, new, number=number, route=route, status="assigned" if known else "new",
                    priority=priority, deadline=deadline, now=now, cipher=self._db.cipher,
                    version=len(events),
                )  # fmt: skip
                await store.append_events(conn, ticket_id, 1, events, actor=new.actor, at=now)
                ticket = await store.load_ticket(conn, self._db.cipher, tickets.c.id == ticket_id)
        except IntegrityError:
            existing = await self._by_key(new.idempotency_key)
            if existing is None:
                raise
            return existing, False
        assert ticket is not None
        log.info("ticket %s created (%s, %s)", ticket.number, ticket.type, ticket.department)
        return ticket, True

    async def get(self, number: str) -> Ticket | None:
        """The ticket with its timeline, or ``None``."""
        async with self._db.read() as conn:
            return await store.load_ticket(conn, self._db.cipher, tickets.c.number == number)

    async def get_for_citizen(self, number: str, phone_last4: str) -> Ticket | None:
        """The ticket if ``phone_last4`` matches its contact phone; else ``None``."""
        ticket = await self.get(number.strip()) if isinstance(number, str) else None
        if ticket is None or ticket.phone_last4 is None:
            return None
        given = (phone_last4 or "").strip().encode()
        if not hmac.compare_digest(given, ticket.phone_last4.encode()):
            return None
        return ticket

    async def list(
        self,
        status: str | Sequence[str] | None = None,
        department: str | None = None,
        query: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> TicketList:
        """Newest first, without timelines. ``query`` matches number, text, location."""
        stmt = sa.select(tickets).order_by(tickets.c.created_at.desc(), tickets.c.id.desc())
        if status:
            stmt = stmt.where(tickets.c.status.in_([status] if isinstance(status, str) else status))
        if department:
            stmt = stmt.where(tickets.c.department == department)
        if query and query.strip():
            pattern = store.like_pattern(query.strip())
            stmt = stmt.where(
                sa.or_(*(c.like(pattern, escape="\\") for c in (
                    tickets.c.number, tickets.c.description, tickets.c.location, tickets.c.category
                )))
            )  # fmt: skip
        return await self._select(stmt.limit(max(1, min(limit, 500))).offset(max(0, offset)))

    async def for_conversation(self, conversation_id: str, limit: int = 20) -> TicketList:
        """A citizen's tickets from one conversation, newest first, without timelines."""
        stmt = (
            sa.select(tickets)
            .where(tickets.c.conversation_id == conversation_id)
            .order_by(tickets.c.created_at.desc(), tickets.c.id.desc())
            .limit(limit)
        )
        return await self._select(stmt)

    async def due_soon_or_overdue(
        self, now: dt.datetime, within: dt.timedelta = dt.timedelta(hours=24)
    ) -> TicketList:
        """Open tickets whose deadline is past or within ``within`` of ``now``."""
        stmt = (
            sa.select(tickets)
            .where(tickets.c.status.in_(OPEN_STATUSES), tickets.c.deadline <= now + within)
            .order_by(tickets.c.deadline, tickets.c.id)
        )
        return await self._select(stmt)

    async def check_keys(self) -> None:
        """Fail at start-up when the data keys cannot read the stored data."""
        # Only the encrypted columns: this also runs before a migration adds columns.
        encrypted = (
            tickets.c.contact_name_enc,
            tickets.c.contact_phone_enc,
            tickets.c.id_number_enc,
        )
        stmt = sa.select(*encrypted).where(tickets.c.contact_phone_enc.isnot(None)).limit(1)
        async with self._db.read() as conn:
            row = (await conn.execute(stmt)).first()
        for value in row or ():
            self._db.cipher.decrypt(value)

    async def _select(self, stmt: sa.sql.Select) -> TicketList:
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [store.row_to_ticket(row, self._db.cipher) for row in rows]

    async def _by_key(self, key: str) -> Ticket | None:
        async with self._db.read() as conn:
            return await store.load_ticket(conn, self._db.cipher, tickets.c.idempotency_key == key)

    async def _change(
        self, number: str, plan: Plan, *, actor: str, expected_version: int | None = None
    ) -> Ticket:
        """Apply ``plan`` atomically; see the module docstring."""
        actor = required(actor, "actor", 100)
        for _attempt in range(_MAX_ATTEMPTS):
            try:
                return await self._change_once(number, plan, actor, expected_version)
            except _Retry:
                continue
        raise ConflictError(f"ticket {number} kept changing; try again")

    async def _change_once(
        self, number: str, plan: Plan, actor: str, expected_version: int | None
    ) -> Ticket:
        now = self._db.now()
        async with self._db.write() as conn:
            stmt = sa.select(tickets).where(tickets.c.number == number).with_for_update()
            row = (await conn.execute(stmt)).first()
            if row is None:
                raise TicketNotFound(number)
            if expected_version is not None and row.version != expected_version:
                raise ConflictError(
                    f"ticket {number} changed (version {row.version}, expected "
                    f"{expected_version}); reload it"
                )
            state = workflow.State(
                number, row.status, row.department, row.priority, row.rating, row.deadline
            )
            change = plan(state, now)
            new_version = row.version + len(change.events)
            result = await conn.execute(
                tickets.update()
                .where(tickets.c.id == row.id, tickets.c.version == row.version)
                .values(**change.values, version=new_version, updated_at=now)
            )
            if result.rowcount != 1:
                raise _Retry()
            await store.append_events(
                conn, row.id, row.version + 1, change.events, actor=actor, at=now
            )
            ticket = await store.load_ticket(conn, self._db.cipher, tickets.c.id == row.id)
        assert ticket is not None
        log.info("ticket %s: %s by %s", number, ",".join(k for k, _ in change.events), actor)
        return ticket
