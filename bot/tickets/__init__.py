"""Tickets (工单): the loop from citizen to department and back.

``setup_tickets(app, hub, db, settings)`` mounts on the front door:

- the REST API for the city's case system (``bot.tickets.api``, ``/api/v1``);
- the console's ticket pages and JSON views (``bot.tickets.console``,
  ``/console/tickets``);
- the hub interceptors that take the citizens' rating buttons
  (``bot.tickets.rating``) and the reply keyword that opens a result
  (``bot.tickets.keyword``, 查看结果);
- the deadline sweep as a background task (``bot.tickets.sweep``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web

from bot.aio import cancel_and_wait
from bot.config import Settings
from bot.tickets import api, console
from bot.tickets.config import TOKENS_ENV, parse_tokens
from bot.tickets.context import TICKETS_KEY, TicketContext
from bot.tickets.keyword import ResultKeyword
from bot.tickets.notify import Notifier
from bot.tickets.rating import RatingInterceptor
from bot.tickets.service import TicketService
from bot.tickets.sweep import Sweeper, run_forever

if TYPE_CHECKING:
    from bot.db import Database
    from bot.hub import Hub

__all__ = ["TICKETS_KEY", "TicketContext", "setup_tickets"]

log = logging.getLogger(__name__)


def setup_tickets(
    app: web.Application, hub: Hub, db: Database, settings: Settings
) -> TicketContext:
    """Mount the ticket loop; call after the channels are registered on ``hub``."""
    tokens = settings.tickets.api_tokens
    clients = parse_tokens(tokens, db.routing.departments)
    notifier = Notifier(hub, db)
    ctx = TicketContext(
        db=db,
        hub=hub,
        store=hub.store,
        notifier=notifier,
        service=TicketService(db, notifier),
        sweeper=Sweeper(db, hub.store, notifier),
        api_clients=clients,
        sweep_seconds=settings.tickets.sweep_seconds,
    )
    app[TICKETS_KEY] = ctx
    hub.add_interceptor(RatingInterceptor(db, hub.store))
    hub.add_interceptor(ResultKeyword(db, hub.store, settings.wechat_notices.keyword))
    api.add_routes(app)
    console.add_routes(app)
    app.cleanup_ctx.append(_sweep_job)
    if not clients:
        log.info("%s unset: the ticket REST API refuses every request", TOKENS_ENV)
    return ctx


async def _sweep_job(app: web.Application) -> AsyncIterator[None]:
    """Run the deadline sweep in the background while the app runs."""
    ctx = app[TICKETS_KEY]
    task = None
    if ctx.sweep_seconds > 0:
        task = asyncio.create_task(run_forever(ctx.sweeper, ctx.sweep_seconds), name="ticket-sweep")
    yield
    if task is not None:
        await cancel_and_wait([task])
