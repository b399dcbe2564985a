"""The console's ticket views: roles, department scoping, CSRF, actions, flags."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot.console.auth import CSRF_HEADER, USERS_KEY
from bot.db import Database
from tests.tickets.conftest import Clock, MakeTicket, snapshot

PASSWORD = "ticket-console-42"


@dataclass
class User:
    session: aiohttp.ClientSession
    base: str
    csrf: str

    async def get(self, path: str) -> tuple[int, Any]:
        resp = await self.session.get(self.base + path)
        return resp.status, await resp.json()

    async def post(self, path: str, body: Any = None, csrf: bool = True) -> tuple[int, Any]:
        headers = {CSRF_HEADER: self.csrf} if csrf else {}
        resp = await self.session.post(self.base + path, json=body or {}, headers=headers)
        return resp.status, await resp.json()

    async def act(self, number: str, action: str, body: Any = None) -> tuple[int, Any]:
        return await self.post(f"/console/api/tickets/{number}/{action}", body)


SignIn = Callable[..., Awaitable[User]]


@pytest.fixture
async def sign_in(front_door: TestClient) -> AsyncIterator[SignIn]:
    sessions: list[aiohttp.ClientSession] = []

    async def run(username: str, role: str, department: str | None = None) -> User:
        users = front_door.app[USERS_KEY]
        await users.create(username=username, password=PASSWORD, role=role, department=department)
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        base = str(front_door.make_url("")).rstrip("/")
        resp = await session.post(
            base + "/console/login", json={"username": username, "password": PASSWORD}
        )
        assert resp.status == 200, await resp.text()
        me = await (await session.get(base + "/console/api/me")).json()
        return User(session, base, me["csrf_token"])

    yield run
    for session in sessions:
        await session.close()


async def test_signed_out_is_refused(front_door: TestClient, make_ticket: MakeTicket) -> None:
    ticket = await make_ticket()
    resp = await front_door.get(
        "/console/tickets", allow_redirects=False, headers={"Accept": "text/html"}
    )
    assert resp.status == 302 and resp.headers["Location"] == "/console/login"
    for path in (
        "/console/api/tickets",
        f"/console/api/tickets/{ticket.number}",
        "/console/api/ticket-meta",
    ):
        assert (await front_door.get(path)).status == 401
    resp = await front_door.post(f"/console/api/tickets/{ticket.number}/note", json={"text": "x"})
    assert resp.status == 401


async def test_page_is_served_with_a_strict_csp(sign_in: SignIn) -> None:
    user = await sign_in("sup1", "supervisor")
    resp = await user.session.get(user.base + "/console/tickets")
    assert resp.status == 200 and "工单管理" in await resp.text()
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    for name in ("tickets.js", "tickets.css"):
        assert (await user.session.get(f"{user.base}/console/static/{name}")).status == 200


async def test_supervisor_sees_everything_in_full(sign_in: SignIn, make_ticket: MakeTicket) -> None:
    a = await make_ticket("webchat:a")
    b = await make_ticket("webchat:b", category="property")
    sup = await sign_in("sup2", "supervisor")
    status, page = await sup.get("/console/api/tickets")
    assert status == 200 and {t["number"] for t in page["items"]} == {a.number, b.number}
    status, body = await sup.act(b.number, "contact")  # audited (see below)
    assert body["contact"]["contact_phone"] == "13812345678"
    assert body["contact"]["id_number"] == "11010519491231002X"
    status, meta = await sup.get("/console/api/ticket-meta")
    assert "assign" in meta["actions"] and "accept" not in meta["actions"]
    assert "triage" not in {d["key"] for d in meta["assignable"]}


async def test_department_sees_only_its_own_tickets(
    sign_in: SignIn, make_ticket: MakeTicket
) -> None:
    mine = await make_ticket("webchat:a")  # ecology_environment
    theirs = await make_ticket("webchat:b", category="property")  # housing_construction
    dept = await sign_in("env1", "department", "ecology_environment")
    status, page = await dept.get("/console/api/tickets")
    assert [t["number"] for t in page["items"]] == [mine.number]
    status, page = await dept.get("/console/api/tickets?department=housing_construction")
    assert [t["number"] for t in page["items"]] == [mine.number]  # the filter cannot widen it
    status, body = await dept.get(f"/console/api/tickets/{theirs.number}")
    assert status == 404
    status, body = await dept.act(theirs.number, "reply", {"text": "越权答复"})
    assert status == 404 and body["message"]
    status, body = await dept.act(mine.number, "contact")  # needed to call the citizen
    assert body["contact"]["contact_phone"] == "13812345678"
    assert body["contact"]["id_number"] == "110105********002X"
    assert (await dept.act(mine.number, "assign", {"department": "transport"}))[0] == 403


async def test_csrf_header_is_required(
    sign_in: SignIn, make_ticket: MakeTicket, ticket_db: Database
) -> None:
    ticket = await make_ticket()
    sup = await sign_in("sup3", "supervisor")
    status, body = await sup.post(
        f"/console/api/tickets/{ticket.number}/note", {"text": "无令牌"}, csrf=False
    )
    assert status == 403 and body["error"] == "csrf"
    assert snapshot(await ticket_db.tickets.get(ticket.number)) == snapshot(ticket)


async def test_department_accepts_returns_and_answers(
    sign_in: SignIn, make_ticket: MakeTicket, ticket_db: Database
) -> None:
    first = await make_ticket("webchat:c1")
    second = await make_ticket("webchat:c2")
    dept = await sign_in("env2", "department", "ecology_environment")
    status, body = await dept.act(first.number, "accept")
    # the step and its notice to the citizen (bot/tickets/notices.py)
    assert status == 200 and [e["kind"] for e in body["ticket"]["events"][-2:]] == [
        "accepted",
        "told",
    ]
    status, body = await dept.act(
        first.number, "reply", {"text": "已责令整改。", "version": body["ticket"]["version"]}
    )
    assert status == 200 and body["notified"] is True and body["ticket"]["status"] == "replied"
    status, body = await dept.act(second.number, "return", {})
    assert status == 400 and "reason" in body["error"]
    status, body = await dept.act(second.number, "return", {"reason": "该地址不属本局管辖"})
    assert status == 200 and body["ticket"]["status"] == "new"
    status, body = await dept.get(f"/console/api/tickets/{second.number}")
    assert status == 404  # back at the triage desk: no longer the department's
    returned = await ticket_db.tickets.get(second.number)
    assert returned is not None and (returned.status, returned.department) == ("new", "triage")


async def test_agent_actions_and_stale_version(
    sign_in: SignIn, make_ticket: MakeTicket, ticket_db: Database
) -> None:
    ticket = await make_ticket("webchat:d1", category="other")
    dup = await make_ticket("webchat:d2", category="other")
    agent = await sign_in("agent1", "agent")
    v = ticket.version
    status, body = await agent.act(
        ticket.number, "assign", {"department": "urban_management", "version": v}
    )
    assert status == 200 and body["ticket"]["department"] == "urban_management"
    status, body = await agent.act(ticket.number, "priority", {"priority": "urgent", "version": v})
    assert status == 409 and body["current_version"] == v + 2  # assigned, told
    status, body = await agent.act(ticket.number, "priority", {"priority": "urgent"})
    assert status == 200 and body["ticket"]["priority"] == "urgent"
    status, body = await agent.act(ticket.number, "note", {"text": "市民来电催办"})
    assert status == 200
    status, body = await agent.act(dup.number, "merge", {"into": ticket.number})
    assert status == 200 and body["ticket"]["status"] == "closed"
    status, body = await agent.act(dup.number, "merge", {"into": "20000101-000001"})
    assert status == 409 or status == 400
    status, body = await agent.act(ticket.number, "accept")
    assert status == 403
    status, body = await agent.act(ticket.number, "close", {"reason": "市民撤回诉求"})
    assert status == 200 and body["ticket"]["status"] == "closed"
    kinds = [e.kind for e in (await ticket_db.tickets.get(ticket.number)).events]  # type: ignore[union-attr]
    assert kinds == ["created", "assigned", "told", "priority_changed", "note", "closed"]


async def test_list_flags_near_and_past_deadlines(
    sign_in: SignIn, make_ticket: MakeTicket, clock: Clock
) -> None:
    late = await make_ticket("webchat:e1", category="utilities")  # 2 working days
    soon = await make_ticket("webchat:e2", category="consumer")  # 7 working days
    calm = await make_ticket("webchat:e3", category="suggestion", type="suggestion")
    assert late.deadline is not None and soon.deadline is not None
    clock.now = soon.deadline - dt.timedelta(hours=5)
    sup = await sign_in("sup4", "supervisor")
    _, page = await sup.get("/console/api/tickets")
    flags = {t["number"]: t["flags"] for t in page["items"]}
    assert flags[late.number] == {"overdue": True, "due_soon": False, "escalated": False}
    assert flags[soon.number] == {"overdue": False, "due_soon": True, "escalated": False}
    assert flags[calm.number] == {"overdue": False, "due_soon": False, "escalated": False}
    _, page = await sup.get("/console/api/tickets?flag=overdue")
    assert [t["number"] for t in page["items"]] == [late.number]
    _, page = await sup.get("/console/api/tickets?flag=due_soon")
    assert [t["number"] for t in page["items"]] == [soon.number]


# --- the citizen's full contact: an explicit, audited action ----------------
async def test_full_contact_is_an_audited_action(
    sign_in: SignIn, make_ticket: MakeTicket, ticket_db: Database
) -> None:
    ticket = await make_ticket("webchat:a")
    sup = await sign_in("sup9", "supervisor")
    status, body = await sup.get(f"/console/api/tickets/{ticket.number}")
    assert status == 200 and body["ticket"]["contact_phone"] == "138****5678"
    assert body["ticket"]["id_number"] == "110105********002X"
    assert "13812345678" not in str(body)  # opening a ticket shows no full number
    assert await ticket_db.audit.list(action="contact_viewed") == []

    status, _ = await sup.post(f"/console/api/tickets/{ticket.number}/contact", csrf=False)
    assert status == 403 and await ticket_db.audit.list(action="contact_viewed") == []
    status, body = await sup.act(ticket.number, "contact")
    assert status == 200
    assert body["contact"]["contact_phone"] == "13812345678"
    assert body["contact"]["id_number"] == "11010519491231002X"
    [entry] = await ticket_db.audit.list(action="contact_viewed")
    assert entry["actor"] == "sup9" and entry["target"] == ticket.number
    assert entry["client_address"] and entry["at"] is not None
    assert "13812345678" not in str(entry)  # the audit log holds who and when, not the number


async def test_department_gets_the_phone_of_its_own_tickets_only(
    sign_in: SignIn, make_ticket: MakeTicket, ticket_db: Database
) -> None:
    mine = await make_ticket("webchat:a")  # ecology_environment
    theirs = await make_ticket("webchat:b", category="property")
    dept = await sign_in("env9", "department", "ecology_environment")
    status, body = await dept.act(mine.number, "contact")
    assert status == 200 and body["contact"]["contact_phone"] == "13812345678"
    assert body["contact"]["id_number"] == "110105********002X"
    assert (await dept.act(theirs.number, "contact"))[0] == 404
    assert [e["target"] for e in await ticket_db.audit.list(action="contact_viewed")] == [
        mine.number
    ]


async def test_the_ticket_view_shows_the_town_and_the_review_flag(
    sign_in: SignIn, make_ticket: MakeTicket
) -> None:
    in_town = await make_ticket("webchat:t1", town="humen", category_confidence=0.91)
    flagged = await make_ticket(
        "webchat:t2", category="wages", category_confidence=0.31, needs_review=True
    )
    assert (in_town.department, in_town.status) == ("town_humen", "assigned")
    assert (flagged.department, flagged.status, flagged.priority) == ("triage", "new", "high")
    agent = await sign_in("agent-town", "agent")
    status, body = await agent.get(f"/console/api/tickets/{in_town.number}")
    assert status == 200
    body = body["ticket"]
    assert (body["town"], body["town_name"], body["needs_review"]) == ("humen", "虎门镇", False)
    assert body["category_confidence"] == 0.91 and body["department_name"] == "虎门镇人民政府"
    status, body = await agent.get(f"/console/api/tickets/{flagged.number}")
    body = body["ticket"]
    assert body["needs_review"] is True and body["category"] == "wages"
    assert body["town_name"] is None
    status, page = await agent.get("/console/api/tickets")
    rows = {t["number"]: t for t in page["items"]}
    assert rows[flagged.number]["needs_review"] is True
    assert rows[in_town.number]["town_name"] == "虎门镇"
    status, page = await agent.get("/console/api/tickets?flag=needs_review")
    assert [t["number"] for t in page["items"]] == [flagged.number]
    status, page = await agent.get("/console/api/tickets?town=humen")
    assert [t["number"] for t in page["items"]] == [in_town.number]
    status, body = await agent.get("/console/api/tickets?town=mars")
    assert status == 400 and "town" in json.dumps(body)
    status, meta = await agent.get("/console/api/ticket-meta")
    assert {"key": "humen", "name": "虎门镇"} in meta["towns"] and len(meta["towns"]) == 34
