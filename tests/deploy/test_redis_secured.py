"""The front door's shared store on a Redis that asks for a password and speaks
only TLS (``REDIS_URL=rediss://:password@host:port/0?ssl_ca_certs=PATH``), as a
managed production Redis does. The server is the test's own (Debian's
redis-server on another loopback port, a throw-away CA), never the shared one.
Rasa's tracker and lock stores on the same kind of server:
hotline_rasa/tests/test_deployment.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.redis import RedisStore
from hotline_rasa.tests.redis_server import RedisUnavailable, SecuredRedis, secured_redis


@pytest.fixture(params=["password", "password+tls"])
async def secured(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SecuredRedis]:
    try:
        with secured_redis(tmp_path, tls=request.param.endswith("tls")) as server:
            yield server
    except RedisUnavailable as exc:
        pytest.skip(str(exc))


async def test_the_shared_store_works_with_password_and_tls(secured: SecuredRedis) -> None:
    store = RedisStore(secured.url, "test-" + uuid.uuid4().hex[:8])
    try:
        assert await store.ping()
        await store.set("greeting", "你好", ttl=60)
        assert await store.get("greeting") == "你好"
    finally:
        await store.close()


async def test_a_wrong_password_makes_the_store_unready(secured: SecuredRedis) -> None:
    store = RedisStore(secured.url.replace(secured.password, "wrong-password"), "test-x")
    try:
        assert not await store.ping()  # /readyz answers 503 "unavailable"
    finally:
        await store.close()


async def test_tls_without_the_ca_is_refused(tmp_path: Path) -> None:
    try:
        server = secured_redis(tmp_path, tls=True)
        secured = server.__enter__()
    except RedisUnavailable as exc:
        pytest.skip(str(exc))
    store = RedisStore(secured.url.split("?")[0], "test-x")  # the system's CAs only
    try:
        assert not await store.ping()
    finally:
        await store.close()
        server.__exit__(None, None, None)
