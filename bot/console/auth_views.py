"""Sign in, sign out and "who am I" for the console.

``GET /console/login`` the sign-in page; ``POST /console/login`` with JSON
``{"username", "password"}`` -> 200 ``{"ok": true, "redirect"}`` and the
session cookie, 401 wrong credentials, 429 too many failures (Chinese
message in ``message``); ``POST /console/logout``; ``GET /console/api/me``.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.console.auth import (
    LOGIN_PATH,
    SESSIONS_KEY,
    THROTTLE_KEY,
    USERS_KEY,
    clear_session_cookie,
    client_ip,
    csrf_middleware,
    current_session,
    require,
    set_session_cookie,
)
from bot.console.sessions import SessionStore
from bot.console.static import page
from bot.console.throttle import LoginThrottle, minutes
from bot.console.users import User, UserRepo
from bot.db.database import Database
from bot.store.base import SharedStore

log = logging.getLogger(__name__)

HOME_FOR_ROLE = {"agent": "/console/", "supervisor": "/console/", "department": "/console/tickets"}
_BAD_LOGIN = "用户名或密码错误"


def setup_auth(app: web.Application, store: SharedStore, db: Database) -> None:
    """Register the user repository, sessions, throttle, CSRF check and routes."""
    app[USERS_KEY] = UserRepo(db)
    app[SESSIONS_KEY] = SessionStore(store)
    app[THROTTLE_KEY] = LoginThrottle(store)
    app.middlewares.append(csrf_middleware)
    app.router.add_get(LOGIN_PATH, login_page)
    app.router.add_post(LOGIN_PATH, login)
    app.router.add_post("/console/logout", logout)
    app.router.add_get("/console/api/me", me)


async def login_page(request: web.Request) -> web.StreamResponse:
    return page("login.html")


async def _credentials(request: web.Request) -> tuple[str, str]:
    try:
        if request.content_type == "application/json":
            body: Any = await request.json()
        else:
            body = dict(await request.post())
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"error":"bad_request"}', content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        body = {}
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return "", ""
    return username.strip()[:40], password[:200]


async def login(request: web.Request) -> web.Response:
    username, password = await _credentials(request)
    if not username or not password:
        return web.json_response({"error": "missing", "message": "请输入用户名和密码"}, status=400)
    throttle: LoginThrottle = request.app[THROTTLE_KEY]
    ip = client_ip(request)
    wait = await throttle.locked_for(username, ip)
    if wait > 0:
        return _locked(wait)
    await throttle.slow_down(username, ip)
    result = await request.app[USERS_KEY].verify(username, password)
    if result.user is None:
        await throttle.failed(username, ip)
        log.info("console sign-in failed")
        if result.locked_until is not None:
            return _locked((result.locked_until - request.app[USERS_KEY].now()).total_seconds())
        return web.json_response({"error": "invalid", "message": _BAD_LOGIN}, status=401)
    await throttle.succeeded(username)
    return await _signed_in(request, result.user)


def _locked(seconds: float) -> web.Response:
    message = f"登录失败次数过多，账号已暂时锁定，请 {minutes(seconds)} 分钟后再试。"
    return web.json_response(
        {"error": "locked", "message": message},
        status=429,
        headers={"Retry-After": str(int(max(1, seconds)))},
    )


async def _signed_in(request: web.Request, user: User) -> web.Response:
    sessions: SessionStore = request.app[SESSIONS_KEY]
    old = await current_session(request)
    if old is not None:
        await sessions.delete(old.id)  # a new id at every sign-in (no session fixation)
    session = await sessions.create(user.id)
    log.info("console user %s signed in", user.id)
    response = web.json_response({"ok": True, "redirect": HOME_FOR_ROLE[user.role]})
    set_session_cookie(request, response, session.id)
    return response


async def logout(request: web.Request) -> web.Response:
    session = await current_session(request)
    if session is not None:
        await request.app[SESSIONS_KEY].delete(session.id)
    response = web.json_response({"ok": True, "redirect": LOGIN_PATH})
    clear_session_cookie(request, response)
    return response


@require()
async def me(request: web.Request) -> web.Response:
    session = await current_session(request)
    user = request["console_user"]
    assert session is not None and isinstance(user, User)
    body = {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "department": user.department,
        "csrf_token": session.csrf_token,
    }
    return web.json_response(body)
