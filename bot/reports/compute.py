"""``compute_report``: the hotline's figures over a period (docs/figures.md).

SQL (bot/reports/sql.py) reads the records and aggregates them per local day
and channel, or returns one small row per conversation, handoff and ticket;
this module groups those rows into the figures of the whole window, of each
period of the series and of each channel, category, department and town.
Nothing is counted in memory between calls: every report reads the records.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from bot.db.models import LOCAL_TZ, OPEN_STATUSES
from bot.reports import sql
from bot.reports.sql import Dialect, Window

if TYPE_CHECKING:
    from bot.db.database import Database

log = logging.getLogger(__name__)

GROUPS = ("day", "week", "month")
FILTER_KEYS = ("channel", "department", "category", "town")
MAX_DAYS = 366
#: A gap longer than this between a citizen's messages starts a new conversation.
CONVERSATION_GAP = 30 * 60.0
#: A return on the same topic within this long after a conversation's end unsettles it.
RETURN_WINDOW = 24 * 3600.0
ANSWER_TARGET = 5.0
HANDOFF_TARGETS = (20.0, 60.0)
AGENT_SETTLED = ("closed", "handed_back")
ANSWER_KINDS = ("faq_answered", "guide_answered", "fallback")
TABLE_LIMIT = 200
TOP_LIMIT = 20

CHANNEL_LABELS = {"wechat": "微信", "webchat": "网页", "telegram": "Telegram", "rest": "接口"}

LABELS: dict[str, str] = {
    "message_answered_5s_rate": "消息5秒应答率",
    "handoff_answered_20s_rate": "人工20秒接通率",
    "handoff_answered_60s_rate": "人工60秒接通率",
    "handoff_abandoned_rate": "放弃率",
    "handoff_wait_median_s": "等待时长中位数(秒)",
    "handoff_wait_p90_s": "等待时长P90(秒)",
    "resolved_by_assistant_rate": "智能助手解决率",
    "resolved_by_agent_rate": "人工解决率",
    "ticket_closed_not_reopened_rate": "工单办结率(未重办)",
    "ticket_on_time_rate": "按时办结率",
    "satisfaction_assistant_rate": "智能助手满意率",
    "satisfaction_agent_rate": "人工服务满意率",
    "satisfaction_ticket_rate": "工单办理满意率",
    "online_success_rate": "网上办理成功率",
    "containment_rate": "自助率(无人工介入)",
    "fallback_rate": "兜底回复率",
    "ticket_reopen_rate": "工单重办率",
    "overdue_tickets": "超期工单",
    "citizen_messages": "群众消息数",
    "conversations": "会话数",
    "handoffs": "转人工次数",
    "tickets_created": "新建工单数",
}
TICKET_FIGURES = (
    "ticket_closed_not_reopened_rate",
    "ticket_on_time_rate",
    "ticket_reopen_rate",
    "overdue_tickets",
    "satisfaction_ticket_rate",
    "tickets_created",
)


class ReportError(ValueError):
    """A bad period, group or filter; the message says which (in Chinese and English)."""


# --- the facts read from SQL -------------------------------------------------
@dataclass
class Facts:
    """The rows one report is made of (see the module doc)."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    conversations: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    handoffs: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)

    def split(self, key: Callable[[dict[str, Any]], str]) -> dict[str, Facts]:
        """The facts bucketed by ``key`` of each row (one pass)."""
        out: dict[str, Facts] = defaultdict(Facts)
        for name in ("messages", "conversations", "events", "handoffs", "tickets"):
            for row in getattr(self, name):
                getattr(out[key(row)], name).append(row)
        return out

    def where(
        self, common: Callable[[dict[str, Any]], bool], ticket: Callable[[dict[str, Any]], bool]
    ) -> Facts:
        return Facts(
            [r for r in self.messages if common(r)],
            [r for r in self.conversations if common(r)],
            [r for r in self.events if common(r)],
            [r for r in self.handoffs if common(r)],
            [r for r in self.tickets if ticket(r)],
        )


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


