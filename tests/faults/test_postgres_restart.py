"""PostgreSQL restarted while citizens confirm complaints and chat: no
ticket lost or doubled, and the transcripts written after it returns."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.faults.harness import (
    ClientPath,
    Cluster,
    Complainant,
    FakeWeChatApi,
    Reference,
    count_load,
    say,
)

pytestmark = pytest.mark.faults

COMPLAINANTS = 20
CHAT_MESSAGES = 600


@pytest.mark.timeout(1200)
async def test_postgres_restarted_mid_load(
    cluster: Cluster, wechat_api: FakeWeChatApi, reference: Reference
) -> None:
    path = cluster.rest_path()
    chat_paths: list[ClientPath] = [cluster.widget_path(), cluster.rest_path()]
    citizens = [Complainant(cluster, path) for _ in range(COMPLAINANTS)]
    try:
        await asyncio.gather(*(c.start(f"complaint-pg-{i}") for i, c in enumerate(citizens)))
        chat = asyncio.create_task(
            count_load(chat_paths, 30, CHAT_MESSAGES, reference, pause=(0.5, 1.5))
        )
        confirming = asyncio.gather(*(c.confirm_until_ticket(tries=15) for c in citizens))
        await asyncio.sleep(0.5)
        started = time.monotonic()
        await asyncio.to_thread(cluster.ctl, "restart", "postgres")
        say(f"PostgreSQL restarted (fast stop + start) in {time.monotonic() - started:.1f} s")
        restarted_at = time.time()
        confirmed = await confirming
        tally = await chat
    finally:
        await path.close()
        for chat_path in chat_paths:
            await chat_path.close()
    tally.report("chat while PostgreSQL restarted")
    tickets = {c.conversation_id: c.tickets() for c in citizens}
    counts = [len(t) for t in tickets.values()]
    say(
        f"complaints {COMPLAINANTS}: confirmed {sum(confirmed)}, tickets per conversation "
        f"{sorted(counts)}, confirmations sent {sum(c.confirmations for c in citizens)}"
    )
    audit = cluster.audit(tally.runs.values())
    say(f"transcript audit: {audit}")
    after = cluster.sql(
        "SELECT count(*) FROM transcripts WHERE created_at > to_timestamp(%s)", restarted_at
    )[0][0]
    say(f"transcript entries written after PostgreSQL returned: {after}")

    assert all(confirmed)
    assert counts == [1] * COMPLAINANTS
    assert tally.count("lost", "duplicated", "reordered") == 0, tally.verdicts
    assert not tally.errors, tally.errors
    assert audit["ok"], audit["problems"]
    assert after > 0
