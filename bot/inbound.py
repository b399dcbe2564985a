"""What a channel may use of the front door's core: the inbound port.

A channel adapter (``channels/<name>/``) is built with an :class:`InboundPort`
and the settings, never with the hub. Through the port it can:

- hand over a citizen's message, saying how the replies reach the citizen
  (:class:`DeliveryMode`), and get the :class:`Answer`;
- read a conversation's transcript (the web widget's catch-up) and its
  state (the widget's 结束会话 and typing indicator);
- record an event (a refused delivery) in the statistics;
- pass on the citizen's vote on an answer (:meth:`InboundPort.answer_feedback`);
- tell the agent holding a chat that the citizen is typing
  (:meth:`InboundPort.citizen_typing`: never a message, never to Rasa);
- keep its own values in the shared store, under its own name only
  (:class:`ChannelStore`: every key is ``<channel>:<key>``, every lock
  ``lock:<channel>:<name>``, every pub/sub topic ``<channel>:<topic>``).

The hub implements the port (``Hub.inbound``); tests may give a channel a
scripted one. Channels import only this module, :mod:`bot.messages`,
:mod:`channels.base`, :mod:`bot.store.base`, :mod:`bot.config` and small
utilities: never the hub, its routing, the console or another channel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from bot.conversations import ConversationState
from bot.db.crypto import DataKeyError
from bot.messages import InboundMessage, OutboundMessage

if TYPE_CHECKING:
    from bot.store.base import HeldLock, SharedStore, Subscription
    from bot.store.sealed import ValueSealer

__all__ = ["Answer", "ChannelStore", "ConversationState", "DeliveryMode", "InboundPort"]


@dataclass(frozen=True)
class DeliveryMode:
    """How the replies to one inbound message reach the citizen.

    ``deadline`` is how long the caller of ``handle`` waits to answer in place
    (with the replies it returns): ``None`` as long as the hub allows
    (``Hub.max_wait``), 0 not at all. ``push_later`` says what becomes of
    replies that are not ready by then: pushed through the channel's
    ``send`` (exactly once, by whichever replica has them first), or, when
    false, the caller answers with the polite busy reply instead.

    Three modes are in use; take them from here rather than building one:

    - :attr:`ANSWER_IN_PLACE`: REST; the request waits for its replies.
    - :meth:`answer_within` ``(seconds)``: WeChat's passive reply, the
      widget's 结束会话; replies later than that are pushed.
    - :attr:`PUSH_LATER`: the widget's socket, Telegram; ``handle`` returns
      status ``pending`` at once, after the citizen's message is in the
      transcript, and every reply is pushed.
    """

    deadline: float | None
    push_later: bool

    ANSWER_IN_PLACE: ClassVar[DeliveryMode]
    PUSH_LATER: ClassVar[DeliveryMode]

    def __post_init__(self) -> None:
        if (self.deadline is None) == self.push_later:
            raise ValueError("answer in place without a deadline, or push after a deadline")
        if self.deadline is not None and self.deadline < 0:
            raise ValueError("a negative deadline")

    @classmethod
    def answer_within(cls, seconds: float) -> DeliveryMode:
        """Answer in place if the replies are ready within ``seconds``, else push
        them later (``seconds`` <= 0 is :attr:`PUSH_LATER`)."""
        return cls(max(0.0, seconds), push_later=True)

    @property
    def pushes_only(self) -> bool:
        """The caller never waits: every reply is pushed."""
        return self.deadline == 0.0


DeliveryMode.ANSWER_IN_PLACE = DeliveryMode(None, push_later=False)
DeliveryMode.PUSH_LATER = DeliveryMode(0.0, push_later=True)


class Answer(Protocol):
    """What the front door made of one message: ``status`` is ``ok``, ``busy``,
    ``to_agent``, ``duplicate`` or ``pending`` (the replies follow as pushes)."""

    @property
    def replies(self) -> Sequence[OutboundMessage]: ...

    @property
    def status(self) -> str: ...


class InboundPort(Protocol):
    """The front door as a channel sees it (implemented by ``Hub.inbound``)."""

    async def handle(self, msg: InboundMessage, mode: DeliveryMode) -> Answer:
        """Take one citizen message: dedupe, transcript, order, route.

        Raises :class:`~bot.store.base.StoreUnavailable` only when nothing was
        recorded (the channel answers 503 or lets the platform retry)."""
        ...

    async def history(
        self, conversation_id: str, limit: int = 200, after_seq: int | None = None
    ) -> list[Any]:
        """The conversation's transcript entries, oldest first, with the replies
        this replica just produced already in it."""
        ...

    async def conversation_state(self, conversation_id: str) -> ConversationState:
        """Where the conversation's messages go now (bot/conversations.py)."""
        ...

    def store(self, namespace: str) -> ChannelStore:
        """The shared store under ``namespace`` (the channel's name)."""
        ...

    async def record_event(
        self, kind: str, conversation_id: str | None, data: dict[str, Any]
    ) -> None:
        """Record a statistics event (e.g. a refused delivery); never its content."""
        ...

    async def answer_feedback(self, conversation_id: str, seq: int, vote: str) -> str:
        """The citizen's thumbs-up/down (``vote``: ``up``/``down``) on the answer
        at transcript ``seq``: ``recorded``, ``already`` or ``not_an_answer``
        (bot/feedback.py)."""
        ...

    async def citizen_typing(self, conversation_id: str, on: bool) -> bool:
        """The citizen started (``on``) or stopped typing: shown to the consoles
        of the agent holding the conversation. False (nothing sent) when no
        agent holds it. Never routed to Rasa, never written to the transcript."""
        ...


