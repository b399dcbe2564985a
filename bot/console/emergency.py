"""The emergency switch in the console (bot/emergency).

``GET /console/emergency``: the page (every signed-in role sees the state;
only supervisors get the switch). ``GET /console/api/emergency`` ->
``{state, can_switch, faq_choices: [{id, question, domain}], periods: [...],
broadcast_window_hours}``. ``POST /console/api/emergency`` (supervisors,
``X-CSRF-Token``): ``{"action": "on", "notice": str, "faq": [key...],
"keywords": [str...], "drill": bool, "broadcast": bool}`` or ``{"action":
"off"}`` -> ``{ok, state}``; a refused switch answers ``{error, message}``
with 400 (bad input: nothing switched) or 409 (already on / not on).
``GET /console/api/emergency/report?id=N`` (any signed-in role; default the
latest period): the incident report (bot/emergency/report.py), 404 when none.
Every switch is audited (``emergency_on`` / ``emergency_off`` /
``emergency_broadcast``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.console.auth import client_ip, require
from bot.console.static import page
from bot.console.users import User
from bot.emergency import EmergencyError, switch_off, switch_on
from bot.emergency.records import PeriodRepo
from bot.emergency.report import incident_report
from bot.emergency.web import EMERGENCY_KEY
from bot.knowledge import load_faq

API = "/console/api/emergency"


def add_emergency_routes(app: web.Application) -> None:
    app.router.add_get("/console/emergency", emergency_page)
    app.router.add_get(API, state)
    app.router.add_post(API, switch)
    app.router.add_get(API + "/report", report)


def _bad(message: str, error: str = "bad_request", status: int = 400) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status)


def _user(request: web.Request) -> User:
    user = request["console_user"]
    assert isinstance(user, User)
    return user


@require()
async def emergency_page(request: web.Request) -> web.StreamResponse:
    return page("emergency.html")


@require()
async def state(request: web.Request) -> web.Response:
    desk = request.app[EMERGENCY_KEY]
    current = await desk.board.fresh()
    periods = await PeriodRepo(desk.db).latest(10)
    choices = [
        {"id": e.id, "question": e.question, "domain": e.domain_name} for e in load_faq().values()
    ]
    return web.json_response(
        {
            "state": current.to_dict(),
            "can_switch": _user(request).role == "supervisor",
            "faq_choices": choices,
            "periods": [p.to_dict() for p in periods],
            "broadcast_window_hours": desk.window_hours,
        }
    )


async def _json(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


@require("supervisor")
async def switch(request: web.Request) -> web.Response:
    body = await _json(request)
    if body is None:
        return _bad("请求格式有误")
    desk = request.app[EMERGENCY_KEY]
    actor = _user(request).username
    action = body.get("action")
    faq, keywords = body.get("faq") or [], body.get("keywords") or []
    drill, broadcast = body.get("drill", False), body.get("broadcast", False)
    try:
        if action == "on":
            if not isinstance(faq, list) or not isinstance(keywords, list):
                return _bad("常见问题和关键词应为列表")
            if not isinstance(drill, bool) or not isinstance(broadcast, bool):
                return _bad("演练和群发应为是或否")
            done = await switch_on(
                desk.board, desk.db, notice=body.get("notice"), faq=faq, keywords=keywords,
                drill=drill, actor=actor, client_address=client_ip(request),
            )  # fmt: skip
            if broadcast:
                desk.start_broadcast(done.state, actor)
            return web.json_response(
                {"ok": True, "state": done.state.to_dict(), "broadcast": broadcast}
            )
        if action == "off":
            await switch_off(desk.board, desk.db, actor=actor, client_address=client_ip(request))
            return web.json_response({"ok": True, "state": (await desk.board.fresh()).to_dict()})
    except EmergencyError as exc:
        return _bad(exc.message, exc.code, exc.status)
    return _bad("操作应为 on 或 off")


@require()
async def report(request: web.Request) -> web.Response:
    raw = request.query.get("id")
    period_id: int | None = None
    if raw:
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
            return _bad("编号无效")
        period_id = int(raw)
    doc = await incident_report(request.app[EMERGENCY_KEY].db, period_id)
    if doc is None:
        return _bad("没有这次应急记录", "not_found", 404)
    return web.json_response(doc)
