"""The console's narrow view of the hub: what it does to conversations.

The console never reaches into the hub's router, its lock keys or the
conversation hash: it gets this facade, built once at setup
(:meth:`ConsoleHub.of`), and changes a conversation's state only through
its owner (:class:`bot.conversations.Conversations`).

Order of the two records in each transition. The SQL ``handoffs`` row is
the durable truth of who holds what; the store's state is what routes the
citizen's next message. The console's actions write SQL first, guarded by
the row itself (``claimed_by IS NULL``, ``ended_at IS NULL``), then the
store, so that a crash (or a failure) between the two never leaves the
store ahead of SQL. The two steps of joining the queue and of a claim run
under the conversation's lock, and whoever takes that lock next and finds
them half-done finishes them (``Desk.settle``: the router calls it for every
message of a queued conversation, a claim before its own steps), so no
reader waits for the sweep:

- opened (bot/console/citizen.py, ``Desk.open_row``): the store's ``queue()``
  (``handoff_id`` emptied), the row opened, then ``handoff_id`` in the store,
  all in the handoff turn, under the lock. Stopped in between: the next
  message or claim opens the row (or takes the one that turn opened: open,
  unclaimed, not older than the store's ``queued_at``) and names it.
- claim (bot/console/desk.py): under the lock, claim key, row claimed, then
  ``assign``. A failed ``assign`` undoes the row's claim and the key.
  Stopped in between: the next message or claim finds the key and the row
  claimed and finishes ``assign`` for that agent (greeting included); a
  colleague's claim is told who holds it.
- hand back / close (desk): row ended (the guard: only one ending wins),
  then ``hand_back``/``close``. Between: the store still routes to the
  agents; the next hand back or close finds the row ended, finishes the
  store's step from the row's outcome and answers ``该会话已结束``.
- requeue (desk): row ended ``requeued``, new row opened, then ``requeue``.
  Between: the store still names the ended row; the sweep sees the open row
  continue it (``outcome = requeued``) and puts the conversation back in
  the queue under it.
- leave the queue (cancel, callback, waited too long): claim key, row
  ended, then ``leave_queue``. A failed SQL step gives the key back.
- take over (bot/console/takeover.py): under the conversation's lock, a new
  row, its claim key, ``mark_taken_over``; then a claim as above.
- transfer (takeover): row's holder changed, then ``transfer``.

The sweep (bot/console/sweep.py) rebuilds the store from the open rows
after the store lost them (a Redis restart) and handles what is truly
time-based: absent agents, long waits, stale claim keys, messages left
"sending".
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from bot.conversations import Conversation, Conversations, ConversationState
from bot.messages import OutboundMessage

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.hub import Hub
    from bot.hub_routing import RouteHooks
    from bot.store.base import HeldLock
    from channels.base import Delivery


class ConsoleHub:
    """The hub as the console sees it: conversations, their messages, their lock."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self.settings: Settings = hub.settings
        #: The owner of conversation state: every read and transition.
        self.conversations: Conversations = hub.conversations

    @classmethod
    def of(cls, hub: Hub) -> ConsoleHub:
        return cls(hub)

    def install(self, hooks: RouteHooks) -> None:
        """The console's handling around routing (bot/console/citizen.py)."""
        self._hub.install_hooks(hooks)

    # --- state ----------------------------------------------------------------
    async def get(self, conversation_id: str) -> Conversation:
        return await self.conversations.get(conversation_id)

    async def state(self, conversation_id: str) -> ConversationState:
        return await self.conversations.state(conversation_id)

    def score(self, priority: str, queued_at: float, reason: str) -> float:
        """A queue entry's place with this replica's head starts."""
        return self._hub.queue_score(priority, queued_at, reason)

    def lock(self, conversation_id: str, timeout: float) -> AbstractAsyncContextManager[HeldLock]:
        """The conversation's processing lock: no message of it is routed
        meanwhile (``LockTimeout`` after ``timeout`` seconds). :meth:`wake` after."""
        return self._hub.conversation_lock(conversation_id, timeout)

    def wake(self, conversation_id: str) -> None:
        """Process messages that arrived while the console held the lock."""
        self._hub.wake(conversation_id)

    # --- messages -----------------------------------------------------------------
    async def push(self, conversation_id: str, messages: Sequence[OutboundMessage]) -> None:
        """Into the transcript, then to the citizen's channel."""
        await self._hub.push(conversation_id, messages)

    async def deliver(self, conversation_id: str, messages: Sequence[OutboundMessage]) -> Delivery:
        """Deliver messages already in the transcript; the outcome."""
        return await self._hub.deliver(conversation_id, messages)

    async def typing(self, conversation_id: str, on: bool) -> None:
        """Show the citizen that the agent is typing (best effort, never stored)."""
        await self._hub.typing(conversation_id, on)

    async def transcribe(self, conversation_id: str, messages: Sequence[OutboundMessage]) -> None:
        """Into the transcript only (a line for the agent, never sent)."""
        await self._hub.transcribe(conversation_id, messages)

    async def history(
        self, conversation_id: str, limit: int = 200, after_seq: int | None = None
    ) -> list[Any]:
        return await self._hub.history(conversation_id, limit=limit, after_seq=after_seq)

    async def record(self, kind: str, conversation_id: str, data: dict[str, Any]) -> None:
        """A statistics event (never fails the action)."""
        await self._hub.record(kind, conversation_id, data)
