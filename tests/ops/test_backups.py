"""Scheduled backups: files and manifest, rotation, a failure recorded; the
restore check on SQLite and on PostgreSQL (a uniquely named scratch database),
and a corrupted backup failing the check with its reason."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import secrets
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from bot.config import OpsSettings
from bot.db import Database
from bot.db.crypto import Cipher
from bot.db.models import LOCAL_TZ
from bot.ops import backups
from bot.ops.followup import Followups
from bot.ops.jobs import BACKUP, RESTORE_CHECK, build_jobs
from bot.ops.runs import RunRepo
from bot.ops.scheduler import Scheduler
from bot.store import MemoryStore
from tests.db.conftest import PG_ADMIN_DSN, ticket_args
from tests.tickets.conftest import Clock


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LOCAL_TZ)  # type: ignore[misc]


def _touch(directory: Path, at: dt.datetime) -> Path:
    path = directory / f"hotline-{at:%Y%m%d-%H%M%S}.jsonl.gz"
    path.write_bytes(b"x")
    path.with_name(path.name + ".manifest.json").write_text("{}")
    return path


def test_rotation_keeps_daily_and_weekly(tmp_path: Path) -> None:
    # one backup a day at 03:00 from 2026-10-01 to 2026-12-05, two on 12-05
    day = dt.date(2026, 10, 1)
    while day <= dt.date(2026, 12, 5):
        _touch(tmp_path, local(day.year, day.month, day.day, 3, 0, 0))
        day += dt.timedelta(days=1)
    _touch(tmp_path, local(2026, 12, 5, 15, 0, 0))
    (tmp_path / "notes.txt").write_text("not ours")
    deleted = backups.rotate(tmp_path, keep_daily=3, keep_weekly=3)
    left = sorted(p.name for p in tmp_path.glob("hotline-*.jsonl.gz"))
    assert left == [
        # newest of ISO week 48 (Mon 11-23 .. Sun 11-29) and week 47
        "hotline-20261122-030000.jsonl.gz",
        "hotline-20261129-030000.jsonl.gz",
        # the last three days (12-05 by its newest backup), 12-05 is also week 49's newest
        "hotline-20261203-030000.jsonl.gz",
        "hotline-20261204-030000.jsonl.gz",
        "hotline-20261205-150000.jsonl.gz",
    ]
    assert len(deleted) == 67 - 5  # 66 days from 10-01 to 12-05, and 12-05's second
    manifests = sorted(p.name for p in tmp_path.glob("*.manifest.json"))
    assert manifests == [n + ".manifest.json" for n in left]
    assert (tmp_path / "notes.txt").exists()


async def _fill(db: Database) -> None:
    for i in range(3):
        await db.tickets.create(**ticket_args(f"k{i}"))
    await db.events.record("ticket.created", data={"n": 1})


def _settings(tmp_path: Path, **kw: object) -> OpsSettings:
    values: dict[str, object] = {
        "backup_dir": tmp_path / "backups",
        "restore_check_database": f"hotline_check_{secrets.token_hex(5)}",
    }
    return OpsSettings(**(values | kw))  # type: ignore[arg-type]


def _scheduler(
    db: Database, settings: OpsSettings, names: tuple[str, ...] = (BACKUP, RESTORE_CHECK)
) -> Scheduler:
    jobs = [
        j
        for j in build_jobs(db, settings, Followups(db, due_days=3, close_days=7))
        if j.name in names
    ]
    return Scheduler(MemoryStore(), RunRepo(db), jobs, lock_ttl=30)


async def test_backup_then_restore_check_on_sqlite(
    ops_db: Database, clock: Clock, tmp_path: Path
) -> None:
    await _fill(ops_db)
    clock.now = local(2026, 12, 6, 6, 0).astimezone(dt.UTC)  # a Sunday, after 05:00
    settings = _settings(tmp_path)
    s = _scheduler(ops_db, settings)
    done = {r.job: r for r in await s.tick()}
    await s._let_go()
    backup, check = done[BACKUP], done[RESTORE_CHECK]
    assert backup.status == "ok", backup.detail
    path = settings.backup_dir / backup.detail["file"]
    assert path.name == "hotline-20261206-060000.jsonl.gz"
    assert path.stat().st_mode & 0o777 == 0o600
    manifest = json.loads(path.with_name(path.name + ".manifest.json").read_text())
    assert manifest["bytes"] == path.stat().st_size == backup.detail["bytes"]
    assert manifest["counts"]["tickets"] == 3 and manifest["counts"]["events"] == 1
    assert check.status == "ok", check.detail
    assert check.detail["counts"]["tickets"] == 3 and check.detail["file"] == path.name
    # the scheduled backup is in the audit log like a manual one
    assert [(r["actor"], r["action"]) for r in await ops_db.audit.list()] == [
        ("scheduler", "backup")
    ]


@pytest.mark.postgres
async def test_restore_check_on_postgresql(
    pg_factory: Callable[[], str], data_key: str, clock: Clock, tmp_path: Path
) -> None:
    db = Database(pg_factory(), cipher=Cipher([data_key]), clock=clock)
    await db.connect()
    try:
        await _fill(db)
        settings = _settings(tmp_path)
        manifest = backups.take_backup(db.url, settings.backup_dir, db.now())
        result = backups.restore_check(
            db.url, settings.backup_dir, settings.restore_check_database
        )
        assert result["counts"] == manifest["counts"] and result["counts"]["tickets"] == 3
        # the scratch database is gone afterwards
        with psycopg.connect(PG_ADMIN_DSN) as conn:
            row = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s",
                (settings.restore_check_database,),
            ).fetchone()
        assert row is None
        with pytest.raises(backups.CheckFailed, match="own database"):
            backups.restore_check(db.url, settings.backup_dir, db.url.sync_url.database or "")
    finally:
        await db.close()


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


async def test_a_corrupted_backup_fails_the_check_and_says_why(
    ops_db: Database, clock: Clock, tmp_path: Path
) -> None:
    await _fill(ops_db)
    settings = _settings(tmp_path)
    manifest = backups.take_backup(ops_db.url, settings.backup_dir, clock.now)
    path = settings.backup_dir / manifest["file"]
    _corrupt(path)
    with pytest.raises(backups.CheckFailed, match="SHA-256 does not match"):
        backups.restore_check(ops_db.url, settings.backup_dir, "scratch")
    # a backup whose manifest matches but whose rows do not: the counts are compared
    clock.advance(seconds=1)
    manifest = backups.take_backup(ops_db.url, settings.backup_dir, clock.now)
    path = settings.backup_dir / manifest["file"]
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    kept = [ln for ln in lines if '"t":"events"' not in ln]
    trailer = json.loads(kept[-1])
    trailer["counts"]["events"] = 0
    kept[-1] = json.dumps(trailer)
    path.write_bytes(gzip.compress(("\n".join(kept) + "\n").encode()))
    manifest_path = path.with_name(path.name + ".manifest.json")
    stored = json.loads(manifest_path.read_text())
    stored["bytes"], stored["sha256"] = path.stat().st_size, backups._sha256(path)
    manifest_path.write_text(json.dumps(stored))
    with pytest.raises(backups.CheckFailed, match=r"row counts differ.*events 0/1"):
        backups.restore_check(ops_db.url, settings.backup_dir, "scratch")
    # the scheduled check records the failure with its reason
    clock.now = local(2026, 12, 6, 6, 0).astimezone(dt.UTC)
    s = _scheduler(ops_db, settings, (RESTORE_CHECK,))
    done = {r.job: r for r in await s.tick()}
    await s._let_go()
    assert done[RESTORE_CHECK].status == "failed"
    assert "row counts differ" in done[RESTORE_CHECK].detail["error"]


async def test_a_failed_backup_is_recorded(ops_db: Database, clock: Clock, tmp_path: Path) -> None:
    blocker = tmp_path / "backups"
    blocker.write_text("a file where the folder should be")
    clock.now = local(2026, 12, 5, 4, 0).astimezone(dt.UTC)
    s = _scheduler(ops_db, _settings(tmp_path))
    done = {r.job: r for r in await s.tick()}
    await s._let_go()
    assert done[BACKUP].status == "failed"
    assert "FileExistsError" in done[BACKUP].detail["error"]
    assert done[RESTORE_CHECK].status == "failed"
    assert "no backup" in done[RESTORE_CHECK].detail["error"]
    latest = await RunRepo(ops_db).latest(BACKUP)
    assert latest is not None and latest.status == "failed"
