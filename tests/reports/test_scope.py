"""What the figures leave out and whom they show: drills, the window's edges,
filters, the department scope, bad periods."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.db import Database
from bot.reports import ReportError, compute_report
from tests.reports.scene import DAY, FAQ_A, NOW, Scene, at, small_day


def strip(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "generated_at"}


async def test_drill_traffic_changes_no_figure(db: Database) -> None:
    await small_day(db)
    db.clock = lambda: NOW
    before = await compute_report(db, DAY, DAY)
    s = Scene(db)
    # A drill: a busy conversation, a handoff, a fallback, a rating and a
    # ticket, each event marked drill.
    cid = "webchat:drill2"
    for minute in range(5):
        await s.message(cid, at(11, minute), "in", "citizen")
        await s.message(cid, at(11, minute, 30), "out", "bot")
        await s.event("answered", cid, at(11, minute, 30), drill=True)
    await s.event("fallback", cid, at(11, 1, 30), drill=True)
    await s.event("rating", cid, at(11, 2, 30), rating=1, drill=True)
    await s.event("faq_answered", cid, at(11, 3, 30), faq=FAQ_A, drill=True)
    await s.handoff(cid, at(11, 4, 31), at(11, 9), at(11, 20), "closed", rating=1)
    await s.ticket(cid, at(11, 21), "noise")
    db.clock = lambda: NOW
    after = await compute_report(db, DAY, DAY)
    assert strip(after) == strip(before)
    # ... and the same traffic without the flag does count
    await s.event("rating", "webchat:c1", at(9, 3), rating=1, drill=False)
    db.clock = lambda: NOW
    counted = await compute_report(db, DAY, DAY)
    assert counted["figures"]["satisfaction_assistant_rate"]["denominator"] == 3
    # one drill event in a conversation leaves the whole conversation out
    await s.event("rating", "webchat:c1", at(9, 4), rating=5, drill=True)
    db.clock = lambda: NOW
    marked = await compute_report(db, DAY, DAY)
    assert marked["figures"]["conversations"]["value"] == 15
    assert marked["figures"]["citizen_messages"]["value"] == 20  # C1's two are out


async def test_the_window_holds_its_first_second_and_not_the_next_day(db: Database) -> None:
    s = Scene(db)
    # 00:00:00 and 23:59:58 (answered at 23:59:59) local of the day are in;
    # 00:00:00 of the next day is not.
    for cid, t in (("webchat:a", at(0)), ("webchat:b", at(23, 59, 58)),
                   ("webchat:c", at(0, 0, 0, dt.date(2026, 12, 1)))):  # fmt: skip
        await s.turn(cid, t, t + dt.timedelta(seconds=1), ("faq_answered", {"faq": FAQ_A}))
    db.clock = lambda: NOW
    doc = await compute_report(db, DAY, DAY)
    assert doc["figures"]["citizen_messages"]["value"] == 2
    assert doc["figures"]["conversations"]["value"] == 2
    assert doc["figures"]["fallback_rate"]["denominator"] == 2  # answered events
    assert doc["tables"]["top_questions"][0]["count"] == 2
    # 23:59:59 in UTC is 07:59:59 local the next day: the local day decides
    utc_late = dt.datetime(2026, 11, 30, 23, 59, 59, tzinfo=dt.UTC)
    await s.turn("webchat:d", utc_late, utc_late + dt.timedelta(seconds=1))
    db.clock = lambda: NOW
    assert (await compute_report(db, DAY, DAY))["figures"]["citizen_messages"]["value"] == 2
    next_day = await compute_report(db, dt.date(2026, 12, 1), dt.date(2026, 12, 1))
    assert next_day["figures"]["citizen_messages"]["value"] == 2  # c and d


async def test_filters_and_the_department_scope(db: Database) -> None:
    numbers = await small_day(db)
    db.clock = lambda: NOW
    web = await compute_report(db, DAY, DAY, filters={"channel": "webchat"})
    assert web["figures"]["conversations"]["value"] == 5
    assert web["figures"]["tickets_created"]["value"] == 1  # T4
    assert web["scope"] == {"department": None, "filters": {"channel": "webchat"}}
    assert [b["key"] for b in web["breakdowns"]["channel"]] == ["webchat"]

    env = await compute_report(db, DAY, DAY, department_scope="ecology_environment")
    assert env["scope"]["department"] == "ecology_environment"
    assert env["figures"]["tickets_created"]["value"] == 3  # T1, T3, T4
    assert env["figures"]["overdue_tickets"]["value"] == 0  # T2 is transport's
    for key in ("conversations", "message_answered_5s_rate", "handoff_answered_20s_rate"):
        assert env["figures"][key] == {
            "value": None,
            "numerator": 0,
            "denominator": 0,
            "applicable": False,
        }
    assert env["tables"]["top_questions"] == []
    assert [r["source"] for r in env["tables"]["low_ratings"]] == ["ticket"]
    assert env["tables"]["overdue_tickets"] == []
    assert [b["key"] for b in env["breakdowns"]["department"]] == ["ecology_environment"]
    assert env["breakdowns"]["channel"][0]["figures"]["conversations"]["applicable"] is False

    transport = await compute_report(db, DAY, DAY, department_scope="transport",
                                     filters={"department": "ecology_environment"})  # fmt: skip
    # the scope wins over a department filter: a department sees only its own
    assert transport["figures"]["tickets_created"]["value"] == 1
    assert [r["ticket_number"] for r in transport["tables"]["overdue_tickets"]] == [numbers["T2"]]

    noise = await compute_report(db, DAY, DAY, filters={"category": "noise"})
    assert noise["figures"]["tickets_created"]["value"] == 3
    assert noise["figures"]["resolved_by_assistant_rate"]["applicable"] is False
    town = await compute_report(db, DAY, DAY, filters={"town": "未识别"})
    assert town["figures"]["tickets_created"]["value"] == 4


@pytest.mark.parametrize(
    ("since", "until", "group", "filters", "message"),
    [
        (dt.date(2026, 12, 2), dt.date(2026, 12, 1), "day", None, "结束日期早于开始日期"),
        (dt.date(2025, 1, 1), dt.date(2026, 12, 1), "day", None, "最长 366 天"),
        (DAY, DAY, "year", None, "group 只能是"),
        (DAY, DAY, "day", {"colour": "red"}, "未知的筛选条件 colour"),
    ],
)
async def test_bad_periods_are_refused_clearly(
    db: Database, since: dt.date, until: dt.date, group: str, filters: Any, message: str
) -> None:
    with pytest.raises(ReportError, match=message):
        await compute_report(db, since, until, group=group, filters=filters)


async def test_an_empty_period_has_null_rates(db: Database) -> None:
    doc = await compute_report(db, DAY, DAY)
    assert doc["figures"]["message_answered_5s_rate"] == {
        "value": None,
        "numerator": 0,
        "denominator": 0,
    }
    assert doc["figures"]["conversations"]["value"] == 0
    assert doc["series"][0]["period"] == "2026-11-30"
    assert all(not rows for rows in doc["tables"].values())
