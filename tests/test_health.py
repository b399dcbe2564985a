"""bot/health.py: /livez while the process runs; /readyz (and /healthz) 200
when the store and the database answer, Rasa's and the action server's state
in the body ("degraded" when they are down, still 200); 503 when the store
or the database is down."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.app import create_app
from bot.config import Settings
from bot.store import MemoryStore, SharedStore
from bot.store.redis import RedisStore
from channels import registry
from tests.fakes.db import TempDatabase
from tests.fakes.rasa import FakeActionServer, FakeRasa
from tests.support.ports import dead_url

READY_PATHS = ["/readyz", "/healthz"]


@pytest.fixture
def health_client(
    fake_rasa: FakeRasa,
    fake_action_server: FakeActionServer,
    make_settings: Callable[..., Settings],
    aiohttp_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Any]:
    monkeypatch.setattr(registry, "OPTIONAL_CHANNELS", ())

    async def make(
        rasa_url: str | None = None,
        action_url: str | None = None,
        store: SharedStore | None = None,
        db: Any = None,
    ) -> Any:
        settings = make_settings(
            rasa_url=rasa_url or fake_rasa.url,
            action_server_url=action_url or fake_action_server.url,
        )
        app = create_app(settings, store=store or MemoryStore(), db=db or TempDatabase())  # type: ignore[arg-type]
        return await aiohttp_client(app)

    return make


@pytest.mark.parametrize("path", READY_PATHS)
async def test_ready_when_everything_answers(health_client: Callable[..., Any], path: str) -> None:
    client = await health_client()
    resp = await client.get(path)
    assert resp.status == 200
    assert await resp.json() == {
        "status": "ok", "rasa": "ok", "action_server": "ok", "store": "ok", "database": "ok",
    }  # fmt: skip


@pytest.mark.parametrize("path", READY_PATHS)
async def test_no_model_loaded_is_degraded_but_ready(
    health_client: Callable[..., Any], fake_rasa: FakeRasa, path: str
) -> None:
    fake_rasa.model_loaded = False
    resp = await (await health_client()).get(path)
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "degraded"
    assert body["rasa"] == "no model loaded" and body["action_server"] == "ok"


@pytest.mark.parametrize("path", READY_PATHS)
async def test_rasa_down_is_degraded_but_ready(
    health_client: Callable[..., Any], path: str
) -> None:
    """Citizens still get the polite busy reply and agents keep working: the
    load balancer must not take the replica out."""
    resp = await (await health_client(rasa_url=dead_url())).get(path)
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "degraded" and body["rasa"].startswith("unreachable")
    assert body["store"] == "ok" and body["database"] == "ok"


async def test_action_server_failing_or_down_is_degraded(
    health_client: Callable[..., Any], fake_action_server: FakeActionServer
) -> None:
    fake_action_server.healthy = False
    resp = await (await health_client()).get("/readyz")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "degraded" and body["action_server"] == "HTTP 500"
    resp = await (await health_client(action_url=dead_url())).get("/readyz")
    assert resp.status == 200
    body = await resp.json()
    assert body["action_server"].startswith("unreachable") and body["rasa"] == "ok"


@pytest.mark.parametrize("path", READY_PATHS)
async def test_store_down_is_503(
    health_client: Callable[..., Any], redis_prefix: str, path: str
) -> None:
    client = await health_client(store=RedisStore("redis://127.0.0.1:1/0", redis_prefix))
    resp = await client.get(path)
    assert resp.status == 503
    assert await resp.json() == {
        "status": "unavailable", "rasa": "ok", "action_server": "ok",
        "store": "unreachable", "database": "ok",
    }  # fmt: skip


async def test_database_not_answering_is_503(health_client: Callable[..., Any]) -> None:
    db = TempDatabase()
    client = await health_client(db=db)
    db.reachable = False
    resp = await client.get("/readyz")
    assert resp.status == 503
    body = await resp.json()
    assert body["status"] == "unavailable" and body["database"] == "unreachable"


PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


@pytest.fixture
def pg_database() -> Iterator[tuple[str, Callable[[], None]]]:
    """A fresh PostgreSQL database and a function that makes it refuse everyone."""
    psycopg = pytest.importorskip("psycopg")
    name = f"hotline_health_{uuid.uuid4().hex[:8]}"

    def admin(sql: str) -> None:
        conn = psycopg.connect(PG_ADMIN)
        conn.autocommit = True
        try:
            conn.cursor().execute(sql)
        finally:
            conn.close()

    try:
        admin(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not available: {exc}")

    def refuse() -> None:
        admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")

    yield f"postgresql://postgres@127.0.0.1:5432/{name}", refuse
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
async def test_real_postgresql_going_away_is_503(
    health_client: Callable[..., Any],
    pg_database: tuple[str, Callable[[], None]],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The readiness check asks the real database (SELECT 1), not a flag."""
    from cryptography.fernet import Fernet

    from bot.db import Database
    from bot.db.crypto import Cipher

    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path))
    url, refuse = pg_database
    db = Database(url, cipher=Cipher([Fernet.generate_key()]))
    client = await health_client(db=db)
    resp = await client.get("/readyz")
    assert resp.status == 200 and (await resp.json())["database"] == "ok"
    refuse()
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert (await resp.json())["database"] == "unreachable"


async def test_livez_is_ok_while_the_process_runs(
    health_client: Callable[..., Any], redis_prefix: str
) -> None:
    db = TempDatabase()
    client = await health_client(
        rasa_url=dead_url(), store=RedisStore("redis://127.0.0.1:1/0", redis_prefix), db=db
    )
    db.reachable = False
    resp = await client.get("/livez")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok"}
