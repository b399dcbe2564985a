"""The REST API for the city's case system: authentication, lists, actions, scoping."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.bearer import bearer_match
from bot.db import Database
from bot.tickets.config import parse_tokens
from tests.tickets.conftest import (
    CASE_TOKEN,
    DEPT_TOKEN,
    OTHER_DEPT_TOKEN,
    Api,
    MakeTicket,
    auth,
)


async def test_every_route_needs_the_bearer_token(
    front_door: TestClient, make_ticket: MakeTicket, ticket_db: Database
) -> None:
    ticket = await make_ticket()
    paths = [("GET", "/api/v1/tickets"), ("GET", f"/api/v1/tickets/{ticket.number}")]
    paths += [
        ("POST", f"/api/v1/tickets/{ticket.number}/{a}")
        for a in ("assign", "reply", "close", "notes")
    ]
    for method, path in paths:
        for headers in (
            {},
            auth("wrong-token-0123456789"),
            {"Authorization": CASE_TOKEN},
            {"Authorization": "Basic " + CASE_TOKEN},
        ):
            resp = await front_door.request(method, path, headers=headers, json={"text": "x"})
            assert resp.status == 401, (method, path, headers)
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
            assert "error" in await resp.json()
    fresh = await ticket_db.tickets.get(ticket.number)
    assert fresh is not None and fresh.version == ticket.version


async def test_a_token_that_is_not_utf8_is_401_not_500(front_door: TestClient) -> None:
    """Review: the case-system API had its own bearer check, which encoded the token
    strictly and answered 500 to an ``Authorization`` header that is not UTF-8; the
    front door's one check (bot/bearer.py) answers the API's usual 401."""
    import asyncio

    reader, writer = await asyncio.open_connection(front_door.host, front_door.port)
    writer.write(
        b"GET /api/v1/tickets HTTP/1.1\r\nHost: hotline\r\n"
        b"Authorization: Bearer \xff\xfe" + CASE_TOKEN.encode() + b"\r\n"
        b"Connection: close\r\n\r\n"
    )
    await writer.drain()
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401 "), answer
    assert b'WWW-Authenticate: Bearer realm="hotline-tickets"' in head
    assert b'"error"' in body


async def test_list_filters_and_pagination(front_door: TestClient, make_ticket: MakeTicket) -> None:
    noise = [await make_ticket(f"webchat:s-{i}") for i in range(3)]
    other = await make_ticket("webchat:s-9", category="other", description="不知道找哪个部门")
    api = Api(front_door)
    status, page = await api.call("GET", "/api/v1/tickets?limit=2")
    assert status == 200 and page["total"] == 4 and len(page["items"]) == 2
    assert page["next_offset"] == 2
    assert page["items"][0]["number"] == other.number  # newest first
    assert page["items"][0]["contact_phone"] == "138****5678"  # lists are masked
    status, page = await api.call("GET", "/api/v1/tickets?limit=2&offset=2")
    assert [t["number"] for t in page["items"]] == [noise[1].number, noise[0].number]
    assert page["next_offset"] is None
    status, page = await api.call("GET", "/api/v1/tickets?status=new")
    assert [t["number"] for t in page["items"]] == [other.number]
    status, page = await api.call("GET", "/api/v1/tickets?department=ecology_environment")
    assert page["total"] == 3
    status, page = await api.call("GET", "/api/v1/tickets", params={"q": "哪个部门"})
    assert [t["number"] for t in page["items"]] == [other.number]
    status, page = await api.call("GET", "/api/v1/tickets", params={"q": noise[2].number})
    assert [t["number"] for t in page["items"]] == [noise[2].number]
    status, page = await api.call("GET", "/api/v1/tickets?category=noise&priority=normal")
    assert page["total"] == 3
    status, page = await api.call("GET", "/api/v1/tickets?flag=overdue")
    assert page["total"] == 0


@pytest.mark.parametrize(
    "query",
    [
        "status=open",
        "limit=0",
        "limit=201",
        "limit=x",
        "offset=-1",
        "flag=late",
        "department=nope",
        "category=nope",
        "priority=low",
        "q=" + "x" * 101,
    ],
)
async def test_bad_list_filters_are_400(front_door: TestClient, query: str) -> None:
    status, body = await Api(front_door).call("GET", f"/api/v1/tickets?{query}")
    assert status == 400 and body["error"]


async def test_get_shows_full_details_and_timeline(
    front_door: TestClient, make_ticket: MakeTicket
) -> None:
    ticket = await make_ticket()
    status, body = await Api(front_door).get(ticket.number)
    assert status == 200
    data = body["ticket"]
    assert data["contact_phone"] == "13812345678" and data["id_number"] == "11010519491231002X"
    assert [e["kind"] for e in data["events"]] == ["created", "assigned"]
    assert data["flags"] == {"overdue": False, "due_soon": False, "escalated": False}
    status, body = await Api(front_door).get("20000101-000001")
    assert status == 404


async def test_assign_reply_close_and_notes(
    front_door: TestClient, make_ticket: MakeTicket, ticket_db: Database
) -> None:
    ticket = await make_ticket("rest:t:citizen-7", category="other")
    api = Api(front_door)
    status, body = await api.post(
        ticket.number, "assign", {"department": "urban_management", "reason": "属城管职责"}
    )
    assert status == 200 and body["ticket"]["status"] == "assigned"
    assert body["ticket"]["department_name"] == "市城市管理和综合执法局"
    status, body = await api.post(ticket.number, "notes", {"text": "已电话联系市民"})
    assert status == 200 and body["ticket"]["events"][-1]["kind"] == "note"
    assert body["ticket"]["events"][-1]["actor"] == "api:case-system"
    version = body["ticket"]["version"]
    status, body = await api.post(
        ticket.number, "reply", {"text": "已安排清理。", "version": version}
    )
    assert status == 200 and body["ticket"]["status"] == "replied"
    assert body["notified"] is True and body["ticket"]["notified"] is True
    status, body = await api.post(ticket.number, "close", {})
    assert status == 200 and body["ticket"]["status"] == "closed"
    kinds = [e.kind for e in (await ticket_db.tickets.get(ticket.number)).events]  # type: ignore[union-attr]
    assert kinds == ["created", "assigned", "told", "note", "replied", "notified", "closed"]


async def test_department_token_sees_only_its_tickets(
    front_door: TestClient, make_ticket: MakeTicket
) -> None:
    mine = await make_ticket("webchat:a")  # noise -> ecology_environment
    theirs = await make_ticket("webchat:b", category="property")  # housing_construction
    dept = Api(front_door, DEPT_TOKEN)
    status, page = await dept.call("GET", "/api/v1/tickets")
    assert [t["number"] for t in page["items"]] == [mine.number]
    status, page = await dept.call("GET", "/api/v1/tickets?department=housing_construction")
    assert page["items"] == []
    assert (await dept.get(theirs.number))[0] == 404
    assert (await dept.post(theirs.number, "reply", {"text": "越权答复"}))[0] == 404
    assert (await dept.post(theirs.number, "notes", {"text": "越权备注"}))[0] == 404
    status, body = await dept.get(mine.number)
    assert status == 200 and body["ticket"]["contact_phone"] == "13812345678"
    assert body["ticket"]["id_number"] != "11010519491231002X"  # masked for departments
    assert (await dept.post(mine.number, "assign", {"department": "transport"}))[0] == 403
    assert (await dept.post(mine.number, "close", {"reason": "x"}))[0] == 403
    status, body = await dept.post(mine.number, "reply", {"text": "已责令商铺整改。"})
    assert status == 200 and body["ticket"]["status"] == "replied"
    other = Api(front_door, OTHER_DEPT_TOKEN)
    assert (await other.get(mine.number))[0] == 404
    assert (await other.get(theirs.number))[0] == 200


async def test_openapi_documents_every_route(front_door: TestClient) -> None:
    resp = await front_door.get("/api/v1/openapi.json")  # no token needed
    assert resp.status == 200
    doc: dict[str, Any] = await resp.json()
    assert doc["openapi"].startswith("3.")
    documented = {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    served = set()
    for route in front_door.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter", "")
        if not path.startswith("/api/v1") or route.method == "HEAD":
            continue
        if "{action}" in path:
            for action in ("assign", "reply", "close", "notes", "extend"):
                served.add((route.method, path.replace("{action}", action)))
        else:
            served.add((route.method, path))
    assert served == documented
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert operation["responses"], (method, path)
            if path != "/api/v1/openapi.json":
                assert "401" in operation["responses"], (method, path)


def test_token_parsing() -> None:
    clients = parse_tokens(
        " a-token-0123456789abc , sys:b-token-0123456789abc,dept:transport:c-token-0123456789abc",
        ["transport"],
    )
    assert [(c.name, c.department) for c in clients] == [
        ("client1", None),
        ("sys", None),
        ("dept-transport", "transport"),
    ]
    assert "token" not in repr(clients[0].token)
    with pytest.raises(ValueError, match="unknown department"):
        parse_tokens("dept:nowhere:c-token-0123456789abc", ["transport"])
    with pytest.raises(ValueError, match="shorter"):
        parse_tokens("short", [])
    with pytest.raises(ValueError, match="expected"):
        parse_tokens("a:b:c:d", [])
    assert parse_tokens(None, []) == []

    def find(header: str) -> object:
        return bearer_match(header, clients, lambda client: client.token)

    assert find("Bearer b-token-0123456789abc") is clients[1]
    assert find("bearer  b-token-0123456789abc") is clients[1]
    assert find("Bearer b-token-0123456789abd") is None
    assert find("") is None
