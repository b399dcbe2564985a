"""A front door SIGKILLed mid-load with widget sockets open: the sockets
reconnect through nginx to the other front door and resume, no message is
lost, and WeChat's resends are answered once."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter

import pytest

from tests.faults.harness import (
    SCRIPTS,
    Channels,
    Cluster,
    Conversation,
    FakeWeChatApi,
    Reference,
    citizens,
    pause,
    say,
)

pytestmark = pytest.mark.faults

MESSAGES = int(os.environ.get("FAULTS_KILL_MESSAGES", "1500"))
CITIZENS = citizens(60)
KILL_AFTER = 20.0
WITNESSES = 6


@pytest.mark.timeout(1800)
async def test_frontdoor_killed_mid_load(
    cluster: Cluster, wechat_api: FakeWeChatApi, reference: Reference
) -> None:
    channels = Channels(cluster, wechat_api)
    script = SCRIPTS[0]
    witnesses: list[Conversation] = []
    try:
        load = channels.load(CITIZENS, MESSAGES, reference, pause=pause((0.5, 2.0)))
        # Widget sockets that are surely open on both front doors when one dies
        # (nginx alternates): each says its first line before the kill, the rest after.
        for index in range(WITNESSES):
            witness = await channels.widget.open(f"witness-{index}")
            await witness.say(script.turns[0], reference.expected(script, 0))
            witnesses.append(witness)
        await asyncio.sleep(KILL_AFTER)
        assert not load.done(), "the load ended before the fault: raise FAULTS_KILL_MESSAGES"
        killed_at = time.monotonic()
        await asyncio.to_thread(cluster.ctl, "kill", "frontdoor-1")
        say(f"front door 1 SIGKILLed {KILL_AFTER:.0f} s into the load")
        for witness in witnesses:
            for index, text in enumerate(script.turns[1:], start=1):
                await witness.say(text, reference.expected(script, index))
        tally = await load
        say(f"load finished {time.monotonic() - killed_at:.0f} s after the kill")
        seen: Counter[str] = Counter()
        for witness in witnesses:
            seen.update(t.verdict if t.error is None else t.error for t in await witness.finish())
    finally:
        await channels.close()
        await asyncio.to_thread(cluster.ctl, "restart", "frontdoor-1")
    audit = channels.report(tally, "front door 1 killed mid-load")
    say(f"{WITNESSES} widget conversations open across the kill: {dict(seen)}")

    assert channels.widget.reconnects > 0, "no widget socket was on the killed front door"
    assert seen == Counter({"ok": WITNESSES * len(script.turns)}), seen
    assert tally.count("lost", "duplicated", "reordered") == 0, tally.verdicts
    assert not tally.errors, tally.errors
    assert audit["ok"], audit["problems"]
