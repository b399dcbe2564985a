"""Actions run against a real SQL database: a SQLite file per test, and
PostgreSQL over a real connection (a fresh database per test session)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from actions import _runtime
from bot.config import Secret, Settings
from bot.db import Database

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    import psycopg

    name = f"hotline_actions_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(PG_ADMIN)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Database]:
    url = (
        f"sqlite:///{tmp_path}/actions.db"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    database = Database.from_settings(dataclasses.replace(_runtime.settings(), database_url=url))
    await database.connect()
    _runtime.use_database(database)
    try:
        yield database
    finally:
        _runtime.use_database(None)
        await database.close()
        if request.param == "postgres":
            _truncate(url)


def _truncate(url: str) -> None:
    """Empty every table (not alembic's) so each test starts clean."""
    import psycopg

    conn = psycopg.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(
        "SELECT tablename FROM pg_tables"
        " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
    )
    tables = ", ".join(f'"{row[0]}"' for row in cur.fetchall())
    if tables:
        cur.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    conn.close()


@pytest.fixture(autouse=True)
def _data_keys() -> Iterator[None]:
    """The actions' settings with a fresh key ring per test (never the
    repository's var/data.key)."""
    from cryptography.fernet import Fernet

    _runtime.use_settings(Settings(data_keys=Secret(Fernet.generate_key().decode())))
    _runtime.use_database(None)
    yield
    _runtime.use_database(None)
    _runtime.use_settings(None)
