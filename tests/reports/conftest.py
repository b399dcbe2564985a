"""Fixtures of the figures' tests: a SQLite database per test, and (for the
hand-computed day) the same on a real PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.db import Database
from bot.db.crypto import Cipher
from tests.db.conftest import _truncate, pg_factory, pg_session_url

__all__ = ["pg_factory", "pg_session_url"]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(
        f"sqlite:///{tmp_path / 'figures.db'}", cipher=Cipher([Fernet.generate_key().decode()])
    )
    await database.connect()
    yield database
    await database.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """SQLite, then real PostgreSQL (a database of this test session, emptied first)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'figures.db'}"
    else:
        pg: Callable[[], str] = request.getfixturevalue("pg_session_url")
        url = str(pg)
        _truncate(url)
    database = Database(url, cipher=Cipher([Fernet.generate_key().decode()]))
    await database.connect()
    yield database
    await database.close()
