"""Console fixtures: the whole front door (create_app) on a real SQLite database,
with the in-process store or real Redis, a fake Rasa, and signed-in clients.

``make_replica()`` builds one more app instance sharing the same store and
database: two of them stand for two replicas behind a load balancer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet

from bot.app import HUB_KEY, create_app
from bot.config import ConsoleSettings, Secret, ServiceHours, Settings
from bot.console.auth import CSRF_HEADER, USERS_KEY
from bot.console.context import CONSOLE_KEY, Console
from bot.console.runtime import RUNTIME_KEY, Runtime
from bot.db import Database
from bot.db.crypto import Cipher
from bot.hub import Hub
from bot.rasa_client import RasaClient
from bot.store import SharedStore
from channels.telegram import AUTH_HEADER, WEBHOOK_PATH
from tests.fakes.rasa import FakeRasa
from tests.fakes.shared import Shared
from tests.fakes.telegram_api import TOKEN as TG_TOKEN
from tests.fakes.telegram_api import FakeTelegramApi, text_update
from tests.fakes.wechat_api import AES_KEY, APP_ID, APP_SECRET, TOKEN, FakeWeChatApi
from tests.support.rest_auth import REST_AUTH
from tests.support.waiting import frames_until

PASSWORD = "correct-horse-42"
HANDOFF_REPLY = [
    {"text": "好的,正在为您转接人工客服,请稍候。"},
    {
        "custom": {
            "handoff": {
                "reason": "citizen_request",
                "priority": "normal",
                "summary": {
                    "intent": "request_human",
                    "slots": {"complaint_where": "南城街道鸿福路"},
                    "last_messages": ["楼下太吵了", "转人工"],
                },
            }
        }
    },
]
URGENT_REPLY = [
    {"text": "好的,正在为您转接人工客服,请稍候。"},
    {"custom": {"handoff": {"reason": "emergency", "priority": "urgent", "summary": {}}}},
]


#: The console of the tests answers round the clock (SERVICE_HOURS=00:00-24:00).
ALWAYS_OPEN = ConsoleSettings(service_hours=ServiceHours.parse("00:00-24:00"))
WEBCHAT_SECRET = Secret("console-test-secret-" + "x" * 32)


@pytest.fixture
def make_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    """The tests' settings (tests/conftest.py) with the console always open and a
    widget secret, unless a test says otherwise."""

    def make(**overrides: Any) -> Settings:
        overrides.setdefault("console", ALWAYS_OPEN)
        overrides.setdefault("webchat_secret", WEBCHAT_SECRET)
        return make_settings(**overrides)

    return make


@pytest.fixture
async def console_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(
        f"sqlite:///{tmp_path / 'hotline.db'}", cipher=Cipher([Fernet.generate_key().decode()])
    )
    await db.connect()
    yield db
    await db.close()


@pytest.fixture
def rasa_handoff(fake_rasa: FakeRasa) -> FakeRasa:
    fake_rasa.replies["转人工"] = HANDOFF_REPLY
    fake_rasa.replies["救命"] = URGENT_REPLY
    return fake_rasa


MakeReplica = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def make_replica(
    store: SharedStore,
    console_db: Database,
    rasa_handoff: FakeRasa,
    make_settings: Callable[..., Settings],
) -> AsyncIterator[MakeReplica]:
    clients: list[TestClient] = []

    async def make(**overrides: Any) -> TestClient:
        settings = make_settings(rasa_url=rasa_handoff.url, **overrides)
        rasa = RasaClient(rasa_handoff.url, settings.rasa_timeout)
        app = create_app(
            settings,
            store=Shared(store),
            db=Shared(console_db),
            rasa=rasa,  # type: ignore[arg-type]
        )
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        # The app sweeps once at start-up, then every 10 s. Tests that drive
        # the sweeper themselves must not race that first round (it holds the
        # sweep lock, or acts on a handoff the test just made; seen in CI once
        # the message path got faster).
        sweeper = runtime_of(client).sweeper
        for _ in range(500):
            if sweeper.rounds or sweeper.stopped:
                break
            await asyncio.sleep(0.01)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def client(make_replica: MakeReplica) -> TestClient:
    return await make_replica()


@dataclass
class Agent:
    """A signed-in console user with its own cookie jar and CSRF token."""

    session: aiohttp.ClientSession
    base: str
    username: str
    display_name: str
    csrf: str
    id: int

    def headers(self) -> dict[str, str]:
        return {CSRF_HEADER: self.csrf}

    async def post(self, path: str, body: dict[str, Any] | None = None) -> aiohttp.ClientResponse:
        return await self.session.post(self.base + path, json=body or {}, headers=self.headers())

    async def get(self, path: str) -> aiohttp.ClientResponse:
        return await self.session.get(self.base + path)

    async def json(self, path: str) -> Any:
        resp = await self.get(path)
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def create_user(client: TestClient, username: str, role: str = "agent", **kw: Any) -> None:
    await client.app[USERS_KEY].create(username=username, password=PASSWORD, role=role, **kw)


@pytest.fixture
async def sessions() -> AsyncIterator[list[aiohttp.ClientSession]]:
    opened: list[aiohttp.ClientSession] = []
    yield opened
    for session in opened:
        await session.close()


SignIn = Callable[..., Awaitable[Agent]]


@pytest.fixture
def sign_in(sessions: list[aiohttp.ClientSession]) -> SignIn:
    """``await sign_in(client, "zhangsan", role="agent", display_name="张三")``."""

    async def run(
        client: TestClient, username: str, role: str = "agent", display_name: str | None = None
    ) -> Agent:
        if await client.app[USERS_KEY].get_by_username(username) is None:
            department = "ecology_environment" if role == "department" else None
            await create_user(
                client, username, role, display_name=display_name, department=department
            )
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        base = str(client.make_url("")).rstrip("/")
        login = {"username": username, "password": PASSWORD}
        resp = await session.post(base + "/console/login", json=login)
        assert resp.status == 200, await resp.text()
        me = await (await session.get(base + "/console/api/me")).json()
        return Agent(session, base, username, me["display_name"], me["csrf_token"], me["id"])

    return run


def hub_of(client: TestClient) -> Hub:
    return client.app[HUB_KEY]


def local(minutes_ago: float = 0.0) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)


async def say(client: TestClient, sender: str, text: str) -> list[str]:
    """A citizen's message on the REST channel; the texts of the answer."""
    body = {"sender": sender, "message": text}
    resp = await client.post("/webhooks/rest/webhook", json=body, headers=REST_AUTH)
    assert resp.status == 200, await resp.text()
    return [r.get("text") or "" for r in await resp.json()]


