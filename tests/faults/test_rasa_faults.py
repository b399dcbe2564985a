"""A Rasa server killed, and a Rasa server slowed to 8 s, under load:
conversations move to the other server (the front doors' Rasa pool,
RASA_URLS) or get the polite busy reply within RASA_TIMEOUT; no citizen
waits longer than the channel's limit, and no message is lost."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter

import pytest

from tests.faults.harness import (
    Channels,
    Cluster,
    FakeWeChatApi,
    Reference,
    Tally,
    citizens,
    pause,
    say,
)

pytestmark = pytest.mark.faults

MESSAGES = int(os.environ.get("FAULTS_RASA_MESSAGES", "1200"))
CITIZENS = citizens(40)
FAULT_AFTER = 15.0
RASA_TIMEOUT = 10.0  # the front doors' default (RASA_TIMEOUT)
#: The front door's own work on top of RASA_TIMEOUT (queueing, transcript).
MARGIN = 2.5
WECHAT_LIMIT = 5.0
SLOW = 8.0
BUSY = "busy reply", "status busy"


def check_waits(tally: Tally) -> None:
    longest: dict[str, float] = {}
    wechat_responses = []
    for name, run in tally.runs.items():
        waits = [t.latency for t in run.turns if t.latency is not None]
        longest[name] = max(waits, default=0.0)
        wechat_responses += [t.extra["response_s"] for t in run.turns if "response_s" in t.extra]
    say(
        f"longest wait per path (s): { {k: round(v, 2) for k, v in longest.items()} }; "
        f"longest WeChat HTTP answer {max(wechat_responses, default=0.0):.2f} s"
    )
    assert max(wechat_responses, default=0.0) <= WECHAT_LIMIT
    for name, wait in longest.items():
        if name != "frontdoor-wechat":  # pushed replies: the citizen is not holding a request
            assert wait <= RASA_TIMEOUT + MARGIN, (name, wait)


def transport_ok(tally: Tally, audit: dict[str, object]) -> None:
    other = Counter({e: n for e, n in tally.errors.items() if e not in BUSY})
    say(f"busy replies {sum(tally.errors[b] for b in BUSY)}; other errors {dict(other)}")
    assert not other, other
    # A turn that got the busy reply may still have run in Rasa (a stalled
    # server finishes it after the front door gave up), so the rest of its
    # conversation leaves the script (harness.count_load takes any reply
    # there): judge replies only where none was busy.
    # (The audit checks every conversation: each message recorded and answered once.)
    judged: Counter[str] = Counter()
    for run in tally.runs.values():
        start = 0
        for _cid, sent in run.conversations:
            turns = run.turns[start : start + sent]
            start += sent
            if not any(t.error in BUSY for t in turns):
                judged.update(t.verdict for t in turns)
    say(f"verdicts of the conversations without a busy reply: {dict(judged)}")
    assert sum(judged[v] for v in ("lost", "duplicated", "reordered")) == 0, judged
    assert audit["ok"], audit["problems"]


@pytest.mark.timeout(1800)
async def test_rasa_server_killed(
    cluster: Cluster, wechat_api: FakeWeChatApi, reference: Reference
) -> None:
    channels = Channels(cluster, wechat_api)
    try:
        load = channels.load(CITIZENS, MESSAGES, reference, pause=pause(None))
        await asyncio.sleep(FAULT_AFTER)
        assert not load.done(), "the load ended before the fault: raise FAULTS_RASA_MESSAGES"
        await asyncio.to_thread(cluster.ctl, "kill", "rasa-1")
        say(f"Rasa 1 SIGKILLed {FAULT_AFTER:.0f} s into the load")
        tally = await load
    finally:
        await channels.close()
        await asyncio.to_thread(cluster.ctl, "restart", "rasa-1")
    audit = channels.report(tally, "Rasa 1 killed mid-load")
    check_waits(tally)
    transport_ok(tally, audit)


@pytest.mark.timeout(1800)
async def test_rasa_server_slowed_to_8_seconds(
    cluster: Cluster, wechat_api: FakeWeChatApi, reference: Reference
) -> None:
    """Rasa 2 stalls: stopped (SIGSTOP) for 8 s, running for 1 s, over and over."""
    channels = Channels(cluster, wechat_api)
    stalls = 0

    async def stall() -> None:
        nonlocal stalls
        while True:
            await asyncio.to_thread(cluster.ctl, "pause", "rasa-2")
            stalls += 1
            await asyncio.sleep(SLOW)
            await asyncio.to_thread(cluster.ctl, "resume", "rasa-2")
            await asyncio.sleep(1.0)

    staller = None
    try:
        load = channels.load(CITIZENS, MESSAGES, reference, pause=pause(None))
        await asyncio.sleep(FAULT_AFTER)
        started = time.monotonic()
        staller = asyncio.create_task(stall())
        tally = await load
        say(f"Rasa 2 stalled {stalls} times for {SLOW:.0f} s in {time.monotonic() - started:.0f} s")
    finally:
        if staller is not None:
            staller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await staller
        await asyncio.to_thread(cluster.ctl, "resume", "rasa-2")
        await channels.close()
    audit = channels.report(tally, "Rasa 2 slowed to 8 s")
    check_waits(tally)
    transport_ok(tally, audit)
