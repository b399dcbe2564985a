"""Review: place notices go out in the background, never inside a request.

A queue change (an agent's claim, a citizen joining or leaving) used to run
the place-notice round inline: the agent's claim request, or the citizen's
own handoff turn, waited for one push per queued citizen whose place moved.
Now each replica runs the round as one background task (coalesced), so the
claim returns at once and the notices still go out.

The citizens' channel here is slow: each place notice waits until the test
lets it through (3 s after the claim began at the latest, so that the old
inline round ends too). The test
counts the notices that had gone out when the claim's answer arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.messages import OutboundMessage
from tests.console.conftest import (
    MakeReplica,
    SignIn,
    agent_present,
    console_of,
    hub_of,
    runtime_of,
)
from tests.console.test_handoff_abuse import Clock, say, use_clock
from tests.support.waiting import eventually

QUEUED = 200


async def test_a_claim_with_a_long_queue_does_not_wait_for_the_notices(
    make_replica: MakeReplica, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await make_replica(handoff_notice_interval=30.0, handoff_max_per_address=1000)
    await agent_present(client)
    clock = Clock()
    use_clock(client, clock)
    for i in range(QUEUED):
        await say(client, f"q{i}", "转人工")
    notices = runtime_of(client).desk.notices
    await notices.settled()
    clock.now += 31  # the next round may tell everyone whose place moves

    rest = hub_of(client).channels["rest"]
    real_send = rest.send
    gate = asyncio.Event()
    sent: list[str] = []

    async def slow_send(user_id: str, messages: Sequence[OutboundMessage]) -> None:
        if any("排在第" in (m.text or "") for m in messages):
            await gate.wait()
            sent.append(user_id)
        await real_send(user_id, messages)

    monkeypatch.setattr(rest, "send", slow_send)
    agent = await sign_in(client, "zhangsan", display_name="张三")
    first = (await console_of(client).conversations.queue_order())[0]
    opens = asyncio.get_running_loop().call_later(3.0, gate.set)  # the old inline round ends too
    resp = await agent.post(f"/console/api/conversations/{first}/claim")
    assert resp.status == 200, await resp.text()
    assert sent == []  # no place notice was awaited inside the claim (was 199)
    opens.cancel()
    gate.set()

    async def everyone_told() -> bool:
        return len(sent) == QUEUED - 1

    await eventually(everyone_told, timeout=20)
    await notices.settled()
