"""The front door's aiohttp application: factory, lifecycle, middleware.

``create_app(settings)`` builds the objects (store, database, Rasa client, hub,
channels) without opening any connection, because channels must add their
routes before the app starts. The cleanup context connects the database,
starts the hub and the channels, and closes everything in reverse order.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from bot.aio import bounded_step
from bot.config import Settings
from bot.console import setup_console
from bot.emergency.web import setup_emergency
from bot.health import HealthChecker
from bot.hub import Hub
from bot.ops import setup_ops
from bot.proxy import parse_trusted_proxies, trusted_proxy_middleware
from bot.rasa_client import RasaApi
from bot.rasa_pool import RasaPool
from bot.retention import setup_retention
from bot.store import SharedStore, StoreUnavailable, make_store
from bot.tickets import setup_tickets
from channels.base import Channel
from channels.registry import enabled_channels

if TYPE_CHECKING:
    from bot.db import Database

logger = logging.getLogger(__name__)

SETTINGS_KEY = web.AppKey("settings", Settings)
STORE_KEY = web.AppKey("store", SharedStore)
DB_KEY: web.AppKey[Database] = web.AppKey("db")
RASA_KEY: web.AppKey[RasaApi] = web.AppKey("rasa")
HUB_KEY = web.AppKey("hub", Hub)
HEALTH_KEY = web.AppKey("health", HealthChecker)
CHANNELS_KEY: web.AppKey[list[Channel]] = web.AppKey("channels")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: The most one closing step (a channel, the hub, the database...) may take.
CLOSE_STEP_TIMEOUT = 5.0


def create_app(
    settings: Settings,
    *,
    store: SharedStore | None = None,
    db: Database | None = None,
    rasa: RasaApi | None = None,
) -> web.Application:
    """The whole front door, configured by ``settings`` (built once, where the
    process starts: bot/__main__.py); pass ``store``/``db``/``rasa`` to replace
    them (tests: ``db`` is then a real Database, e.g. on a temporary SQLite file,
    so the app always has its console and tickets)."""
    # The proxy middleware first: every later middleware and handler sees the
    # citizen's address and scheme (bot/proxy.py).
    proxy = trusted_proxy_middleware(parse_trusted_proxies(settings.trusted_proxies))
    app = web.Application(
        client_max_size=settings.max_body_bytes, middlewares=[proxy, error_middleware]
    )
    app.on_response_prepare.append(security_headers)  # type: ignore[arg-type]  # aiohttp 3.9 stub
    if db is None:
        from bot.db import Database

        db = Database.from_settings(settings)
    app[SETTINGS_KEY] = settings
    app[STORE_KEY] = store = store or make_store(settings)
    app[DB_KEY] = db
    app[RASA_KEY] = rasa = rasa or RasaPool(
        settings.rasa_servers,
        settings.rasa_timeout,
        auth_token=settings.rasa_auth_token,
        probe_interval=settings.rasa_probe_interval,
        backoff=settings.rasa_backoff,
    )
    app[HUB_KEY] = hub = Hub(store, db, rasa, settings)
    # The one place events get the emergency drill flag (bot/emergency).
    db.events.tagger = hub.emergency.event_tags
    app[HEALTH_KEY] = health = HealthChecker(rasa, settings.action_server_url, store, db)
    health.add_routes(app)
    app[CHANNELS_KEY] = channels = enabled_channels(hub.inbound, settings)
    for channel in channels:
        hub.register_channel(channel)
        channel.add_routes(app)
    app.cleanup_ctx.append(_lifecycle)
    setup_emergency(app, hub, db, settings)  # after _lifecycle: broadcasts need the db
    setup_console(app, hub, db, settings)  # after _lifecycle: its sweep and sockets need the db
    setup_tickets(app, hub, db, settings)  # after _lifecycle: its sweep needs the database
    setup_retention(app, db, store, settings)  # after _lifecycle, like the sweeps above
    setup_ops(app, db, store, settings)  # after _lifecycle: the scheduler needs the database
    return app


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Connect and start on startup; stop and close on cleanup (also after a failed start)."""
    try:
        await app[DB_KEY].connect()
        await app[HUB_KEY].start()
        for channel in app[CHANNELS_KEY]:
            await channel.start()
    except BaseException:
        await _close(app)
        raise
    logger.info("front door started")
    yield
    await _close(app)


async def _close(app: web.Application) -> None:
    """Every step on its own, bounded: one that fails or hangs does not keep the
    database or the store open (an undisposed aiosqlite engine keeps the
    process from exiting)."""
    channels: list[Channel] = app[CHANNELS_KEY]
    steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        (f"channel {channel.name}", channel.stop) for channel in reversed(channels)
    ]
    steps += [
        ("hub", app[HUB_KEY].close),
        ("health checker", app[HEALTH_KEY].close),
        ("Rasa client", app[RASA_KEY].close),
        ("database", app[DB_KEY].close),
        ("store", app[STORE_KEY].close),
    ]
    for name, step in steps:
        await bounded_step(name, step, CLOSE_STEP_TIMEOUT)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A dead store is a 503; anything unexpected a JSON 500 without internals."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except StoreUnavailable as exc:
        logger.warning("%s %s: %s", request.method, request.path, exc)
        return web.json_response(
            {"error": "service temporarily unavailable"}, status=503, headers={"Retry-After": "5"}
        )
    except Exception as exc:
        # The frames say where; the exception text may hold citizen data, so it stays out.
        frames = "".join(traceback.format_tb(exc.__traceback__))
        logger.error(
            "unhandled %s on %s %s\n%s", type(exc).__name__, request.method, request.path, frames
        )
        return web.json_response({"error": "internal server error"}, status=500)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Headers for every response, WebSocket handshakes and static files included."""
    headers = response.headers
    headers["Server"] = "hotline"
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Referrer-Policy", "no-referrer")
    # The header itself, not response.content_type: that parses it with the
    # email package on every response (a tenth of a millisecond each, profiled).
    content_type = headers.get("Content-Type", "").partition(";")[0].strip().lower()
    if content_type == "application/json":
        headers.setdefault("Cache-Control", "no-store")
