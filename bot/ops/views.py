"""Console pages and APIs of bot/ops.

``GET  /console/followups``                        the follow-up page (agent, supervisor)
``GET  /console/api/followups``                    ``{due: [...], awaiting: [...],
    followup_days, close_days}`` (agent, supervisor)
``POST /console/api/followups/{number}``           ``{method: call|message, outcome:
    satisfied|not_satisfied|unreachable|messaged|reopened, rating?: 1-5, note?, version?}``
    -> ``{ticket}`` (agent, supervisor); 400 bad input, 404 no such ticket,
    409 not answered-and-unrated any more (or a stale ``version``)
``GET  /console/api/scheduled-reports``            ``{items: [{id, period, since, until,
    department, created_at, formats}]}``: supervisors all (city-wide and every
    department's), a department user only its own department's versions
``GET  /console/api/scheduled-reports/{id}.{json|csv|xlsx}``  the file; a
    department user gets 403 for any report that is not its department's
``GET  /console/api/ops/backups``                  ``{last_backup: {at, file, bytes, ok,
    error?}|null, last_good_backup: {...}|null, last_check: {at, ok, detail (a sentence),
    data (file, tables, rows, counts; or error)}|null}``
    (supervisors)

Agents get 403 on the reports and backups; department users 403 on the
follow-up (the hotline calls the citizen, not the department).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.console.auth import current_user, require
from bot.console.static import page
from bot.db.errors import ConflictError, InvalidTransition, TicketNotFound
from bot.db.models import LOCAL_TZ
from bot.ops import OPS_KEY
from bot.ops.followup import FollowupItem
from bot.ops.jobs import BACKUP, RESTORE_CHECK
from bot.ops.reports import FORMATS
from bot.ops.runs import Run
from bot.tickets.access import Principal, detail
from bot.tickets.errors import BadInput, Conflict, NotFound, TicketError
from bot.tickets.http import json_ok, read_json

CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PERIOD_NAMES = {"daily": "日报", "weekly": "周报", "monthly": "月报"}


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console/followups", followups_page)
    app.router.add_get("/console/api/followups", followups_list)
    app.router.add_post("/console/api/followups/{number}", followup_record)
    app.router.add_get("/console/api/scheduled-reports", reports_list)
    app.router.add_get(
        r"/console/api/scheduled-reports/{id:\d{1,18}}.{fmt:(json|csv|xlsx)}", report_file
    )
    app.router.add_get("/console/api/ops/backups", backups_view)


# --- follow-up ---------------------------------------------------------------
@require("agent", "supervisor")
async def followups_page(request: web.Request) -> web.StreamResponse:
    return page("followups.html")


def _item(item: FollowupItem) -> dict[str, Any]:
    t = item.ticket
    return {
        "number": t.number,
        "state": item.state,
        "category": t.category,
        "description": t.description[:200],
        "department_name": t.department_name,
        "channel": t.channel,
        "contact_name": t.masked_name or None,
        "contact_phone": t.masked_phone or None,
        "reply": t.last_reply,
        "replied_at": item.replied_at.astimezone(LOCAL_TZ).isoformat(),
        "version": t.version,
        "attempts": [
            {"at": e.at.astimezone(LOCAL_TZ).isoformat(), "actor": e.actor, **e.data}
            for e in item.attempts
        ],
        "close_at": item.close_at.astimezone(LOCAL_TZ).isoformat() if item.close_at else None,
    }


@require("agent", "supervisor")
async def followups_list(request: web.Request) -> web.StreamResponse:
    ops = request.app[OPS_KEY]
    items = await ops.followups.items()
    routing = ops.db.routing
    rows = []
    for item in items:
        row = _item(item)
        row["category_name"] = routing.category_name(item.ticket.category)
        rows.append(row)
    return json_ok(
        {
            "due": [r for r in rows if r["state"] == "due"],
            "awaiting": [r for r in rows if r["state"] == "awaiting"],
            "followup_days": ops.settings.followup_days,
            "close_days": ops.settings.followup_close_days,
        }
    )


def _int_or_none(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{what} must be a whole number")
    return value


@require("agent", "supervisor")
async def followup_record(request: web.Request) -> web.StreamResponse:
    ops = request.app[OPS_KEY]
    user = await current_user(request)
    assert user is not None
    number = request.match_info["number"]
    try:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise BadInput("the body must be a JSON object")
        note = body.get("note")
        if note is not None and not isinstance(note, str):
            raise BadInput("note must be text")
        if len(number) > 20 or await ops.db.tickets.get(number) is None:
            raise NotFound(f"ticket {number} not found")
        try:
            ticket = await ops.followups.record(
                number, actor=user.username, method=str(body.get("method") or ""),
                outcome=str(body.get("outcome") or ""),
                rating=_int_or_none(body.get("rating"), "rating"), note=note,
                expected_version=_int_or_none(body.get("version"), "version"),
            )  # fmt: skip
        except TicketNotFound:
            raise NotFound(f"ticket {number} not found") from None
        except (InvalidTransition, ConflictError) as exc:
            raise Conflict(str(exc)) from None
        except ValueError as exc:
            raise BadInput(str(exc)) from None
    except TicketError as exc:
        return exc.response()
    principal = Principal(user.username, user.role, user.department)
    shown = detail(ticket, principal, ops.db.routing, ops.db.now(), masked_contact=True)
    return json_ok({"ticket": shown})


# --- scheduled reports ----------------------------------------------------------
def _forbidden() -> web.Response:
    return web.json_response({"error": "forbidden", "message": "您没有权限查看此报表"}, status=403)


@require("supervisor", "department")
async def reports_list(request: web.Request) -> web.StreamResponse:
    ops = request.app[OPS_KEY]
    user = await current_user(request)
    assert user is not None
    if user.role == "department":
        items = await ops.reports.list(department=user.department or "")
    else:
        items = await ops.reports.list()
    names = ops.db.routing.departments
    return json_ok(
        {
            "items": [
                {
                    **info.to_dict(),
                    "period_name": PERIOD_NAMES[info.period],
                    "department_name": names[info.department][0]
                    if info.department in names
                    else None,
                }
                for info in items
            ]
        }
    )


@require("supervisor", "department")
async def report_file(request: web.Request) -> web.StreamResponse:
    ops = request.app[OPS_KEY]
    user = await current_user(request)
    assert user is not None
    info = await ops.reports.get(int(request.match_info["id"]))
    fmt = request.match_info["fmt"]
    if info is None or fmt not in FORMATS:
        return web.json_response({"error": "not_found", "message": "报表不存在"}, status=404)
    if user.role == "department" and info.department != user.department:
        return _forbidden()
    body = await ops.reports.content(info.id, fmt)
    if body is None:
        return web.json_response({"error": "not_found", "message": "报表不存在"}, status=404)
    scope = info.department or "city"
    name = f"hotline-{info.period}-{info.since}-{info.until}-{scope}.{fmt}"
    headers = {
        "Content-Type": CONTENT_TYPES[fmt],
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    }
    return web.Response(body=body, headers=headers)


# --- backups -----------------------------------------------------------------
def _backup(run: Run | None) -> dict[str, Any] | None:
    if run is None:
        return None
    out: dict[str, Any] = {
        "at": (run.finished_at or run.started_at).astimezone(LOCAL_TZ).isoformat(),
        "file": run.detail.get("file"),
        "bytes": run.detail.get("bytes"),
        "ok": run.status == "ok",
        "status": run.status,
    }
    if run.status == "failed":
        out["error"] = run.detail.get("error")
    return out


def _check(run: Run | None) -> dict[str, Any] | None:
    """The restore check: ``detail`` a sentence for people, ``data`` the findings."""
    if run is None:
        return None
    data = {k: v for k, v in run.detail.items() if k != "runner"}
    if run.status == "ok":
        text = (
            f"已将 {data.get('file')} 恢复到临时数据库：{data.get('tables')} 张表共 "
            f"{data.get('rows')} 行，与备份清单一致"
        )
    elif run.status == "failed":
        text = f"恢复校验失败：{data.get('error')}"
    else:
        text = "恢复校验进行中"
    return {
        "at": (run.finished_at or run.started_at).astimezone(LOCAL_TZ).isoformat(),
        "ok": run.status == "ok",
        "status": run.status,
        "detail": text,
        "data": data,
    }


@require("supervisor")
async def backups_view(request: web.Request) -> web.StreamResponse:
    runs = request.app[OPS_KEY].runs
    return json_ok(
        {
            "last_backup": _backup(await runs.latest(BACKUP)),
            "last_good_backup": _backup(await runs.latest(BACKUP, status="ok")),
            "last_check": _check(await runs.latest(RESTORE_CHECK)),
        }
    )
