"""The supervisors' live wallboard (``GET /console/api/wallboard``) and the
dashboard page's roles, against records the test writes itself."""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from cryptography.fernet import Fernet

from bot.console.wallboard import day_start, wallboard
from bot.db import Database
from bot.db.crypto import Cipher
from bot.db.models import LOCAL_TZ
from bot.db.schema import events, handoffs, transcripts
from tests.console.conftest import SignIn, console_of, runtime_of, say
from tests.db.conftest import pg_factory  # noqa: F401  (a fixture, for PostgreSQL below)

S = dt.timedelta(seconds=1)


@pytest.fixture
async def console_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """SQLite, or a fresh PostgreSQL database where a test asks for it (indirect)."""
    if getattr(request, "param", "sqlite") == "postgresql":
        url = request.getfixturevalue("pg_factory")()
    else:
        url = f"sqlite:///{tmp_path / 'hotline.db'}"
    db = Database(url, cipher=Cipher([Fernet.generate_key().decode()]))
    await db.connect()
    yield db
    await db.close()


def _now() -> dt.datetime:
    """Now, or 20 minutes past midnight when the local day has just begun
    (every record of a test must fall on the same local day)."""
    now = dt.datetime.now(LOCAL_TZ)
    return max(now, day_start(now) + dt.timedelta(minutes=20))


def _msg(cid: str, direction: str, at: dt.datetime, text: str = "你好") -> dict[str, Any]:
    sender = "citizen" if direction == "in" else "bot"
    return {
        "conversation_id": cid, "channel": cid.split(":", 1)[0], "direction": direction,
        "sender": sender, "message_id": None, "text": text, "data": {}, "created_at": at,
    }  # fmt: skip


def _handoff(cid: str, queued: dt.datetime, **kw: Any) -> dict[str, Any]:
    row = {
        "conversation_id": cid, "channel": "webchat", "reason": "citizen_request",
        "priority": "normal", "summary": {}, "queued_at": queued, "claimed_at": None,
        "claimed_by": None, "first_agent_message_at": None, "ended_at": None,
        "outcome": None, "rating": None, "comment": None,
    }  # fmt: skip
    row.update(kw)
    return row


@pytest.mark.parametrize(
    "console_db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_answer_rate_handoffs_and_hours_from_the_records(
    client: TestClient, sign_in: SignIn, console_db: Database
) -> None:
    console = console_of(client)
    runtime_of(client).sweeper.stopped = True  # no sweep touches the open row below
    now = _now()
    t = now - dt.timedelta(minutes=15)
    yesterday = day_start(now) - dt.timedelta(minutes=1)
    rows = [
        # answered in 2 s: a success
        _msg("webchat:a", "in", t), _msg("webchat:a", "out", t + 2 * S),
        # two quick messages, one reply 4 s after the first: both within 5 s
        _msg("wechat:b", "in", t + 10 * S), _msg("wechat:b", "in", t + 11 * S),
        _msg("wechat:b", "out", t + 14 * S),
        # answered after 9 s: a failure
        _msg("webchat:c", "in", t + 20 * S), _msg("webchat:c", "out", t + 29 * S),
        # exactly 5 s: a success (within means at most)
        _msg("telegram:d", "in", t + 30 * S), _msg("telegram:d", "out", t + 35 * S),
        # never answered, a minute ago: a failure
        _msg("webchat:e", "in", now - 60 * S),
        # another conversation's reply does not answer e
        _msg("webchat:f", "out", now - 59 * S),
        # 2 s ago, no reply yet: pending, neither success nor failure
        _msg("webchat:g", "in", now - 2 * S),
        # webchat:a is held by an agent from t+12 s: measured by the handoff figures
        _msg("webchat:a", "in", t + 100 * S), _msg("webchat:a", "out", t + 130 * S),
        # a drill's conversation is left out of everything
        _msg("webchat:z", "in", t + 40 * S), _msg("webchat:z", "out", t + 50 * S),
        # yesterday: not today's
        _msg("webchat:h", "in", yesterday), _msg("webchat:h", "out", yesterday + S),
    ]  # fmt: skip
    hand = [
        _handoff("webchat:a", t, claimed_at=t + 12 * S, claimed_by="zhangsan",
                 ended_at=t + 300 * S, outcome="closed"),  # taken in 12 s
        _handoff("webchat:b", t + S, claimed_at=t + 21 * S, claimed_by="zhangsan",
                 ended_at=t + 200 * S, outcome="closed"),  # exactly 20 s: in target
        _handoff("webchat:c", t + 2 * S, claimed_at=t + 50 * S, claimed_by="lisi",
                 ended_at=t + 90 * S, outcome="handed_back"),  # 48 s: late
        _handoff("webchat:d", t + 3 * S, ended_at=t + 9 * S, outcome="abandoned"),  # gave up
        _handoff("webchat:e", t + 4 * S, claimed_at=t + 6 * S, claimed_by="lisi",
                 ended_at=t + 8 * S, outcome="requeued"),  # not counted: its next row is
        _handoff("webchat:e", t + 8 * S, claimed_at=t + 40 * S, claimed_by="zhangsan",
                 ended_at=t + 99 * S, outcome="closed"),  # 32 s: late
        _handoff("webchat:g", now - 5 * S),  # waiting 5 s: pending
        _handoff("webchat:z", t + 41 * S, ended_at=t + 90 * S, outcome="abandoned"),  # drill
        _handoff("webchat:h", yesterday, claimed_at=yesterday + S, claimed_by="lisi",
                 ended_at=yesterday + 9 * S, outcome="closed"),  # yesterday
    ]  # fmt: skip
    async with console.db.write() as conn:
        await conn.execute(transcripts.insert(), rows)
        await conn.execute(handoffs.insert(), hand)
        drill = {"kind": "handoff.requested", "conversation_id": "webchat:z",
                 "ticket_number": None, "data": {"drill": True}, "at": t + 41 * S}  # fmt: skip
        not_drill = dict(drill, conversation_id="webchat:c", data={"drill": "true"})
        await conn.execute(events.insert(), [drill, not_drill])

    board = await wallboard(console, now=now)

    assert board["day"] == now.date().isoformat()
    assert board["answer_rate"] == {
        "value": 4 / 6, "numerator": 4, "denominator": 6, "pending": 1, "target_seconds": 5.0,
    }  # fmt: skip
    assert board["handoffs"] == {
        "value": 2 / 5, "numerator": 2, "denominator": 5, "pending": 1, "target_seconds": 20.0,
    }  # fmt: skip
    counted = [r for r in rows if r["created_at"] >= t and r["conversation_id"] != "webchat:z"]
    today_in = [r["created_at"] for r in counted if r["direction"] == "in"]
    today_out = [r["created_at"] for r in counted if r["direction"] == "out"]
    citizen = collections.Counter(at.astimezone(LOCAL_TZ).hour for at in today_in)
    replies = collections.Counter(at.astimezone(LOCAL_TZ).hour for at in today_out)
    assert board["messages_today"] == 8 == len(today_in)  # the held one counts here
    assert len(board["messages_per_hour"]) == 24
    for bucket in board["messages_per_hour"]:
        assert bucket["citizen"] == citizen[bucket["hour"]]
        assert bucket["replies"] == replies[bucket["hour"]]

    # the API answers the same figures to a supervisor, on the database's clock (set to
    # the test's now: in the first 20 minutes of the local day the records lie ahead of
    # the wall clock, and g becomes decided 5 s after its message)
    console_db.clock = lambda: now  # the app's database (the console holds it wrapped)
    supervisor = await sign_in(client, "banzhang", role="supervisor")
    served = await supervisor.json("/console/api/wallboard")
    assert served["answer_rate"] == board["answer_rate"]
    assert served["handoffs"] == board["handoffs"]