def _figure(numerator: int, denominator: int, **extra: Any) -> dict[str, Any]:
    value = numerator / denominator if denominator else None
    return {"value": value, "numerator": numerator, "denominator": denominator, **extra}


def _count(n: int, of: int, **extra: Any) -> dict[str, Any]:
    return {"value": n, "numerator": n, "denominator": of, **extra}


def _seconds(values: list[float], which: str) -> dict[str, Any]:
    n = len(values)
    if not values:
        value = None
    elif which == "median":
        value = statistics.median(values)
    elif n == 1:
        value = values[0]
    else:  # linear interpolation between the closest ranks
        value = statistics.quantiles(values, n=10, method="inclusive")[8]
    return {"value": None if value is None else round(value, 3), "numerator": n,
            "denominator": n, "unit": "s"}  # fmt: skip


def _not_applicable() -> dict[str, Any]:
    return {"value": None, "numerator": 0, "denominator": 0, "applicable": False}


def figures(facts: Facts, now: float, *, tickets_only: bool = False) -> dict[str, Any]:
    """Every figure of docs/figures.md over ``facts``."""
    out: dict[str, Any] = {}
    if tickets_only:
        for key in LABELS:
            if key not in TICKET_FIGURES:
                out[key] = _not_applicable()
    else:
        out.update(_conversation_figures(facts))
    out.update(_ticket_figures(facts.tickets, now))
    return {key: out[key] for key in LABELS}


def _conversation_figures(facts: Facts) -> dict[str, Any]:
    out: dict[str, Any] = {}
    n_all = sum(r["n_all"] for r in facts.messages)
    measured = sum(r["n_measured"] for r in facts.messages)
    out["message_answered_5s_rate"] = _figure(sum(r["n_5s"] for r in facts.messages), measured)
    out["citizen_messages"] = _count(n_all, n_all)

    rows = facts.handoffs
    waits = [r["wait"] for r in rows if r["wait"] is not None]
    for target in HANDOFF_TARGETS:
        taken = sum(1 for w in waits if w <= target + sql.TOLERANCE)
        out[f"handoff_answered_{int(target)}s_rate"] = _figure(taken, len(rows))
    abandoned = sum(1 for r in rows if r["outcome"] == "abandoned")
    out["handoff_abandoned_rate"] = _figure(abandoned, len(rows))
    out["handoff_wait_median_s"] = _seconds(waits, "median")
    out["handoff_wait_p90_s"] = _seconds(waits, "p90")
    out["handoffs"] = _count(len(rows), len(rows))

    convs = facts.conversations
    n_conv = len(convs)
    with_agent = [c for c in convs if c["claimed"]]
    out["resolved_by_assistant_rate"] = _figure(
        sum(1 for c in convs if c["settled_assistant"]), n_conv
    )
    out["resolved_by_agent_rate"] = _figure(
        sum(1 for c in with_agent if c["settled_agent"]), len(with_agent)
    )
    out["containment_rate"] = _figure(sum(1 for c in convs if c["contained"]), n_conv)
    out["conversations"] = _count(n_conv, n_conv)
    rated_convs = sum(1 for c in convs if c["rated"])

    counts: dict[str, int] = defaultdict(int)
    ratings = good = 0
    asked: dict[str, int] = defaultdict(int)
    done = 0
    for e in facts.events:
        counts[e["kind"]] += e["n"]
        if e["kind"] == "rating" and e["rating"] is not None and 1 <= e["rating"] <= 5:
            ratings += e["n"]
            good += e["n"] if e["rating"] >= 4 else 0
        if e["kind"] == "guidance.online_outcome" and e["outcome"] in ("done", "problem"):
            asked[e["asked"] or "first"] += e["n"]
            done += e["n"] if e["outcome"] == "done" else 0
    out["satisfaction_assistant_rate"] = _figure(
        good, ratings, responses=ratings, asked=n_conv, rated_conversations=rated_convs,
        response_rate=rated_convs / n_conv if n_conv else None,
    )  # fmt: skip
    claimed = [r for r in rows if r["wait"] is not None]
    rated = [r for r in rows if r["rating"] is not None]
    out["satisfaction_agent_rate"] = _figure(
        sum(1 for r in rated if r["rating"] >= 4), len(rated), responses=len(rated),
        asked=len(claimed), response_rate=len(rated) / len(claimed) if claimed else None,
    )  # fmt: skip
    offered = counts["guidance.online_offered"]
    answered = sum(asked.values())
    out["online_success_rate"] = _figure(
        done, answered, offered=offered, answered=answered,
        coverage=answered / offered if offered else None,
        answered_first=asked.get("first", 0), answered_followup=asked.get("followup", 0),
    )  # fmt: skip
    out["fallback_rate"] = _figure(counts["fallback"], counts["answered"])
    return out


