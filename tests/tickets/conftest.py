"""Ticket-loop fixtures: the whole front door (create_app) on a real database.

- ``ticket_db``: a migrated database, SQLite (temp file) by default;
  ``pg_ticket_db`` the same on the local PostgreSQL (marked ``postgres``).
- ``front_door``: create_app with the web widget, WeChat (fake API, AES mode)
  and Telegram (fake Bot API) channels, a fake Rasa, the in-process store,
  the API tokens below and the background sweep off.
- ``make_ticket``: a ticket created the way the Rasa action creates one.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet

from bot.app import create_app
from bot.config import Secret, Settings, TicketSettings
from bot.db import Database, Ticket
from bot.db.crypto import Cipher
from bot.rasa_client import RasaClient
from bot.store import MemoryStore, SharedStore
from tests.db.conftest import _truncate, pg_factory, pg_session_url  # noqa: F401  (fixtures)
from tests.fakes.rasa import FakeRasa
from tests.fakes.shared import Shared
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.wechat_api import AES_KEY, APP_ID, APP_SECRET, TOKEN, FakeWeChatApi

CASE_TOKEN = "case-system-token-0123456789"
DEPT_TOKEN = "env-bureau-token-0123456789"
OTHER_DEPT_TOKEN = "housing-token-0123456789abc"
TOKENS = (
    f"case-system:{CASE_TOKEN},dept:ecology_environment:{DEPT_TOKEN},"
    f"dept:housing_construction:{OTHER_DEPT_TOKEN}"
)
TELEGRAM_SECRET = "telegram-webhook-secret-for-tickets"
TELEGRAM_TOKEN = "123456:TEST-token-for-the-fake-api"


def auth(token: str = CASE_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Clock:
    """A settable clock for the database (``db.now()``)."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def running_apps() -> list[TestClient]:
    """Front doors started by ``make_front_door``; database fixtures stop them first."""
    return []


async def stop_apps(apps: list[TestClient]) -> None:
    """Close the front doors before their database: no query may start after it closed."""
    while apps:
        await apps.pop().close()


@pytest.fixture
async def ticket_db(
    tmp_path: Path, clock: Clock, running_apps: list[TestClient]
) -> AsyncIterator[Database]:
    cipher = Cipher([Fernet.generate_key().decode()])
    db = Database(f"sqlite:///{tmp_path / 'hotline.db'}", cipher=cipher, clock=clock)
    await db.connect()
    yield db
    await stop_apps(running_apps)
    await db.close()


@pytest.fixture
async def pg_ticket_db(
    pg_session_url: str,  # noqa: F811
    clock: Clock,
    running_apps: list[TestClient],
) -> AsyncIterator[Database]:
    _truncate(pg_session_url)
    db = Database(pg_session_url, cipher=Cipher([Fernet.generate_key().decode()]), clock=clock)
    await db.connect()
    yield db
    await stop_apps(running_apps)
    await db.close()


@pytest.fixture
async def wechat_api() -> AsyncIterator[FakeWeChatApi]:
    fake = FakeWeChatApi()
    server = TestServer(fake.app, host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    yield fake
    await server.close()


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegramApi]:
    fake = FakeTelegramApi(TELEGRAM_TOKEN)
    await fake.start()
    yield fake
    await fake.close()


MakeFrontDoor = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def make_front_door(
    fake_rasa: FakeRasa,
    wechat_api: FakeWeChatApi,
    telegram_api: FakeTelegramApi,
    make_settings: Callable[..., Settings],
    running_apps: list[TestClient],
) -> AsyncIterator[MakeFrontDoor]:
    """``await make_front_door(db, store=None, sweep_seconds=0, **settings)`` -> a started
    TestClient (the API tokens above; the deadline sweep off unless ``sweep_seconds``;
    other keyword arguments override the settings)."""
    clients = running_apps

    async def make(
        db: Database,
        store: SharedStore | None = None,
        sweep_seconds: float = 0.0,
        **overrides: Any,
    ) -> TestClient:
        settings = make_settings(
            rasa_url=fake_rasa.url,
            wechat_token=Secret(TOKEN),
            wechat_app_id=APP_ID,
            wechat_app_secret=Secret(APP_SECRET),
            wechat_encoding_aes_key=Secret(AES_KEY),
            wechat_api_base_url=wechat_api.url,  # type: ignore[attr-defined]
            telegram_bot_token=Secret(TELEGRAM_TOKEN),
            telegram_webhook_secret=Secret(TELEGRAM_SECRET),
            telegram_api_base_url=telegram_api.url,
            tickets=TicketSettings(sweep_seconds=sweep_seconds, api_tokens=Secret(TOKENS)),
            webchat_secret=Secret("tickets-test-secret-" + "x" * 32),
            **overrides,
        )
        rasa = RasaClient(fake_rasa.url, settings.rasa_timeout)
        app = create_app(
            settings,
            store=Shared(store or MemoryStore()),
            db=Shared(db),
            rasa=rasa,  # type: ignore[arg-type]
        )
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    await stop_apps(clients)


@pytest.fixture
async def front_door(make_front_door: MakeFrontDoor, ticket_db: Database) -> TestClient:
    return await make_front_door(ticket_db)


_keys = itertools.count(1)
MakeTicket = Callable[..., Awaitable[Ticket]]


async def create_ticket(db: Database, conversation_id: str = "webchat:s-1", **kw: Any) -> Ticket:
    """A ticket as ``action_create_ticket`` makes it (``category="other"``: triage)."""
    args: dict[str, Any] = {
        "idempotency_key": f"{conversation_id}:sub-{next(_keys)}",
        "type": "complaint",
        "category": "noise",
        "description": "楼下商铺每晚十点后高音喇叭播放广告，严重扰民",
        "location": "东莞市南城街道鸿福路88号",
        "occurred_at": "每晚22点以后",
        "channel": conversation_id.split(":", 1)[0],
        "conversation_id": conversation_id,
        "contact_name": "王小明",
        "contact_phone": "13812345678",
        "id_number": "11010519491231002X",
    }
    args.update(kw)
    ticket, created = await db.tickets.create(**args)
    assert created
    return ticket


@pytest.fixture
def make_ticket(ticket_db: Database) -> MakeTicket:
    async def make(conversation_id: str = "webchat:s-1", **kw: Any) -> Ticket:
        return await create_ticket(ticket_db, conversation_id, **kw)

    return make


@dataclass
class Api:
    """The case system's side: JSON calls with a bearer token."""

    client: TestClient
    token: str = CASE_TOKEN

    async def call(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        headers = {**auth(self.token), **kw.pop("headers", {})}
        resp = await self.client.request(method, path, json=body, headers=headers, **kw)
        return resp.status, await resp.json()

    async def post(self, number: str, action: str, body: Any = None) -> tuple[int, Any]:
        return await self.call("POST", f"/api/v1/tickets/{number}/{action}", body)

    async def get(self, number: str) -> tuple[int, Any]:
        return await self.call("GET", f"/api/v1/tickets/{number}")


def snapshot(ticket: Ticket | None) -> Any:
    """Everything that a refused request must leave unchanged."""
    assert ticket is not None
    return ticket.to_full_dict()
