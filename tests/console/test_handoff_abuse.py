"""The handoff under abuse: rate limits, a fair order, a paged snapshot, batched notices.

Every test runs on the in-process store and on Redis (the ``store`` fixture),
through the whole front door: citizens' messages enter through the hub's
``handle`` (what every channel calls, with the client address the widget
sets), agents use the console's HTTP API and WebSocket.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.console import texts
from bot.messages import InboundMessage
from tests.console.conftest import (
    MakeReplica,
    SignIn,
    agent_present,
    connect,
    console_of,
    hub_of,
    runtime_of,
    said_to,
)
from tests.fakes.rasa import FakeRasa

ANGRY_REPLY = [
    {"text": "非常抱歉给您带来不便，正在为您转接人工客服。"},
    {"custom": {"handoff": {"reason": "angry", "priority": "urgent", "summary": {}}}},
]
_ids = itertools.count()


class Clock:
    """An injectable clock: seconds since the epoch, moved by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def use_clock(client: TestClient, clock: Callable[[], float]) -> None:
    hub_of(client).router.clock = clock
    runtime_of(client).desk.notices.clock = clock


def run_from_slot_start(client: TestClient) -> None:
    """Let the replica's clock run from the start of a rate-limit slot.

    The allowances count in fixed slots of the clock (bot/handoff_limits.py):
    on the real clock a test can cross a slot's end mid-way and see the
    allowance again (CI once let 10 of a flood through instead of 5). Time
    still runs, from a whole multiple of any window of whole minutes.
    """
    start, began = 1_800_000_000.0, time.monotonic()
    use_clock(client, lambda: start + (time.monotonic() - began))


async def say(client: TestClient, sender: str, text: str, address: str | None = None) -> list[str]:
    """A citizen's message (REST channel, as ``tests.console.conftest.say``); the texts."""
    return await ask_for_agent(client, sender, address, text)


async def ask_for_agent(
    client: TestClient, sender: str, address: str | None, text: str = "转人工"
) -> list[str]:
    msg = InboundMessage(
        channel="rest",
        channel_user_id=sender,
        message_id=f"m{next(_ids)}",
        text=text,
        client_address=address,
    )
    result = await hub_of(client).handle(msg)
    return [r.text or "" for r in result.replies]


def refused(replies: list[str]) -> bool:
    return any("本次暂时无法为您转接" in r for r in replies)


async def test_one_sender_cannot_requeue_again_and_again(make_replica: MakeReplica) -> None:
    client = await make_replica(handoff_max_per_sender=2)
    run_from_slot_start(client)
    await agent_present(client)
    for _ in range(2):
        replies = await say(client, "c1", "转人工")
        assert any("排在第 1 位" in r for r in replies)
        await say(client, "c1", "取消")
    replies = await say(client, "c1", "转人工")
    assert refused(replies), replies
    assert any("分钟后再试" in r and "登记回电" in r for r in replies)
    console = console_of(client)
    assert await console.conversations.queue_order() == []
    assert await console.state("rest:c1") == "bot"
    # nothing is lost: all three requests are in the transcript
    entries = await hub_of(client).history("rest:c1", limit=100)
    asked = [e for e in entries if e.direction == "in" and e.text == "转人工"]
    assert len(asked) == 3
    # the callback offered in the refusal works
    msg = InboundMessage(
        channel="rest", channel_user_id="c1", message_id="cb1", payload=texts.CALLBACK
    )
    result = await hub_of(client).handle(msg)
    assert "手机号码" in (result.replies[0].text or "")


async def test_flood_from_one_address_is_refused_but_the_console_keeps_working(
    make_replica: MakeReplica, sign_in: SignIn
) -> None:
    # 2,000 turns 50 at a time: on a loaded 2-core machine a turn can wait
    # longer than the tests' usual 2-s Rasa timeout, and a busy reply is not
    # what this test is about (the refusals are)
    client = await make_replica(
        handoff_max_per_address=5, console_queue_page=3, rasa_timeout=30.0
    )
    run_from_slot_start(client)
    agent = await sign_in(client, "zhangsan")
    ws = await connect(agent)
    sem = asyncio.Semaphore(50)

    async def one(i: int) -> bool:
        async with sem:
            return refused(await ask_for_agent(client, f"bot{i}", "203.0.113.66"))

    outcomes = await asyncio.gather(*(one(i) for i in range(2000)))
    assert outcomes.count(False) == 5 and outcomes.count(True) == 1995
    # a citizen at another address is not affected
    assert not refused(await ask_for_agent(client, "genuine", "198.51.100.7"))
    console = console_of(client)
    assert len(await console.conversations.queue_order()) == 6
    # the snapshot is one page and the total, over HTTP and on the socket
    snap = await agent.json("/console/api/queue")
    assert snap["total"] == 6 and len(snap["items"]) == 3
    assert [i["position"] for i in snap["items"]] == [1, 2, 3]
    more = await agent.json("/console/api/queue?offset=3&limit=3")
    assert [i["position"] for i in more["items"]] == [4, 5, 6]
    assert more["items"][-1]["conversation_id"] == "rest:genuine"
    await ws.send_json({"type": "heartbeat", "status": "online"})
    while True:
        frame = await ws.receive_json(timeout=5)
        if frame["type"] == "queue" and frame["total"] == 6:
            break
    assert len(frame["items"]) == 3
    await ws.close()


async def test_many_senders_without_an_address_are_limited_per_sender(
    make_replica: MakeReplica,
) -> None:
    # WeChat and Telegram carry no address: each sender has its own allowance.
    client = await make_replica(handoff_max_per_sender=1)
    run_from_slot_start(client)
    assert not refused(await ask_for_agent(client, "w1", None))
    await say(client, "w1", "取消")
    assert refused(await ask_for_agent(client, "w1", None))
    assert not refused(await ask_for_agent(client, "w2", None))


