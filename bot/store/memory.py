"""In-process shared store: the single-machine default (no ``REDIS_URL``).

Behaves like the Redis backend (same tests run against both). Every
operation runs without awaiting in between, so each one is atomic within the
event loop. Expired keys are dropped when touched and by a periodic sweep.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.store.base import SharedStore, Subscription

logger = logging.getLogger(__name__)

T = TypeVar("T")
_SWEEP_EVERY = 1000  # writes between two sweeps of expired keys


@dataclass
class _Entry:
    value: Any
    expires_at: float | None


class MemorySubscription(Subscription):
    """A queue fed by :meth:`MemoryStore.publish`."""

    def __init__(self, store: MemoryStore, channel: str) -> None:
        super().__init__()
        self._store = store
        self._channel = channel
        self._queue: asyncio.Queue[str] = asyncio.Queue()

    async def _open(self) -> None:
        self._store._subscribers.setdefault(self._channel, set()).add(self._queue)

    async def _next(self) -> str:
        return await self._queue.get()

    async def _close(self) -> None:
        queues = self._store._subscribers.get(self._channel)
        if queues is not None:
            queues.discard(self._queue)
            if not queues:
                del self._store._subscribers[self._channel]


class MemoryStore(SharedStore):
    """Shared state kept in this process."""

    in_process = True

    def __init__(self) -> None:
        self._data: dict[str, _Entry] = {}
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = {}
        self._writes = 0

    # --- internals --------------------------------------------------------
    def _live(self, key: str) -> _Entry | None:
        entry = self._data.get(key)
        if entry is not None and entry.expires_at is not None:
            if entry.expires_at <= time.monotonic():
                del self._data[key]
                return None
        return entry

    def _typed(self, key: str, kind: type[T]) -> T | None:
        entry = self._live(key)
        if entry is None:
            return None
        if type(entry.value) is not kind:
            raise TypeError(f"WRONGTYPE key {key!r} holds another kind of value")
        return entry.value

    def _put(self, key: str, value: Any, ttl: float | None) -> None:
        self._data[key] = _Entry(value, _deadline(ttl))
        self._wrote()

    def _container(self, key: str, kind: type[T], ttl: float) -> T:
        value = self._typed(key, kind)
        if value is None:
            value = kind()
        self._put(key, value, ttl)
        return value

    def _drop_if_empty(self, key: str, value: Any) -> None:
        if not value:
            self._data.pop(key, None)

    def _wrote(self) -> None:
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            now = time.monotonic()
            for key in [k for k, e in self._data.items() if e.expires_at and e.expires_at <= now]:
                del self._data[key]

    # --- keys -------------------------------------------------------------
    async def claim(self, key: str, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        self._put(key, "1", ttl)
        return True

    async def get(self, key: str) -> str | None:
        return self._typed(key, str)

    async def set(self, key: str, value: str, ttl: float) -> None:
        self._put(key, value, ttl)

    async def delete(self, *keys: str) -> int:
        existing = [k for k in keys if self._live(k) is not None]
        for key in existing:
            del self._data[key]
        return len(existing)

    async def incr(self, key: str, ttl: float | None = None) -> int:
        entry = self._live(key)
        if entry is None:
            self._put(key, "1", ttl)
            return 1
        value = int(entry.value) + 1
        entry.value = str(value)
        return value

    async def expire(self, key: str, ttl: float) -> bool:
        entry = self._live(key)
        if entry is None:
            return False
        entry.expires_at = _deadline(ttl)
        return True

    async def ttl(self, key: str) -> float | None:
        entry = self._live(key)
        if entry is None or entry.expires_at is None:
            return None
        return max(0.0, entry.expires_at - time.monotonic())

    async def scan(self, pattern: str = "*") -> AsyncIterator[str]:
        for key in list(self._data):
            if fnmatch.fnmatchcase(key, pattern) and self._live(key) is not None:
                yield key

    # --- locks ------------------------------------------------------------
    async def acquire_lock(self, name: str, token: str, ttl: float) -> bool:
        if self._live(name) is not None:
            return False
        self._put(name, token, ttl)
        return True

    async def renew_lock(self, name: str, token: str, ttl: float) -> bool:
        entry = self._live(name)
        if entry is None or entry.value != token:
            return False
        entry.expires_at = _deadline(ttl)
        return True

    async def release_lock(self, name: str, token: str) -> bool:
        entry = self._live(name)
        if entry is None or entry.value != token:
            return False
        del self._data[name]
        return True

    # --- lists ------------------------------------------------------------
    async def rpush(self, key: str, *values: str, ttl: float) -> int:
        items = self._container(key, list, ttl)
        items.extend(values)
        return len(items)

    async def lpop(self, key: str) -> str | None:
        items = self._typed(key, list)
        if not items:
            return None
        value: str = items.pop(0)
        self._drop_if_empty(key, items)
        return value

    async def lindex(self, key: str, index: int) -> str | None:
        items = self._typed(key, list) or []
        try:
            return str(items[index])
        except IndexError:
            return None

    async def lrem(self, key: str, count: int, value: str) -> int:
        items = self._typed(key, list)
        removed = 0
        while items and value in items and (count <= 0 or removed < count):
            items.remove(value)
            removed += 1
        self._drop_if_empty(key, items)
        return removed

    async def lrange(self, key: str, start: int = 0, stop: int = -1) -> list[str]:
        items = self._typed(key, list) or []
        return list(items[start : None if stop == -1 else stop + 1])

    async def llen(self, key: str) -> int:
        return len(self._typed(key, list) or [])

    # --- hashes -----------------------------------------------------------
    async def hset(self, key: str, mapping: Mapping[str, str], ttl: float) -> None:
        self._container(key, dict, ttl).update(mapping)

    async def hget(self, key: str, field: str) -> str | None:
        return (self._typed(key, dict) or {}).get(field)

    async def hgetall(self, key: str) -> dict[str, str]:
        return dict(self._typed(key, dict) or {})

    async def hdel(self, key: str, *fields: str) -> int:
        values = self._typed(key, dict)
        if not values:
            return 0
        removed = sum(1 for f in fields if values.pop(f, None) is not None)
        self._drop_if_empty(key, values)
        return removed

    # --- sorted sets ------------------------------------------------------
    async def zadd(self, key: str, mapping: Mapping[str, float], ttl: float) -> int:
        scores = self._container(key, _ZSet, ttl)
        added = sum(1 for m in mapping if m not in scores)
        scores.update({m: float(s) for m, s in mapping.items()})
        return added

    async def zrem(self, key: str, *members: str) -> int:
        scores = self._typed(key, _ZSet)
        if not scores:
            return 0
        removed = sum(1 for m in members if scores.pop(m, None) is not None)
        self._drop_if_empty(key, scores)
        return removed

    async def zrange(self, key: str, start: int = 0, stop: int = -1) -> list[str]:
        scores = self._typed(key, _ZSet) or _ZSet()
        ordered = sorted(scores, key=lambda m: (scores[m], m))
        return ordered[start : None if stop == -1 else stop + 1]

    async def zscore(self, key: str, member: str) -> float | None:
        return (self._typed(key, _ZSet) or _ZSet()).get(member)

    async def zcard(self, key: str) -> int:
        return len(self._typed(key, _ZSet) or ())

    # --- pub/sub and lifecycle -------------------------------------------
    async def publish(self, channel: str, message: str) -> int:
        queues = self._subscribers.get(channel, set())
        for queue in queues:
            queue.put_nowait(message)
        return len(queues)

    def subscribe(self, channel: str) -> Subscription:
        return MemorySubscription(self, channel)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._subscribers.clear()


class _ZSet(dict[str, float]):
    """Sorted-set members and scores (a distinct type from a hash)."""


def _deadline(ttl: float | None) -> float | None:
    return None if ttl is None else time.monotonic() + ttl
