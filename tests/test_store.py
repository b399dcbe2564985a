"""bot/store: the same behaviour on the in-process and the Redis backend."""

from __future__ import annotations

import asyncio

import pytest
import redis

from bot.config import Settings
from bot.store import LockTimeout, MemoryStore, SharedStore, StoreUnavailable, make_store
from bot.store.redis import RedisStore

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


async def test_claim_is_set_if_absent_with_ttl(store: SharedStore) -> None:
    assert await store.claim("dedupe:x", 0.2)
    assert not await store.claim("dedupe:x", 0.2)
    await asyncio.sleep(0.3)
    assert await store.claim("dedupe:x", 0.2)


async def test_get_set_delete_and_ttl(store: SharedStore) -> None:
    assert await store.get("k") is None
    await store.set("k", "值", 0.2)
    assert await store.get("k") == "值"
    left = await store.ttl("k")
    assert left is not None and 0 < left <= 0.2
    await asyncio.sleep(0.3)
    assert await store.get("k") is None
    await store.set("a", "1", 5)
    await store.set("b", "2", 5)
    assert await store.delete("a", "b", "missing") == 2
    assert await store.ttl("a") is None


async def test_incr_sets_ttl_on_creation(store: SharedStore) -> None:
    assert await store.incr("n", ttl=5) == 1
    assert await store.incr("n", ttl=5) == 2
    left = await store.ttl("n")
    assert left is not None and left <= 5
    assert await store.expire("n", 0.1)
    await asyncio.sleep(0.2)
    assert await store.incr("n") == 1


async def test_lock_is_exclusive_and_owned(store: SharedStore) -> None:
    held = await store.try_lock("lock:a", 5)
    assert held is not None
    assert await store.try_lock("lock:a", 5) is None
    assert not await store.release_lock("lock:a", "someone-else")
    assert not await store.renew_lock("lock:a", "someone-else", 5)
    await held.release()
    again = await store.try_lock("lock:a", 5)
    assert again is not None
    await again.release()


async def test_unrenewed_lock_expires(store: SharedStore) -> None:
    assert await store.acquire_lock("lock:crashed", "tok", 0.2)
    assert not await store.acquire_lock("lock:crashed", "other", 0.2)
    await asyncio.sleep(0.3)
    assert await store.acquire_lock("lock:crashed", "other", 0.2)


async def test_held_lock_is_renewed_while_held(store: SharedStore) -> None:
    async with store.lock("lock:long", ttl=0.3) as held:
        await asyncio.sleep(0.8)  # well past the TTL
        assert await store.try_lock("lock:long", 0.3) is None
        assert not held.lost
    assert await store.get("lock:long") is None


async def test_lock_waits_and_times_out(store: SharedStore) -> None:
    held = await store.try_lock("lock:w", 5)
    assert held is not None
    with pytest.raises(LockTimeout):
        async with store.lock("lock:w", 5, timeout=0.1):
            pass
    asyncio.get_running_loop().call_later(0.1, lambda: asyncio.ensure_future(held.release()))
    async with store.lock("lock:w", 5, timeout=2) as second:
        assert second.token != held.token


async def test_lock_serialises_read_modify_write(store: SharedStore) -> None:
    await store.set("counter", "0", 30)

    async def bump() -> None:
        async with store.lock("lock:counter", 5, timeout=10):
            value = int(await store.get("counter") or 0)
            await asyncio.sleep(0)
            await store.set("counter", str(value + 1), 30)

    await asyncio.gather(*(bump() for _ in range(20)))
    assert await store.get("counter") == "20"


async def test_lists(store: SharedStore) -> None:
    assert await store.rpush("inbox:c", "m1", "m2", ttl=5) == 2
    assert await store.rpush("inbox:c", "m3", ttl=5) == 3
    assert await store.llen("inbox:c") == 3
    assert await store.lindex("inbox:c", 0) == "m1"
    assert await store.lrange("inbox:c") == ["m1", "m2", "m3"]
    assert await store.lrange("inbox:c", 1, -2) == ["m2"]
    assert await store.lrem("inbox:c", 1, "m2") == 1
    assert await store.lpop("inbox:c") == "m1"
    assert await store.lpop("inbox:c") == "m3"
    assert await store.lpop("inbox:c") is None
    assert await store.llen("inbox:c") == 0
    assert await store.lindex("inbox:c", 0) is None


async def test_hashes(store: SharedStore) -> None:
    await store.hset("conv:c", {"state": "queued", "reason": "投诉"}, ttl=5)
    await store.hset("conv:c", {"state": "with_agent"}, ttl=5)
    assert await store.hget("conv:c", "state") == "with_agent"
    assert await store.hgetall("conv:c") == {"state": "with_agent", "reason": "投诉"}
    assert await store.hdel("conv:c", "reason", "missing") == 1
    assert await store.hget("conv:c", "reason") is None
    assert await store.hgetall("conv:none") == {}
    assert (await store.ttl("conv:c") or 0) > 0


async def test_sorted_sets(store: SharedStore) -> None:
    assert await store.zadd("q", {"b": 2.0, "a": 1.0}, ttl=5) == 2
    assert await store.zadd("q", {"c": 0.5, "a": 3.0}, ttl=5) == 1
    assert await store.zrange("q") == ["c", "b", "a"]
    assert await store.zrange("q", 0, 0) == ["c"]
    assert await store.zscore("q", "a") == 3.0
    assert await store.zscore("q", "zz") is None
    assert await store.zrem("q", "b", "zz") == 1
    assert await store.zrange("q") == ["c", "a"]


