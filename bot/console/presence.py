"""Agent presence (online / away / offline) in the shared store.

Each console socket sends a heartbeat; the key ``console:presence:<user id>``
lives ``presence_ttl`` seconds after the last one, so a closed browser or a
dead network goes offline by itself on every replica.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from bot.console.users import User
from bot.store.base import SharedStore

STATUSES = ("online", "away")
_PREFIX = "console:presence:"


@dataclass(frozen=True)
class AgentPresence:
    user_id: int
    username: str
    display_name: str
    role: str
    status: str  # "online" | "away"
    at: float


class Presence:
    """Heartbeats in, the list of present agents out."""

    def __init__(self, store: SharedStore, ttl: float) -> None:
        self._store = store
        self.ttl = ttl

    async def beat(self, user: User, status: str = "online") -> bool:
        """Record a heartbeat; true when the user was not present before (came online)."""
        if status not in STATUSES:
            raise ValueError("status must be online or away")
        key = _PREFIX + str(user.id)
        before = await self._store.get(key)
        item = AgentPresence(
            user.id, user.username, user.display_name, user.role, status, time.time()
        )
        await self._store.set(key, json.dumps(asdict(item), ensure_ascii=False), self.ttl)
        return before is None or json.loads(before).get("status") != status

    async def leave(self, user_id: int) -> None:
        await self._store.delete(_PREFIX + str(user_id))

    async def get(self, user_id: int) -> AgentPresence | None:
        raw = await self._store.get(_PREFIX + str(user_id))
        return _parse(raw)

    async def by_username(self, username: str) -> AgentPresence | None:
        for agent in await self.all():
            if agent.username == username:
                return agent
        return None

    async def all(self) -> list[AgentPresence]:
        found = []
        async for key in self._store.scan(_PREFIX + "*"):
            item = _parse(await self._store.get(key))
            if item is not None:
                found.append(item)
        return sorted(found, key=lambda a: (a.status != "online", a.display_name))

    async def online_count(self) -> int:
        """Agents and supervisors ready to take a conversation."""
        return sum(1 for a in await self.all() if a.status == "online" and a.role != "department")


def _parse(raw: str | None) -> AgentPresence | None:
    if raw is None:
        return None
    try:
        return AgentPresence(**json.loads(raw))
    except (ValueError, TypeError):
        return None
