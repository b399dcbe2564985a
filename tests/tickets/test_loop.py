"""The whole loop through the real front door, on each channel:

a ticket is created the way ``action_create_ticket`` creates it, assigned to
a department, answered by the department through the REST API, the answer
reaches the citizen on the channel they came from with rating buttons, and
the citizen's rating is stored ("not satisfied" reopens, with the comment
that follows; satisfied closes). Rating payloads never reach Rasa.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from bot.db import Database
from bot.tickets import TICKETS_KEY
from channels.telegram import AUTH_HEADER, WEBHOOK_PATH
from tests.fakes.rasa import FakeRasa
from tests.fakes.telegram_api import FakeTelegramApi, callback_update, text_update
from tests.fakes.wechat_api import (
    AES_KEY,
    OPENID,
    TOKEN,
    URL,
    FakeWeChatApi,
    FakeWeChatPlatform,
    text_xml,
)
from tests.support.rest_auth import REST_AUTH
from tests.support.waiting import Frames, eventually, frames_until
from tests.tickets.conftest import (
    DEPT_TOKEN,
    OTHER_DEPT_TOKEN,
    TELEGRAM_SECRET,
    Api,
    create_ticket,
)


def out_text(part: str) -> Callable[[Frames], bool]:
    return lambda frames: any(
        f.get("type") == "message" and f.get("direction") == "out" and part in (f.get("text") or "")
        for f in frames
    )


def last_out(frames: Frames) -> dict[str, Any]:
    return [f for f in frames if f.get("type") == "message" and f["direction"] == "out"][-1]


async def test_webchat_loop_not_satisfied_then_satisfied(
    front_door: TestClient, ticket_db: Database, fake_rasa: FakeRasa
) -> None:
    session = await (await front_door.post("/webchat/session")).json()
    cid = session["conversation_id"]
    ws = await front_door.ws_connect("/webchat/ws", params={"token": session["token"]})
    ticket = await create_ticket(
        ticket_db, cid, category="other", description="小区门口垃圾堆积发臭"
    )
    assert ticket.status == "new" and ticket.department == "triage"

    agents, dept = Api(front_door), Api(front_door, DEPT_TOKEN)
    status, body = await agents.post(ticket.number, "assign", {"department": "ecology_environment"})
    assert status == 200 and body["ticket"]["status"] == "assigned"
    stranger = Api(front_door, OTHER_DEPT_TOKEN)
    assert (await stranger.post(ticket.number, "reply", {"text": "越权答复"}))[0] == 404
    status, body = await dept.post(ticket.number, "reply", {"text": "已安排环卫当天清运。"})
    assert status == 200 and body["notified"] is True

    frames = await frames_until(ws, out_text("已安排环卫当天清运。"))
    result = last_out(frames)
    assert ticket.number in result["text"] and "请您对本次办理结果进行评价" in result["text"]
    assert [b["title"] for b in result["buttons"]] == [
        "非常不满意",
        "不满意",
        "基本满意",
        "满意",
        "非常满意",
    ]
    rate2 = result["buttons"][1]["payload"]
    assert rate2 == f'/rate_ticket{{"ticket":"{ticket.number}","rating":"2"}}'

    await ws.send_json({"type": "message", "id": "r1", "payload": rate2, "title": "不满意"})
    await frames_until(ws, out_text("已重新交办"))
    await ws.send_json({"type": "message", "id": "c1", "text": "垃圾只清了一半，还有臭味"})
    await frames_until(ws, out_text("已记录您的意见"))
    reopened = await ticket_db.tickets.get(ticket.number)
    assert reopened is not None and reopened.status == "reopened" and reopened.rating == 2
    assert reopened.events[-1].kind == "note" and reopened.events[-1].actor == "citizen"
    assert "还有臭味" in reopened.events[-1].data["text"]

    # Back to the department; the second answer satisfies the citizen.
    again = {"department": "ecology_environment"}
    assert (await agents.post(ticket.number, "assign", again))[0] == 200
    assert (await dept.post(ticket.number, "reply", {"text": "已二次清理并消杀。"}))[0] == 200
    frames = await frames_until(ws, out_text("已二次清理并消杀。"))
    rate5 = last_out(frames)["buttons"][4]["payload"]
    await ws.send_json({"type": "message", "id": "r2", "payload": rate5, "title": "非常满意"})
    await frames_until(ws, out_text("已办结"))
    closed = await ticket_db.tickets.get(ticket.number)
    assert closed is not None and closed.status == "closed" and closed.rating == 5
    kinds = [e.kind for e in closed.events]
    assert kinds == [
        "created",
        "assigned",
        "told",  # "已转交…办理" (the triage desk's assignment)
        "replied",
        "notified",
        "rated",
        "reopened",
        "note",
        "assigned",
        "told",
        "replied",
        "notified",
        "rated",
        "closed",
    ]
    assert fake_rasa.calls == []  # ratings and the comment never went to Rasa
    await ws.close()


async def test_wechat_loop_customer_service_message_and_numbered_rating(
    front_door: TestClient, ticket_db: Database, wechat_api: FakeWeChatApi, fake_rasa: FakeRasa
) -> None:
    ticket = await create_ticket(ticket_db, f"wechat:{OPENID}")  # noise -> ecology_environment
    status, body = await Api(front_door, DEPT_TOKEN).post(
        ticket.number, "reply", {"text": "经现场检查，已责令商铺停止使用高音喇叭。"}
    )
    assert status == 200 and body["notified"] is True
    sent = wechat_api.sent[-1]
    assert sent["touser"] == OPENID and sent["msgtype"] == "text"
    content = sent["text"]["content"]
    assert "已责令商铺停止使用高音喇叭" in content and "请回复数字选择" in content
    assert "4. 满意" in content

    platform = FakeWeChatPlatform(token=TOKEN, encoding_aes_key=AES_KEY)
    encrypt = platform.encrypt(text_xml("4", msg_id="900001"))
    resp = await front_door.post(
        URL, params=platform.query(encrypt), data=platform.envelope(encrypt)
    )
    assert resp.status == 200
    reply = platform.open_reply(await resp.read())["Content"]
    assert "感谢您的评价" in reply
    closed = await ticket_db.tickets.get(ticket.number)
    assert closed is not None and (closed.status, closed.rating) == ("closed", 4)
    assert fake_rasa.calls == []


async def test_wechat_failure_is_recorded_and_retried_by_the_sweep(
    front_door: TestClient, ticket_db: Database, wechat_api: FakeWeChatApi, clock: Any
) -> None:
    ticket = await create_ticket(ticket_db, f"wechat:{OPENID}")
    wechat_api.fail_next(45015)  # the citizen has been silent for more than 48 hours
    status, body = await Api(front_door).post(ticket.number, "reply", {"text": "已处理。"})
    assert status == 200 and body["notified"] is False and body["ticket"]["notified"] is False
    ctx = front_door.app[TICKETS_KEY]
    clock.advance(minutes=5)
    report = await ctx.sweeper.sweep()
    assert report.renotified == [ticket.number]
    await eventually(lambda: any("已处理。" in t for t in wechat_api.sent_texts))
    notified = await ticket_db.tickets.get(ticket.number)
    assert notified is not None and notified.events[-1].kind == "notified"
    assert (await ctx.sweeper.sweep()).renotified == []  # once is enough


async def test_telegram_loop_inline_keyboard_and_comment(
    front_door: TestClient, ticket_db: Database, telegram_api: FakeTelegramApi, fake_rasa: FakeRasa
) -> None:
    chat = 770001
    ticket = await create_ticket(
        ticket_db, f"telegram:{chat}", category="wages", description="公司拖欠三个月工资"
    )
    assert ticket.department == "human_resources"
    status, _ = await Api(front_door).post(ticket.number, "reply", {"text": "已责令企业限期支付。"})
    assert status == 200
    await telegram_api.wait_for("sendMessage")
    call = telegram_api.calls_to("sendMessage")[-1]
    assert call["chat_id"] == chat and "已责令企业限期支付" in call["text"]
    keyboard = call["reply_markup"]["inline_keyboard"]
    data = [row[0]["callback_data"] for row in keyboard]
    assert data[0] == f'/rate_ticket{{"ticket":"{ticket.number}","rating":"1"}}'

    headers = {AUTH_HEADER: TELEGRAM_SECRET}
    update = callback_update(5001, chat, data[0], keyboard=call["reply_markup"])
    assert (await front_door.post(WEBHOOK_PATH, json=update, headers=headers)).status == 200
    await telegram_api.wait_for("sendMessage", count=2)
    assert "已重新交办" in telegram_api.calls_to("sendMessage")[-1]["text"]
    update = text_update(5002, chat, "企业到现在一分钱都没付")
    assert (await front_door.post(WEBHOOK_PATH, json=update, headers=headers)).status == 200
    await telegram_api.wait_for("sendMessage", count=3)
    assert "已记录您的意见" in telegram_api.calls_to("sendMessage")[-1]["text"]
    reopened = await ticket_db.tickets.get(ticket.number)
    assert reopened is not None and (reopened.status, reopened.rating) == ("reopened", 1)
    assert "一分钱都没付" in reopened.events[-1].data["text"]
    assert fake_rasa.calls == []


async def test_rest_sender_gets_the_result_on_the_next_request(
    front_door: TestClient, ticket_db: Database, fake_rasa: FakeRasa
) -> None:
    ticket = await create_ticket(ticket_db, "rest:t:citizen-42")
    assert (await Api(front_door).post(ticket.number, "reply", {"text": "已处理完毕。"}))[0] == 200
    resp = await front_door.post(
        "/webhooks/rest/webhook",
        json={"sender": "citizen-42", "message": "你好"},
        headers=REST_AUTH,
    )
    replies = await resp.json()
    assert "已处理完毕。" in replies[0]["text"] and len(replies[0]["buttons"]) == 5
    payload = replies[0]["buttons"][2]["payload"]
    resp = await front_door.post(
        "/webhooks/rest/webhook",
        json={"sender": "citizen-42", "message": payload},
        headers=REST_AUTH,
    )
    assert "感谢您的评价" in (await resp.json())[0]["text"]
    assert [c["message"] for c in fake_rasa.calls] == ["你好"]
