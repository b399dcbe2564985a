"""The citizen's side of the queue: place and wait, order, updates, cancelling."""

from __future__ import annotations

import datetime as dt

from aiohttp.test_utils import TestClient

from bot.console.records import HandoffRepo
from tests.console.conftest import (
    SignIn,
    agent_present,
    connect,
    console_of,
    runtime_of,
    said_to,
    say,
)
from tests.fakes.rasa import FakeRasa


def fake_notice_clock(client: TestClient) -> list[float]:
    """The position notices' clock, moved by hand (``clock[0]``)."""
    notices = runtime_of(client).desk.notices
    clock = [notices.clock()]
    notices.clock = lambda: clock[0]
    return clock


async def next_notice_round(client: TestClient, clock: list[float]) -> None:
    notices = runtime_of(client).desk.notices
    clock[0] += notices.interval
    await notices.tell()


async def test_handoff_tells_place_and_honest_wait(client: TestClient, sign_in: SignIn) -> None:
    agent = await sign_in(client, "zhangsan", display_name="张三")
    await connect(agent)  # online
    replies = await say(client, "c1", "转人工")
    assert replies[0] == "好的,正在为您转接人工客服,请稍候。"
    assert "您目前排在第 1 位（您前面没有其他人），暂无法估计等待时间" in replies[1]
    replies = await say(client, "c2", "转人工")
    assert "您目前排在第 2 位（您前面还有 1 位）" in replies[1]
    console = console_of(client)
    row = await console.handoffs.latest("rest:t:c2")
    assert row is not None and row.reason == "citizen_request" and row.claimed_by is None
    assert row.summary["last_messages"] == ["楼下太吵了", "转人工"]


async def test_urgent_goes_first_and_others_are_told_their_new_place(
    client: TestClient, sign_in: SignIn
) -> None:
    await connect(await sign_in(client, "zhangsan"))
    clock = fake_notice_clock(client)
    await say(client, "c1", "转人工")
    await say(client, "c2", "转人工")
    replies = await say(client, "c3", "救命")
    assert "您目前排在第 1 位" in replies[1]
    console = console_of(client)
    assert await console.conversations.queue_order() == ["rest:t:c3", "rest:t:c1", "rest:t:c2"]
    # new places go out in the next batch (at most one notice per citizen per interval)
    await next_notice_round(client, clock)
    told_c1 = [t for s, t in await said_to(client, "rest:t:c1") if "排在第" in t]
    told_c2 = [t for s, t in await said_to(client, "rest:t:c2") if "排在第" in t]
    assert [t[:8] for t in told_c1] == ["您目前排在第 1", "您目前排在第 2"]
    assert [t[:8] for t in told_c2] == ["您目前排在第 2", "您目前排在第 3"]
    # the agents' queue lists them in that order, with what the citizen wanted
    agent = await sign_in(client, "lisi")
    snapshot = await agent.json("/console/api/queue")
    items = snapshot["items"]
    assert [i["conversation_id"] for i in items] == ["rest:t:c3", "rest:t:c1", "rest:t:c2"]
    assert items[0]["priority"] == "urgent" and items[0]["reason_name"] == "紧急求助"
    assert items[1]["summary"]["slots"] == {"complaint_where": "南城街道鸿福路"}
    assert items[1]["tail"][-1]["text"].startswith("您目前排在第")
    assert items[1]["channel_name"] == "接口" and items[1]["waiting_seconds"] >= 0


async def test_estimate_uses_recent_claims_and_agents_online(
    client: TestClient, sign_in: SignIn
) -> None:
    console = console_of(client)
    repo: HandoffRepo = console.handoffs
    now = repo.now()
    for wait in (60, 120, 240):  # median 120 s
        hid = await repo.open(
            conversation_id=f"rest:t:old{wait}", channel="rest", reason="x", priority="normal",
            summary={}, queued_at=now - dt.timedelta(minutes=30),
        )  # fmt: skip
        await repo.claim(hid, "someone")
        async with console.db.write() as conn:
            from bot.db.schema import handoffs

            await conn.execute(
                handoffs.update()
                .where(handoffs.c.id == hid)
                .values(
                    claimed_at=now - dt.timedelta(minutes=30) + dt.timedelta(seconds=wait),
                    # finished in the past, so the requeue sweep (which may run
                    # during a slow test) never sees them as held by an agent
                    ended_at=now - dt.timedelta(minutes=20),
                    outcome="closed",
                )
            )
    await connect(await sign_in(client, "zhangsan"))
    await say(client, "c1", "转人工")
    replies = await say(client, "c2", "转人工")
    # one agent online, second in line: two rounds of the median wait (2 x 120 s)
    assert "预计等待约 4 分钟" in replies[1]


