"""The emergency switch on the front door's application.

:class:`EmergencyDesk` (``app[EMERGENCY_KEY]``) is what the console's views
use: the board, the database, and the broadcasts running in the background.

``GET /public/emergency`` is what the web widget asks for its banner (and
any page of the city's that wants to show it): ``{"active": false}`` or
``{"active": true, "notice", "banner", "drill", "since"}``; never who
switched it nor its keywords. Readable from any origin (it is public),
rate-limited per client address like the widget's own endpoints:
``EMERGENCY_PUBLIC_PER_MINUTE`` requests a minute (30 by default), then 429
with ``Retry-After``. With the store down it answers ``{"active": false}``
(a citizen's page must not break for a banner).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.aio import cancel_and_wait
from bot.emergency import EmergencyBoard, EmergencyState
from bot.netaddr import address_key
from bot.store.base import StoreUnavailable

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.db.database import Database
    from bot.hub import Hub

logger = logging.getLogger(__name__)

PUBLIC_PATH = "/public/emergency"
WINDOW = 60.0
_CORS = {"Access-Control-Allow-Origin": "*", "Vary": "Origin"}


class EmergencyDesk:
    """The switch's board, the database and the hub, for the console."""

    def __init__(self, hub: Hub, db: Database, settings: Settings) -> None:
        self.hub = hub
        self.board: EmergencyBoard = hub.emergency
        self.db = db
        self.window_hours = settings.emergency_broadcast_hours
        self.public_per_minute = settings.emergency_public_per_minute
        self.broadcasts: set[asyncio.Task[dict[str, Any]]] = set()

    def start_broadcast(self, state: EmergencyState, actor: str) -> asyncio.Task[dict[str, Any]]:
        """Send the notice to recent citizens in the background (bot/emergency/broadcast.py)."""
        from bot.emergency.broadcast import broadcast

        task = asyncio.create_task(
            broadcast(self.hub, self.db, state, window_hours=self.window_hours, actor=actor),
            name="emergency-broadcast",
        )
        self.broadcasts.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[dict[str, Any]]) -> None:
        self.broadcasts.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("emergency broadcast failed: %s", type(task.exception()).__name__)

    async def wait(self) -> None:
        """Wait for the broadcasts running now (tests, shutdown)."""
        if self.broadcasts:
            await asyncio.gather(*list(self.broadcasts), return_exceptions=True)


EMERGENCY_KEY = web.AppKey("emergency", EmergencyDesk)


def setup_emergency(app: web.Application, hub: Hub, db: Database, settings: Settings) -> None:
    app[EMERGENCY_KEY] = EmergencyDesk(hub, db, settings)
    app.router.add_get(PUBLIC_PATH, public_state)
    app.cleanup_ctx.append(_lifecycle)


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    yield
    await cancel_and_wait(list(app[EMERGENCY_KEY].broadcasts))


async def public_state(request: web.Request) -> web.Response:
    desk = request.app[EMERGENCY_KEY]
    now = time.time()
    slot = int(now // WINDOW)
    address = address_key(request.remote) or "unknown"
    try:
        count = await desk.board.store.incr(f"rate:emergency:{address}:{slot}", ttl=WINDOW + 1)
    except StoreUnavailable:
        count = 0
    if count > desk.public_per_minute:
        retry = str(max(1, int((slot + 1) * WINDOW - now)))
        return web.json_response(
            {"error": "too_many_requests", "message": "请求过于频繁，请稍后再试"},
            status=429, headers={**_CORS, "Retry-After": retry},
        )  # fmt: skip
    state = await desk.board.current()
    return web.json_response(state.public(), headers=_CORS)
