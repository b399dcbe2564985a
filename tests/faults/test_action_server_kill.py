"""An action server killed in the middle of a complaint: exactly one ticket
after the citizen's retry (and none more on a further click)."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.harness import COMPLAINT, Cluster, Complainant, say

pytestmark = pytest.mark.faults


#: In the front door's reply when Rasa could not run an action (bot/messages.py RETRY_TEXT).
RETRY_HINT = "没有处理完成"


def last_answer(cluster: Cluster, conversation_id: str) -> str:
    rows = cluster.sql(
        "SELECT text FROM transcripts WHERE conversation_id = %s AND direction = 'out' "
        "ORDER BY seq DESC LIMIT 1",
        conversation_id,
    )
    return str(rows[0][0] or "") if rows else ""


async def restore(cluster: Cluster, *names: str) -> None:
    for name in names:
        await asyncio.to_thread(cluster.ctl, "restart", name)


@pytest.mark.timeout(600)
async def test_action_server_killed_mid_complaint(cluster: Cluster) -> None:
    """Action server 1 dies between two answers of the complaint form (the
    form's validation runs there); Rasa reaches action server 2 through the
    cluster's action address (a refused connection is tried on the other)."""
    path = cluster.rest_path()
    citizen = Complainant(cluster, path)
    try:
        await citizen.start("complaint-actions", COMPLAINT[:2])
        await asyncio.to_thread(cluster.ctl, "kill", "actions-1")
        say("action server 1 SIGKILLed after the complaint's second answer")
        await citizen.go_on(COMPLAINT[2:])
        done = await citizen.confirm_until_ticket()
        again = await citizen.confirm()  # a double click after the ticket
        say(f"ticket confirmed {done}; another click got {again.replies}")
    finally:
        await path.close()
        await restore(cluster, "actions-1")
    tickets = citizen.tickets()
    say(f"tickets of the conversation: {tickets} after {citizen.confirmations} confirmations")
    assert done
    assert len(tickets) == 1


@pytest.mark.timeout(600)
async def test_every_action_server_down_at_the_confirmation(cluster: Cluster) -> None:
    path = cluster.rest_path()
    citizen = Complainant(cluster, path)
    try:
        await citizen.start("complaint-no-actions")
        await asyncio.to_thread(cluster.ctl, "kill", "actions-1")
        await asyncio.to_thread(cluster.ctl, "kill", "actions-2")
        during = await citizen.confirm()
        # Rasa answers 200 [] (the action's events lost); the front door undoes
        # that turn on Rasa and answers with its polite retry reply (status
        # "busy", so the client keeps no reply texts: read what it got from the
        # transcript).
        answered = await asyncio.to_thread(last_answer, cluster, citizen.conversation_id)
        say(f"the confirmation with no action server got: error={during.error} {answered!r}")
        await restore(cluster, "actions-1", "actions-2")
        done = await citizen.confirm_until_ticket(tries=3)
    finally:
        await path.close()
        if not cluster.status_ok():
            await restore(cluster, "actions-1", "actions-2")
    tickets = citizen.tickets()
    say(f"tickets of the conversation: {tickets} after {citizen.confirmations} confirmations")
    assert during.replies or (during.error == "status busy" and RETRY_HINT in answered), (
        "the citizen got no answer at all"
    )
    assert done and len(tickets) == 1