async def test_publish_subscribe_and_cancel(store: SharedStore) -> None:
    received: list[str] = []
    ready = asyncio.Event()

    async def listen() -> None:
        async with store.subscribe("agents") as sub:
            ready.set()
            async for message in sub:
                received.append(message)

    task = asyncio.create_task(listen())
    await asyncio.wait_for(ready.wait(), 2)
    assert await store.publish("agents", '{"x": "一"}') == 1
    assert await store.publish("other", "not for us") == 0
    for _ in range(100):
        if received:
            break
        await asyncio.sleep(0.02)
    assert received == ['{"x": "一"}']
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.05)
    assert await store.publish("agents", "late") == 0


async def test_scan_finds_logical_keys(store: SharedStore) -> None:
    await store.set("presence:1", "a", 5)
    await store.set("presence:2", "b", 5)
    await store.set("other", "c", 5)
    found = sorted([key async for key in store.scan("presence:*")])
    assert found == ["presence:1", "presence:2"]


async def test_ping(store: SharedStore) -> None:
    assert await store.ping()


@pytest.mark.redis
async def test_redis_keys_carry_prefix_and_ttl(redis_url: str, redis_prefix: str) -> None:
    store = RedisStore(redis_url, redis_prefix)
    await store.claim("dedupe:rest:1", 60)
    await store.rpush("inbox:rest:u", "m", ttl=60)
    await store.hset("conv:rest:u", {"state": "bot"}, ttl=60)
    await store.zadd("handoff:queue", {"rest:u": 1.0}, ttl=60)
    await store.incr("count", ttl=60)
    raw = redis.Redis.from_url(redis_url)
    keys = list(raw.scan_iter(match=f"{redis_prefix}:*"))
    assert len(keys) == 5
    assert all(raw.pttl(k) > 0 for k in keys)
    raw.close()
    await store.close()


@pytest.mark.redis
async def test_redis_lock_excludes_across_clients(redis_url: str, redis_prefix: str) -> None:
    one, two = RedisStore(redis_url, redis_prefix), RedisStore(redis_url, redis_prefix)
    held = await one.try_lock("lock:x", 5)
    assert held is not None
    assert await two.try_lock("lock:x", 5) is None
    await held.release()
    assert (await two.try_lock("lock:x", 5)) is not None
    await one.close()
    await two.close()


async def _cancel_while_busy(store: RedisStore, rounds: int) -> list[int]:
    """Cancel a task looping over Redis commands at varied points; the rounds
    in which the cancellation was lost (the task still ran 2 s later)."""
    lost = []
    for i in range(rounds):

        async def busy() -> None:
            while True:
                await store.get("k")

        task = asyncio.create_task(busy())
        for _ in range(i % 7):
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=2)
        if not done:
            lost.append(i)
            while not task.done():  # do not leave it running
                task.cancel()
                await asyncio.wait([task], timeout=0.1)
    return lost


@pytest.mark.redis
async def test_redis_commands_can_be_cancelled(redis_url: str, redis_prefix: str) -> None:
    """A cancelled task stops, whatever command it was in. redis-py 4.x's pool
    check (a zero-second async_timeout read) lost about half of these on
    Python 3.10, and an app shutdown then waited forever for a sweep task."""
    store = RedisStore(redis_url, redis_prefix)
    try:
        assert await _cancel_while_busy(store, 70) == []
    finally:
        await store.close()


@pytest.mark.redis
async def test_redis_connection_closed_by_the_server_is_replaced(
    redis_url: str, redis_prefix: str
) -> None:
    """The server dropped the pooled connection (a Redis restart, an idle
    timeout): the next command reconnects instead of failing."""
    store = RedisStore(redis_url, redis_prefix)
    await store.set("k", "v", 60)
    own_id = await store._client.client_id()  # the one pooled connection
    raw = redis.Redis.from_url(redis_url)
    assert raw.client_kill_filter(_id=own_id) == 1
    raw.close()
    await asyncio.sleep(0.05)  # the EOF reaches the stream
    assert await store.get("k") == "v"
    assert await store._client.client_id() != own_id
    await store.close()


async def test_dead_redis_raises_store_unavailable(redis_prefix: str) -> None:
    store = RedisStore(DEAD_REDIS, redis_prefix)
    for call in (
        store.claim("k", 1),
        store.get("k"),
        store.set("k", "v", 1),
        store.rpush("l", "v", ttl=1),
        store.hget("h", "f"),
        store.zadd("z", {"m": 1.0}, ttl=1),
        store.publish("c", "m"),
        store.acquire_lock("lock", "t", 1),
    ):
        with pytest.raises(StoreUnavailable):
            await call
    with pytest.raises(StoreUnavailable):
        async with store.subscribe("c") as sub:
            await sub.__anext__()
    assert not await store.ping()
    await store.close()


def test_prefix_is_validated() -> None:
    with pytest.raises(ValueError):
        RedisStore(DEAD_REDIS, "bad prefix*")


def test_make_store_picks_backend() -> None:
    assert isinstance(make_store(Settings()), MemoryStore)
    assert isinstance(make_store(Settings(redis_url=DEAD_REDIS)), RedisStore)
