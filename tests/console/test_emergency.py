"""Emergency mode (bot/emergency): the switch in the console and what it changes.

Through the whole front door (create_app) with the in-process store and real
Redis (the ``store`` fixture's two params), a fake Rasa and a real SQLite
database: the roles and CSRF of the switch, its audit records, the notice on
the greeting and on a conversation's first reply (on a second replica at
once), the named FAQ answers first, the FAQ buttons, handoffs about the
incident ahead in the queue, and the drill flag on every event.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from bot.db.schema import events
from bot.emergency import STATE_KEY
from bot.emergency.frontdoor import faq_payload, greeting_texts
from bot.emergency.web import EMERGENCY_KEY
from bot.knowledge import format_answer, load_faq
from tests.console.conftest import (
    HANDOFF_REPLY,
    Agent,
    MakeReplica,
    SignIn,
    console_of,
    hub_of,
)
from tests.console.test_handoff_abuse import Clock, use_clock
from tests.support.rest_auth import REST_AUTH

NOTICE = "受台风影响，今晚全市部分区域停电，抢修正在进行，请市民注意安全。"
FAQ = ["ut_power_outage", "ut_gas_leak"]
GREETING = sorted(greeting_texts())[0]


def switch_on_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": "on", "notice": NOTICE, "faq": FAQ, "keywords": ["停电", "台风"],
    }  # fmt: skip
    return body | extra


async def turn(client: TestClient, sender: str, text: str) -> list[dict[str, Any]]:
    body = {"sender": sender, "message": text}
    resp = await client.post("/webhooks/rest/webhook", json=body, headers=REST_AUTH)
    assert resp.status == 200, await resp.text()
    replies: list[dict[str, Any]] = await resp.json()
    return replies


@pytest.fixture
def rasa_greets(rasa_handoff: Any) -> Any:
    rasa_handoff.replies["你好"] = [
        {"text": GREETING, "buttons": [{"title": "政策咨询", "payload": "/consult"}]}
    ]
    rasa_handoff.replies["家里停电了怎么办"] = [{"text": "抱歉，我没太理解您的意思。"}]
    answer = format_answer(load_faq()["ut_gas_leak"])
    rasa_handoff.replies["台风天闻到燃气味"] = [{"text": answer}]
    rasa_handoff.replies["台风停电了转人工"] = HANDOFF_REPLY
    return rasa_handoff


async def switch(agent: Agent, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    resp = await agent.post("/console/api/emergency", body)
    return resp.status, await resp.json()


async def test_only_a_supervisor_switches_with_csrf_and_every_switch_is_audited(
    make_replica: MakeReplica, sign_in: SignIn
) -> None:
    client = await make_replica(emergency_refresh=0.0)
    boss = await sign_in(client, "banzhang", role="supervisor")
    agent = await sign_in(client, "zhangsan")
    dept = await sign_in(client, "huanbao", role="department")

    # everyone sees the state and the page; only a supervisor may switch
    for user in (agent, dept):
        seen = await user.json("/console/api/emergency")
        assert seen["state"]["active"] is False and seen["can_switch"] is False
        assert (await user.get("/console/emergency")).status == 200
        status, body = await switch(user, switch_on_body())
        assert (status, body["error"]) == (403, "forbidden")
    assert (await boss.json("/console/api/emergency"))["can_switch"] is True

    # no CSRF token: refused, nothing switched
    no_csrf = await boss.session.post(boss.base + "/console/api/emergency", json=switch_on_body())
    assert no_csrf.status == 403 and (await no_csrf.json())["error"] == "csrf"
    # bad input: a clear error, nothing switched
    for bad, code in [
        (switch_on_body(notice="  "), "notice_required"),
        (switch_on_body(faq=["no_such_faq"]), "unknown_faq"),
        (switch_on_body(notice="长" * 501), "notice_too_long"),
        ({"action": "on", "notice": NOTICE, "faq": "ut_gas_leak"}, "bad_request"),
        ({"action": "sideways"}, "bad_request"),
    ]:
        status, body = await switch(boss, bad)
        assert (status, body["error"]) == (400, code), body
    assert (await boss.json("/console/api/emergency"))["state"]["active"] is False

    status, body = await switch(boss, switch_on_body())
    assert status == 200 and body["state"]["active"] is True
    assert body["state"]["faq"] == FAQ and body["state"]["switched_by"] == "banzhang"
    status, body = await switch(boss, switch_on_body())
    assert (status, body["error"]) == (409, "already_on")
    seen = await agent.json("/console/api/emergency")
    assert seen["state"]["notice"] == NOTICE and seen["periods"][0]["ended_at"] is None

    status, body = await switch(boss, {"action": "off"})
    assert status == 200 and body["state"]["active"] is False
    status, body = await switch(boss, {"action": "off"})
    assert (status, body["error"]) == (409, "not_on")

    audit = await console_of(client).db.audit.list(action=None)
    switches = [(r["actor"], r["action"]) for r in audit if r["action"].startswith("emergency")]
    assert switches == [("banzhang", "emergency_off"), ("banzhang", "emergency_on")]
    on = next(r for r in audit if r["action"] == "emergency_on")
    assert on["detail"]["notice"] == NOTICE and on["client_address"] == "127.0.0.1"
    periods = (await agent.json("/console/api/emergency"))["periods"]
    assert len(periods) == 1 and periods[0]["ended_by"] == "banzhang"


async def test_the_notice_starts_the_greeting_and_each_first_reply_on_every_replica(
    make_replica: MakeReplica, sign_in: SignIn, rasa_greets: Any
) -> None:
    one = await make_replica(emergency_refresh=0.0)
    two = await make_replica(emergency_refresh=0.0)
    boss = await sign_in(one, "banzhang", role="supervisor")
    assert (await turn(two, "before", "随便问问"))[0]["text"] == "echo: 随便问问"
    assert (await switch(boss, switch_on_body()))[0] == 200
    banner = "【应急通知】" + NOTICE

    # the greeting on the other replica, at once: notice first, FAQ buttons first
    greeted = await turn(two, "citizen1", "你好")
    assert greeted[0]["text"] == banner + "\n\n" + GREETING
    payloads = [b["payload"] for b in greeted[0]["buttons"]]
    assert payloads == [faq_payload("ut_power_outage"), faq_payload("ut_gas_leak"), "/consult"]
    # the next reply of that conversation is left alone...
    assert (await turn(two, "citizen1", "随便问问"))[0]["text"] == "echo: 随便问问"
    # ...a greeting again gets it again
    assert (await turn(one, "citizen1", "你好"))[0]["text"].startswith(banner)
    # a conversation from before the switch: its first reply in this period
    assert (await turn(one, "before", "随便问问"))[0]["text"] == banner + "\n\necho: 随便问问"
    assert (await turn(one, "before", "随便问问"))[0]["text"] == "echo: 随便问问"

    # a button of a named FAQ is answered by the front door, not Rasa
    calls = len(rasa_greets.calls)
    answered = await turn(two, "citizen1", faq_payload("ut_power_outage"))
    assert answered[0]["text"] == format_answer(load_faq()["ut_power_outage"])
    assert len(rasa_greets.calls) == calls

    assert (await switch(boss, {"action": "off"}))[0] == 200
    assert (await turn(two, "citizen2", "你好"))[0]["text"] == GREETING


async def test_named_faq_answers_come_first_when_the_citizen_asks_about_the_incident(
    make_replica: MakeReplica, sign_in: SignIn, rasa_greets: Any
) -> None:
    client = await make_replica(emergency_refresh=0.0)
    boss = await sign_in(client, "banzhang", role="supervisor")
    await turn(client, "c", "随便问问")  # the notice went with an earlier first reply
    assert (await switch(boss, switch_on_body()))[0] == 200
    await turn(client, "c", "随便问问")
    faq = load_faq()

    # about the incident: the best-matching named answer first, the others as
    # buttons, then the assistant's own reply
    replies = await turn(client, "c", "家里停电了怎么办")
    assert replies[0]["text"] == format_answer(faq["ut_power_outage"])
    assert [b["payload"] for b in replies[0]["buttons"]] == [faq_payload("ut_gas_leak")]
    assert [r["text"] for r in replies[1:]] == ["抱歉，我没太理解您的意思。"]
    # the assistant answered a named FAQ itself: put first, not repeated
    replies = await turn(client, "c", "台风天闻到燃气味")
    assert [r["text"] for r in replies] == [format_answer(faq["ut_gas_leak"])]
    # about something else: answered as usual
    assert [r["text"] for r in await turn(client, "c", "公积金")] == ["echo: 公积金"]

    await hub_of(client).router.flush()
    db = console_of(client).db
    async with db.read() as conn:
        rows = (
            await conn.execute(
                sa.select(events.c.data).where(events.c.kind == "emergency.faq_first")
            )
        ).all()
    assert sorted(r.data["faq"] for r in rows) == ["ut_gas_leak", "ut_power_outage"]


async def test_a_handoff_about_the_incident_passes_short_waits_in_the_queue(
    make_replica: MakeReplica, sign_in: SignIn, rasa_greets: Any
) -> None:
    client = await make_replica(emergency_refresh=0.0, emergency_handoff_head_start=300.0)
    clock = Clock()
    use_clock(client, clock)
    boss = await sign_in(client, "banzhang", role="supervisor")
    assert (await switch(boss, switch_on_body()))[0] == 200
    await turn(client, "long", "转人工")
    clock.now += 400
    await turn(client, "short", "转人工")
    clock.now += 60  # "long" has waited 460 s, "short" 60 s
    await turn(client, "storm", "台风停电了转人工")
    order = await console_of(client).conversations.queue_order()
    assert [c.rsplit(":", 1)[-1] for c in order] == ["long", "storm", "short"]
    queue = await boss.json("/console/api/queue")
    storm = next(i for i in queue["items"] if i["conversation_id"].endswith(":storm"))
    assert storm["reason"] == "incident" and storm["reason_name"] == "应急事件相关"
    assert storm["summary"]["reason_before"] == "citizen_request"
    short = next(i for i in queue["items"] if i["conversation_id"].endswith(":short"))
    assert short["reason"] == "citizen_request"


async def test_during_a_drill_every_event_carries_the_drill_flag(
    make_replica: MakeReplica, sign_in: SignIn, rasa_greets: Any
) -> None:
    client = await make_replica(emergency_refresh=0.0)
    boss = await sign_in(client, "banzhang", role="supervisor")
    db = console_of(client).db
    await turn(client, "a", "随便问问")
    await hub_of(client).router.flush()
    async with db.read() as conn:
        before = (await conn.execute(sa.select(sa.func.max(events.c.id)))).scalar_one()
    assert (await switch(boss, switch_on_body(drill=True)))[0] == 200
    greeted = await turn(client, "b", "你好")
    assert greeted[0]["text"].startswith("【应急演练】" + NOTICE)
    await turn(client, "b", "转人工")
    await db.events.record("ticket_created", conversation_id="rest:b", data={"category": "停电"})
    await hub_of(client).router.flush()
    async with db.read() as conn:
        during = (
            await conn.execute(sa.select(events.c.kind, events.c.data).where(events.c.id > before))
        ).all()
    assert {"answered", "handoff_queued", "ticket_created"} <= {r.kind for r in during}
    assert all(r.data.get("drill") is True for r in during), during
    assert (await switch(boss, {"action": "off"}))[0] == 200
    await turn(client, "c", "随便问问")
    await hub_of(client).router.flush()
    async with db.read() as conn:
        last = (
            await conn.execute(sa.select(events.c.data).order_by(events.c.id.desc()).limit(1))
        ).scalar_one()
    assert "drill" not in last


async def test_the_public_state_for_the_widget_is_small_and_rate_limited(
    make_replica: MakeReplica, sign_in: SignIn
) -> None:
    client = await make_replica(emergency_refresh=0.0, emergency_public_per_minute=3)
    boss = await sign_in(client, "banzhang", role="supervisor")
    assert await (await client.get("/public/emergency")).json() == {"active": False}
    assert (await switch(boss, switch_on_body(drill=True)))[0] == 200
    resp = await client.get("/public/emergency")
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    body = await resp.json()
    assert set(body) == {"active", "notice", "banner", "drill", "since"}
    assert body["notice"] == NOTICE and body["drill"] is True
    assert (await client.get("/public/emergency")).status == 200
    limited = await client.get("/public/emergency")
    assert limited.status == 429 and int(limited.headers["Retry-After"]) >= 1


async def test_a_state_lost_by_the_store_ends_its_open_period_at_the_next_switch(
    make_replica: MakeReplica, sign_in: SignIn
) -> None:
    client = await make_replica(emergency_refresh=0.0)
    boss = await sign_in(client, "banzhang", role="supervisor")
    assert (await switch(boss, switch_on_body()))[0] == 200
    await client.app[EMERGENCY_KEY].board.store.delete(STATE_KEY)  # e.g. Redis restarted
    status, body = await switch(boss, switch_on_body(notice="第二次通知"))
    assert status == 200
    periods = (await boss.json("/console/api/emergency"))["periods"]
    assert [p["ended_by"] for p in periods] == [None, "system"]
