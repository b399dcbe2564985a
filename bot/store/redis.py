"""Redis shared store: many replicas of the front door share one Redis.

Every key and channel is ``<prefix>:<logical name>``. Locks are SET NX PX with
an owner token; renewal and release are Lua compare-and-pexpire /
compare-and-delete so a replica never extends or frees another's lock.
Connection failures surface as :class:`StoreUnavailable`.

Connections come from one bounded pool per process
(:data:`MAX_CONNECTIONS`, redis-py's ``BlockingConnectionPool``): a burst
waits up to :data:`POOL_TIMEOUT` seconds for a free connection instead of
failing at once (redis-py 5+ raises past 100 connections with its default
pool) or opening connections without bound (redis-py 4's default). Past the
wait, the call fails as :class:`StoreUnavailable` like any other outage.
redis-py's own classes keep a task's cancellation (redis-py 5+ on Python
3.11+), which the removed bot/store/redis_compat.py once had to ensure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.store.base import SharedStore, StoreUnavailable, Subscription

logger = logging.getLogger(__name__)

#: Connections per process. A turn takes a few commands one after another and
#: gives the connection back between them, so a replica with a hundred
#: conversations in flight seldom holds more than a few dozen at once; the
#: bound is well under Redis's own ``maxclients`` (10,000) times a few replicas.
MAX_CONNECTIONS = 200
#: How long a command waits for a free connection of the pool.
POOL_TIMEOUT = 5.0

_PREFIX_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_FAILURES = (RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError)

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_INCR = """
local v = redis.call('incr', KEYS[1])
if v == 1 and tonumber(ARGV[1]) > 0 then redis.call('pexpire', KEYS[1], ARGV[1]) end
return v
"""


@contextlib.contextmanager
def _guard(what: str) -> Iterator[None]:
    """Turn Redis connection failures into StoreUnavailable."""
    try:
        yield
    except _FAILURES as exc:
        raise StoreUnavailable(f"redis unavailable during {what}: {type(exc).__name__}") from exc


def _ms(ttl: float) -> int:
    return max(1, int(ttl * 1000))


class RedisSubscription(Subscription):
    """One Redis pub/sub connection listening to one channel."""

    def __init__(self, client: aioredis.Redis, channel: str) -> None:
        super().__init__()
        self._pubsub = client.pubsub()
        self._channel = channel

    async def _open(self) -> None:
        with _guard("subscribe"):
            await self._pubsub.subscribe(self._channel)

    async def _next(self) -> str:
        while True:
            with _guard("subscription read"):
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            if message is not None and message.get("type") == "message":
                return str(message["data"])

    async def _close(self) -> None:
        with contextlib.suppress(*_FAILURES):
            await self._pubsub.unsubscribe(self._channel)
        with contextlib.suppress(*_FAILURES):
            await self._pubsub.reset()


class RedisStore(SharedStore):
    """Shared state in Redis under a validated key prefix."""

    def __init__(
        self,
        url: str,
        prefix: str,
        client: aioredis.Redis | None = None,
        *,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        if not _PREFIX_RE.match(prefix):
            raise ValueError("redis prefix must be 1-64 chars of [A-Za-z0-9_.:-]")
        self.prefix = prefix
        if client is None:
            # Creating the pool opens no connection; it connects on first use.
            pool = aioredis.BlockingConnectionPool.from_url(
                url,
                max_connections=max_connections,
                timeout=POOL_TIMEOUT,
                decode_responses=True,
                socket_connect_timeout=2,
                socket_timeout=5,
                health_check_interval=30,
            )
            client = aioredis.Redis(connection_pool=pool)
        self._client: aioredis.Redis = client
        self._release = self._client.register_script(_RELEASE)
        self._renew = self._client.register_script(_RENEW)
        self._incr = self._client.register_script(_INCR)

    def _k(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    async def _pipe_with_ttl(self, what: str, key: str, ttl: float, call: Any) -> Any:
        """Run one write and a PEXPIRE on ``key`` atomically (MULTI/EXEC)."""
        with _guard(what):
            async with self._client.pipeline(transaction=True) as pipe:
                call(pipe)
                pipe.pexpire(self._k(key), _ms(ttl))
                results = await pipe.execute()
        return results[0]

    # --- keys -------------------------------------------------------------
    async def claim(self, key: str, ttl: float) -> bool:
        with _guard("claim"):
            return bool(await self._client.set(self._k(key), "1", nx=True, px=_ms(ttl)))

    async def get(self, key: str) -> str | None:
        with _guard("get"):
            value = await self._client.get(self._k(key))
        return None if value is None else str(value)

    async def set(self, key: str, value: str, ttl: float) -> None:
        with _guard("set"):
            await self._client.set(self._k(key), value, px=_ms(ttl))

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        with _guard("delete"):
            return int(await self._client.delete(*(self._k(k) for k in keys)))

    async def incr(self, key: str, ttl: float | None = None) -> int:
        with _guard("incr"):
            return int(await self._incr(keys=[self._k(key)], args=[_ms(ttl) if ttl else 0]))

    async def expire(self, key: str, ttl: float) -> bool:
        with _guard("expire"):
            return bool(await self._client.pexpire(self._k(key), _ms(ttl)))

    async def ttl(self, key: str) -> float | None:
        with _guard("ttl"):
            left = int(await self._client.pttl(self._k(key)))
        return None if left < 0 else left / 1000

    async def scan(self, pattern: str = "*") -> AsyncIterator[str]:
        start = len(self.prefix) + 1
        with _guard("scan"):
            async for key in self._client.scan_iter(match=self._k(pattern), count=500):
                yield str(key)[start:]

    # --- locks ------------------------------------------------------------
    async def acquire_lock(self, name: str, token: str, ttl: float) -> bool:
        with _guard("lock"):
            return bool(await self._client.set(self._k(name), token, nx=True, px=_ms(ttl)))

    async def renew_lock(self, name: str, token: str, ttl: float) -> bool:
        with _guard("lock renewal"):
            return bool(await self._renew(keys=[self._k(name)], args=[token, _ms(ttl)]))

    async def release_lock(self, name: str, token: str) -> bool:
        with _guard("unlock"):
            return bool(await self._release(keys=[self._k(name)], args=[token]))

    # --- lists ------------------------------------------------------------
    async def rpush(self, key: str, *values: str, ttl: float) -> int:
        result = await self._pipe_with_ttl(
            "rpush", key, ttl, lambda p: p.rpush(self._k(key), *values)
        )
        return int(result)

    async def lpop(self, key: str) -> str | None:
        with _guard("lpop"):
            value = await self._client.lpop(self._k(key))
        return None if value is None else str(value)

    async def lindex(self, key: str, index: int) -> str | None:
        with _guard("lindex"):
            value = await self._client.lindex(self._k(key), index)
        return None if value is None else str(value)

    async def lrem(self, key: str, count: int, value: str) -> int:
        with _guard("lrem"):
            return int(await self._client.lrem(self._k(key), count, value))

    async def lrange(self, key: str, start: int = 0, stop: int = -1) -> list[str]:
        with _guard("lrange"):
            return [str(v) for v in await self._client.lrange(self._k(key), start, stop)]

    async def llen(self, key: str) -> int:
        with _guard("llen"):
            return int(await self._client.llen(self._k(key)))

    # --- hashes -----------------------------------------------------------
    async def hset(self, key: str, mapping: Mapping[str, str], ttl: float) -> None:
        await self._pipe_with_ttl(
            "hset", key, ttl, lambda p: p.hset(self._k(key), mapping=dict(mapping))
        )

    async def hget(self, key: str, field: str) -> str | None:
        with _guard("hget"):
            value = await self._client.hget(self._k(key), field)
        return None if value is None else str(value)

    async def hgetall(self, key: str) -> dict[str, str]:
        with _guard("hgetall"):
            values = await self._client.hgetall(self._k(key))
        return {str(k): str(v) for k, v in values.items()}

    async def hdel(self, key: str, *fields: str) -> int:
        if not fields:
            return 0
        with _guard("hdel"):
            return int(await self._client.hdel(self._k(key), *fields))

    # --- sorted sets ------------------------------------------------------
    async def zadd(self, key: str, mapping: Mapping[str, float], ttl: float) -> int:
        result = await self._pipe_with_ttl(
            "zadd", key, ttl, lambda p: p.zadd(self._k(key), dict(mapping))
        )
        return int(result)

    async def zrem(self, key: str, *members: str) -> int:
        if not members:
            return 0
        with _guard("zrem"):
            return int(await self._client.zrem(self._k(key), *members))

    async def zrange(self, key: str, start: int = 0, stop: int = -1) -> list[str]:
        with _guard("zrange"):
            return [str(m) for m in await self._client.zrange(self._k(key), start, stop)]

    async def zcard(self, key: str) -> int:
        with _guard("zcard"):
            return int(await self._client.zcard(self._k(key)))

    async def zrank(self, key: str, member: str) -> int | None:
        with _guard("zrank"):
            rank = await self._client.zrank(self._k(key), member)
        # redis-py types ZRANK as int | list (the WITHSCORE form, not used here)
        return None if rank is None else int(cast(int, rank))

    async def zscore(self, key: str, member: str) -> float | None:
        with _guard("zscore"):
            score = await self._client.zscore(self._k(key), member)
        return None if score is None else float(score)

    # --- pub/sub and lifecycle -------------------------------------------
    async def publish(self, channel: str, message: str) -> int:
        with _guard("publish"):
            return int(await self._client.publish(self._k(channel), message))

    def subscribe(self, channel: str) -> Subscription:
        return RedisSubscription(self._client, self._k(channel))

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except _FAILURES:
            return False

    async def close(self) -> None:
        with contextlib.suppress(*_FAILURES):
            await self._client.close()
            await self._client.connection_pool.disconnect()