def _ticket_figures(rows: list[dict[str, Any]], now: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    n = len(rows)
    closed = sum(1 for t in rows if t["status"] == "closed" and not t["reopened"])
    out["ticket_closed_not_reopened_rate"] = _figure(closed, n)
    judged = [t for t in rows if _judged(t, now)]
    on_time = sum(1 for t in judged if _on_time(t))
    out["ticket_on_time_rate"] = _figure(on_time, len(judged))
    settled_once = [t for t in rows if t["replied"] is not None or t["status"] == "closed"]
    out["ticket_reopen_rate"] = _figure(
        sum(1 for t in settled_once if t["reopened"]), len(settled_once)
    )
    out["overdue_tickets"] = _count(sum(1 for t in rows if _overdue(t, now)), n)
    replied = [t for t in rows if t["replied"] is not None]
    rated = [t for t in rows if t["rating"] is not None]
    out["satisfaction_ticket_rate"] = _figure(
        sum(1 for t in rated if t["rating"] >= 4), len(rated), responses=len(rated),
        asked=len(replied), response_rate=len(rated) / len(replied) if replied else None,
    )  # fmt: skip
    out["tickets_created"] = _count(n, n)
    return out


def _judged(t: dict[str, Any], now: float) -> bool:
    if t["deadline"] is None:
        return False
    return t["replied"] is not None or (t["status"] != "closed" and t["deadline"] < now)


def _on_time(t: dict[str, Any]) -> bool:
    """Replied by the deadline in force at the first reply (a re-assignment
    after a reopen sets a new deadline that does not excuse a late first reply)."""
    due = t["reply_deadline"] if t["reply_deadline"] is not None else t["deadline"]
    return t["replied"] is not None and t["replied"] <= due + sql.TOLERANCE


def _parse_deadline(value: Any) -> float | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


def _overdue(t: dict[str, Any], now: float) -> bool:
    return t["status"] in OPEN_STATUSES and t["deadline"] is not None and t["deadline"] < now


# --- reading ------------------------------------------------------------------
def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), LOCAL_TZ)


def window(since: dt.date, until: dt.date) -> Window:
    lo, hi = _local_midnight(since), _local_midnight(until + dt.timedelta(days=1))
    return Window(
        lo=lo, hi=hi, pad_lo=lo - dt.timedelta(days=1), pad_hi=hi + dt.timedelta(days=2),
        prev_lo=lo - (hi - lo),
    )  # fmt: skip


def _day_of(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, LOCAL_TZ).date().isoformat()


