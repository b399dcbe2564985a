"""The widget in headless chromium against the real front door and a scripted Rasa."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Locator, Page, WebSocketRoute, expect

from bot.messages import OutboundMessage
from tests.browser.conftest import (
    CHROMIUM,
    GREETING,
    GUIDE_TEXT,
    ONLINE_TEXT,
    FrontDoor,
    ScriptedRasa,
    only_token_stored,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: apt-get install chromium"
    ),
]

DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 375, "height": 667}
HHMM = re.compile(r"^\d{2}:\d{2}$")


async def open_page(browser: Any, base: str, **context: Any) -> tuple[Page, list[str]]:
    """A fresh browser context on the demo page; collects page errors."""
    ctx = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **context)
    page = await ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto(base + "/")
    return page, problems


def launcher(page: Page) -> Locator:
    return page.get_by_role("button", name=re.compile("^在线咨询"))


def chat_log(page: Page) -> Locator:
    return page.get_by_role("log", name="对话记录")


def input_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="输入您的问题")


async def ask(page: Page, text: str) -> None:
    await input_box(page).fill(text)
    await input_box(page).press("Enter")


async def bubbles(page: Page) -> list[tuple[str, str]]:
    """(side, text) of every message bubble, top to bottom."""
    items = chat_log(page).locator(".dgc-msg")
    result = []
    for i in range(await items.count()):
        item = items.nth(i)
        side = "in" if "dgc-msg--in" in (await item.get_attribute("class") or "") else "out"
        result.append((side, await item.locator(".dgc-bubble").inner_text()))
    return result


async def test_conversation_buttons_and_reload(
    front_door: FrontDoor,
    browser: Any,
    scripted_rasa: ScriptedRasa,
    screenshot_path: Callable[[str], Path],
) -> None:
    page, problems = await open_page(browser, front_door.url, viewport=DESKTOP)
    await launcher(page).click()
    dialog = page.get_by_role("dialog", name="东莞12345在线服务")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("智能助手为您服务")
    await expect(input_box(page)).to_be_focused()

    await ask(page, "居住证怎么办理")
    log = chat_log(page)
    await expect(log.locator(".dgc-msg--out")).to_contain_text("办理居住证需要身份证")
    link = log.get_by_role("link", name="https://www.gdzwfw.gov.cn/")
    await expect(link).to_have_attribute("href", "https://www.gdzwfw.gov.cn/")
    await expect(link).to_have_attribute("target", "_blank")

    await log.get_by_role("button", name="线上办理").click()
    await expect(log.locator(".dgc-msg--in").last).to_contain_text("线上办理")
    await expect(log.locator(".dgc-msg--out").last).to_contain_text("粤省事小程序")
    assert scripted_rasa.seen == ["居住证怎么办理", '/inform_service_mode{"mode":"online"}']

    expected = [
        ("in", "居住证怎么办理"),
        ("out", GUIDE_TEXT),
        ("in", "线上办理"),
        ("out", ONLINE_TEXT),
    ]
    assert await bubbles(page) == expected
    for stamp in await log.locator("time").all_inner_texts():
        assert HHMM.match(stamp), stamp
    await expect(log.locator(".dgc-state", has_text="发送")).to_have_count(0)
    assert only_token_stored(await page.evaluate("() => ({...localStorage})"))

    await page.reload()  # the panel reopens; the history comes from the server
    await expect(log.locator(".dgc-msg")).to_have_count(4)
    assert await bubbles(page) == expected
    await page.screenshot(path=screenshot_path("widget.png"))
    assert only_token_stored(await page.evaluate("() => ({...localStorage})"))
    assert problems == []


async def test_keyboard_and_accessibility(front_door: FrontDoor, browser: Any) -> None:
    page, problems = await open_page(browser, front_door.url, viewport=DESKTOP)
    button = launcher(page)
    await button.focus()
    await page.keyboard.press("Enter")
    await expect(input_box(page)).to_be_focused()
    log = chat_log(page)
    await expect(log).to_have_attribute("aria-live", "polite")
    await expect(page.get_by_role("button", name="关闭对话窗口")).to_be_visible()
    await expect(page.get_by_role("button", name="发送消息")).to_be_visible()

    await page.keyboard.type("你好")
    await page.keyboard.press("Enter")
    await expect(log.locator(".dgc-msg--out")).to_contain_text(GREETING)

    await page.keyboard.press("Escape")
    await expect(page.get_by_role("dialog")).to_be_hidden()
    await expect(button).to_be_focused()
    await expect(button).to_have_attribute("aria-expanded", "false")

    # a tile on the host page asks its question through the widget
    await page.get_by_role("link", name=re.compile("居住证申领")).click()
    await expect(log.locator(".dgc-msg--out").last).to_contain_text("办理居住证需要")
    assert problems == []


async def test_typing_indicator_until_the_reply(
    front_door: FrontDoor, browser: Any, scripted_rasa: ScriptedRasa
) -> None:
    scripted_rasa.delay = 1.5
    page, _ = await open_page(browser, front_door.url, viewport=DESKTOP)
    await launcher(page).click()
    await ask(page, "你好")
    typing = page.get_by_role("status", name="对方正在输入")
    await expect(typing).to_be_visible()
    await expect(chat_log(page).locator(".dgc-msg--out")).to_contain_text(GREETING)
    await expect(typing).to_be_hidden()


async def test_reconnect_sends_messages_typed_while_offline(
    front_door: FrontDoor, browser: Any
) -> None:
    page, _ = await open_page(browser, front_door.url, viewport=DESKTOP)
    sockets: list[WebSocketRoute] = []

    def through(ws: WebSocketRoute) -> None:
        sockets.append(ws)
        ws.connect_to_server()

    await page.route_web_socket(re.compile(r"/webchat/ws"), through)
    await launcher(page).click()
    await ask(page, "你好")
    log = chat_log(page)
    await expect(log.locator(".dgc-msg--out")).to_have_count(1)

    await page.route(re.compile(r"/webchat/session"), lambda route: route.abort())
    await sockets[-1].close(code=1001, reason="gone")  # the connection drops
    status = page.get_by_role("status").filter(has_text="连接中…")
    await expect(status).to_be_visible()
    await ask(page, "居住证怎么办理")
    await expect(log.locator(".dgc-msg--in").last).to_contain_text("发送中…")
    await asyncio.sleep(1.5)
    await page.unroute(re.compile(r"/webchat/session"))

    await expect(log.locator(".dgc-msg--out").last).to_contain_text(
        "办理居住证需要", timeout=15_000
    )
    await expect(status).to_be_hidden()
    assert [side for side, _ in await bubbles(page)] == ["in", "out", "in", "out"]
    assert only_token_stored(await page.evaluate("() => ({...localStorage})"))


async def test_mobile_viewport_is_full_screen(
    front_door: FrontDoor, browser: Any, screenshot_path: Callable[[str], Path]
) -> None:
    page, problems = await open_page(
        browser, front_door.url, viewport=MOBILE, is_mobile=True, has_touch=True
    )
    await page.screenshot(path=screenshot_path("page-mobile.png"))
    await launcher(page).click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    box = await dialog.bounding_box()
    assert box == {"x": 0, "y": 0, "width": 375, "height": 667}
    await ask(page, "居住证怎么办理")
    await expect(chat_log(page).locator(".dgc-msg--out")).to_contain_text("办理居住证需要")
    await page.screenshot(path=screenshot_path("widget-mobile.png"))
    assert problems == []


PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a0a8b10000000049454e44ae426082"
)


async def test_agent_push_image_and_escaping(front_door: FrontDoor, browser: Any) -> None:
    page, problems = await open_page(browser, front_door.url, viewport=DESKTOP)
    await page.route(
        "https://img.example.gov.cn/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=PNG_1PX),
    )
    await launcher(page).click()
    await ask(page, "你好")
    log = chat_log(page)
    await expect(log.locator(".dgc-msg--out")).to_have_count(1)
    token = await page.evaluate("() => localStorage.getItem('dg12345.webchat.token')")
    conversation = "webchat:" + token.split(".")[1]

    await page.get_by_role("button", name="关闭对话窗口").click()
    hostile = "<b>不是粗体</b> javascript:alert(1) 详见 https://www.dg.gov.cn/"
    await front_door.hub.push(
        conversation,
        [
            OutboundMessage(text=hostile, sender="agent:李敏"),
            OutboundMessage(image="https://img.example.gov.cn/guide.png", sender="agent:李敏"),
        ],
    )
    await expect(launcher(page)).to_have_attribute("aria-label", re.compile("2条新消息"))
    await launcher(page).click()
    await expect(page.get_by_role("dialog")).to_contain_text("人工客服 李敏 为您服务")
    agent = log.locator(".dgc-msg--out").nth(1)
    await expect(agent.locator(".dgc-bubble")).to_have_text(hostile)
    assert await agent.locator("b").count() == 0
    assert await agent.get_by_role("link").all_inner_texts() == ["https://www.dg.gov.cn/"]
    await expect(agent).to_contain_text("人工客服 李敏")
    image = log.locator(".dgc-msg--out").nth(2).get_by_role("img", name="图片消息")
    await expect(image).to_be_visible()
    assert await image.evaluate("img => img.naturalWidth") == 1
    assert problems == []


async def test_end_session_clears_the_widget_and_revokes_the_token(
    front_door: FrontDoor, browser: Any, screenshot_path: Callable[[str], Path]
) -> None:
    """Finding: on a shared device the next visitor saw the last citizen's
    transcript (90-day token in localStorage); 结束会话 ends it for good."""
    page, problems = await open_page(browser, front_door.url, viewport=DESKTOP)
    await launcher(page).click()
    await ask(page, "居住证怎么办理")
    log = chat_log(page)
    await expect(log.locator(".dgc-msg--out")).to_contain_text("办理居住证需要")
    token = await page.evaluate("() => localStorage.getItem('dg12345.webchat.token')")
    old_session = token.split(".")[1]

    await page.get_by_role("button", name="结束会话").click()
    confirm = page.get_by_role("button", name="确定结束")
    await expect(confirm).to_be_visible()  # one more click: nothing ends by accident
    await page.screenshot(path=screenshot_path("widget-end-confirm.png"))
    await confirm.click()
    await expect(log.locator(".dgc-msg")).to_have_count(0)
    await expect(page.get_by_role("status").filter(has_text="会话已结束")).to_be_visible()
    await expect(page.get_by_role("button", name="结束会话")).to_be_hidden()
    await page.screenshot(path=screenshot_path("widget-ended.png"))
    assert await page.evaluate("() => ({...localStorage})") == {}

    # the copied token is dead on the server: a fresh session, no history
    async with aiohttp.ClientSession() as http:
        async with http.post(front_door.url + "/webchat/session", json={"token": token}) as resp:
            assert resp.status == 201
            assert (await resp.json())["session_id"] != old_session
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(front_door.url + "/webchat/ws?token=" + token)

    await page.reload()
    await expect(page.get_by_role("dialog")).to_be_visible()
    await asyncio.sleep(1)  # give a (wrong) replay the time to arrive
    await expect(log.locator(".dgc-msg")).to_have_count(0)
    await ask(page, "你好")  # a new question starts a new, empty session
    await expect(log.locator(".dgc-msg--out")).to_contain_text(GREETING)
    assert [side for side, _ in await bubbles(page)] == ["in", "out"]
    new_token = await page.evaluate("() => localStorage.getItem('dg12345.webchat.token')")
    assert new_token.split(".")[1] != old_session
    # the old conversation stays for the agents
    kept = await front_door.hub.history(f"webchat:{old_session}")
    assert [e.text for e in kept][:1] == ["居住证怎么办理"]
    assert problems == []


async def test_refused_socket_shows_a_message_and_does_not_retry_at_once(
    front_door: FrontDoor, browser: Any
) -> None:
    """Over a cap the server closes the socket (4029): the widget says so in
    Chinese and waits instead of reconnecting in a tight loop."""
    page, problems = await open_page(browser, front_door.url, viewport=DESKTOP)
    opened: list[WebSocketRoute] = []

    def refuse(ws: WebSocketRoute) -> None:
        opened.append(ws)
        text = "您打开的对话窗口过多，请关闭其他窗口后稍后再试。"
        frame = {"type": "error", "code": "too_many_connections", "message": text}
        ws.send(json.dumps(frame, ensure_ascii=False))
        asyncio.ensure_future(ws.close(code=4029, reason="too_many_connections"))

    await page.route_web_socket(re.compile(r"/webchat/ws"), refuse)
    await launcher(page).click()
    status = page.get_by_role("status").filter(has_text="对话窗口过多")
    await expect(status).to_be_visible()
    await asyncio.sleep(4)
    assert len(opened) == 1  # no reconnect within seconds
    await expect(status).to_be_visible()  # the message stays while it waits
    assert problems == []


async def test_session_ended_in_another_tab_clears_this_one(
    front_door: FrontDoor, browser: Any
) -> None:
    """Two tabs of one browser share the session; ending it in one clears both."""
    ctx = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=DESKTOP)
    first, second = await ctx.new_page(), await ctx.new_page()
    await first.goto(front_door.url + "/")
    await launcher(first).click()
    await ask(first, "居住证怎么办理")
    await expect(chat_log(first).locator(".dgc-msg--out")).to_contain_text("办理居住证需要")
    await second.goto(front_door.url + "/")  # a second tab reads the stored token
    await launcher(second).click()
    await expect(chat_log(second).locator(".dgc-msg")).to_have_count(2)

    await first.get_by_role("button", name="结束会话").click()
    await first.get_by_role("button", name="确定结束").click()
    await expect(chat_log(second).locator(".dgc-msg")).to_have_count(0)
    await expect(second.get_by_role("status").filter(has_text="会话已结束")).to_be_visible()
    assert await second.evaluate("() => ({...localStorage})") == {}
    await ctx.close()


async def test_too_many_new_sessions_shows_a_message_and_waits(
    front_door: FrontDoor, browser: Any
) -> None:
    page, _ = await open_page(browser, front_door.url, viewport=DESKTOP)
    calls: list[str] = []

    async def too_many(route: Any) -> None:
        calls.append(route.request.url)
        body = {"error": "rate_limited", "message": "请求过于频繁，请稍后再试。"}
        await route.fulfill(
            status=429,
            content_type="application/json",
            headers={"Retry-After": "30"},
            body=json.dumps(body, ensure_ascii=False),
        )

    await page.route(re.compile(r"/webchat/session$"), too_many)
    await launcher(page).click()
    status = page.get_by_role("status").filter(has_text="请求过于频繁")
    await expect(status).to_be_visible()
    await asyncio.sleep(4)
    assert len(calls) == 1  # waits as the server asked, no loop
    await expect(status).to_be_visible()


async def test_unsent_message_of_an_ended_session_is_dropped_not_sent(
    front_door: FrontDoor, browser: Any, scripted_rasa: ScriptedRasa
) -> None:
    """Finding: on a shared device an unsent message (the last citizen's ID number)
    stayed in localStorage and went out in the next visitor's new session."""
    page, problems = await open_page(browser, front_door.url, viewport=DESKTOP)
    await launcher(page).click()
    await ask(page, "你好")
    log = chat_log(page)
    await expect(log.locator(".dgc-msg--out")).to_contain_text(GREETING)
    token = await page.evaluate("() => localStorage.getItem('dg12345.webchat.token')")
    async with aiohttp.ClientSession() as http:  # ended elsewhere (or idle for hours)
        await http.post(front_door.url + "/webchat/session/end", json={"token": token})
    await expect(page.get_by_role("status").filter(has_text="会话已结束")).to_be_visible()
    left_behind = [{"id": "old-1", "text": "身份证号440101199001011234", "at": "2026-01-01T00:00Z"}]
    await page.evaluate(
        """([t, o]) => { localStorage.setItem('dg12345.webchat.token', t);
                         localStorage.setItem('dg12345.webchat.outbox', JSON.stringify(o)); }""",
        [token, left_behind],
    )
    await page.reload()
    await expect(page.get_by_role("dialog")).to_be_visible()
    await page.wait_for_function(
        "t => (localStorage.getItem('dg12345.webchat.token') || t) !== t", arg=token
    )
    await asyncio.sleep(1)
    assert not any("440101" in seen for seen in scripted_rasa.seen)
    await expect(log.locator(".dgc-msg")).to_have_count(0)
    assert only_token_stored(await page.evaluate("() => ({...localStorage})"))
    assert problems == []
