"""12,000 messages from 100 citizens over the widget, REST, WeChat and Telegram, through
nginx to two front doors: 0 lost, 0 duplicated, 0 reordered replies, and the
front doors' transcript audit clean."""

from __future__ import annotations

import os

import pytest

from tests.faults.harness import (
    Channels,
    Cluster,
    ClusterTelegramApi,
    FakeWeChatApi,
    Reference,
    citizens,
    pause,
)

pytestmark = pytest.mark.faults

MESSAGES = int(os.environ.get("FAULTS_MESSAGES", "12000"))
CITIZENS = citizens(100)


@pytest.mark.timeout(3600)
async def test_mixed_load_through_nginx(
    cluster: Cluster,
    wechat_api: FakeWeChatApi,
    telegram_api: ClusterTelegramApi,
    reference: Reference,
) -> None:
    channels = Channels(cluster, wechat_api, telegram_api)
    try:
        tally = await channels.load(CITIZENS, MESSAGES, reference, pause=pause(None))
    finally:
        await channels.close()
    audit = channels.report(tally, f"mixed load, {CITIZENS} citizens through nginx")

    assert tally.sent == MESSAGES
    assert tally.count("lost", "duplicated", "reordered") == 0, tally.verdicts
    assert tally.count("mismatch") == 0, tally.verdicts
    assert not tally.errors, tally.errors
    assert audit["ok"], audit["problems"]
    assert audit["checked"] > 0
