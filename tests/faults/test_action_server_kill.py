"""The action servers killed in the middle of a complaint: exactly one
ticket after the citizen's retry (and none more on a further click)."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.harness import Cluster, Complainant, say

pytestmark = pytest.mark.faults


@pytest.mark.timeout(600)
async def test_action_server_killed_mid_complaint(cluster: Cluster) -> None:
    path = cluster.rest_path()
    citizen = Complainant(cluster, path)
    try:
        await citizen.start("complaint-actions")
        await asyncio.to_thread(cluster.ctl, "kill", "actions-1")
        await asyncio.to_thread(cluster.ctl, "kill", "actions-2")
        say("both action servers SIGKILLed before the citizen confirms")
        during = await citizen.confirm()
        say(f"the confirmation while they were down got: error={during.error} {during.replies}")
        await asyncio.to_thread(cluster.ctl, "restart", "actions-1")
        await asyncio.to_thread(cluster.ctl, "restart", "actions-2")
        done = await citizen.confirm_until_ticket()
        again = await citizen.confirm()  # a double click after the ticket
        say(f"after the restart: ticket confirmed {done}; another click got {again.replies}")
    finally:
        await path.close()
        for name in ("actions-1", "actions-2"):
            if not cluster.status_ok():
                await asyncio.to_thread(cluster.ctl, "restart", name)
    tickets = citizen.tickets()
    say(f"tickets of the conversation: {tickets} after {citizen.confirmations} confirmations")
    assert done
    assert len(tickets) == 1
