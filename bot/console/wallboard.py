"""The supervisors' dashboard: the page ``GET /console/dashboard`` (supervisors
and department users; agents get 403) and today's live wallboard,
``GET /console/api/wallboard`` (supervisors only).

The page's period view, charts and exports read the figures API
(``/console/api/figures``, bot/reports/), which scopes a department user to
its own department; the wallboard below is the whole hotline's.

Everything is read at request time from the shared records, never from
counters kept in one replica's memory, so every replica shows the same:

- ``queue``: ``length`` (entries of the handoff queue, bot/conversations.py)
  and ``longest_wait_seconds`` (the oldest ``queued_at`` among them, ``null``
  when nobody waits), from the shared store;
- ``agents``: ``online`` / ``away`` (agents and supervisors whose console
  heartbeats are alive, bot/console/presence.py; department users never
  take chats and are not counted);
- ``answer_rate``: citizen messages (transcript rows ``in`` from ``citizen``)
  of today, local day (Asia/Shanghai), answered within ``target_seconds``
  (5): the first ``out`` row of the same conversation after it came at most
  5 s later. As in docs/figures.md (``message_answered_5s_rate``), messages
  sent while an agent held the chat are left out (the handoff figure
  measures those), and so is every conversation with a drill event (data
  ``drill: true``) since yesterday.
  ``denominator`` counts the messages already decided: answered, or older
  than 5 s; ``pending`` the ones younger than 5 s still unanswered (they are
  neither a success nor a failure yet). ``value = numerator / denominator``,
  ``null`` with no decided message;
- ``handoffs``: handoff requests queued today (SQL ``handoffs`` rows; rows
  that ended ``requeued`` are left out, their continuation row counts, as in
  bot/console/stats.py; drill conversations too) taken by an agent within
  ``target_seconds`` (20).
  Decided: claimed, ended, or waiting for 20 s or more; ``pending``: still
  waiting, for less than 20 s;
- ``messages_per_hour``: 24 buckets of today's local hours, ``citizen``
  (citizen messages, held or not) and ``replies`` (rows ``out``: the
  assistant and the agents), drills left out; hours still to come are 0.
  ``messages_today``: their sum of ``citizen``.

Supervisors only (the figures of the whole hotline); agents and department
users get 403 (department users see their own figures in the period view).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from bot.console.auth import require
from bot.console.context import CONSOLE_KEY, Console
from bot.console.records import Handoff
from bot.console.static import page
from bot.db.models import LOCAL_TZ
from bot.db.schema import events, transcripts

ANSWER_TARGET = 5.0
HANDOFF_TARGET = 20.0
#: Queue entries read at once when looking for the longest wait.
QUEUE_BATCH = 50


def day_start(now: dt.datetime) -> dt.datetime:
    """Midnight of ``now``'s local day (the hotline's time zone)."""
    local = now.astimezone(LOCAL_TZ)
    return dt.datetime.combine(local.date(), dt.time(), LOCAL_TZ)


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


async def queue_figures(console: Console, now: float) -> dict[str, Any]:
    """Queue length and the longest current wait, from the shared store."""
    conversations = console.conversations
    order = await conversations.queue_order()
    oldest: float | None = None
    for start in range(0, len(order), QUEUE_BATCH):
        batch = order[start : start + QUEUE_BATCH]
        convs = await asyncio.gather(*(console.conv(cid) for cid in batch))
        for conv in convs:
            try:
                queued_at = float(conv.queued_at) if conv.queued_at else None
            except ValueError:
                queued_at = None
            if queued_at is not None and (oldest is None or queued_at < oldest):
                oldest = queued_at
    longest = None if oldest is None else max(0, int(now - oldest))
    return {"length": len(order), "longest_wait_seconds": longest}


async def agent_figures(console: Console) -> dict[str, int]:
    present = [a for a in await console.presence.all() if a.role != "department"]
    return {
        "online": sum(1 for a in present if a.status == "online"),
        "away": sum(1 for a in present if a.status == "away"),
    }


def _is_drill(db_is_sqlite: bool) -> sa.ColumnElement[bool]:
    """An event recorded while an emergency drill was on (``data.drill`` is JSON true)."""
    if db_is_sqlite:
        return sa.func.json_type(events.c.data, "$.drill") == "true"
    return events.c.data.op("->")("drill") == sa.text("'true'::jsonb")


async def drill_conversations(console: Console, since: dt.datetime) -> set[str]:
    """Conversations with a drill event since ``since``: left out of the figures."""
    stmt = (
        sa.select(events.c.conversation_id)
        .distinct()
        .where(events.c.at >= since, events.c.conversation_id.is_not(None))
        .where(_is_drill(console.db.is_sqlite))
    )
    async with console.db.read() as conn:
        return {row[0] for row in (await conn.execute(stmt)).all()}


async def _message_rows(
    console: Console, since: dt.datetime, until: dt.datetime
) -> list[tuple[str, str, str, dt.datetime, dt.datetime | None]]:
    """``(conversation, direction, sender, created_at, first reply's created_at)``
    of the transcript rows in ``[since, until)``."""
    t = transcripts
    o = transcripts.alias("o")
    first_reply = (
        sa.select(o.c.created_at)
        .where(o.c.conversation_id == t.c.conversation_id, o.c.direction == "out")
        .where(o.c.seq > t.c.seq)
        .order_by(o.c.seq)
        .limit(1)
        .scalar_subquery()
    )
    replied = sa.case((t.c.direction == "in", first_reply), else_=sa.null())
    stmt = sa.select(
        t.c.conversation_id, t.c.direction, t.c.sender, t.c.created_at, replied.label("replied")
    ).where(t.c.created_at >= since, t.c.created_at < until)
    async with console.db.read() as conn:
        rows = (await conn.execute(stmt)).all()
    return [
        (r.conversation_id, r.direction, r.sender, r.created_at, _aware(r.replied)) for r in rows
    ]


def _aware(value: Any) -> dt.datetime | None:
    """The correlated subquery's value: typed on PostgreSQL, a string on SQLite."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


Spans = dict[str, list[tuple[dt.datetime, dt.datetime]]]


def _held(rows: list[Handoff], now: dt.datetime) -> Spans:
    """Per conversation, the spans an agent held it (claimed until ended, or now)."""
    spans: Spans = {}
    for row in rows:
        if row.claimed_at is not None:
            end = row.ended_at or now + dt.timedelta(days=1)
            spans.setdefault(row.conversation_id, []).append((row.claimed_at, end))
    return spans


def message_figures(
    rows: list[tuple[str, str, str, dt.datetime, dt.datetime | None]],
    held: Spans,
    drills: set[str],
    now: dt.datetime,
) -> dict[str, Any]:
    citizen = [0] * 24
    replies = [0] * 24
    answered = decided = pending = 0
    for cid, direction, sender, at, replied_at in rows:
        if cid in drills:
            continue
        hour = at.astimezone(LOCAL_TZ).hour
        if direction == "out":
            replies[hour] += 1
            continue
        if sender != "citizen":
            continue
        citizen[hour] += 1
        if any(start <= at < end for start, end in held.get(cid, ())):
            continue  # an agent holds the chat: measured by the handoff figures
        wait = None if replied_at is None else (replied_at - at).total_seconds()
        if wait is not None and wait <= ANSWER_TARGET:
            answered += 1
            decided += 1
        elif wait is not None or (now - at).total_seconds() > ANSWER_TARGET:
            decided += 1
        else:
            pending += 1
    return {
        "answer_rate": {
            "value": _rate(answered, decided),
            "numerator": answered,
            "denominator": decided,
            "pending": pending,
            "target_seconds": ANSWER_TARGET,
        },
        "messages_today": sum(citizen),
        "messages_per_hour": [
            {"hour": h, "citizen": citizen[h], "replies": replies[h]} for h in range(24)
        ],
    }


def handoff_figures(rows: list[Handoff], drills: set[str], now: dt.datetime) -> dict[str, Any]:
    """Handoff rows queued today taken within 20 s (``rows``: from midnight on)."""
    taken = decided = pending = 0
    for row in rows:
        if row.outcome == "requeued" or row.conversation_id in drills:
            continue
        if row.claimed_at is not None:
            decided += 1
            if (row.claimed_at - row.queued_at).total_seconds() <= HANDOFF_TARGET:
                taken += 1
        elif row.ended_at is not None or (now - row.queued_at).total_seconds() >= HANDOFF_TARGET:
            decided += 1
        else:
            pending += 1
    return {
        "value": _rate(taken, decided),
        "numerator": taken,
        "denominator": decided,
        "pending": pending,
        "target_seconds": HANDOFF_TARGET,
    }


async def wallboard(console: Console, now: dt.datetime | None = None) -> dict[str, Any]:
    """The wallboard document (see the module's docstring)."""
    now = now or console.db.now()
    start = day_start(now)
    until = now + dt.timedelta(seconds=1)
    drills = await drill_conversations(console, start - dt.timedelta(days=1))
    rows = await _message_rows(console, start, until)
    # from a day earlier: a chat an agent took yesterday evening may still be held
    recent = await console.handoffs.between(start - dt.timedelta(days=1), until)
    return {
        "at": now.astimezone(dt.UTC).isoformat(),
        "day": now.astimezone(LOCAL_TZ).date().isoformat(),
        "queue": await queue_figures(console, now.timestamp()),
        "agents": await agent_figures(console),
        **message_figures(rows, _held(recent, now), drills, now),
        "handoffs": handoff_figures([r for r in recent if r.queued_at >= start], drills, now),
    }


@require("supervisor")
async def wallboard_view(request: web.Request) -> web.Response:
    headers = {"Cache-Control": "no-store"}
    return web.json_response(await wallboard(request.app[CONSOLE_KEY]), headers=headers)


@require("supervisor", "department")
async def dashboard_page(request: web.Request) -> web.StreamResponse:
    """The dashboard: the wallboard (supervisors) and the period view (department: its own)."""
    return page("dashboard.html")


def add_dashboard_routes(app: web.Application) -> None:
    app.router.add_get("/console/dashboard", dashboard_page)
    app.router.add_get("/console/api/wallboard", wallboard_view)
