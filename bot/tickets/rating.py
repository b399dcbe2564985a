"""The citizen's rating of a ticket result, answered by the front door itself.

A hub interceptor (``Hub.add_interceptor``) takes the rating buttons sent
with a result (``bot.tickets.payloads``) before Rasa sees them:

- the ticket must belong to the conversation that pressed the button
  (nobody can rate another citizen's ticket by forging a payload);
- 3 to 5 closes the ticket (``TicketRepo.rate``);
- 1 or 2 reopens it at once, then asks why: the citizen's next text message
  within ``COMMENT_WINDOW`` seconds is added to the ticket's timeline as a
  note by ``citizen`` (the "不补充了" button or any other button ends the wait).

Reopening first and taking the comment afterwards keeps the ticket safe when
the citizen never writes back; the pending comment is one store key with a
TTL, taken exactly once with ``DELETE``.

A bare digit 1-5 typed within ``RATING_WINDOW`` of a result notification
counts as pressing that rating button (WeChat forgets its numbered choices
after a day, and some citizens type instead of tapping), unless an agent
holds the conversation.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import TYPE_CHECKING

from bot.conversations import Conversations
from bot.db.errors import ConflictError, InvalidTransition, TicketNotFound
from bot.hub_routing import HandleResult
from bot.messages import Button, InboundMessage, OutboundMessage
from bot.tickets import payloads

if TYPE_CHECKING:
    from bot.db import Database
    from bot.store.base import SharedStore

log = logging.getLogger(__name__)

COMMENT_WINDOW = 600.0
RATING_WINDOW = 7 * 24 * 3600.0
_DIGIT = re.compile(r"^[1-5]$")
MAX_COMMENT = 1000

NOT_FOUND_TEXT = "没有找到可以评价的工单，请核对后重试。"
ALREADY_TEXT = "工单 {number} 已经评价过或暂时不能评价，感谢您的反馈。"
BUSY_TEXT = "系统繁忙，评价未能记录，请稍后再点一次评价按钮。"
THANKS_TEXT = "感谢您的评价！工单 {number} 已办结。如有新的问题，欢迎随时咨询。"
SORRY_TEXT = (
    "很抱歉办理结果没能让您满意，工单 {number} 已重新交办。\n"
    "请直接回复您不满意的原因（10分钟内发送的下一条消息会转交承办部门），"
    "也可以点击“不补充了”。"
)
COMMENT_TEXT = "已记录您的意见，并转交承办部门重新办理。办理结果会通过本渠道告知您。"
SKIPPED_TEXT = "好的。工单已重新交办，办理结果会通过本渠道告知您。"


def comment_key(conversation_id: str) -> str:
    return f"ticket:comment:{conversation_id}"


def awaiting_key(conversation_id: str) -> str:
    """The ticket whose result was last sent to this conversation, still unrated."""
    return f"ticket:awaiting_rating:{conversation_id}"


def _reply(text: str, *buttons: Button) -> HandleResult:
    return HandleResult([OutboundMessage(text=text, buttons=buttons, sender="system")], "ok")


class RatingInterceptor:
    """``await interceptor(msg)`` -> a result for ticket ratings, else ``None``."""

    def __init__(
        self, db: Database, store: SharedStore, conversations: Conversations | None = None
    ) -> None:
        self.db = db
        self.store = store
        #: Whose the conversation is (an agent's: a digit is meant for them).
        self.conversations = conversations or Conversations(store)

    async def __call__(self, msg: InboundMessage) -> HandleResult | None:
        payload = msg.payload
        if payload:
            if payloads.is_rate(payload):
                return await self._rate(msg, payloads.parse_rate(payload))
            if payloads.is_skip(payload):
                await self.store.delete(comment_key(msg.conversation_id))
                return _reply(SKIPPED_TEXT)
            await self.store.delete(comment_key(msg.conversation_id))  # another button
            return None
        text = unicodedata.normalize("NFKC", msg.text or "").strip()
        if not text:
            return None
        commented = await self._comment(msg, text)
        if commented is not None or not _DIGIT.match(text):
            return commented
        number = await self.store.get(awaiting_key(msg.conversation_id))
        if number is None or await self._with_agent(msg.conversation_id):
            return None  # nothing to rate, or the digit is meant for the agent
        return await self._rate(msg, payloads.RatePayload(number, int(text)))

    async def _with_agent(self, cid: str) -> bool:
        return (await self.conversations.state(cid)).with_agents

    async def _rate(self, msg: InboundMessage, parsed: payloads.RatePayload | None) -> HandleResult:
        cid = msg.conversation_id
        ticket = await self.db.tickets.get(parsed.number) if parsed else None
        if parsed is None or ticket is None or ticket.conversation_id != cid:
            log.info("ticket rating refused: no matching ticket for this conversation")
            return _reply(NOT_FOUND_TEXT)
        try:
            rated = await self.db.tickets.rate(parsed.number, parsed.rating, actor="citizen")
        except (InvalidTransition, TicketNotFound):
            await self.store.delete(awaiting_key(cid))
            return _reply(ALREADY_TEXT.format(number=parsed.number))
        except ConflictError:
            return _reply(BUSY_TEXT)
        await self.store.delete(awaiting_key(cid))
        await self._record(cid, rated.number, {"rating": parsed.rating, "status": rated.status})
        if rated.status == "reopened":
            await self.store.set(comment_key(cid), rated.number, COMMENT_WINDOW)
            return _reply(
                SORRY_TEXT.format(number=rated.number), payloads.skip_button(rated.number)
            )
        return _reply(THANKS_TEXT.format(number=rated.number))

    async def _comment(self, msg: InboundMessage, text: str) -> HandleResult | None:
        key = comment_key(msg.conversation_id)
        number = await self.store.get(key)
        if number is None or not await self.store.delete(key):
            return None  # no comment awaited, or another replica took it
        comment = text[:MAX_COMMENT]
        try:
            await self.db.tickets.add_note(number, f"市民不满意原因：{comment}", actor="citizen")
        except (TicketNotFound, ValueError, ConflictError) as exc:
            log.warning("citizen comment on ticket %s not recorded: %s", number, type(exc).__name__)
            return None
        await self._record(msg.conversation_id, number, {"comment": True}, "ticket.commented")
        return _reply(COMMENT_TEXT)

    async def _record(
        self, cid: str, number: str, data: dict[str, object], kind: str = "ticket.rated"
    ) -> None:
        try:
            await self.db.events.record(kind, conversation_id=cid, ticket_number=number, data=data)
        except Exception as exc:  # statistics never break the conversation
            log.error("event %s not recorded: %s", kind, type(exc).__name__)
