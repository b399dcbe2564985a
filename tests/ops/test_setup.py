"""The ops settings from the environment, and the scheduler started with the app."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.config import OpsSettings, Settings
from bot.db import Database
from bot.ops import OPS_KEY
from bot.ops.jobs import BACKUP
from bot.store import MemoryStore
from tests.console.conftest import ALWAYS_OPEN
from tests.fakes.rasa import FakeRasa
from tests.fakes.shared import Shared


def test_settings_defaults_and_errors(tmp_path: Path) -> None:
    ops = Settings.from_env({}).ops
    assert (ops.backup_hour, ops.backup_keep_daily, ops.backup_keep_weekly) == (3, 7, 4)
    assert (ops.followup_days, ops.followup_close_days) == (3.0, 7.0)
    assert ops.restore_check_database == "hotline_restore_check" and ops.scheduler_seconds == 30
    env = {
        "BACKUP_DIR": str(tmp_path / "b"), "BACKUP_HOUR": "23", "BACKUP_KEEP_DAILY": "10",
        "BACKUP_KEEP_WEEKLY": "8", "FOLLOWUP_DAYS": "2", "FOLLOWUP_CLOSE_DAYS": "5",
        "RESTORE_CHECK_WEEKDAY": "3", "OPS_SCHEDULER_SECONDS": "0",
    }  # fmt: skip
    ops = Settings.from_env(env).ops
    assert ops.backup_dir == tmp_path / "b" and ops.backup_hour == 23
    assert (ops.backup_keep_daily, ops.backup_keep_weekly) == (10, 8)
    assert (ops.followup_days, ops.followup_close_days, ops.restore_check_weekday) == (2, 5, 3)
    assert ops.scheduler_seconds == 0
    for name, value, message in [
        ("BACKUP_HOUR", "24", "BACKUP_HOUR must be an hour"),
        ("REPORT_HOUR", "1am", "REPORT_HOUR must be an hour"),
        ("BACKUP_KEEP_DAILY", "0", "BACKUP_KEEP_DAILY must be a whole number"),
        ("FOLLOWUP_DAYS", "-1", "FOLLOWUP_DAYS must be more than zero"),
        ("RESTORE_CHECK_WEEKDAY", "8", "RESTORE_CHECK_WEEKDAY must be 1"),
        ("RESTORE_CHECK_DATABASE", 'x"; DROP', "RESTORE_CHECK_DATABASE must be a plain"),
    ]:
        with pytest.raises(ValueError, match=message):
            Settings.from_env({name: value})


async def test_the_app_runs_the_scheduler(
    ops_db: Database, make_settings: Callable[..., Settings], fake_rasa: FakeRasa, tmp_path: Path
) -> None:
    ops = OpsSettings(
        scheduler_seconds=0.2, start_delay=0.0, lock_ttl=5.0, backup_dir=tmp_path / "backups"
    )
    settings = make_settings(rasa_url=fake_rasa.url, console=ALWAYS_OPEN, ops=ops)
    app = create_app(settings, store=MemoryStore(), db=Shared(ops_db))  # type: ignore[arg-type]
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        runs = app[OPS_KEY].runs
        for _ in range(300):
            backup = await runs.latest(BACKUP)
            if backup is not None and backup.status != "running":
                break
            await asyncio.sleep(0.05)
        assert backup is not None and backup.status == "ok", backup
        assert (tmp_path / "backups" / backup.detail["file"]).is_file()
        assert app[OPS_KEY].scheduler.leading
    finally:
        await client.close()
    assert not app[OPS_KEY].scheduler.leading  # stopping the app released the lock
