"""The figures of a small day (tests/reports/scene.py) against hand-computed
values, on SQLite and on real PostgreSQL.

The day, 2026-11-30, citizens C1..C14 (plus a drill conversation and one
citizen on each neighbouring day, outside the window):

C1 webchat  FAQ A in 2 s; rates the assistant 5 (1 s)
C2 wechat   FAQ B in 7 s; back on FAQ B at 13:00 (1 s): a second conversation
C3 telegram fallback (1 s)
C4 webchat  FAQ A (1 s), then a fallback (2 s)
C5 wechat   guidance S1 (1 s), online offered, 已办好 (1 s), rates 2 (1 s)
C6 rest     guidance S2 (3 s), online offered; 遇到问题 at 18:00 (1 s): second conversation
C7 webchat  guidance S3 in exactly 5 s, online offered, never answered
C8 wechat   bot (1 s); handoff taken in 10 s, closed, rated 5; one message while the agent held it
C9 telegram bot (1 s); handoff taken in 45 s, handed back, rated 2 "等太久";
            the agent writes ticket T2 (roads)
C10 webchat bot (1 s); handoff abandoned after 2 min
C11 wechat  bot (2 s); handoff taken in 3 s but requeued; the new row taken in exactly 60 s, closed
C12 rest    bot (1 s), bot (9 s); noise complaint T1
C13 wechat  bot (1 s); noise complaint T3
C14 webchat bot (1 s); noise complaint T4
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.db import Database
from bot.reports import compute_report
from tests.reports.scene import DAY, FAQ_A, FAQ_B, NOW, S1, S2, S3, small_day


def fig(doc: dict, key: str) -> tuple:
    f = doc["figures"][key]
    return f["value"], f["numerator"], f["denominator"]


@pytest.mark.postgres
async def test_every_figure_of_the_small_day(any_db: Database) -> None:
    numbers = await small_day(any_db)
    any_db.clock = lambda: NOW
    doc = await compute_report(any_db, DAY, DAY)

    assert doc["since"] == doc["until"] == "2026-11-30"
    assert doc["drills_excluded"] is True
    # Citizen messages: C1 2, C2 2, C3 1, C4 2, C5 3, C6 2, C7 1, C8 2, C9 1,
    # C10 1, C11 1, C12 2, C13 1, C14 1 = 22 (the drill's and the neighbours' not).
    assert fig(doc, "citizen_messages") == (22, 22, 22)
    # Measured: 22 - C8's message while the agent held it = 21; slower than
    # 5 s: C2 (7 s) and C12 (9 s); C7's 5.0 s counts -> 19 / 21.
    assert fig(doc, "message_answered_5s_rate") == (19 / 21, 19, 21)
    # Handoff rows: C8 (10 s), C9 (45 s), C10 (abandoned), C11's second row
    # (60 s); C11's requeued row is not counted -> 4 rows, 3 taken.
    assert fig(doc, "handoffs") == (4, 4, 4)
    assert fig(doc, "handoff_answered_20s_rate") == (1 / 4, 1, 4)  # C8
    assert fig(doc, "handoff_answered_60s_rate") == (3 / 4, 3, 4)  # C8, C9, C11 (60 s)
    assert fig(doc, "handoff_abandoned_rate") == (1 / 4, 1, 4)  # C10
    # Waits [10, 45, 60]: median 45; p90 = 45 + 0.8 * (60 - 45) = 57.
    assert fig(doc, "handoff_wait_median_s") == (45.0, 3, 3)
    assert fig(doc, "handoff_wait_p90_s") == (57.0, 3, 3)
    # Conversations: 14 citizens + C2's and C6's second ones = 16.
    assert fig(doc, "conversations") == (16, 16, 16)
    # Settled by the assistant: C1, C2's second, C5, C6's first, C7 = 5.
    # Not: C2's first (back on FAQ B within 24 h), C3 (no topic, fallback),
    # C4 (ends in a fallback), C6's second (no topic), C8-C11 (a person),
    # C12-C14 (tickets).
    assert fig(doc, "resolved_by_assistant_rate") == (5 / 16, 5, 16)
    # Claimed handoffs: C8, C9, C11; settled: C8 and C11 (C9 ended in a ticket).
    assert fig(doc, "resolved_by_agent_rate") == (2 / 3, 2, 3)
    # No person, no ticket: C1, C2 x2, C3, C4, C5, C6 x2, C7 = 9.
    assert fig(doc, "containment_rate") == (9 / 16, 9, 16)
    # Assistant turns (answered events): 22 messages - C8's held one = 21; fallbacks C3, C4.
    assert fig(doc, "fallback_rate") == (2 / 21, 2, 21)
    # Ratings of the assistant: C1 5, C5 2 -> 1 / 2; 2 of 16 conversations rated.
    sat = doc["figures"]["satisfaction_assistant_rate"]
    assert (sat["value"], sat["numerator"], sat["denominator"]) == (0.5, 1, 2)
    assert (sat["rated_conversations"], sat["asked"], sat["response_rate"]) == (2, 16, 2 / 16)
    # Agents: C8 5, C9 2 -> 1 / 2; rated 2 of 3 claimed rows.
    sat = doc["figures"]["satisfaction_agent_rate"]
    assert (sat["value"], sat["numerator"], sat["denominator"]) == (0.5, 1, 2)
    assert (sat["asked"], sat["response_rate"]) == (3, 2 / 3)
    # Online: offered S1, S2, S3 = 3; answered C5 done, C6 problem -> 1 / 2, coverage 2 / 3.
    online = doc["figures"]["online_success_rate"]
    assert (online["value"], online["numerator"], online["denominator"]) == (0.5, 1, 2)
    assert (online["offered"], online["coverage"]) == (3, 2 / 3)
    assert (online["answered_first"], online["answered_followup"]) == (1, 1)

    # Tickets of the day: T1, T2, T3, T4 (T0 is the day before, Tdrill a drill).
    assert fig(doc, "tickets_created") == (4, 4, 4)
    # Closed and never reopened: T1 (rated 5), T4 (closed after the follow-up).
    assert fig(doc, "ticket_closed_not_reopened_rate") == (2 / 4, 2, 4)
    # Judged: T1, T3, T4 (replied) and T2 (deadline 12-07 passed, no reply) = 4;
    # on time: T1 (12-02), T4 (12-01); T3's first reply (12-05) was after 12-03,
    # its new deadline after the re-assignment does not excuse it.
    assert fig(doc, "ticket_on_time_rate") == (2 / 4, 2, 4)
    # Replied or closed once: T1, T3, T4; reopened: T3.
    assert fig(doc, "ticket_reopen_rate") == (1 / 3, 1, 3)
    # Open past the deadline now (12-10): T2 (T3 is replied again).
    assert fig(doc, "overdue_tickets") == (1, 1, 4)
    # Ticket ratings: T1 5, T3 1 -> 1 / 2; 2 rated of 3 replied.
    sat = doc["figures"]["satisfaction_ticket_rate"]
    assert (sat["value"], sat["numerator"], sat["denominator"]) == (0.5, 1, 2)
    assert (sat["asked"], sat["response_rate"]) == (3, 2 / 3)

    tables = doc["tables"]
    # FAQ A: C1, C4 (C16's is the previous day: previous 1); FAQ B: C2 twice.
    top = [(r["key"], r["count"], r["previous"], r["change_rate"]) for r in tables["top_questions"]]
    assert top == [
        (f"faq:{FAQ_B}", 2, 0, None),  # si_payment_record < si_transfer_in
        (f"faq:{FAQ_A}", 2, 1, 1.0),
        (f"service:{S2}", 1, 0, None),
        (f"service:{S1}", 1, 0, None),
        (f"service:{S3}", 1, 0, None),
    ]  # most asked first, then by key (id_card < residence_permit < social_security_card)
    # Complaints: noise 3 (T1, T3, T4) against 1 the day before (T0): +2, +200 %.
    assert [(r["key"], r["count"], r["previous"], r["change"], r["change_rate"])
            for r in tables["complaint_categories"]] == [("noise", 3, 1, 2, 2.0)]  # fmt: skip
    assert tables["on_time_by_department"] == [
        {"key": "ecology_environment", "label": "市生态环境局", "on_time": 2, "judged": 3,
         "value": 2 / 3},
        {"key": "transport", "label": "市交通运输局", "on_time": 0, "judged": 1, "value": 0.0},
    ]  # fmt: skip
    # Low ratings, newest first: T3's 1 (12-05), C5's 2 (12:11:01), C9's 2 (10:30:01).
    low = [(r["source"], r["rating"], r["comment"], r.get("ticket_number") or
            r.get("conversation_id"), r["at"]) for r in tables["low_ratings"]]  # fmt: skip
    assert low == [
        ("ticket", 1, "没解决", numbers["T3"], "2026-12-05T10:00:00+08:00"),
        ("assistant", 2, None, "wechat:c5", "2026-11-30T12:11:01+08:00"),
        ("agent", 2, "等太久", "telegram:c9", "2026-11-30T10:30:01+08:00"),
    ]
    # T2: deadline 12-07 23:59:59, now 12-10 12:00 -> 60.0 hours overdue.
    assert [(r["ticket_number"], r["overdue_hours"]) for r in tables["overdue_tickets"]] == [
        (numbers["T2"], 60.0)
    ]

    # By channel: webchat C1, C4, C7, C10, C14 (7 messages, all within 5 s).
    web = next(b for b in doc["breakdowns"]["channel"] if b["key"] == "webchat")
    assert web["label"] == "网页"
    assert web["figures"]["conversations"]["value"] == 5
    assert web["figures"]["message_answered_5s_rate"]["numerator"] == 7
    assert web["figures"]["message_answered_5s_rate"]["denominator"] == 7
    wechat = next(b for b in doc["breakdowns"]["channel"] if b["key"] == "wechat")
    # C2 x2, C5, C8, C11, C13; handoffs C8, C11.
    assert wechat["figures"]["conversations"]["value"] == 6
    assert wechat["figures"]["handoffs"]["value"] == 2
    # By department: ecology_environment T1, T3, T4; transport T2 (overdue).
    deps = {b["key"]: b["figures"] for b in doc["breakdowns"]["department"]}
    assert deps["ecology_environment"]["tickets_created"]["value"] == 3
    assert deps["transport"]["overdue_tickets"]["value"] == 1
    # No town on tickets today: all "未识别".
    assert [(b["key"], b["figures"]["tickets_created"]["value"])
            for b in doc["breakdowns"]["town"]] == [("未识别", 4)]  # fmt: skip
    assert [s["period"] for s in doc["series"]] == ["2026-11-30"]
    assert doc["series"][0]["figures"] == doc["figures"]


async def test_series_by_day_week_and_month(db: Database) -> None:
    await small_day(db)
    db.clock = lambda: NOW
    doc = await compute_report(db, dt.date(2026, 11, 29), dt.date(2026, 12, 1))
    # 11-29: C16 (and ticket T0); 11-30: the 16 conversations; 12-01: C17 at 00:00:00.
    by_day = {s["period"]: s["figures"] for s in doc["series"]}
    assert list(by_day) == ["2026-11-29", "2026-11-30", "2026-12-01"]
    assert [by_day[p]["conversations"]["value"] for p in by_day] == [1, 16, 1]
    assert [by_day[p]["tickets_created"]["value"] for p in by_day] == [1, 4, 0]
    assert doc["figures"]["conversations"]["value"] == 18
    week = await compute_report(db, dt.date(2026, 11, 29), dt.date(2026, 12, 1), group="week")
    # 11-29 is a Sunday (week of 11-23); 11-30 and 12-01 are in the week of 11-30.
    assert [(s["period"], s["figures"]["conversations"]["value"]) for s in week["series"]] == [
        ("2026-11-23", 1), ("2026-11-30", 17)
    ]  # fmt: skip
    month = await compute_report(db, dt.date(2026, 11, 29), dt.date(2026, 12, 1), group="month")
    assert [(s["period"], s["figures"]["conversations"]["value"]) for s in month["series"]] == [
        ("2026-11-01", 17), ("2026-12-01", 1)
    ]  # fmt: skip
