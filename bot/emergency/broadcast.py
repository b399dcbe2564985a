"""The optional broadcast of the emergency notice to citizens active recently.

Who: every conversation with a citizen's message in the last
``EMERGENCY_BROADCAST_HOURS`` (24 by default), from the transcripts. One
message each (the labelled notice), within each channel's rules:

- WeChat: only inside the 48-hour customer-service window. A citizen whose
  last message is older is not sent anything (``outside_window``); WeChat's
  own refusal (errcode 45015) is recorded the same way.
- Telegram: through the channel's sender, whose rate limiter paces every
  Bot API call (about one message a second per chat, thirty overall, one
  retry after a 429); one conversation after the other. A flood that outlasts
  the retry is recorded ``rate_limited``; a blocked bot ``blocked``.
- Web widget: written to the conversation's transcript and announced to the
  session's sockets on any replica (an open widget shows it at once, a
  widget that reconnects later finds it in its history).
- REST: kept in the channel's outbox and given with the client's next request.
- A channel not enabled on this front door: ``no_channel``.

A citizen who got the notice does not get it again on their next reply.
Every conversation's outcome is a row of ``emergency_sends`` (sent, or why
not); the whole run is one audit record (``emergency_broadcast``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.db.schema import transcripts
from bot.emergency import EmergencyState
from bot.emergency.records import PeriodRepo
from bot.messages import OutboundMessage

if TYPE_CHECKING:
    from bot.db.database import Database
    from bot.hub import Hub

logger = logging.getLogger(__name__)

WECHAT_WINDOW = dt.timedelta(hours=48)


@dataclass(frozen=True)
class Recipient:
    conversation_id: str
    channel: str
    last_message_at: dt.datetime


async def recent_citizens(db: Database, since: dt.datetime) -> list[Recipient]:
    """Conversations with a citizen's message since ``since``, latest first."""
    last = sa.func.max(transcripts.c.created_at).label("last")
    stmt = (
        sa.select(transcripts.c.conversation_id, transcripts.c.channel, last)
        .where(transcripts.c.direction == "in")
        .where(transcripts.c.sender == "citizen")
        .where(transcripts.c.created_at >= since)
        .group_by(transcripts.c.conversation_id, transcripts.c.channel)
        .order_by(last.desc())
    )
    async with db.read() as conn:
        rows = (await conn.execute(stmt)).all()
    out = []
    for cid, channel, at in rows:
        if isinstance(at, str):  # SQLite's MAX() gives the stored text
            at = dt.datetime.fromisoformat(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        out.append(Recipient(str(cid), str(channel), at))
    return out


async def broadcast(
    hub: Hub,
    db: Database,
    state: EmergencyState,
    *,
    window_hours: float,
    actor: str,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Send the notice to citizens active in the window; the counts by outcome."""
    if not state.active or state.period_id is None:
        raise ValueError("the emergency mode is off: nothing to broadcast")
    now = now or dt.datetime.now(dt.UTC)
    recipients = await recent_citizens(db, now - dt.timedelta(hours=window_hours))
    periods = PeriodRepo(db)
    message = OutboundMessage(text=state.banner, sender="system")
    outcomes: Counter[str] = Counter()
    for person in recipients:
        ok, reason = await _send_one(hub, person, message, now)
        if ok:  # it has the notice: its next reply does not repeat it
            await hub.emergency.first_reply(state, person.conversation_id)
        outcomes["sent" if ok else reason] += 1
        try:
            await periods.add_send(
                state.period_id, person.conversation_id, person.channel, ok, reason
            )
        except Exception as exc:  # the next citizen still gets the notice
            logger.error("emergency send not recorded: %s", type(exc).__name__)
    summary = {"recipients": len(recipients), "outcomes": dict(outcomes)}
    await db.audit.record(
        actor, "emergency_broadcast", f"emergency:{state.period_id}",
        detail={"window_hours": window_hours, **summary},
    )  # fmt: skip
    return summary


async def _send_one(
    hub: Hub, person: Recipient, message: OutboundMessage, now: dt.datetime
) -> tuple[bool, str]:
    cid, channel = person.conversation_id, person.channel
    if channel not in hub.channels:
        return False, "no_channel"
    if channel == "wechat" and now - person.last_message_at > WECHAT_WINDOW:
        return False, "outside_window"
    try:
        if channel == "webchat":
            await hub.push(cid, [message])  # the widget reads it from the transcript
            return True, "sent"
        delivery = await hub.deliver(cid, [message])
        if delivery.ok:
            await hub.transcribe(cid, [message])
            return True, "sent"
        return False, delivery.reason or "error"
    except Exception as exc:  # one channel's failure does not stop the broadcast
        logger.error("emergency notice to %s failed: %s", channel, type(exc).__name__)
        return False, "error"
