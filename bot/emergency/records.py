"""SQL history of the emergency mode: its periods and its broadcast sends."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.db.engine import inserted_key
from bot.db.schema import emergency_periods, emergency_sends

if TYPE_CHECKING:
    from bot.db.database import Database


@dataclass(frozen=True)
class Period:
    id: int
    started_at: dt.datetime
    ended_at: dt.datetime | None
    notice: str
    faq: tuple[str, ...]
    keywords: tuple[str, ...]
    drill: bool
    started_by: str
    ended_by: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": self.started_at.astimezone(dt.UTC).isoformat(),
            "ended_at": self.ended_at.astimezone(dt.UTC).isoformat() if self.ended_at else None,
            "notice": self.notice,
            "faq": list(self.faq),
            "keywords": list(self.keywords),
            "drill": self.drill,
            "started_by": self.started_by,
            "ended_by": self.ended_by,
        }


def _period(row: Any) -> Period:
    return Period(
        id=int(row.id),
        started_at=row.started_at,
        ended_at=row.ended_at,
        notice=row.notice,
        faq=tuple(row.faq or ()),
        keywords=tuple(row.keywords or ()),
        drill=bool(row.drill),
        started_by=row.started_by,
        ended_by=row.ended_by,
    )


class PeriodRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def open(
        self,
        *,
        started_at: dt.datetime,
        notice: str,
        faq: tuple[str, ...],
        keywords: tuple[str, ...],
        drill: bool,
        actor: str,
    ) -> int:
        values = {
            "started_at": started_at, "ended_at": None, "notice": notice, "faq": list(faq),
            "keywords": list(keywords), "drill": drill, "started_by": actor[:60],
        }  # fmt: skip
        async with self._db.write() as conn:
            result = await conn.execute(emergency_periods.insert().values(**values))
            return inserted_key(result)

    async def close(self, period_id: int, at: dt.datetime, actor: str) -> bool:
        stmt = (
            emergency_periods.update()
            .where(emergency_periods.c.id == period_id, emergency_periods.c.ended_at.is_(None))
            .values(ended_at=at, ended_by=actor[:60])
        )
        async with self._db.write() as conn:
            return bool((await conn.execute(stmt)).rowcount)

    async def close_open(self, at: dt.datetime, actor: str) -> list[int]:
        """End every period still open (ids); a stale one left by a lost switch."""
        async with self._db.write() as conn:
            rows = await conn.execute(
                sa.select(emergency_periods.c.id).where(emergency_periods.c.ended_at.is_(None))
            )
            ids = [int(r.id) for r in rows]
            if ids:
                await conn.execute(
                    emergency_periods.update()
                    .where(emergency_periods.c.id.in_(ids))
                    .values(ended_at=at, ended_by=actor)
                )
        return ids

    async def get(self, period_id: int) -> Period | None:
        stmt = sa.select(emergency_periods).where(emergency_periods.c.id == period_id)
        async with self._db.read() as conn:
            row = (await conn.execute(stmt)).first()
        return _period(row) if row is not None else None

    async def latest(self, limit: int = 20) -> list[Period]:
        stmt = sa.select(emergency_periods).order_by(emergency_periods.c.id.desc()).limit(limit)
        async with self._db.read() as conn:
            return [_period(r) for r in (await conn.execute(stmt)).all()]

    async def add_send(
        self, period_id: int, conversation_id: str, channel: str, ok: bool, reason: str
    ) -> None:
        row = {
            "period_id": period_id, "conversation_id": conversation_id[:200],
            "channel": channel[:40], "ok": ok,
            "reason": (reason or ("sent" if ok else "error"))[:40],
            "at": self._db.now(),
        }  # fmt: skip
        async with self._db.write() as conn:
            await conn.execute(emergency_sends.insert().values(**row))

    async def sends(self, period_id: int) -> list[dict[str, Any]]:
        stmt = (
            sa.select(emergency_sends)
            .where(emergency_sends.c.period_id == period_id)
            .order_by(emergency_sends.c.id)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            {
                "conversation_id": r.conversation_id,
                "channel": r.channel,
                "ok": bool(r.ok),
                "reason": r.reason,
                "at": r.at.astimezone(dt.UTC).isoformat(),
            }  # fmt: skip
            for r in rows
        ]
