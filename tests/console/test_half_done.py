"""Half-done agent actions: a claim whose SQL step fails leaves nothing behind.

The database fails between the claim key and the SQL row (a Database wrapper
whose next write raises once): the claim key is released, the conversation
stays queued and claimable, and a citizen who cancels is not told that an
agent joined. A claim key left by a replica that died between the steps is
cleared by the sweep. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet

from bot.app import create_app
from bot.config import Settings
from bot.console import texts
from bot.console.desk import CLAIM_TTL
from bot.console.queue import claim_key
from bot.db import Database
from bot.db.crypto import Cipher
from bot.rasa_client import RasaClient
from bot.store import SharedStore
from tests.console.conftest import SignIn, connect, console_of, runtime_of, said_to, say
from tests.db.conftest import pg_factory  # noqa: F401  (fixture)
from tests.fakes.rasa import FakeRasa
from tests.fakes.shared import Shared
from tests.support.rest_auth import rest_cid

CID = rest_cid("c1")
CONV = f"/console/api/conversations/{CID}"


class FlakyWrites(Shared):
    """The shared database, whose next ``write()`` raises once when armed."""

    def __init__(self, inner: Database) -> None:
        super().__init__(inner)
        self.fail_next_write = False

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[Any]:
        if self.fail_next_write:
            self.fail_next_write = False
            raise ConnectionResetError("database connection lost")
        async with self._inner.write() as conn:
            yield conn


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hotline.db'}"
    else:
        url = request.getfixturevalue("pg_factory")()
    db = Database(url, cipher=Cipher([Fernet.generate_key().decode()]))
    await db.connect()
    yield db
    await db.close()


@pytest.fixture
async def flaky(any_db: Database) -> FlakyWrites:
    return FlakyWrites(any_db)


@pytest.fixture
async def app_client(
    store: SharedStore,
    flaky: FlakyWrites,
    rasa_handoff: FakeRasa,
    make_settings: Callable[..., Settings],
) -> AsyncIterator[TestClient]:
    settings = make_settings(rasa_url=rasa_handoff.url)
    rasa = RasaClient(rasa_handoff.url, settings.rasa_timeout)
    app = create_app(settings, store=Shared(store), db=flaky, rasa=rasa)  # type: ignore[arg-type]
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    sweeper = runtime_of(client).sweeper
    for _ in range(500):  # the start-up sweep must not race the test's own
        if sweeper.rounds:
            break
        await asyncio.sleep(0.01)
    yield client
    await client.close()


async def test_failed_claim_releases_the_key(
    app_client: TestClient, flaky: FlakyWrites, sign_in: SignIn
) -> None:
    console = console_of(app_client)
    agent = await sign_in(app_client, "zhangsan", display_name="张三")
    await connect(agent)
    await say(app_client, "c1", "转人工")
    handoff_id = (await console.conv(CID)).handoff_id

    flaky.fail_next_write = True
    resp = await agent.post(CONV + "/claim")
    assert resp.status == 503, await resp.text()
    assert (await resp.json())["message"] == "接入失败，系统暂时繁忙，请稍后重试"
    assert await console.store.get(claim_key(handoff_id)) is None
    assert await console.state(CID) == "queued"
    row = await console.handoffs.get(int(handoff_id))
    assert row is not None and row.claimed_by is None and row.ended_at is None
    assert not [t for _, t in await said_to(app_client, CID) if "已为您接入" in t]

    # the citizen who cancels now is not told that an agent joined
    replies = await say(app_client, "c1", "取消")
    assert texts.CANCELLED in replies and texts.ALREADY_JOINED not in replies
    assert await console.state(CID) == "bot"


async def test_failed_claim_leaves_it_claimable(
    app_client: TestClient, flaky: FlakyWrites, sign_in: SignIn
) -> None:
    console = console_of(app_client)
    agent = await sign_in(app_client, "zhangsan", display_name="张三")
    await connect(agent)
    await say(app_client, "c1", "转人工")
    flaky.fail_next_write = True
    assert (await agent.post(CONV + "/claim")).status == 503
    resp = await agent.post(CONV + "/claim")
    assert resp.status == 200, await resp.text()
    assert await console.state(CID) == "with_agent"
    joined = [t for _, t in await said_to(app_client, CID) if "已为您接入" in t]
    assert joined == ["人工客服 张三 已为您接入，请问有什么可以帮您？"]


async def test_sweep_clears_a_stale_claim_key(app_client: TestClient, sign_in: SignIn) -> None:
    """A replica died after setting the claim key, before the SQL row."""
    console = console_of(app_client)
    await say(app_client, "c1", "转人工")
    handoff_id = (await console.conv(CID)).handoff_id
    key = claim_key(handoff_id)
    # set two minutes ago (its TTL ran down by as much)
    assert await console.store.acquire_lock(key, "7|王五", CLAIM_TTL - 120)
    fresh = claim_key("999999")  # a claim in progress right now is left alone
    assert await console.store.acquire_lock(fresh, "8|赵六", CLAIM_TTL)

    await runtime_of(app_client).sweeper.run_once()
    assert await console.store.get(key) is None
    assert await console.state(CID) == "queued"
    agent = await sign_in(app_client, "zhangsan", display_name="张三")
    await connect(agent)
    assert (await agent.post(CONV + "/claim")).status == 200


async def test_sweep_keeps_a_claim_in_progress(app_client: TestClient) -> None:
    console = console_of(app_client)
    await say(app_client, "c1", "转人工")
    key = claim_key((await console.conv(CID)).handoff_id)
    assert await console.store.acquire_lock(key, "7|王五", CLAIM_TTL)  # just now
    await runtime_of(app_client).sweeper.run_once()
    assert await console.store.get(key) == "7|王五"


async def test_failed_cancel_releases_the_key(
    app_client: TestClient, flaky: FlakyWrites, sign_in: SignIn
) -> None:
    """The citizen's cancel fails in SQL: still queued, an agent can still claim."""
    console = console_of(app_client)
    await say(app_client, "c1", "转人工")
    handoff_id = (await console.conv(CID)).handoff_id
    flaky.fail_next_write = True
    replies = await say(app_client, "c1", "取消")
    assert texts.CANCELLED not in replies
    assert await console.store.get(claim_key(handoff_id)) is None
    assert await console.state(CID) == "queued"
    agent = await sign_in(app_client, "zhangsan", display_name="张三")
    await connect(agent)
    assert (await agent.post(CONV + "/claim")).status == 200
