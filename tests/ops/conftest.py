"""Fixtures for bot/ops: a migrated SQLite database with a settable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.db import Database
from bot.db.crypto import Cipher
from tests.db.conftest import pg_factory  # noqa: F401  (fixture)
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
