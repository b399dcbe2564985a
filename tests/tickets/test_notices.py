"""Citizens kept informed (issue 20): every step of their ticket and its result
reach them on their own channel, within its rules, once, and on the timeline.

WeChat against the fake API with WeChat's own error codes: a customer-service
message inside the 48-hour window, a template message outside it (45015 /
45047), "未送达" on the timeline only when both fail (40037 invalid template,
43101 refused, 45009 quota); 40001 refreshes the token once. The reply keyword
查看结果 opens the result and its rating. Telegram and the web widget get the
same steps as ordinary messages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from bot.config import WeChatNoticeSettings
from bot.db import Database, Ticket
from bot.db.models import LOCAL_TZ
from bot.db.schema import events as events_table
from bot.tickets import TICKETS_KEY
from bot.tickets.access import Principal
from tests.fakes.rasa import FakeRasa
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.wechat_api import (
    AES_KEY,
    OPENID,
    PROGRESS_TEMPLATE,
    RESULT_TEMPLATE,
    TOKEN,
    URL,
    FakeWeChatApi,
    FakeWeChatPlatform,
    text_xml,
)
from tests.support.waiting import frames_until
from tests.tickets.conftest import (
    DEPT_TOKEN,
    OTHER_DEPT_TOKEN,
    Api,
    Clock,
    MakeFrontDoor,
    create_ticket,
)

TEMPLATES = WeChatNoticeSettings(
    progress_template=PROGRESS_TEMPLATE,
    result_template=RESULT_TEMPLATE,
    url="https://12345.dg.gov.cn/ticket/{number}",
)
CID = f"wechat:{OPENID}"
DEPARTMENT = Principal("env-desk", "department", "ecology_environment")


@pytest.fixture
async def door(make_front_door: MakeFrontDoor, ticket_db: Database) -> TestClient:
    """The front door with the account's template ids configured."""
    return await make_front_door(ticket_db, wechat_notices=TEMPLATES)


async def latest(db: Database, number: str) -> Ticket:
    ticket = await db.tickets.get(number)
    assert ticket is not None
    return ticket


def told(ticket: Ticket) -> list[dict[str, Any]]:
    return [e.data for e in ticket.events if e.kind in ("told", "not_told")]


async def recorded(db: Database, number: str | None, kind: str) -> list[dict[str, Any]]:
    """The data of the ``kind`` events of ticket ``number`` (None: of the WeChat citizen)."""
    where = (
        events_table.c.ticket_number == number if number else events_table.c.conversation_id == CID
    )
    stmt = (
        sa.select(events_table.c.data)
        .where(events_table.c.kind == kind, where)
        .order_by(events_table.c.id)
    )
    async with db.read() as conn:
        return [dict(row[0] or {}) for row in (await conn.execute(stmt)).all()]


async def wechat_text(door: TestClient, text: str, msg_id: str) -> str:
    """The citizen writes on WeChat (AES mode); the passive reply's text."""
    platform = FakeWeChatPlatform(token=TOKEN, encoding_aes_key=AES_KEY)
    encrypt = platform.encrypt(text_xml(text, msg_id=msg_id))
    resp = await door.post(URL, params=platform.query(encrypt), data=platform.envelope(encrypt))
    assert resp.status == 200
    return platform.open_reply(await resp.read())["Content"]


def day(value: dt.datetime) -> str:
    local = value.astimezone(LOCAL_TZ)
    return f"{local.month}月{local.day}日"


# --- the result ---------------------------------------------------------------


async def test_result_inside_the_window_is_a_customer_service_message(
    door: TestClient, ticket_db: Database, wechat_api: FakeWeChatApi
) -> None:
    ticket = await create_ticket(ticket_db, CID)
    status, body = await Api(door, DEPT_TOKEN).post(ticket.number, "reply", {"text": "已整改。"})
    assert status == 200 and body["notified"] is True
    assert any("已整改。" in t for t in wechat_api.sent_texts)
    assert wechat_api.template_attempts == []
    notified = [e for e in (await latest(ticket_db, ticket.number)).events if e.kind == "notified"]
    assert [e.data for e in notified] == [{"channel": "wechat", "via": "message"}]


