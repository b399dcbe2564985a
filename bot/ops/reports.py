"""Report documents written on schedule: daily, weekly and monthly.

At ``REPORT_HOUR`` (local time) the scheduler writes

- ``daily``: yesterday (on every day);
- ``weekly``: last Monday to Sunday (on Mondays);
- ``monthly``: the previous month (on the 1st),

each city-wide and once per department (its own figures only, like the
department's view of the figures: ``department_scope``), with
``bot.reports.compute_report`` and ``bot.reports.export.to_csv/to_xlsx``. The
document, its CSV and its Excel file are stored in SQL (``scheduled_reports``),
not in a local folder: the replica that wrote them need not be the one that
serves the download. A slot written again (a retry) replaces its documents.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.db.schema import scheduled_reports
from bot.reports import compute_report
from bot.reports.export import to_csv, to_xlsx

if TYPE_CHECKING:
    from bot.db import Database

PERIODS = ("daily", "weekly", "monthly")
FORMATS = ("json", "csv", "xlsx")
GROUP = {"daily": "day", "weekly": "day", "monthly": "week"}


@dataclass(frozen=True)
class Figures:
    compute: Callable[..., Awaitable[dict[str, Any]]]
    to_csv: Callable[[dict[str, Any]], str]
    to_xlsx: Callable[[dict[str, Any]], bytes]


def load_figures() -> Figures:
    """The figures module's entry points (bot.reports)."""
    return Figures(compute_report, to_csv, to_xlsx)


def window(period: str, slot_day: dt.date) -> tuple[dt.date, dt.date]:
    """The dates (inclusive) a report of ``period`` written on ``slot_day`` covers."""
    if period == "daily":
        day = slot_day - dt.timedelta(days=1)
        return day, day
    if period == "weekly":
        monday = slot_day - dt.timedelta(days=slot_day.weekday() + 7)
        return monday, monday + dt.timedelta(days=6)
    if period == "monthly":
        last = slot_day.replace(day=1) - dt.timedelta(days=1)
        return last.replace(day=1), last
    raise ValueError(f"unknown report period {period!r}")


@dataclass(frozen=True)
class ReportInfo:
    id: int
    period: str
    since: str
    until: str
    department: str | None
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "period": self.period,
            "since": self.since,
            "until": self.until,
            "department": self.department,
            "created_at": self.created_at.isoformat(),
            "formats": list(FORMATS),
        }


_INFO = (
    scheduled_reports.c.id,
    scheduled_reports.c.period,
    scheduled_reports.c.since,
    scheduled_reports.c.until,
    scheduled_reports.c.department,
    scheduled_reports.c.created_at,
)


class ReportStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def write(
        self, period: str, since: dt.date, until: dt.date, department: str | None,
        doc: dict[str, Any], csv_text: str, xlsx: bytes,
    ) -> int:  # fmt: skip
        """Store one report (replacing the same period, window and scope)."""
        same = sa.and_(
            scheduled_reports.c.period == period,
            scheduled_reports.c.since == since.isoformat(),
            scheduled_reports.c.until == until.isoformat(),
            scheduled_reports.c.department.is_(None)
            if department is None
            else scheduled_reports.c.department == department,
        )
        async with self.db.write() as conn:
            await conn.execute(scheduled_reports.delete().where(same))
            result = await conn.execute(
                scheduled_reports.insert().values(
                    period=period, since=since.isoformat(), until=until.isoformat(),
                    department=department, created_at=self.db.now(),
                    doc_json=json.dumps(doc, ensure_ascii=False), csv=csv_text,
                    xlsx_b64=base64.b64encode(xlsx).decode("ascii"),
                )
            )  # fmt: skip
        return int((result.inserted_primary_key or [0])[0])

    async def list(
        self, *, department: str | None = None, city_wide: bool = True, limit: int = 200
    ) -> list[ReportInfo]:
        """Newest first; ``department`` set: that department's only; else
        everything (``city_wide=False``: only the departments' versions)."""
        stmt = sa.select(*_INFO)
        if department is not None:
            stmt = stmt.where(scheduled_reports.c.department == department)
        elif not city_wide:
            stmt = stmt.where(scheduled_reports.c.department.is_not(None))
        stmt = stmt.order_by(scheduled_reports.c.since.desc(), scheduled_reports.c.id.desc()).limit(
            limit
        )
        async with self.db.read() as conn:
            return [ReportInfo(*row) for row in (await conn.execute(stmt)).all()]

    async def get(self, report_id: int) -> ReportInfo | None:
        stmt = sa.select(*_INFO).where(scheduled_reports.c.id == report_id)
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).first()
        return ReportInfo(*row) if row is not None else None

    async def content(self, report_id: int, fmt: str) -> bytes | None:
        column = {
            "json": scheduled_reports.c.doc_json,
            "csv": scheduled_reports.c.csv,
            "xlsx": scheduled_reports.c.xlsx_b64,
        }[fmt]
        stmt = sa.select(column).where(scheduled_reports.c.id == report_id)
        async with self.db.read() as conn:
            value = (await conn.execute(stmt)).scalar()
        if value is None:
            return None
        return base64.b64decode(value) if fmt == "xlsx" else str(value).encode("utf-8")


class ReportJob:
    """The scheduler's work for one period (see the module doc)."""

    def __init__(
        self,
        db: Database,
        period: str,
        figures: Callable[[], Figures] = load_figures,
    ) -> None:
        if period not in PERIODS:
            raise ValueError(f"unknown report period {period!r}")
        self.db = db
        self.period = period
        self.figures = figures
        self.store = ReportStore(db)

    async def __call__(self, slot_day: dt.date) -> dict[str, Any]:
        figures = self.figures()
        since, until = window(self.period, slot_day)
        scopes: list[str | None] = [None, *sorted(self.db.routing.departments)]
        ids = []
        for scope in scopes:
            doc = await figures.compute(
                self.db, since, until, group=GROUP[self.period], filters=None,
                department_scope=scope,
            )  # fmt: skip
            # The exports are CPU work (openpyxl: up to a second per scope): in a
            # thread, so the replica running the job keeps answering citizens.
            csv_text, xlsx = await asyncio.to_thread(_exports, figures, doc)
            ids.append(
                await self.store.write(self.period, since, until, scope, doc, csv_text, xlsx)
            )
        return {"since": since.isoformat(), "until": until.isoformat(), "reports": len(ids)}


def _exports(figures: Figures, doc: dict[str, Any]) -> tuple[str, bytes]:
    return figures.to_csv(doc), figures.to_xlsx(doc)
