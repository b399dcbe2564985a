"""Review: a place notice that one citizen's channel refuses changes nothing else.

An agent's claim (the queue changed) starts a notice round (in the
background, tests/console/test_notice_rounds.py). When the channel of
another queued citizen refuses the notice (e.g. WeChat's customer-service
message limit), the claim must still hold, and the other citizens of the
round must still be told.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.messages import OutboundMessage
from channels.base import DeliveryFailed
from tests.console.conftest import (
    MakeReplica,
    SignIn,
    connect,
    console_of,
    hub_of,
    runtime_of,
    said_to,
)
from tests.console.test_handoff_abuse import Clock, say, use_clock


async def test_a_refused_place_notice_does_not_undo_the_claim(
    make_replica: MakeReplica, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await make_replica(handoff_notice_interval=30.0)
    clock = Clock()
    use_clock(client, clock)
    for sender in ("c1", "c2", "c3"):
        await say(client, sender, "转人工")
    clock.now += 31  # the next round may tell everyone whose place moved

    rest = hub_of(client).channels["rest"]
    real_send = rest.send

    async def send(user_id: str, messages: Sequence[OutboundMessage]) -> None:
        if user_id.split(":")[-1] == "c2":
            raise DeliveryFailed("quota")
        await real_send(user_id, messages)

    monkeypatch.setattr(rest, "send", send)
    agent = await sign_in(client, "zhangsan", display_name="张三")
    await connect(agent)
    order = await console_of(client).store.zrange("handoff:queue")
    cid = next(c for c in order if c.endswith("c1"))
    resp = await agent.post(f"/console/api/conversations/{cid}/claim")
    assert resp.status == 200, await resp.text()
    assert await console_of(client).state(cid) == "with_agent"
    await runtime_of(client).desk.notices.settled()
    # c3, behind the refusing c2, is still told its new place in the same round
    c3 = cid[:-2] + "c3"
    assert [t for _, t in await said_to(client, c3) if "排在第 2 位" in t]
    assert [t for _, t in await said_to(client, cid) if "张三" in t]  # the greeting stands