async def test_result_outside_the_window_is_a_template_and_the_keyword_opens_it(
    door: TestClient, ticket_db: Database, wechat_api: FakeWeChatApi, fake_rasa: FakeRasa
) -> None:
    ticket = await create_ticket(ticket_db, CID)
    wechat_api.window_closed.add(OPENID)  # silent for more than 48 hours: 45015
    status, body = await Api(door, DEPT_TOKEN).post(
        ticket.number, "reply", {"text": "经现场检查，已责令商铺停止使用高音喇叭。"}
    )
    assert status == 200 and body["notified"] is True and body["ticket"]["notified"] is True
    assert wechat_api.sent == []  # the customer-service message was refused
    [template] = wechat_api.templates_sent
    assert template["touser"] == OPENID and template["template_id"] == RESULT_TEMPLATE
    assert template["url"] == f"https://12345.dg.gov.cn/ticket/{ticket.number}"
    data = {k: v["value"] for k, v in template["data"].items()}
    assert set(data) == {"character_string1", "phrase2", "thing3", "time4"}
    assert data["character_string1"] == ticket.number and data["phrase2"] == "已答复"
    assert "查看结果" in data["thing3"] and len(data["thing3"]) <= 20
    notified = [e for e in (await latest(ticket_db, ticket.number)).events if e.kind == "notified"]
    assert notified[-1].data == {"channel": "wechat", "via": "template"}

    # The citizen replies with the keyword: the whole answer and the rating choices.
    reply = await wechat_text(door, "查看结果", "880001")
    assert "已责令商铺停止使用高音喇叭" in reply and "请回复数字选择" in reply
    assert "5. 非常满意" in reply
    assert "感谢您的评价" in await wechat_text(door, "5", "880002")
    closed = await latest(ticket_db, ticket.number)
    assert (closed.status, closed.rating) == ("closed", 5)
    assert fake_rasa.calls == []  # neither the keyword nor the rating went to Rasa


@pytest.mark.parametrize(
    ("refusal", "reason"),
    [("no_such_template", "invalid_template"), ("refused", "refused"), (45009, "rate_limited")],
)
async def test_both_ways_refused_leaves_the_result_untold(
    door: TestClient,
    ticket_db: Database,
    wechat_api: FakeWeChatApi,
    refusal: object,
    reason: str,
) -> None:
    ticket = await create_ticket(ticket_db, CID)
    wechat_api.window_closed.add(OPENID)
    if refusal == "no_such_template":
        wechat_api.templates.clear()  # 40037: the account has no such template
    elif refusal == "refused":
        wechat_api.refused.add(OPENID)  # 43101: the citizen turned notices off
    else:
        wechat_api.fail_next_template(45009)  # the account's daily quota is used up
    status, body = await Api(door, DEPT_TOKEN).post(ticket.number, "reply", {"text": "已处理。"})
    assert status == 200 and body["notified"] is False and body["ticket"]["notified"] is False
    assert wechat_api.templates_sent == [] and len(wechat_api.template_attempts) == 1
    assert await recorded(ticket_db, ticket.number, "ticket.notify_failed") == [{"reason": reason}]
    failed = await recorded(ticket_db, None, "wechat_send_failed")
    assert [f["reason"] for f in failed] == ["outside_window", reason]


async def test_a_quota_refusal_is_sent_again_by_the_sweep(
    door: TestClient, ticket_db: Database, wechat_api: FakeWeChatApi, clock: Clock
) -> None:
    ticket = await create_ticket(ticket_db, CID)
    wechat_api.window_closed.add(OPENID)
    wechat_api.fail_next_template(45009)
    status, body = await Api(door, DEPT_TOKEN).post(ticket.number, "reply", {"text": "已处理。"})
    assert body["notified"] is False
    clock.advance(minutes=5)
    report = await door.app[TICKETS_KEY].sweeper.sweep()
    assert report.renotified == [ticket.number]
    assert [t["template_id"] for t in wechat_api.templates_sent] == [RESULT_TEMPLATE]
    assert (await door.app[TICKETS_KEY].sweeper.sweep()).renotified == []


async def test_a_rejected_token_is_refreshed_once_for_a_template(
    door: TestClient, ticket_db: Database, wechat_api: FakeWeChatApi
) -> None:
    ticket = await create_ticket(ticket_db, CID)
    wechat_api.window_closed.add(OPENID)
    wechat_api.fail_next_template(40001)  # invalid credential: the token is dropped
    status, body = await Api(door, DEPT_TOKEN).post(ticket.number, "reply", {"text": "已处理。"})
    assert status == 200 and body["notified"] is True
    assert len(wechat_api.template_attempts) == 2 and len(wechat_api.templates_sent) == 1
    assert wechat_api.token_calls == 2  # the first token, then exactly one refresh