async def test_queue_longest_wait_and_agents_from_the_shared_store(
    client: TestClient, sign_in: SignIn
) -> None:
    """Run on the in-process store and on real Redis (the ``store`` fixture)."""
    console = console_of(client)
    empty = await wallboard(console)
    assert empty["queue"] == {"length": 0, "longest_wait_seconds": None}
    assert empty["agents"] == {"online": 0, "away": 0}

    await say(client, "c1", "转人工")
    await say(client, "c2", "转人工")
    await say(client, "c3", "救命")  # an emergency: first in order, yet the newest
    order = await console.conversations.queue_order()
    assert order[0] == "rest:t:c3"
    first = float((await console.conv("rest:t:c1")).queued_at or 0)
    later = dt.datetime.fromtimestamp(first + 95.4, dt.UTC)
    board = await wallboard(console, now=later)
    assert board["queue"] == {"length": 3, "longest_wait_seconds": 95}

    agent = await sign_in(client, "zhangsan")
    away = await sign_in(client, "banzhang", role="supervisor")
    dept = await sign_in(client, "huanbao", role="department")
    users = console.users
    for who, status in ((agent, "online"), (away, "away"), (dept, "online")):
        user = await users.get(who.id)
        assert user is not None
        await console.presence.beat(user, status)
    board = await wallboard(console)
    assert board["agents"] == {"online": 1, "away": 1}  # department users take no chats

    served = await away.json("/console/api/wallboard")
    assert served["queue"]["length"] == 3 and served["agents"] == {"online": 1, "away": 1}
    assert served["queue"]["longest_wait_seconds"] >= 0


async def test_roles_agents_get_403(client: TestClient, sign_in: SignIn) -> None:
    agent = await sign_in(client, "zhangsan")
    dept = await sign_in(client, "huanbao", role="department")
    supervisor = await sign_in(client, "banzhang", role="supervisor")

    for path in ("/console/api/wallboard", "/console/dashboard"):
        resp = await agent.get(path)
        assert resp.status == 403, path
        assert (await resp.json())["error"] == "forbidden"
    # department users: the page (their own figures), not the hotline's wallboard
    assert (await dept.get("/console/api/wallboard")).status == 403
    page = await dept.get("/console/dashboard")
    assert page.status == 200 and "统计看板" in await page.text()
    page = await supervisor.get("/console/dashboard")
    assert page.status == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    resp = await supervisor.get("/console/api/wallboard")
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    # signed out: 401 for the API, the sign-in page for the page
    anonymous = await client.get("/console/api/wallboard")
    assert anonymous.status == 401
    anonymous = await client.get(
        "/console/dashboard", headers={"Accept": "text/html"}, allow_redirects=False
    )
    assert anonymous.status == 302 and anonymous.headers["Location"] == "/console/login"


async def test_vendored_chart_library_is_served_cached_and_nothing_else(
    client: TestClient,
) -> None:
    resp = await client.get("/console/static/vendor/chart-4.6.1.umd.min.js")
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert resp.headers["Content-Type"].startswith("text/javascript")
    assert (await resp.text()).startswith("/*!\n * Chart.js v4.6.1")
    for bad in ("README.md", "chart.js-LICENSE.md", "..%2Fdashboard.js", ".hidden.js"):
        assert (await client.get("/console/static/vendor/" + bad)).status == 404, bad
    page = await client.get("/console/static/dashboard.js")
    assert page.status == 200 and page.headers["Cache-Control"] == "no-cache"
