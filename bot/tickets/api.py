"""REST API for the city's case system: ``/api/v1/tickets``.

``GET  /api/v1/tickets``                    list (filters, ``limit``/``offset``)
``GET  /api/v1/tickets/{number}``           one ticket with its timeline
``POST /api/v1/tickets/{number}/assign``    ``{"department", "reason"?, "version"?}``
``POST /api/v1/tickets/{number}/reply``     ``{"text", "version"?}`` (the citizen is told)
``POST /api/v1/tickets/{number}/close``     ``{"reason"?, "version"?}``
``POST /api/v1/tickets/{number}/notes``     ``{"text", "version"?}``
``POST /api/v1/tickets/{number}/extend``    ``{"days", "reason", "version"?}`` (延期; the
                                            citizen is told the new date)
``GET  /api/v1/openapi.json``               the OpenAPI 3 description (docs/openapi.yaml)

Every request but the description carries ``Authorization: Bearer <token>``
with a token of ``CASE_API_TOKENS``; the token is checked (bot/bearer.py: constant
time, against every configured token) before the body is read. Errors are
``{"error": "..."}`` with 400 (bad input), 401 (token), 403 (not allowed for
this token), 404 (unknown ticket, or another department's ticket for a
department-bound token), 409 (invalid transition; stale ``version``, with
``current_version``) or 413 (body too large); nothing is changed.

A ticket in an answer (a read, or an action's result) carries the citizen's
contact as far as the token may see it, unmasked: each such answer is first
written to the audit log as ``contact_viewed`` (actor ``api:<token name>``,
the fields shown), like the console's "show the full number". Lists are
masked and not audited.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from bot import config
from bot.bearer import bearer_match
from bot.db.models import Ticket
from bot.tickets.access import Principal, detail, summary
from bot.tickets.context import context
from bot.tickets.errors import BadInput, TicketError
from bot.tickets.http import json_ok, read_json
from bot.tickets.query import list_tickets, parse_filter

PREFIX = "/api/v1"
OPENAPI_PATH = config.ROOT / "docs" / "openapi.yaml"
ACTIONS = {
    "assign": "assign",
    "reply": "reply",
    "close": "close",
    "notes": "note",
    "extend": "extend",
}
UNAUTHORIZED_ZH = "未授权：缺少或错误的访问令牌"
CONTACT_FIELDS = ("contact_name", "contact_phone", "id_number")

ApiHandler = Callable[[web.Request, Principal], Awaitable[web.StreamResponse]]


def authenticated(handler: ApiHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization")
        client = bearer_match(header, context(request).api_clients, lambda entry: entry.token)
        if client is None:
            return web.json_response(
                {"error": "missing or wrong bearer token", "message": UNAUTHORIZED_ZH},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="hotline-tickets"'},
            )
        try:
            return await handler(request, Principal(client.actor, "api", client.department))
        except TicketError as exc:
            return exc.response()

    return guarded


@authenticated
async def list_view(request: web.Request, principal: Principal) -> web.StreamResponse:
    ctx = context(request)
    params = dict(request.query)
    if principal.scoped:
        if params.get("department") not in (None, "", principal.department):
            return json_ok({"items": [], "total": 0, "limit": 0, "offset": 0, "next_offset": None})
        params["department"] = principal.department or ""
    try:
        f = parse_filter(params, ctx.db)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    page = await list_tickets(ctx.db, f)
    now = ctx.db.now()
    end = f.offset + len(page.items)
    return json_ok(
        {
            "items": [summary(t, ctx.db.routing, now) for t in page.items],
            "total": page.total,
            "limit": f.limit,
            "offset": f.offset,
            "next_offset": end if end < page.total else None,
        }
    )


@authenticated
async def get_view(request: web.Request, principal: Principal) -> web.StreamResponse:
    ctx = context(request)
    ticket = await ctx.service.get(principal, request.match_info["number"])
    shown = detail(ticket, principal, ctx.db.routing, ctx.db.now())
    await audit_contact(request, principal, ticket, shown, "get")
    return json_ok({"ticket": shown})


@authenticated
async def action_view(request: web.Request, principal: Principal) -> web.StreamResponse:
    ctx = context(request)
    number, action = request.match_info["number"], ACTIONS[request.match_info["action"]]
    body = await read_json(request)
    outcome = await ctx.service.act(principal, number, action, body)
    shown = detail(outcome.ticket, principal, ctx.db.routing, ctx.db.now())
    await audit_contact(request, principal, outcome.ticket, shown, action)
    data: dict[str, object] = {"ticket": shown}
    if outcome.notified is not None:
        data["notified"] = outcome.notified
    return json_ok(data)


async def audit_contact(
    request: web.Request, principal: Principal, ticket: Ticket, shown: dict[str, Any], via: str
) -> None:
    """``contact_viewed`` when ``shown`` holds a contact field unmasked; before
    the answer leaves (no record, no number)."""
    fields = [
        key for key in CONTACT_FIELDS if shown.get(key) and shown.get(key) == getattr(ticket, key)
    ]
    if not fields:  # erased by retention, or only masked values
        return
    await context(request).db.audit.record(
        principal.actor,
        "contact_viewed",
        ticket.number,
        client_address=request.remote,
        detail={"fields": fields, "via": via},
    )


@functools.lru_cache(maxsize=1)
def openapi_document(path: Path = OPENAPI_PATH) -> dict[str, object]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: not an OpenAPI document")
    return loaded


async def openapi_view(request: web.Request) -> web.StreamResponse:
    return json_ok(openapi_document())


def add_routes(app: web.Application) -> None:
    actions = "|".join(ACTIONS)
    app.router.add_get(f"{PREFIX}/openapi.json", openapi_view)
    app.router.add_get(f"{PREFIX}/tickets", list_view)
    app.router.add_get(PREFIX + "/tickets/{number}", get_view)
    app.router.add_post(PREFIX + "/tickets/{number}/{action:(" + actions + ")}", action_view)
