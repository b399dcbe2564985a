"""Database: URLs, settings, lifecycle, SQLite shared by two processes, no
personal data in log lines."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

import bot.config
from bot.config import Settings
from bot.db import Database
from bot.db.crypto import Cipher
from bot.db.engine import parse_url
from tests.db.conftest import ticket_args

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("url", "async_driver", "sync_driver"),
    [
        ("postgresql://u:p@db:5432/hotline", "postgresql+psycopg", "postgresql+psycopg"),
        ("postgres://u:p@db/hotline", "postgresql+psycopg", "postgresql+psycopg"),
        # older configurations named another driver: the same server, psycopg drives it
        ("postgresql+asyncpg://u@db/hotline", "postgresql+psycopg", "postgresql+psycopg"),
        ("postgresql+psycopg2://u@db/hotline", "postgresql+psycopg", "postgresql+psycopg"),
        ("sqlite:////var/lib/hotline.db", "sqlite+aiosqlite", "sqlite"),
        ("sqlite:///relative.db", "sqlite+aiosqlite", "sqlite"),
    ],
)
def test_accepted_urls(url: str, async_driver: str, sync_driver: str) -> None:
    parsed = parse_url(url)
    assert parsed.async_url.drivername == async_driver
    assert parsed.sync_url.drivername == sync_driver
    assert "p@" not in str(parsed)  # passwords are hidden when shown


def test_libpq_parameters_pass_as_they_are() -> None:
    parsed = parse_url("postgresql://u@db/h?sslmode=require&sslrootcert=/etc/ca.pem")
    assert parsed.async_url.query == {"sslmode": "require", "sslrootcert": "/etc/ca.pem"}
    assert parsed.sync_url.query == parsed.async_url.query


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://u@h/db", "nonsense"])
def test_refused_urls(url: str) -> None:
    with pytest.raises(ValueError):
        Database(url)


def test_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.config, "VAR_DIR", tmp_path / "var")
    db = Database.from_settings(Settings())
    assert db.is_sqlite and db.url.sqlite_path == tmp_path / "var" / "hotline.db"
    assert (tmp_path / "var").is_dir()
    pg = Database.from_settings(Settings(database_url="postgres://u@db/hotline"))
    assert not pg.is_sqlite


async def test_not_connected_is_a_clear_error(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'h.db'}")  # constructing opens nothing
    assert not (tmp_path / "h.db").exists()
    with pytest.raises(RuntimeError, match="connect"):
        await db.tickets.get("20260101-000001")


async def test_sqlite_uses_wal_and_a_busy_timeout(tmp_path: Path, cipher: Cipher) -> None:
    async with Database(f"sqlite:///{tmp_path / 'h.db'}", cipher=cipher) as db:
        async with db.read() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() >= 5000


_WRITER = """
import asyncio, sys
from bot.db import Database
from bot.db.crypto import Cipher
from tests.db.conftest import ticket_args

async def main(url, key):
    db = Database(url, cipher=Cipher([key]))
    await db.connect()
    print("ready", flush=True)
    for i in range(40):
        await db.tickets.create(**ticket_args(f"child-{i}"))
        await db.transcripts.append(conversation_id="c", channel="web", direction="out",
                                    sender="bot", message_id=None, text="x", data={})
    await db.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_two_processes_share_one_sqlite_file(tmp_path: Path) -> None:
    url, key = f"sqlite:///{tmp_path / 'shared.db'}", Fernet.generate_key().decode()
    db = Database(url, cipher=Cipher([key]))
    await db.connect()
    child = await asyncio.create_subprocess_exec(  # the "action server" writing meanwhile
        sys.executable, "-c", _WRITER, url, key, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        assert await asyncio.wait_for(child.stdout.readline(), 60) == b"ready\n"
        for i in range(40):
            await db.tickets.create(**ticket_args(f"parent-{i}"))
            await db.transcripts.append(
                conversation_id="c", channel="web", direction="in", sender="citizen",
                message_id=None, text="y", data={},
            )  # fmt: skip
        assert await asyncio.wait_for(child.wait(), 120) == 0
        numbers = [t.number for t in await db.tickets.list(limit=100)]
        assert len(numbers) == len(set(numbers)) == 80
        assert len(await db.transcripts.history("c", limit=500)) == 80
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        await db.close()


async def test_no_personal_data_in_log_lines(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    args = ticket_args(id_number="11010519491231002X")
    ticket, _ = await db.tickets.create(**args)
    await db.tickets.get_for_citizen(ticket.number, "0000")
    await db.tickets.reply(ticket.number, "已责令商铺整改", actor="dept:env")
    await db.transcripts.append(
        conversation_id="webchat:u-1", channel="webchat", direction="in", sender="citizen",
        message_id="m", text="我的电话是13812345678", data={},
    )  # fmt: skip
    with pytest.raises(ValueError) as bad:
        await db.tickets.create(**ticket_args("x", contact_phone="138-1234-56789-0000"))
    logged = caplog.text + str(bad.value)
    assert "ticket" in caplog.text
    for secret in (
        "13812345678",
        "王小明",
        "11010519491231002X",
        str(args["description"]),
        "已责令",
    ):
        assert secret not in logged
