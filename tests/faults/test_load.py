"""12,000 messages from 100 citizens over the widget, REST and WeChat, through
nginx to two front doors: 0 lost, 0 duplicated, 0 reordered replies, and the
front doors' transcript audit clean."""

from __future__ import annotations

import os

import pytest

from tests.faults.harness import Cluster, FakeWeChatApi, Reference, count_load, say

pytestmark = pytest.mark.faults

MESSAGES = int(os.environ.get("FAULTS_MESSAGES", "12000"))
CITIZENS = int(os.environ.get("FAULTS_CITIZENS", "100"))


@pytest.mark.timeout(3600)
async def test_mixed_load_through_nginx(
    cluster: Cluster, wechat_api: FakeWeChatApi, reference: Reference
) -> None:
    paths = [cluster.widget_path(), cluster.rest_path(), cluster.wechat_path(wechat_api)]
    try:
        tally = await count_load(paths, CITIZENS, MESSAGES, reference)
    finally:
        for path in paths:
            await path.close()
    tally.report(f"mixed load, {CITIZENS} citizens through nginx")
    audit = cluster.audit(tally.runs.values())
    say(f"transcript audit: {audit}")

    assert tally.sent == MESSAGES
    assert tally.count("lost", "duplicated", "reordered") == 0, tally.verdicts
    assert tally.count("mismatch") == 0, tally.verdicts
    assert not tally.errors, tally.errors
    assert audit["ok"], audit["problems"]
    assert audit["checked"] > 0
