"""Serve the widget's static files (demo page, widget.js, CSS) from bot/static.

Only the files listed in :data:`FILES` are served, so no request path ever
reaches the file system. Files are read once and answered with a strong ETag;
``If-None-Match`` gets a 304.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parents[2] / "bot" / "static"

_HTML = "text/html; charset=utf-8"
_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
_SHORT = "public, max-age=300"  # widget code: embedding sites pick up fixes within minutes

#: URL path -> (file name, content type, Cache-Control)
FILES: dict[str, tuple[str, str, str]] = {
    "/": ("index.html", _HTML, "no-cache"),
    "/widget.js": ("widget.js", _JS, _SHORT),
    "/widget.css": ("widget.css", _CSS, _SHORT),
    "/demo.css": ("demo.css", _CSS, _SHORT),
}

# The demo page runs no inline script; the widget talks to this origin only.
_PAGE_CSP = (
    "default-src 'self'; img-src 'self' https: data:; connect-src 'self'; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'self'; base-uri 'none'; "
    "form-action 'self'"
)


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    etag: str
    content_type: str
    cache_control: str


class StaticFiles:
    """The widget's files, loaded lazily and kept in memory."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self._directory = directory
        self._cache: dict[str, StaticFile] = {}

    def add_routes(self, app: web.Application) -> None:
        for path in FILES:
            app.router.add_get(path, self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one static file with its content type and caching headers."""
        item = self._load(request.path)
        headers = {
            "ETag": item.etag,
            "Cache-Control": item.cache_control,
            "X-Content-Type-Options": "nosniff",
        }
        if request.path == "/":
            headers["Content-Security-Policy"] = _PAGE_CSP
            headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        if item.etag in _etags(request.headers.get("If-None-Match", "")):
            return web.Response(status=304, headers=headers)
        headers["Content-Type"] = item.content_type
        return web.Response(body=item.body, headers=headers)

    def _load(self, url_path: str) -> StaticFile:
        cached = self._cache.get(url_path)
        if cached is not None:
            return cached
        name, content_type, cache_control = FILES[url_path]
        body = (self._directory / name).read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        item = StaticFile(body, etag, content_type, cache_control)
        self._cache[url_path] = item
        return item


def _etags(header: str) -> set[str]:
    return {part.strip().removeprefix("W/") for part in header.split(",") if part.strip()}