async def test_nobody_online_offers_a_callback(client: TestClient) -> None:
    """Issue 21: nobody online is said plainly, with the service hours and the
    callback first; no place in a queue nobody serves, now or in later notices."""
    clock = fake_notice_clock(client)
    await say(client, "c0", "转人工")
    replies = await say(client, "c1", "转人工")
    assert "现在没有人工客服在线" in replies[1]
    assert "每天 00:00-24:00" in replies[1]  # the console settings of these tests
    assert "排在第" not in replies[1] and "前面" not in replies[1]
    entries = await console_of(client).hub.history("rest:t:c1")
    buttons = [(b["title"], b["payload"]) for b in entries[-1].data["buttons"]]
    assert buttons[0] == ("登记回电", "/handoff_callback")
    assert [p for _, p in buttons] == ["/handoff_callback", "/cancel_handoff"]
    assert await console_of(client).state("rest:t:c1") == "queued"  # may still wait
    # c0 leaves: c1's place changes, but nobody is online to tell it about
    await say(client, "c0", "不等了")
    await next_notice_round(client, clock)
    assert not [t for _, t in await said_to(client, "rest:t:c1") if "排在第" in t]


async def test_a_further_message_with_nobody_online_promises_no_transfer(
    client: TestClient, rasa_handoff: FakeRasa
) -> None:
    """Issue 21, same kind: a citizen waiting while nobody is online who writes
    again is not told "正在为您转接" (nobody can take it): the message is kept
    for the agent who comes online, and the callback is offered again. Once an
    agent is online, the usual acknowledgement."""
    await say(client, "c1", "转人工")
    turns = len(rasa_handoff.calls)
    replies = await say(client, "c1", "我家门口的路灯坏了")
    assert len(replies) == 1
    assert "现在没有人工客服在线" in replies[0] and "已收到您的留言" in replies[0]
    assert "正在为您转接" not in replies[0]
    entries = await console_of(client).hub.history("rest:t:c1")
    buttons = [b["payload"] for b in entries[-1].data["buttons"]]
    assert buttons == ["/handoff_callback", "/cancel_handoff"]
    assert len(rasa_handoff.calls) == turns  # kept for the agents, not sent to Rasa
    history = await console_of(client).hub.history("rest:t:c1")
    said = [e.text for e in history if e.direction == "in"]
    assert "我家门口的路灯坏了" in said  # in the transcript the agent will read
    await agent_present(client)
    assert await say(client, "c1", "还要等多久") == ["已收到，正在为您转接人工客服，请稍候。"]


async def test_cancel_goes_back_to_the_assistant(
    client: TestClient, sign_in: SignIn, rasa_handoff: FakeRasa
) -> None:
    await connect(await sign_in(client, "zhangsan"))
    clock = fake_notice_clock(client)
    await say(client, "c1", "转人工")
    await say(client, "c2", "转人工")
    turns = len(rasa_handoff.calls)
    replies = await say(client, "c1", "不等了")
    await next_notice_round(client, clock)
    assert replies == ["已为您取消排队。您可以继续向智能助手咨询，需要时再说“转人工”。"]
    assert len(rasa_handoff.calls) == turns  # the front door answered, not Rasa
    console = console_of(client)
    assert await console.state("rest:t:c1") == "bot"
    assert await console.conversations.queue_order() == ["rest:t:c2"]
    row = await console.handoffs.latest("rest:t:c1")
    assert row is not None and row.outcome == "abandoned" and row.ended_at is not None
    told_c2 = [t for _, t in await said_to(client, "rest:t:c2") if "排在第" in t]
    assert told_c2[-1].startswith("您目前排在第 1 位")
    # the button works too, and later messages go to Rasa again
    await say(client, "c2", "/cancel_handoff")
    assert await console.state("rest:t:c2") == "bot"
    assert await say(client, "c2", "你好") == ["echo: 你好"]
    assert await say(client, "c2", "/cancel_handoff") == [
        "您当前没有在排队等待人工客服。需要人工帮助时请说“转人工”。"
    ]


async def test_messages_while_queued_are_acknowledged_and_kept(
    client: TestClient, sign_in: SignIn, rasa_handoff: FakeRasa
) -> None:
    await connect(await sign_in(client, "zhangsan"))
    await say(client, "c1", "转人工")
    turns = len(rasa_handoff.calls)
    assert await say(client, "c1", "我家门口的路灯坏了") == [
        "已收到，正在为您转接人工客服，请稍候。"
    ]
    assert len(rasa_handoff.calls) == turns
