"""The supervisors' audit log page in headless chromium: sign-ins and failures
appear, filters by action and user narrow the list, older records are paged,
and an agent cannot open it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import expect

from bot.console.auth import USERS_KEY
from tests.browser.conftest import CHROMIUM, FrontDoor

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: apt-get install chromium"
    ),
]

PASSWORD = "audit-browser-42"
DESKTOP = {"width": 1440, "height": 900}


async def test_supervisor_reads_filters_and_pages_the_audit_log(
    front_door: FrontDoor, browser: Any, screenshot_path: Callable[[str], Path]
) -> None:
    users = front_door.app[USERS_KEY]
    await users.create(
        username="banzhang", password=PASSWORD, role="supervisor", display_name="王班长"
    )
    await users.create(username="zhangsan", password=PASSWORD, role="agent", display_name="张三")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        login = front_door.url + "/console/login"
        await http.post(login, json={"username": "zhangsan", "password": "wrong-pass-123"})
        await http.post(login, json={"username": "zhangsan", "password": PASSWORD})
        agent_view = await http.get(front_door.url + "/console/api/audit")
        assert agent_view.status == 403
    for i in range(55):  # older records, for the pager
        await users.audit.record("cli", "backup", f"var/backup-{i}.jsonl.gz")

    ctx = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=DESKTOP)
    page = await ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto(front_door.url + "/console/login")
    await page.get_by_label("用户名").fill("banzhang")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(re.compile(r"/console/(?!login)"))
    await page.wait_for_load_state("networkidle")
    problems.clear()  # only the audit page's problems count here

    await page.goto(front_door.url + "/console/audit")
    await expect(page.locator("#au-user-name")).to_have_text("王班长")
    rows = page.locator("#au-rows tr")
    await expect(rows).to_have_count(50)
    await expect(rows.first).to_contain_text("登录")  # the supervisor's own sign-in, newest
    await expect(rows.first).to_contain_text("banzhang")
    await expect(rows.first).to_contain_text("127.0.0.1")
    await page.screenshot(path=str(screenshot_path("console-audit.png")))

    # older records on the next page
    await page.get_by_role("button", name="更早的记录").click()
    await expect(page.locator("#au-page")).to_have_text("第 2 页")
    await expect(rows.last).to_contain_text("创建用户")
    await expect(page.get_by_role("button", name="更早的记录")).to_be_disabled()

    # only failed sign-ins
    await page.get_by_label("操作类型").select_option(label="登录失败")
    await page.get_by_role("button", name="查询").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("zhangsan")
    await expect(rows.first).to_contain_text("登录失败")

    # one user's records
    await page.get_by_role("button", name="重置").click()
    await expect(rows).to_have_count(50)
    await page.get_by_label("操作人").fill("zhangsan")
    await page.get_by_role("button", name="查询").click()
    await expect(rows).to_have_count(2)
    await expect(page.locator("#au-rows")).not_to_contain_text("banzhang")
    assert problems == []
    await ctx.close()
