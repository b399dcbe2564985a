"""Callbacks instead of waiting in vain: outside service hours, nobody online, too long."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from aiohttp.test_utils import TestClient

from bot.console.callback import find_phone
from bot.console.config import ServiceHours
from bot.db.models import LOCAL_TZ
from tests.console.conftest import HANDOFF_REPLY, SignIn, connect, console_of, runtime_of, say
from tests.fakes.rasa import FakeRasa


def _closed_now() -> ServiceHours:
    minute = dt.datetime.now(LOCAL_TZ).hour * 60
    return ServiceHours(780, 840) if minute < 720 else ServiceHours(60, 120)


async def _tickets(client: TestClient) -> list[object]:
    return await console_of(client).db.tickets.list()  # type: ignore[no-any-return]


async def test_outside_hours_offers_a_callback(client: TestClient, sign_in: SignIn) -> None:
    console = console_of(client)
    console.config = dataclasses.replace(console.config, service_hours=_closed_now())
    await connect(await sign_in(client, "zhangsan"))  # even with someone online
    replies = await say(client, "c1", "转人工")
    assert replies[-1].startswith("现在不是人工客服服务时间（每天 ")
    assert await console.state("rest:t:c1") == "bot"
    assert await console.conversations.queue_order() == []
    row = await console.handoffs.latest("rest:t:c1")
    assert row is not None and row.outcome == "callback"
    assert await say(client, "c1", "/handoff_callback") == [
        "请回复您的手机号码（11 位），客服会在服务时间内给您回电。回复“取消”可放弃登记。"
    ]
    replies = await say(client, "c1", "我的电话是 138 1234 5678，谢谢")
    assert replies[0].startswith("已为您登记回电，工单号 ")
    number = replies[0].split("工单号 ")[1].split("。")[0]
    ticket = await console.db.tickets.get(number)
    assert ticket is not None
    assert (ticket.type, ticket.contact_phone, ticket.conversation_id) == (
        "callback", "13812345678", "rest:t:c1",
    )  # fmt: skip
    assert ticket.anonymous is False and "楼下太吵了" in ticket.description
    # the stage is over: the next message goes to the assistant again
    assert await say(client, "c1", "13812345678") == ["echo: 13812345678"]
    # the same handoff registered twice is one ticket
    await say(client, "c1", "/handoff_callback")
    again = await say(client, "c1", "13812345678")
    assert number in again[0]


async def test_nobody_online_then_callback_from_the_queue(client: TestClient) -> None:
    console = console_of(client)
    replies = await say(client, "c1", "转人工")
    assert "现在没有人工客服在线" in replies[-1]
    await say(client, "c1", "/handoff_callback")
    assert await say(client, "c1", "不知道") == [
        "没有识别到有效的手机号码，请回复 11 位手机号码，或回复“取消”放弃登记。"
    ]
    assert await console.state("rest:t:c1") == "queued"
    replies = await say(client, "c1", "13912345678")
    assert replies[0].startswith("已为您登记回电")
    assert await console.state("rest:t:c1") == "bot"
    assert await console.conversations.queue_order() == []
    row = await console.handoffs.latest("rest:t:c1")
    assert row is not None and row.outcome == "callback"


async def test_cancelling_the_callback_keeps_the_place(client: TestClient) -> None:
    await say(client, "c1", "转人工")
    await say(client, "c1", "/handoff_callback")
    assert await say(client, "c1", "取消") == ["好的，已取消登记回电，您仍在排队等待人工客服。"]
    assert await console_of(client).state("rest:t:c1") == "queued"


async def test_too_long_a_wait_offers_a_callback(client: TestClient) -> None:
    console = console_of(client)
    await say(client, "c1", "转人工")
    console.config = dataclasses.replace(console.config, max_queue_wait=0.0)
    report = await runtime_of(client).sweeper.run_once()
    assert report.given_up == ["rest:t:c1"]
    assert await console.state("rest:t:c1") == "bot"
    row = await console.handoffs.latest("rest:t:c1")
    assert row is not None and row.outcome == "callback"  # they wrote a moment ago: not gone
    entries = await console.hub.history("rest:t:c1")
    assert entries[-1].text.startswith("非常抱歉，目前咨询量较大")
    replies = await say(client, "c1", "/handoff_callback")
    assert replies[-1].startswith("请回复您的手机号码")


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("13812345678", "13812345678"),
        ("电话：138-1234-5678", "13812345678"),
        ("+86 139 1234 5678", "13912345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("座机 0769-22345678", "076922345678"),
        ("我没有电话", None),
        ("1381234567", None),
    ],
)
def test_phone_numbers_are_found(text: str, phone: str | None) -> None:
    assert find_phone(text) == phone


def test_service_hours() -> None:
    hours = ServiceHours.parse("08:30-21:00")
    at = dt.datetime(2026, 11, 2, 8, 29, tzinfo=LOCAL_TZ)
    assert not hours.is_open(at)
    assert hours.is_open(at.replace(minute=30))
    assert not hours.is_open(at.replace(hour=21, minute=0))
    assert hours.label() == "08:30-21:00"
    assert ServiceHours.parse("00:00-24:00").is_open(at.replace(hour=23, minute=59))
    for bad in ("8-21", "21:00-08:30", "08:70-09:00", ""):
        with pytest.raises(ValueError):
            ServiceHours.parse(bad)


async def test_callback_ticket_and_handoff_summary_keep_no_plaintext_number(
    client: TestClient, rasa_handoff: FakeRasa
) -> None:
    """A summary that arrives with raw numbers (the last messages of the
    citizen) is stored masked, and so is the callback ticket built from it;
    the ticket's encrypted field keeps the number the citizen left."""
    raw = [dict(m) for m in HANDOFF_REPLY]
    raw[1] = {"custom": {"handoff": {"reason": "citizen_request", "priority": "normal",
              "summary": {"slots": {"complaint_where": "鸿福路"}, "last_messages": [
                  "我电话13912345678", "身份证11010519491231002X"]}}}}  # fmt: skip
    rasa_handoff.replies["转人工"] = raw
    console = console_of(client)
    await say(client, "c9", "转人工")
    await say(client, "c9", "/handoff_callback")
    replies = await say(client, "c9", "13812345678")
    number = replies[0].split("工单号 ")[1].split("。")[0]
    ticket = await console.db.tickets.get(number)
    assert ticket is not None and ticket.contact_phone == "13812345678"
    assert "139****5678" in ticket.description and "13912345678" not in ticket.description
    assert "11010519491231002X" not in ticket.description
    row = await console.handoffs.latest("rest:t:c9")
    assert row is not None and "13912345678" not in str(row.summary)
