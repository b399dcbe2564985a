"""The agents' desk in headless chromium, several contexts at once, against the
real front door: a transfer to an agent group (the citizen in the widget, the
agent who transfers and a member of the group who claims), canned reply search
and insert (a supervisor edits, an agent's open console picks it up), and the
live ticket list (a citizen's new ticket appears without a reload, only in its
own department's list; the timeline names people)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from bot.app import DB_KEY, create_app
from bot.console.auth import USERS_KEY
from bot.console.context import CONSOLE_KEY
from bot.console.groups import AgentGroups
from bot.db import Database
from tests.browser.conftest import CHROMIUM, FrontDoor, browser_settings
from tests.browser.test_console_handoff import ALWAYS_OPEN, HandoffRasa

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: apt-get install chromium"
    ),
]

PASSWORD = "desk-routing-42"
DESKTOP = {"width": 1440, "height": 900}
GROUPS = """
- key: general
  name: 综合组
  members: []
- key: social_security
  name: 社保组
  department: social_security
  members: [wangwu]
"""
USERS = [
    ("zhangsan", "agent", "张三", None),
    ("wangwu", "agent", "王五", None),
    ("banzhang", "supervisor", "李班长", None),
    ("huanjing", "department", "环境局 王科长", "ecology_environment"),
    ("zhujian", "department", "住建局 赵科长", "housing_construction"),
]


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[FrontDoor]:
    rasa = HandoffRasa()
    rasa.server = TestServer(rasa.app, host="127.0.0.1")
    await rasa.server.start_server()
    app = create_app(browser_settings(tmp_path, rasa_url=rasa.url, console=ALWAYS_OPEN))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    groups = tmp_path / "agent_groups.yml"
    groups.write_text(GROUPS, encoding="utf-8")
    app[CONSOLE_KEY].groups = AgentGroups(groups)
    for username, role, name, department in USERS:
        await app[USERS_KEY].create(
            username=username, password=PASSWORD, role=role, display_name=name,
            department=department,
        )  # fmt: skip
    yield FrontDoor(str(server.make_url("")).rstrip("/"), app)
    await server.close()
    await rasa.server.close()


async def _page(browser: Any) -> tuple[Page, list[str]]:
    ctx = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=DESKTOP)
    page = await ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    return page, problems


async def _sign_in(browser: Any, base: str, username: str, path: str = "/console/") -> Page:
    page, problems = await _page(browser)
    await page.goto(base + "/console/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(re.compile(r"/console/(?!login)"))
    if path != "/console/":
        await page.goto(base + path)
    else:
        await expect(page.locator("#conn-state")).to_have_text("已连接")
    page.problems = problems  # type: ignore[attr-defined]
    return page


async def _citizen_asks_for_a_person(browser: Any, base: str) -> Page:
    citizen, _ = await _page(browser)
    await citizen.goto(base + "/")
    await citizen.get_by_role("button", name=re.compile("^在线咨询")).click()
    box = citizen.get_by_role("textbox", name="输入您的问题")
    await box.fill("转人工")
    await box.press("Enter")
    await expect(citizen.get_by_role("log", name="对话记录")).to_contain_text("排在第 1 位")
    return citizen


async def _claim_first(agent: Page) -> None:
    await agent.locator("#list-queue .conv").first.click()
    await agent.get_by_role("button", name="接入").click()
    await expect(agent.locator("#composer")).to_be_visible()


async def test_transfer_to_a_group(
    desk: FrontDoor, browser: Any, screenshot_path: Callable[[str], Path]
) -> None:
    base = desk.url
    zhangsan = await _sign_in(browser, base, "zhangsan")
    wangwu = await _sign_in(browser, base, "wangwu")
    citizen = await _citizen_asks_for_a_person(browser, base)
    log = citizen.get_by_role("log", name="对话记录")

    await _claim_first(zhangsan)
    await expect(log).to_contain_text("人工客服 张三 已为您接入")
    await expect(wangwu.locator("#list-queue .conv")).to_have_count(0)
    # a group with nobody online cannot be chosen; 社保组 has 王五
    await expect(zhangsan.locator("#transfer-to option[value='group:general']")).to_be_disabled()
    desk_option = zhangsan.locator("#transfer-to option[value='group:social_security']")
    await expect(desk_option).to_have_text("社保组（1 人在线）")
    await zhangsan.locator("#transfer-to").select_option("group:social_security")
    await zhangsan.get_by_role("button", name="转接", exact=True).click()
    await expect(log).to_contain_text("您的问题已转交社保组，请稍候，工作人员将尽快为您服务。")
    await expect(zhangsan.locator("#composer")).to_be_hidden()
    await expect(zhangsan.locator("#chat-meta")).to_contain_text("等待社保组接入")
    # only the group's member sees it waiting, marked with the group
    item = wangwu.locator("#list-queue .conv")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text("社保组")
    await expect(zhangsan.locator("#list-queue .conv")).to_have_count(0)
    await wangwu.screenshot(path=screenshot_path("console-group-queue.png"))
    await _claim_first(wangwu)
    await expect(log).to_contain_text("人工客服 王五 已为您接入")
    await expect(wangwu.locator("#notes")).to_contain_text("张三 将会话转至社保组")
    assert zhangsan.problems == [] and wangwu.problems == []  # type: ignore[attr-defined]


async def test_canned_reply_search_and_insert(
    desk: FrontDoor, browser: Any, screenshot_path: Callable[[str], Path]
) -> None:
    base = desk.url
    agent = await _sign_in(browser, base, "zhangsan")
    await _citizen_asks_for_a_person(browser, base)
    await _claim_first(agent)
    search = agent.get_by_role("searchbox", name="搜索常用语")
    await search.fill("停水")
    await expect(agent.locator("#canned")).to_contain_text("没有匹配的常用语")

    # a supervisor adds one; the agent's open console picks it up at once
    boss = await _sign_in(browser, base, "banzhang", "/console/canned")
    await expect(boss.locator("#cn-list .cn-item")).to_have_count(7)  # the seed
    await boss.get_by_label("标题").fill("停水通知")
    await boss.get_by_label("内容").fill("您好，您所在片区今日 9:00-17:00 计划停水，请提前储水。")
    await boss.get_by_role("button", name="保存").click()
    await expect(boss.locator("#cn-list")).to_contain_text("停水通知")
    await boss.screenshot(path=screenshot_path("console-canned-admin.png"))
    chip = agent.locator("#canned .chip", has_text="停水通知")
    await expect(chip).to_have_count(1)
    # a piece of the text finds it too, and Enter inserts it at the cursor
    await search.fill("储水")
    await expect(agent.locator("#canned .chip")).to_have_count(1)
    reply = agent.get_by_role("textbox", name="回复内容")
    await reply.fill("张先生，")
    await search.press("Enter")
    await expect(reply).to_have_value(
        "张先生，您好，您所在片区今日 9:00-17:00 计划停水，请提前储水。"
    )
    await agent.screenshot(path=screenshot_path("console-canned-search.png"))
    await reply.press("Enter")
    await expect(agent.locator("#transcript .msg-agent").last).to_contain_text("计划停水")

    # the supervisor edits and deletes it; the agent's list follows
    await (
        boss.locator("#cn-list .cn-item", has_text="停水通知")
        .get_by_role("button", name="编辑")
        .click()
    )
    await boss.get_by_label("标题").fill("停水提醒")
    await boss.get_by_role("button", name="保存").click()
    await search.fill("")
    await expect(agent.locator("#canned .chip", has_text="停水提醒")).to_have_count(1)
    boss.once("dialog", lambda d: d.accept())
    await (
        boss.locator("#cn-list .cn-item", has_text="停水提醒")
        .get_by_role("button", name="删除")
        .click()
    )
    await expect(agent.locator("#canned .chip", has_text="停水提醒")).to_have_count(0)
    assert agent.problems == [] and boss.problems == []  # type: ignore[attr-defined]


async def test_live_ticket_list(
    desk: FrontDoor, browser: Any, screenshot_path: Callable[[str], Path]
) -> None:
    base = desk.url
    db: Database = desk.app[DB_KEY]
    agent = await _sign_in(browser, base, "zhangsan", "/console/tickets")
    ecology = await _sign_in(browser, base, "huanjing", "/console/tickets")
    housing = await _sign_in(browser, base, "zhujian", "/console/tickets")
    for page in (agent, ecology, housing):
        await expect(page.locator("body")).to_have_attribute("data-live", "on")
        await expect(page.locator("#tk-rows tr")).to_have_count(0)

    # a citizen's complaint becomes a ticket (as the action server makes it)
    ticket, _ = await db.tickets.create(
        idempotency_key="webchat:live-1:1", type="complaint", category="noise",
        description="楼下酒吧深夜音乐声太大，影响休息。", location="东莞市南城街道鸿福路",
        occurred_at="每晚23点以后", channel="webchat", conversation_id="webchat:live-1",
        contact_name="陈先生", contact_phone="13600002222",
    )  # fmt: skip
    assert ticket.department == "ecology_environment"
    await expect(agent.locator("#tk-rows tr", has_text=ticket.number)).to_have_count(1)
    await expect(ecology.locator("#tk-rows tr", has_text=ticket.number)).to_have_count(1)
    await ecology.screenshot(path=screenshot_path("console-tickets-live.png"))

    # the agent opens it and adds a note: the department's open ticket shows it,
    # named by the agent's display name
    await ecology.locator("#tk-rows tr", has_text=ticket.number).click()
    await agent.locator("#tk-rows tr", has_text=ticket.number).click()
    note = agent.locator("form[data-action=note]")
    await note.locator("textarea").fill("已电话联系市民核实地址")
    await note.get_by_role("button").click()
    await expect(agent.locator("#d-timeline")).to_contain_text("张三")
    await expect(ecology.locator("#d-timeline")).to_contain_text("已电话联系市民核实地址")
    await expect(ecology.locator("#d-timeline")).to_contain_text("张三")
    await expect(ecology.locator("#d-timeline")).not_to_contain_text("zhangsan")
    # another department never sees it
    await expect(housing.locator("#tk-rows tr")).to_have_count(0)
    for page in (agent, ecology, housing):
        assert page.problems == []  # type: ignore[attr-defined]
