"""Supervisors' pages: the audit log and console users.

Audit log: ``GET /console/audit`` (page), ``GET /console/api/audit`` with
optional ``action``, ``actor``, ``since``/``until`` (ISO dates or times;
a date alone is the local day), ``before_id`` (paging: the ``next_before_id``
of the previous page) and ``limit`` (1-200, default 50) -> ``{items: [{id,
at, actor, action, action_name, target, client_address, detail}], next_before_id,
actions: {key: Chinese name}}``, newest first.

Users: ``GET /console/api/users``; ``POST /console/api/users`` ``{username,
password, role, display_name?, department?}``; ``POST
/console/api/users/{username}/role`` ``{role, department?}``, ``.../password``
``{password}``, ``.../active`` ``{active}``. A role, password or active-flag
change ends every session of that user (and closes their console sockets);
all of it is audited.

Supervisors only: agents and department users get 403. ``GET
/console/account`` (any signed-in user): change one's own password; for
supervisors also the users above.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from aiohttp import web

from bot.console.auth import USERS_KEY, client_ip, require
from bot.console.auth_views import sessions_ended
from bot.console.static import page
from bot.console.users import ROLE_NAMES, User, UserExists, UserRepo
from bot.db.models import LOCAL_TZ

ACTION_NAMES = {
    "sign_in": "登录",
    "sign_in_failed": "登录失败",
    "sign_out": "退出登录",
    "password_change": "修改密码",
    "password_change_failed": "修改密码失败（当前密码错误）",
    "role_change": "变更角色",
    "user_created": "创建用户",
    "user_deactivated": "停用用户",
    "user_activated": "启用用户",
    "contact_viewed": "查看完整联系方式",
    "export": "导出数据",
    "backup": "备份",
    "restore": "恢复",
    "knowledge.attach": "问题加入已有问答",
    "knowledge.draft": "新增问答草稿",
    "knowledge.dismiss": "忽略未解答问题",
    "emergency_on": "开启应急模式",
    "emergency_off": "关闭应急模式",
    "emergency_broadcast": "群发应急通知",
}
_ACTION = re.compile(r"^[a-z][a-z0-9_.]{0,39}$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")
USER_PATH = "/console/api/users/{username}"


def add_admin_routes(app: web.Application) -> None:
    app.router.add_get("/console/audit", audit_page)
    app.router.add_get("/console/account", account_page)
    app.router.add_get("/console/api/audit", audit_list)
    app.router.add_get("/console/api/users", user_list)
    app.router.add_post("/console/api/users", user_create)
    app.router.add_post(USER_PATH + "/role", user_role)
    app.router.add_post(USER_PATH + "/password", user_password)
    app.router.add_post(USER_PATH + "/active", user_active)


def _bad(message: str, error: str = "bad_request", status: int = 400) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status)


class _BadQuery(ValueError):
    pass


def _when(value: str | None, *, end: bool) -> dt.datetime | None:
    if not value:
        return None
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value) + dt.timedelta(days=1 if end else 0)
            return dt.datetime.combine(day, dt.time(), LOCAL_TZ)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _BadQuery("日期格式应为 2026-12-01") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def _int(value: str | None, default: int | None, low: int, high: int) -> int | None:
    if value is None or value == "":
        return default
    if not (value.isascii() and value.isdigit()):  # "²" is a digit int() refuses
        raise _BadQuery("分页参数无效")
    return max(low, min(high, int(value)))


@require("supervisor")
async def audit_page(request: web.Request) -> web.StreamResponse:
    return page("audit.html")


@require()
async def account_page(request: web.Request) -> web.StreamResponse:
    """Everyone's own password; supervisors also manage users there."""
    return page("account.html")


