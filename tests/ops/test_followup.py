"""Follow-up (回访): the list against hand-made tickets, outcomes recorded on the
timeline and in events, automatic closing by the scheduler's job, role checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp.test_utils import TestClient

from bot.db import Database
from bot.ops.followup import AUTO_CLOSE_REASON
from bot.ops.jobs import FOLLOWUP_CLOSE
from bot.ops.scheduler import Scheduler
from bot.store import MemoryStore
from tests.console.conftest import SignIn
from tests.db.conftest import ticket_args
from tests.ops.conftest import ops_of
from tests.tickets.conftest import Clock

API = "/console/api/followups"


async def _replied(db: Database, key: str, **kw: Any) -> str:
    ticket, _ = await db.tickets.create(**ticket_args(key, conversation_id=f"webchat:{key}", **kw))
    await db.tickets.reply(ticket.number, "已责令商铺停止夜间外放广告。", actor="dept:env")
    return ticket.number


async def _kinds(db: Database, number: str) -> list[tuple[str, str]]:
    ticket = await db.tickets.get(number)
    assert ticket is not None
    return [(e.kind, e.actor) for e in ticket.events]


async def test_the_list_holds_answered_unrated_tickets_after_n_days(
    front_door: TestClient, ops_db: Database, clock: Clock, sign_in: SignIn
) -> None:
    db = ops_db
    start = clock.now
    old = await _replied(db, "old")  # answered 4 days before the check: due
    rated = await _replied(db, "rated")
    await db.tickets.rate(rated, 5)  # rated by the citizen: not listed
    closed = await _replied(db, "closed")
    await db.tickets.close(closed, actor="banzhang")  # closed by hand: not listed
    waiting = await _replied(db, "waiting")
    unanswered, _ = await db.tickets.create(**ticket_args("open"))  # never answered
    clock.advance(days=2)
    fresh = await _replied(db, "fresh")  # answered 2 days before the check: not yet
    again = await _replied(db, "again")
    await db.tickets.rate(again, 1)  # reopened ...
    await db.tickets.assign(again, "ecology_environment", actor="banzhang")
    await db.tickets.reply(again, "已再次处理。", actor="dept:env")  # ... answered again: 2 days
    clock.advance(days=1)
    await ops_of(front_door).followups.record(
        waiting, actor="lixiao", method="call", outcome="unreachable"
    )
    clock.advance(days=1)  # now: 4 days after the first answers

    agent = await sign_in(front_door, "lixiao", "agent", display_name="李晓")
    body = await agent.json(API)
    assert [i["number"] for i in body["due"]] == [old]
    assert [i["number"] for i in body["awaiting"]] == [waiting]
    assert body["followup_days"] == 3 and body["close_days"] == 7
    due = body["due"][0]
    assert due["state"] == "due" and due["reply"] == "已责令商铺停止夜间外放广告。"
    assert due["contact_phone"] == "138****5678" and "13812345678" not in str(body)
    assert dt.datetime.fromisoformat(due["replied_at"]) == start
    awaiting = body["awaiting"][0]
    assert [(a["outcome"], a["method"], a["actor"]) for a in awaiting["attempts"]] == [
        ("unreachable", "call", "lixiao")
    ]
    first_attempt = start + dt.timedelta(days=3)
    assert dt.datetime.fromisoformat(awaiting["close_at"]) == first_attempt + dt.timedelta(days=7)
    listed = {i["number"] for i in body["due"] + body["awaiting"]}
    assert not listed & {rated, closed, fresh, again, unanswered.number}


async def test_outcomes_are_recorded_on_the_timeline_and_in_events(
    front_door: TestClient, ops_db: Database, clock: Clock, sign_in: SignIn
) -> None:
    db = ops_db
    happy, unhappy, unsolved = [await _replied(db, k) for k in ("happy", "unhappy", "unsolved")]
    clock.advance(days=4)
    agent = await sign_in(front_door, "lixiao", "agent")

    ticket = (await db.tickets.get(happy)).version  # type: ignore[union-attr]
    resp = await agent.post(
        f"{API}/{happy}",
        {"method": "call", "outcome": "satisfied", "rating": 5, "note": "市民表示噪音已消除",
         "version": ticket},
    )  # fmt: skip
    assert resp.status == 200, await resp.text()
    shown = (await resp.json())["ticket"]
    assert shown["status"] == "closed" and shown["rating"] == 5
    assert (await _kinds(db, happy))[-3:] == [
        ("followup", "lixiao"), ("rated", "lixiao"), ("closed", "lixiao")
    ]
    events = (await db.tickets.get(happy)).events  # type: ignore[union-attr]
    assert events[-3].data == {"method": "call", "outcome": "satisfied", "rating": 5,
                               "note": "市民表示噪音已消除"}  # fmt: skip
    assert events[-2].data["via"] == "followup" and events[-2].data["rating"] == 5

    resp = await agent.post(
        f"{API}/{unhappy}", {"method": "message", "outcome": "not_satisfied", "rating": 2}
    )
    assert resp.status == 200 and (await resp.json())["ticket"]["status"] == "reopened"
    resp = await agent.post(f"{API}/{unsolved}", {"method": "call", "outcome": "reopened"})
    assert resp.status == 200 and (await resp.json())["ticket"]["status"] == "reopened"
    assert (await _kinds(db, unsolved))[-2:] == [("followup", "lixiao"), ("reopened", "lixiao")]

    counts = await db.events.counts("followup.")
    assert counts == {"followup.recorded": 3}
    # a rating taken on the follow-up counts like the citizen's own
    assert await db.events.counts("ticket.rated") == {"ticket.rated": 2}


async def test_bad_follow_ups_are_refused_and_change_nothing(
    front_door: TestClient, ops_db: Database, clock: Clock, sign_in: SignIn
) -> None:
    db = ops_db
    number = await _replied(db, "t")
    unanswered, _ = await db.tickets.create(**ticket_args("open"))
    agent = await sign_in(front_door, "lixiao", "agent")
    before = await _kinds(db, number)
    cases = [
        ({"method": "call", "outcome": "satisfied", "rating": 2}, 400),  # satisfied is 3-5
        ({"method": "call", "outcome": "satisfied"}, 400),  # no rating
        ({"method": "call", "outcome": "unreachable", "rating": 4}, 400),
        ({"method": "fax", "outcome": "unreachable"}, 400),
        ({"method": "call", "outcome": "gone"}, 400),
        ({"method": "call", "outcome": "satisfied", "rating": "5"}, 400),
        ({"method": "call", "outcome": "unreachable", "version": 1}, 409),  # stale page
        ({"method": "call", "outcome": "unreachable", "note": 5}, 400),
    ]
    for body, status in cases:
        resp = await agent.post(f"{API}/{number}", body)
        assert resp.status == status, (body, await resp.text())
    assert await _kinds(db, number) == before
    resp = await agent.post(f"{API}/{unanswered.number}", {"method": "call", "outcome": "messaged"})
    assert resp.status == 409  # not answered yet: nothing to follow up
    resp = await agent.post(f"{API}/20261205-999999", {"method": "call", "outcome": "messaged"})
    assert resp.status == 404
    assert await db.events.counts("followup.") == {}


async def test_no_answer_after_the_follow_up_closes_the_ticket(
    front_door: TestClient, ops_db: Database, clock: Clock
) -> None:
    db = ops_db
    ops = ops_of(front_door)
    silent, later, rated = [await _replied(db, k) for k in ("silent", "later", "rated")]
    clock.advance(days=3)
    await ops.followups.record(silent, actor="lixiao", method="call", outcome="unreachable")
    await ops.followups.record(rated, actor="lixiao", method="message", outcome="messaged")
    clock.advance(days=1)
    await ops.followups.record(later, actor="lixiao", method="message", outcome="messaged")
    await ops.followups.record(silent, actor="lixiao", method="call", outcome="unreachable")
    await db.tickets.rate(rated, 4)  # the citizen answered the message
    clock.advance(days=6, hours=1)  # 7 days and an hour after silent's first attempt

    jobs = [j for j in ops.scheduler.jobs if j.name == FOLLOWUP_CLOSE]
    scheduler = Scheduler(MemoryStore(), ops.runs, jobs, lock_ttl=30)
    done = await scheduler.tick()
    await scheduler._let_go()
    assert [(r.job, r.status, r.detail["closed"]) for r in done] == [
        (FOLLOWUP_CLOSE, "ok", [silent])
    ]
    ticket = await db.tickets.get(silent)
    assert ticket is not None and ticket.status == "closed" and ticket.rating is None
    last = ticket.events[-1]
    assert (last.kind, last.actor, last.data) == ("closed", "system", {"reason": AUTO_CLOSE_REASON})
    assert (await db.tickets.get(later)).status == "replied"  # type: ignore[union-attr]
    assert (await db.tickets.get(rated)).status == "closed"  # type: ignore[union-attr]
    assert await db.events.counts("followup.auto_closed") == {"followup.auto_closed": 1}
    items = await ops.followups.items()
    assert [i.ticket.number for i in items] == [later]


async def test_roles(front_door: TestClient, ops_db: Database, sign_in: SignIn) -> None:
    number = await _replied(ops_db, "t")
    dept = await sign_in(front_door, "huanbao", "department")
    for path in ("/console/followups", API):
        assert (await dept.get(path)).status == 403
    resp = await dept.post(f"{API}/{number}", {"method": "call", "outcome": "messaged"})
    assert resp.status == 403
    supervisor = await sign_in(front_door, "banzhang", "supervisor")
    assert (await supervisor.get("/console/followups")).status == 200
    assert (await supervisor.json(API))["due"] == []
    resp = await front_door.get(API)
    assert resp.status == 401
    page = await front_door.get("/console/followups", headers={"Accept": "text/html"},
                                allow_redirects=False)  # fmt: skip
    assert page.status == 302
