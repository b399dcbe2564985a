"""The console's live picture: who waits, who is being served, who is present."""

from __future__ import annotations

import time
from typing import Any

from bot.console.context import Console
from bot.console.queue import CHANNEL_NAMES, PRIORITY_NAMES, REASON_NAMES, queue_page


async def active_items(console: Console) -> list[dict[str, Any]]:
    """Conversations held by an agent now (open, claimed SQL rows)."""
    items = []
    for row in await console.handoffs.open_rows():
        if row.claimed_by is None:
            continue
        conv = await console.conv(row.conversation_id)
        items.append(
            {
                "conversation_id": row.conversation_id,
                "channel": row.channel,
                "channel_name": CHANNEL_NAMES.get(row.channel, row.channel),
                "agent_id": conv.agent_user_id,
                "agent_name": conv.agent_name or row.claimed_by,
                "agent_username": row.claimed_by,
                "claimed_at": row.claimed_at.timestamp() if row.claimed_at else None,
                "priority": row.priority,
                "priority_name": PRIORITY_NAMES.get(row.priority, row.priority),
                "reason_name": REASON_NAMES.get(row.reason, row.reason),
                "summary": row.summary,
            }
        )
    return items


async def agents(console: Console) -> list[dict[str, Any]]:
    return [
        {
            "id": a.user_id,
            "username": a.username,
            "display_name": a.display_name,
            "role": a.role,
            "status": a.status,
        }
        for a in await console.presence.all()
    ]


async def snapshot(
    console: Console,
    offset: int = 0,
    limit: int | None = None,
    groups: frozenset[str] | None = None,
) -> dict[str, Any]:
    """The queue a page at a time (``items`` from ``offset``, ``total``), who is held, who is here.

    ``groups``: the viewer's agent groups (None: a supervisor, every entry;
    see :func:`bot.console.queue.queue_page`). Sockets get the first page
    (``CONSOLE_QUEUE_PAGE``); the console asks
    ``GET /console/api/queue?offset=&limit=`` for more.
    """
    return {
        "type": "queue",
        "at": time.time(),
        **await queue_page(console, offset, limit, groups),
        "active": await active_items(console),
        "agents": await agents(console),
    }
