"""The one owner of a conversation's state in the shared store.

A conversation's state lives in the hash ``conv:<id>`` (TTL
:data:`CONV_TTL`), its place in the handoff queue in the sorted set
``handoff:queue``. This module is the only one that knows either key or the
state names: everything else reads a :class:`Conversation` (the typed view
of the hash, read once per turn by the router) and changes it through one
:class:`Conversations` method per transition::

    bot ──queue()──> queued ──assign()──> with_agent ──hand_back()──> bot
     ^                 │  ^                   │  │
     │                 │  └──requeue()────────┘  └──close()──> closed
     └──leave_queue()──┘
    bot/closed ──mark_taken_over()+assign()──> with_agent (an agent takes over)

``closed`` behaves as ``bot`` for routing (the next message goes to Rasa).
The layout (hash fields, TTLs, the queue's key and scores) is the stable one
of ARCHITECTURE.md: running deployments read the same keys.

The durable record of a stay in the queue is the SQL ``handoffs`` row
(bot/console/records.py), written by the console before the store: see
bot/console/conversations.py for the order of the two in each transition.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum

from bot.store.base import SharedStore

__all__ = [
    "AGENT_FIELDS",
    "CONV_TTL",
    "QUEUE_TTL",
    "Agent",
    "Conversation",
    "ConversationState",
    "Conversations",
]

CONV_TTL = 30 * 24 * 3600.0
QUEUE_TTL = 7 * 24 * 3600.0
_QUEUE = "handoff:queue"
#: ``conversation id -> group key`` of the queued entries waiting for one agent
#: group (a transfer to a group); entries of no group are not in it.
_QUEUE_GROUPS = "handoff:queue:groups"


class ConversationState(StrEnum):
    """Where a conversation's messages go."""

    BOT = "bot"  # to Rasa (the default: no hash)
    QUEUED = "queued"  # waiting for an agent; messages go to the agents' channel
    WITH_AGENT = "with_agent"  # held by an agent
    CLOSED = "closed"  # an agent (or the citizen) ended it; to Rasa again

    @property
    def with_agents(self) -> bool:
        """Queued or held: the citizen's messages go to the agents, not Rasa."""
        return self in (ConversationState.QUEUED, ConversationState.WITH_AGENT)

    @classmethod
    def parse(cls, raw: str | None) -> ConversationState:
        """The stored value; an absent or unknown one reads as ``bot``."""
        try:
            return cls(raw or cls.BOT)
        except ValueError:
            return cls.BOT


#: The holder's fields, removed when an agent lets go of a conversation.
AGENT_FIELDS = ("agent_id", "agent_name", "agent_username", "claimed_at", "told_position")


@dataclass(frozen=True)
class Agent:
    """Who holds a conversation (the console's user)."""

    id: int
    name: str
    username: str


@dataclass(frozen=True)
class Conversation:
    """The typed view of ``conv:<id>``; ``None``: the field is not set."""

    id: str
    state: ConversationState = ConversationState.BOT
    #: Whether the hash exists at all (a conversation the front door never saw
    #: in a handoff has none).
    exists: bool = False
    updated_at: str | None = None
    # the handoff request (the router, on a handoff signal)
    channel: str | None = None
    channel_user_id: str | None = None
    handoff_reason: str | None = None
    handoff_priority: str | None = None
    handoff_summary: str | None = None  # JSON, masked
    queued_at: str | None = None
    first_queued_at: str | None = None  # before a requeue
    handoff_id: str | None = None  # the SQL row of the current stay in the queue
    handoff_group: str | None = None  # the agent group it waits for ("": any agent)
    told_position: str | None = None
    # the holder
    agent_id: str | None = None
    agent_name: str | None = None
    agent_username: str | None = None
    claimed_at: str | None = None
    # the citizen's dialogue with the front door
    callback: str | None = None  # "" | "offered" | "awaiting_phone"
    callback_handoff: str | None = None  # the row a callback belongs to
    rating_pending: str | None = None  # the handoff to rate after a close
    rated_handoff: str | None = None
    comment_pending: str | None = None

    @classmethod
    def from_hash(cls, conversation_id: str, raw: Mapping[str, str]) -> Conversation:
        known = {f.name for f in fields(cls)} - {"id", "state", "exists"}
        values = {name: value for name, value in raw.items() if name in known}
        if not values.get("handoff_id"):  # "" while queued and not opened yet
            values.pop("handoff_id", None)
        state = ConversationState.parse(raw.get("state"))
        return cls(id=conversation_id, state=state, exists=bool(raw), **values)

    @property
    def holder(self) -> str | None:
        """The holding agent's id (as stored), or None."""
        return self.agent_id if self.state is ConversationState.WITH_AGENT else None

    def held_by(self, user_id: int) -> bool:
        return self.agent_id == str(user_id)

    @property
    def agent_user_id(self) -> int | None:
        """The holder's user id as a number (None when unset or malformed)."""
        agent_id = self.agent_id or ""
        return int(agent_id) if agent_id.isdigit() else None


def _now() -> str:
    return f"{time.time():.3f}"