class ChannelStore:
    """The shared store as one channel sees it: every key under ``<namespace>:``.

    The key names are those the channels wrote before this class existed
    (``wechat:buttons:<openid>``, ``webchat:session:<id>``...), so running
    deployments keep their keys. Values that hold a citizen's words are sealed
    with :meth:`seal` (encrypted with the data keys, see bot/store/sealed.py).
    The underlying store's methods are looked up at each call.
    """

    def __init__(self, store: SharedStore, namespace: str, sealer: ValueSealer) -> None:
        if not namespace or ":" in namespace:
            raise ValueError(f"bad store namespace {namespace!r}")
        self._store = store
        self.namespace = namespace
        self._sealer = sealer

    def key(self, name: str) -> str:
        """The store key of ``name``: ``<namespace>:<name>``."""
        return f"{self.namespace}:{name}"

    # --- values -------------------------------------------------------------
    async def claim(self, name: str, ttl: float) -> bool:
        return await self._store.claim(self.key(name), ttl)

    async def get(self, name: str) -> str | None:
        return await self._store.get(self.key(name))

    async def set(self, name: str, value: str, ttl: float) -> None:
        await self._store.set(self.key(name), value, ttl)

    async def delete(self, *names: str) -> int:
        return await self._store.delete(*(self.key(n) for n in names))

    async def incr(self, name: str, ttl: float | None = None) -> int:
        return await self._store.incr(self.key(name), ttl=ttl)

    # --- lists and hashes ---------------------------------------------------
    async def rpush(self, name: str, *values: str, ttl: float) -> int:
        return await self._store.rpush(self.key(name), *values, ttl=ttl)

    async def lpop(self, name: str) -> str | None:
        return await self._store.lpop(self.key(name))

    async def hset(self, name: str, mapping: Mapping[str, str], ttl: float) -> None:
        await self._store.hset(self.key(name), mapping, ttl=ttl)

    async def hgetall(self, name: str) -> dict[str, str]:
        return await self._store.hgetall(self.key(name))

    async def hdel(self, name: str, *fields: str) -> int:
        return await self._store.hdel(self.key(name), *fields)

    # --- locks and pub/sub ----------------------------------------------------
    async def try_lock(self, name: str, ttl: float) -> HeldLock | None:
        """The lock ``lock:<namespace>:<name>`` if free (the store's lock naming)."""
        return await self._store.try_lock(f"lock:{self.key(name)}", ttl)

    async def publish(self, topic: str, message: str) -> int:
        return await self._store.publish(self.key(topic), message)

    def subscribe(self, topic: str) -> Subscription:
        return self._store.subscribe(self.key(topic))

    # --- sealed values --------------------------------------------------------
    def seal(self, value: str) -> str:
        """Encrypt a value that holds a citizen's words or a reply."""
        return self._sealer.seal(value)

    def unseal(self, value: str) -> str | None:
        """Decrypt a sealed value; None when the data keys cannot (logged by the caller)."""
        try:
            return self._sealer.unseal(value)
        except DataKeyError:
            return None
