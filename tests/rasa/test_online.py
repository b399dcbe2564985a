"""网上业务办理成功率 in whole conversations: the trained model, the real
action server and its SQLite database. Guidance gives the online way and asks
how it went; "遇到问题" offers the offline way, a person and a ticket; an
unanswered question is asked once more on the next contact (a new Rasa
session, started here with /session_start as an expired session starts it)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from bot.db.schema import events as events_table
from bot.knowledge import service_by_id
from tests.rasa.test_dialogue import Citizen, action_db, payloads

pytestmark = pytest.mark.rasa

DONE = '/online_done{"service":"residence_permit"}'
PROBLEM = '/online_problem{"service":"residence_permit"}'


@pytest.fixture
def webhook(rasa_server: dict[str, str]) -> str:
    return rasa_server["url"] + "/webhooks/rest/webhook"


async def outcome_events(action_server: dict[str, str], sender: str) -> list[tuple[str, dict]]:
    """(kind, data) of the citizen's guidance.* events, oldest first."""
    db = await action_db(action_server)
    try:
        stmt = (
            sa.select(events_table.c.kind, events_table.c.data)
            .where(events_table.c.conversation_id == sender)
            .where(events_table.c.kind.like("guidance.%"))
            .order_by(events_table.c.id)
        )
        async with db.read() as conn:
            rows = (await conn.execute(stmt)).all()
    finally:
        await db.close()
    return [(str(kind), dict(data or {})) for kind, data in rows]


def buttons_titled(replies: list[dict[str, Any]]) -> list[str]:
    return [b["title"] for r in replies for b in r.get("buttons") or []]


async def test_online_way_then_problem_offers_offline_person_and_ticket(
    webhook: str, action_server: dict[str, str]
) -> None:
    service = service_by_id("residence_permit")
    assert service is not None and service.online is not None and service.offline is not None
    citizen = Citizen(webhook)

    replies = await citizen.say("居住证网上怎么办理")
    assert service.online.entry in Citizen.text(replies)
    assert {DONE, PROBLEM} <= set(payloads(replies))
    assert "办好后请告诉我结果" in Citizen.text(replies)

    replies = await citizen.say(PROBLEM)
    text = Citizen.text(replies)
    assert service.offline.office in text and service.offline.hours in text
    assert buttons_titled(replies) == ["看线下办理", "转人工客服", "登记工单"]

    # The ticket: the complaint form, the place already known.
    replies = await citizen.say('/online_ticket{"service":"residence_permit"}')
    text = Citizen.text(replies)
    assert service.department in text and "描述" in text  # asks what happened

    assert await outcome_events(action_server, citizen.sender) == [
        ("guidance.online_offered", {"service": "residence_permit"}),
        (
            "guidance.online_outcome",
            {"service": "residence_permit", "outcome": "problem", "asked": "first"},
        ),
    ]


async def test_problem_then_the_offline_way_button_gives_the_offline_guide(
    webhook: str,
) -> None:
    service = service_by_id("residence_permit")
    assert service is not None and service.offline is not None
    citizen = Citizen(webhook)
    await citizen.say("居住证网上怎么办理")
    replies = await citizen.say(PROBLEM)
    offline = next(
        b["payload"] for r in replies for b in r.get("buttons") or [] if "线下" in b["title"]
    )
    replies = await citizen.say(offline)
    text = Citizen.text(replies)
    assert "线下办理" in text and service.offline.materials[0] in text


async def test_typed_problem_after_the_guidance(
    webhook: str, action_server: dict[str, str]
) -> None:
    citizen = Citizen(webhook)
    await citizen.say("居住证网上怎么办理")
    replies = await citizen.say("网上提交不了，一直报错")
    assert "/request_human" in payloads(replies)
    assert (await outcome_events(action_server, citizen.sender))[-1][1]["outcome"] == "problem"


async def test_next_contact_asks_once_more_and_never_again(
    webhook: str, action_server: dict[str, str]
) -> None:
    citizen = Citizen(webhook)
    await citizen.say("居住证网上怎么办理")  # no answer to the question

    replies = await citizen.say("/session_start")  # the next contact
    assert "居住证申领" in Citizen.text(replies) and "办好了吗" in Citizen.text(replies)
    assert payloads(replies) == [DONE, PROBLEM]

    replies = await citizen.say("已经办好了")
    assert "感谢" in Citizen.text(replies)

    replies = await citizen.say("/session_start")  # answered: not asked again
    assert "办好了吗" not in Citizen.text(replies)

    assert await outcome_events(action_server, citizen.sender) == [
        ("guidance.online_offered", {"service": "residence_permit"}),
        ("guidance.online_followup_asked", {"service": "residence_permit"}),
        (
            "guidance.online_outcome",
            {"service": "residence_permit", "outcome": "done", "asked": "followup"},
        ),
    ]


async def test_next_contacts_ask_only_once_without_an_answer(
    webhook: str, action_server: dict[str, str]
) -> None:
    citizen = Citizen(webhook)
    await citizen.say("居住证网上怎么办理")
    first = await citizen.say("/session_start")
    second = await citizen.say("/session_start")
    assert "办好了吗" in Citizen.text(first) and "办好了吗" not in Citizen.text(second)
    # The open question still takes a late answer (counted as a follow-up answer).
    await citizen.say(DONE)
    kinds = [kind for kind, _ in await outcome_events(action_server, citizen.sender)]
    assert kinds == [
        "guidance.online_offered",
        "guidance.online_followup_asked",
        "guidance.online_outcome",
    ]


async def test_first_contact_and_offline_guidance_ask_nothing(
    webhook: str, action_server: dict[str, str]
) -> None:
    citizen = Citizen(webhook)
    replies = await citizen.say("你好")
    assert "办好了吗" not in Citizen.text(replies)
    replies = await citizen.say("居住证去窗口办要带什么")
    assert DONE not in payloads(replies)
    replies = await citizen.say("/session_start")
    assert "办好了吗" not in Citizen.text(replies)
    assert await outcome_events(action_server, citizen.sender) == []
