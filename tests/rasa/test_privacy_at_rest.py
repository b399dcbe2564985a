"""A complaint conversation through the front door, the trained model (a Rasa
server from the Rasa environment), the real action server and Rasa's Redis
tracker store (hotline_rasa.tracker_store): afterwards neither a dump of the
database (SQLite and PostgreSQL: every table, every column) nor a dump of Redis
(every key under the tracker prefix, and every key under the front door's own
prefix: inbox entries, results, conversation state) holds the citizen's phone
or ID number in plaintext, and the ticket's encrypted field still gives the
full number back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis
from aiohttp import web
from cryptography.fernet import Fernet

from bot.app import create_app
from bot.config import Settings, parse_rest_tokens
from bot.db import Database
from bot.db.crypto import Cipher
from bot.rasa_client import RasaClient
from bot.store.redis import RedisStore
from channels import registry
from tests.db.conftest import pg_factory  # noqa: F401  (fixture)
from tests.db.dump import assert_no_plaintext, dump_text
from tests.db.dump import redis_dump as front_door_dump
from tests.rasa.conftest import RASA_TOKEN, run_action_server, run_rasa
from tests.support.ports import free_port

pytestmark = pytest.mark.rasa

REDIS = "redis://127.0.0.1:6379/0"
TOKEN = "privacy-dump-token-" + "x" * 20
ACTION_TOKEN = "privacy-dump-action-token-0123456789"
KEY = Fernet.generate_key().decode()
PHONE, PHONE_TYPED = "13812345678", "138 1234 5678"
ID_NUMBER = "11010519491231002X"
WEBHOOK = "/webhooks/rest/webhook"


@pytest.fixture(scope="module")
def tracker_prefix() -> Iterator[str]:
    prefix = "privacy" + uuid.uuid4().hex[:10]  # Rasa takes alphanumeric prefixes only
    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    yield prefix
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="module")
def forward_port() -> int:
    """Rasa's action endpoint: a forwarder to the current backend's action server."""
    return free_port()


@pytest.fixture(scope="module")
def masking_rasa(
    model_path: Path,
    tracker_prefix: str,
    forward_port: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, str]]:
    """A Rasa server whose trackers go to Redis through the masking tracker store
    (as endpoints.redis.yml), under this module's prefix."""
    var = tmp_path_factory.mktemp("masking-rasa")
    endpoints = var / "endpoints.yml"
    endpoints.write_text(
        "action_endpoint:\n"
        f'  url: "http://127.0.0.1:{forward_port}/webhook"\n'
        "  headers:\n"
        "    Authorization: Bearer ${ACTION_SERVER_TOKEN}\n"
        "tracker_store:\n"
        "  type: hotline_rasa.tracker_store.MaskingRedisTrackerStore\n"
        "  url: 127.0.0.1\n"
        "  port: 6379\n"
        "  db: 0\n"
        f"  key_prefix: {tracker_prefix}\n"
    )
    with run_rasa(model_path, endpoints, var, {"ACTION_SERVER_TOKEN": ACTION_TOKEN}) as server:
        yield server


class SnapshotProxy:
    """In front of Rasa, for the front door's Rasa client: takes a snapshot as
    each turn arrives (while the message waits in the hub's inbox), then
    passes the request on unchanged."""

    def __init__(self, target: str, snapshot: Callable[[], str]) -> None:
        self.target = target
        self.snapshot = snapshot
        self.snapshots: list[str] = []
        self.url = ""
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        if request.method == "POST" and request.path == WEBHOOK:
            self.snapshots.append(self.snapshot())
        headers = {
            name: request.headers[name]
            for name in ("Authorization", "Content-Type")
            if name in request.headers
        }
        async with self._session.request(
            request.method,
            self.target + request.path_qs,
            data=await request.read(),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=120),
        ) as resp:
            return web.Response(
                body=await resp.read(),
                status=resp.status,
                content_type=resp.content_type,
            )

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()


