"""The figures in the console: ``GET /console/api/figures`` (JSON) and the
downloads ``/console/api/figures.csv`` and ``/console/api/figures.xlsx``.

Query: ``since``, ``until`` (local dates ``YYYY-MM-DD``, both included; each
defaults to today, ``since`` to ``until``), ``group`` (day|week|month),
``channel``, ``department``, ``category``, ``town``. A bad value answers 400
``{"error": "bad_request", "message": ...}``.

Roles: supervisors see every figure; a department user sees only their own
department's ticket figures (``department_scope``, as their ticket list is
scoped: a ``department`` in the query is ignored); agents get 403. Every
download is written to the audit log (``export``) before it is answered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from aiohttp import web

from bot.console.auth import USERS_KEY, client_ip, current_user, require
from bot.console.context import CONSOLE_KEY
from bot.db.models import LOCAL_TZ
from bot.reports.compute import FILTER_KEYS, ReportError, compute_report
from bot.reports.export import to_csv, to_xlsx

ROLES = ("supervisor", "department")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console/api/figures", figures_json)
    app.router.add_get("/console/api/figures.csv", figures_csv)
    app.router.add_get("/console/api/figures.xlsx", figures_xlsx)


def _bad(message: str) -> web.Response:
    return web.json_response({"error": "bad_request", "message": message}, status=400)


def _date(value: str | None, name: str, default: dt.date) -> dt.date:
    if value is None or value == "":
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ReportError(
            f"{name} 日期格式应为 YYYY-MM-DD ({name} must be a date like 2026-12-01)"
        ) from None


async def _report(request: web.Request) -> tuple[dict[str, Any], str]:
    user = await current_user(request)
    assert user is not None  # @require ran first
    today = dt.datetime.now(LOCAL_TZ).date()
    query = request.query
    until = _date(query.get("until"), "until", today)
    since = _date(query.get("since"), "since", until)
    filters = {k: query[k] for k in FILTER_KEYS if query.get(k)}
    scope = None
    if user.role == "department":
        scope = user.department or ""
        filters.pop("department", None)
        if not scope:
            raise PermissionError
    db = request.app[CONSOLE_KEY].db
    doc = await compute_report(
        db, since, until, group=query.get("group") or "day", filters=filters,
        department_scope=scope,
    )  # fmt: skip
    return doc, user.username


async def _guarded(request: web.Request) -> tuple[dict[str, Any], str] | web.Response:
    try:
        return await _report(request)
    except ReportError as exc:
        return _bad(str(exc))
    except PermissionError:
        return web.json_response(
            {"error": "forbidden", "message": "您的账号未绑定部门，无法查看部门统计"}, status=403
        )


@require(*ROLES)
async def figures_json(request: web.Request) -> web.StreamResponse:
    result = await _guarded(request)
    if isinstance(result, web.Response):
        return result
    doc, _user = result
    return web.json_response(doc, headers={"Cache-Control": "no-store"})


def _filename(doc: dict[str, Any], ext: str) -> str:
    scope = doc["scope"]["department"]
    suffix = f"-{scope}" if scope else ""
    return f"figures-{doc['since']}-{doc['until']}{suffix}.{ext}"


async def _download(request: web.Request, ext: str) -> web.StreamResponse:
    result = await _guarded(request)
    if isinstance(result, web.Response):
        return result
    doc, username = result
    name = _filename(doc, ext)
    await request.app[USERS_KEY].audit.record(
        username, "export", f"figures.{ext}", client_address=client_ip(request),
        detail={"since": doc["since"], "until": doc["until"], "scope": doc["scope"]},
    )  # fmt: skip
    if ext == "csv":
        body = to_csv(doc).encode("utf-8-sig")  # the BOM makes Excel read UTF-8
        content_type = "text/csv; charset=utf-8"
    else:
        # openpyxl takes up to a second for a wide report: off the event loop,
        # so citizens' messages keep flowing meanwhile.
        body = await asyncio.to_thread(to_xlsx, doc)
        content_type = XLSX_TYPE
    return web.Response(
        body=body,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@require(*ROLES)
async def figures_csv(request: web.Request) -> web.StreamResponse:
    return await _download(request, "csv")


@require(*ROLES)
async def figures_xlsx(request: web.Request) -> web.StreamResponse:
    return await _download(request, "xlsx")
