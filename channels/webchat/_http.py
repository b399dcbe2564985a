"""HTTP helpers of the web chat: which sites may embed the widget, small JSON bodies.

``WEBCHAT_ALLOWED_ORIGINS`` is ``*`` (any site may embed the widget; sessions
are anonymous bearer tokens, no cookies) or a comma-separated list of origins
such as ``https://www.dg.gov.cn,https://dg12345.dg.gov.cn``. The front door's
own origin is always allowed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

MAX_SESSION_BODY = 4096


@dataclass(frozen=True)
class CorsPolicy:
    """Origins allowed to call the session endpoint and open the WebSocket."""

    origins: frozenset[str]
    any_origin: bool

    @classmethod
    def from_env(cls, value: str) -> CorsPolicy:
        items = {item.strip().rstrip("/") for item in value.split(",") if item.strip()}
        return cls(frozenset(items - {"*"}), "*" in items or not items)

    def allows(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None or self.any_origin:
            return True  # not a browser cross-site request, or any site may embed
        return origin in self.origins or _same_host(origin, request)

    def headers(self, request: web.Request) -> dict[str, str]:
        origin = request.headers.get("Origin")
        if origin is None or not self.allows(request):
            return {}
        allowed = "*" if self.any_origin else origin
        return {"Access-Control-Allow-Origin": allowed, "Vary": "Origin"}

    def preflight_headers(self, request: web.Request) -> dict[str, str]:
        headers = self.headers(request)
        if headers:
            headers["Access-Control-Allow-Methods"] = "POST"
            headers["Access-Control-Allow-Headers"] = "Content-Type"
            headers["Access-Control-Max-Age"] = "86400"
        return headers


def _same_host(origin: str, request: web.Request) -> bool:
    # Host only: behind a TLS-terminating proxy the scheme seen here is http.
    return urlsplit(origin).netloc == request.host


async def read_small_json(request: web.Request) -> dict[str, Any]:
    """An optional JSON object body of at most 4 KB; ``ValueError`` when malformed."""
    if request.content_length is not None and request.content_length > MAX_SESSION_BODY:
        raise ValueError("body too large")
    raw = b""
    while chunk := await request.content.read(MAX_SESSION_BODY + 1 - len(raw)):
        raw += chunk
        if len(raw) > MAX_SESSION_BODY:
            raise ValueError("body too large")
    if not raw.strip():
        return {}
    data = json.loads(raw)  # ValueError (JSONDecodeError) when malformed
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data
