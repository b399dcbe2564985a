"""A citizen in the web widget and an agent in the console, in two browser
contexts at once, against the real front door: ask for a person, claim, talk
both ways, close, rate. Screenshots of the console go to var/screenshots/."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Locator, Page, expect

from bot.app import create_app
from bot.config import ConsoleSettings, ServiceHours
from bot.console.auth import USERS_KEY
from bot.console.context import CONSOLE_KEY
from tests.browser.conftest import CHROMIUM, FrontDoor, ScriptedRasa, browser_settings

#: Agents answer round the clock (SERVICE_HOURS=00:00-24:00).
ALWAYS_OPEN = ConsoleSettings(service_hours=ServiceHours.parse("00:00-24:00"))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: apt-get install chromium"
    ),
]

PASSWORD = "correct-horse-42"
DESKTOP = {"width": 1440, "height": 860}
SUMMARY = {
    "intent": "complain",
    "slots": {"complaint_type": "噪音", "complaint_where": "南城街道鸿福路88号"},
    "last_messages": ["楼下商铺每晚放高音喇叭", "转人工"],
}


class HandoffRasa(ScriptedRasa):
    """The scripted Rasa, plus the action server's handoff signal for "转人工"."""

    @staticmethod
    def reply(sender: str, message: str) -> list[dict[str, Any]]:
        if message == "转人工":
            return [
                {"recipient_id": sender, "text": "好的,正在为您转接人工客服,请稍候。"},
                {
                    "recipient_id": sender,
                    "custom": {
                        "handoff": {
                            "reason": "citizen_request",
                            "priority": "normal",
                            "summary": SUMMARY,
                        }
                    },
                },
            ]
        return ScriptedRasa.reply(sender, message)


@pytest.fixture
async def handoff_door(tmp_path: Path) -> AsyncIterator[FrontDoor]:
    rasa = HandoffRasa()
    rasa.server = TestServer(rasa.app, host="127.0.0.1")
    await rasa.server.start_server()
    settings = browser_settings(tmp_path, rasa_url=rasa.url, console=ALWAYS_OPEN)
    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    await app[USERS_KEY].create(
        username="zhangsan", password=PASSWORD, role="agent", display_name="张三"
    )
    yield FrontDoor(str(server.make_url("")).rstrip("/"), app)
    await server.close()
    await rasa.server.close()


async def new_page(browser: Any, url: str) -> tuple[Page, list[str]]:
    ctx = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=DESKTOP)
    page = await ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto(url)
    return page, problems


async def citizen_asks_for_agent(
    browser: Any, base: str
) -> tuple[Page, list[str], Locator, Locator]:
    """A citizen opens the widget and writes "转人工": the page, its problems,
    the input box and the conversation log, once the queue place is shown."""
    citizen, problems = await new_page(browser, base + "/")
    await citizen.get_by_role("button", name=re.compile("^在线咨询")).click()
    box = citizen.get_by_role("textbox", name="输入您的问题")
    await box.fill("转人工")
    await box.press("Enter")
    log = citizen.get_by_role("log", name="对话记录")
    await expect(log).to_contain_text("您目前排在第 1 位")
    return citizen, problems, box, log


async def test_citizen_and_agent(
    handoff_door: FrontDoor, browser: Any, screenshot_path: Callable[[str], Path]
) -> None:
    base = handoff_door.url
    agent, agent_problems = await new_page(browser, base + "/console/")
    await expect(agent).to_have_url(re.compile(r"/console/login$"))  # signed out: sign-in page
    await expect(agent.get_by_role("button", name="登录")).to_be_visible()
    await agent.screenshot(path=screenshot_path("console-login.png"))
    await agent.get_by_label("用户名").fill("zhangsan")
    await agent.get_by_label("密码").fill("wrong-password-1")
    await agent.get_by_role("button", name="登录").click()
    await expect(agent.get_by_role("alert")).to_have_text("用户名或密码错误")
    await agent.get_by_label("密码").fill(PASSWORD)
    await agent.get_by_role("button", name="登录").click()
    await expect(agent).to_have_url(re.compile(r"/console/$"))
    await expect(agent.locator("#conn-state")).to_have_text("已连接")
    await expect(agent.locator("#me")).to_have_text("张三 · 坐席")

    # the citizen asks for a person in the widget
    citizen, citizen_problems, box, log = await citizen_asks_for_agent(browser, base)

    # the agent sees it in the queue with the summary, opens and claims it
    item = agent.locator("#list-queue .conv")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text("楼下商铺每晚放高音喇叭")
    await item.click()
    await expect(agent.locator("#summary")).to_contain_text("南城街道鸿福路88号")
    await expect(agent.locator("#transcript")).to_contain_text("转人工")
    await agent.screenshot(path=screenshot_path("console-queue.png"))
    await agent.get_by_role("button", name="接入").click()
    await expect(agent.locator("#composer")).to_be_visible()
    await expect(log).to_contain_text("人工客服 张三 已为您接入")

    # both ways
    reply = agent.get_by_role("textbox", name="回复内容")
    await reply.fill("您好，我是张三。请问具体是哪家商铺？")
    await reply.press("Enter")
    await expect(log.locator(".dgc-msg--out").last).to_contain_text("请问具体是哪家商铺")
    await box.fill("鸿福路88号的手机店")
    await box.press("Enter")
    await expect(agent.locator("#transcript .msg-in").last).to_contain_text("鸿福路88号的手机店")
    await agent.locator("#canned .chip", has_text="核实信息").click()
    await expect(reply).to_have_value(re.compile("请提供具体的地址"))
    await reply.fill("")
    await agent.get_by_label("备注内容").fill("市民反映夜间噪音，已核实地址")
    await agent.get_by_role("button", name="添加").click()
    await expect(agent.locator("#notes")).to_contain_text("已核实地址")
    await agent.get_by_role("button", name="创建工单").click()
    dialog = agent.get_by_role("dialog", name="从对话创建工单")
    await expect(dialog).to_be_visible()
    await expect(agent.locator("#t-category")).to_have_value("noise")
    await agent.screenshot(path=screenshot_path("console-ticket.png"))
    await agent.get_by_role("button", name="取消").click()
    await agent.screenshot(path=screenshot_path("console-chat.png"))

    # close; the citizen rates
    agent.on("dialog", lambda d: d.accept())
    await agent.get_by_role("button", name="结束会话").click()
    await expect(log).to_contain_text("请为本次服务打分")
    await log.get_by_role("button", name="5分 非常满意").click()
    await expect(log).to_contain_text("感谢您的评价")
    await expect(agent.locator("#chat-meta")).to_contain_text("已结束")
    row = await handoff_door.app[CONSOLE_KEY].handoffs.latest(
        next(iter(await _webchat_conversations(handoff_door)))
    )
    assert row is not None and (row.outcome, row.rating) == ("closed", 5)
    await citizen.screenshot(path=screenshot_path("console-citizen.png"))
    # the only error the agent's page saw is the wrong password's 401
    assert [p for p in agent_problems if "401" not in p] == []
    assert len(agent_problems) <= 1 and citizen_problems == []


