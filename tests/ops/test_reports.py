"""Scheduled report documents: their windows, and the console's list and
downloads with each role's scope (documents computed by bot.reports)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from aiohttp.test_utils import TestClient

from bot.db import Database
from bot.db.models import LOCAL_TZ
from bot.ops.reports import ReportJob, load_figures, window
from tests.console.conftest import SignIn
from tests.db.conftest import ticket_args
from tests.ops.conftest import ops_of
from tests.tickets.conftest import Clock

API = "/console/api/scheduled-reports"


def test_windows() -> None:
    day = dt.date(2026, 12, 7)  # a Monday
    assert window("daily", day) == (dt.date(2026, 12, 6), dt.date(2026, 12, 6))
    assert window("weekly", day) == (dt.date(2026, 11, 30), dt.date(2026, 12, 6))
    assert window("monthly", dt.date(2026, 12, 1)) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert window("monthly", dt.date(2027, 1, 1)) == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    with pytest.raises(ValueError):
        window("hourly", day)


async def test_reports_are_stored_listed_and_scoped(
    ops_db: Database, clock: Clock, front_door: TestClient, sign_in: SignIn
) -> None:
    clock.now = dt.datetime(2026, 12, 6, 10, 0, tzinfo=LOCAL_TZ).astimezone(dt.UTC)
    await ops_db.tickets.create(**ticket_args("a", category="noise"))
    await ops_db.tickets.create(**ticket_args("b", category="wages"))
    clock.now = dt.datetime(2026, 12, 7, 2, 0, tzinfo=LOCAL_TZ).astimezone(dt.UTC)
    job = ReportJob(ops_db, "daily", figures=load_figures)
    detail = await job(dt.date(2026, 12, 7))
    departments = sorted(ops_db.routing.departments)
    assert detail == {"since": "2026-12-06", "until": "2026-12-06",
                      "reports": 1 + len(departments)}  # fmt: skip
    await job(dt.date(2026, 12, 7))  # a retry replaces, never duplicates

    supervisor = await sign_in(front_door, "banzhang", "supervisor")
    items = (await supervisor.json(API))["items"]
    assert len(items) == 1 + len(departments)
    city = next(i for i in items if i["department"] is None)
    assert (city["period"], city["since"], city["until"], city["formats"]) == (
        "daily", "2026-12-06", "2026-12-06", ["json", "csv", "xlsx"]
    )
    doc = json.loads(await (await supervisor.get(f"{API}/{city['id']}.json")).read())
    assert doc["since"] == "2026-12-06" and doc["until"] == "2026-12-06"
    resp = await supervisor.get(f"{API}/{city['id']}.csv")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert "2026-12-06" in resp.headers["Content-Disposition"]
    xlsx = await supervisor.get(f"{API}/{city['id']}.xlsx")
    assert (await xlsx.read())[:2] == b"PK"  # a zip: the xlsx container

    dept = await sign_in(front_door, "huanbao", "department")  # ecology_environment
    own = (await dept.json(API))["items"]
    assert [i["department"] for i in own] == ["ecology_environment"]
    assert (await dept.get(f"{API}/{own[0]['id']}.json")).status == 200
    assert (await dept.get(f"{API}/{city['id']}.json")).status == 403
    other = next(i for i in items if i["department"] not in (None, "ecology_environment"))
    assert (await dept.get(f"{API}/{other['id']}.csv")).status == 403
    own_doc = json.loads(await (await dept.get(f"{API}/{own[0]['id']}.json")).read())
    assert doc["scope"]["department"] is None
    assert own_doc["scope"]["department"] == "ecology_environment"

    agent = await sign_in(front_door, "lixiao", "agent")
    assert (await agent.get(API)).status == 403
    assert (await agent.get(f"{API}/{city['id']}.json")).status == 403
    assert (await supervisor.get(f"{API}/999999.json")).status == 404
    assert (await supervisor.get(f"{API}/{city['id']}.pdf")).status == 404


async def test_backup_status_api(
    ops_db: Database, clock: Clock, front_door: TestClient, sign_in: SignIn
) -> None:
    supervisor = await sign_in(front_door, "banzhang", "supervisor")
    empty = await supervisor.json("/console/api/ops/backups")
    assert empty == {"last_backup": None, "last_good_backup": None, "last_check": None}
    runs = ops_of(front_door).runs
    good = await runs.claim("backup", "2026-12-04", "r", max_attempts=3,
                            retry_after=dt.timedelta(0))  # fmt: skip
    assert good is not None
    await runs.finish(good, True, {"file": "hotline-20261204-030000.jsonl.gz", "bytes": 1234})
    clock.advance(days=1)
    bad = await runs.claim("backup", "2026-12-05", "r", max_attempts=3,
                           retry_after=dt.timedelta(0))  # fmt: skip
    assert bad is not None
    await runs.finish(bad, False, {"error": "OSError: No space left on device"})
    check = await runs.claim("restore_check", "2026-12-05", "r", max_attempts=3,
                             retry_after=dt.timedelta(0))  # fmt: skip
    assert check is not None
    await runs.finish(
        check, True, {"file": "hotline-20261204-030000.jsonl.gz", "tables": 11, "rows": 9}
    )
    body = await supervisor.json("/console/api/ops/backups")
    assert body["last_backup"]["ok"] is False
    assert body["last_backup"]["error"] == "OSError: No space left on device"
    assert body["last_good_backup"] == {
        "at": body["last_good_backup"]["at"], "file": "hotline-20261204-030000.jsonl.gz",
        "bytes": 1234, "ok": True, "status": "ok",
    }  # fmt: skip
    assert body["last_check"]["ok"] is True and body["last_check"]["data"]["rows"] == 9
    assert body["last_check"]["detail"] == (
        "已将 hotline-20261204-030000.jsonl.gz 恢复到临时数据库：11 张表共 9 行，与备份清单一致"
    )
    assert "runner" not in json.dumps(body)
    clock.advance(days=7)
    later = await runs.claim("restore_check", "2026-12-12", "r", max_attempts=3,
                             retry_after=dt.timedelta(0))  # fmt: skip
    assert later is not None
    await runs.finish(later, False, {"error": "CheckFailed: row counts differ"})
    failed = (await supervisor.json("/console/api/ops/backups"))["last_check"]
    assert failed["ok"] is False
    assert failed["detail"] == "恢复校验失败：CheckFailed: row counts differ"
    for role, name in (("agent", "lixiao"), ("department", "huanbao")):
        user = await sign_in(front_door, name, role)
        assert (await user.get("/console/api/ops/backups")).status == 403