class Conversations:
    """Reads and transitions of conversation state (the store's side).

    Each method is one store round trip or two (the hash, then the queue);
    the state's ``updated_at`` is set by every state change.
    """

    def __init__(self, store: SharedStore) -> None:
        self._store = store

    @staticmethod
    def _key(conversation_id: str) -> str:
        return f"conv:{conversation_id}"

    # --- reads ---------------------------------------------------------------
    async def get(self, conversation_id: str) -> Conversation:
        """The conversation's state and fields, in one read."""
        raw = await self._store.hgetall(self._key(conversation_id))
        return Conversation.from_hash(conversation_id, raw)

    async def state(self, conversation_id: str) -> ConversationState:
        """Only the state (one field)."""
        return ConversationState.parse(await self._store.hget(self._key(conversation_id), "state"))

    async def queue_order(self, start: int = 0, stop: int = -1) -> list[str]:
        """Queued conversation ids, first served first."""
        return await self._store.zrange(_QUEUE, start, stop)

    async def queue_size(self) -> int:
        return await self._store.zcard(_QUEUE)

    async def position(self, conversation_id: str) -> int | None:
        """1 for the first in the queue; None when not in it."""
        rank = await self._store.zrank(_QUEUE, conversation_id)
        return None if rank is None else rank + 1

    async def queue_groups(self) -> dict[str, str]:
        """``conversation id -> group key`` of the queued entries waiting for a group."""
        return await self._store.hgetall(_QUEUE_GROUPS)

    async def in_queue(self, conversation_id: str) -> bool:
        return await self._store.zscore(_QUEUE, conversation_id) is not None

    # --- state changes ----------------------------------------------------------
    async def _set_state(
        self,
        conversation_id: str,
        state: ConversationState,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        values = {"state": state.value, "updated_at": _now(), **(extra or {})}
        await self._store.hset(self._key(conversation_id), values, ttl=CONV_TTL)
        if state is not ConversationState.QUEUED:
            await self._store.zrem(_QUEUE, conversation_id)
            await self._store.hdel(_QUEUE_GROUPS, conversation_id)

    async def _set_group(self, conversation_id: str, group: str) -> None:
        if group:
            await self._store.hset(_QUEUE_GROUPS, {conversation_id: group}, ttl=QUEUE_TTL)
        else:
            await self._store.hdel(_QUEUE_GROUPS, conversation_id)

    async def _drop_agent(self, conversation_id: str) -> None:
        await self._store.hdel(self._key(conversation_id), *AGENT_FIELDS)

    async def queue(
        self,
        conversation_id: str,
        *,
        channel: str,
        channel_user_id: str,
        reason: str,
        priority: str,
        summary: str,
        queued_at: float,
        score: float,
    ) -> None:
        """A handoff signal from Rasa: ``queued``, at ``score`` in the queue.

        ``summary`` is the masked JSON summary. The SQL row is opened after
        this by the console (:meth:`opened`); until then ``handoff_id`` is
        empty (a previous stay's id is cleared here), which is how the next
        reader under the conversation's lock knows to open it should the
        turn have stopped in between (bot/console/desk.py ``Desk.settle``).
        """
        extra = {
            "handoff_id": "",
            "channel": channel,
            "channel_user_id": channel_user_id,
            "handoff_reason": reason,
            "handoff_priority": priority,
            "handoff_summary": summary,
            "queued_at": f"{queued_at:.3f}",
            "handoff_group": "",
        }
        await self._set_state(conversation_id, ConversationState.QUEUED, extra)
        await self._set_group(conversation_id, "")
        await self._store.zadd(_QUEUE, {conversation_id: score}, ttl=QUEUE_TTL)

    async def opened(self, conversation_id: str, handoff_id: int | str) -> None:
        """The queued conversation's SQL row exists: claimable; no callback
        offered yet, no place told yet."""
        fields_ = {"handoff_id": str(handoff_id), "callback": "", "told_position": ""}
        await self._store.hset(self._key(conversation_id), fields_, ttl=CONV_TTL)

    async def mark_taken_over(
        self, conversation_id: str, handoff_id: int | str, queued_at: float
    ) -> None:
        """An agent takes over a conversation of the assistant: its handoff
        fields (state unchanged until :meth:`assign`)."""
        channel, channel_user_id = conversation_id.split(":", 1)
        values = {
            "channel": channel,
            "channel_user_id": channel_user_id,
            "handoff_id": str(handoff_id),
            "handoff_reason": "taken_over",
            "handoff_priority": "normal",
            "handoff_summary": "{}",
            "queued_at": f"{queued_at:.3f}",
        }
        await self._store.hset(self._key(conversation_id), values, ttl=CONV_TTL)

    async def assign(
        self, conversation_id: str, agent: Agent, handoff_id: int | str, claimed_at: float
    ) -> None:
        """``with_agent``: held by ``agent`` (a claim, a take-over); out of the queue."""
        values = {
            "agent_id": str(agent.id),
            "agent_name": agent.name,
            "agent_username": agent.username,
            "claimed_at": f"{claimed_at:.3f}",
            "handoff_id": str(handoff_id),
        }
        await self._set_state(conversation_id, ConversationState.WITH_AGENT, values)

    async def transfer(self, conversation_id: str, agent: Agent) -> None:
        """Another agent holds it now (a transfer, a supervisor's take-over)."""
        values = {
            "agent_id": str(agent.id),
            "agent_name": agent.name,
            "agent_username": agent.username,
        }
        await self._store.hset(self._key(conversation_id), values, ttl=CONV_TTL)

    async def hand_back(self, conversation_id: str) -> None:
        """The agent gives the conversation back to the assistant: ``bot``."""
        await self._drop_agent(conversation_id)
        await self._set_state(conversation_id, ConversationState.BOT)

    async def close(self, conversation_id: str, rating_pending: int | str | None = None) -> None:
        """``closed``; ``rating_pending``: the handoff the citizen is asked to rate."""
        await self._drop_agent(conversation_id)
        extra = {} if rating_pending is None else {"rating_pending": str(rating_pending)}
        await self._set_state(conversation_id, ConversationState.CLOSED, extra)

    async def requeue(
        self,
        conversation_id: str,
        *,
        handoff_id: int | str,
        priority: str,
        first_queued_at: float,
        score: float,
        group: str = "",
    ) -> None:
        """Its agent is gone (or it was transferred to agent group ``group``):
        ``queued`` again under a new row, at ``score``."""
        await self._drop_agent(conversation_id)
        values = {
            "handoff_id": str(handoff_id),
            "queued_at": _now(),
            "first_queued_at": f"{first_queued_at:.3f}",
            "handoff_priority": priority,
            "handoff_group": group,
        }
        await self._set_state(conversation_id, ConversationState.QUEUED, values)
        await self._set_group(conversation_id, group)
        await self._store.zadd(_QUEUE, {conversation_id: score}, ttl=CONV_TTL)

    async def leave_queue(
        self, conversation_id: str, handoff_id: int | str, callback: str = ""
    ) -> None:
        """Out of the queue without an agent (the citizen cancelled, a callback,
        the wait was too long): ``bot``; ``callback`` is the callback stage."""
        values = {"callback": callback, "callback_handoff": str(handoff_id), "told_position": ""}
        await self._set_state(conversation_id, ConversationState.BOT, values)

    # --- repairs from the SQL record (the console's sweep) -----------------------
    async def restore_queued(self, conversation_id: str, handoff: Mapping[str, str]) -> None:
        """``queued`` again with the handoff fields of its open SQL row (no holder)."""
        await self._drop_agent(conversation_id)
        await self._set_state(conversation_id, ConversationState.QUEUED, handoff)
        await self._set_group(conversation_id, handoff.get("handoff_group") or "")

    async def restore_held(self, conversation_id: str, handoff: Mapping[str, str]) -> None:
        """``with_agent`` again with the fields of its open, claimed SQL row."""
        await self._set_state(conversation_id, ConversationState.WITH_AGENT, handoff)

    async def put_in_queue(self, conversation_id: str, score: float) -> None:
        """(Back) into the queue's order at ``score``; the state is not changed."""
        await self._store.zadd(_QUEUE, {conversation_id: score}, ttl=CONV_TTL)

    async def drop_from_queue(self, conversation_id: str) -> None:
        """Out of the queue's order (an entry whose conversation is not queued)."""
        await self._store.zrem(_QUEUE, conversation_id)

    async def set_handoff_id(self, conversation_id: str, handoff_id: int | str) -> None:
        """The SQL row of a queued conversation that had lost it."""
        await self._store.hset(
            self._key(conversation_id), {"handoff_id": str(handoff_id)}, ttl=CONV_TTL
        )

    # --- the citizen's dialogue with the front door -------------------------------
    async def set_callback(self, conversation_id: str, stage: str) -> None:
        """The callback dialogue's stage ("" when none)."""
        await self._store.hset(self._key(conversation_id), {"callback": stage}, ttl=CONV_TTL)

    async def clear_callback(self, conversation_id: str) -> None:
        await self._store.hdel(self._key(conversation_id), "callback")

    async def rated(self, conversation_id: str, handoff_id: int | str) -> None:
        """The citizen rated the agent: no rating pending; a comment may follow."""
        await self._store.hdel(self._key(conversation_id), "rating_pending")
        await self._touch(conversation_id, rated_handoff=str(handoff_id))

    async def ask_comment(self, conversation_id: str) -> None:
        """The citizen's next text is their comment on the service."""
        await self._touch(conversation_id, comment_pending="1")

    async def comment_taken(self, conversation_id: str) -> None:
        await self._store.hdel(self._key(conversation_id), "comment_pending")

    async def _touch(self, conversation_id: str, **values: str) -> None:
        await self._store.hset(
            self._key(conversation_id), {**values, "updated_at": _now()}, ttl=CONV_TTL
        )

    # --- tests and tools -----------------------------------------------------------
    async def force(self, conversation_id: str, state: ConversationState | str) -> None:
        """Set the bare state (tests, operators); no other field changes."""
        await self._set_state(conversation_id, ConversationState(state))
