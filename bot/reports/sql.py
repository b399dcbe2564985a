"""The SQL of the figures (docs/figures.md), for PostgreSQL and SQLite.

Every query reads the product's own records and aggregates what SQL can
aggregate cheaply; times come back as UNIX seconds (floats) and local days as
``YYYY-MM-DD`` strings, so both databases answer in the same shape. The few
dialect differences (epoch seconds, the local day, JSON fields, the channel
part of a conversation id) are spelled by :class:`Dialect`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.db.schema import AwareDateTime, tickets

#: The hotline's time zone is UTC+8 all year (no daylight saving).
LOCAL_OFFSET_HOURS = 8
ASSISTANT_EVENT_KINDS = ("faq_answered", "guide_answered", "fallback", "ticket_created", "rating")
COUNTED_EVENT_KINDS = (
    "answered",
    "fallback",
    "rating",
    "guidance.online_offered",
    "guidance.online_outcome",
)
TOPIC_EVENT_KINDS = ("faq_answered", "guide_answered")
UNKNOWN_TOWN = "未识别"
#: Times are compared to the millisecond (SQLite keeps them as text).
TOLERANCE = 0.0005


@dataclass(frozen=True)
class Dialect:
    sqlite: bool

    def epoch(self, col: str) -> str:
        if self.sqlite:
            # julianday() loses ~1e-5 s at today's dates; strftime is exact to the millisecond
            return (
                f"(CAST(strftime('%s', {col}) AS REAL) + CAST(strftime('%f', {col}) AS REAL)"
                f" - CAST(strftime('%S', {col}) AS INTEGER))"
            )
        return f"EXTRACT(EPOCH FROM {col})"

    def day(self, col: str) -> str:
        if self.sqlite:
            return f"date({col}, '+{LOCAL_OFFSET_HOURS} hours')"
        return f"to_char({col} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')"

    def field(self, col: str, name: str) -> str:
        """A JSON field as text (NULL when absent)."""
        if self.sqlite:
            return f"json_extract({col}, '$.{name}')"
        return f"({col} ->> '{name}')"

    def int_field(self, col: str, name: str) -> str:
        if self.sqlite:
            return f"CAST(json_extract({col}, '$.{name}') AS INTEGER)"
        return (
            f"CASE WHEN jsonb_typeof({col} -> '{name}') = 'number' "
            f"THEN CAST({col} ->> '{name}' AS NUMERIC)::INTEGER END"
        )

    def is_drill(self, col: str) -> str:
        """True only for a JSON ``true`` (a string "true" is not a drill)."""
        if self.sqlite:
            return f"(COALESCE(json_type({col}, '$.drill'), '') = 'true')"
        return f"COALESCE(({col} -> 'drill') = 'true'::jsonb, false)"

    def channel(self, col: str) -> str:
        if self.sqlite:
            return (
                f"(CASE WHEN instr({col}, ':') > 0 "
                f"THEN substr({col}, 1, instr({col}, ':') - 1) ELSE {col} END)"
            )
        return f"split_part({col}, ':', 1)"


def _ts() -> AwareDateTime:
    return AwareDateTime()


def _text(sql: str, *names: str) -> sa.TextClause:
    """``sql`` with its timestamp parameters typed (stored as UTC on both databases)."""
    used = [n for n in names if re.search(rf":{n}\b", sql)]
    return sa.text(sql).bindparams(*(sa.bindparam(n, type_=_ts()) for n in used))


def drill_filter(d: Dialect, cid_col: str) -> str:
    """SQL condition: ``cid_col`` is not a conversation with a drill event near the window."""
    return (
        f"{cid_col} NOT IN (SELECT de.conversation_id FROM events de "
        f"WHERE de.conversation_id IS NOT NULL AND de.at >= :pad_lo AND de.at < :pad_hi "
        f"AND {d.is_drill('de.data')})"
    )


@dataclass(frozen=True)
class Window:
    lo: dt.datetime
    hi: dt.datetime
    pad_lo: dt.datetime  # a day before: conversations that began before the window
    pad_hi: dt.datetime  # two days after: returns within 24 h of a conversation's end
    prev_lo: dt.datetime  # the previous period of equal length (trends)

    def params(self) -> dict[str, Any]:
        return {
            "lo": self.lo,
            "hi": self.hi,
            "pad_lo": self.pad_lo,
            "pad_hi": self.pad_hi,
            "prev_lo": self.prev_lo,
        }


async def messages(conn: Any, d: Dialect, w: Window, target: float) -> list[Any]:
    """Citizen messages per (local day, channel): all, measured (not held by an
    agent), answered within 5 s."""
    first_out = (
        "(SELECT o.created_at FROM transcripts o WHERE o.conversation_id = i.conversation_id "
        "AND o.seq > i.seq AND o.direction = 'out' ORDER BY o.seq LIMIT 1)"
    )
    held = (
        "EXISTS (SELECT 1 FROM handoffs h WHERE h.conversation_id = i.conversation_id "
        "AND h.claimed_at IS NOT NULL AND h.claimed_at <= i.created_at "
        "AND (h.ended_at IS NULL OR h.ended_at > i.created_at))"
    )
    sql = f"""
        WITH m AS (
            SELECT i.channel AS channel, {d.day("i.created_at")} AS day,
                   {d.epoch("i.created_at")} AS t_in,
                   CASE WHEN {held} THEN 1 ELSE 0 END AS held,
                   {d.epoch(first_out)} AS t_out
            FROM transcripts i
            WHERE i.direction = 'in' AND i.sender = 'citizen'
              AND i.created_at >= :lo AND i.created_at < :hi
              AND {drill_filter(d, "i.conversation_id")}
        )
        SELECT day, channel, COUNT(*) AS n_all,
               SUM(CASE WHEN held = 0 THEN 1 ELSE 0 END) AS n_measured,
               SUM(CASE WHEN held = 0 AND t_out IS NOT NULL AND t_out - t_in <= :target
                   THEN 1 ELSE 0 END) AS n_5s
        FROM m GROUP BY day, channel
    """
    stmt = _text(sql, "lo", "hi", "pad_lo", "pad_hi").bindparams(
        sa.bindparam("target", type_=sa.Float())
    )
    values = {**w.params(), "target": target + TOLERANCE}
    return list((await conn.execute(stmt, values)).all())


async def sessions(conn: Any, d: Dialect, w: Window, gap: float) -> list[Any]:
    """Conversations (runs of citizen messages with no gap over ``gap`` seconds)
    of the padded window: conversation id, channel, first and last message."""
    sql = f"""
        WITH m AS (
            SELECT conversation_id, channel, seq, {d.epoch("created_at")} AS t
            FROM transcripts
            WHERE direction = 'in' AND sender = 'citizen'
              AND created_at >= :pad_lo AND created_at < :pad_hi
              AND {drill_filter(d, "conversation_id")}
        ), g AS (
            SELECT conversation_id, channel, seq, t,
                   LAG(t) OVER (PARTITION BY conversation_id ORDER BY seq) AS prev_t
            FROM m
        ), s AS (
            SELECT conversation_id, channel, t,
                   SUM(CASE WHEN prev_t IS NULL OR t - prev_t > :gap THEN 1 ELSE 0 END)
                   OVER (PARTITION BY conversation_id ORDER BY seq
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS sn
            FROM g
        )
        SELECT conversation_id, MIN(channel) AS channel, MIN(t) AS t_start, MAX(t) AS t_end,
               COUNT(*) AS n
        FROM s GROUP BY conversation_id, sn
    """
    stmt = _text(sql, "pad_lo", "pad_hi").bindparams(sa.bindparam("gap", type_=sa.Float()))
    return list((await conn.execute(stmt, {**w.params(), "gap": gap})).all())


async def conversation_events(conn: Any, d: Dialect, w: Window) -> list[Any]:
    """The assistant's answers and tickets of the padded window, per conversation."""
    kinds = ", ".join(f"'{k}'" for k in ASSISTANT_EVENT_KINDS)
    key = (
        f"COALESCE({d.field('data', 'faq')}, {d.field('data', 'service')}, "
        f"{d.field('data', 'category')})"
    )
    sql = f"""
        SELECT conversation_id, kind, {d.epoch("at")} AS ts, {key} AS key
        FROM events
        WHERE kind IN ({kinds}) AND conversation_id IS NOT NULL
          AND at >= :pad_lo AND at < :pad_hi AND NOT {d.is_drill("data")}
        ORDER BY conversation_id, at, id
    """
    stmt = _text(sql, "pad_lo", "pad_hi")
    return list((await conn.execute(stmt, w.params())).all())


async def conversation_handoffs(conn: Any, d: Dialect, w: Window) -> list[Any]:
    sql = f"""
        SELECT conversation_id, {d.epoch("queued_at")} AS ts, claimed_at IS NOT NULL AS claimed,
               outcome
        FROM handoffs
        WHERE queued_at >= :pad_lo AND queued_at < :pad_hi
          AND (outcome IS NULL OR outcome <> 'requeued')
    """
    stmt = _text(sql, "pad_lo", "pad_hi")
    return list((await conn.execute(stmt, w.params())).all())


async def conversation_tickets(conn: Any, d: Dialect, w: Window) -> list[Any]:
    sql = f"""
        SELECT conversation_id, {d.epoch("created_at")} AS ts
        FROM tickets WHERE created_at >= :pad_lo AND created_at < :pad_hi
    """
    stmt = _text(sql, "pad_lo", "pad_hi")
    return list((await conn.execute(stmt, w.params())).all())


async def event_counts(conn: Any, d: Dialect, w: Window) -> list[Any]:
    """Counted events per (local day, channel, kind, rating, outcome, asked)."""
    kinds = ", ".join(f"'{k}'" for k in COUNTED_EVENT_KINDS)
    sql = f"""
        WITH e AS (
            SELECT {d.day("at")} AS day, {d.channel("conversation_id")} AS channel, kind,
                   CASE WHEN kind = 'rating' THEN {d.int_field("data", "rating")} END AS rating,
                   CASE WHEN kind = 'guidance.online_outcome'
                        THEN {d.field("data", "outcome")} END AS outcome,
                   CASE WHEN kind = 'guidance.online_outcome'
                        THEN {d.field("data", "asked")} END AS asked
            FROM events
            WHERE kind IN ({kinds}) AND conversation_id IS NOT NULL
              AND at >= :lo AND at < :hi AND NOT {d.is_drill("data")}
              AND {drill_filter(d, "conversation_id")}
        )
        SELECT day, channel, kind, rating, outcome, asked, COUNT(*) AS n
        FROM e GROUP BY day, channel, kind, rating, outcome, asked
    """
    stmt = _text(sql, "lo", "hi", "pad_lo", "pad_hi")
    return list((await conn.execute(stmt, w.params())).all())


async def topics(conn: Any, d: Dialect, w: Window) -> list[Any]:
    """Assistant topics per (channel, kind, key): this window and the previous one."""
    kinds = ", ".join(f"'{k}'" for k in TOPIC_EVENT_KINDS)
    key = f"COALESCE({d.field('data', 'faq')}, {d.field('data', 'service')})"
    sql = f"""
        WITH e AS (
            SELECT {d.channel("conversation_id")} AS channel, kind, {key} AS key,
                   CASE WHEN at >= :lo THEN 1 ELSE 0 END AS current
            FROM events
            WHERE kind IN ({kinds}) AND conversation_id IS NOT NULL
              AND at >= :prev_lo AND at < :hi AND NOT {d.is_drill("data")}
        )
        SELECT channel, kind, key, SUM(current) AS n, SUM(1 - current) AS n_prev
        FROM e WHERE key IS NOT NULL GROUP BY channel, kind, key
    """
    stmt = _text(sql, "lo", "hi", "prev_lo")
    return list((await conn.execute(stmt, w.params())).all())


async def handoff_rows(conn: Any, d: Dialect, w: Window) -> list[Any]:
    sql = f"""
        SELECT id, conversation_id, channel, {d.day("queued_at")} AS day,
               {d.epoch("queued_at")} AS t_queued, {d.epoch("claimed_at")} AS t_claimed,
               outcome, rating, comment, {d.epoch("ended_at")} AS t_ended
        FROM handoffs
        WHERE queued_at >= :lo AND queued_at < :hi
          AND (outcome IS NULL OR outcome <> 'requeued')
          AND {drill_filter(d, "conversation_id")}
    """
    stmt = _text(sql, "lo", "hi", "pad_lo", "pad_hi")
    return list((await conn.execute(stmt, w.params())).all())


async def ticket_rows(
    conn: Any, d: Dialect, w: Window, department: str | None, *, previous: bool = False
) -> list[Any]:
    """Tickets created in the window (or, ``previous``, in the previous period),
    with the timeline facts the figures need (first reply, reopens, rating time)."""
    town = "t.town" if "town" in tickets.c else f"'{UNKNOWN_TOWN}'"
    scope = "AND t.department = :department" if department else ""
    lo = ":prev_lo" if previous else ":lo"
    hi = ":lo" if previous else ":hi"
    sql = f"""
        WITH te AS (
            SELECT e.ticket_id,
                   MIN(CASE WHEN e.kind = 'replied' THEN e.at END) AS first_replied,
                   MIN(CASE WHEN e.kind = 'replied' THEN e.version END) AS replied_version,
                   SUM(CASE WHEN e.kind = 'reopened' THEN 1 ELSE 0 END) AS reopened,
                   MAX(CASE WHEN e.kind = 'rated' THEN e.at END) AS rated_at
            FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
            WHERE t.created_at >= {lo} AND t.created_at < {hi}
            GROUP BY e.ticket_id
        )
        SELECT t.number, t.type, t.category, t.channel, t.department, t.department_name,
               t.status, t.rating, t.rating_comment, {town} AS town,
               {d.day("t.created_at")} AS day, {d.epoch("t.deadline")} AS t_deadline,
               {d.epoch("te.first_replied")} AS t_replied, COALESCE(te.reopened, 0) AS reopened,
               {d.epoch("te.rated_at")} AS t_rated,
               (SELECT {d.field("a.data", "deadline")} FROM ticket_events a
                WHERE a.ticket_id = t.id AND a.kind IN ('assigned', 'transferred')
                  AND a.version < te.replied_version
                ORDER BY a.version DESC LIMIT 1) AS reply_deadline
        FROM tickets t LEFT JOIN te ON te.ticket_id = t.id
        WHERE t.created_at >= {lo} AND t.created_at < {hi} {scope}
          AND {drill_filter(d, "t.conversation_id")}
    """
    stmt = _text(sql, "lo", "hi", "prev_lo", "pad_lo", "pad_hi")
    values = w.params()
    if department:
        values["department"] = department
    return list((await conn.execute(stmt, values)).all())


async def low_assistant_ratings(conn: Any, d: Dialect, w: Window) -> list[Any]:
    sql = f"""
        SELECT conversation_id, {d.channel("conversation_id")} AS channel,
               {d.int_field("data", "rating")} AS rating, {d.epoch("at")} AS ts
        FROM events
        WHERE kind = 'rating' AND conversation_id IS NOT NULL
          AND at >= :lo AND at < :hi AND NOT {d.is_drill("data")}
          AND {d.int_field("data", "rating")} <= 2
          AND {drill_filter(d, "conversation_id")}
        ORDER BY at DESC LIMIT 200
    """
    stmt = _text(sql, "lo", "hi", "pad_lo", "pad_hi")
    return list((await conn.execute(stmt, w.params())).all())


async def has_records(conn: Any) -> int:
    """How many rows the tables the generator writes hold (any at all is "real data")."""
    total = 0
    for table in ("transcripts", "events", "handoffs", "tickets"):
        total += int((await conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}"))).scalar_one())
    return total