@require("supervisor")
async def audit_list(request: web.Request) -> web.Response:
    query = request.query
    action, actor = query.get("action") or None, (query.get("actor") or "").strip() or None
    try:
        if action is not None and not _ACTION.match(action):
            raise _BadQuery("操作类型无效")
        if actor is not None and not _USERNAME.match(actor):
            raise _BadQuery("用户名无效")
        limit = _int(query.get("limit"), 50, 1, 200) or 50
        before_id = _int(query.get("before_id"), None, 1, 2**62)
        since = _when(query.get("since"), end=False)
        until = _when(query.get("until"), end=True)
    except _BadQuery as exc:
        return _bad(str(exc))
    audit = request.app[USERS_KEY].audit
    rows = await audit.list(
        since=since, until=until, action=action, actor=actor, limit=limit + 1, before_id=before_id
    )
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        {
            **row,
            "at": row["at"].astimezone(dt.UTC).isoformat(),
            "action_name": ACTION_NAMES.get(row["action"], row["action"]),
        }
        for row in rows
    ]
    return web.json_response(
        {
            "items": items,
            "next_before_id": rows[-1]["id"] if more and rows else None,
            "actions": ACTION_NAMES,
        }
    )


# --- users -----------------------------------------------------------------------
async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _supervisor(request: web.Request) -> User:
    user = request["console_user"]
    assert isinstance(user, User)
    return user


@require("supervisor")
async def user_list(request: web.Request) -> web.Response:
    users = await request.app[USERS_KEY].list()
    items = [{**u.to_dict(), "role_name": ROLE_NAMES[u.role]} for u in users]
    return web.json_response({"items": items})


@require("supervisor")
async def user_create(request: web.Request) -> web.Response:
    body = await _json(request)
    fields = {
        k: body.get(k) for k in ("username", "password", "role", "display_name", "department")
    }
    if not all(isinstance(v, str) or v is None for v in fields.values()):
        return _bad("请求格式有误")
    try:
        user = await request.app[USERS_KEY].create(
            username=fields["username"] or "", password=fields["password"] or "",
            role=fields["role"] or "", display_name=fields["display_name"],
            department=fields["department"] or None,
            actor=_supervisor(request).username, client_address=client_ip(request),
        )  # fmt: skip
    except UserExists:
        return _bad("该用户名已存在", "exists", 409)
    except ValueError:
        return _bad("用户名、角色、部门或密码不符合要求（密码至少 10 位，含字母和数字）")
    return web.json_response({"ok": True, "user": user.to_dict()}, status=201)


async def _target(request: web.Request) -> tuple[UserRepo, str, User | None]:
    repo: UserRepo = request.app[USERS_KEY]
    username = request.match_info["username"]
    return repo, username, await repo.get_by_username(username)


async def _done(request: web.Request, changed: bool, before: User | None) -> web.Response:
    if not changed:
        return _bad("没有这个用户", "not_found", 404)
    if before is not None:
        await sessions_ended(request, before.id)
    return web.json_response({"ok": True})


@require("supervisor")
async def user_role(request: web.Request) -> web.Response:
    body = await _json(request)
    role, department = body.get("role"), body.get("department") or None
    if not isinstance(role, str) or not (department is None or isinstance(department, str)):
        return _bad("请求格式有误")
    repo, username, before = await _target(request)
    try:
        changed = await repo.set_role(
            username, role, department,
            actor=_supervisor(request).username, client_address=client_ip(request),
        )  # fmt: skip
    except ValueError:
        return _bad("角色或部门无效")
    return await _done(request, changed, before)


@require("supervisor")
async def user_password(request: web.Request) -> web.Response:
    password = (await _json(request)).get("password")
    if not isinstance(password, str):
        return _bad("请输入新密码")
    repo, username, before = await _target(request)
    try:
        changed = await repo.set_password(
            username, password[:200],
            actor=_supervisor(request).username, client_address=client_ip(request),
        )  # fmt: skip
    except ValueError:
        return _bad("新密码至少 10 位，并且同时包含字母和数字", "weak_password")
    return await _done(request, changed, before)


@require("supervisor")
async def user_active(request: web.Request) -> web.Response:
    active = (await _json(request)).get("active")
    if not isinstance(active, bool):
        return _bad("请求格式有误")
    repo, username, before = await _target(request)
    changed = await repo.set_active(
        username, active, actor=_supervisor(request).username, client_address=client_ip(request)
    )
    return await _done(request, changed, before)
