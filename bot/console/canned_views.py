"""Canned replies in the console: agents search them, supervisors edit them.

``GET /console/api/canned?q=`` (agents and supervisors): the replies, those
whose title or text contains ``q`` when given (``updated_by_name``: who last
changed it, by display name). Supervisors only:
``POST /console/api/canned`` ``{title, text}`` (201), ``PUT
/console/api/canned/{id}`` ``{title, text}``, ``DELETE
/console/api/canned/{id}``; each audited (``canned.create`` / ``update`` /
``delete``), and every open console is told to reload (a ``canned`` event).
Agents get 403. The editing page is ``/console/canned``.
"""

from __future__ import annotations

from aiohttp import web

from bot.console.auth import USERS_KEY, client_ip, require
from bot.console.canned import CannedRepo
from bot.console.desk import DeskError
from bot.console.runtime import RUNTIME_KEY
from bot.console.static import page
from bot.console.users import User
from bot.console.views import _body, _error

ITEM = "/console/api/canned/{id:[0-9]{1,18}}"


def add_canned_routes(app: web.Application) -> None:
    app.router.add_get("/console/canned", canned_page)
    app.router.add_get("/console/api/canned", search)
    app.router.add_post("/console/api/canned", create)
    app.router.add_put(ITEM, update)
    app.router.add_delete(ITEM, delete)


def _repo(request: web.Request) -> CannedRepo:
    return request.app[RUNTIME_KEY].canned


def _user(request: web.Request) -> User:
    user = request["console_user"]
    assert isinstance(user, User)
    return user


async def _changed(request: web.Request) -> None:
    await request.app[RUNTIME_KEY].console.notifier.publish({"type": "canned"})


@require("supervisor")
async def canned_page(request: web.Request) -> web.StreamResponse:
    return page("canned.html")


@require("agent", "supervisor")
async def search(request: web.Request) -> web.Response:
    items = await _repo(request).items(request.query.get("q", ""))
    names = await request.app[USERS_KEY].display_names(c.updated_by for c in items)
    names["system"] = "系统"  # the seed
    shown = [
        {**c.to_dict(), "updated_by_name": names.get(c.updated_by, c.updated_by)} for c in items
    ]
    return web.json_response({"items": shown})


@require("supervisor")
async def create(request: web.Request) -> web.Response:
    try:
        body = await _body(request)
        reply = await _repo(request).create(
            body.get("title"), body.get("text"),
            actor=_user(request).username, client_address=client_ip(request),
        )  # fmt: skip
    except DeskError as exc:
        return _error(exc)
    await _changed(request)
    return web.json_response({"ok": True, "item": reply.to_dict()}, status=201)


@require("supervisor")
async def update(request: web.Request) -> web.Response:
    try:
        body = await _body(request)
        reply = await _repo(request).update(
            int(request.match_info["id"]), body.get("title"), body.get("text"),
            actor=_user(request).username, client_address=client_ip(request),
        )  # fmt: skip
    except DeskError as exc:
        return _error(exc)
    await _changed(request)
    return web.json_response({"ok": True, "item": reply.to_dict()})


@require("supervisor")
async def delete(request: web.Request) -> web.Response:
    try:
        await _repo(request).delete(
            int(request.match_info["id"]),
            actor=_user(request).username, client_address=client_ip(request),
        )  # fmt: skip
    except DeskError as exc:
        return _error(exc)
    await _changed(request)
    return web.json_response({"ok": True})
