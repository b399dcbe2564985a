"""The console's pages and JSON API (agents and supervisors).

Reads: ``GET /console/api/queue`` (the live snapshot), ``/console/api/live``
(supervisors: every recent conversation), ``/console/api/canned``
(bot/console/canned_views.py),
``/console/api/conversations/{cid}`` (transcript, summary, notes, handoff),
``.../history?after_seq=n``, ``.../ticket-draft``.
Actions (POST, ``X-CSRF-Token``): ``.../claim``, ``.../takeover``,
``.../messages`` ``{text, request_id?}`` (answers the message's ``seq`` and
``delivery``; the same ``request_id`` again is a retry),
``.../messages/{seq}/retry``, ``.../notes`` ``{text}``, ``.../transfer``
``{user_id}`` (to a colleague online) or ``{group}`` (to an agent group's
queue, ``GET /console/api/groups``), ``.../handback``, ``.../close``, ``.../ticket`` (fields).
Errors: ``{"error": code, "message": Chinese text}`` with 400/403/404/409.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from bot.console import chat_ticket
from bot.console.auth import client_ip, require
from bot.console.desk import DeskError
from bot.console.live import live_conversations
from bot.console.queue import (
    CHANNEL_NAMES,
    PRIORITY_NAMES,
    REASON_NAMES,
    group_name,
    parse_summary,
)
from bot.console.runtime import RUNTIME_KEY, Runtime
from bot.console.snapshot import snapshot
from bot.console.static import page
from bot.console.takeover import take_over, transfer, transfer_to_group
from bot.console.users import User

HOLDERS = ("agent", "supervisor")
_CID = re.compile(r"^[a-z]{2,20}:[A-Za-z0-9_.:@=-]{1,180}$")
CONV = "/console/api/conversations/{cid}"


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console", home)
    app.router.add_get("/console/", home)
    app.router.add_get("/console/api/queue", queue)
    app.router.add_get("/console/api/live", live)
    app.router.add_get("/console/api/groups", groups)
    app.router.add_get(CONV, conversation)
    app.router.add_get(CONV + "/history", history)
    app.router.add_get(CONV + "/ticket-draft", ticket_draft)
    for action in ("claim", "takeover", "messages", "notes", "transfer", "handback", "close"):
        app.router.add_post(f"{CONV}/{action}", act)
    app.router.add_post(CONV + "/ticket", ticket)
    app.router.add_post(CONV + "/messages/{seq:[0-9]{1,18}}/retry", retry)


def _runtime(request: web.Request) -> Runtime:
    return request.app[RUNTIME_KEY]


def _user(request: web.Request) -> User:
    user = request["console_user"]
    assert isinstance(user, User)
    return user


def _cid(request: web.Request) -> str:
    cid = request.match_info["cid"]
    if not _CID.match(cid):
        raise web.HTTPBadRequest(
            text='{"error":"bad_conversation","message":"会话编号无效"}',
            content_type="application/json",
        )
    return cid


def _error(exc: DeskError) -> web.Response:
    return web.json_response({"error": exc.code, "message": exc.message}, status=exc.status)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise DeskError(400, "bad_json", "请求格式有误") from None
    if not isinstance(body, dict):
        raise DeskError(400, "bad_json", "请求格式有误")
    return body


@require(*HOLDERS)
async def home(request: web.Request) -> web.StreamResponse:
    if request.path == "/console":
        raise web.HTTPFound("/console/")
    return page("index.html")


@require(*HOLDERS)
async def queue(request: web.Request) -> web.Response:
    """The live snapshot; ``?offset=&limit=`` page through the waiting citizens."""
    try:
        offset = int(request.query.get("offset") or 0)
        limit = int(request.query["limit"]) if request.query.get("limit") else None
    except ValueError:
        raise web.HTTPBadRequest(text="offset and limit must be whole numbers") from None
    console, user = _runtime(request).console, _user(request)
    groups = console.groups.visible(user.username, user.role)
    return web.json_response(await snapshot(console, offset, limit, groups))


@require("supervisor")
async def live(request: web.Request) -> web.Response:
    return web.json_response({"items": await live_conversations(_runtime(request).console)})


@require(*HOLDERS)
async def groups(request: web.Request) -> web.Response:
    """The agent groups a conversation can be transferred to (``members``: usernames,
    matched against the snapshot's present agents); ``mine``: the viewer's."""
    user = _user(request)
    groups = _runtime(request).console.groups.all()
    items = [{**g.to_dict(), "mine": user.username in g.members} for g in groups]
    return web.json_response({"items": items})


def entry_json(entry: Any, delivery: dict[str, Any] | None = None) -> dict[str, Any]:
    data = entry.data if isinstance(entry.data, dict) else {}
    buttons = data.get("buttons") or []
    return {
        "seq": entry.seq,
        "direction": entry.direction,
        "sender": entry.sender,
        "text": entry.text,
        "payload": data.get("payload"),
        "buttons": [b.get("title") for b in buttons if isinstance(b, dict)],
        "at": entry.created_at.isoformat(),
        "delivery": delivery,  # agents' messages: state, reason, Chinese text
    }


async def entries_json(runtime: Runtime, cid: str, entries: list[Any]) -> list[dict[str, Any]]:
    """Transcript entries with the delivery state of the agents' messages among them."""
    states = await runtime.desk.deliveries.states(cid, [e.seq for e in entries])
    return [entry_json(e, states.get(e.seq)) for e in entries]


@require(*HOLDERS)
async def conversation(request: web.Request) -> web.Response:
    console = _runtime(request).console
    cid = _cid(request)
    entries = await console.hub.history(cid, limit=500)
    conv = await console.conv(cid)
    if not entries and not conv.exists:
        return web.json_response({"error": "unknown", "message": "找不到该会话"}, status=404)
    row = await console.handoffs.latest(cid)
    channel = conv.channel or cid.split(":", 1)[0]
    reason = conv.handoff_reason or ""
    priority = conv.handoff_priority or "normal"
    body = {
        "conversation_id": cid,
        "state": conv.state.value,
        "channel": channel,
        "channel_name": CHANNEL_NAMES.get(channel, channel),
        "agent_id": conv.agent_user_id,
        "agent_name": conv.agent_name,
        "reason_name": REASON_NAMES.get(reason, reason),
        "group_name": group_name(console, conv.handoff_group or ""),
        "priority": priority,
        "priority_name": PRIORITY_NAMES.get(priority, priority),
        "summary": parse_summary(conv.handoff_summary),
        "handoff": row.to_dict() if row is not None else None,
        "notes": [n.to_dict() for n in await console.notes.list(cid)],
        "entries": await entries_json(_runtime(request), cid, entries),
    }
    return web.json_response(body)


@require(*HOLDERS)
async def history(request: web.Request) -> web.Response:
    raw = request.query.get("after_seq", "")
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) < 19):
        return web.json_response({"error": "bad_request", "message": "参数有误"}, status=400)
    runtime, cid = _runtime(request), _cid(request)
    entries = await runtime.console.hub.history(cid, limit=500, after_seq=int(raw) if raw else None)
    return web.json_response({"entries": await entries_json(runtime, cid, entries)})


