"""Review: an emergency gets a bounded head start, not the whole queue.

Words of danger ("救命") or the emergency intent already got the citizen the
110/119/120 advice at once; in the queue they count ``HANDOFF_EMERGENCY_HEAD_START``
seconds (10 minutes by default) older: ahead of citizens who asked up to
that long before them, never ahead of one who has waited longer. Through the
hub's ``handle`` (what every channel calls) with the router's clock moved by hand.
"""

from __future__ import annotations

from tests.console.conftest import MakeReplica, agent_present, console_of
from tests.console.test_handoff_abuse import Clock, say, use_clock


async def test_an_emergency_passes_short_waits_but_not_long_ones(
    make_replica: MakeReplica,
) -> None:
    client = await make_replica()  # the defaults: 600 s for emergencies, 120 s for urgent
    clock = Clock()
    use_clock(client, clock)
    await say(client, "long", "转人工")
    clock.now += 540
    await say(client, "short", "转人工")
    clock.now += 120  # "long" has waited 11 minutes, "short" 2 minutes
    await agent_present(client)  # places are told only while someone serves the queue
    replies = await say(client, "fire", "救命")
    assert any("排在第 2 位" in r for r in replies), replies
    order = await console_of(client).conversations.queue_order()
    assert [c.rsplit(":", 1)[-1] for c in order] == ["long", "fire", "short"]


async def test_the_emergency_head_start_is_a_setting(make_replica: MakeReplica) -> None:
    client = await make_replica(handoff_emergency_head_start=60.0)
    clock = Clock()
    use_clock(client, clock)
    await say(client, "first", "转人工")
    clock.now += 30
    await say(client, "second", "转人工")
    clock.now += 45  # "first" has waited 75 s, "second" 45 s
    await say(client, "fire", "救命")
    order = await console_of(client).conversations.queue_order()
    assert [c.rsplit(":", 1)[-1] for c in order] == ["first", "fire", "second"]