async def read_facts(db: Database, w: Window) -> tuple[Facts, dict[str, Any]]:
    """The rows of the window (drills left out), and the raw rows of the tables."""
    d = Dialect(db.is_sqlite)
    async with db.read() as conn:
        msg_rows = await sql.messages(conn, d, w, ANSWER_TARGET)
        session_rows = await sql.sessions(conn, d, w, CONVERSATION_GAP)
        conv_events = await sql.conversation_events(conn, d, w)
        conv_handoffs = await sql.conversation_handoffs(conn, d, w)
        conv_tickets = await sql.conversation_tickets(conn, d, w)
        event_rows = await sql.event_counts(conn, d, w)
        handoff_rows = await sql.handoff_rows(conn, d, w)
        topic_rows = await sql.topics(conn, d, w)
        low_assistant = await sql.low_assistant_ratings(conn, d, w)
    facts = Facts()
    facts.messages = [
        {"day": r.day, "channel": r.channel, "n_all": int(r.n_all),
         "n_measured": int(r.n_measured or 0), "n_5s": int(r.n_5s or 0)}
        for r in msg_rows
    ]  # fmt: skip
    facts.conversations = _conversations(w, session_rows, conv_events, conv_handoffs, conv_tickets)
    facts.events = [
        {"day": r.day, "channel": r.channel, "kind": r.kind,
         "rating": None if r.rating is None else int(r.rating), "outcome": r.outcome,
         "asked": r.asked, "n": int(r.n)}
        for r in event_rows
    ]  # fmt: skip
    facts.handoffs = [
        {"id": int(r.id), "conversation_id": r.conversation_id, "channel": r.channel,
         "day": r.day, "outcome": r.outcome,
         "rating": None if r.rating is None else int(r.rating), "comment": r.comment,
         "queued": float(r.t_queued),
         "wait": None if r.t_claimed is None else max(0.0, float(r.t_claimed) - float(r.t_queued))}
        for r in handoff_rows
    ]  # fmt: skip
    raw = {"topics": topic_rows, "low_assistant": low_assistant}
    return facts, raw


async def read_tickets(
    db: Database, w: Window, department: str | None, *, previous: bool = False
) -> list[dict[str, Any]]:
    d = Dialect(db.is_sqlite)
    async with db.read() as conn:
        rows = await sql.ticket_rows(conn, d, w, department, previous=previous)
    return [
        {"number": r.number, "type": r.type, "category": r.category, "channel": r.channel,
         "department": r.department, "department_name": r.department_name,
         "status": r.status, "rating": None if r.rating is None else int(r.rating),
         "comment": r.rating_comment, "town": r.town or sql.UNKNOWN_TOWN, "day": r.day,
         "deadline": _f(r.t_deadline), "replied": _f(r.t_replied),
         "reopened": int(r.reopened or 0), "rated": _f(r.t_rated),
         "reply_deadline": _parse_deadline(r.reply_deadline)}
        for r in rows
    ]  # fmt: skip


def _conversations(
    w: Window,
    session_rows: Iterable[Any],
    events: Iterable[Any],
    handoffs: Iterable[Any],
    tickets: Iterable[Any],
) -> list[dict[str, Any]]:
    """One row per conversation that began in the window, with what settled it."""
    by_cid: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for s in session_rows:
        by_cid[s.conversation_id].append((float(s.t_start), float(s.t_end), s.channel))
    ev: dict[str, list[tuple[float, str, str | None]]] = defaultdict(list)
    for e in events:
        ev[e.conversation_id].append((float(e.ts), e.kind, e.key))
    ho: dict[str, list[tuple[float, bool, str | None]]] = defaultdict(list)
    for h in handoffs:
        ho[h.conversation_id].append((float(h.ts), bool(h.claimed), h.outcome))
    tk: dict[str, list[float]] = defaultdict(list)
    for t in tickets:
        tk[t.conversation_id].append(float(t.ts))
    lo, hi = w.lo.timestamp(), w.hi.timestamp()
    out = []
    for cid, spans in by_cid.items():
        spans.sort()
        cid_events = sorted(ev.get(cid, []))
        times = [e[0] for e in cid_events]
        # per conversation: its topics, last answer kind, handoffs, tickets
        info = []
        for start, end, channel in spans:
            a = bisect.bisect_left(times, start)
            b = bisect.bisect_right(times, end + CONVERSATION_GAP)
            own = cid_events[a:b]
            topics = {_topic(kind, key) for _t, kind, key in own if key is not None}
            topics.discard(None)
            answers = [kind for _t, kind, _k in own if kind in ANSWER_KINDS]
            rated = any(kind == "rating" for _t, kind, _k in own)
            in_span = [h for h in ho.get(cid, []) if start <= h[0] <= end + CONVERSATION_GAP]
            ticketed = any(start <= t <= end + CONVERSATION_GAP for t in tk.get(cid, [])) or any(
                kind == "ticket_created" for _t, kind, _k in own
            )
            info.append((start, end, channel, topics, answers, in_span, ticketed, rated))
        for i, (start, end, channel, topics, answers, in_span, ticketed, rated) in enumerate(info):
            if not lo <= start < hi:
                continue
            back = any(
                later[0] <= end + RETURN_WINDOW and topics & later[3] for later in info[i + 1 :]
            )
            handed = bool(in_span)
            claimed = any(c for _t, c, _o in in_span)
            assistant = (
                not handed and not ticketed and bool(topics) and bool(answers)
                and answers[-1] != "fallback" and not back
            )  # fmt: skip
            agent = (
                claimed and not ticketed and not back
                and any(c and o in AGENT_SETTLED for _t, c, o in in_span)
            )  # fmt: skip
            out.append({
                "conversation_id": cid, "channel": channel, "day": _day_of(start),
                "claimed": claimed, "settled_assistant": assistant, "settled_agent": agent,
                "contained": not handed and not ticketed, "rated": rated,
            })  # fmt: skip
    return out


