"""The console's static files, from bot/static/console/.

``GET /console/static/<name>`` serves any ``.js``/``.css``/``.svg``/``.png``/``.wav``
file of that folder whose name is plain (letters, digits, ``-``, ``_``), so
a new page's script needs no new route (``Cache-Control: no-cache``: edited
in place, revalidated). ``GET /console/static/vendor/<name>`` serves the
vendored libraries of ``vendor/`` (see its README.md): their names carry the
version (``chart-4.6.1.umd.min.js``), so they are cached for a year as
immutable. :func:`page` answers an HTML page of the folder with a strict
Content-Security-Policy (no inline script, nothing from another origin).
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "console"
STATIC_PREFIX = "/console/static/"
VENDOR_DIR = STATIC_DIR / "vendor"
VENDOR_CACHE = "public, max-age=31536000, immutable"

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".wav": "audio/wav",  # the attention chime (scripts/make_chime.py)
}
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\.(js|css|svg|png|wav)$")
#: A vendored file: plain name with a dotted version, no path, no "..".
_VENDOR_NAME = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.(js|css)$")
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


async def vendor_file(request: web.Request) -> web.StreamResponse:
    """A vendored library, versioned by its name: cached for a year, never revalidated."""
    name = request.match_info["name"]
    path = VENDOR_DIR / name
    if len(name) > 80 or not _VENDOR_NAME.match(name) or not path.is_file():
        raise web.HTTPNotFound(text="not found")
    headers = {
        "Cache-Control": VENDOR_CACHE,
        "Content-Type": _TYPES[path.suffix],
        "X-Content-Type-Options": "nosniff",
    }
    return web.Response(body=path.read_bytes(), headers=headers)


def add_static_routes(app: web.Application) -> None:
    app.router.add_get(STATIC_PREFIX + "vendor/{name}", vendor_file)
    app.router.add_get(STATIC_PREFIX + "{name}", static_file)
