"""Telling the citizen a ticket's result on the channel the ticket came from.

``Notifier.notify_result(ticket)`` pushes the department's reply with the
1-5 rating buttons through ``hub.push(ticket.conversation_id, ...)`` (web
widget: transcript and live socket; WeChat: customer-service message;
Telegram: sendMessage with an inline keyboard; REST: kept for the sender's
next request) and records ``notified`` on the ticket's timeline.

A failed delivery (WeChat answers 45015 when the citizen has been silent for
48 hours, the channel is not configured on this front door...) is recorded
as the event ``ticket.notify_failed``; the deadline sweep tries again a few
times, and the console shows the ticket as "未告知" so an agent can phone.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.db.errors import ConflictError, InvalidTransition, TicketNotFound
from bot.db.models import TYPE_NAMES, Ticket
from bot.messages import OutboundMessage
from bot.tickets.payloads import rating_buttons
from bot.tickets.rating import RATING_WINDOW, awaiting_key

if TYPE_CHECKING:
    from bot.db import Database
    from bot.hub import Hub

log = logging.getLogger(__name__)


def result_text(ticket: Ticket, category_name: str) -> str:
    """The notification: which ticket, who answered, the answer, then the question."""
    kind = TYPE_NAMES.get(ticket.type, "诉求")
    return (
        f"【办理结果】您的{kind}工单 {ticket.number}（{category_name}）"
        f"已由{ticket.department_name}答复：\n{ticket.last_reply or ''}\n\n"
        "请您对本次办理结果进行评价："
    )


def result_messages(ticket: Ticket, category_name: str) -> list[OutboundMessage]:
    buttons = rating_buttons(ticket.number)
    return [
        OutboundMessage(text=result_text(ticket, category_name), buttons=buttons, sender="system")
    ]


def was_notified(ticket: Ticket) -> bool:
    """True when a ``notified`` event follows the latest reply (timeline loaded)."""
    for event in reversed(ticket.events):
        if event.kind == "notified":
            return True
        if event.kind == "replied":
            return False
    return False


class Notifier:
    """Delivers ticket results through the hub and records the outcome."""

    def __init__(self, hub: Hub, db: Database) -> None:
        self.hub = hub
        self.db = db

    async def notify_result(self, ticket: Ticket) -> bool:
        """Push the result of a replied ticket; True when it was handed to the channel."""
        channel = ticket.conversation_id.split(":", 1)[0]
        if channel not in self.hub.channels:
            await self._record("ticket.notify_failed", ticket, {"reason": "channel_unavailable"})
            log.warning(
                "ticket %s: channel %s not available for the result", ticket.number, channel
            )
            return False
        messages = result_messages(ticket, self.db.routing.category_name(ticket.category))
        try:
            await self.hub.push(ticket.conversation_id, messages)
        except Exception as exc:  # the channel's API refused; the transcript keeps the text
            log.warning("ticket %s: result not delivered: %s", ticket.number, type(exc).__name__)
            await self._record("ticket.notify_failed", ticket, {"reason": type(exc).__name__})
            return False
        try:
            await self.db.tickets.mark_notified(ticket.number, actor="system", channel=channel)
        except (InvalidTransition, TicketNotFound, ConflictError) as exc:
            log.info("ticket %s: notification not recorded: %s", ticket.number, exc)
        await self._record("ticket.notified", ticket, {"channel": channel})
        try:  # a bare "1".."5" typed later still rates this ticket (bot.tickets.rating)
            await self.hub.store.set(
                awaiting_key(ticket.conversation_id), ticket.number, RATING_WINDOW
            )
        except Exception as exc:
            log.warning(
                "ticket %s: rating shortcut not stored: %s", ticket.number, type(exc).__name__
            )
        return True

    async def _record(self, kind: str, ticket: Ticket, data: dict[str, object]) -> None:
        try:
            await self.db.events.record(
                kind,
                conversation_id=ticket.conversation_id,
                ticket_number=ticket.number,
                data=data,
            )
        except Exception as exc:
            log.error("event %s not recorded: %s", kind, type(exc).__name__)
