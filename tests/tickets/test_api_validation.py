"""Bad input to the REST API: each case gets its clear 4xx and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.db import Database, Ticket
from tests.tickets.conftest import DEPT_TOKEN, OTHER_DEPT_TOKEN, Api, MakeTicket, auth, snapshot

LONG = "长" * 5001

CASES: list[tuple[str, str, Any, int, str]] = [
    # (token, action, body, status, words in the error)
    ("case", "reply", {}, 400, "'text' is required"),
    ("case", "reply", {"text": ""}, 400, "must not be empty"),
    ("case", "reply", {"text": "   "}, 400, "must not be empty"),
    ("case", "reply", {"text": 42}, 400, "must be a string"),
    ("case", "reply", {"text": ["答复"]}, 400, "must be a string"),
    ("case", "reply", {"text": LONG}, 400, "longer than 5000"),
    ("case", "reply", {"text": "好", "version": "3"}, 400, "'version'"),
    ("case", "reply", {"text": "好", "version": True}, 400, "'version'"),
    ("case", "reply", {"text": "好", "version": 0}, 400, "'version'"),
    ("case", "reply", {"text": "好", "extra": 1}, 400, "unknown field"),
    ("case", "reply", ["text"], 400, "JSON object"),
    ("case", "notes", {"text": LONG}, 400, "longer than 5000"),
    ("case", "notes", {}, 400, "'text' is required"),
    ("case", "assign", {}, 400, "'department' is required"),
    ("case", "assign", {"department": "nowhere"}, 400, "department key"),
    ("case", "assign", {"department": "triage"}, 400, "department key"),
    ("case", "assign", {"department": 7}, 400, "must be a string"),
    ("case", "assign", {"department": "transport", "reason": "理" * 501}, 400, "longer than 500"),
    ("case", "close", {"reason": 1}, 400, "must be a string"),
    # invalid transitions: the ticket is assigned, not yet answered
    ("case", "assign", {"department": "ecology_environment"}, 409, "already assigned"),
    ("case", "reply", {"text": "好", "version": 1}, 409, "current_version"),
    ("case", "close", {}, 400, "reason"),  # closing an unanswered ticket needs a reason
    ("dept", "assign", {"department": "transport"}, 403, "may not"),
    ("dept", "close", {"reason": "不归我们管"}, 403, "may not"),
    ("other", "reply", {"text": "越权答复"}, 404, "not found"),
    ("other", "notes", {"text": "越权备注"}, 404, "not found"),
]
TOKENS = {"case": None, "dept": DEPT_TOKEN, "other": OTHER_DEPT_TOKEN}


@pytest.fixture
async def ticket(make_ticket: MakeTicket) -> Ticket:
    return await make_ticket()  # noise -> ecology_environment, assigned, version 2


async def _unchanged(db: Database, before: Ticket) -> None:
    assert snapshot(await db.tickets.get(before.number)) == snapshot(before)


@pytest.mark.parametrize(("who", "action", "body", "status", "words"), CASES)
async def test_bad_request_changes_nothing(
    front_door: TestClient,
    ticket_db: Database,
    ticket: Ticket,
    who: str,
    action: str,
    body: Any,
    status: int,
    words: str,
) -> None:
    api = Api(front_door, TOKENS[who] or Api(front_door).token)
    got, answer = await api.post(ticket.number, action, body)
    assert got == status, answer
    assert isinstance(answer["error"], str) and answer["error"]
    if words == "current_version":
        assert answer["current_version"] == ticket.version
    elif words:
        assert words in answer["error"]
    await _unchanged(ticket_db, ticket)


async def test_unknown_ticket_is_404(front_door: TestClient) -> None:
    bodies = {
        "reply": {"text": "好"},
        "notes": {"text": "x"},
        "assign": {"department": "transport"},
        "close": {"reason": "x"},
    }
    for action, body in bodies.items():
        status, answer = await Api(front_door).post("20990101-000001", action, body)
        assert status == 404 and "not found" in answer["error"]
    status, _ = await Api(front_door).get("x" * 300)
    assert status == 404


async def test_malformed_and_huge_bodies(
    front_door: TestClient, ticket_db: Database, ticket: Ticket
) -> None:
    path = f"/api/v1/tickets/{ticket.number}/reply"
    resp = await front_door.post(path, data=b"{not json", headers=auth())
    assert resp.status == 400 and (await resp.json())["error"] == "malformed JSON"
    resp = await front_door.post(path, data=b"x" * 40_000, headers=auth())
    assert resp.status == 413 and "error" in await resp.json()
    resp = await front_door.post(f"/api/v1/tickets/{ticket.number}/escalate", headers=auth())
    assert resp.status in (404, 405)
    await _unchanged(ticket_db, ticket)


async def test_replied_ticket_cannot_be_answered_twice(
    front_door: TestClient, ticket_db: Database, ticket: Ticket
) -> None:
    api = Api(front_door)
    assert (await api.post(ticket.number, "reply", {"text": "第一次答复"}))[0] == 200
    before = await ticket_db.tickets.get(ticket.number)
    assert before is not None
    status, answer = await api.post(ticket.number, "reply", {"text": "第二次答复"})
    assert status == 409 and "replied" in answer["error"]
    status, answer = await api.post(ticket.number, "assign", {"department": "transport"})
    assert status == 409
    await _unchanged(ticket_db, before)
