"""The shared-state contract of the front door: one interface, two backends.

Every replica of the front door sees the same dedupe keys, inboxes, locks,
conversation states, handoff queue and pub/sub channels through a
:class:`SharedStore`. The in-process backend serves a single machine; the Redis
backend serves many replicas. Keys are logical names ("inbox:rest:42"); the
backend adds its prefix. Every write takes a TTL so nothing lives forever.

A dead backend raises :class:`StoreUnavailable` from every operation; callers
turn it into a polite "busy" reply or a 503, never a crash or a silent drop.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from types import TracebackType

logger = logging.getLogger(__name__)


class StoreUnavailable(Exception):
    """The shared store cannot be reached (Redis down, connection lost)."""


class LockTimeout(Exception):
    """A lock could not be acquired within the requested time."""


class Subscription(abc.ABC):
    """Messages published on one channel, as an async iterator of strings.

    Use as ``async with store.subscribe("agents") as sub: async for m in sub``.
    The subscription is live once ``__aenter__`` (or the first iteration)
    returns; cancelling the iterating task or leaving the block unsubscribes.
    """

    def __init__(self) -> None:
        self._opened = False
        self._closed = False

    @abc.abstractmethod
    async def _open(self) -> None:
        """Start receiving messages."""

    @abc.abstractmethod
    async def _next(self) -> str:
        """Wait for the next message."""

    @abc.abstractmethod
    async def _close(self) -> None:
        """Stop receiving and free resources."""

    async def open(self) -> None:
        if not self._opened:
            self._opened = True
            await self._open()

    async def aclose(self) -> None:
        if self._opened and not self._closed:
            self._closed = True
            await self._close()

    async def __aenter__(self) -> Subscription:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> str:
        if self._closed:
            raise StopAsyncIteration
        await self.open()
        return await self._next()


class HeldLock:
    """A lock this process holds; renews its TTL in the background while held.

    ``lost`` turns true when a renewal fails (the lock expired or the store is
    gone): the holder should stop its work at the next safe point.
    """

    def __init__(self, store: SharedStore, name: str, token: str, ttl: float) -> None:
        self.store = store
        self.name = name
        self.token = token
        self.ttl = ttl
        self.lost = False
        self._renewer: asyncio.Task[None] | None = None

    async def __aenter__(self) -> HeldLock:
        self._renewer = asyncio.create_task(self._renew_forever())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.release()

    async def release(self) -> None:
        """Stop renewing and delete the lock if it is still ours."""
        if self._renewer is not None:
            renewer, self._renewer = self._renewer, None
            renewer.cancel()
            # asyncio.wait never raises the renewer's CancelledError, so a
            # cancellation of the caller itself is not swallowed here.
            await asyncio.wait([renewer])
        try:
            await self.store.release_lock(self.name, self.token)
        except StoreUnavailable:
            logger.warning("could not release lock %s; it expires by itself", self.name)

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                ok = await self.store.renew_lock(self.name, self.token, self.ttl)
            except StoreUnavailable:
                ok = False
            if not ok:
                self.lost = True
                logger.warning("lost lock %s", self.name)
                return


class SharedStore(abc.ABC):
    """Key/value, list, hash, sorted-set, lock and pub/sub operations.

    TTLs are seconds (floats allowed). All values are strings.
    """

    #: True when values never leave this process's memory (the embedded
    #: single-machine store): nothing of them is at rest, so values that carry
    #: a citizen's words need no encryption there (bot/store/sealed.py).
    in_process: bool = False

    # --- keys -------------------------------------------------------------
    @abc.abstractmethod
    async def claim(self, key: str, ttl: float) -> bool:
        """Set ``key`` only if absent (SET NX); true when this caller won."""

    @abc.abstractmethod
    async def get(self, key: str) -> str | None: ...

    @abc.abstractmethod
    async def set(self, key: str, value: str, ttl: float) -> None: ...

    @abc.abstractmethod
    async def delete(self, *keys: str) -> int:
        """Delete keys of any type; returns how many existed."""

    @abc.abstractmethod
    async def incr(self, key: str, ttl: float | None = None) -> int:
        """Increment a counter; ``ttl`` is set when the counter is created."""

    @abc.abstractmethod
    async def expire(self, key: str, ttl: float) -> bool: ...

    @abc.abstractmethod
    async def ttl(self, key: str) -> float | None:
        """Seconds left, or None when the key is missing or has no TTL."""

    @abc.abstractmethod
    def scan(self, pattern: str = "*") -> AsyncIterator[str]:
        """Iterate logical keys matching a glob pattern (SCAN, never KEYS)."""

    # --- locks ------------------------------------------------------------
    @abc.abstractmethod
    async def acquire_lock(self, name: str, token: str, ttl: float) -> bool: ...

    @abc.abstractmethod
    async def renew_lock(self, name: str, token: str, ttl: float) -> bool:
        """Extend the lock's TTL if ``token`` still owns it."""

    @abc.abstractmethod
    async def release_lock(self, name: str, token: str) -> bool:
        """Delete the lock if ``token`` still owns it."""

    async def try_lock(self, name: str, ttl: float) -> HeldLock | None:
        """Take the lock now or return None; use the result as ``async with``."""
        token = uuid.uuid4().hex
        if await self.acquire_lock(name, token, ttl):
            return HeldLock(self, name, token, ttl)
        return None

    @contextlib.asynccontextmanager
    async def lock(
        self, name: str, ttl: float, timeout: float | None = 10.0
    ) -> AsyncIterator[HeldLock]:
        """Wait for the lock (up to ``timeout`` s, else LockTimeout), hold it, renew it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.005
        while (held := await self.try_lock(name, ttl)) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise LockTimeout(name)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)
        async with held:
            yield held

    # --- lists ------------------------------------------------------------
    @abc.abstractmethod
    async def rpush(self, key: str, *values: str, ttl: float) -> int: ...

    @abc.abstractmethod
    async def lpop(self, key: str) -> str | None: ...

    @abc.abstractmethod
    async def lindex(self, key: str, index: int) -> str | None: ...

    @abc.abstractmethod
    async def lrem(self, key: str, count: int, value: str) -> int:
        """Remove up to ``count`` (0: all) occurrences of ``value``, head first."""

    @abc.abstractmethod
    async def lrange(self, key: str, start: int = 0, stop: int = -1) -> list[str]: ...

    @abc.abstractmethod
    async def llen(self, key: str) -> int: ...

    # --- hashes -----------------------------------------------------------
    @abc.abstractmethod
    async def hset(self, key: str, mapping: Mapping[str, str], ttl: float) -> None: ...

    @abc.abstractmethod
    async def hget(self, key: str, field: str) -> str | None: ...

    @abc.abstractmethod
    async def hgetall(self, key: str) -> dict[str, str]: ...

    @abc.abstractmethod
    async def hdel(self, key: str, *fields: str) -> int: ...

    # --- sorted sets ------------------------------------------------------
    @abc.abstractmethod
    async def zadd(self, key: str, mapping: Mapping[str, float], ttl: float) -> int: ...

    @abc.abstractmethod
    async def zrem(self, key: str, *members: str) -> int: ...

    @abc.abstractmethod
    async def zrange(self, key: str, start: int = 0, stop: int = -1) -> list[str]:
        """Members by ascending score (lowest first)."""

    @abc.abstractmethod
    async def zscore(self, key: str, member: str) -> float | None: ...

    async def zcard(self, key: str) -> int:
        """How many members (backends answer without listing them)."""
        return len(await self.zrange(key))

    async def zrank(self, key: str, member: str) -> int | None:
        """The member's 0-based place by ascending score, or None."""
        order = await self.zrange(key)
        return order.index(member) if member in order else None

    # --- pub/sub and lifecycle -------------------------------------------
    @abc.abstractmethod
    async def publish(self, channel: str, message: str) -> int:
        """Publish to every subscriber (of every replica); returns receivers."""

    @abc.abstractmethod
    def subscribe(self, channel: str) -> Subscription: ...

    @abc.abstractmethod
    async def ping(self) -> bool:
        """True when the store answers; never raises."""

    @abc.abstractmethod
    async def close(self) -> None: ...
