"""The supervisor's live view: every conversation active lately, in any state."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import sqlalchemy as sa

from bot.console.context import Console
from bot.console.queue import CHANNEL_NAMES
from bot.conversations import ConversationState
from bot.db.schema import transcripts

ACTIVE_WINDOW = dt.timedelta(minutes=30)
STATE_NAMES = {
    ConversationState.BOT: "智能助手",
    ConversationState.QUEUED: "排队中",
    ConversationState.WITH_AGENT: "人工服务中",
    ConversationState.CLOSED: "已结束",
}


async def recent_conversations(console: Console, limit: int = 100) -> list[tuple[str, str, Any]]:
    """(conversation id, channel, last message time), most recent first."""
    since = console.db.now() - ACTIVE_WINDOW
    last = sa.func.max(transcripts.c.created_at).label("last_at")
    stmt = (
        sa.select(transcripts.c.conversation_id, transcripts.c.channel, last)
        .where(transcripts.c.created_at >= since)
        .group_by(transcripts.c.conversation_id, transcripts.c.channel)
        .order_by(last.desc())
        .limit(limit)
    )
    async with console.db.read() as conn:
        rows = (await conn.execute(stmt)).all()
    return [(row.conversation_id, row.channel, row.last_at) for row in rows]


async def live_conversations(console: Console) -> list[dict[str, Any]]:
    items = []
    for cid, channel, last_at in await recent_conversations(console):
        conv = await console.conv(cid)
        state = conv.state
        last = last_at if isinstance(last_at, dt.datetime) else None
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=dt.UTC)  # SQLite keeps UTC without a zone
        items.append(
            {
                "conversation_id": cid,
                "channel": channel,
                "channel_name": CHANNEL_NAMES.get(channel, channel),
                "state": state.value,
                "state_name": STATE_NAMES[state],
                "agent_name": conv.agent_name if state is ConversationState.WITH_AGENT else None,
                "idle_seconds": int(time.time() - last.timestamp()) if last else None,
                "last_at": last.timestamp() if last else None,  # the console ticks from it
            }
        )
    return items
