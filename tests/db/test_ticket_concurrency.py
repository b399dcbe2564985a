"""Concurrent changes to one ticket leave one consistent, linear history.

Two agents assign and the department replies at the same moment, with notes
and a priority change in between, over several real connections. Whatever
the interleaving, the timeline is numbered 1..N without gaps and replaying it
gives exactly the stored state.
"""

from __future__ import annotations

import asyncio

from bot.db import Database, InvalidTransition, Ticket
from tests.db.conftest import ticket_args


def replay(ticket: Ticket) -> tuple[str, str]:
    """Status and department as the timeline tells it."""
    status, department = "new", "triage"
    for event in ticket.events:
        if event.kind in ("assigned", "transferred"):
            status, department = "assigned", event.data["department"]
        elif event.kind == "returned":
            status, department = "new", "triage"
        elif event.kind in ("replied", "reopened", "closed"):
            status = event.kind
    return status, department


async def _race(db: Database, number: str) -> list[object]:
    return await asyncio.gather(
        db.tickets.assign(number, "urban_management", actor="agent:a"),
        db.tickets.assign(number, "housing_construction", actor="agent:b"),
        db.tickets.reply(number, "已处理", actor="dept:urban"),
        db.tickets.add_note(number, "备注", actor="agent:c"),
        db.tickets.set_priority(number, "high", actor="agent:d"),
        return_exceptions=True,
    )


async def test_concurrent_assign_and_reply_keep_one_history(db: Database) -> None:
    numbers = []
    for i in range(8):
        ticket, _ = await db.tickets.create(**ticket_args(f"race-{i}", category="unknown"))
        numbers.append(ticket.number)
    outcomes = await asyncio.gather(*(_race(db, n) for n in numbers))
    for number, results in zip(numbers, outcomes, strict=True):
        errors = [r for r in results if isinstance(r, BaseException)]
        assert all(isinstance(e, InvalidTransition) for e in errors), errors
        ticket = await db.tickets.get(number)
        assert ticket is not None
        assert [e.version for e in ticket.events] == list(range(1, len(ticket.events) + 1))
        assert ticket.version == len(ticket.events)
        assert replay(ticket) == (ticket.status, ticket.department)
        successes = len(results) - len(errors)
        assert len(ticket.events) == 1 + successes
        assert sum(e.kind == "note" for e in ticket.events) == 1
        assert ticket.priority == "high"
