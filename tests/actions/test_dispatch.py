"""Complaint dispatch through ``action_create_ticket`` on a real database:
the predicted category and its confidence, the town, the review flag."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.tickets import ActionCreateTicket
from bot.db import Database
from tests.actions.helpers import parse_data, slot_events, tracker

COMPLAINT = {
    "complaint_type": "complaint",
    "complaint_when": "最近一周每天晚上",
    "contact_phone": "13812345678",
    "contact_name": "王先生",
}


async def _create(slots: dict) -> tuple[list, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await ActionCreateTicket().run(
        dispatcher, tracker(parse_data("确认", "affirm"), {**COMPLAINT, **slots}), {}
    )
    return events, dispatcher


async def test_a_street_level_complaint_goes_to_the_town_office(db: Database) -> None:
    events, dispatcher = await _create({
        "complaint_submission_id": "d-1",
        "complaint_what": "楼下烧烤店天天晚上吵到凌晨",  # issue 18: was 其他 / triage
        "complaint_where": "虎门镇北栅社区",
    })  # fmt: skip
    ticket = await db.tickets.get(slot_events(events)["last_ticket_no"])
    assert ticket is not None
    assert (ticket.category, ticket.town, ticket.needs_review) == ("noise", "humen", False)
    assert ticket.category_confidence is not None and ticket.category_confidence >= 0.35
    assert (ticket.department, ticket.status) == ("town_humen", "assigned")
    assert "虎门镇人民政府" in dispatcher.messages[0]["text"]
    created = ticket.events[0].data
    assert created["town"] == "humen" and created["needs_review"] is False
    counts = await db.events.counts()
    assert counts.get("ticket_created") == 1


async def test_a_city_wide_complaint_goes_to_the_bureau_and_keeps_the_town(db: Database) -> None:
    events, _ = await _create({
        "complaint_submission_id": "d-2",
        "complaint_what": "公司拖欠我们三个月工资",
        "complaint_where": "松山湖",
    })  # fmt: skip
    ticket = await db.tickets.get(slot_events(events)["last_ticket_no"])
    assert ticket is not None and ticket.category == "wages" and ticket.town == "songshanhu"
    assert ticket.department == "human_resources"


async def test_an_unclear_complaint_goes_to_triage_flagged_for_a_person(db: Database) -> None:
    events, dispatcher = await _create({
        "complaint_submission_id": "d-3",
        "complaint_what": "有个问题想反映一下",
        "complaint_where": "未提供",
    })  # fmt: skip
    ticket = await db.tickets.get(slot_events(events)["last_ticket_no"])
    assert ticket is not None and ticket.needs_review
    assert (ticket.department, ticket.status, ticket.town) == ("triage", "new", None)
    assert ticket.category_confidence is not None and ticket.category_confidence < 0.35
    assert "分拨中心" in dispatcher.messages[0]["text"]
