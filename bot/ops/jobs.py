"""The scheduler's jobs, built from the settings (see bot/ops/scheduler.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any

from bot.ops import backups
from bot.ops.followup import Followups
from bot.ops.reports import ReportJob
from bot.ops.scheduler import Job, Slot, daily, every, monthly, weekly

if TYPE_CHECKING:
    from bot.config import OpsSettings
    from bot.db import Database

BACKUP = "backup"
RESTORE_CHECK = "restore_check"
FOLLOWUP_CLOSE = "followup_close"
REPORT_JOBS = {"daily": "report_daily", "weekly": "report_weekly", "monthly": "report_monthly"}


class BackupJob:
    def __init__(self, db: Database, settings: OpsSettings) -> None:
        self.db = db
        self.settings = settings

    async def __call__(self, slot: Slot) -> dict[str, Any]:
        s = self.settings
        manifest = await asyncio.to_thread(
            backups.take_backup, self.db.url, s.backup_dir, self.db.now()
        )
        deleted = await asyncio.to_thread(
            backups.rotate, s.backup_dir, s.backup_keep_daily, s.backup_keep_weekly
        )
        detail = {key: manifest[key] for key in ("file", "bytes", "sha256")}
        await self.db.audit.record(
            "scheduler", "backup", str(s.backup_dir / manifest["file"]),
            detail={"counts": manifest["counts"], "deleted": deleted},
        )  # fmt: skip
        return {**detail, "counts": manifest["counts"], "deleted": deleted}


class RestoreCheckJob:
    def __init__(self, db: Database, settings: OpsSettings) -> None:
        self.db = db
        self.settings = settings

    async def __call__(self, slot: Slot) -> dict[str, Any]:
        s = self.settings
        return await asyncio.to_thread(
            backups.restore_check, self.db.url, s.backup_dir, s.restore_check_database
        )


def build_jobs(db: Database, settings: OpsSettings, followups: Followups) -> list[Job]:
    s = settings

    def report(period: str) -> Any:
        job = ReportJob(db, period)

        async def run(slot: Slot) -> dict[str, Any]:
            return await job(dt.date.fromisoformat(slot.key))

        return run

    async def close_followups(slot: Slot) -> dict[str, Any]:
        return {"closed": await followups.auto_close()}

    return [
        Job(BACKUP, daily(s.backup_hour), BackupJob(db, s)),
        Job(
            RESTORE_CHECK,
            weekly(s.restore_check_weekday, s.restore_check_hour),
            RestoreCheckJob(db, s),
        ),  # fmt: skip
        Job(REPORT_JOBS["daily"], daily(s.report_hour), report("daily"), catch_up=7),
        Job(REPORT_JOBS["weekly"], weekly(1, s.report_hour), report("weekly"), catch_up=4),
        Job(REPORT_JOBS["monthly"], monthly(s.report_hour), report("monthly"), catch_up=3),
        Job(FOLLOWUP_CLOSE, every(s.followup_sweep_seconds), close_followups, max_attempts=1),
    ]
