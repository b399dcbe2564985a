"""Fanout: this replica's sockets get events directly, other replicas' via the store."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.inbound import ChannelStore
from bot.store import MemoryStore, SharedStore
from bot.store.redis import RedisStore
from bot.store.sealed import InProcessValues
from channels.webchat._fanout import TOPIC, Fanout, encode


def webchat_store(store: SharedStore) -> ChannelStore:
    """The store as the webchat channel sees it (keys ``webchat:...``)."""
    return ChannelStore(store, "webchat", InProcessValues())


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        self.fail = fail

    async def on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if self.fail:
            raise RuntimeError("socket gone")


async def settle(seconds: float = 0.2) -> None:
    await asyncio.sleep(seconds)


async def check_once_each(store_a: SharedStore, store_b: SharedStore) -> None:
    here, there = Fanout(webchat_store(store_a)), Fanout(webchat_store(store_b))
    local, remote = Recorder(), Recorder()
    await here.join("s1", local)
    await there.join("s1", remote)
    try:
        await here.publish("s1", {"type": "sync", "count": 2})
        assert local.events == [{"type": "sync", "count": 2}]  # before publish returned
        await settle()
        assert local.events == [{"type": "sync", "count": 2}]  # not a second time
        assert remote.events == [{"type": "sync", "count": 2}]  # origin stripped
    finally:
        await here.close()
        await there.close()


async def test_publisher_delivers_locally_once_and_other_replicas_once() -> None:
    store = MemoryStore()  # one store, two "replicas"
    await check_once_each(store, store)


@pytest.mark.redis
async def test_publisher_delivers_locally_once_and_other_replicas_once_on_redis(
    redis_url: str, redis_prefix: str
) -> None:
    a, b = RedisStore(redis_url, redis_prefix), RedisStore(redis_url, redis_prefix)
    try:
        await check_once_each(a, b)
    finally:
        await a.close()
        await b.close()


async def test_an_event_without_origin_is_delivered() -> None:
    store = MemoryStore()
    fanout, rec = Fanout(webchat_store(store)), Recorder()
    await fanout.join("s1", rec)
    try:
        await store.publish(TOPIC, encode("s1", {"type": "typing", "on": True}))
        await settle()
        assert rec.events == [{"type": "typing", "on": True}]
    finally:
        await fanout.close()


async def test_a_failing_socket_does_not_stop_the_others_or_the_publisher() -> None:
    store = MemoryStore()
    fanout = Fanout(webchat_store(store))
    broken, fine = Recorder(fail=True), Recorder()
    await fanout.join("s1", broken)
    try:
        await fanout.publish("s1", {"type": "sync"})  # one socket: no exception escapes
        await fanout.join("s1", fine)
        await fanout.publish("s1", {"type": "sync"})
        assert fine.events == [{"type": "sync"}]
        assert len(broken.events) == 2
    finally:
        await fanout.close()


async def test_no_local_socket_only_publishes() -> None:
    store = MemoryStore()
    sub = store.subscribe(TOPIC)
    await sub.open()
    fanout = Fanout(webchat_store(store))
    await fanout.publish("s9", {"type": "sync"})
    raw = await asyncio.wait_for(sub.__anext__(), 1)
    session_id, _, body = raw.partition(" ")
    assert session_id == "s9"
    assert json.loads(body) == {"type": "sync", "origin": fanout.origin}
    await sub.aclose()
