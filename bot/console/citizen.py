"""The citizen's side of the handoff, handled by the front door rather than Rasa.

Hooks into the hub's router (``Router.hooks``): after a Rasa turn that
queued the conversation it opens the handoff record and tells the citizen
their place and wait, or offers a callback outside service hours or when
nobody is online. Before routing it answers the front door's own buttons and
words: cancel the queue, register a callback (then the phone number), rate
the agent and leave a comment.
"""

from __future__ import annotations

import json
import logging

from bot.console import texts
from bot.console.callback import Callbacks
from bot.console.desk import CITIZEN_CLAIM, SYSTEM_CLAIM, Desk
from bot.console.queue import position_of
from bot.conversations import Conversation, ConversationState
from bot.hub_routing import HandleResult
from bot.messages import CITIZEN_LEFT, InboundMessage, OutboundMessage

log = logging.getLogger(__name__)


def reply(*messages: OutboundMessage) -> HandleResult:
    return HandleResult(list(messages), "ok")


def is_cancel(msg: InboundMessage) -> bool:
    if msg.payload:
        return msg.payload == texts.CANCEL
    return (msg.text or "").strip().rstrip("。！!") in texts.CANCEL_WORDS


class HandoffHooks:
    """``settle`` / ``before_route`` / ``after_route`` of the hub's router."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.console = desk.console
        self.callbacks = Callbacks(desk)

    # --- after a Rasa turn ---------------------------------------------------
    async def after_route(
        self, msg: InboundMessage, state_before: ConversationState, result: HandleResult
    ) -> HandleResult:
        cid = msg.conversation_id
        await self.console.notifier.if_watched(cid)
        await self.console.notifier.if_live_view(cid)
        if state_before is ConversationState.QUEUED:
            return result
        if await self.console.state(cid) is not ConversationState.QUEUED:
            return result
        extra = await self.queued(cid)
        return HandleResult([*result.replies, *extra], result.status)

    async def queued_ack(self, msg: InboundMessage) -> list[OutboundMessage]:
        """A further message while queued: "passing you to an agent" only when
        an agent is online; with nobody online, say so (the message is kept for
        the agent who comes online) and offer the callback again."""
        if await self.console.presence.online_count() == 0:
            return [texts.kept_nobody_online()]
        return [texts.queued_ack()]

    async def queued(self, cid: str) -> list[OutboundMessage]:
        """The conversation was just queued by a handoff signal: record it (the
        SQL row, then its id in the store: Desk.open_row), tell the citizen."""
        handoff_id = await self.desk.open_row(cid, await self.console.conv(cid))
        hours = self.console.config.service_hours
        if not hours.is_open():
            await self.desk.leave_queue(cid, str(handoff_id), SYSTEM_CLAIM, "callback", "offered")
            return [texts.outside_hours(hours.label())]
        position = await position_of(self.console, cid) or 1
        await self.desk.notices.record(cid, position)
        await self.desk.queue_changed()
        if await self.console.presence.online_count() == 0:
            # No place in line with nobody to serve it: say so, and when agents
            # are expected; the callback first (issue 21).
            return [texts.nobody_online(hours.label())]
        return [texts.queue_position(position, await self.desk.estimator.minutes(position))]

    # --- before routing ------------------------------------------------------
    async def settle(self, conv: Conversation) -> Conversation:
        """A queued conversation's half-done transition finished (Desk.settle)."""
        return await self.desk.settle(conv.id, conv)

    async def before_route(self, msg: InboundMessage, conv: Conversation) -> HandleResult | None:
        cid = msg.conversation_id
        state = conv.state
        if msg.metadata.get(CITIZEN_LEFT) is True:
            await self.citizen_left(cid, conv)
            return HandleResult([], "ok")  # the citizen is gone: nothing to answer
        payload = msg.payload or ""
        if payload.startswith(texts.RATE) and conv.rating_pending:
            return await self.rate(msg, conv.rating_pending)
        if payload == texts.COMMENT and conv.rated_handoff:
            await self.console.conversations.ask_comment(cid)
            return reply(texts.system(texts.ASK_COMMENT))
        if conv.comment_pending and msg.text and not payload:
            return await self.comment(msg, conv.rated_handoff or "")
        callback = await self.callbacks.handle(msg, conv)
        if callback is not None:
            return callback
        if state is ConversationState.QUEUED and is_cancel(msg):
            return await self.cancel(msg, conv)
        if payload == texts.CANCEL and state is not ConversationState.WITH_AGENT:
            await self.console.conversations.clear_callback(cid)
            return reply(texts.system(texts.NOTHING_TO_CANCEL))
        return None

    async def cancel(self, msg: InboundMessage, conv: Conversation) -> HandleResult:
        cid = msg.conversation_id
        token = CITIZEN_CLAIM
        if await self.desk.leave_queue(cid, conv.handoff_id or "", token, "abandoned"):
            return reply(texts.system(texts.CANCELLED))
        return reply(texts.system(texts.ALREADY_JOINED))

    async def citizen_left(self, cid: str, conv: Conversation) -> None:
        """The citizen ended the conversation: out of the queue as by their own
        cancel, or the agent's chat closed as by the citizen."""
        if conv.state is ConversationState.QUEUED:
            handoff_id = conv.handoff_id or ""
            if await self.desk.leave_queue(cid, handoff_id, CITIZEN_CLAIM, "abandoned"):
                return
            conv = await self.console.conv(cid)  # an agent claimed it just now
        if conv.state is ConversationState.WITH_AGENT and conv.handoff_id:
            await self.desk.citizen_left(cid, conv)

    async def rate(self, msg: InboundMessage, handoff_id: str) -> HandleResult:
        payload = msg.payload or ""
        try:
            rating = int(json.loads(payload[len(texts.RATE) :] or "{}").get("rating"))
        except (ValueError, TypeError, AttributeError):
            return reply(texts.system("评分无效，请点击 1 到 5 分的按钮。"))
        if not 1 <= rating <= 5:
            return reply(texts.system("评分无效，请点击 1 到 5 分的按钮。"))
        await self.console.handoffs.rate(int(handoff_id), rating)
        await self.console.conversations.rated(msg.conversation_id, handoff_id)
        data = {"handoff_id": int(handoff_id), "rating": rating}
        await self.console.db.events.record(
            "handoff_rating", conversation_id=msg.conversation_id, data=data
        )
        await self.console.notifier.conversation_changed(msg.conversation_id, "rating")
        return reply(texts.rating_thanks())

    async def comment(self, msg: InboundMessage, handoff_id: str) -> HandleResult:
        await self.console.conversations.comment_taken(msg.conversation_id)
        if handoff_id:
            await self.console.handoffs.comment(int(handoff_id), (msg.text or "").strip()[:200])
            await self.console.hub.record(
                "handoff_comment", msg.conversation_id, {"handoff_id": int(handoff_id)}
            )
        return reply(texts.system(texts.COMMENT_THANKS))
