"""The hub's results: stored for every replica, awaited by the callers here.

A processed message's result is stored under ``result:<channel>:<sender>:<id>``
(sealed: it holds the replies) and announced on the store channel
``hub:results``. A caller on any replica waits for it with :meth:`wait`:
woken by the announcement (or directly, when this replica produced the
result), with a poll every ``POLL_INTERVAL`` that also asks the inbox to be
drained (the lock holder may have died). A result produced here is
*offered* to a waiting caller before it is written anywhere (see
bot/hub.py, write-behind).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator

from bot.db.crypto import DataKeyError
from bot.hub_routing import HandleResult
from bot.hub_timing import POLL_INTERVAL, RESULT_TTL, TIMER_SLACK
from bot.messages import InboundMessage
from bot.store.base import SharedStore, StoreUnavailable
from bot.store.sealed import ValueSealer

logger = logging.getLogger(__name__)

RESULTS_CHANNEL = "hub:results"


def message_key(kind: str, msg: InboundMessage) -> str:
    """``<kind>:<channel>:<sender>:<message id>``: scoped to the sender, because
    message ids are only unique per sender on the REST channel (and a widget's
    client-made ids), so sender B's id 7 is not dropped as a duplicate of A's."""
    return f"{kind}:{msg.channel}:{msg.channel_user_id}:{msg.message_id}"


class ResultBoard:
    """Results by key: stored, announced, awaited, and offered fresh."""

    def __init__(
        self, store: SharedStore, sealer: ValueSealer, on_poll: Callable[[str], None]
    ) -> None:
        self.store = store
        self.sealer = sealer
        #: Called with the conversation id on each poll of a waiting caller.
        self._on_poll = on_poll
        #: Wakes the callers waiting on this replica, by result key.
        self._events: dict[str, asyncio.Event] = {}
        #: Result keys whose caller waits to answer in place (not a later push).
        self._answering: set[str] = set()
        #: Results produced here whose replies are still being written.
        self._fresh: dict[str, HandleResult] = {}

    # --- the producing side ----------------------------------------------------
    def offer(self, key: str, result: HandleResult) -> bool:
        """Hand a just-produced result to a caller waiting here; true when that
        caller answers in place (it should get the loop before the writes)."""
        self._fresh[key] = result
        self._wake(key)
        return key in self._answering

    def withdraw(self, key: str) -> None:
        """The offered result is stored now (or its processing failed)."""
        self._fresh.pop(key, None)

    async def store_result(self, key: str, result: HandleResult) -> None:
        await self.store.set(key, self.sealer.seal(result.to_json()), RESULT_TTL)

    async def announce(self, key: str) -> None:
        """Wake the callers of ``key`` here, then on every other replica."""
        self._wake(key)
        await self.store.publish(RESULTS_CHANNEL, key)

    async def listen(self) -> None:
        """Wake the callers here of results announced by other replicas (forever)."""
        while True:
            try:
                async with self.store.subscribe(RESULTS_CHANNEL) as results:
                    async for key in results:
                        self._wake(key)
            except StoreUnavailable as exc:
                logger.warning("results subscription lost: %s", exc)
                await asyncio.sleep(1.0)

    # --- the waiting side --------------------------------------------------------
    @contextlib.contextmanager
    def answering(self, key: str) -> Iterator[None]:
        """While the caller of ``key`` waits to answer in place."""
        self._answering.add(key)
        try:
            yield
        finally:
            self._answering.discard(key)

    async def stored(self, key: str) -> HandleResult | None:
        """The stored result, decrypted; None when missing or unreadable."""
        raw = await self.store.get(key)
        if raw is None:
            return None
        try:
            return HandleResult.from_json(self.sealer.unseal(raw))
        except DataKeyError:
            logger.error("a stored result cannot be decrypted with the data keys")
        except (ValueError, KeyError, TypeError):
            logger.error("a stored result is malformed")
        return None

    async def wait(self, msg: InboundMessage, within: float) -> HandleResult | None:
        """The result of ``msg`` once there is one; None after ``within`` seconds."""
        key = message_key("result", msg)
        event = self._events.setdefault(key, asyncio.Event())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        timed_out = False

        def poll() -> None:
            nonlocal timed_out
            timed_out = True
            event.set()

        try:
            while True:
                fresh = self._fresh.get(key)
                if fresh is not None:
                    return fresh
                stored = await self.stored(key)
                if stored is not None:
                    return stored
                remaining = deadline - loop.time()
                if remaining <= TIMER_SLACK:  # not a sub-millisecond timer again
                    return None
                # A timer instead of asyncio.wait_for (bot/hub_timing.py, trick 2).
                timer = loop.call_later(min(remaining, POLL_INTERVAL), poll)
                try:
                    await event.wait()
                finally:
                    timer.cancel()
                # Re-armed before the checks above run again: an announced
                # result that then vanished (its replica stopped before
                # storing it) must not make this loop spin.
                event.clear()
                if timed_out:
                    timed_out = False
                    self._on_poll(msg.conversation_id)  # take over if the lock holder died
        finally:
            if self._events.get(key) is event:
                del self._events[key]

    def _wake(self, key: str) -> None:
        event = self._events.get(key)
        if event is not None:
            event.set()
