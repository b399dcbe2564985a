"""Account page in headless chromium: a supervisor changes an agent's role and
the agent's open console goes to the sign-in page at once; an agent changes
their own password and stays signed in on that page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from bot.console.auth import USERS_KEY
from tests.browser.conftest import CHROMIUM, FrontDoor

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: apt-get install chromium"
    ),
]

PASSWORD = "account-browser-42"
NEW_PASSWORD = "account-browser-77"
DESKTOP = {"width": 1440, "height": 900}


async def _sign_in(browser: Any, base: str, username: str, password: str = PASSWORD) -> Page:
    ctx = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=DESKTOP)
    page = await ctx.new_page()
    await page.goto(base + "/console/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(re.compile(r"/console/(?!login)"))
    return page


async def test_role_change_sends_the_agents_open_console_to_sign_in(
    front_door: FrontDoor, browser: Any
) -> None:
    users = front_door.app[USERS_KEY]
    await users.create(
        username="banzhang", password=PASSWORD, role="supervisor", display_name="王班长"
    )
    await users.create(username="zhangsan", password=PASSWORD, role="agent", display_name="张三")
    agent = await _sign_in(browser, front_door.url, "zhangsan")
    await expect(agent.locator("#conn-state")).to_have_text("已连接")
    await expect(agent.get_by_role("link", name="审计日志")).to_be_hidden()

    supervisor = await _sign_in(browser, front_door.url, "banzhang")
    await expect(supervisor.get_by_role("link", name="审计日志")).to_be_visible()
    await supervisor.goto(front_door.url + "/console/account")
    row = supervisor.locator("#ac-rows tr[data-username=zhangsan]")
    await row.get_by_label("新角色").select_option("supervisor")
    await row.get_by_role("button", name="变更角色").click()
    await expect(supervisor.locator("#ac-users-msg")).to_have_text("已变更 zhangsan 的角色")
    await expect(row).to_contain_text("班长/质检")

    await agent.wait_for_url(re.compile(r"/console/login$"), timeout=5000)
    rows = await users.audit.list(action="role_change")
    assert [(r["actor"], r["target"]) for r in rows] == [("banzhang", "zhangsan")]


async def test_agent_changes_own_password(front_door: FrontDoor, browser: Any) -> None:
    users = front_door.app[USERS_KEY]
    await users.create(username="zhangsan", password=PASSWORD, role="agent", display_name="张三")
    page = await _sign_in(browser, front_door.url, "zhangsan")
    await page.goto(front_door.url + "/console/account")
    await expect(page.locator("#ac-user-name")).to_have_text("张三")
    await expect(page.locator("#ac-users")).to_be_hidden()
    await page.get_by_label("当前密码").fill("not-the-password-1")
    await page.get_by_label("新密码（至少 10 位，同时包含字母和数字）").fill(NEW_PASSWORD)
    await page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="修改密码").click()
    await expect(page.locator("#ac-password-msg")).to_have_text("当前密码不正确")
    await page.get_by_label("当前密码").fill(PASSWORD)
    await page.get_by_role("button", name="修改密码").click()
    await expect(page.locator("#ac-password-msg")).to_have_text(
        "密码已修改，其他设备上的登录已失效"
    )
    # still signed in here, with the new session and its CSRF token
    await page.get_by_label("当前密码").fill(NEW_PASSWORD)
    await page.get_by_label("新密码（至少 10 位，同时包含字母和数字）").fill(PASSWORD + "x")
    await page.get_by_label("再次输入新密码").fill(PASSWORD + "x")
    await page.get_by_role("button", name="修改密码").click()
    await expect(page.get_by_label("当前密码")).to_have_value("")  # reset after success
    await expect(page.locator("#ac-password-msg")).to_have_text(
        "密码已修改，其他设备上的登录已失效"
    )
    assert (await users.verify("zhangsan", PASSWORD + "x")).user is not None
