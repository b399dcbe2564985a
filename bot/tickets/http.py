"""HTTP helpers shared by the REST API and the console's ticket views."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.tickets.errors import BadInput, TicketError, TooLarge

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY = 32 * 1024  # a 5000-character reply is at most ~15 KB of UTF-8 JSON

_dumps = functools.partial(json.dumps, ensure_ascii=False)


def json_ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


async def read_json(request: web.Request) -> Any:
    """The request's JSON body; :class:`TooLarge` or :class:`BadInput` otherwise."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise TooLarge(f"body larger than {MAX_BODY} bytes")
    body = bytearray()
    try:
        async for chunk in request.content.iter_chunked(8 * 1024):
            body += chunk
            if len(body) > MAX_BODY:
                raise TooLarge(f"body larger than {MAX_BODY} bytes")
    except web.HTTPRequestEntityTooLarge:
        raise TooLarge("body too large") from None
    if not body:
        return {}
    try:
        return json.loads(bytes(body))
    except ValueError:
        raise BadInput("malformed JSON") from None


def ticket_errors(handler: Handler) -> Handler:
    """Turn :class:`TicketError` into its JSON 4xx answer."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except TicketError as exc:
            return exc.response()

    return wrapped