async def test_a_second_40001_is_not_refreshed_again(
    door: TestClient, ticket_db: Database, wechat_api: FakeWeChatApi
) -> None:
    ticket = await create_ticket(ticket_db, CID)
    wechat_api.window_closed.add(OPENID)
    wechat_api.fail_next_template(40001, 40001)
    status, body = await Api(door, DEPT_TOKEN).post(ticket.number, "reply", {"text": "已处理。"})
    assert body["notified"] is False
    assert len(wechat_api.template_attempts) == 2 and wechat_api.token_calls == 2
    assert await recorded(ticket_db, ticket.number, "ticket.notify_failed") == [{"reason": "token"}]


async def test_without_templates_outside_the_window_is_untold(
    front_door: TestClient, ticket_db: Database, wechat_api: FakeWeChatApi
) -> None:
    ticket = await create_ticket(ticket_db, CID)
    wechat_api.window_closed.add(OPENID)
    status, body = await Api(front_door, DEPT_TOKEN).post(
        ticket.number, "reply", {"text": "已处理。"}
    )
    assert body["notified"] is False and wechat_api.template_attempts == []
    assert await recorded(ticket_db, ticket.number, "ticket.notify_failed") == [
        {"reason": "outside_window"}
    ]


# --- the steps ----------------------------------------------------------------


async def test_every_step_reaches_wechat_once_and_is_on_the_timeline(
    door: TestClient, ticket_db: Database, wechat_api: FakeWeChatApi, clock: Clock
) -> None:
    ticket = await create_ticket(ticket_db, CID, category="other")  # the triage desk first
    assert ticket.status == "new"
    ctx = door.app[TICKETS_KEY]

    status, body = await Api(door).post(
        ticket.number, "assign", {"department": "ecology_environment", "reason": "内部说明"}
    )
    assert status == 200
    deadline = dt.datetime.fromisoformat(body["ticket"]["deadline"])
    assert wechat_api.sent_texts[-1] == (
        f"【工单进度】您的工单 {ticket.number} 已转交市生态环境局办理，预计{day(deadline)}前答复。"
    )

    await ctx.service.act(DEPARTMENT, ticket.number, "accept", {})
    assert wechat_api.sent_texts[-1] == (
        f"【工单进度】您的工单 {ticket.number} 已由市生态环境局签收办理，"
        f"预计{day(deadline)}前答复。"
    )

    status, body = await Api(door, DEPT_TOKEN).post(
        ticket.number, "extend", {"days": 3, "reason": "需会同住建部门现场复核"}
    )
    assert status == 200
    later = dt.datetime.fromisoformat(body["ticket"]["deadline"])
    assert later == ticket_db.routing.deadline(deadline, 3) and later > deadline
    text = wechat_api.sent_texts[-1]
    assert f"预计{day(later)}前答复" in text and "延长" in text
    assert "住建" not in text  # the department's reason stays internal
    extended = [e for e in (await latest(ticket_db, ticket.number)).events if e.kind == "extended"]
    assert extended[0].data["days"] == 3 and extended[0].data["deadline"] == later.isoformat()

    # Days later: overdue, escalated by the sweep; the window has closed meanwhile.
    wechat_api.window_closed.add(OPENID)
    clock.now = later + dt.timedelta(hours=2)
    report = await ctx.sweeper.sweep()
    assert report.escalated == [ticket.number]
    [template] = wechat_api.templates_sent
    assert template["template_id"] == PROGRESS_TEMPLATE
    assert template["data"]["phrase2"]["value"] == "督办中"
    assert template["data"]["thing3"]["value"] == "已督促市生态环境局尽快办理"
    await ctx.sweeper.sweep()  # escalated once per deadline, told once
    assert len(wechat_api.templates_sent) == 1

    final = await latest(ticket_db, ticket.number)
    await ctx.notifier.notify_steps(final, 0)  # asked again: every step was told already
    assert len(wechat_api.templates_sent) == 1 and len(wechat_api.sent) == 3
    steps = told(await latest(ticket_db, ticket.number))
    assert [(s["about"], s.get("via")) for s in steps] == [
        ("assigned", "message"),
        ("accepted", "message"),
        ("extended", "message"),
        ("escalated", "template"),
    ]
    versions = {e.kind: e.version for e in final.events}
    kinds = ("assigned", "accepted", "extended", "escalated")
    assert [s["event"] for s in steps] == [versions[k] for k in kinds]  # one per event


