"""The ticket console in headless chromium: a supervisor assigns a ticket, the
department signs in, sees only its own ticket and submits the result, which
reaches the citizen's web chat with the rating buttons."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from bot.app import DB_KEY
from bot.console.auth import USERS_KEY
from bot.db import Database
from bot.tickets import TICKETS_KEY
from tests.browser.conftest import CHROMIUM, FrontDoor

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: apt-get install chromium"
    ),
]

PASSWORD = "ticket-browser-42"
DESKTOP = {"width": 1440, "height": 900}


async def _ticket(db: Database, cid: str, n: int, **kw: Any) -> str:
    args: dict[str, Any] = {
        "idempotency_key": f"{cid}:{n}",
        "type": "complaint",
        "category": "other",
        "description": "小区旁边的空地每天傍晚焚烧垃圾，浓烟飘进住户家里，老人小孩都被呛得咳嗽。",
        "location": "东莞市东城街道主山社区",
        "occurred_at": "每天傍晚6点左右",
        "channel": cid.split(":", 1)[0],
        "conversation_id": cid,
        "contact_name": "陈美玲",
        "contact_phone": "13922334455",
    }
    args.update(kw)
    ticket, _ = await db.tickets.create(**args)
    return ticket.number


async def _sign_in(browser: Any, base: str, username: str) -> tuple[Page, list[str]]:
    ctx = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=DESKTOP)
    page = await ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "console",
        lambda m: problems.append(f"{m.text} @ {m.location}") if m.type == "error" else None,
    )
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    await page.goto(base + "/console/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(re.compile(r"/console/(?!login)"))
    await page.wait_for_load_state("networkidle")  # the home page is not ours to judge
    problems.clear()  # only this page's problems count (the sign-in pages are not ours)
    await page.goto(base + "/console/tickets")
    await expect(page.locator("#tk-user-name")).not_to_be_empty()
    return page, problems


async def test_assign_then_department_answers(
    front_door: FrontDoor, browser: Any, screenshot_path: Callable[[str], Path]
) -> None:
    db: Database = front_door.app[DB_KEY]
    users = front_door.app[USERS_KEY]
    await users.create(
        username="banzhang", password=PASSWORD, role="supervisor", display_name="李班长"
    )
    await users.create(
        username="huanjing",
        password=PASSWORD,
        role="department",
        department="ecology_environment",
        display_name="环境局 王科长",
    )
    async with aiohttp.ClientSession() as client:
        async with client.post(front_door.url + "/webchat/session") as resp:
            session = await resp.json()
    cid = session["conversation_id"]
    burning = await _ticket(db, cid, 1)
    await _ticket(
        db,
        "webchat:other-1",
        2,
        category="property",
        description="小区电梯经常停运，物业一直不修。",
        contact_phone="13700001111",
    )
    await _ticket(
        db,
        "webchat:other-2",
        3,
        category="noise",
        description="楼下酒吧深夜音乐声太大。",
        contact_phone="13600002222",
    )

    real_clock = db.clock  # one ticket ten days old: overdue, then escalated by the sweep
    db.clock = lambda: real_clock() - dt.timedelta(days=10)
    late = await _ticket(
        db,
        "webchat:other-3",
        4,
        category="wages",
        description="公司拖欠两个月工资，老板失联。",
        contact_phone="13500003333",
    )
    db.clock = real_clock
    assert (await front_door.app[TICKETS_KEY].sweeper.sweep()).escalated == [late]

    # The supervisor assigns the triage ticket to the environment bureau.
    page, problems = await _sign_in(browser, front_door.url, "banzhang")
    rows = page.locator("#tk-rows tr")
    await expect(rows).to_have_count(4)
    late_row = rows.filter(has_text=late)
    await expect(late_row).to_have_class(re.compile("is-overdue"))
    await expect(late_row).to_contain_text("超期")
    await expect(late_row).to_contain_text("督办")
    await page.locator("#tk-rows tr", has_text=burning).click()
    await expect(page.locator("#d-number")).to_have_text(f"工单 {burning}")
    await expect(page.locator("#d-phone")).to_have_text("139****4455")  # masked until asked
    await page.get_by_role("button", name="显示完整号码").click()  # audited: contact_viewed
    await expect(page.locator("#d-phone")).to_have_text("13922334455")
    assign = page.locator("form[data-action=assign]")
    await assign.locator("select").select_option("ecology_environment")
    await assign.locator("input[name=reason]").fill("焚烧垃圾属大气污染，请环境局核查")
    await assign.get_by_role("button", name="派发 / 改派").click()
    await expect(page.locator("#d-notice")).to_have_text("操作成功。")
    await expect(page.locator("#d-department")).to_have_text("市生态环境局")
    row = page.locator("#tk-rows tr", has_text=burning)
    await expect(row).to_contain_text("市生态环境局")  # the list was reloaded
    await expect(row).to_contain_text("办理中")
    await page.screenshot(path=screenshot_path("tickets-supervisor.png"), full_page=True)
    assert problems == []

    # The department sees only its own tickets and answers this one.
    page, problems = await _sign_in(browser, front_door.url, "huanjing")
    assert page.url.endswith("/console/tickets")
    await expect(page.locator("#f-department")).to_be_hidden()
    await expect(rows := page.locator("#tk-rows tr")).to_have_count(2)
    assert "电梯" not in await page.locator("#tk-rows").inner_text()
    await rows.filter(has_text=burning).click()
    await expect(page.locator("#d-phone")).to_have_text("139****4455")
    await expect(page.locator("form[data-action=assign]")).to_be_hidden()
    await page.get_by_role("button", name="签收").click()
    timeline = page.locator("#d-timeline li")  # newest first
    await expect(timeline.nth(1)).to_contain_text("签收")
    await expect(timeline.first).to_contain_text("已告知市民进展")  # the citizen heard of it
    # More time is needed: the department extends the ticket by three working days.
    extend = page.locator("form[data-action=extend]")
    await extend.locator("input[name=days]").fill("3")
    await extend.locator("input[name=reason]").fill("需会同住建部门现场复核")
    await extend.get_by_role("button", name="申请延期").click()
    await expect(page.locator("#d-notice")).to_have_text("操作成功。")
    await expect(timeline.nth(1)).to_contain_text("延期")
    await expect(timeline.nth(1)).to_contain_text("延长 3 个工作日")
    await expect(timeline.first).to_contain_text("已告知市民进展")
    await page.get_by_label("办理结果").fill(
        "经现场核查，系附近废品站违规焚烧垃圾，已依法责令立即停止并处罚款，后续将加强巡查。"
    )
    await page.get_by_role("button", name="提交办理结果").click()
    await expect(page.locator("#d-notice")).to_have_text("办理结果已提交，并已告知市民。")
    await expect(page.locator("#d-badges")).to_contain_text("已答复")
    await page.screenshot(path=screenshot_path("tickets-department.png"), full_page=True)
    assert problems == []

    ticket = await db.tickets.get(burning)
    assert ticket is not None and ticket.status == "replied"
    assert [e.kind for e in ticket.events][-6:] == [
        "accepted",
        "told",
        "extended",
        "told",
        "replied",
        "notified",
    ]
    history = await db.transcripts.history(cid)
    steps = [e.text or "" for e in history if (e.text or "").startswith("【工单进度】")]
    assert len(steps) == 3  # assigned, accepted, extended
    assert "延长了办理时间" in steps[-1] and "住建" not in steps[-1]
    assert "废品站违规焚烧垃圾" in (history[-1].text or "")
    assert len(history[-1].data["buttons"]) == 5
