"""Running the hotline on schedule: backups, the restore check, report files,
and the follow-up of answered tickets (回访).

``setup_ops(app, db, store, settings)`` mounts the console pages and APIs
(bot/ops/views.py) and runs the scheduler (bot/ops/scheduler.py) in the
background while the app runs (``OPS_SCHEDULER_SECONDS`` 0: not in this
process). Every replica runs one; the store lock lets one of them work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from bot.aio import cancel_and_wait
from bot.ops.followup import Followups
from bot.ops.jobs import build_jobs
from bot.ops.reports import ReportStore
from bot.ops.runs import RunRepo
from bot.ops.scheduler import Scheduler

if TYPE_CHECKING:
    from bot.config import OpsSettings, Settings
    from bot.db import Database
    from bot.store.base import SharedStore

__all__ = ["OPS_KEY", "Ops", "setup_ops"]


@dataclass
class Ops:
    db: Database
    settings: OpsSettings
    runs: RunRepo
    reports: ReportStore
    followups: Followups
    scheduler: Scheduler


OPS_KEY = web.AppKey("ops", Ops)


def build_ops(db: Database, store: SharedStore, settings: OpsSettings) -> Ops:
    runs = RunRepo(db)
    followups = Followups(
        db, due_days=settings.followup_days, close_days=settings.followup_close_days
    )
    scheduler = Scheduler(
        store, runs, build_jobs(db, settings, followups),
        lock_ttl=settings.lock_ttl, interval=settings.scheduler_seconds or 30.0,
    )  # fmt: skip
    return Ops(db, settings, runs, ReportStore(db), followups, scheduler)


def setup_ops(app: web.Application, db: Database, store: SharedStore, settings: Settings) -> Ops:
    """Mount the pages and APIs; run the scheduler while the app runs."""
    from bot.ops import views

    ops = build_ops(db, store, settings.ops)
    app[OPS_KEY] = ops
    views.add_routes(app)

    async def job(_app: web.Application) -> AsyncIterator[None]:
        task = None
        if settings.ops.scheduler_seconds > 0:
            task = asyncio.create_task(
                ops.scheduler.run_forever(settings.ops.start_delay), name="ops-scheduler"
            )
        yield
        if task is not None:
            await cancel_and_wait([task])

    app.cleanup_ctx.append(job)
    return ops
