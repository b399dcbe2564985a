"""Service level of the human handoff over a period (``python -m bot.console stats``).

Counted: handoff rows queued in ``[since, until)``, except rows that ended
``requeued`` (their continuation row is counted instead, so one agent's
dropped connection does not count a citizen twice).

- answer rate: claimed within 20 s of being queued, over all counted rows;
- median wait: queued -> claimed, over claimed rows;
- abandonment rate: outcome ``abandoned`` (cancelled or left) over all rows;
- average rating: over rated rows (1-5);
- median time to first agent message: claimed -> the agent's first message.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.console.records import Handoff, HandoffRepo

if TYPE_CHECKING:
    from bot.db.database import Database

ANSWER_TARGET = 20.0


@dataclass(frozen=True)
class HandoffStats:
    handoffs: int
    answered: int
    answered_in_target: int
    median_wait: float | None
    abandoned: int
    callbacks: int
    ratings: int
    average_rating: float | None
    median_first_message: float | None
    median_duration: float | None

    @property
    def answer_rate(self) -> float | None:
        return self.answered_in_target / self.handoffs if self.handoffs else None

    @property
    def abandonment_rate(self) -> float | None:
        return self.abandoned / self.handoffs if self.handoffs else None


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def compute(rows: list[Handoff], target: float = ANSWER_TARGET) -> HandoffStats:
    counted = [r for r in rows if r.outcome != "requeued"]
    waits = [_seconds(r.queued_at, r.claimed_at) for r in counted]
    ratings = [r.rating for r in counted if r.rating is not None]
    return HandoffStats(
        handoffs=len(counted),
        answered=sum(1 for w in waits if w is not None),
        answered_in_target=sum(1 for w in waits if w is not None and w <= target),
        median_wait=_median(waits),
        abandoned=sum(1 for r in counted if r.outcome == "abandoned"),
        callbacks=sum(1 for r in counted if r.outcome == "callback"),
        ratings=len(ratings),
        average_rating=sum(ratings) / len(ratings) if ratings else None,
        median_first_message=_median(
            [_seconds(r.claimed_at, r.first_agent_message_at) for r in counted]
        ),
        median_duration=_median([_seconds(r.claimed_at, r.ended_at) for r in counted]),
    )


async def handoff_stats(db: Database, since: dt.datetime, until: dt.datetime) -> HandoffStats:
    return compute(await HandoffRepo(db).between(since, until))


def _pct(value: float | None, part: int, whole: int) -> str:
    return "-" if value is None else f"{value * 100:.1f}% ({part}/{whole})"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} 秒"


def render(s: HandoffStats, since: dt.datetime, until: dt.datetime) -> str:
    rating = "-" if s.average_rating is None else f"{s.average_rating:.2f} ({s.ratings} 条评价)"
    lines = [
        f"人工服务统计 {since:%Y-%m-%d %H:%M} 至 {until:%Y-%m-%d %H:%M}（不含）",
        f"转人工次数           {s.handoffs}",
        f"20 秒内接入率        {_pct(s.answer_rate, s.answered_in_target, s.handoffs)}",
        f"已接入               {s.answered}",
        f"等待时长中位数       {_secs(s.median_wait)}",
        f"放弃率               {_pct(s.abandonment_rate, s.abandoned, s.handoffs)}",
        f"转回电登记           {s.callbacks}",
        f"平均满意度           {rating}",
        f"首次回复时长中位数   {_secs(s.median_first_message)}（接入后）",
        f"服务时长中位数       {_secs(s.median_duration)}",
    ]
    return "\n".join(lines) + "\n"
