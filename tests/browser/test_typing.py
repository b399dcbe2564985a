"""Typing indicators in two browsers at once: a citizen in the web widget and
the agent holding the chat in the console, against the real front door.

The agent sees "市民正在输入…" while the citizen types and not once their
message is in; the citizen sees "客服正在输入…" while the agent types, and
the agent's message replaces it. Neither reaches the transcript.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import CHROMIUM, FrontDoor
from tests.browser.test_console_handoff import (  # noqa: F401  (the fixture)
    PASSWORD,
    citizen_asks_for_agent,
    handoff_door,
    new_page,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: apt-get install chromium"
    ),
]


async def test_typing_both_ways(
    handoff_door: FrontDoor,  # noqa: F811
    browser: Any,
    screenshot_path: Callable[[str], Path],
) -> None:
    base = handoff_door.url
    agent, agent_problems = await new_page(browser, base + "/console/")
    await agent.get_by_label("用户名").fill("zhangsan")
    await agent.get_by_label("密码").fill(PASSWORD)
    await agent.get_by_role("button", name="登录").click()
    await expect(agent.locator("#conn-state")).to_have_text("已连接")

    citizen, citizen_problems, box, log = await citizen_asks_for_agent(browser, base)
    await agent.locator("#list-queue .conv").click()
    await agent.get_by_role("button", name="接入").click()
    await expect(log).to_contain_text("人工客服 张三 已为您接入")
    cid = str(await agent.evaluate("document.querySelector('.conv.is-open').dataset.cid"))
    entries = len(await handoff_door.hub.history(cid, limit=500))

    # the citizen types: the agent sees it; their message ends it
    typing_line = agent.locator("#citizen-typing")
    await expect(typing_line).to_be_hidden()
    await box.press_sequentially("我家楼下", delay=50)
    await expect(typing_line).to_be_visible()
    await expect(typing_line).to_have_text("市民正在输入…")
    await agent.screenshot(path=screenshot_path("console-citizen-typing.png"))
    await box.press_sequentially("很吵", delay=50)
    await box.press("Enter")
    await expect(agent.locator("#transcript .msg-in").last).to_contain_text("我家楼下很吵")
    await expect(typing_line).to_be_hidden()

    # the agent types: the citizen sees "客服正在输入…"; the agent's message ends it
    indicator = citizen.get_by_role("status", name="对方正在输入")
    await expect(indicator).to_be_hidden()
    reply = agent.get_by_role("textbox", name="回复内容")
    await reply.press_sequentially("请问具体地址", delay=50)
    await expect(indicator).to_be_visible()
    await expect(indicator).to_have_text("客服正在输入…")
    await citizen.screenshot(path=screenshot_path("widget-agent-typing.png"))
    await reply.press_sequentially("是哪里？", delay=50)
    await reply.press("Enter")
    await expect(log.locator(".dgc-msg--out").last).to_contain_text("请问具体地址是哪里？")
    await expect(indicator).to_be_hidden()

    # typing is never a message: only the two messages were added to the transcript
    texts = [e.text for e in (await handoff_door.hub.history(cid, limit=500))[entries:]]
    assert texts == ["我家楼下很吵", "请问具体地址是哪里？"]
    assert not agent_problems and not citizen_problems
