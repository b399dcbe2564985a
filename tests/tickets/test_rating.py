"""The citizen's rating buttons, handled by the front door (hub interceptor) without Rasa."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.app import HUB_KEY
from bot.db import Database, Ticket
from bot.tickets import payloads, rating
from tests.fakes.rasa import FakeRasa
from tests.support.rest_auth import REST_AUTH
from tests.tickets.conftest import Api, create_ticket, snapshot


async def say(client: TestClient, sender: str, message: str) -> list[dict[str, Any]]:
    body = {"sender": sender, "message": message}
    resp = await client.post("/webhooks/rest/webhook", json=body, headers=REST_AUTH)
    assert resp.status == 200
    return list(await resp.json())


async def replied_ticket(client: TestClient, db: Database, sender: str) -> Ticket:
    ticket = await create_ticket(db, f"rest:t:{sender}")
    assert (await Api(client).post(ticket.number, "reply", {"text": "已处理。"}))[0] == 200
    await say(client, sender, "/greet")  # collects the pushed result
    found = await db.tickets.get(ticket.number)
    assert found is not None
    return found


def rate(number: str, value: Any) -> str:
    return f'/rate_ticket{{"ticket":"{number}","rating":"{value}"}}'


def test_payloads_round_trip_and_fit_telegram() -> None:
    buttons = payloads.rating_buttons("20261127-000001")
    assert [payloads.parse_rate(b.payload) for b in buttons] == [
        payloads.RatePayload("20261127-000001", i) for i in range(1, 6)
    ]
    assert all(len(b.payload.encode()) <= 64 for b in buttons)  # Telegram callback_data
    skip = payloads.skip_button("20261127-000001").payload
    assert payloads.is_skip(skip) and payloads.parse_skip(skip) == "20261127-000001"


@pytest.mark.parametrize(
    "payload",
    [
        "/rate_ticket",
        "/rate_ticket{}",
        "/rate_ticket{not json",
        '/rate_ticket["x"]',
        '/rate_ticket{"ticket":"20261127-000001"}',
        '/rate_ticket{"ticket":"20261127-000001","rating":"6"}',
        '/rate_ticket{"ticket":"20261127-000001","rating":"0"}',
        '/rate_ticket{"ticket":"20261127-000001","rating":true}',
        '/rate_ticket{"ticket":"20261127-000001","rating":"2.5"}',
        '/rate_ticket{"ticket":"../../x","rating":"2"}',
        '/rate_ticket{"ticket":"20261127-000001","rating":"' + "9" * 300 + '"}',
    ],
)
def test_malformed_payloads_are_refused(payload: str) -> None:
    assert payloads.is_rate(payload)
    assert payloads.parse_rate(payload) is None


async def test_malformed_payload_gets_a_polite_answer_not_rasa(
    front_door: TestClient, fake_rasa: FakeRasa
) -> None:
    replies = await say(front_door, "c-1", '/rate_ticket{"ticket":"x"}')
    assert replies[0]["text"] == rating.NOT_FOUND_TEXT
    assert fake_rasa.calls == []


async def test_nobody_rates_another_citizens_ticket(
    front_door: TestClient, ticket_db: Database
) -> None:
    ticket = await replied_ticket(front_door, ticket_db, "owner")
    replies = await say(front_door, "intruder", rate(ticket.number, 1))
    assert replies[0]["text"] == rating.NOT_FOUND_TEXT
    assert snapshot(await ticket_db.tickets.get(ticket.number)) == snapshot(ticket)


async def test_rating_twice_is_refused(front_door: TestClient, ticket_db: Database) -> None:
    ticket = await replied_ticket(front_door, ticket_db, "twice")
    assert "感谢您的评价" in (await say(front_door, "twice", rate(ticket.number, 4)))[0]["text"]
    closed = await ticket_db.tickets.get(ticket.number)
    replies = await say(front_door, "twice", rate(ticket.number, 1))
    assert "已经评价过" in replies[0]["text"]
    assert snapshot(await ticket_db.tickets.get(ticket.number)) == snapshot(closed)
    assert (await ticket_db.events.counts("ticket.rated")) == {"ticket.rated": 1}


async def test_unrated_ticket_cannot_be_rated(front_door: TestClient, ticket_db: Database) -> None:
    ticket = await create_ticket(ticket_db, "rest:t:early")  # still assigned, no answer yet
    replies = await say(front_door, "early", rate(ticket.number, 5))
    assert "暂时不能评价" in replies[0]["text"]
    assert snapshot(await ticket_db.tickets.get(ticket.number)) == snapshot(ticket)


async def test_skip_and_other_buttons_end_the_comment_wait(
    front_door: TestClient, ticket_db: Database, fake_rasa: FakeRasa
) -> None:
    ticket = await replied_ticket(front_door, ticket_db, "skipper")
    replies = await say(front_door, "skipper", rate(ticket.number, 2))
    skip = replies[0]["buttons"][0]["payload"]
    assert replies[0]["buttons"][0]["title"] == "不补充了"
    assert (await say(front_door, "skipper", skip))[0]["text"] == rating.SKIPPED_TEXT
    await say(front_door, "skipper", "你好")  # an ordinary message again: goes to Rasa
    assert [c["message"] for c in fake_rasa.calls] == ["/greet", "你好"]
    found = await ticket_db.tickets.get(ticket.number)
    assert found is not None and found.events[-1].kind == "reopened"


async def test_comment_window_expires(
    front_door: TestClient, ticket_db: Database, fake_rasa: FakeRasa, monkeypatch: Any
) -> None:
    monkeypatch.setattr(rating, "COMMENT_WINDOW", 0.05)
    ticket = await replied_ticket(front_door, ticket_db, "slow")
    await say(front_door, "slow", rate(ticket.number, 1))
    await asyncio.sleep(0.1)
    await say(front_door, "slow", "很久以后的一句话")
    assert fake_rasa.calls[-1]["message"] == "很久以后的一句话"
    found = await ticket_db.tickets.get(ticket.number)
    assert found is not None and found.events[-1].kind == "reopened"


async def test_a_typed_digit_rates_the_last_result(
    front_door: TestClient, ticket_db: Database, fake_rasa: FakeRasa
) -> None:
    ticket = await replied_ticket(front_door, ticket_db, "typist")
    replies = await say(front_door, "typist", "５")  # full-width, as a phone keyboard may send
    assert "感谢您的评价" in replies[0]["text"]
    found = await ticket_db.tickets.get(ticket.number)
    assert found is not None and (found.status, found.rating) == ("closed", 5)
    await say(front_door, "typist", "3")  # nothing awaits a rating any more: Rasa answers
    assert fake_rasa.calls[-1]["message"] == "3"


async def test_a_digit_without_a_pending_result_goes_to_rasa(
    front_door: TestClient, fake_rasa: FakeRasa
) -> None:
    await say(front_door, "nobody", "2")
    assert [c["message"] for c in fake_rasa.calls] == ["2"]


async def test_a_digit_for_the_agent_is_not_a_rating(
    front_door: TestClient, ticket_db: Database
) -> None:
    ticket = await replied_ticket(front_door, ticket_db, "chatting")
    hub = front_door.app[HUB_KEY]
    await hub.set_conversation_state("rest:t:chatting", "with_agent")
    await say(front_door, "chatting", "2")
    assert snapshot(await ticket_db.tickets.get(ticket.number)) == snapshot(ticket)
