"""The widget embedded on another site, in headless chromium, against the real
front door: its settings from the script tag, large text (适老化) and 200% zoom.

The host pages are served by a second local server (another origin, as on a
government site embedding the widget). "200% zoom" is a 1280x720 window at
zoom 200%: what the page lays out in is a 640x360 CSS-pixel viewport drawn
at two device pixels per CSS pixel, which is how chromium zooms. "Large text"
is the host page's root font size at 150% and 200%, as 适老化 modes set it.
Screenshots go to var/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from tests.browser.conftest import CHROMIUM, GREETING, FrontDoor

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: apt-get install chromium"
    ),
]

DEFAULT_BLUE = "rgb(11, 87, 164)"


class HostSite:
    """Another site's pages, each embedding the widget with its own tag."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.app = web.Application()
        self.app.router.add_get("/{name}", self._page)
        self.server: TestServer | None = None

    def add(self, name: str, widget_src: str, attrs: str = "", root_font: str = "100%") -> str:
        self.pages[name] = f"""<!doctype html>
<html lang="zh-CN" style="font-size: {root_font}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>东莞市某局</title>
<link rel="icon" href="data:,"></head>
<body><h1>东莞市某局网站</h1><p>本站已开启长者模式。</p>
<script src="{widget_src}" defer {attrs}></script></body></html>"""
        assert self.server is not None
        return str(self.server.make_url(f"/{name}"))

    async def _page(self, request: web.Request) -> web.Response:
        html = self.pages.get(request.match_info["name"])
        if html is None:
            raise web.HTTPNotFound()
        return web.Response(text=html, content_type="text/html")


@pytest.fixture
async def host_site() -> AsyncIterator[HostSite]:
    site = HostSite()
    site.server = TestServer(site.app, host="127.0.0.1")
    await site.server.start_server()
    yield site
    await site.server.close()


async def open_host(
    browser: Any, url: str, viewport: dict[str, int], scale: float = 1.0
) -> tuple[Page, list[str], list[str]]:
    """A fresh context on ``url``: the page, its errors, its console warnings."""
    ctx = await browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport, device_scale_factor=scale
    )
    page = await ctx.new_page()
    errors: list[str] = []
    warnings: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: (warnings if m.type == "warning" else errors).append(m.text)
            if m.type in ("warning", "error") else None)  # fmt: skip
    await page.goto(url)
    return page, errors, warnings


async def widget_style(page: Page, selector: str, prop: str) -> str:
    return str(
        await page.evaluate(
            """([selector, prop]) => getComputedStyle(document.getElementById("dg12345-webchat")
                .shadowRoot.querySelector(selector))[prop]""",
            [selector, prop],
        )
    )


async def test_settings_from_the_script_tag(
    front_door: FrontDoor,
    host_site: HostSite,
    browser: Any,
    screenshot_path: Callable[[str], Path],
) -> None:
    url = host_site.add(
        "en", front_door.url + "/widget.js",
        'data-title="东莞市民服务" data-color="#7A1F5C" data-position="left" data-lang="en" '
        "data-auto-open",
    )  # fmt: skip
    page, errors, warnings = await open_host(browser, url, {"width": 1280, "height": 800})
    panel = page.get_by_role("dialog")
    await expect(panel).to_be_visible()  # opened by itself (data-auto-open)
    await expect(page.locator("#dgc-title")).to_have_text("东莞市民服务")
    assert await page.locator("#dg12345-webchat").get_attribute("lang") == "en"
    box = page.get_by_role("textbox", name="Type your question")
    await expect(box).to_have_attribute("placeholder", "Type here, Enter to send")
    await expect(page.get_by_role("button", name="Send the message")).to_have_text("Send")
    assert await widget_style(page, ".dgc-header", "backgroundColor") == "rgb(122, 31, 92)"
    panel_box = await panel.bounding_box()
    assert panel_box is not None and panel_box["x"] < 40  # the left corner
    await expect(box).not_to_be_focused()  # auto-open takes no focus from the host page
    await page.screenshot(path=screenshot_path("widget-settings-en-left.png"))

    # a starter shows English and asks the assistant in Chinese
    await page.get_by_role("button", name="Service guides").click()
    log = page.get_by_role("log", name="Conversation")
    await expect(log.locator(".dgc-msg--in .dgc-bubble").first).to_have_text("办事指南")
    await expect(log.locator(".dgc-msg--out .dgc-bubble").first).to_have_text(GREETING)
    await expect(log.locator(".dgc-msg--in .dgc-meta").first).to_contain_text("Me")

    # closed by the citizen: not opened again in this tab; the launcher sits left, in English
    await page.get_by_role("button", name="Close the chat window").click()
    await page.reload()
    launcher = page.get_by_role("button", name=re.compile("^Chat with us"))
    await expect(launcher).to_be_visible()
    await expect(panel).to_be_hidden()
    launcher_box = await launcher.bounding_box()
    assert launcher_box is not None and launcher_box["x"] < 40
    assert not errors and not warnings


