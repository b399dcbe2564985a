"""Same-sender bursts: 10 messages at once from one sender, alternately to
front door 1 and front door 2, 1,000 rounds: every message recorded once,
answered once, and answered in the order the transcript records them, each
message's replies right after it (the first message of a burst is written by
the front door that received it, the others by the one that answers them,
in turn: bot/hub_transcript.py)."""

from __future__ import annotations

import asyncio
import os
import secrets
import time

import aiohttp
import pytest

from tests.faults.harness import Cluster, say

pytestmark = pytest.mark.faults

ROUNDS = int(os.environ.get("FAULTS_BURST_ROUNDS", "1000"))
BURST = 10
PARALLEL_SENDERS = 4
STAGGER = 0.02  # seconds between two sends of a burst: the order they are sent in
TEXTS = (
    "社保断缴了有什么影响?",
    "公积金贷款最多能贷多少",
    "怎么查自己的社保缴费记录?",
    "个人所得税起征点是多少?",
    "深圳交的社保可以合并到东莞吗",
)


async def burst(
    http: aiohttp.ClientSession, cluster: Cluster, round_no: int
) -> tuple[str, list[str]]:
    name, token = cluster.rest_token
    sender = f"burst-{round_no}-{secrets.token_hex(4)}"
    headers = {"Authorization": f"Bearer {token}"}

    async def send(index: int) -> str:
        await asyncio.sleep(index * STAGGER)
        door = cluster.door_url(1 + index % 2)
        body = {"sender": sender, "message": TEXTS[index % len(TEXTS)], "message_id": f"m{index}"}
        async with http.post(f"{door}/webhooks/rest/webhook", json=body, headers=headers) as resp:
            data = await resp.json(content_type=None)
            status = resp.headers.get("X-Hotline-Status", "ok")
            if resp.status != 200 or status != "ok" or not data:
                return f"HTTP {resp.status} {status} {len(data or [])} replies"
            return "ok"

    results = await asyncio.gather(*(send(i) for i in range(BURST)))
    return f"rest:{name}:{sender}", list(results)


#: The transcript is written behind the answer (bot/hub_transcript.py): a
#: burst's last replies may reach PostgreSQL after its last HTTP answer, so a
#: round is judged once its transcript holds every message and a reply to
#: each, or after this many seconds (then whatever is missing is a problem).
SETTLE = 15.0
#: Seconds each round waited for its transcript after the first read was incomplete.
settle_waits: list[float] = []


def complete(rows: list[tuple[str, str | None]]) -> bool:
    inbound = {mid for direction, mid in rows if direction == "in"}
    answered = {(mid or "").rpartition("#")[0] for direction, mid in rows if direction == "out"}
    return len(inbound) == BURST and answered >= inbound


async def settled_rows(cluster: Cluster, conversation_id: str) -> list[tuple[str, str | None]]:
    started = time.monotonic()
    rows = await asyncio.to_thread(cluster.transcript_rows, conversation_id)
    if complete(rows):
        return rows
    while time.monotonic() - started <= SETTLE:
        await asyncio.sleep(0.2)
        rows = await asyncio.to_thread(cluster.transcript_rows, conversation_id)
        if complete(rows):
            break
    settle_waits.append(time.monotonic() - started)
    return rows


def interleaving(rows: list[tuple[str, str | None]]) -> str | None:
    """The message id of the first reply that is not right after its message
    (or another reply to it); None when every turn is whole."""
    current = None
    for direction, mid in rows:
        if direction == "in":
            current = mid
        elif (mid or "").rpartition("#")[0] != current:
            return (mid or "").rpartition("#")[0]
    return None


@pytest.mark.timeout(7200)
async def test_same_sender_bursts_on_two_replicas(cluster: Cluster) -> None:
    problems: list[str] = []
    out_of_order = 0
    timeout = aiohttp.ClientTimeout(total=60)
    rounds = iter(range(ROUNDS))
    async with aiohttp.ClientSession(timeout=timeout) as http:

        async def worker() -> None:
            nonlocal out_of_order
            for round_no in rounds:
                conversation_id, results = await burst(http, cluster, round_no)
                problems.extend(f"round {round_no}: {r}" for r in results if r != "ok")
                rows = await settled_rows(cluster, conversation_id)
                inbound = [mid or "" for direction, mid in rows if direction == "in"]
                answered = [(mid or "").rpartition("#")[0] for d, mid in rows if d == "out"]
                if sorted(inbound) != [f"m{i}" for i in range(BURST)]:
                    problems.append(f"round {round_no}: inbound {inbound}")
                if len(answered) != len(set(answered)) or sorted(answered) != sorted(inbound):
                    problems.append(f"round {round_no}: replies {answered}")
                elif answered != inbound:  # answered in another order than recorded
                    out_of_order += 1
                    problems.append(f"round {round_no}: recorded {inbound}, answered {answered}")
                elif (split := interleaving(rows)) is not None:
                    problems.append(f"round {round_no}: a reply to {split} after another message")

        await asyncio.gather(*(worker() for _ in range(PARALLEL_SENDERS)))
    say(
        f"{ROUNDS} bursts of {BURST} on two front doors: {len(problems)} problems, "
        f"{out_of_order} rounds answered in another order than the transcript records; "
        f"{len(settle_waits)} rounds' transcripts were completed after their last answer, "
        f"at most {max(settle_waits, default=0.0):.1f} s later"
    )
    for problem in problems[:20]:
        say(f"  {problem}")
    assert not problems
