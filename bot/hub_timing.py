"""Every time bound and speed trick of the hub, in one place, with its reason.

Two kinds live here. The *bounds* are part of the hub's guarantees (how long
a duplicate is recognised, when a dead replica's conversation is taken
over). The *speed tricks* change nothing a citizen or a test can observe
but the time: each says what it buys and where that was measured. A trick
whose figure no longer holds should go, not be tuned.

Measurements: docs/adr/0005 and 0011 (front door against a fake 30 ms Rasa,
``make overhead``). None of the loop-iteration counts below was measured
on its own; they were measured together with the write-behind transcript
they serve (figures at each). Their behaviour (the answer leaves before the
transcript write; reads wait for the write) is held by tests/test_hub.py
(``test_the_answer_does_not_wait_for_the_reply_write``,
``test_replies_are_written_after_the_inbound_entry``).
"""

from __future__ import annotations

import asyncio

# --- bounds -------------------------------------------------------------------

#: How long a (channel, sender, message id) is recognised as a duplicate.
DEDUPE_TTL = 24 * 3600.0
#: How long an unprocessed inbox entry is kept (no replica alive to take it).
INBOX_TTL = 24 * 3600.0
#: How long a result (and the "delivered" claim and the inbound marker) is kept.
RESULT_TTL = 3600.0
#: The conversation lock's lifetime; renewed every LOCK_TTL/3 while a replica
#: works on the inbox, so a dead replica's conversation is taken over after it.
LOCK_TTL = 10.0
#: How often a waiting caller looks at the store itself (a lost announcement,
#: or a lock holder that died: it then takes the inbox over).
POLL_INTERVAL = 0.5
#: A wait whose deadline is nearer than this has expired. Timers have a
#: millisecond's resolution on uvloop (libuv) and may fire up to 1 ms before
#: loop.time() reaches their deadline; re-armed for the sub-millisecond rest,
#: a wait spun (up to 123 rounds in 50 waits of 0.3 s measured; tests/test_hub.py,
#: the vanished result).
TIMER_SLACK = 0.001
#: How long the mark "this message was sent to Rasa" is kept: a replica that
#: takes the message over from a dead one within it asks Rasa's tracker
#: whether the turn ran before sending it again (bot/hub_routing.py).
TURN_MARK_TTL = 600.0
#: How often a pending reply's wait asks again while the store is unavailable.
STORE_RETRY = 1.0
#: How long a pending reply may still be pushed.
DELIVER_WINDOW = 600.0
#: How long a replica processing a message received by another replica waits
#: for that replica's inbound transcript write before writing it itself.
INBOUND_WAIT = 5.0
INBOUND_POLL = 0.05
#: How long the inbound marker of a failed marker write stays on this replica
#: (its own processing then needs no marker).
INBOUND_TASK_KEPT = 60.0


def max_wait(rasa_timeout: float) -> float:
    """The bound of ``DeliveryMode.ANSWER_IN_PLACE``: a few Rasa turns queued
    ahead, plus a lock expiry; then the caller answers with the busy reply."""
    return max(60.0, 3 * rasa_timeout + LOCK_TTL)


# --- speed tricks ---------------------------------------------------------------
#
# 1. Write-behind transcript (bot/hub_transcript.py). The inbound entry is
#    written while Rasa works, the replies after the answer went out.
#    Measured: each SQLite write 1-2 ms of a 30 ms turn; handler time outside
#    the Rasa call 1.9 ms, of which 0.8 ms before the call and 0.8 ms after
#    (docs/adr/0005-transcript-write-behind.md).
#
# 2. The waiting caller sleeps on an event with a timer (bot/hub_results.py)
#    instead of ``asyncio.wait_for``: no inner task, and it wakes one loop
#    iteration after the result is announced (docs/adr/0011-hub-loop-iteration-yields.md;
#    measured only together with the 2026-11-29 set of docs/adr/0007).

#: Loop iterations the inbound transcript write waits before it starts, so
#: that the request to Rasa leaves first (the drainer's first step, then
#: aiohttp's task that sends the request): the write takes the loop for a
#: fraction of a millisecond, while Rasa works for tens of milliseconds.
#: Measured only with the other hub changes of docs/adr/0011 (no figure of
#: its own).
INBOUND_WRITE_YIELDS = 2

#: Loop iterations a caller waiting on this replica to answer in place (REST,
#: WeChat's passive reply) needs to wake up and send its answer (event -> the
#: handler), plus one; the replies are written to the transcript after that.
#: Pushed replies get no yield: a push waits for the written replies anyway.
#: Measured: dropping them for pushes, together with the fan-out's in-place
#: await, took 0.23-0.24 ms off the widget's turn, REST unchanged within noise
#: (docs/adr/0011-hub-loop-iteration-yields.md). For answers in place they are part of trick 1:
#: without them the answer waits for the reply write.
ANSWER_YIELDS = 2


async def yield_loop(iterations: int) -> None:
    """Let the event loop run ``iterations`` times (other ready tasks go first)."""
    for _ in range(iterations):
        await asyncio.sleep(0)