async def test_bad_settings_fall_back_to_the_defaults(
    front_door: FrontDoor, host_site: HostSite, browser: Any
) -> None:
    url = host_site.add(
        "bad", front_door.url + "/widget.js",
        f'data-title="{"很长的标题" * 9}" data-color="#ffee00" data-position="middle" '
        'data-lang="fr" data-auto-open="false"',
    )  # fmt: skip
    page, errors, warnings = await open_host(browser, url, {"width": 1280, "height": 800})
    launcher = page.get_by_role("button", name=re.compile("^在线咨询"))
    await expect(launcher).to_be_visible()
    await expect(page.get_by_role("dialog")).to_be_hidden()  # data-auto-open="false"
    await launcher.click()
    await expect(page.locator("#dgc-title")).to_have_text("东莞12345在线服务")
    await expect(page.get_by_role("textbox", name="输入您的问题")).to_be_focused()
    # yellow is too light for white text on it (contrast below 4.5:1): the default blue
    assert await widget_style(page, ".dgc-header", "backgroundColor") == DEFAULT_BLUE
    panel_box = await page.get_by_role("dialog").bounding_box()
    assert panel_box is not None and panel_box["x"] + panel_box["width"] > 1200  # right corner
    assert sorted(w.split("=")[0] for w in warnings) == [
        "dg12345 widget: data-color", "dg12345 widget: data-lang",
        "dg12345 widget: data-position", "dg12345 widget: data-title",
    ]  # fmt: skip
    assert not errors


LAYOUTS = {
    # name: (viewport in CSS px, device pixels per CSS px, the host's root font size)
    "zoom-200": ({"width": 640, "height": 360}, 2.0, "100%"),
    "root-font-150": ({"width": 1280, "height": 800}, 1.0, "150%"),
    "root-font-200": ({"width": 1280, "height": 800}, 1.0, "200%"),
    "root-font-150-zoom-200": ({"width": 640, "height": 360}, 2.0, "150%"),
}

#: Rectangles of the open panel's parts, and whether each control's text fits it.
MEASURE = """() => {
  const root = document.getElementById("dg12345-webchat").shadowRoot;
  const rect = (el) => { const r = el.getBoundingClientRect();
    return {x: r.x, y: r.y, w: r.width, h: r.height, name: el.className || el.tagName}; };
  const shown = (el) => el.getClientRects().length > 0;
  const panel = root.querySelector(".dgc-panel");
  const controls = [...root.querySelectorAll(".dgc-header button, .dgc-title, "
    + ".dgc-subtitle, .dgc-choice, .dgc-input, .dgc-send")].filter(shown);
  return {
    viewport: {w: innerWidth, h: innerHeight},
    panel: rect(panel),
    panelScrolls: panel.scrollHeight > panel.clientHeight + 1,
    header: [...root.querySelectorAll(".dgc-header > *")].filter(shown).map(rect),
    composer: [...root.querySelectorAll(".dgc-composer > *")].filter(shown).map(rect),
    clipped: controls.filter((el) => el.scrollWidth > el.clientWidth + 1
      || el.scrollHeight > el.clientHeight + 1).map((el) => [el.className, el.scrollWidth,
      el.clientWidth, el.scrollHeight, el.clientHeight]),
    inputFont: parseFloat(getComputedStyle(root.querySelector(".dgc-input")).fontSize),
    sendHeight: root.querySelector(".dgc-send").getBoundingClientRect().height,
    rootFont: parseFloat(getComputedStyle(document.documentElement).fontSize),
  };
}"""


