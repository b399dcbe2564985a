"""The console's static files, from bot/static/console/.

``GET /console/static/<name>`` serves any ``.js``/``.css``/``.svg``/``.png``
file of that folder whose name is plain (letters, digits, ``-``, ``_``), so
a new page's script needs no new route. :func:`page` answers an HTML page of
the folder with a strict Content-Security-Policy (no inline script).
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "console"
STATIC_PREFIX = "/console/static/"

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\.(js|css|svg|png)$")
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; connect-src 'self'; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def page(name: str) -> web.Response:
    """One HTML page of the console folder, never cached, framed by nobody."""
    body = (STATIC_DIR / name).read_bytes()
    headers = {
        "Content-Security-Policy": PAGE_CSP,
        "Cache-Control": "no-cache",
        "X-Frame-Options": "DENY",
    }
    return web.Response(body=body, content_type="text/html", charset="utf-8", headers=headers)


async def static_file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = STATIC_DIR / name
    if not _NAME.match(name) or not path.is_file():
        raise web.HTTPNotFound(text="not found")
    headers = {"Cache-Control": "no-cache", "Content-Type": _TYPES[path.suffix]}
    return web.Response(body=path.read_bytes(), headers=headers)


def add_static_routes(app: web.Application) -> None:
    app.router.add_get(STATIC_PREFIX + "{name}", static_file)
