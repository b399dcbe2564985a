"""Ticket creation and status actions against a real SQL database."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.tickets import (
    ActionCreateTicket,
    ActionStartTicketQuery,
    ActionTicketStatus,
    ValidateTicketStatusForm,
    meant_ticket_no,
    parse_ticket_no,
)
from bot.db import Database
from tests.actions.helpers import parse_data, slot_events, tracker

DOMAIN: dict = {}

COMPLAINT = {
    "complaint_type": "complaint",
    "complaint_submission_id": "5f0c6a2e9d3b4c1a8e7f6d5c4b3a2910",
    "complaint_what": "楼下KTV每天半夜还在大声唱歌,噪音扰民很严重",
    "complaint_where": "南城区鸿福路某小区",
    "complaint_when": "最近一周每天晚上",
    "contact_phone": "13812345678",
    "contact_name": "王先生",
}


def test_ticket_numbers_are_found_in_free_text() -> None:
    assert parse_ticket_no("帮我查下20261127-000123进度") == "20261127-000123"
    assert parse_ticket_no("20261127 000123") == "20261127-000123"
    assert parse_ticket_no("工单123") is None


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("不是20261101-000001吗 你再看看 20261101-000010", "20261101-000010"),
        ("20261101-000001错了，20261101-000010", "20261101-000010"),
        ("20261101-000001 20261101-000010", "20261101-000001"),  # no hint: the first
        ("单号是20261128 000987 帮我看看处理到哪了", "20261128-000987"),
    ],
)
def test_of_two_ticket_numbers_the_one_not_doubted_is_meant(text: str, number: str) -> None:
    assert meant_ticket_no(text) == number


async def test_the_ticket_question_takes_the_number_not_doubted() -> None:
    text = "不是20261101-000001吗 你再看看 20261101-000010"
    result = await ValidateTicketStatusForm().validate_ticket_no(
        text, CollectingDispatcher(), tracker(parse_data(text, "check_ticket")), DOMAIN
    )
    assert result == {"ticket_no": "20261101-000010"}


async def test_confirmed_complaint_creates_one_ticket_and_tells_number_and_time(
    db: Database,
) -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("确认", "affirm"), COMPLAINT)
    events = await ActionCreateTicket().run(dispatcher, t, DOMAIN)
    number = slot_events(events)["last_ticket_no"]
    ticket = await db.tickets.get(number)
    assert ticket is not None
    assert ticket.category == "noise"
    assert ticket.contact_phone == "13812345678"
    assert ticket.conversation_id == "webchat:test-session" and ticket.channel == "webchat"
    text = dispatcher.messages[0]["text"]
    assert number in text and "工作日" in text and "预计" in text
    assert slot_events(events)["complaint_submission_id"] is None


async def test_retried_action_creates_exactly_one_ticket(db: Database) -> None:
    t = tracker(parse_data("确认", "affirm"), COMPLAINT, sender="telegram:42")
    results = await asyncio.gather(
        *(ActionCreateTicket().run(CollectingDispatcher(), t, DOMAIN) for _ in range(5))
    )
    numbers = {slot_events(events)["last_ticket_no"] for events in results}
    assert len(numbers) == 1
    tickets = await db.tickets.list(query=None, limit=50)
    assert len([x for x in tickets if x.conversation_id == "telegram:42"]) == 1


async def test_anonymous_complaint_is_created_without_contact(db: Database) -> None:
    slots = {
        **COMPLAINT,
        "contact_phone": "匿名",
        "contact_name": "匿名",
        "complaint_submission_id": "anon-1",
    }
    dispatcher = CollectingDispatcher()
    events = await ActionCreateTicket().run(
        dispatcher, tracker(parse_data("确认", "affirm"), slots), DOMAIN
    )
    ticket = await db.tickets.get(slot_events(events)["last_ticket_no"])
    assert ticket is not None and ticket.anonymous and ticket.contact_phone is None
    assert "匿名" in dispatcher.messages[0]["text"]


async def test_nothing_to_submit_creates_nothing(db: Database) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionCreateTicket().run(
        dispatcher, tracker(parse_data("确认", "affirm")), DOMAIN
    )
    assert events == []
    assert await db.tickets.list(limit=5) == []


async def test_status_needs_the_right_last_four_digits(db: Database) -> None:
    created = await ActionCreateTicket().run(
        CollectingDispatcher(), tracker(parse_data("确认", "affirm"), COMPLAINT), DOMAIN
    )
    number = slot_events(created)["last_ticket_no"]

    wrong = CollectingDispatcher()
    await ActionTicketStatus().run(
        wrong,
        tracker(parse_data("0000", "inform"), {"ticket_no": number, "ticket_phone_last4": "0000"}),
        DOMAIN,
    )
    assert "没有查到" in wrong.messages[0]["text"] and "南城" not in wrong.messages[0]["text"]

    right = CollectingDispatcher()
    await ActionTicketStatus().run(
        right,
        tracker(parse_data("5678", "inform"), {"ticket_no": number, "ticket_phone_last4": "5678"}),
        DOMAIN,
    )
    text = right.messages[0]["text"]
    assert number in text and "承办部门" in text and "13812345678" not in text


async def test_unknown_ticket_gets_the_same_answer_as_a_wrong_phone(db: Database) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"ticket_no": "20200101-000001", "ticket_phone_last4": "5678"}
    await ActionTicketStatus().run(dispatcher, tracker(parse_data("5678", "inform"), slots), DOMAIN)
    assert "没有查到" in dispatcher.messages[0]["text"]


async def test_query_prefills_number_and_last4() -> None:
    t = tracker(parse_data("查工单20261127-000123 尾号5678", "check_ticket"))
    slots = slot_events(await ActionStartTicketQuery().run(CollectingDispatcher(), t, DOMAIN))
    assert slots == {"ticket_no": "20261127-000123", "ticket_phone_last4": "5678"}


async def test_query_validation_refuses_malformed_input() -> None:
    form = ValidateTicketStatusForm()
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("abc", "inform"))
    assert await form.validate_ticket_no("abc", dispatcher, t, DOMAIN) == {"ticket_no": None}
    assert await form.validate_ticket_phone_last4("12", dispatcher, t, DOMAIN) == {
        "ticket_phone_last4": None
    }
    assert len(dispatcher.messages) == 2


async def test_guessing_the_last_four_digits_is_throttled_per_ticket(db: Database) -> None:
    created = await ActionCreateTicket().run(
        CollectingDispatcher(), tracker(parse_data("确认", "affirm"), COMPLAINT), DOMAIN
    )
    number = slot_events(created)["last_ticket_no"]
    for guess in range(5):  # five wrong guesses from five different senders
        t = tracker(
            parse_data("x", "inform"),
            {"ticket_no": number, "ticket_phone_last4": f"000{guess}"},
            sender=f"rest:attacker{guess}",
        )
        await ActionTicketStatus().run(CollectingDispatcher(), t, DOMAIN)
    right = CollectingDispatcher()
    slots = {"ticket_no": number, "ticket_phone_last4": "5678"}
    await ActionTicketStatus().run(right, tracker(parse_data("5678", "inform"), slots), DOMAIN)
    assert "暂停查询" in right.messages[0]["text"] and number not in right.messages[0]["text"]


async def test_ticket_gets_the_phone_the_form_stored_encrypted(db: Database) -> None:
    from actions.complaints import seal_phone

    slots = {**COMPLAINT, "contact_phone": seal_phone("13912345678")}
    events = await ActionCreateTicket().run(
        CollectingDispatcher(), tracker(parse_data("确认", "affirm"), slots), DOMAIN
    )
    ticket = await db.tickets.get(slot_events(events)["last_ticket_no"])
    assert ticket is not None and ticket.contact_phone == "13912345678"


async def test_a_failed_submission_shows_the_summary_again_to_retry(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database is down at the confirmation (PostgreSQL restarting): the
    citizen is told, nothing is lost, and the summary comes again so that the
    next 确认提交 submits (the rule after action_complaint_summary) - with
    the same submission id, so a retry never makes a second ticket."""

    async def down() -> Database:
        raise ConnectionError("the database is restarting")

    monkeypatch.setattr("actions.tickets.get_db", down)
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("确认", "affirm"), COMPLAINT)
    events = await ActionCreateTicket().run(dispatcher, t, DOMAIN)
    assert events == [{"event": "followup", "timestamp": None, "name": "action_complaint_summary"}]
    assert [m["text"] for m in dispatcher.messages] == [
        "抱歉，系统暂时无法登记工单，您填写的信息都还在。请稍后点“确认提交”重试，"
        "或回复“转人工”联系人工客服。"
    ]
    monkeypatch.undo()
    retried = await ActionCreateTicket().run(CollectingDispatcher(), t, DOMAIN)
    assert (await db.tickets.get(slot_events(retried)["last_ticket_no"])) is not None


