"""The knowledge loop in headless chromium: a citizen's 没帮助 on an FAQ answer
in the widget keeps the question; a supervisor sees it grouped on the
knowledge editor's page, attaches the group to an FAQ and sees the change
listed as awaiting `make train`. The editor works on a temporary copy of
data/knowledge."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestServer
from playwright.async_api import expect

from bot.app import DB_KEY, create_app
from bot.console.auth import USERS_KEY
from tests.browser.conftest import CHROMIUM, FrontDoor, ScriptedRasa, browser_settings
from tests.browser.test_widget import ask, chat_log, launcher, open_page
from tests.console.test_knowledge import FUND, ID_CARD, copy_project
from tests.console.test_knowledge_storage import DRAFT, EXTRA, make_read_only

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: apt-get install chromium"
    ),
]

PASSWORD = "knowledge-browser-42"
ANSWER = "可以通过粤省事小程序、电子社保卡或12333查询个人社保缴费记录。"
QUESTION = "社保缴费记录在哪看 我电话13812345678"


def faq_reply(sender: str, message: str) -> list[dict[str, Any]]:
    if "社保" in message:
        return [
            {"recipient_id": sender, "text": ANSWER,
             "buttons": [{"title": "问题解决了", "payload": "/thank"}]},
            {"recipient_id": sender, "custom": {"answer": {"faq": "si_payment_record"}}},
        ]  # fmt: skip
    return [{"recipient_id": sender, "text": "您好，请问有什么可以帮您？"}]


@pytest.fixture
async def door(
    scripted_rasa: ScriptedRasa, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[FrontDoor, Path]]:
    monkeypatch.setattr(scripted_rasa, "reply", faq_reply)
    project = copy_project(tmp_path / "project")
    settings = browser_settings(
        tmp_path, rasa_url=scripted_rasa.url,
        knowledge_dir=project / "data" / "knowledge", models_dir=project / "models",
    )  # fmt: skip
    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield FrontDoor(str(server.make_url("")).rstrip("/"), app), project
    await server.close()


async def test_thumbs_down_in_the_widget_keeps_the_question(
    door: tuple[FrontDoor, Path], browser: Any, screenshot_path: Callable[[str], Path]
) -> None:
    front_door, _ = door
    page, problems = await open_page(
        browser, front_door.url, viewport={"width": 1280, "height": 800}
    )
    await launcher(page).click()
    await ask(page, QUESTION)
    log = chat_log(page)
    answer = log.locator(".dgc-msg--out", has_text="粤省事小程序")
    await expect(answer).to_have_count(1)
    feedback = answer.get_by_role("group", name="这个回答有帮助吗？")
    up, down = (
        feedback.get_by_role("button", name="有帮助"),
        feedback.get_by_role("button", name="没帮助"),
    )
    await expect(up).to_be_visible()
    await down.click()
    await expect(feedback.get_by_role("status")).to_have_text("感谢反馈，我们会改进这个回答")
    await expect(down).to_have_attribute("aria-pressed", "true")
    await expect(up).to_be_disabled()
    await expect(down).to_be_disabled()
    await page.screenshot(path=str(screenshot_path("widget-thumbs-down.png")))
    # only the answer has the buttons, not the citizen's message
    await expect(log.locator(".dgc-feedback")).to_have_count(1)

    rows = await front_door.app[DB_KEY].unanswered.all_rows()
    assert [(r["reason"], r["faq_key"], r["text"]) for r in rows] == [
        ("thumbs_down", "si_payment_record", "社保缴费记录在哪看 我电话138****5678")
    ]
    assert problems == []


async def signed_in_supervisor(front_door: FrontDoor, browser: Any, **context: Any) -> Any:
    """A page of a new browser context, signed in to the console as 王班长
    (supervisor); on the page the login leads to."""
    await front_door.app[USERS_KEY].create(
        username="banzhang", password=PASSWORD, role="supervisor", display_name="王班长"
    )
    ctx = await browser.new_context(
        locale="zh-CN", viewport={"width": 1440, "height": 900}, **context
    )
    page = await ctx.new_page()
    await page.goto(front_door.url + "/console/login")
    await page.get_by_label("用户名").fill("banzhang")
    await page.get_by_label("密码").fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(re.compile(r"/console/(?!login)"))
    return page


async def test_supervisor_attaches_a_group_and_sees_it_await_training(
    door: tuple[FrontDoor, Path], browser: Any, screenshot_path: Callable[[str], Path]
) -> None:
    front_door, project = door
    db = front_door.app[DB_KEY]
    for text in FUND:
        await db.unanswered.keep(
            reason="fallback", text=text, conversation_id="webchat:s1",
            action="action_handle_fallback",
        )  # fmt: skip
    await db.unanswered.keep(reason="handoff", text="今天天气怎么样呢", conversation_id="wechat:o")
    page = await signed_in_supervisor(front_door, browser, timezone_id="Asia/Shanghai")
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.wait_for_load_state("networkidle")
    await expect(page.get_by_role("link", name="知识库")).to_be_visible()
    problems.clear()

    await page.get_by_role("link", name="知识库").click()
    await page.wait_for_url(re.compile(r"/console/knowledge$"))
    await expect(page.locator("#kn-user-name")).to_have_text("王班长")
    groups = page.locator("#kn-groups > li")
    await expect(groups).to_have_count(2)
    fund = groups.filter(has_text="公积金")
    await expect(fund.locator(".kn-count")).to_have_text("3")
    await expect(page.locator("#kn-training-summary")).to_contain_text("尚未找到训练好的模型")

    await fund.get_by_role("button").click()
    detail = page.get_by_role("region", name="处理这组问题")
    await expect(detail).to_be_visible()
    await expect(detail.locator("#kn-sentences input")).to_have_count(3)
    await detail.get_by_label("问答").select_option("hpf_withdrawal_conditions")
    await detail.get_by_role("button", name="加入问答").click()
    await expect(page.locator("#kn-result")).to_contain_text("已加入问答")
    await expect(page.locator("#kn-result pre")).to_contain_text("+      - 公积金断缴了还能贷款吗")
    waiting = page.locator("#kn-awaiting li")
    await expect(waiting).to_have_count(1)
    await expect(waiting.first).to_contain_text("待训练")
    await expect(waiting.first).to_contain_text("hpf_withdrawal_conditions")
    await expect(page.locator("#kn-training-summary")).to_contain_text("1 项修改待训练")
    await expect(groups).to_have_count(1)  # the group is settled
    await page.screenshot(path=str(screenshot_path("console-knowledge.png")), full_page=True)

    data = yaml.safe_load((project / "data" / "knowledge" / "faq.yml").read_text("utf-8"))
    entry = next(e for e in data["entries"] if e["id"] == "hpf_withdrawal_conditions")
    assert set(FUND) <= set(entry["examples"])
    assert problems == []


async def test_a_read_only_knowledge_directory_is_said_and_the_draft_stays(
    door: tuple[FrontDoor, Path],
    browser: Any,
    monkeypatch: pytest.MonkeyPatch,
    screenshot_path: Callable[[str], Path],
) -> None:
    """The deployment's read-only case (tests/console/test_knowledge_storage.py):
    the page warns before anything is filled in, a draft is refused with the
    reason, and what the supervisor wrote stays in the form."""
    front_door, project = door
    folder = project / "data" / "knowledge"
    before = (folder / "faq.yml").read_bytes()
    make_read_only(monkeypatch, folder)
    db = front_door.app[DB_KEY]
    for text in ID_CARD:
        await db.unanswered.keep(reason="fallback", text=text, conversation_id="webchat:s1")
    page = await signed_in_supervisor(front_door, browser)
    await page.goto(front_door.url + "/console/knowledge")
    notice = page.locator("#kn-storage")
    await expect(notice).to_be_visible()
    await expect(notice).to_contain_text("知识库目录只读")

    groups = page.locator("#kn-groups > li")
    await expect(groups.first).to_be_visible()
    count = await groups.count()
    await groups.first.get_by_role("button").click()
    form = page.locator("#kn-draft")
    await form.locator("#kn-d-domain").select_option("household_registration")
    await form.locator("#kn-d-id").fill("hr_id_card_lost")
    await form.locator("#kn-d-answer").fill(DRAFT["answer"])
    await form.locator("#kn-d-source").fill(DRAFT["source"])
    await form.locator("#kn-d-extra").fill("\n".join(EXTRA))
    await form.locator("button[type=submit]").click()
    result = page.locator("#kn-result")
    await expect(result).to_contain_text("知识库目录只读，无法保存修改")
    await expect(result).to_have_class(re.compile("is-error"))
    await expect(form.locator("#kn-d-answer")).to_have_value(DRAFT["answer"])
    await expect(form.locator("#kn-d-extra")).to_have_value("\n".join(EXTRA))
    await expect(groups).to_have_count(count)  # nothing settled
    await page.screenshot(
        path=str(screenshot_path("console-knowledge-read-only.png")), full_page=True
    )
    assert (folder / "faq.yml").read_bytes() == before


async def test_a_save_that_gets_no_answer_is_said_and_can_be_tried_again(
    door: tuple[FrontDoor, Path], browser: Any
) -> None:
    """The attach request is cut off before an answer (a dropped connection): the
    result box says the save is not confirmed instead of staying empty, the
    buttons wait while a save is under way, and the supervisor can try again."""
    front_door, project = door
    db = front_door.app[DB_KEY]
    for text in FUND:
        await db.unanswered.keep(reason="fallback", text=text, conversation_id="webchat:s1")
    page = await signed_in_supervisor(front_door, browser)
    await page.goto(front_door.url + "/console/knowledge")
    groups = page.locator("#kn-groups > li")
    await expect(groups).to_have_count(1)
    await groups.first.get_by_role("button").click()

    held: asyncio.Queue[Any] = asyncio.Queue()

    async def hold(route: Any) -> None:  # answered below, once the page is seen waiting
        held.put_nowait(route)

    await page.route("**/console/api/knowledge/attach", hold)
    detail = page.get_by_role("region", name="处理这组问题")
    await detail.get_by_label("问答").select_option("hpf_withdrawal_conditions")
    button = detail.get_by_role("button", name="加入问答")
    await button.click()
    result = page.locator("#kn-result")
    await expect(result).to_have_text("正在保存…")
    await expect(button).to_be_disabled()
    route = await asyncio.wait_for(held.get(), timeout=10)
    await route.abort("connectionreset")
    await expect(result).to_contain_text("网络异常，未能确认是否保存成功")
    await expect(result).to_have_class(re.compile("is-error"))
    await expect(button).to_be_enabled()
    await expect(groups).to_have_count(1)  # nothing was settled

    await page.unroute("**/console/api/knowledge/attach")
    await button.click()
    await expect(result).to_contain_text("已加入问答")
    await expect(groups).to_have_count(0)
    data = yaml.safe_load((project / "data" / "knowledge" / "faq.yml").read_text("utf-8"))
    entry = next(e for e in data["entries"] if e["id"] == "hpf_withdrawal_conditions")
    assert set(FUND) <= set(entry["examples"])