async def said_to(client: TestClient, cid: str) -> list[tuple[str, str]]:
    """(sender, text) of every message the citizen got, from the transcript."""
    entries = await hub_of(client).history(cid, limit=500)
    return [(e.sender, e.text or "") for e in entries if e.direction == "out"]


async def connect(agent: Agent) -> aiohttp.ClientWebSocketResponse:
    """The agent's console socket (authenticated with ?csrf=), after hello and a snapshot."""
    ws = await agent.session.ws_connect(agent.base + "/console/ws", params={"csrf": agent.csrf})
    await frames_until(ws, lambda fs: any(f["type"] == "queue" for f in fs))
    return ws


async def forget_conversations(store: SharedStore) -> None:
    """What a Redis restart without persistence loses of conversation state:
    every ``conv:<id>`` hash and the handoff queue (the layout of
    bot/conversations.py, stable in ARCHITECTURE.md)."""
    keys = [key async for key in store.scan("conv:*")]
    await store.delete(*keys, "handoff:queue")


def console_of(client: TestClient) -> Console:
    return client.app[CONSOLE_KEY]


def runtime_of(client: TestClient) -> Runtime:
    return client.app[RUNTIME_KEY]


async def agent_present(client: TestClient, user_id: int = 9000) -> None:
    """An agent counted online (a heartbeat in presence; nobody signs in):
    place notices are only sent while someone is online to serve the queue
    (issue 21: no place in a queue nobody serves)."""
    from bot.console.users import User

    user = User(user_id, f"present{user_id}", "在线客服", "agent")
    await console_of(client).presence.beat(user)


# --- the front door with WeChat and Telegram, against their fake APIs ---------------------------

TG_SECRET = "console-test-webhook-secret"


@pytest.fixture
async def fake_wechat(aiohttp_server: Any) -> FakeWeChatApi:
    """WeChat's API (token, customer-service messages, templates) on 127.0.0.1."""
    api = FakeWeChatApi()
    api.server = await aiohttp_server(api.app)  # type: ignore[attr-defined]
    return api


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramApi]:
    """Telegram's Bot API on 127.0.0.1."""
    api = FakeTelegramApi()
    await api.start()
    yield api
    await api.close()


async def start_channels_app(
    make_settings: Callable[..., Settings],
    store: SharedStore,
    db: Database,
    rasa_url: str,
    fake_wechat: FakeWeChatApi,
    fake_telegram: FakeTelegramApi,
) -> TestClient:
    """A started front door whose WeChat and Telegram channels talk to the fakes
    (the caller closes it)."""
    wechat_url = str(fake_wechat.server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    settings = make_settings(
        rasa_url=rasa_url,
        wechat_token=Secret(TOKEN), wechat_app_id=APP_ID, wechat_app_secret=Secret(APP_SECRET),
        wechat_encoding_aes_key=Secret(AES_KEY), wechat_api_base_url=wechat_url,
        telegram_bot_token=Secret(TG_TOKEN), telegram_webhook_secret=Secret(TG_SECRET),
        telegram_api_base_url=fake_telegram.url,
    )  # fmt: skip
    rasa = RasaClient(rasa_url, settings.rasa_timeout)
    app = create_app(settings, store=Shared(store), db=Shared(db), rasa=rasa)  # type: ignore[arg-type]
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


async def telegram_asks_for_agent(
    client: TestClient, fake_telegram: FakeTelegramApi, chat_id: int
) -> None:
    """A Telegram citizen writes "转人工" (update 1); back when the bot's two
    replies (the handoff text, the queue place) have been sent."""
    resp = await client.post(
        WEBHOOK_PATH, data=json.dumps(text_update(1, chat_id, "转人工")),
        headers={AUTH_HEADER: TG_SECRET},
    )  # fmt: skip
    assert resp.status == 200
    await fake_telegram.wait_for("sendMessage", 2)


@pytest.fixture
async def full_app(
    store: SharedStore,
    console_db: Database,
    rasa_handoff: FakeRasa,
    fake_wechat: FakeWeChatApi,
    fake_telegram: FakeTelegramApi,
    make_settings: Callable[..., Settings],
) -> AsyncIterator[TestClient]:
    client = await start_channels_app(
        make_settings, store, console_db, rasa_handoff.url, fake_wechat, fake_telegram
    )
    yield client
    await client.close()
