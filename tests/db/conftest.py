"""Fixtures for the data layer: every test runs against SQLite (a temp file)
and PostgreSQL (a database created for this test session, dropped after)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet

from bot.db import Database
from bot.db.crypto import Cipher
from bot.db.schema import ALL_TABLES

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql://postgres@127.0.0.1:5432/{name}"

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _admin(sql: str) -> None:
    conn = psycopg.connect(PG_ADMIN_DSN)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def pg_factory() -> Iterator[Callable[[], str]]:
    """Creates fresh PostgreSQL databases (``hotline_test_<random>``) on demand."""
    created: list[str] = []

    def make() -> str:
        name = f"hotline_test_{secrets.token_hex(6)}"
        try:
            _admin(f"CREATE DATABASE {name}")
        except psycopg.OperationalError as exc:
            pytest.skip(f"PostgreSQL not available: {exc}")
        created.append(name)
        return PG_URL.format(name=name)

    yield make
    for name in created:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg_session_url(pg_factory: Callable[[], str]) -> str:
    """One PostgreSQL database shared by the session; emptied before each test."""
    return pg_factory()


def _truncate(url: str) -> None:
    conn = psycopg.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('public.tickets') IS NOT NULL")
            if cur.fetchone()[0]:
                names = ", ".join(t.name for t in ALL_TABLES)
                cur.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        conn.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A migrated-or-empty database with no rows, for either backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'hotline.db'}"
    url = request.getfixturevalue("pg_session_url")
    _truncate(url)
    return url


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A brand-new empty database (no schema at all), for either backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return request.getfixturevalue("pg_factory")()


@pytest.fixture
def data_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def cipher(data_key: str) -> Cipher:
    return Cipher([data_key])


@pytest.fixture
async def db(db_url: str, cipher: Cipher) -> AsyncIterator[Database]:
    database = Database(db_url, cipher=cipher)
    await database.connect()
    yield database
    await database.close()


def ticket_args(key: str = "k-1", **overrides: object) -> dict[str, object]:
    """Arguments of a typical noise complaint; override any of them."""
    args: dict[str, object] = {
        "idempotency_key": key,
        "type": "complaint",
        "category": "noise",
        "description": "楼下商铺每晚十点后高音喇叭播放广告，严重扰民",
        "location": "东莞市南城街道鸿福路88号",
        "occurred_at": "每晚22点以后",
        "channel": "webchat",
        "conversation_id": "webchat:u-1",
        "contact_name": "王小明",
        "contact_phone": "13812345678",
    }
    args.update(overrides)
    return args
