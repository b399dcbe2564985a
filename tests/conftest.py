"""Shared fixtures: no internet, real Redis under a unique prefix, fake Rasa.

- ``_no_network`` (autouse): any connection or DNS lookup to a non-loopback
  host fails with "Network access disallowed in this test" and fails the test.
- ``redis_prefix`` / ``redis_url``: the local Redis, keys under a prefix unique
  to the test, deleted (SCAN) afterwards; skipped when Redis is not running.
- ``store``: a SharedStore, once in process and once on Redis.
- ``fake_rasa`` / ``fake_action_server``: aiohttp servers on 127.0.0.1.
- ``make_settings``: Settings for tests (short Rasa timeout, unique prefix, the
  background sweeps off).

``TEST_EVENT_LOOP=uvloop`` runs every async test on uvloop, the loop the front
door runs on with ``EVENT_LOOP=uvloop`` (bot/__main__.py); unset, tests run on
asyncio's own loop. uvloop opens sockets and resolves names in C, past the
``_no_network`` guard's Python hooks: the guard holds on asyncio's loop only.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import redis

from bot.config import OpsSettings, Settings, TicketSettings
from bot.store import MemoryStore, SharedStore
from bot.store.redis import RedisStore
from tests.fakes.rasa import FakeActionServer, FakeRasa
from tests.support.rest_auth import REST_TOKENS

REDIS_URL = "redis://127.0.0.1:6379/0"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


_TEST_EVENT_LOOP = os.environ.get("TEST_EVENT_LOOP", "asyncio")
if _TEST_EVENT_LOOP not in ("asyncio", "uvloop"):
    raise pytest.UsageError(
        f"TEST_EVENT_LOOP must be 'asyncio' or 'uvloop', not {_TEST_EVENT_LOOP!r}"
    )
if _TEST_EVENT_LOOP == "uvloop":
    # pytest-asyncio asks this hook for the loop of every async test; left
    # undefined, it uses asyncio's own loop.
    def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Any:
        import uvloop

        return {"uvloop": uvloop.new_event_loop}


class NetworkAccessDisallowed(RuntimeError):
    pass


def _is_loopback(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).strip("[]").split("%")[0]
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse connections and DNS lookups to anything but loopback.

    The refused hosts are collected and fail the test at teardown even when
    the code under test swallowed the error (a test of the guard itself may
    clear the list it gets by requesting this fixture).
    """
    attempts: list[str] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(host: Any) -> None:
        if not _is_loopback(host):
            attempts.append(str(host))
            raise NetworkAccessDisallowed("Network access disallowed in this test")

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            check(address[0])
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            check(address[0])
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        check(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts
    assert not attempts, f"Network access disallowed in this test: {attempts}"


def _redis_running() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture
def redis_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_url(redis_prefix: str) -> Iterator[str]:
    """The local Redis; every key under ``redis_prefix`` is deleted afterwards."""
    if not _redis_running():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    yield REDIS_URL
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{redis_prefix}:*", count=500))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def make_settings(redis_prefix: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        # REST on with the tests' integration token (tests/support/rest_auth.py); the
        # background sweeps (retention, ticket deadlines, the ops scheduler) off unless a test
        # turns them on: they write to the store and the database on their own.
        values: dict[str, Any] = {
            "rasa_timeout": 2.0,
            "redis_prefix": redis_prefix,
            "rest_tokens": REST_TOKENS,
            "retention_sweep_seconds": 0.0,
            "tickets": TicketSettings(sweep_seconds=0.0),
            "ops": OpsSettings(scheduler_seconds=0.0),
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[SharedStore]:
    """The same behaviour tests run against both backends."""
    backend: SharedStore
    if request.param == "memory":
        backend = MemoryStore()
    else:
        backend = RedisStore(request.getfixturevalue("redis_url"), redis_prefix)
    yield backend
    await backend.close()


@pytest.fixture
async def fake_rasa() -> AsyncIterator[FakeRasa]:
    server = FakeRasa()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def fake_action_server() -> AsyncIterator[FakeActionServer]:
    server = FakeActionServer()
    await server.start()
    yield server
    await server.close()