async def test_an_angry_word_does_not_jump_citizens_who_have_waited(
    make_replica: MakeReplica, rasa_handoff: FakeRasa
) -> None:
    rasa_handoff.replies["气死了"] = ANGRY_REPLY
    client = await make_replica(handoff_urgent_head_start=120.0)
    clock = Clock()
    use_clock(client, clock)
    await say(client, "waited", "转人工")
    clock.now += 300  # five minutes later
    await say(client, "recent", "转人工")
    clock.now += 30
    await say(client, "angry", "气死了")
    order = await console_of(client).conversations.queue_order()
    # the angry citizen gets a bounded head start (ahead of who came 30 s
    # earlier), never ahead of who has waited five minutes
    assert order == ["rest:waited", "rest:angry", "rest:recent"]
    # a real emergency still goes first
    await say(client, "fire", "救命")
    order = await console_of(client).conversations.queue_order()
    assert order[0] == "rest:fire"


async def test_position_notices_are_batched_per_citizen(
    make_replica: MakeReplica, rasa_handoff: FakeRasa
) -> None:
    rasa_handoff.replies["气死了"] = ANGRY_REPLY
    client = await make_replica(handoff_notice_interval=60.0)
    await agent_present(client)
    clock = Clock()
    use_clock(client, clock)
    for i in range(6):  # the earlier ones' places change with each angry arrival
        await say(client, f"n{i}", "转人工")
        await say(client, f"a{i}", "气死了")
        clock.now += 5
    notices = runtime_of(client).desk.notices

    async def told() -> Counter[str]:
        counts: Counter[str] = Counter()
        for i in range(6):
            for cid in (f"rest:n{i}", f"rest:a{i}"):
                counts[cid] = sum("排在第" in t for _, t in await said_to(client, cid))
        return counts

    assert max((await told()).values()) == 1  # only the place given on arrival
    clock.now += 61
    await notices.tell()
    await notices.tell()  # a second round in the same interval tells nobody
    after = await told()
    assert max(after.values()) == 2 and sum(after.values()) > 12


async def test_a_notice_round_reads_the_queue_once_however_long_it_is(
    make_replica: MakeReplica, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await make_replica(handoff_notice_interval=30.0)
    await agent_present(client)
    clock = Clock()
    use_clock(client, clock)
    for i in range(40):
        await say(client, f"q{i}", "转人工")
    await say(client, "q0", "取消")  # everyone behind moves up one place
    clock.now += 31
    console = console_of(client)
    store = console.store
    calls: Counter[str] = Counter()
    for name in ("get", "hget", "hgetall", "hset", "hdel", "zrange", "zscore", "zrank", "claim"):
        real = getattr(store, name, None)
        if real is None:
            continue

        def counted(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            calls[_name] += 1
            return _real(*args, **kw)

        monkeypatch.setattr(store, name, counted)
    pushed: list[str] = []

    async def push(cid: str, messages: Any) -> None:
        pushed.append(cid)

    monkeypatch.setattr(console.hub, "push", push)
    assert await runtime_of(client).desk.notices.tell() == 39
    assert sorted(pushed) == sorted(f"rest:q{i}" for i in range(1, 40))
    assert sum(calls.values()) <= 6, calls  # claim, hgetall, zrange, hset, hdel


async def test_limits_and_notice_rounds_hold_across_replicas(make_replica: MakeReplica) -> None:
    one = await make_replica(handoff_max_per_sender=1, handoff_max_per_address=2)
    two = await make_replica(handoff_max_per_sender=1, handoff_max_per_address=2)
    await agent_present(one)  # the replicas share the store: present on both
    assert not refused(await ask_for_agent(one, "r1", "203.0.113.5"))
    await say(one, "r1", "取消")
    assert refused(await ask_for_agent(two, "r1", "203.0.113.5"))  # the sender's allowance
    assert not refused(await ask_for_agent(two, "r2", "203.0.113.5"))
    assert refused(await ask_for_agent(one, "r3", "203.0.113.5"))  # the address's allowance
    clock = Clock()
    use_clock(one, clock)
    use_clock(two, clock)
    assert not refused(await ask_for_agent(two, "r4", "198.51.100.9"))  # second in the queue
    await say(one, "r2", "取消")  # r4 moves up
    clock.now += 3600
    rounds = [await runtime_of(c).desk.notices.tell() for c in (one, two)]
    assert rounds == [1, 0]  # one round per interval, whichever replica runs it
    told = [t for _, t in await said_to(one, "rest:r4") if "排在第" in t]
    assert len(told) == 2 and "排在第 1 位" in told[-1]


async def test_rotating_ipv6_addresses_share_their_network_allowance(
    make_replica: MakeReplica,
) -> None:
    client = await make_replica(handoff_max_per_address=2)
    run_from_slot_start(client)
    outcomes = [
        refused(await ask_for_agent(client, f"v{i}", f"2001:db8:1:2::{i + 1:x}")) for i in range(4)
    ]
    assert outcomes == [False, False, True, True]
    replies = await ask_for_agent(client, "v9", "2001:db8:1:2::99")
    assert any("您所在的网络" in r for r in replies)
    assert not refused(await ask_for_agent(client, "w", "2001:db8:1:3::1"))  # another /64


async def test_a_refused_emergency_still_gets_the_emergency_numbers(
    make_replica: MakeReplica,
) -> None:
    client = await make_replica(handoff_max_per_sender=1)
    run_from_slot_start(client)
    await say(client, "e1", "救命")
    await say(client, "e1", "取消")
    replies = await say(client, "e1", "救命")
    assert refused(replies)
    assert any("110" in r and "119" in r and "120" in r for r in replies)
