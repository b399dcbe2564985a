"""Every action server down at a complaint's confirmation: the citizen gets an
answer, and their retry files exactly one ticket (tests/faults/test_action_server_kill.py
on the cluster).

What Rasa 3.6 does then (rasa/core/processor.py ``_run_action``): the custom
action raises, "Bot will continue, but the actions events are lost", the
action is logged as executed with no events, and the REST webhook answers
``200 []``; the dialogue has moved past the confirmation, so a further
确认 is not understood. :class:`ConfirmingRasa` plays that turn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from bot.config import Settings
from bot.hub import Hub
from bot.inbound import DeliveryMode
from bot.messages import RETRY_TEXT
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.rasa_pool import RasaPool
from bot.store import MemoryStore
from tests.fakes.db import FakeDatabase
from tests.fakes.rasa import FakeRasa
from tests.test_hub import RecordingChannel, msg

TICKET = "您的投诉已登记，工单编号 DG202612050001。"
NOT_UNDERSTOOD = "抱歉，我没有理解您的意思。"


class ConfirmingRasa(FakeRasa):
    """A conversation waiting for 确认 (``/affirm``) of a complaint: with an
    action server, the confirmation files the ticket (once per submission,
    like actions/tickets.py); without one, Rasa answers ``[]`` and the
    dialogue moves on, unless the turn is rewound."""

    def __init__(self) -> None:
        super().__init__()
        self.actions_up = True
        self.state: dict[str, str] = {}  # sender -> "confirming" | "moved_on" | "done"
        self.before: dict[str, str] = {}  # the state before the sender's last message
        self.tickets: Counter[str] = Counter()

    async def _webhook(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        sender, message = body["sender"], body["message"]
        self.calls.append(body)
        state = self.state.setdefault(sender, "confirming")
        self.before[sender] = state
        if message != "/affirm" or state != "confirming":
            return web.json_response([{"recipient_id": sender, "text": NOT_UNDERSTOOD}])
        self.state[sender] = "moved_on"  # action_create_ticket logged, with or without events
        if not self.actions_up:
            return web.json_response([])  # "the actions events are lost"
        self.tickets[sender] = 1  # idempotency key: the submission
        self.state[sender] = "done"
        return web.json_response([{"recipient_id": sender, "text": TICKET}])

    def on_event(self, conversation_id: str, event: dict[str, Any]) -> None:
        if event.get("event") == "rewind":  # UserUtteranceReverted
            self.state[conversation_id] = self.before.pop(conversation_id, "confirming")


@pytest.fixture
async def confirming_rasa() -> AsyncIterator[ConfirmingRasa]:
    rasa = ConfirmingRasa()
    await rasa.start()
    yield rasa
    await rasa.close()


@pytest.fixture
async def hub(
    confirming_rasa: ConfirmingRasa, make_settings: Callable[..., Settings]
) -> AsyncIterator[Hub]:
    settings = make_settings(rasa_url=confirming_rasa.url, rasa_timeout=5.0)
    client = RasaClient(confirming_rasa.url, 5.0, auth_token="s3cret")
    made = Hub(MemoryStore(), FakeDatabase(), client, settings)
    made.register_channel(RecordingChannel())
    yield made
    await made.close()
    await client.close()


async def test_no_action_server_at_the_confirmation_gets_an_answer_and_one_ticket(
    hub: Hub, confirming_rasa: ConfirmingRasa
) -> None:
    confirming_rasa.actions_up = False
    during = await hub.handle(msg("/affirm", "m1"), DeliveryMode.ANSWER_IN_PLACE)
    assert during.replies, "the citizen got no answer at all"
    assert during.status == "busy"
    [reply] = during.replies
    assert reply.text == RETRY_TEXT
    assert [(b.title, b.payload) for b in reply.buttons] == [
        ("再发一次", "/affirm"),
        ("转人工客服", "/request_human"),
    ]
    # The turn was undone on Rasa, with the API token.
    assert [(cid, event) for cid, event, _ in confirming_rasa.appended] == [
        ("test:u1", {"event": "rewind"})
    ]
    assert confirming_rasa.appended[0][2]["token"] == "s3cret"

    confirming_rasa.actions_up = True  # back; the citizen confirms again
    again = await hub.handle(msg("/affirm", "m2"), DeliveryMode.ANSWER_IN_PLACE)
    assert [r.text for r in again.replies] == [TICKET]
    assert confirming_rasa.tickets == {"test:u1": 1}
    await hub.router.flush()
    transcript = await hub.history("test:u1")
    assert [(e.direction, e.text) for e in transcript] == [
        ("in", "/affirm"), ("out", RETRY_TEXT), ("in", "/affirm"), ("out", TICKET),
    ]  # fmt: skip


async def test_a_turn_that_could_not_be_undone_still_gets_an_answer(
    hub: Hub, confirming_rasa: ConfirmingRasa
) -> None:
    confirming_rasa.actions_up = False
    confirming_rasa.events_status = 500
    during = await hub.handle(msg("/affirm", "m1"), DeliveryMode.ANSWER_IN_PLACE)
    assert [r.text for r in during.replies] == [RETRY_TEXT]
    assert len(confirming_rasa.appended) == 1


async def test_the_client_reports_an_empty_reply_as_no_reply(fake_rasa: FakeRasa) -> None:
    fake_rasa.replies["静默"] = []
    client = RasaClient(fake_rasa.url, 5.0)
    try:
        with pytest.raises(RasaUnavailable) as caught:
            await client.send("rest:ns:s-1.a@b=c", "静默")
        assert caught.value.no_reply and caught.value.reached and not caught.value.server_fault
        [(cid, event, query)] = fake_rasa.appended
        assert (cid, event) == ("rest:ns:s-1.a@b=c", {"event": "rewind"})
        assert query == {"include_events": "NONE"}
        # Rasa would not unquote a quoted id (Sanic): such a sender's turn is not undone.
        with pytest.raises(RasaUnavailable) as caught:
            await client.send("rest:a/b c", "静默")
        assert caught.value.no_reply and len(fake_rasa.appended) == 1
        assert await client.send("rest:ns:s-1", "你好") == [
            {"recipient_id": "rest:ns:s-1", "text": "echo: 你好"}
        ]
    finally:
        await client.close()


async def test_a_pool_does_not_send_a_turn_with_no_reply_to_another_server(
    fake_rasa: FakeRasa,
) -> None:
    """Rasa took the turn (and undid it): another server must not take it too."""
    other = FakeRasa()
    await other.start()
    fake_rasa.replies["静默"] = []
    other.replies["静默"] = []
    pool = RasaPool([fake_rasa.url, other.url], 5.0, probe_interval=0)
    try:
        with pytest.raises(RasaUnavailable) as caught:
            await pool.send("test:u1", "静默")
        assert caught.value.no_reply
        assert len(fake_rasa.calls) + len(other.calls) == 1
        assert all(server.failures == 0 for server in pool.servers)
    finally:
        await pool.close()
        await other.close()
