"""Telling the citizen a ticket's result and its steps on the channel the ticket came from.

``Notifier.notify_result(ticket)`` sends the department's reply with the
1-5 rating buttons through ``hub.notify(ticket.conversation_id, ...)`` (web
widget: transcript and live socket; WeChat: a customer-service message
inside the 48-hour window, a template message outside it; Telegram:
sendMessage with an inline keyboard; REST: kept for the sender's next
request) and records ``notified`` (with ``via``) on the ticket's timeline.

A failed delivery (WeChat refused both ways, the channel is not configured
on this front door...) is recorded as the event ``ticket.notify_failed``;
the deadline sweep tries again a few times, and the console shows the
ticket as "未送达，请电话告知" so an agent can phone.

``Notifier.notify_steps(ticket, after_version)`` tells the citizen of each
step (bot/tickets/notices.py) that a change put on the timeline: once per
timeline event (a store claim ``ticket:told:<number>:<version>``, and the
timeline entry ``told`` or ``not_told`` that names the event's version).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.console.delivery import OTHER_REASON, REASON_TEXTS
from bot.db import workflow
from bot.db.errors import ConflictError, InvalidTransition, TicketNotFound
from bot.db.models import TYPE_NAMES, Ticket, TicketEvent
from bot.messages import OutboundMessage
from bot.tickets.notices import STEP_KINDS, result_notice, step_notice
from bot.tickets.payloads import rating_buttons
from bot.tickets.rating import RATING_WINDOW, awaiting_key

if TYPE_CHECKING:
    from bot.db import Database
    from bot.hub import Hub

log = logging.getLogger(__name__)

Plan = Callable[[workflow.State, dt.datetime], workflow.Change]
#: How long the claim of one step's notice is kept (the timeline keeps it for good).
TOLD_TTL = 90 * 24 * 3600.0


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


def was_told(ticket: Ticket, version: int) -> bool:
    """True when the timeline records a notice (sent or not) of event ``version``."""
    return any(
        e.kind in ("told", "not_told") and e.data.get("event") == version for e in ticket.events
    )


def told_key(number: str, version: int) -> str:
    """The store key that lets one notice of a ticket event go out, once."""
    return f"ticket:told:{number}:{version}"


class Notifier:
    """Delivers ticket results and steps through the hub and records the outcome."""

    def __init__(self, hub: Hub, db: Database) -> None:
        self.hub = hub
        self.db = db
        #: What the citizen replies to read the result and rate it (bot/tickets/keyword.py).
        self.keyword = hub.settings.wechat_notices.keyword

    async def notify_result(self, ticket: Ticket) -> bool:
        """Tell the citizen the result of a replied ticket; True when it reached them.

        WeChat: a customer-service message inside the 48-hour window, a
        template message outside it; other channels: their ordinary push.
        """
        channel = ticket.conversation_id.split(":", 1)[0]
        if channel not in self.hub.channels:
            await self._record("ticket.notify_failed", ticket, {"reason": "channel_unavailable"})
            log.warning(
                "ticket %s: channel %s not available for the result", ticket.number, channel
            )
            return False
        messages = result_messages(ticket, self.db.routing.category_name(ticket.category))
        notice = result_notice(ticket.number, self._replied_at(ticket), self.keyword)
        delivery = await self.hub.notify(ticket.conversation_id, messages, notice)
        if not delivery.ok:  # the transcript keeps the text; the sweep tries again
            log.warning("ticket %s: result not delivered: %s", ticket.number, delivery.reason)
            await self._record("ticket.notify_failed", ticket, {"reason": delivery.reason})
            return False
        try:
            await self.db.tickets.mark_notified(
                ticket.number, actor="system", channel=channel, via=delivery.via
            )
        except (InvalidTransition, TicketNotFound, ConflictError) as exc:
            log.info("ticket %s: notification not recorded: %s", ticket.number, exc)
        await self._record("ticket.notified", ticket, {"channel": channel, "via": delivery.via})
        try:  # a bare "1".."5" typed later still rates this ticket (bot.tickets.rating)
            await self.hub.store.set(
                awaiting_key(ticket.conversation_id), ticket.number, RATING_WINDOW
            )
        except Exception as exc:
            log.warning(
                "ticket %s: rating shortcut not stored: %s", ticket.number, type(exc).__name__
            )
        return True

    async def notify_steps(self, ticket: Ticket, after_version: int) -> None:
        """Tell the citizen of each step on the timeline after ``after_version``."""
        for event in list(ticket.events):
            if event.version > after_version and event.kind in STEP_KINDS:
                await self.notify_step(ticket, event)

    async def notify_step(self, ticket: Ticket, event: TicketEvent) -> bool | None:
        """One step's notice, once per event (a store claim, and the timeline's
        ``told``/``not_told`` entry); ``None`` when it was not for this call to
        send, else whether it reached the citizen. Never raises: the change
        that made the step is done whatever happens to its notice."""
        try:
            return await self._notify_step(ticket, event)
        except Exception as exc:
            log.error("ticket %s: step notice failed: %s", ticket.number, type(exc).__name__)
            return False

    async def _notify_step(self, ticket: Ticket, event: TicketEvent) -> bool | None:
        built = step_notice(ticket.number, event, ticket.department_name, ticket.deadline)
        if built is None or was_told(ticket, event.version):
            return None
        if not await self.hub.store.claim(told_key(ticket.number, event.version), TOLD_TTL):
            return None  # another request or replica tells this one
        message, notice = built
        channel = ticket.conversation_id.split(":", 1)[0]
        delivery = await self.hub.notify(ticket.conversation_id, [message], notice)
        data: dict[str, object] = {"about": event.kind, "channel": channel}
        if delivery.ok:
            await self._record("ticket.told", ticket, data | {"via": delivery.via})
            await self._timeline(
                ticket, workflow_told(event.kind, event.version, channel, delivery.via, None)
            )
        else:
            log.warning(
                "ticket %s: %s notice not delivered: %s", ticket.number, event.kind, delivery.reason
            )
            await self._record("ticket.not_told", ticket, data | {"reason": delivery.reason})
            await self._timeline(
                ticket, workflow_told(event.kind, event.version, channel, None, delivery.reason)
            )
        return delivery.ok

    async def _timeline(self, ticket: Ticket, plan: Plan) -> None:
        try:
            await self.db.tickets.record_notice(ticket.number, plan)
        except (InvalidTransition, TicketNotFound, ConflictError) as exc:
            log.info("ticket %s: notice not recorded: %s", ticket.number, exc)

    @staticmethod
    def _replied_at(ticket: Ticket) -> dt.datetime:
        for event in reversed(ticket.events):
            if event.kind == "replied":
                return event.at
        return ticket.updated_at

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


def workflow_told(
    about: str, version: int, channel: str, via: str | None, reason: str | None
) -> Plan:
    """The timeline step for one notice: ``told`` (``via``) or ``not_told`` (``reason``)."""
    if via is not None:
        return lambda s, _now: workflow.told(s, about, version, channel, via)
    code = reason or "error"
    text = REASON_TEXTS.get(code, OTHER_REASON)
    return lambda s, _now: workflow.not_told(s, about, version, channel, code, text)
