"""The objects of the ticket loop, kept on the aiohttp app under ``TICKETS_KEY``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.db import Database
    from bot.hub import Hub
    from bot.store.base import SharedStore
    from bot.tickets.config import ApiClient
    from bot.tickets.notify import Notifier
    from bot.tickets.service import TicketService
    from bot.tickets.sweep import Sweeper


@dataclass
class TicketContext:
    db: Database
    hub: Hub
    store: SharedStore
    notifier: Notifier
    service: TicketService
    sweeper: Sweeper
    api_clients: list[ApiClient]
    sweep_seconds: float


TICKETS_KEY: web.AppKey[TicketContext] = web.AppKey("tickets")


def context(request: web.Request) -> TicketContext:
    return request.config_dict[TICKETS_KEY]