def overlap(a: dict[str, Any], b: dict[str, Any]) -> float:
    width = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
    height = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
    return max(0.0, width) * max(0.0, height)


def inside(inner: dict[str, Any], outer: dict[str, Any]) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["x"] + inner["w"] <= outer["x"] + outer["w"] + 0.5
        and inner["y"] + inner["h"] <= outer["y"] + outer["h"] + 0.5
    )


def assert_laid_out(m: dict[str, Any]) -> None:
    """Nothing clipped, nothing overlapping, all of it on screen."""
    screen = {"x": 0, "y": 0, "w": m["viewport"]["w"], "h": m["viewport"]["h"]}
    assert inside(m["panel"], screen), m["panel"]
    for group in ("header", "composer"):
        parts = m[group]
        for part in parts:
            assert inside(part, m["panel"]), (group, part)
        for i, a in enumerate(parts):
            for b in parts[i + 1 :]:
                assert overlap(a, b) == 0, (group, a, b)
    for a in m["header"]:
        for b in m["composer"]:
            assert overlap(a, b) == 0, (a, b)
    assert not m["clipped"], m["clipped"]


@pytest.mark.parametrize("layout", list(LAYOUTS))
async def test_large_text_and_zoom(
    front_door: FrontDoor,
    host_site: HostSite,
    browser: Any,
    screenshot_path: Callable[[str], Path],
    layout: str,
) -> None:
    viewport, scale, root_font = LAYOUTS[layout]
    url = host_site.add(layout, front_door.url + "/widget.js", root_font=root_font)
    page, errors, _warnings = await open_host(browser, url, viewport, scale)
    launcher = page.get_by_role("button", name=re.compile("^在线咨询"))
    await expect(launcher).to_be_in_viewport(ratio=1.0)
    await launcher.click()
    panel = page.get_by_role("dialog")
    await expect(panel).to_be_visible()

    m = await page.evaluate(MEASURE)
    # the widget's text grows with the host page's root font (0.9375rem in the box)
    assert m["inputFont"] == pytest.approx(0.9375 * m["rootFont"])
    assert m["sendHeight"] == pytest.approx(2.625 * m["rootFont"], abs=1)
    assert_laid_out(m)
    await page.screenshot(path=screenshot_path(f"widget-{layout}.png"))

    # usable: type and send, a starter button, the reply; then close with the button
    box = page.get_by_role("textbox", name="输入您的问题")
    await box.fill("你好")
    await page.get_by_role("button", name="发送消息").click()
    log = page.get_by_role("log", name="对话记录")
    await expect(log.locator(".dgc-msg--out .dgc-bubble").last).to_have_text(GREETING)
    chip = page.get_by_role("button", name="办事指南")
    await chip.scroll_into_view_if_needed()
    await chip.click()
    await expect(log.locator(".dgc-msg--in .dgc-bubble").last).to_have_text("办事指南")
    assert_laid_out(await page.evaluate(MEASURE))  # with messages in it, still in place
    await page.screenshot(path=screenshot_path(f"widget-{layout}-chat.png"))
    close = page.get_by_role("button", name="关闭对话窗口")
    await close.scroll_into_view_if_needed()
    await close.click()
    await expect(panel).to_be_hidden()
    await expect(launcher).to_be_in_viewport(ratio=1.0)
    assert not errors
