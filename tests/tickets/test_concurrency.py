"""Concurrent actions on one ticket through the API, on real PostgreSQL.

Two agents assigning and the department answering at the same moment, on two
front door replicas with their own connection pools: every request either
succeeds or gets a clean 4xx, and the ticket's timeline is one linear history
that explains its final state.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.db import Database, Ticket
from bot.store import MemoryStore
from tests.tickets.conftest import (
    DEPT_TOKEN,
    Api,
    Clock,
    MakeFrontDoor,
    create_ticket,
    stop_apps,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
async def replicas(
    make_front_door: MakeFrontDoor,
    pg_ticket_db: Database,
    pg_session_url: str,
    clock: Clock,
    running_apps: list[TestClient],
) -> AsyncIterator[tuple[Api, Api, Api]]:
    """Agent A on replica 1, agent B and the department on replica 2; like replicas
    in production they share one store (Redis there): the claim of a notice is in it."""
    second = Database(pg_session_url, cipher=pg_ticket_db.cipher, clock=clock)
    await second.connect()
    store = MemoryStore()
    one, two = await make_front_door(pg_ticket_db, store), await make_front_door(second, store)
    warm = [Api(c).call("GET", "/api/v1/tickets") for c in (one, one, two, two)]
    await asyncio.gather(*warm)  # open the pools' connections: no replica starts slower
    yield Api(one), Api(two), Api(two, DEPT_TOKEN)
    await stop_apps(running_apps)
    await second.close()


def replay(ticket: Ticket) -> tuple[str, str]:
    """Status and department as the timeline tells them."""
    status = department = ""
    for event in ticket.events:
        if event.kind in ("assigned", "transferred"):
            status, department = "assigned", event.data["department"]
        elif event.kind == "created":
            status = "new"
        elif event.kind in ("replied", "closed", "reopened"):
            status = event.kind
    return status, department


def check_history(ticket: Ticket, results: list[tuple[str, int]]) -> None:
    versions = [e.version for e in ticket.events]
    assert versions == list(range(1, len(versions) + 1)), versions
    assert ticket.version == versions[-1]
    assert replay(ticket) == (ticket.status, ticket.department)
    won = [kind for kind, status in results if status == 200]
    assert all(status in (200, 404, 409) for _, status in results), results
    notices = ("notified", "told", "not_told")
    later = [e.kind for e in ticket.events[2:] if e.kind not in notices]
    assert sorted(later) == sorted(won)  # every success is on the timeline, nothing else
    # each assignment the citizen was told of exactly once, whichever request told it
    steps = {e.version for e in ticket.events[2:] if e.kind == "assigned"}
    told = [e.data["event"] for e in ticket.events if e.kind in ("told", "not_told")]
    assert sorted(told) == sorted(steps), (told, steps)


@pytest.mark.parametrize("round_", range(6))  # the 6 orders of the 3 calls
async def test_two_assigns_and_a_reply_at_once(
    replicas: tuple[Api, Api, Api], pg_ticket_db: Database, round_: int
) -> None:
    agent_a, agent_b, department = replicas
    ticket = await create_ticket(pg_ticket_db, f"webchat:conc-{round_}")
    assert ticket.department == "ecology_environment" and ticket.status == "assigned"
    calls: list[tuple[str, Any]] = [
        ("assigned", agent_a.post(ticket.number, "assign", {"department": "urban_management"})),
        ("assigned", agent_b.post(ticket.number, "assign", {"department": "transport"})),
        ("replied", department.post(ticket.number, "reply", {"text": "已处理。"})),
    ]
    order = list(itertools.permutations(range(3)))[round_]  # who starts first varies
    answers = await asyncio.gather(*(calls[i][1] for i in order))
    results = [("", 0)] * 3
    for i, (status, _body) in zip(order, answers, strict=True):
        results[i] = (calls[i][0], status)
    final = await pg_ticket_db.tickets.get(ticket.number)
    assert final is not None
    check_history(final, results)
    if final.status == "replied":  # the department was first: nobody could re-assign
        assert [s for k, s in results if k == "assigned"] == [409, 409]
    else:  # an assignment was first: the department lost the ticket (404)
        assert results[2][1] == 404


async def test_same_version_only_one_wins(
    replicas: tuple[Api, Api, Api], pg_ticket_db: Database
) -> None:
    agent_a, agent_b, department = replicas
    ticket = await create_ticket(pg_ticket_db, "webchat:conc-v")
    version = ticket.version
    answers = await asyncio.gather(
        agent_a.post(ticket.number, "assign", {"department": "transport", "version": version}),
        agent_b.post(ticket.number, "assign", {"department": "health", "version": version}),
        department.post(ticket.number, "notes", {"text": "正在核实", "version": version}),
    )
    statuses = sorted(status for status, _ in answers)
    assert statuses.count(200) == 1, answers
    final = await pg_ticket_db.tickets.get(ticket.number)
    assert final is not None
    changes = [e for e in final.events if e.version > version and e.kind != "told"]
    assert len(changes) == 1  # one change won (an assignment is followed by its notice)
    for status, body in answers:
        if status == 409:
            assert body["current_version"] in (version + 1, version + 2)
        else:
            assert status in (200, 404)  # 404: the department lost it to an assignment
