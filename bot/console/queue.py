"""The handoff queue as agents and citizens see it.

Order is the hub's sorted set ``handoff:queue`` (urgent first, then oldest).
Citizens are told their place and an estimated wait whenever it changes;
the estimate uses the median time to claim over the last two hours and
the number of agents online, and says so honestly when there is no data.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import statistics
import time
from typing import Any

from bot.console import texts
from bot.console.context import Console
from bot.hub_routing import CONV_TTL, HANDOFF_QUEUE, conv_key, handoff_score

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
}
PRIORITY_NAMES = {"urgent": "紧急", "high": "较急", "normal": "普通"}


def claim_key(handoff_id: str) -> str:
    """Whoever sets this key first (SET NX) owns the queue entry: an agent or the citizen."""
    return f"handoff:claim:{handoff_id}"


def front_score(priority: str, first_queued_at: float) -> float:
    """Back into the queue ahead of everyone queued later with the same priority."""
    return handoff_score(priority, first_queued_at - 1e9)


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
    channel = conv.get("channel") or cid.split(":", 1)[0]
    priority = conv.get("handoff_priority") or "normal"
    reason = conv.get("handoff_reason") or ""
    queued_at = float(conv.get("queued_at") or now)
    return {
        "conversation_id": cid,
        "position": position,
        "channel": channel,
        "channel_name": CHANNEL_NAMES.get(channel, channel),
        "priority": priority,
        "priority_name": PRIORITY_NAMES.get(priority, priority),
        "reason": reason,
        "reason_name": REASON_NAMES.get(reason, reason or "转人工"),
        "summary": parse_summary(conv.get("handoff_summary")),
        "queued_at": queued_at,
        "waiting_seconds": max(0, int(now - queued_at)),
        "tail": await tail(console, cid),
        "ready": bool(conv.get("handoff_id")),
    }


async def queue_items(console: Console) -> list[dict[str, Any]]:
    now = time.time()
    order = await console.store.zrange(HANDOFF_QUEUE)
    return [await queue_item(console, cid, i, now) for i, cid in enumerate(order, start=1)]


async def position_of(console: Console, conversation_id: str) -> int | None:
    order = await console.store.zrange(HANDOFF_QUEUE)
    return order.index(conversation_id) + 1 if conversation_id in order else None


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
        median = await self.median_wait()
        if median is None or online == 0:
            return None
        rounds = math.ceil(position / online)
        return math.ceil(median * rounds / 60)


async def tell_positions(console: Console, estimator: Estimator) -> int:
    """Tell every queued citizen whose place changed; returns how many were told.

    A claim key per (entry, place) makes each message go out once even when
    several replicas react to the same change.
    """
    order = await console.store.zrange(HANDOFF_QUEUE)
    online = await console.presence.online_count()
    told = 0
    for position, cid in enumerate(order, start=1):
        conv = await console.conv(cid)
        handoff_id = conv.get("handoff_id")
        if not handoff_id or conv.get("told_position") == str(position):
            continue
        if not await console.store.claim(f"handoff:told:{handoff_id}:{position}", TOLD_TTL):
            continue
        await console.store.hset(conv_key(cid), {"told_position": str(position)}, ttl=CONV_TTL)
        if online == 0:
            message = texts.nobody_online(position)
        else:
            message = texts.queue_position(position, await estimator.minutes(position))
        await console.hub.push(cid, [message])
        told += 1
    return told
