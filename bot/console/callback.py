"""Callback registration instead of waiting in vain.

Offered outside service hours, when nobody is online or after a long wait:
the citizen presses "登记回电", the front door asks for a phone number, and
the next message holding one creates a ticket of type ``callback`` (its
idempotency key comes from the handoff, so a repeated message creates no
second ticket). Callbacks are never anonymous.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from bot.console import texts
from bot.console.desk import SYSTEM_CLAIM, Desk
from bot.console.queue import REASON_NAMES
from bot.conversations import Conversation, ConversationState
from bot.hub_routing import HandleResult
from bot.messages import InboundMessage, OutboundMessage
from bot.privacy import normalize_phone

log = logging.getLogger(__name__)

_MOBILE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}\d{7,8})(?!\d)")


def find_phone(text: str | None) -> str | None:
    """A mobile or landline number in the citizen's message, digits only."""
    flat = re.sub(r"[\s\-()（）]", "", unicodedata.normalize("NFKC", text or ""))
    match = _MOBILE.search(flat) or _LANDLINE.search(flat)
    if match is None:
        return None
    try:
        return normalize_phone(match.group(1))
    except ValueError:
        return None


def _reply(*messages: OutboundMessage) -> HandleResult:
    return HandleResult(list(messages), "ok")


def _is_cancel(msg: InboundMessage) -> bool:
    if msg.payload:
        return msg.payload == texts.CANCEL
    return (msg.text or "").strip().rstrip("。！!") in texts.CANCEL_WORDS


class Callbacks:
    """The callback dialogue: offer taken, phone asked, ticket created."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.console = desk.console

    async def handle(self, msg: InboundMessage, conv: Conversation) -> HandleResult | None:
        state = conv.state
        stage = conv.callback
        if msg.payload == texts.CALLBACK:
            if state is ConversationState.WITH_AGENT:
                return _reply(texts.system(texts.ALREADY_JOINED))
            await self._stage(msg, "awaiting_phone")
            return _reply(texts.system(texts.ASK_PHONE))
        if stage != "awaiting_phone":
            return None
        if state is ConversationState.WITH_AGENT:
            await self._stage(msg, "")
            return None
        if _is_cancel(msg):
            await self._stage(msg, "")
            queued = state is ConversationState.QUEUED
            kept = texts.CALLBACK_KEPT_QUEUED if queued else texts.CALLBACK_CANCELLED
            return _reply(texts.system(kept))
        phone = find_phone(msg.text)
        if phone is None:
            return _reply(texts.system(texts.PHONE_AGAIN, texts.BACK_BUTTON))
        return await self.register(msg, conv, phone)

    async def _stage(self, msg: InboundMessage, stage: str) -> None:
        await self.console.conversations.set_callback(msg.conversation_id, stage)

    async def register(self, msg: InboundMessage, conv: Conversation, phone: str) -> HandleResult:
        cid = msg.conversation_id
        if conv.state is ConversationState.QUEUED:
            handoff_id = conv.handoff_id or ""
            if not await self.desk.leave_queue(cid, handoff_id, SYSTEM_CLAIM, "callback"):
                await self._stage(msg, "")
                return _reply(texts.system(texts.ALREADY_JOINED))
        else:
            handoff_id = conv.callback_handoff or ""
            if handoff_id:
                await self.console.handoffs.set_outcome(int(handoff_id), "callback")
        number = await self._ticket(cid, handoff_id, phone)
        await self._stage(msg, "")
        await self.console.hub.record(
            "handoff_callback", cid, {"handoff_id": handoff_id, "ticket": number}
        )
        return _reply(texts.callback_created(number))

    async def _ticket(self, cid: str, handoff_id: str, phone: str) -> str:
        row = await self.console.handoffs.get(int(handoff_id)) if handoff_id else None
        summary = row.summary if row is not None else {}
        raw_slots = summary.get("slots")
        slots = raw_slots if isinstance(raw_slots, dict) else {}
        said = [str(m) for m in summary.get("last_messages") or [] if m]
        reason = REASON_NAMES.get(row.reason, "") if row is not None else ""
        description = "市民请求人工客服回电。" + (f"转人工原因：{reason}。" if reason else "")
        if said:
            description += "市民所述：" + "；".join(said)[-1500:]
        routing = self.console.db.routing
        ticket, created = await self.console.db.tickets.create(
            idempotency_key=f"callback:{cid}:{handoff_id or 'none'}",
            type="callback",
            category=routing.classify(" ".join(said)),
            description=description,
            location=str(slots.get("complaint_where") or "") or None,
            occurred_at=None,
            channel=cid.split(":", 1)[0],
            conversation_id=cid,
            contact_name=None,
            contact_phone=phone,
            priority=row.priority if row is not None and row.priority != "normal" else "normal",
            actor="front-door",
        )
        if created:
            log.info("callback ticket %s registered", ticket.number)
        return ticket.number
