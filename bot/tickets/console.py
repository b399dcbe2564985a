"""The console's ticket pages: ``/console/tickets`` and its JSON views.

``GET  /console/tickets``                           the page (any signed-in role)
``GET  /console/api/tickets``                       list: ``status`` (comma list),
    ``department``, ``category``, ``town`` (镇街 key), ``priority``,
    ``flag`` (overdue|due_soon|escalated|needs_review),
    ``q`` (number or description), ``limit``, ``offset``
``GET  /console/api/ticket-meta``                   departments, categories, towns, statuses,
    priorities and the actions this user may take
``GET  /console/api/tickets/{number}``              one ticket with its timeline
    (``actor_names``: the console users on it by display name)
``POST /console/api/tickets/{number}/{action}``     assign, priority, note, merge, close,
    reply (supervisor, agent); accept, return, reply, note (department)
``POST /console/api/tickets/{number}/contact``      the citizen's full name, phone (and ID
    number for agents and supervisors): written to the audit log as ``contact_viewed``
    (who, when, from where) before it is answered

Opening a ticket shows the contact masked (138****5678): reading the full
number is an explicit action ("显示完整号码"), one audit record per read.

Sign-in, roles and the CSRF header come from ``bot.console.auth``. A
department user sees only tickets assigned to their department: the list is
filtered and any other ticket answers 404.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.console.auth import USERS_KEY, User, client_ip, current_user, require
from bot.console.static import page
from bot.db.models import PRIORITIES, STATUS_NAMES, TICKET_STATUSES, Ticket
from bot.db.workflow import TRIAGE
from bot.tickets.access import ACTIONS, Principal, contact, detail, summary
from bot.tickets.commands import FIELDS
from bot.tickets.context import context
from bot.tickets.errors import BadInput, TicketError
from bot.tickets.http import json_ok, read_json
from bot.tickets.query import list_tickets, parse_filter

PRIORITY_NAMES = {"normal": "普通", "high": "紧急", "urgent": "特急"}


def principal_for(user: User) -> Principal:
    return Principal(user.username, user.role, user.department)


async def _principal(request: web.Request) -> Principal:
    user = await current_user(request)
    assert user is not None  # @require ran first
    return principal_for(user)


@require()
async def tickets_page(request: web.Request) -> web.StreamResponse:
    return page("tickets.html")


@require()
async def meta_view(request: web.Request) -> web.StreamResponse:
    principal = await _principal(request)
    routing = context(request).db.routing
    departments = [{"key": k, "name": name} for k, (name, _days) in routing.departments.items()]
    return json_ok(
        {
            "departments": departments,
            "assignable": [d for d in departments if d["key"] != TRIAGE],
            "categories": [{"key": k, "name": c.name} for k, c in routing.categories.items()],
            "towns": [
                {"key": t.key, "name": t.name}
                for t in (routing.towns.towns.values() if routing.towns else ())
            ],
            "statuses": [{"key": s, "name": STATUS_NAMES[s]} for s in TICKET_STATUSES],
            "priorities": [{"key": p, "name": PRIORITY_NAMES[p]} for p in PRIORITIES],
            "actions": sorted(ACTIONS[principal.role]),
            "role": principal.role,
            "department": principal.department,
        }
    )


@require()
async def list_view(request: web.Request) -> web.StreamResponse:
    principal = await _principal(request)
    ctx = context(request)
    params = dict(request.query)
    if principal.scoped:
        params["department"] = principal.department or ""
    try:
        f = parse_filter(params, ctx.db)
    except ValueError as exc:
        return BadInput(str(exc)).response()
    result = await list_tickets(ctx.db, f)
    now = ctx.db.now()
    return json_ok(
        {
            "items": [summary(t, ctx.db.routing, now) for t in result.items],
            "total": result.total,
            "limit": f.limit,
            "offset": f.offset,
        }
    )


@require()
async def get_view(request: web.Request) -> web.StreamResponse:
    principal = await _principal(request)
    ctx = context(request)
    try:
        ticket = await ctx.service.get(principal, request.match_info["number"])
    except TicketError as exc:
        return exc.response()
    shown = detail(ticket, principal, ctx.db.routing, ctx.db.now(), masked_contact=True)
    return json_ok({"ticket": await _with_names(request, ticket, shown)})


@require()
async def contact_view(request: web.Request) -> web.StreamResponse:
    """The full contact of one ticket; audited first (no record, no number)."""
    principal = await _principal(request)
    ctx = context(request)
    try:  # the same scoping as the ticket itself: another department's is 404
        ticket = await ctx.service.get(principal, request.match_info["number"])
    except TicketError as exc:
        return exc.response()
    full = contact(ticket, principal)
    await ctx.db.audit.record(
        principal.actor,
        "contact_viewed",
        ticket.number,
        client_address=client_ip(request),
        detail={"fields": [key for key, value in full.items() if value]},
    )
    return json_ok({"number": ticket.number, "contact": full})


@require()
async def action_view(request: web.Request) -> web.StreamResponse:
    principal = await _principal(request)
    ctx = context(request)
    try:
        body: Any = await read_json(request)
        outcome = await ctx.service.act(
            principal, request.match_info["number"], request.match_info["action"], body
        )
    except TicketError as exc:
        return exc.response()
    shown = detail(outcome.ticket, principal, ctx.db.routing, ctx.db.now(), masked_contact=True)
    data: dict[str, Any] = {"ticket": await _with_names(request, outcome.ticket, shown)}
    if outcome.notified is not None:
        data["notified"] = outcome.notified
    return json_ok(data)


async def _with_names(
    request: web.Request, ticket: Ticket, shown: dict[str, Any]
) -> dict[str, Any]:
    """``shown`` with ``actor_names``: the display name of each console user on
    the timeline (``username -> 张三``), so the page shows names, not accounts."""
    names = await request.app[USERS_KEY].display_names(e.actor for e in ticket.events)
    return {**shown, "actor_names": names}


def add_routes(app: web.Application) -> None:
    actions = "|".join(FIELDS)
    app.router.add_get("/console/tickets", tickets_page)
    app.router.add_get("/console/api/ticket-meta", meta_view)
    app.router.add_get("/console/api/tickets", list_view)
    app.router.add_get("/console/api/tickets/{number}", get_view)
    app.router.add_post("/console/api/tickets/{number}/contact", contact_view)
    app.router.add_post("/console/api/tickets/{number}/{action:(" + actions + ")}", action_view)
