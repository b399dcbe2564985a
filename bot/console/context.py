"""The objects every part of the console shares, built once per app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from bot.console.config import ConsoleConfig
from bot.console.conversations import ConsoleHub
from bot.console.events import Notifier
from bot.console.groups import AgentGroups
from bot.console.presence import Presence
from bot.console.records import HandoffRepo, NoteRepo
from bot.console.users import UserRepo
from bot.conversations import Conversation, Conversations, ConversationState

if TYPE_CHECKING:
    from bot.db.database import Database
    from bot.store.base import SharedStore


@dataclass
class Console:
    """Shared handles: the hub's facade, the console's own store keys, SQL
    repositories, presence, events, settings."""

    hub: ConsoleHub
    store: SharedStore  # the console's own keys (claims, told places, sweep lock)
    db: Database
    config: ConsoleConfig
    users: UserRepo
    handoffs: HandoffRepo
    notes: NoteRepo
    presence: Presence
    notifier: Notifier
    groups: AgentGroups = field(default_factory=AgentGroups)

    @property
    def conversations(self) -> Conversations:
        """The owner of conversation state (reads and transitions)."""
        return self.hub.conversations

    async def conv(self, conversation_id: str) -> Conversation:
        """The conversation's state, handoff and agent fields."""
        return await self.hub.get(conversation_id)

    async def state(self, conversation_id: str) -> ConversationState:
        return await self.hub.state(conversation_id)


CONSOLE_KEY = web.AppKey("console", Console)
