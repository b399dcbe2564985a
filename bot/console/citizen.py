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
import time

from bot.console import texts
from bot.console.callback import Callbacks
from bot.console.desk import CITIZEN_CLAIM, SYSTEM_CLAIM, Desk
from bot.console.queue import parse_summary, position_of
from bot.hub_routing import CONV_TTL, HandleResult, conv_key
from bot.messages import CITIZEN_LEFT, InboundMessage, OutboundMessage

log = logging.getLogger(__name__)


def reply(*messages: OutboundMessage) -> HandleResult:
    return HandleResult(list(messages), "ok")


def is_cancel(msg: InboundMessage) -> bool:
    if msg.payload:
        return msg.payload == texts.CANCEL
    return (msg.text or "").strip().rstrip("。！!") in texts.CANCEL_WORDS


class HandoffHooks:
    """``before_route`` / ``after_route`` of the hub's router."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.console = desk.console
        self.callbacks = Callbacks(desk)

    # --- after a Rasa turn ---------------------------------------------------
    async def after_route(
        self, msg: InboundMessage, state_before: str, result: HandleResult
    ) -> HandleResult:
        cid = msg.conversation_id
        await self.console.notifier.if_watched(cid)
        if state_before == "queued" or await self.console.state(cid) != "queued":
            return result
        extra = await self.queued(cid)
        return HandleResult([*result.replies, *extra], result.status)

    async def queued(self, cid: str) -> list[OutboundMessage]:
        """The conversation was just queued by a handoff signal: record it, tell the citizen."""
        conv = await self.console.conv(cid)
        channel = conv.get("channel") or cid.split(":", 1)[0]
        handoff_id = await self.console.handoffs.open(
            conversation_id=cid, channel=channel,
            reason=conv.get("handoff_reason") or "citizen_request",
            priority=conv.get("handoff_priority") or "normal",
            summary=parse_summary(conv.get("handoff_summary")),
        )  # fmt: skip
        fields = {"handoff_id": str(handoff_id), "callback": "", "told_position": ""}
        await self.console.store.hset(conv_key(cid), fields, ttl=CONV_TTL)
        hours = self.console.config.service_hours
        if not hours.is_open():
            await self.desk.leave_queue(cid, str(handoff_id), SYSTEM_CLAIM, "callback", "offered")
            return [texts.outside_hours(hours.label())]
        position = await position_of(self.console, cid) or 1
        await self.desk.notices.record(cid, position)
        await self.desk.queue_changed()
        if await self.console.presence.online_count() == 0:
            return [texts.nobody_online(position)]
        return [texts.queue_position(position, await self.desk.estimator.minutes(position))]

    # --- before routing ------------------------------------------------------
    async def before_route(self, msg: InboundMessage, state: str) -> HandleResult | None:
        conv = await self.console.conv(msg.conversation_id)
        if msg.metadata.get(CITIZEN_LEFT) is True:
            await self.citizen_left(msg.conversation_id, state, conv)
            return HandleResult([], "ok")  # the citizen is gone: nothing to answer
        payload = msg.payload or ""
        if payload.startswith(texts.RATE) and conv.get("rating_pending"):
            return await self.rate(msg, conv["rating_pending"])
        if payload == texts.COMMENT and conv.get("rated_handoff"):
            await self._set(msg, comment_pending="1")
            return reply(texts.system(texts.ASK_COMMENT))
        if conv.get("comment_pending") and msg.text and not payload:
            return await self.comment(msg, conv.get("rated_handoff", ""))
        callback = await self.callbacks.handle(msg, state, conv)
        if callback is not None:
            return callback
        if state == "queued" and is_cancel(msg):
            return await self.cancel(msg, conv)
        if payload == texts.CANCEL and state != "with_agent":
            await self.console.store.hdel(conv_key(msg.conversation_id), "callback")
            return reply(texts.system(texts.NOTHING_TO_CANCEL))
        return None

    async def cancel(self, msg: InboundMessage, conv: dict[str, str]) -> HandleResult:
        cid = msg.conversation_id
        token = CITIZEN_CLAIM
        if await self.desk.leave_queue(cid, conv.get("handoff_id", ""), token, "abandoned"):
            return reply(texts.system(texts.CANCELLED))
        return reply(texts.system(texts.ALREADY_JOINED))

    async def citizen_left(self, cid: str, state: str, conv: dict[str, str]) -> None:
        """The citizen ended the conversation: out of the queue as by their own
        cancel, or the agent's chat closed as by the citizen."""
        if state == "queued":
            handoff_id = conv.get("handoff_id", "")
            if await self.desk.leave_queue(cid, handoff_id, CITIZEN_CLAIM, "abandoned"):
                return
            conv = await self.console.conv(cid)  # an agent claimed it just now
        if conv.get("state") == "with_agent" and conv.get("handoff_id"):
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
        await self.console.store.hdel(conv_key(msg.conversation_id), "rating_pending")
        await self._set(msg, rated_handoff=handoff_id)
        data = {"handoff_id": int(handoff_id), "rating": rating}
        await self.console.db.events.record(
            "handoff_rating", conversation_id=msg.conversation_id, data=data
        )
        await self.console.notifier.conversation_changed(msg.conversation_id, "rating")
        return reply(texts.rating_thanks())

    async def comment(self, msg: InboundMessage, handoff_id: str) -> HandleResult:
        await self.console.store.hdel(conv_key(msg.conversation_id), "comment_pending")
        if handoff_id:
            await self.console.handoffs.comment(int(handoff_id), (msg.text or "").strip()[:200])
            await self.console.hub.router.record(
                "handoff_comment", msg.conversation_id, {"handoff_id": int(handoff_id)}
            )
        return reply(texts.system(texts.COMMENT_THANKS))

    async def _set(self, msg: InboundMessage, **fields: str) -> None:
        await self.console.store.hset(
            conv_key(msg.conversation_id),
            {**fields, "updated_at": f"{time.time():.3f}"},
            ttl=CONV_TTL,
        )
