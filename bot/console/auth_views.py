"""Sign in, sign out and "who am I" for the console.

``GET /console/login`` the sign-in page; ``POST /console/login`` with JSON
``{"username", "password"}`` -> 200 ``{"ok": true, "redirect"}`` and the
session cookie, 401 wrong credentials, 429 too many attempts (Chinese
message in ``message``, ``Retry-After``); an unknown username answers exactly
like a wrong password. ``POST /console/logout``; ``GET /console/api/me``;
``POST /console/api/me/password`` ``{current_password, new_password}`` (ends
every session of the user; this browser gets a new one and its new
``csrf_token`` in the answer).

Sign-ins (``sign_in``, ``sign_in_failed``), sign-outs (``sign_out``) and
password changes are written to the audit log with the client's address.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from bot.config import Settings
from bot.console.auth import (
    DEVICE_COOKIE,
    LOGIN_PATH,
    SESSIONS_KEY,
    THROTTLE_KEY,
    USERS_KEY,
    clear_session_cookie,
    client_ip,
    csrf_middleware,
    current_session,
    require,
    set_device_cookie,
    set_session_cookie,
)
from bot.console.events import CONSOLE_CHANNEL
from bot.console.sessions import Session, SessionStore
from bot.console.static import page
from bot.console.throttle import DEVICE_TTL, Held, LoginThrottle, minutes
from bot.console.users import User, UserRepo, check_password_policy
from bot.db.database import Database
from bot.store.base import SharedStore, StoreUnavailable

log = logging.getLogger(__name__)

HOME_FOR_ROLE = {"agent": "/console/", "supervisor": "/console/", "department": "/console/tickets"}
_BAD_LOGIN = "用户名或密码错误"


def setup_auth(
    app: web.Application, store: SharedStore, db: Database, settings: Settings | None = None
) -> None:
    """Register the user repository, sessions, throttle, CSRF check and routes."""
    settings = settings or Settings()
    app[USERS_KEY] = UserRepo(db)
    app[SESSIONS_KEY] = SessionStore(
        store, settings.console_session_idle, max_age=settings.console_session_max_age
    )
    app[THROTTLE_KEY] = LoginThrottle(
        store,
        window=settings.console_login_window,
        per_user_address=settings.console_login_per_user_address,
        per_address=settings.console_login_per_address,
        per_user=settings.console_login_per_user,
    )
    app.middlewares.append(csrf_middleware)
    app.router.add_get(LOGIN_PATH, login_page)
    app.router.add_post(LOGIN_PATH, login)
    app.router.add_post("/console/logout", logout)
    app.router.add_get("/console/api/me", me)
    app.router.add_post("/console/api/me/password", change_own_password)


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
    address = client_ip(request)
    known = await throttle.known_device(username, request.cookies.get(DEVICE_COOKIE))
    held = await throttle.acquire(username, address, known_device=known)  # before the check
    if not isinstance(held, Held):
        log.info("console sign-in throttled")
        return _locked(held)
    result = await request.app[USERS_KEY].verify(username, password)
    audit = request.app[USERS_KEY].audit
    if result.user is None:
        log.info("console sign-in failed")
        # An unknown name may be a password typed into the wrong field: never stored.
        actor, target = (username, username) if result.known else ("anonymous", "")
        detail = {} if result.known else {"reason": "unknown_user"}
        await audit.record(actor, "sign_in_failed", target, client_address=address, detail=detail)
        return web.json_response({"error": "invalid", "message": _BAD_LOGIN}, status=401)
    await throttle.release(held)  # a successful sign-in does not use up the budgets
    user = result.user
    await audit.record(user.username, "sign_in", user.username, client_address=address)
    response = await _signed_in(request, user)
    if not known:  # from now on this browser is not held to the per-username budget
        token = await throttle.remember_device(user.username)
        set_device_cookie(request, response, token, DEVICE_TTL)
    return response


def _locked(seconds: float) -> web.Response:
    message = f"登录尝试过于频繁，请 {minutes(seconds)} 分钟后再试。"
    return web.json_response(
        {"error": "locked", "message": message},
        status=429,
        headers={"Retry-After": str(int(max(1, seconds)))},
    )


async def _new_session(request: web.Request, user: User) -> Session:
    """A new session (and id) for this browser; its previous one ends (no fixation)."""
    sessions: SessionStore = request.app[SESSIONS_KEY]
    old = await current_session(request)
    if old is not None:
        await sessions.delete(old.id)
    return await sessions.create(user.id, user.session_epoch)


async def _signed_in(request: web.Request, user: User) -> web.Response:
    session = await _new_session(request, user)
    log.info("console user %s signed in", user.id)
    response = web.json_response({"ok": True, "redirect": HOME_FOR_ROLE[user.role]})
    set_session_cookie(request, response, session.id)
    return response


async def logout(request: web.Request) -> web.Response:
    session = await current_session(request)
    if session is not None:
        user = request["console_user"]
        await request.app[SESSIONS_KEY].delete(session.id)
        await request.app[USERS_KEY].audit.record(
            user.username, "sign_out", user.username, client_address=client_ip(request)
        )
    response = web.json_response({"ok": True, "redirect": LOGIN_PATH})
    clear_session_cookie(request, response)
    return response


async def sessions_ended(request: web.Request, user_id: int) -> None:
    """Tell every replica's console sockets of this user to re-check now."""
    store: SharedStore = request.app[SESSIONS_KEY].store
    message = json.dumps({"type": "sessions_ended", "user_id": user_id})
    try:
        await store.publish(CONSOLE_CHANNEL, message)
    except StoreUnavailable:  # the sockets' periodic re-check still closes them
        log.warning("could not announce ended console sessions")


@require()
async def change_own_password(request: web.Request) -> web.Response:
    """The signed-in user's new password, after the current one (throttled
    like a sign-in). Every session of the user ends; this browser gets a new one."""
    user = request["console_user"]
    assert isinstance(user, User)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    current, new = body.get("current_password"), body.get("new_password")
    if not isinstance(current, str) or not isinstance(new, str) or not current or not new:
        return _bad("missing", "请输入当前密码和新密码")
    try:
        check_password_policy(new[:200])
    except ValueError:
        return _bad("weak_password", "新密码至少 10 位，并且同时包含字母和数字")
    address = client_ip(request)
    throttle: LoginThrottle = request.app[THROTTLE_KEY]
    # Signed in: the session vouches for this browser as a remembered device
    # does, so strangers' guesses at the username do not block the change.
    held = await throttle.acquire(user.username, address, known_device=True)
    if not isinstance(held, Held):
        return _locked(held)
    users: UserRepo = request.app[USERS_KEY]
    if (await users.verify(user.username, current[:200])).user is None:
        await users.audit.record(
            user.username, "password_change_failed", user.username, client_address=address
        )
        return web.json_response(
            {"error": "wrong_password", "message": "当前密码不正确"}, status=403
        )
    await throttle.release(held)
    await users.set_password(user.username, new[:200], actor=user.username, client_address=address)
    await sessions_ended(request, user.id)
    fresh = await users.get(user.id)
    if fresh is None:
        raise web.HTTPUnauthorized(
            text='{"error":"unauthenticated"}', content_type="application/json"
        )
    session = await _new_session(request, fresh)  # this browser carries on
    response = web.json_response({"ok": True, "csrf_token": session.csrf_token})
    set_session_cookie(request, response, session.id)
    return response


def _bad(error: str, message: str) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=400)


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