def _topic(kind: str, key: str | None) -> str | None:
    if key is None:
        return None
    prefix = {"faq_answered": "faq", "guide_answered": "service", "ticket_created": "category"}
    return f"{prefix.get(kind, kind)}:{key}"


# --- the document -------------------------------------------------------------
def period_of(day: str, group: str) -> str:
    d = dt.date.fromisoformat(day)
    if group == "week":
        d -= dt.timedelta(days=d.weekday())
    elif group == "month":
        d = d.replace(day=1)
    return d.isoformat()


def periods(since: dt.date, until: dt.date, group: str) -> list[str]:
    seen: list[str] = []
    day = since
    while day <= until:
        p = period_of(day.isoformat(), group)
        if not seen or seen[-1] != p:
            seen.append(p)
        day += dt.timedelta(days=1)
    return seen


def check_period(since: dt.date, until: dt.date, group: str) -> None:
    if until < since:
        raise ReportError(f"结束日期早于开始日期 (until {until} is before since {since})")
    if (until - since).days + 1 > MAX_DAYS:
        raise ReportError(f"统计区间最长 {MAX_DAYS} 天 (at most {MAX_DAYS} days)")
    if group not in GROUPS:
        raise ReportError(f"group 只能是 day、week 或 month (group must be one of {GROUPS})")


