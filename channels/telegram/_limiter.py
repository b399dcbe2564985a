"""Flood control for the Telegram Bot API, plugged into python-telegram-bot.

Telegram allows about one message per second in one chat and about thirty
per second overall; beyond that it answers 429 with ``retry_after``.
ptb's :class:`~telegram.ext.AIORateLimiter` only throttles groups per chat
(not private chats, which is all this hotline talks to) and needs the extra
``aiolimiter`` package, so this is a small limiter of our own behind ptb's
:class:`~telegram.ext.BaseRateLimiter` interface: every ``ExtBot`` request
passes through :meth:`ChatRateLimiter.process_request`.

Ordering: requests of one chat get send slots in the order they ask for
them, and the channel holds a :class:`KeyedLocks` lock per chat so that one
batch of replies is sent part after part, never interleaved with another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

logger = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class ChatRateLimiter(BaseRateLimiter[int]):
    """Per-chat spacing, an overall sliding window, one retry after a 429.

    ``clock`` and ``sleep`` are injectable so tests can check the computed
    delays on a virtual clock instead of timing real sleeps.
    """

    def __init__(
        self,
        per_chat_interval: float = 1.0,
        overall_max_rate: int = 30,
        overall_period: float = 1.0,
        max_retry_wait: float = 30.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.per_chat_interval = per_chat_interval
        self.overall_max_rate = overall_max_rate
        self.overall_period = overall_period
        self.max_retry_wait = max_retry_wait
        self._clock = clock
        self._sleep = sleep
        self._chat_next: dict[str, float] = {}
        self._recent: deque[float] = deque()
        self._overall_lock = asyncio.Lock()
        self._paused_until = 0.0
        #: Requests that went through the limiter / were retried after a 429.
        self.requests = 0
        self.retries = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        """Wait for a send slot, call the Bot API, retry once after a 429."""
        chat_id = data.get("chat_id")
        chat = str(chat_id) if chat_id is not None else None
        for attempt in range(2):
            await self.acquire(chat)
            self.requests += 1
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                if attempt or wait > self.max_retry_wait:
                    raise
                logger.warning("telegram: flood control on %s, retrying in %.1f s", endpoint, wait)
                self.retries += 1
                self._paused_until = max(self._paused_until, self._clock() + wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def acquire(self, chat: str | None) -> None:
        """Wait until ``chat`` (None: a request not aimed at a chat) may send."""
        now = self._clock()
        slot = max(now, self._paused_until)
        if chat is not None:
            slot = max(slot, self._chat_next.get(chat, 0.0))
            self._chat_next[chat] = slot + self.per_chat_interval
            self._forget_idle_chats(now)
        if slot > now:
            await self._sleep(slot - now)
        if chat is not None:
            await self._overall_slot()

    async def _overall_slot(self) -> None:
        """Sliding window: at most ``overall_max_rate`` sends per period, FIFO."""
        async with self._overall_lock:
            while True:
                now = self._clock()
                while self._recent and self._recent[0] <= now - self.overall_period:
                    self._recent.popleft()
                if len(self._recent) < self.overall_max_rate:
                    self._recent.append(now)
                    return
                await self._sleep(self._recent[0] + self.overall_period - now)

    def _forget_idle_chats(self, now: float) -> None:
        if len(self._chat_next) > 1024:
            for key in [k for k, t in self._chat_next.items() if t < now]:
                del self._chat_next[key]


def retry_after_seconds(exc: RetryAfter) -> float:
    """``retry_after`` is an int in ptb 21 and a timedelta in later versions."""
    value: Any = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


class KeyedLocks:
    """One asyncio lock per chat (FIFO), forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
