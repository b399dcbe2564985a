"""``RunRepo``: the durable record of scheduled runs (table ``ops_runs``).

One row per (job, slot). A slot is claimed by inserting its row (``running``)
or, to try a failed slot again, by moving the row back to ``running`` with
a compare-and-set on its status and attempt count; only the caller whose
statement changed the row runs the job. So even two schedulers that both
believed they held the lock (a replica that lost it mid-run) run one slot
once; and a restart finds what already ran.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.db.schema import ops_runs

if TYPE_CHECKING:
    from bot.db import Database

MAX_DETAIL_TEXT = 2000


@dataclass(frozen=True)
class Run:
    id: int
    job: str
    slot: str
    status: str  # running | ok | failed
    attempts: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    detail: dict[str, Any]

    @property
    def runner(self) -> str | None:
        value = self.detail.get("runner")
        return str(value) if value is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "slot": self.slot,
            "status": self.status,
            "ok": self.status == "ok",
            "attempts": self.attempts,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "detail": {k: v for k, v in self.detail.items() if k != "runner"},
        }


def _run(row: Any) -> Run:
    return Run(
        id=row.id, job=row.job, slot=row.slot, status=row.status, attempts=row.attempts,
        started_at=row.started_at, finished_at=row.finished_at, detail=dict(row.detail or {}),
    )  # fmt: skip


class RunRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, job: str, slot: str) -> Run | None:
        stmt = sa.select(ops_runs).where(ops_runs.c.job == job, ops_runs.c.slot == slot)
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).first()
        return _run(row) if row is not None else None

    async def claim(
        self,
        job: str,
        slot: str,
        runner: str,
        *,
        max_attempts: int,
        retry_after: dt.timedelta,
    ) -> Run | None:
        """Take the slot for ``runner``, or None: it ran, runs, or failed too often.

        A row still ``running`` under another runner was left by a scheduler
        that stopped (only the lock holder calls this): taken over as a new attempt.
        """
        now = self.db.now()
        current = await self.get(job, slot)
        if current is None:
            try:
                async with self.db.write() as conn:
                    await conn.execute(
                        ops_runs.insert().values(
                            job=job, slot=slot, status="running", attempts=1, started_at=now,
                            finished_at=None, detail={"runner": runner},
                        )
                    )  # fmt: skip
            except IntegrityError:
                return None  # another scheduler inserted it first
            return await self.get(job, slot)
        if current.status == "ok" or current.attempts >= max_attempts:
            return None
        if current.status == "failed":
            if current.finished_at is not None and now - current.finished_at < retry_after:
                return None
        elif current.runner == runner:
            return None  # our own run in progress
        detail = {"runner": runner, "previous": _short(current.detail, current.status)}
        async with self.db.write() as conn:
            result = await conn.execute(
                ops_runs.update()
                .where(
                    ops_runs.c.id == current.id,
                    ops_runs.c.status == current.status,
                    ops_runs.c.attempts == current.attempts,
                )
                .values(
                    status="running", attempts=current.attempts + 1, started_at=now,
                    finished_at=None, detail=detail,
                )
            )  # fmt: skip
        if result.rowcount != 1:
            return None
        return await self.get(job, slot)

    async def finish(self, run: Run, ok: bool, detail: dict[str, Any]) -> Run:
        """Record the outcome of ``run`` (the runner and the previous attempt's
        failure stay in the detail)."""
        values = {**detail, "runner": run.runner}
        if "previous" in run.detail:  # why this is not the first attempt
            values.setdefault("previous", run.detail["previous"])
        if "error" in values:
            values["error"] = str(values["error"])[:MAX_DETAIL_TEXT]
        async with self.db.write() as conn:
            await conn.execute(
                ops_runs.update()
                .where(ops_runs.c.id == run.id)
                .values(status="ok" if ok else "failed", finished_at=self.db.now(), detail=values)
            )
        found = await self.get(run.job, run.slot)
        assert found is not None
        return found

    async def latest(self, job: str, *, status: str | None = None) -> Run | None:
        """The most recently started run of ``job`` (optionally with ``status``)."""
        stmt = sa.select(ops_runs).where(ops_runs.c.job == job)
        if status is not None:
            stmt = stmt.where(ops_runs.c.status == status)
        stmt = stmt.order_by(ops_runs.c.started_at.desc(), ops_runs.c.id.desc()).limit(1)
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).first()
        return _run(row) if row is not None else None

    async def first_started(self, job: str) -> dt.datetime | None:
        stmt = sa.select(sa.func.min(ops_runs.c.started_at)).where(ops_runs.c.job == job)
        async with self.db.read() as conn:
            value = (await conn.execute(stmt)).scalar()
        if value is None:
            return None
        if isinstance(value, str):  # SQLite's MIN() loses the column type
            value = dt.datetime.fromisoformat(value)
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

    async def list(self, job: str | None = None, limit: int = 50) -> list[Run]:
        stmt = sa.select(ops_runs)
        if job is not None:
            stmt = stmt.where(ops_runs.c.job == job)
        stmt = stmt.order_by(ops_runs.c.started_at.desc(), ops_runs.c.id.desc()).limit(limit)
        async with self.db.read() as conn:
            return [_run(row) for row in (await conn.execute(stmt)).all()]


def _short(detail: dict[str, Any], status: str) -> str:
    if status == "running":
        return "interrupted: the scheduler running it stopped"
    return str(detail.get("error", "failed"))[:200]
