"""The handoff queue as agents and citizens see it.

Order is the queue of the conversations' owner (bot/conversations.py): by arrival, with a bounded
head start for emergencies (10 minutes) and for urgent requests (2 minutes)
(:func:`bot.hub_routing.handoff_score` says exactly how). Agents see it a
page at a time (:func:`queue_page`: one page and the total), so a flood of
entries cannot stall the console.

Citizens are told their place and an estimated wait when it changes, in
batches (:class:`PositionNotices`): at most one notice per citizen per
``HANDOFF_NOTICE_INTERVAL``, all computed in one pass over the queue. The
estimate uses the median time to claim over the last two hours and the
number of agents online, and says so honestly when there is no data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

from bot.aio import cancel_and_wait
from bot.console import texts
from bot.console.context import Console
from bot.hub_routing import handoff_score

log = logging.getLogger(__name__)

ESTIMATE_WINDOW = dt.timedelta(hours=2)
TOLD_TTL = 24 * 3600.0
CHANNEL_NAMES = {"webchat": "网页", "wechat": "微信", "telegram": "Telegram", "rest": "接口"}
REASON_NAMES = {
    "emergency": "紧急求助",
    "angry": "情绪激动",
    "not_understood": "机器人未能理解",
    "citizen_request": "市民要求转人工",
    "taken_over": "坐席主动接管",
    "requeued": "重新排队",
    "incident": "应急事件相关",
    "transferred": "转组",
}
PRIORITY_NAMES = {"urgent": "紧急", "high": "较急", "normal": "普通"}


def claim_key(handoff_id: str) -> str:
    """Whoever sets this key first (SET NX) owns the queue entry: an agent or the citizen."""
    return f"handoff:claim:{handoff_id}"


def front_score(priority: str, first_queued_at: float, reason: str = "") -> float:
    """Back into the queue (its agent is gone) ahead of everyone who was never
    served, emergencies included; among such entries, by first arrival."""
    return handoff_score(priority, first_queued_at - 1e9, reason)


def parse_summary(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def tail(console: Console, conversation_id: str, limit: int = 4) -> list[dict[str, Any]]:
    """The last few messages (who and what), for the queue card and the summary."""
    entries = await console.hub.history(conversation_id, limit=limit)
    return [
        {"direction": e.direction, "sender": e.sender, "text": e.text or ""}
        for e in entries
        if e.text
    ]


async def queue_item(console: Console, cid: str, position: int, now: float) -> dict[str, Any]:
    conv = await console.conv(cid)
    channel = conv.channel or cid.split(":", 1)[0]
    priority = conv.handoff_priority or "normal"
    reason = conv.handoff_reason or ""
    queued_at = float(conv.queued_at or now)
    return {
        "conversation_id": cid,
        "position": position,
        "channel": channel,
        "channel_name": CHANNEL_NAMES.get(channel, channel),
        "priority": priority,
        "priority_name": PRIORITY_NAMES.get(priority, priority),
        "reason": reason,
        "reason_name": REASON_NAMES.get(reason, reason or "转人工"),
        "summary": parse_summary(conv.handoff_summary),
        "queued_at": queued_at,
        "waiting_seconds": max(0, int(now - queued_at)),
        "tail": await tail(console, cid),
        "ready": bool(conv.handoff_id),
        "group": conv.handoff_group or "",
        "group_name": group_name(console, conv.handoff_group or ""),
    }


def group_name(console: Console, key: str) -> str:
    """The agent group's name ("" for none; the key of a group no longer configured)."""
    group = console.groups.get(key) if key else None
    return group.name if group is not None else key


#: The largest page an agent's console may ask for.
MAX_PAGE = 200


async def queue_page(
    console: Console,
    offset: int = 0,
    limit: int | None = None,
    groups: frozenset[str] | None = None,
) -> dict[str, Any]:
    """``items`` from place ``offset + 1`` on (at most ``limit``), and ``total`` waiting.

    ``groups``: the agent groups whose entries the viewer sees besides the
    entries of no group (bot/console/groups.py); None: every entry
    (supervisors). Only the page's entries are read (their fields and last
    messages; an agent's view reads the order's ids and the group index
    too); the default page is ``CONSOLE_QUEUE_PAGE``.
    """
    page = console.hub.settings.console_queue_page if limit is None else limit
    page = max(1, min(page, MAX_PAGE))
    offset = max(0, offset)
    now = time.time()
    conversations = console.conversations
    if groups is None:
        order = await conversations.queue_order(offset, offset + page - 1)
        total = await conversations.queue_size()
    else:
        waiting_for = await conversations.queue_groups()
        seen = [
            cid
            for cid in await conversations.queue_order()
            if waiting_for.get(cid, "") in groups or not waiting_for.get(cid)
        ]
        order, total = seen[offset : offset + page], len(seen)
    items = [await queue_item(console, cid, offset + i, now) for i, cid in enumerate(order, 1)]
    return {"items": items, "total": total, "offset": offset, "limit": page}


async def position_of(console: Console, conversation_id: str) -> int | None:
    return await console.conversations.position(conversation_id)