async def _webchat_conversations(door: FrontDoor) -> set[str]:
    rows = await door.app[CONSOLE_KEY].handoffs.open_rows()
    ended = await door.app[CONSOLE_KEY].handoffs.between(
        rows[0].queued_at if rows else _epoch(), _far()
    )
    return {r.conversation_id for r in ended}


def _epoch() -> Any:
    import datetime as dt

    return dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _far() -> Any:
    import datetime as dt

    return dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


async def test_supervisor_reads_along_and_takes_over(
    handoff_door: FrontDoor, browser: Any, screenshot_path: Callable[[str], Path]
) -> None:
    base = handoff_door.url
    await handoff_door.app[USERS_KEY].create(
        username="banzhang", password=PASSWORD, role="supervisor", display_name="王班长"
    )
    citizen, _ = await new_page(browser, base + "/")
    await citizen.get_by_role("button", name=re.compile("^在线咨询")).click()
    box = citizen.get_by_role("textbox", name="输入您的问题")
    await box.fill("居住证怎么办理")
    await box.press("Enter")
    log = citizen.get_by_role("log", name="对话记录")
    await expect(log).to_contain_text("办理居住证需要身份证")

    page, problems = await new_page(browser, base + "/console/login")
    await page.get_by_label("用户名").fill("banzhang")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.locator("#me")).to_have_text("王班长 · 班长")
    await page.get_by_role("tab", name="全部会话").click()
    item = page.locator("#list-live .conv")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text("智能助手")
    await item.click()
    await expect(page.locator("#transcript")).to_contain_text("居住证怎么办理")
    await expect(page.locator("#readonly-hint")).to_contain_text("智能助手正在服务")
    await box.fill("线下办理要带什么")  # read along: the new turn shows up live
    await box.press("Enter")
    await expect(page.locator("#transcript")).to_contain_text("线下办理要带什么")
    await page.screenshot(path=screenshot_path("console-supervisor.png"))
    await page.get_by_role("button", name="接管").click()
    await expect(page.locator("#composer")).to_be_visible()
    await expect(log).to_contain_text("人工客服 王班长 已为您接入")
    assert problems == []


@pytest.fixture
async def paged_door(tmp_path: Path) -> AsyncIterator[FrontDoor]:
    """The front door with a console queue page of 2 and five citizens waiting."""
    from bot.app import HUB_KEY
    from bot.messages import InboundMessage

    rasa = HandoffRasa()
    rasa.server = TestServer(rasa.app, host="127.0.0.1")
    await rasa.server.start_server()
    settings = browser_settings(
        tmp_path, rasa_url=rasa.url, console=ALWAYS_OPEN, console_queue_page=2
    )
    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    await app[USERS_KEY].create(
        username="zhangsan", password=PASSWORD, role="agent", display_name="张三"
    )
    for i in range(5):
        msg = InboundMessage(
            channel="webchat", channel_user_id=f"paged{i}", message_id=f"p{i}", text="转人工"
        )
        await app[HUB_KEY].handle(msg)
    yield FrontDoor(str(server.make_url("")).rstrip("/"), app)
    await server.close()
    await rasa.server.close()


async def test_console_queue_is_paged_and_loads_more(paged_door: FrontDoor, browser: Any) -> None:
    agent, problems = await new_page(browser, paged_door.url + "/console/login")
    await agent.get_by_label("用户名").fill("zhangsan")
    await agent.get_by_label("密码").fill(PASSWORD)
    await agent.get_by_role("button", name="登录").click()
    await expect(agent.locator("#conn-state")).to_have_text("已连接")
    items = agent.locator("#list-queue .conv")
    await expect(items).to_have_count(2)  # the socket's first page
    await expect(agent.locator("#queue-count")).to_have_text("5")  # and the total
    more = agent.get_by_role("button", name=re.compile("^加载更多"))
    await expect(more).to_contain_text("已显示 2 位，共 5 位")
    await more.click()
    await expect(items).to_have_count(4)
    await more.click()
    await expect(items).to_have_count(5)
    await expect(more).to_have_count(0)
    assert problems == []
