"""The follow-up page (回访) in headless chromium: an agent opens the list of
answered, unrated tickets, records a call's outcome, and the ticket's
timeline shows it, on this page and on the tickets page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from bot.app import DB_KEY
from bot.console.auth import USERS_KEY
from bot.db import Database
from tests.browser.conftest import CHROMIUM, FrontDoor

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: apt-get install chromium"
    ),
]

PASSWORD = "followup-browser-42"
DESKTOP = {"width": 1440, "height": 900}


async def _answered(db: Database, key: str, description: str, phone: str) -> str:
    ticket, _ = await db.tickets.create(
        idempotency_key=key, type="complaint", category="noise", description=description,
        location="东莞市南城街道", occurred_at="每晚", channel="webchat",
        conversation_id=f"webchat:{key}", contact_name="陈美玲", contact_phone=phone,
    )  # fmt: skip
    await db.tickets.reply(ticket.number, "已责令商铺整改，夜间不再外放。", actor="huanjing")
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
    await page.wait_for_load_state("networkidle")
    problems.clear()  # only the follow-up pages' problems count
    return page, problems


async def test_agent_records_a_follow_up(
    front_door: FrontDoor, browser: Any, screenshot_path: Callable[[str], Path]
) -> None:
    db: Database = front_door.app[DB_KEY]
    await front_door.app[USERS_KEY].create(
        username="lixiao", password=PASSWORD, role="agent", display_name="李晓"
    )
    real_clock = db.clock  # answered five days ago
    db.clock = lambda: real_clock() - dt.timedelta(days=5)
    bar = await _answered(db, "bar", "楼下酒吧深夜音乐声太大，影响休息。", "13922334455")
    shop = await _answered(db, "shop", "商铺高音喇叭每天播放广告。", "13700001111")
    db.clock = real_clock
    recent = await _answered(db, "recent", "工地夜间施工噪音。", "13600002222")  # today

    page, problems = await _sign_in(browser, front_door.url, "lixiao")
    await page.get_by_role("link", name="回访").click()
    await page.wait_for_url(re.compile(r"/console/followups$"))
    due = page.locator("#fu-due tr")
    await expect(due).to_have_count(2)
    assert recent not in await page.locator("#fu-due").inner_text()
    await expect(due.filter(has_text=bar)).to_contain_text("139****4455")

    await due.filter(has_text=bar).click()
    await expect(page.locator("#d-number")).to_have_text(bar)
    await expect(page.locator("#d-reply")).to_have_text("已责令商铺整改，夜间不再外放。")
    await page.get_by_label("电话回访").check()
    await page.get_by_label("回访结果").select_option("satisfied")
    await page.get_by_label("满意度评分").select_option("4")
    await page.get_by_label("回访记录").fill("市民表示酒吧已整改，晚上安静多了。")
    await page.get_by_role("button", name="保存回访结果").click()
    await expect(page.locator("#fu-done")).to_have_text("回访结果已保存")
    timeline = page.locator("#d-timeline li")
    await expect(timeline.nth(0)).to_contain_text("办结")
    await expect(timeline.nth(1)).to_contain_text("市民评价")
    await expect(timeline.nth(2)).to_contain_text("回访")
    await expect(timeline.nth(2)).to_contain_text("电话回访 · 市民满意 · 4 分")
    await expect(timeline.nth(2)).to_contain_text("市民表示酒吧已整改")
    await expect(timeline.nth(2)).to_contain_text("lixiao")
    await expect(page.locator("#fu-form")).to_be_hidden()  # rated now: nothing to record
    await expect(page.locator("#fu-due tr")).to_have_count(1)  # the list was reloaded

    await page.locator("#fu-due tr", has_text=shop).click()
    await expect(page.locator("#d-number")).to_have_text(shop)
    await page.get_by_label("回访结果").select_option("unreachable")
    await expect(page.get_by_label("满意度评分")).to_be_hidden()
    await page.get_by_role("button", name="保存回访结果").click()
    await expect(page.locator("#fu-done")).to_have_text("回访结果已保存")
    await expect(page.locator("#fu-awaiting tr", has_text=shop)).to_contain_text("无法联系")
    await expect(page.locator("#fu-due-empty")).to_be_visible()
    await page.screenshot(path=screenshot_path("followups-agent.png"), full_page=True)
    assert problems == []

    # The tickets page shows the same follow-up on the ticket's timeline.
    await page.goto(front_door.url + "/console/tickets")
    await page.locator("#tk-rows tr", has_text=bar).click()
    await expect(page.locator("#d-timeline")).to_contain_text("回访")
    await expect(page.locator("#d-timeline")).to_contain_text("电话回访 · 市民满意")
    assert problems == []

    ticket = await db.tickets.get(bar)
    assert ticket is not None and ticket.status == "closed" and ticket.rating == 4
    assert [(e.kind, e.actor) for e in ticket.events][-3:] == [
        ("followup", "lixiao"), ("rated", "lixiao"), ("closed", "lixiao")
    ]
