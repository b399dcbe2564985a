"""The SQLite file (with its -wal/-shm) and backups are private (0600) from
the moment they exist, whatever the process umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.db import Database
from bot.db.backup import backup
from bot.db.crypto import Cipher
from bot.db.engine import parse_url


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask 022, which left files world-readable (0644)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


async def test_sqlite_file_and_its_wal_and_shm_are_0600(
    tmp_path: Path, cipher: Cipher, open_umask: None
) -> None:
    path = tmp_path / "var" / "hotline.db"
    db = Database(f"sqlite:///{path}", cipher=cipher)
    await db.connect()
    try:
        await db.transcripts.append(
            conversation_id="webchat:u", channel="webchat", direction="in", sender="citizen",
            message_id="m", text="你好", data={},
        )  # fmt: skip
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        assert all(p.exists() for p in files)
        assert {p.name: oct(mode(p)) for p in files} == {p.name: "0o600" for p in files}
    finally:
        await db.close()


async def test_backup_is_0600(tmp_path: Path, cipher: Cipher, open_umask: None) -> None:
    path = tmp_path / "hotline.db"
    db = Database(f"sqlite:///{path}", cipher=cipher)
    await db.connect()
    await db.close()
    stale = tmp_path / "b.jsonl.gz.partial"  # a crashed run's leftover, world-readable
    stale.write_text("x")
    os.chmod(stale, 0o644)
    backup(parse_url(f"sqlite:///{path}"), tmp_path / "b.jsonl.gz")
    assert oct(mode(tmp_path / "b.jsonl.gz")) == "0o600"
