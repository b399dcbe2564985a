"""Console authentication: sessions, role checks and CSRF protection.

Public interface (stable, see docs/interfaces.md "Console auth"):

- :class:`User` ``(id, username, display_name, role, department)``;
- ``await current_user(request) -> User | None``;
- ``@require(*roles)`` for aiohttp handlers: signed out -> 401 JSON (API
  paths or non-HTML requests) or a redirect to ``/console/login``; role not
  allowed -> 403;
- :func:`csrf_middleware`: every POST/PUT/PATCH/DELETE under ``/console/``
  (except the sign-in itself) carries ``X-CSRF-Token`` equal to the
  session's token (``GET /console/api/me`` hands it to the page's script);
- ``USERS_KEY`` (:class:`UserRepo`), ``SESSIONS_KEY``, ``THROTTLE_KEY``: app keys.

Sessions: cookie ``hotline_session`` (HttpOnly, SameSite=Strict,
Path=/console, Secure on https or with ``COOKIE_SECURE=1``) naming a
session in the shared store (8 h idle timeout, 12 h at most), valid on every
replica while its user is active and its ``session_epoch`` is the user's
(a password, role or active-flag change raises it: every session ends).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.console.sessions import Session, SessionStore
from bot.console.throttle import LoginThrottle
from bot.console.users import ROLES, User, UserRepo

__all__ = [
    "COOKIE_NAME",
    "COOKIE_SECURE_KEY",
    "CSRF_HEADER",
    "ROLES",
    "SESSIONS_KEY",
    "THROTTLE_KEY",
    "USERS_KEY",
    "User",
    "UserRepo",
    "clear_session_cookie",
    "csrf_middleware",
    "current_session",
    "current_user",
    "require",
    "session_user",
    "set_device_cookie",
    "set_session_cookie",
    "user_for_socket",
]

COOKIE_NAME = "hotline_session"
#: A browser that signed in before (bot/console/throttle.py ``known_device``).
DEVICE_COOKIE = "hotline_device"
COOKIE_PATH = "/console"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_PATH = "/console/login"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Paths that take unsafe requests without a session (there is none yet).
CSRF_EXEMPT = frozenset({LOGIN_PATH})

USERS_KEY = web.AppKey("console_users", UserRepo)
SESSIONS_KEY = web.AppKey("console_sessions", SessionStore)
THROTTLE_KEY = web.AppKey("console_throttle", LoginThrottle)
#: ``COOKIE_SECURE`` (``settings.console.cookie_secure``): cookies are Secure on plain http too.
COOKIE_SECURE_KEY = web.AppKey("console_cookie_secure", bool)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_SESSION = "console_session"
_USER = "console_user"


async def session_user(
    app: web.Application, session_id: str | None, *, renew: bool = True
) -> tuple[Session, User] | None:
    """The live session named by ``session_id`` and its user, or None: no such
    session, past its lifetime, user inactive, or its epoch is not the
    user's (password, role or active flag changed since; the session is then
    deleted). ``renew``: restart the idle timeout (the agent's own request).
    The console WebSocket re-checks its session with this, ``renew=False``."""
    sessions = app[SESSIONS_KEY]
    session = await sessions.get(session_id, renew=renew)
    if session is None:
        return None
    user = await app[USERS_KEY].get(session.user_id)
    if user is None or user.session_epoch != session.epoch:
        await sessions.delete(session.id)
        return None
    return session, user


async def _load(request: web.Request) -> None:
    if _SESSION not in request:
        found = await session_user(request.app, request.cookies.get(COOKIE_NAME))
        request[_SESSION], request[_USER] = found if found else (None, None)


async def current_session(request: web.Request) -> Session | None:
    """The request's valid session (cached on the request), or None."""
    await _load(request)
    session: Session | None = request[_SESSION]
    return session


async def current_user(request: web.Request) -> User | None:
    """The signed-in, active user of this request, or None."""
    await _load(request)
    found: User | None = request[_USER]
    return found


def _wants_json(request: web.Request) -> bool:
    if request.path.startswith(("/console/api/", "/api/")) or request.method != "GET":
        return True
    return "text/html" not in request.headers.get("Accept", "")


def _json_error(status: int, error: str, message: str) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status)


def require(*roles: str) -> Callable[[Handler], Handler]:
    """Allow the handler only to signed-in users with one of ``roles`` (any if empty)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            user = await current_user(request)
            if user is None:
                if _wants_json(request):
                    return _json_error(401, "unauthenticated", "请先登录")
                raise web.HTTPFound(LOGIN_PATH)
            if roles and user.role not in roles:
                return _json_error(403, "forbidden", "您没有权限执行此操作")
            return await handler(request)

        return guarded

    return decorate


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse unsafe console requests without the session's CSRF token."""
    if (
        request.method in UNSAFE_METHODS
        and request.path.startswith("/console/")
        and request.path not in CSRF_EXEMPT
    ):
        session = await current_session(request)
        if session is None:
            return _json_error(401, "unauthenticated", "请先登录")
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            return _json_error(403, "csrf", "页面已过期，请刷新后重试")
    return await handler(request)


async def user_for_socket(request: web.Request, csrf_token: str | None) -> User | None:
    """The user of a console WebSocket: session cookie plus the CSRF token."""
    session = await current_session(request)
    if session is None or not csrf_token:
        return None
    if not hmac.compare_digest(csrf_token.encode(), session.csrf_token.encode()):
        return None
    return await current_user(request)


def _secure(request: web.Request) -> bool:
    return request.secure or request.app.get(COOKIE_SECURE_KEY, False)


def set_session_cookie(request: web.Request, response: web.StreamResponse, session_id: str) -> None:
    options: dict[str, Any] = {
        "path": COOKIE_PATH,
        "httponly": True,
        "samesite": "Strict",
        "secure": _secure(request),
    }
    response.set_cookie(COOKIE_NAME, session_id, **options)


def set_device_cookie(
    request: web.Request, response: web.StreamResponse, token: str, max_age: float
) -> None:
    """The remembered-device token (bot/console/throttle.py), sent only to the sign-in."""
    response.set_cookie(
        DEVICE_COOKIE, token, max_age=int(max_age), path=LOGIN_PATH, httponly=True,
        samesite="Strict", secure=_secure(request),
    )  # fmt: skip


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE_NAME, path=COOKIE_PATH)


def client_ip(request: web.Request) -> str:
    """The peer address (a proxy in front should be the only peer in production)."""
    return request.remote or "unknown"
