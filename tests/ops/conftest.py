"""Fixtures for bot/ops: a migrated SQLite database with a settable clock, and
the front door on it (``front_door``) with the console's ``sign_in``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet

from bot.app import create_app
from bot.config import Settings
from bot.db import Database
from bot.db.crypto import Cipher
from bot.ops import OPS_KEY, Ops
from bot.store import MemoryStore
from tests.console.conftest import ALWAYS_OPEN, sessions, sign_in  # noqa: F401  (fixtures)
from tests.db.conftest import pg_factory  # noqa: F401  (fixture)
from tests.fakes.rasa import FakeRasa
from tests.fakes.shared import Shared
from tests.tickets.conftest import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def data_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
async def ops_db(tmp_path: Path, clock: Clock, data_key: str) -> AsyncIterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'hotline.db'}", cipher=Cipher([data_key]), clock=clock)
    await db.connect()
    yield db
    await db.close()


@pytest.fixture
async def front_door(
    ops_db: Database, make_settings: Callable[..., Settings], fake_rasa: FakeRasa
) -> AsyncIterator[TestClient]:
    """The whole front door on ``ops_db`` (its clock is the test's), the scheduler
    off (tests tick it themselves), the in-process store."""
    settings = make_settings(rasa_url=fake_rasa.url, console=ALWAYS_OPEN)
    app = create_app(settings, store=MemoryStore(), db=Shared(ops_db))  # type: ignore[arg-type]
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()


def ops_of(client: TestClient) -> Ops:
    return client.app[OPS_KEY]