@pytest.fixture
async def rasa_proxy(
    masking_rasa: dict[str, str], redis_url: str, redis_prefix: str
) -> AsyncIterator[SnapshotProxy]:
    proxy = SnapshotProxy(masking_rasa["url"], lambda: front_door_dump(redis_url, redis_prefix)[1])
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def backend_url(
    request: pytest.FixtureRequest, tmp_path: Path, forward_port: int
) -> AsyncIterator[str]:
    """A database, an action server on it, and the forwarder pointing there."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/hotline.db"
    else:
        url = request.getfixturevalue("pg_factory")()
    env = {"HOTLINE_DATA_KEYS": KEY, "DATABASE_URL": url, "ACTION_SERVER_TOKEN": ACTION_TOKEN}
    with run_action_server(tmp_path, env) as target:
        session = aiohttp.ClientSession()

        async def forward(req: web.Request) -> web.Response:
            headers = {"Authorization": req.headers.get("Authorization", "")}
            async with session.post(
                f"{target}/webhook", data=await req.read(), headers=headers
            ) as r:
                return web.Response(
                    body=await r.read(), status=r.status, content_type="application/json"
                )

        app = web.Application()
        app.router.add_post("/webhook", forward)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", forward_port).start()
        try:
            yield url
        finally:
            await runner.cleanup()
            await session.close()


def redis_dump(prefix: str) -> str:
    client = redis.Redis.from_url(REDIS, decode_responses=True)
    try:
        return "\n".join(
            f"{key}={client.get(key)}" for key in client.scan_iter(match=f"{prefix}:*")
        )
    finally:
        client.close()


async def test_no_plaintext_phone_or_id_number_at_rest(
    rasa_proxy: SnapshotProxy,
    backend_url: str,
    tracker_prefix: str,
    make_settings: Callable[..., Settings],
    aiohttp_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    redis_prefix: str,
) -> None:
    monkeypatch.setattr(registry, "OPTIONAL_CHANNELS", ())
    settings = make_settings(rest_tokens=parse_rest_tokens(f"app:{TOKEN}"))
    db = Database(backend_url, cipher=Cipher([KEY]))
    store = RedisStore(redis_url, redis_prefix)  # the front door's own keys, dumped below
    # The front door's own Rasa client, to Rasa through the snapshot proxy.
    rasa = RasaClient(rasa_proxy.url, 120.0, auth_token=RASA_TOKEN)
    app = create_app(settings, store=store, db=db, rasa=rasa)
    client = await aiohttp_client(app)
    sender = f"c{uuid.uuid4().hex[:10]}"

    async def say(text: str) -> str:
        resp = await client.post(
            "/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert resp.status == 200, await resp.text()
        return "\n".join(m.get("text") or "" for m in await resp.json())

    assert "哪里" in await say("楼下KTV每天半夜唱歌太吵了我要投诉")
    assert "什么时候" in await say(f"在南城区鸿福路，我身份证号{ID_NUMBER}")
    assert "手机号码" in await say("每天晚上十一点以后")
    assert "称呼" in await say(f"我的电话{PHONE_TYPED}")
    summary = await say("王先生")
    assert "138****5678" in summary and PHONE not in summary
    done = await say("/affirm")
    assert "工单编号" in done
    await say("转人工")

    text = await dump_text(db)
    assert "鸿福路" in text and "138****5678" in text  # the conversation is there, masked
    assert_no_plaintext(text)
    stored = redis_dump(tracker_prefix)
    assert sender in stored, "Rasa stored no tracker under the prefix"
    assert_no_plaintext(stored)
    assert any("inbox:" in dump for dump in rasa_proxy.snapshots)  # taken during the turns
    for during in rasa_proxy.snapshots:
        assert_no_plaintext(during)
    keys, front = front_door_dump(redis_url, redis_prefix)
    assert any(k.startswith("result:rest:") for k in keys), keys
    assert any(k.startswith("conv:rest:") for k in keys), keys  # the handoff's state
    assert_no_plaintext(front)
    [ticket] = [t for t in await db.tickets.list(limit=50) if t.conversation_id.endswith(sender)]
    assert ticket.contact_phone == PHONE  # the encrypted field keeps the full number
