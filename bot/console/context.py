"""The objects every part of the console shares, built once per app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from bot.console.config import ConsoleConfig
from bot.console.events import Notifier
from bot.console.presence import Presence
from bot.console.records import HandoffRepo, NoteRepo
from bot.console.users import UserRepo
from bot.hub_routing import conv_key

if TYPE_CHECKING:
    from bot.db.database import Database
    from bot.hub import Hub
    from bot.store.base import SharedStore


@dataclass
class Console:
    """Shared handles: hub, store, SQL repositories, presence, events, settings."""

    hub: Hub
    db: Database
    config: ConsoleConfig
    users: UserRepo
    handoffs: HandoffRepo
    notes: NoteRepo
    presence: Presence
    notifier: Notifier

    @property
    def store(self) -> SharedStore:
        return self.hub.store

    async def conv(self, conversation_id: str) -> dict[str, str]:
        """The conversation's hash (state, handoff and agent fields)."""
        return await self.store.hgetall(conv_key(conversation_id))

    async def state(self, conversation_id: str) -> str:
        return await self.hub.conversation_state(conversation_id)


CONSOLE_KEY = web.AppKey("console", Console)
