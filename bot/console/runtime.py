"""Wiring of the handoff console: build the parts, hook the router, run the tasks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from bot.aio import bounded_step, cancel_and_wait
from bot.console.agent_socket import AgentSockets
from bot.console.auth import USERS_KEY
from bot.console.canned import CannedRepo
from bot.console.citizen import HandoffHooks
from bot.console.config import ConsoleConfig
from bot.console.context import CONSOLE_KEY, Console
from bot.console.conversations import ConsoleHub
from bot.console.desk import Desk
from bot.console.events import Notifier
from bot.console.presence import Presence
from bot.console.queue import Estimator
from bot.console.records import HandoffRepo, NoteRepo
from bot.console.sweep import Sweeper
from bot.console.ticket_feed import TicketFeed

if TYPE_CHECKING:
    from bot.db.database import Database
    from bot.hub import Hub

log = logging.getLogger(__name__)

STEP_TIMEOUT = 5.0  # the most one shutdown step of the console may take


@dataclass
class Runtime:
    console: Console
    desk: Desk
    sockets: AgentSockets
    canned: CannedRepo
    sweeper: Sweeper
    ticket_feed: TicketFeed


RUNTIME_KEY = web.AppKey("console_runtime", Runtime)


def build_runtime(app: web.Application, hub: Hub, db: Database, config: ConsoleConfig) -> Runtime:
    console = Console(
        hub=ConsoleHub.of(hub), store=hub.store, db=db, config=config, users=app[USERS_KEY],
        handoffs=HandoffRepo(db), notes=NoteRepo(db),
        presence=Presence(hub.store, config.presence_ttl), notifier=Notifier(hub.store),
    )  # fmt: skip
    desk = Desk(console, Estimator(console))
    console.hub.install(HandoffHooks(desk))
    sockets = AgentSockets(console)
    feed = TicketFeed(db, sockets)
    runtime = Runtime(console, desk, sockets, CannedRepo(db), Sweeper(desk), feed)
    app[CONSOLE_KEY] = console
    app[RUNTIME_KEY] = runtime
    app.router.add_get("/console/ws", runtime.sockets.handle)
    app.cleanup_ctx.append(_lifecycle)
    app.on_shutdown.append(_going_away)  # type: ignore[arg-type]  # aiohttp 3.9 stub
    return runtime


async def _going_away(app: web.Application) -> None:
    """Shutdown begins: agents' sockets close with 1001, their consoles reconnect elsewhere."""
    await bounded_step("console sockets", app[RUNTIME_KEY].sockets.going_away, STEP_TIMEOUT)


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    """After the database is connected: sockets' subscriptions and the sweep."""
    runtime = app[RUNTIME_KEY]
    await runtime.sockets.start()
    sweep = asyncio.create_task(runtime.sweeper.run_forever(), name="console-sweep")
    feed = asyncio.create_task(runtime.ticket_feed.run_forever(), name="console-ticket-feed")
    yield
    runtime.sweeper.stopped = True
    await bounded_step("console sweep", lambda: cancel_and_wait([sweep]), STEP_TIMEOUT)
    await bounded_step("ticket feed", lambda: cancel_and_wait([feed]), STEP_TIMEOUT)
    await bounded_step("place notices", runtime.desk.notices.stop, STEP_TIMEOUT)
    await bounded_step("console sockets", runtime.sockets.stop, STEP_TIMEOUT)