class Estimator:
    """Estimated wait in minutes, or None when there is nothing to base it on."""

    def __init__(self, console: Console, cache_seconds: float = 20.0) -> None:
        self._console = console
        self._cache_seconds = cache_seconds
        self._cached: tuple[float, float | None] | None = None

    async def median_wait(self) -> float | None:
        now = time.monotonic()
        if self._cached is not None and now - self._cached[0] < self._cache_seconds:
            return self._cached[1]
        since = self._console.handoffs.now() - ESTIMATE_WINDOW
        waits = await self._console.handoffs.recent_waits(since)
        median = statistics.median(waits) if waits else None
        self._cached = (now, median)
        return median

    def forget(self) -> None:
        self._cached = None

    async def minutes(self, position: int) -> int | None:
        online = await self._console.presence.online_count()
        return self.minutes_for(position, online, await self.median_wait())

    @staticmethod
    def minutes_for(position: int, online: int, median: float | None) -> int | None:
        if median is None or online == 0:
            return None
        rounds = math.ceil(position / online)
        return math.ceil(median * rounds / 60)


#: ``conversation id -> "place|time told"`` of every queued citizen told a place.
TOLD_KEY = "handoff:told"


class PositionNotices:
    """Batched place notices: one pass over the queue, at most one per citizen per interval.

    A round reads the whole order, the told places (one hash) and the agents
    online once, pushes a notice to each citizen whose place differs from
    the one last told and who was last told at least ``interval`` seconds
    ago, and writes the new told places back in one call: a fixed number of
    store round trips per round plus one push per notice actually sent,
    however long the queue. Rounds are claimed per ``interval`` slot of the
    clock, so across replicas at most one round runs per interval; a queue
    change triggers a round (usually a no-op), and the console's sweep runs
    one each time too, so a notice held back is sent within an interval.

    A queue change asks for a round with :meth:`soon`: one background task
    per replica runs it (changes during a round ask for one more, coalesced),
    so the agent's claim and the citizen's own turn never wait for the pushes.
    """

    def __init__(
        self,
        console: Console,
        estimator: Estimator,
        interval: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.console = console
        self.estimator = estimator
        self.interval = interval
        self.clock = clock
        self._round: asyncio.Task[None] | None = None
        self._again = False

    def soon(self) -> None:
        """A round in the background, now (or once more after the one running)."""
        if self._round is not None and not self._round.done():
            self._again = True
            return
        self._round = asyncio.create_task(self._rounds(), name="handoff-notices")

    async def _rounds(self) -> None:
        while True:
            self._again = False
            try:
                await self.tell()
            except Exception as exc:  # the sweep's round catches up
                log.warning("place notice round failed: %s", type(exc).__name__)
            if not self._again:
                return

    async def settled(self) -> None:
        """Until the background round (and any asked for meanwhile) is done (tests)."""
        while self._round is not None and not self._round.done():
            await asyncio.wait({self._round})

    async def stop(self) -> None:
        """End the background round (shutdown)."""
        if self._round is not None:
            await cancel_and_wait([self._round])

    async def record(self, cid: str, position: int) -> None:
        """``cid`` was just told ``position`` (on joining the queue)."""
        told = {cid: f"{position}|{self.clock()!r}"}
        await self.console.store.hset(TOLD_KEY, told, ttl=TOLD_TTL)

    async def due(self, cid: str) -> None:
        """Tell ``cid`` its place in the next round (back in the queue, place not yet said)."""
        await self.console.store.hset(TOLD_KEY, {cid: "0|0"}, ttl=TOLD_TTL)

    async def tell(self) -> int:
        """One round unless another ran in this interval; how many citizens were told."""
        now = self.clock()
        slot = math.floor(now / self.interval)
        store = self.console.store
        if not await store.claim(f"{TOLD_KEY}:round:{slot}", 2 * self.interval):
            return 0
        # Told places first: an entry is recorded after it joined the queue,
        # so every entry read here that is still queued is in the order below.
        told = await store.hgetall(TOLD_KEY)
        order = await self.console.conversations.queue_order()
        queued = set(order)
        gone = [cid for cid in told if cid not in queued]
        online: int | None = None
        median: float | None = None
        updates: dict[str, str] = {}
        for position, cid in enumerate(order, start=1):
            last = told.get(cid)
            if last is None:
                continue  # not ready: its handoff record is being opened
            place, _, at = last.partition("|")
            if place == str(position) or now - _float(at) < self.interval:
                continue
            if online is None:
                online = await self.console.presence.online_count()
                median = await self.estimator.median_wait()
            if online == 0:
                # A new place means nothing with nobody to serve it: the citizen
                # was told nobody is online; the place goes out once agents are.
                continue
            minutes = Estimator.minutes_for(position, online, median)
            message = texts.queue_position(position, minutes)
            try:
                await self.console.hub.push(cid, [message])
            except Exception as exc:  # one citizen's channel refusing stops no one else
                # The notice is in the transcript (the widget and REST read it
                # there); told, so a refusing channel is not asked every round.
                channel = cid.split(":", 1)[0]
                log.warning("place notice on %s not delivered: %s", channel, type(exc).__name__)
            updates[cid] = f"{position}|{now!r}"
        if updates:
            await store.hset(TOLD_KEY, updates, ttl=TOLD_TTL)
        if gone:
            await store.hdel(TOLD_KEY, *gone)
        return len(updates)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0