@require(*HOLDERS)
async def ticket_draft(request: web.Request) -> web.Response:
    return web.json_response(await chat_ticket.draft(_runtime(request).console, _cid(request)))


@require(*HOLDERS)
async def ticket(request: web.Request) -> web.Response:
    runtime = _runtime(request)
    try:
        result = await chat_ticket.create(
            runtime.console, _user(request), _cid(request), await _body(request)
        )
    except DeskError as exc:
        return _error(exc)
    return web.json_response(result, status=201 if result["created"] else 200)


@require(*HOLDERS)
async def act(request: web.Request) -> web.Response:
    runtime, user, cid = _runtime(request), _user(request), _cid(request)
    action = request.path.rsplit("/", 1)[1]
    desk = runtime.desk
    try:
        body = await _body(request)
        if action == "claim":
            await desk.claim(user, cid)
        elif action == "takeover":
            await take_over(desk, user, cid)
        elif action == "messages":
            rid = body.get("request_id")
            rid = rid if isinstance(rid, str) else None
            sent = await desk.send(user, cid, _string(body, "text"), rid)
            return web.json_response({"ok": True, "message": sent.to_dict()})
        elif action == "notes":
            return await _note(runtime, user, cid, body)
        elif action == "transfer" and "group" in body:
            group = body.get("group")
            if not isinstance(group, str) or not group:
                raise DeskError(400, "bad_field", "请选择要转入的坐席组")
            await transfer_to_group(desk, user, cid, group, client_ip(request))
        elif action == "transfer":
            await transfer(desk, user, cid, _user_id(body))
        elif action == "handback":
            await desk.hand_back(user, cid)
        else:
            await desk.close(user, cid)
    except DeskError as exc:
        return _error(exc)
    return web.json_response({"ok": True})


@require(*HOLDERS)
async def retry(request: web.Request) -> web.Response:
    """Send a failed agent message again; a sent one is left alone (idempotent)."""
    runtime, user, cid = _runtime(request), _user(request), _cid(request)
    try:
        sent = await runtime.desk.retry(user, cid, int(request.match_info["seq"]))
    except DeskError as exc:
        return _error(exc)
    return web.json_response({"ok": True, "message": sent.to_dict()})


async def _note(runtime: Runtime, user: User, cid: str, body: dict[str, Any]) -> web.Response:
    try:
        note = await runtime.console.notes.add(cid, user.display_name, _string(body, "text"))
    except ValueError:
        raise DeskError(400, "bad_note", "备注不能为空且不超过 2000 字") from None
    await runtime.console.notifier.conversation_changed(cid, "note")
    return web.json_response({"ok": True, "note": note.to_dict()}, status=201)


def _string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise DeskError(400, "bad_field", "内容不能为空")
    return value


def _user_id(body: dict[str, Any]) -> int:
    value = body.get("user_id")
    if not isinstance(value, int) or isinstance(value, bool):
        raise DeskError(400, "bad_field", "请选择要转接的坐席")
    return value
