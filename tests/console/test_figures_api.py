"""``GET /console/api/figures`` (+ ``.csv``, ``.xlsx``): supervisors see every
figure, a department user only its own department's, agents get 403."""

from __future__ import annotations

import csv
import io

import aiohttp
from aiohttp.test_utils import TestClient

from bot.console.auth import USERS_KEY
from bot.db import Database
from bot.db.database import utc_now
from tests.console.conftest import SignIn
from tests.reports.scene import small_day
from tests.reports.xlsx import read_workbook

Q = "?since=2026-11-30&until=2026-11-30"
PATHS = ("/console/api/figures", "/console/api/figures.csv", "/console/api/figures.xlsx")


async def seeded(console_db: Database) -> None:
    await small_day(console_db)
    console_db.clock = utc_now  # the app's sessions run on the real clock


async def test_supervisor_sees_every_figure_and_downloads_them(
    client: TestClient, sign_in: SignIn, console_db: Database
) -> None:
    await seeded(console_db)
    boss = await sign_in(client, "banzhang", role="supervisor")
    doc = await boss.json("/console/api/figures" + Q)
    assert doc["scope"] == {"department": None, "filters": {}}
    assert doc["figures"]["conversations"]["value"] == 16
    assert doc["figures"]["tickets_created"]["value"] == 4
    assert doc["figures"]["message_answered_5s_rate"]["numerator"] == 19
    web = await boss.json("/console/api/figures" + Q + "&channel=webchat&group=week")
    assert web["figures"]["conversations"]["value"] == 5
    assert [s["period"] for s in web["series"]] == ["2026-11-30"]
    dep = await boss.json("/console/api/figures" + Q + "&department=transport")
    assert dep["figures"]["tickets_created"]["value"] == 1

    resp = await boss.get("/console/api/figures.csv" + Q)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert resp.headers["Content-Disposition"] == (
        'attachment; filename="figures-2026-11-30-2026-11-30.csv"'
    )
    body = (await resp.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert ["conversations", "会话数", "16", "16", "16", ""] in rows

    resp = await boss.get("/console/api/figures.xlsx" + Q)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert resp.headers["Content-Disposition"].endswith('.xlsx"')
    sheets = read_workbook(await resp.read())
    assert {r[0]: r[2] for r in sheets["指标 figures"][1:]}["tickets_created"] == 4.0
    # every download is audited
    audit = await client.app[USERS_KEY].audit.list(action="export")
    assert sorted(r["target"] for r in audit) == ["figures.csv", "figures.xlsx"]
    assert all(r["actor"] == "banzhang" for r in audit)


async def test_a_department_sees_only_its_own_tickets_figures(
    client: TestClient, sign_in: SignIn, console_db: Database
) -> None:
    await seeded(console_db)
    env = await sign_in(client, "huanjing", role="department")  # ecology_environment
    doc = await env.json("/console/api/figures" + Q + "&department=transport")
    assert doc["scope"]["department"] == "ecology_environment"
    assert doc["figures"]["tickets_created"]["value"] == 3  # T1, T3, T4, not transport's T2
    assert doc["figures"]["conversations"]["applicable"] is False
    assert doc["tables"]["top_questions"] == []
    assert [b["key"] for b in doc["breakdowns"]["department"]] == ["ecology_environment"]
    resp = await env.get("/console/api/figures.csv" + Q)
    assert resp.status == 200
    assert "ecology_environment" in resp.headers["Content-Disposition"]
    body = (await resp.read()).decode("utf-8-sig")
    assert "transport" not in body
    assert (await env.get("/console/api/figures.xlsx" + Q)).status == 200


async def test_agents_get_403_and_strangers_401(client: TestClient, sign_in: SignIn) -> None:
    agent = await sign_in(client, "zhangsan", role="agent")
    for path in PATHS:
        resp = await agent.get(path + Q)
        assert resp.status == 403, path
        assert (await resp.json())["error"] == "forbidden"
    async with aiohttp.ClientSession() as stranger:
        base = str(client.make_url("")).rstrip("/")
        for path in PATHS:
            resp = await stranger.get(base + path + Q, headers={"Accept": "application/json"})
            assert resp.status == 401, path


async def test_bad_queries_answer_400(client: TestClient, sign_in: SignIn) -> None:
    boss = await sign_in(client, "banzhang", role="supervisor")
    for query, message in (
        ("?since=2026-13-01", "since 日期格式应为 YYYY-MM-DD"),
        ("?since=2026-12-02&until=2026-12-01", "结束日期早于开始日期"),
        ("?since=2026-12-01&until=2026-12-01&group=hour", "group 只能是"),
    ):
        for path in PATHS:
            resp = await boss.get(path + query)
            assert resp.status == 400, (path, query)
            body = await resp.json()
            assert body["error"] == "bad_request"
            assert message in body["message"]
    # no dates: today
    doc = await boss.json("/console/api/figures")
    assert doc["since"] == doc["until"]