def clean_filters(filters: Mapping[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (filters or {}).items():
        if key not in FILTER_KEYS:
            raise ReportError(f"未知的筛选条件 {key} (unknown filter {key!r})")
        if value is None or str(value).strip() == "":
            continue
        out[key] = str(value).strip()
    return out


async def compute_report(
    db: Database,
    since: dt.date,
    until: dt.date,
    *,
    group: str = "day",
    filters: Mapping[str, Any] | None = None,
    department_scope: str | None = None,
) -> dict[str, Any]:
    """The figures of ``[since, until]`` (local dates, both included) as the JSON
    document of docs/figures.md. Raises :class:`ReportError` on a bad period,
    group or filter."""
    check_period(since, until, group)
    chosen = clean_filters(filters)
    if department_scope:  # a department sees its own tickets, whatever it asks for
        chosen.pop("department", None)
    w = window(since, until)
    generated = db.now().astimezone(LOCAL_TZ)
    now = generated.timestamp()
    department = department_scope or chosen.get("department")
    facts, raw = await read_facts(db, w)
    facts.tickets = await read_tickets(db, w, department)
    previous_tickets = await read_tickets(db, w, department, previous=True)
    tickets_only = bool(department_scope) or any(
        k in chosen for k in ("department", "category", "town")
    )

    channel = chosen.get("channel")

    def common(r: dict[str, Any]) -> bool:
        return channel is None or r["channel"] == channel

    def ticket(r: dict[str, Any]) -> bool:
        return all(chosen[k] == r[k] for k in FILTER_KEYS if k in chosen)

    scoped = facts.where(common, ticket)
    doc: dict[str, Any] = {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "group": group,
        "generated_at": generated.isoformat(),
        "scope": {"department": department_scope, "filters": chosen},
        "drills_excluded": True,
        "labels": dict(LABELS),
        "figures": figures(scoped, now, tickets_only=tickets_only),
    }
    by_period = scoped.split(lambda r: period_of(r["day"], group))
    doc["series"] = [
        {"period": p, "figures": figures(by_period.get(p) or Facts(), now,
                                         tickets_only=tickets_only)}
        for p in periods(since, until, group)
    ]  # fmt: skip
    doc["breakdowns"] = _breakdowns(db, scoped, now, tickets_only)
    doc["tables"] = _tables(db, scoped, raw, previous_tickets, now, tickets_only, common, ticket)
    return doc


def _breakdowns(db: Database, facts: Facts, now: float, tickets_only: bool) -> dict[str, Any]:
    routing = db.routing
    out: dict[str, Any] = {}
    channels = sorted(
        {r["channel"] for r in (*facts.messages, *facts.conversations, *facts.handoffs)}
        | {e["channel"] for e in facts.events}
        | {t["channel"] for t in facts.tickets}
    )
    by_channel = facts.split(lambda r: str(r["channel"]))
    out["channel"] = [
        {"key": c, "label": CHANNEL_LABELS.get(c, c),
         "figures": figures(by_channel[c], now, tickets_only=tickets_only)}
        for c in channels
    ]  # fmt: skip

    def label(dim: str, key: str) -> str:
        if dim == "category":
            cat = routing.categories.get(key)
            return cat.name if cat else key
        if dim == "department":
            dep = routing.departments.get(key)
            return dep[0] if dep else key
        return towns.get(key, key)

    towns = _town_names()
    for dim in ("category", "department", "town"):
        keys = sorted({t[dim] for t in facts.tickets})
        out[dim] = [
            {"key": k, "label": label(dim, k),
             "figures": {f: v for f, v in _ticket_figures(
                 [t for t in facts.tickets if t[dim] == k], now).items()}}
            for k in keys
        ]  # fmt: skip
    return out


def _town_names() -> dict[str, str]:
    """Town keys -> names from data/towns.yml when it exists (the town
    recognition of ticket locations); otherwise the keys are their own labels."""
    from bot import config

    path = config.ROOT / "data" / "towns.yml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
        entries = (raw or {}).get("towns") or []
        return {str(t["key"]): str(t["name"]) for t in entries if "key" in t and "name" in t}
    except (OSError, yaml.YAMLError, AttributeError, TypeError) as exc:
        log.warning("town names unavailable: %s", type(exc).__name__)
        return {}


def _trend(key: str, label: str, count: int, previous: int, **extra: Any) -> dict[str, Any]:
    change = count - previous
    return {"key": key, **extra, "label": label, "count": count, "previous": previous,
            "change": change, "change_rate": change / previous if previous else None}  # fmt: skip


def _topic_labels() -> tuple[dict[str, str], dict[str, str]]:
    from bot.knowledge import load_faq, load_services

    try:
        faq = {k: v.question for k, v in load_faq().items()}
    except Exception as exc:  # noqa: BLE001 - labels only: the keys still show
        log.warning("FAQ labels unavailable: %s", exc)
        faq = {}
    try:
        services = {s.id: s.name for s in load_services()}
    except Exception as exc:  # noqa: BLE001
        log.warning("service labels unavailable: %s", exc)
        services = {}
    return faq, services


def _tables(
    db: Database,
    facts: Facts,
    raw: dict[str, Any],
    previous_tickets: list[dict[str, Any]],
    now: float,
    tickets_only: bool,
    common: Callable[[dict[str, Any]], bool],
    ticket: Callable[[dict[str, Any]], bool],
) -> dict[str, Any]:
    routing = db.routing
    tables: dict[str, Any] = {}
    top: list[dict[str, Any]] = []
    if not tickets_only:
        faq, services = _topic_labels()
        merged: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for r in raw["topics"]:
            if not common({"channel": r.channel}):
                continue
            kind = "faq" if r.kind == "faq_answered" else "service"
            merged[(kind, r.key)][0] += int(r.n or 0)
            merged[(kind, r.key)][1] += int(r.n_prev or 0)
        for (kind, key), (n, prev) in merged.items():
            if n == 0:
                continue
            names = faq if kind == "faq" else services
            top.append(_trend(f"{kind}:{key}", names.get(key, key), n, prev, kind=kind))
        top.sort(key=lambda r: (-r["count"], r["key"]))
    tables["top_questions"] = top[:TOP_LIMIT]

    def cat_name(key: str) -> str:
        cat = routing.categories.get(key)
        return cat.name if cat else key

    now_counts: dict[str, int] = defaultdict(int)
    prev_counts: dict[str, int] = defaultdict(int)
    for t in facts.tickets:
        if t["type"] == "complaint":
            now_counts[t["category"]] += 1
    for t in previous_tickets:
        if t["type"] == "complaint" and common(t) and ticket(t):
            prev_counts[t["category"]] += 1
    tables["complaint_categories"] = sorted(
        (_trend(k, cat_name(k), now_counts[k], prev_counts[k])
         for k in set(now_counts) | set(prev_counts)),
        key=lambda r: (-r["count"], -r["previous"], r["key"]),
    )  # fmt: skip

    by_dep: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in facts.tickets:
        by_dep[t["department"]].append(t)
    on_time = []
    for dep, rows in sorted(by_dep.items()):
        judged = [t for t in rows if _judged(t, now)]
        good = sum(1 for t in judged if _on_time(t))
        on_time.append({
            "key": dep, "label": rows[0]["department_name"], "on_time": good,
            "judged": len(judged), "value": good / len(judged) if judged else None,
        })  # fmt: skip
    tables["on_time_by_department"] = on_time

    low: list[dict[str, Any]] = []
    for t in facts.tickets:
        if t["rating"] is not None and t["rating"] <= 2:
            low.append(_low("ticket", t["rating"], t["comment"], _iso(t["rated"]),
                            department=t["department_name"], category=cat_name(t["category"]),
                            ticket_number=t["number"]))  # fmt: skip
    if not tickets_only:
        for h in facts.handoffs:
            if h["rating"] is not None and h["rating"] <= 2:
                low.append(_low("agent", h["rating"], h["comment"], _iso(h["queued"]),
                                conversation_id=h["conversation_id"]))  # fmt: skip
        for r in raw["low_assistant"]:
            if common({"channel": r.channel}) and r.rating is not None:
                low.append(_low("assistant", int(r.rating), None, _iso(float(r.ts)),
                                conversation_id=r.conversation_id))  # fmt: skip
    low.sort(key=lambda r: r["at"] or "", reverse=True)
    tables["low_ratings"] = low[:TABLE_LIMIT]

    overdue = [t for t in facts.tickets if _overdue(t, now)]
    overdue.sort(key=lambda t: t["deadline"])
    tables["overdue_tickets"] = [
        {"ticket_number": t["number"], "department": t["department"],
         "department_name": t["department_name"], "category": cat_name(t["category"]),
         "status": t["status"], "deadline": _iso(t["deadline"]),
         "overdue_hours": round((now - t["deadline"]) / 3600.0, 1)}
        for t in overdue[:TABLE_LIMIT]
    ]  # fmt: skip
    return tables


def _low(source: str, rating: int, comment: str | None, at: str | None, *,
         department: str | None = None, category: str | None = None,
         **ref: str) -> dict[str, Any]:  # fmt: skip
    """A low_ratings row: ``ref`` is ticket_number or conversation_id."""
    return {"source": source, "department": department, "category": category,
            "rating": rating, "comment": comment, **ref, "at": at}  # fmt: skip


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, LOCAL_TZ).isoformat(timespec="seconds")
