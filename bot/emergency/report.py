"""The incident report of one emergency period, from the product's own records.

``python -m bot.console emergency report [--id N] [--format text|json]`` and
``GET /console/api/emergency/report?id=N`` (the console page shows it).
The period is ``[started_at, ended_at)`` of the ``emergency_periods`` row
(a period still on ends now). Counted in it:

- ``messages``: citizens' messages (transcripts, ``in``/``citizen``), by channel,
  and the replies they got (``out``, every sender);
- ``conversations``: distinct conversations with a citizen's message;
- ``topics``: what was answered: FAQ answers (the assistant's ``faq_answered``
  and the emergency's own ``emergency.faq_answered``), service guidance
  (``guide_answered``) and tickets (``ticket_created`` by category), top 10;
  ``fallbacks``: messages not understood;
- ``handoffs``: handoff rows queued in the period, those about the incident
  (reason ``incident``), taken by an agent, abandoned, still waiting, and the
  waits of the taken ones (queued -> claimed: median, 90th percentile, longest);
- ``broadcast``: the notices sent and why the others were not;
- ``drill``: whether it was a drill (its events carry ``{"drill": true}``).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.db.schema import events, handoffs, transcripts
from bot.emergency.records import Period, PeriodRepo
from bot.knowledge import load_faq, load_services

if TYPE_CHECKING:
    from bot.db.database import Database

TOP = 10


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]  # nearest rank


def _seconds(start: dt.datetime, end: dt.datetime | None) -> float | None:
    return None if end is None else max(0.0, (end - start).total_seconds())


async def incident_report(
    db: Database, period_id: int | None = None, *, now: dt.datetime | None = None
) -> dict[str, Any] | None:
    """The report of period ``period_id`` (default: the latest); None when there is none."""
    periods = PeriodRepo(db)
    if period_id is None:
        latest = await periods.latest(1)
        period = latest[0] if latest else None
    else:
        period = await periods.get(period_id)
    if period is None:
        return None
    end = period.ended_at or now or dt.datetime.now(dt.UTC)
    report: dict[str, Any] = {"period": period.to_dict()}
    report["period"]["ongoing"] = period.ended_at is None
    report["period"]["seconds"] = int(_seconds(period.started_at, end) or 0)
    async with db.read() as conn:
        report["messages"], report["conversations"] = await _messages(conn, period, end)
        report["topics"], report["fallbacks"], report["events"] = await _topics(conn, period, end)
        report["handoffs"] = await _handoffs(conn, period, end)
    sends = await periods.sends(period.id)
    outcomes = Counter("sent" if s["ok"] else s["reason"] for s in sends)
    report["broadcast"] = {"recipients": len(sends), "outcomes": dict(outcomes)}
    report["drill"] = period.drill
    return report


def _between(column: Any, period: Period, end: dt.datetime) -> Any:
    return sa.and_(column >= period.started_at, column < end)


async def _messages(conn: Any, period: Period, end: dt.datetime) -> tuple[dict[str, Any], int]:
    inbound = sa.and_(transcripts.c.direction == "in", transcripts.c.sender == "citizen")
    by_channel = (
        sa.select(transcripts.c.channel, sa.func.count())
        .where(inbound, _between(transcripts.c.created_at, period, end))
        .group_by(transcripts.c.channel)
    )
    channels = {str(c): int(n) for c, n in (await conn.execute(by_channel)).all()}
    replies = (
        sa.select(sa.func.count())
        .select_from(transcripts)
        .where(transcripts.c.direction == "out", _between(transcripts.c.created_at, period, end))
    )
    conversations = sa.select(sa.func.count(sa.distinct(transcripts.c.conversation_id))).where(
        inbound, _between(transcripts.c.created_at, period, end)
    )
    messages = {
        "from_citizens": sum(channels.values()),
        "by_channel": dict(sorted(channels.items())),
        "replies": int((await conn.execute(replies)).scalar_one()),
    }
    return messages, int((await conn.execute(conversations)).scalar_one())


async def _topics(
    conn: Any, period: Period, end: dt.datetime
) -> tuple[list[dict[str, Any]], int, dict[str, int]]:
    stmt = sa.select(events.c.kind, events.c.data).where(_between(events.c.at, period, end))
    counts: Counter[tuple[str, str]] = Counter()
    kinds: Counter[str] = Counter()
    drill_events = 0
    for kind, data in (await conn.execute(stmt)).all():
        data = data if isinstance(data, dict) else {}
        kinds[kind] += 1
        drill_events += bool(data.get("drill"))
        if kind in ("faq_answered", "emergency.faq_answered", "emergency.faq_first"):
            if data.get("faq"):
                counts[("faq", str(data["faq"]))] += 1
        elif kind == "guide_answered" and data.get("service"):
            counts[("guide", str(data["service"]))] += 1
        elif kind == "ticket_created":
            counts[("ticket", str(data.get("category") or "其他"))] += 1
    faq = load_faq()
    services = {s.id: s.name for s in load_services()}
    topics = []
    for (what, key), count in counts.most_common(TOP):
        if what == "faq":
            label = faq[key].question if key in faq else key
        elif what == "guide":
            label = services.get(key, key)
        else:
            label = f"工单：{key}"
        topics.append({"kind": what, "key": key, "label": label, "count": count})
    summary = {"total": sum(kinds.values()), "drill": drill_events}
    return topics, kinds["fallback"], summary


async def _handoffs(conn: Any, period: Period, end: dt.datetime) -> dict[str, Any]:
    stmt = sa.select(
        handoffs.c.reason, handoffs.c.queued_at, handoffs.c.claimed_at,
        handoffs.c.ended_at, handoffs.c.outcome,
    ).where(_between(handoffs.c.queued_at, period, end))  # fmt: skip
    rows = (await conn.execute(stmt)).all()
    rows = [r for r in rows if r.outcome != "requeued"]  # its continuation row counts
    waits = [
        w for r in rows if r.claimed_at is not None
        if (w := _seconds(r.queued_at, r.claimed_at)) is not None
    ]  # fmt: skip
    return {
        "total": len(rows),
        "incident": sum(1 for r in rows if r.reason == "incident"),
        "claimed": len(waits),
        "abandoned": sum(1 for r in rows if r.outcome == "abandoned"),
        "waiting": sum(1 for r in rows if r.claimed_at is None and r.ended_at is None),
        "wait_median_seconds": statistics.median(waits) if waits else None,
        "wait_p90_seconds": _p90(waits),
        "wait_max_seconds": max(waits) if waits else None,
    }


def render(report: dict[str, Any]) -> str:
    """The report as text (the CLI)."""
    p = report["period"]
    kind = "演练" if report["drill"] else "应急"
    lines = [
        f"{kind}期间 #{p['id']}：{p['started_at']} 至 {p['ended_at'] or '现在（仍在进行）'}"
        f"（{p['seconds'] // 60} 分钟）",
        f"通知：{p['notice']}",
        f"开启：{p['started_by']}  关闭：{p['ended_by'] or '-'}",
        f"市民消息：{report['messages']['from_citizens']} 条，会话 {report['conversations']} 个，"
        f"回复 {report['messages']['replies']} 条",
        "按渠道："
        + ("，".join(f"{c} {n}" for c, n in report["messages"]["by_channel"].items()) or "无"),
        f"未能理解：{report['fallbacks']} 次",
        "热门问题：",
    ]
    lines += [f"  {t['count']:>4}  {t['label']}" for t in report["topics"]] or ["  无"]
    h = report["handoffs"]

    def secs(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f} 秒"

    lines += [
        f"转人工：{h['total']} 次（与事件相关 {h['incident']}），已接入 {h['claimed']}，"
        f"放弃 {h['abandoned']}，仍在等待 {h['waiting']}",
        f"等待时长：中位数 {secs(h['wait_median_seconds'])}，90% {secs(h['wait_p90_seconds'])}，"
        f"最长 {secs(h['wait_max_seconds'])}",
        f"群发通知：{report['broadcast']['recipients']} 人 "
        + str(report["broadcast"]["outcomes"] or ""),
    ]
    return "\n".join(lines) + "\n"