@pytest.mark.parametrize("text", ["登记的是匿名", "当时没留电话"])
async def test_no_phone_left_with_the_ticket_offers_a_person(text: str) -> None:
    dispatcher = CollectingDispatcher()
    result = await ValidateTicketStatusForm().validate_ticket_phone_last4(
        text, dispatcher, tracker(parse_data(text, "inform")), DOMAIN
    )
    assert result == {"ticket_phone_last4": None}
    payloads = [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []]
    assert "/request_human" in payloads


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("二零二六年十二月一号 零零四五一二", "20261201-004512"),
        ("二零二六年一月三十一日 000001", "20260131-000001"),
        ("工单 20261201 后面系 004512", "20261201-004512"),
        ("20261201 0045", None),
        ("2026年十二月一号", None),
        ("13800138000", None),
    ],
)
def test_a_ticket_date_said_in_words_and_a_serial_after_other_words(
    text: str, number: str | None
) -> None:
    assert parse_ticket_no(text) == number


async def test_two_last_digits_offered_as_either_are_not_known() -> None:
    text = "5678吗？还是5687 记不清了"
    dispatcher = CollectingDispatcher()
    result = await ValidateTicketStatusForm().validate_ticket_phone_last4(
        text, dispatcher, tracker(parse_data(text, "inform")), DOMAIN
    )
    assert result == {"ticket_phone_last4": None}
    assert any("转人工" in (m.get("text") or "") for m in dispatcher.messages)
