"""A front door SIGKILLed mid-load with widget sockets open: the sockets
reconnect through nginx to the other front door and resume, no message is
lost, and WeChat's resends are answered once."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from tests.faults.harness import Channels, Cluster, FakeWeChatApi, Reference, citizens, pause, say

pytestmark = pytest.mark.faults

MESSAGES = int(os.environ.get("FAULTS_KILL_MESSAGES", "1500"))
CITIZENS = citizens(60)
KILL_AFTER = 20.0


@pytest.mark.timeout(1800)
async def test_frontdoor_killed_mid_load(
    cluster: Cluster, wechat_api: FakeWeChatApi, reference: Reference
) -> None:
    channels = Channels(cluster, wechat_api)
    try:
        load = channels.load(CITIZENS, MESSAGES, reference, pause=pause((0.5, 2.0)))
        await asyncio.sleep(KILL_AFTER)
        assert not load.done(), "the load ended before the fault: raise FAULTS_KILL_MESSAGES"
        killed_at = time.monotonic()
        await asyncio.to_thread(cluster.ctl, "kill", "frontdoor-1")
        say(f"front door 1 SIGKILLed {KILL_AFTER:.0f} s into the load")
        tally = await load
        say(f"load finished {time.monotonic() - killed_at:.0f} s after the kill")
    finally:
        await channels.close()
        await asyncio.to_thread(cluster.ctl, "restart", "frontdoor-1")
    audit = channels.report(tally, "front door 1 killed mid-load")

    assert channels.widget.reconnects > 0, "no widget socket was on the killed front door"
    assert tally.count("lost", "duplicated", "reordered") == 0, tally.verdicts
    assert not tally.errors, tally.errors
    assert audit["ok"], audit["problems"]