async def test_a_step_nobody_could_be_told_of_says_so_on_the_timeline(
    front_door: TestClient, ticket_db: Database, wechat_api: FakeWeChatApi
) -> None:
    ticket = await create_ticket(ticket_db, CID)  # assigned to the department at once
    wechat_api.window_closed.add(OPENID)  # and no template configured
    await front_door.app[TICKETS_KEY].service.act(DEPARTMENT, ticket.number, "accept", {})
    [step] = told(await latest(ticket_db, ticket.number))
    assert step["about"] == "accepted" and step["code"] == "outside_window"
    assert step["reason"] == "超过48小时客服消息时限，请电话联系"
    assert await recorded(ticket_db, ticket.number, "ticket.not_told") == [
        {"about": "accepted", "channel": "wechat", "reason": "outside_window"}
    ]


async def test_steps_on_telegram_and_the_widget(
    front_door: TestClient, ticket_db: Database, telegram_api: FakeTelegramApi
) -> None:
    chat = 770002
    ticket = await create_ticket(ticket_db, f"telegram:{chat}", category="other")
    assert (
        await Api(front_door).post(ticket.number, "assign", {"department": "housing_construction"})
    )[0] == 200
    await telegram_api.wait_for("sendMessage")
    call = telegram_api.calls_to("sendMessage")[-1]
    assert call["chat_id"] == chat and "已转交" in call["text"] and ticket.number in call["text"]

    session = await (await front_door.post("/webchat/session")).json()
    ws = await front_door.ws_connect("/webchat/ws", params={"token": session["token"]})
    web = await create_ticket(ticket_db, session["conversation_id"])
    await front_door.app[TICKETS_KEY].service.act(DEPARTMENT, web.number, "accept", {})
    frames = await frames_until(ws, lambda fs: any("签收办理" in (f.get("text") or "") for f in fs))
    assert any(web.number in (f.get("text") or "") for f in frames)
    await ws.close()
    for number in (ticket.number, web.number):
        assert [s.get("via") for s in told(await latest(ticket_db, number))] == ["message"]


async def test_extension_is_checked(
    door: TestClient, ticket_db: Database, make_ticket: Any
) -> None:
    ticket = await create_ticket(ticket_db, CID)
    dept = Api(door, DEPT_TOKEN)
    before = await latest(ticket_db, ticket.number)
    for body in (
        {"days": 0, "reason": "x"},
        {"days": 61, "reason": "x"},
        {"days": "三", "reason": "x"},
        {"days": True, "reason": "x"},
        {"days": 3},
        {"days": 3, "reason": " "},
    ):
        status, answer = await dept.post(ticket.number, "extend", body)
        assert status == 400, (body, answer)
    assert (
        await Api(door, OTHER_DEPT_TOKEN).post(ticket.number, "extend", {"days": 2, "reason": "x"})
    )[0] == 404
    triage = await create_ticket(ticket_db, CID, category="other")
    assert (await Api(door).post(triage.number, "extend", {"days": 2, "reason": "x"}))[0] == 409
    assert (await latest(ticket_db, ticket.number)).to_full_dict() == before.to_full_dict()
    status, body = await dept.post(ticket.number, "extend", {"days": "2", "reason": "等待检测报告"})
    assert status == 200 and body["ticket"]["events"][-1]["kind"] == "told"


async def test_the_keyword_tells_progress_and_leaves_strangers_to_rasa(
    door: TestClient, ticket_db: Database, wechat_api: FakeWeChatApi, fake_rasa: FakeRasa
) -> None:
    fake_rasa.replies["查看结果"] = [{"text": "请问您想查询什么？"}]
    assert await wechat_text(door, "查看结果", "870001") == "请问您想查询什么？"  # no ticket
    ticket = await create_ticket(ticket_db, CID)
    reply = await wechat_text(door, "查看结果", "870002")
    assert reply.startswith(f"您的工单 {ticket.number} 正在由市生态环境局办理，预计")
    assert len(fake_rasa.calls) == 1
