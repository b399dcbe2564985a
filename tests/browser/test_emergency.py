"""The emergency switch in headless chromium: a supervisor switches it on in the
console, the widget on the demo page shows the notice as a banner and the
greeting starts with it, an agent sees the state but no switch, the supervisor
switches it off and reads the incident report, and the banner goes away."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from bot.console.auth import USERS_KEY
from tests.browser.conftest import CHROMIUM, GREETING, FrontDoor

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: apt-get install chromium"
    ),
]

PASSWORD = "emergency-browser-42"
DESKTOP = {"width": 1440, "height": 900}
NOTICE = "受台风“山竹”影响，今日全市中小学停课，请市民非必要不外出。"


async def signed_in(browser: Any, front_door: FrontDoor, username: str) -> tuple[Page, list[str]]:
    ctx = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=DESKTOP)
    page = await ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(front_door.url + "/console/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(re.compile(r"/console/(?!login)"))
    await page.wait_for_load_state("networkidle")
    problems.clear()
    return page, problems


async def test_switch_banner_greeting_and_report(
    front_door: FrontDoor, browser: Any, screenshot_path: Callable[[str], Path]
) -> None:
    users = front_door.app[USERS_KEY]
    await users.create(
        username="banzhang", password=PASSWORD, role="supervisor", display_name="王班长"
    )
    await users.create(username="zhangsan", password=PASSWORD, role="agent", display_name="张三")

    # the supervisor switches it on
    boss, boss_problems = await signed_in(browser, front_door, "banzhang")
    await boss.get_by_role("link", name="应急模式").click()
    await expect(boss.locator("#em-state")).to_have_text("应急模式未开启")
    await boss.get_by_label(re.compile("^应急通知")).fill(NOTICE)
    await boss.get_by_label(re.compile("^优先回答的常见问题")).select_option(
        ["ut_power_outage", "ut_gas_leak"]
    )
    await boss.get_by_label(re.compile("^事件关键词")).fill("台风，停课")
    await boss.get_by_role("button", name="开启应急模式").click()
    await expect(boss.locator("#em-state")).to_have_text("应急模式已开启")
    await expect(boss.locator("#em-notice")).to_have_text(NOTICE)
    await expect(boss.locator("#em-keywords")).to_have_text("台风、停课")
    await expect(boss.locator("#em-faq")).to_contain_text("闻到燃气泄漏的味道应该怎么办")
    await expect(boss.get_by_role("button", name="关闭应急模式")).to_be_visible()
    await boss.screenshot(path=str(screenshot_path("console-emergency-on.png")))

    # an agent sees it, without the switch
    agent, agent_problems = await signed_in(browser, front_door, "zhangsan")
    await agent.goto(front_door.url + "/console/emergency")
    await expect(agent.locator("#em-state")).to_have_text("应急模式已开启")
    await expect(agent.locator("#em-readonly")).to_be_visible()
    await expect(agent.get_by_role("button", name="关闭应急模式")).to_be_hidden()
    await expect(agent.get_by_role("button", name="开启应急模式")).to_be_hidden()

    # a citizen on the demo page: the banner, and the greeting starts with the notice
    ctx = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    citizen = await ctx.new_page()
    citizen_problems: list[str] = []
    citizen.on("pageerror", lambda exc: citizen_problems.append(str(exc)))
    await citizen.goto(front_door.url + "/")
    await citizen.get_by_role("button", name=re.compile("^在线咨询")).click()
    banner = citizen.get_by_role("region", name="应急通知")
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text(NOTICE)
    box = citizen.get_by_role("textbox", name="输入您的问题")
    await box.fill("你好")
    await box.press("Enter")
    reply = citizen.locator(".dgc-msg--out .dgc-bubble").first
    await expect(reply).to_contain_text("【应急通知】" + NOTICE)
    await expect(reply).to_contain_text(GREETING)
    await citizen.screenshot(path=str(screenshot_path("widget-emergency-banner.png")))

    # switched off: the report, and the banner goes
    await boss.get_by_role("button", name="关闭应急模式").click()
    await expect(boss.locator("#em-state")).to_have_text("应急模式未开启")
    report = boss.locator("#em-report")
    await expect(report).to_be_visible()
    await expect(report).to_contain_text("应急报告 #1")
    await expect(report).to_contain_text("市民消息")
    await expect(boss.locator("#em-report-facts")).to_contain_text("1 条")
    await expect(boss.locator("#em-periods tr")).to_have_count(1)
    await boss.screenshot(path=str(screenshot_path("console-emergency-report.png")))

    await expect(banner).to_be_visible()  # until the widget asks again: on opening
    await citizen.get_by_role("button", name="关闭对话窗口").click()
    await citizen.get_by_role("button", name=re.compile("^在线咨询")).click()
    await expect(banner).to_be_hidden()
    assert boss_problems == [] and agent_problems == [] and citizen_problems == []
