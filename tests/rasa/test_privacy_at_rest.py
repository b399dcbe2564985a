"""A complaint conversation through the front door, the trained model, the real
action server and Rasa's Redis tracker store (hotline_rasa.tracker_store):
afterwards neither a dump of the database (SQLite and PostgreSQL: every table,
every column) nor a dump of Redis (every key under the tracker prefix, and
every key under the front door's own prefix: inbox entries, results,
conversation state) holds the citizen's phone or ID number in plaintext, and
the ticket's encrypted field still gives the full number back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
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
from bot.store.redis import RedisStore
from channels import registry
from tests.db.conftest import pg_factory  # noqa: F401  (fixture)
from tests.db.dump import assert_no_plaintext, dump_text
from tests.db.dump import redis_dump as front_door_dump

pytestmark = pytest.mark.rasa

ROOT = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379/0"
TOKEN = "privacy-dump-token-" + "x" * 20
ACTION_TOKEN = "privacy-dump-action-token-0123456789"
KEY = Fernet.generate_key().decode()
PHONE, PHONE_TYPED = "13812345678", "138 1234 5678"
ID_NUMBER = "11010519491231002X"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_action_server(database_url: str, var: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "SANIC_HOST": "127.0.0.1",
        "HOTLINE_VAR_DIR": str(var),
        "HOTLINE_DATA_KEYS": KEY,
        "DATABASE_URL": database_url,
        "ACTION_SERVER_TOKEN": ACTION_TOKEN,
        "PYTHONPATH": str(ROOT),
    }
    log = (var / "actions.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.action_server", "--actions", "actions", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)  # noqa: S310 - loopback
            return proc, url
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((var / "actions.log").read_text()) from None
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("action server did not start")


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
    """The Agent's action endpoint: a forwarder to the current backend's action server."""
    return _free_port()


@pytest.fixture(scope="module")
def masking_agent(model_path: Path, tracker_prefix: str, forward_port: int) -> Any:
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import EndpointConfig

    from hotline_rasa import install

    install()
    store = TrackerStore.create(
        EndpointConfig(
            url="127.0.0.1",
            type="hotline_rasa.tracker_store.MaskingRedisTrackerStore",
            port="6379",
            db="0",
            key_prefix=tracker_prefix,
        ),
        Domain.empty(),
    )
    endpoint = EndpointConfig(
        url=f"http://127.0.0.1:{forward_port}/webhook",
        headers={"Authorization": f"Bearer {ACTION_TOKEN}"},
    )
    return Agent.load(str(model_path), action_endpoint=endpoint, tracker_store=store)


class InProcessRasa:
    """The front door's Rasa client, answered by the loaded Agent in this process."""

    def __init__(self, agent: Any, snapshot: Callable[[], str] | None = None) -> None:
        self.agent = agent
        #: Called as each turn starts, while the message waits in the hub's inbox.
        self.snapshot = snapshot
        self.snapshots: list[str] = []

    async def send(
        self, sender: str, message: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        from rasa.core.channels.channel import UserMessage

        if self.snapshot is not None:
            self.snapshots.append(self.snapshot())
        replies = await self.agent.handle_message(
            UserMessage(message, sender_id=sender, metadata=metadata or {})
        )
        return list(replies or [])

    async def status(self, timeout: float | None = None) -> dict[str, Any]:
        return {"model_file": "in-process"}

    async def model_loaded(self, timeout: float | None = None) -> bool:
        return True

    async def close(self) -> None:
        return None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def backend_url(
    request: pytest.FixtureRequest, tmp_path: Path, forward_port: int
) -> AsyncIterator[str]:
    """A database, an action server on it, and the forwarder pointing there."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/hotline.db"
    else:
        url = request.getfixturevalue("pg_factory")()
    proc, target = _start_action_server(url, tmp_path)
    session = aiohttp.ClientSession()

    async def forward(req: web.Request) -> web.Response:
        headers = {"Authorization": req.headers.get("Authorization", "")}
        async with session.post(f"{target}/webhook", data=await req.read(), headers=headers) as r:
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
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def redis_dump(prefix: str) -> str:
    client = redis.Redis.from_url(REDIS, decode_responses=True)
    try:
        return "\n".join(
            f"{key}={client.get(key)}" for key in client.scan_iter(match=f"{prefix}:*")
        )
    finally:
        client.close()


async def test_no_plaintext_phone_or_id_number_at_rest(
    masking_agent: Any,
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
    rasa = InProcessRasa(masking_agent, lambda: front_door_dump(redis_url, redis_prefix)[1])
    app = create_app(settings, store=store, db=db, rasa=rasa)  # type: ignore[arg-type]
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
    assert any("inbox:" in dump for dump in rasa.snapshots)  # taken during the turns
    for during in rasa.snapshots:
        assert_no_plaintext(during)
    keys, front = front_door_dump(redis_url, redis_prefix)
    assert any(k.startswith("result:rest:") for k in keys), keys
    assert any(k.startswith("conv:rest:") for k in keys), keys  # the handoff's state
    assert_no_plaintext(front)
    [ticket] = [t for t in await db.tickets.list(limit=50) if t.conversation_id.endswith(sender)]
    assert ticket.contact_phone == PHONE  # the encrypted field keeps the full number
