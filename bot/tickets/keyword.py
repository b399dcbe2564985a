"""The reply keyword that opens a ticket's result (default 查看结果).

A result that reached the citizen as a WeChat template message (outside the
48-hour window) shows only the ticket number and "回复“查看结果”查看答复并评价".
When the citizen replies with the keyword, this hub interceptor answers
before Rasa: the latest answered, unrated ticket of the conversation comes
back with its full answer and the 1-5 rating buttons (and a bare digit rates
it, bot/tickets/rating.py). The citizen's reply also reopens WeChat's window,
so the answer goes back as an ordinary reply. A ticket still being worked on
gets its progress and expected date instead; a conversation without tickets,
or one an agent holds, is left to Rasa and the agent.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import TYPE_CHECKING

from bot.conversations import Conversations
from bot.db.models import Ticket
from bot.hub_routing import HandleResult
from bot.messages import InboundMessage, OutboundMessage
from bot.tickets.notices import day_text
from bot.tickets.notify import result_messages
from bot.tickets.rating import RATING_WINDOW, awaiting_key

if TYPE_CHECKING:
    from bot.db import Database
    from bot.store.base import SharedStore

log = logging.getLogger(__name__)

_EDGES = " \t\r\n。.!！?？\"'“”「」"

IN_PROGRESS_TEXT = "您的工单 {number} 正在由{department}办理{due}，有结果会第一时间告诉您。"
CLOSED_TEXT = "您的工单 {number} 已办结。如有新的问题，欢迎随时咨询。"


class ResultKeyword:
    """``await interceptor(msg)`` -> the result for the keyword, else ``None``."""

    def __init__(
        self,
        db: Database,
        store: SharedStore,
        keyword: str,
        conversations: Conversations | None = None,
    ) -> None:
        self.db = db
        self.store = store
        self.keyword = _normal(keyword)
        self.conversations = conversations or Conversations(store)

    async def __call__(self, msg: InboundMessage) -> HandleResult | None:
        if msg.payload or _normal(msg.text or "") != self.keyword:
            return None
        cid = msg.conversation_id
        if (await self.conversations.state(cid)).with_agents:
            return None  # the agent holding the conversation reads it
        tickets = await self.db.tickets.for_conversation(cid, limit=5)
        if not tickets:
            return None
        chosen = next((t for t in tickets if t.status == "replied"), tickets[0])
        ticket = await self.db.tickets.get(chosen.number)
        if ticket is None:
            return None
        await self._record(ticket)
        return HandleResult(await self._answer(ticket), "ok")

    async def _answer(self, ticket: Ticket) -> list[OutboundMessage]:
        if ticket.status == "replied":
            await self.store.set(awaiting_key(ticket.conversation_id), ticket.number, RATING_WINDOW)
            return result_messages(ticket, self.db.routing.category_name(ticket.category))
        if ticket.is_open:
            date = day_text(ticket.deadline)
            due = f"，预计{date}前答复" if date else ""
            text = IN_PROGRESS_TEXT.format(
                number=ticket.number, department=ticket.department_name, due=due
            )
        else:
            text = CLOSED_TEXT.format(number=ticket.number)
            if ticket.last_reply:
                text += f"\n答复内容：{ticket.last_reply}"
        return [OutboundMessage(text=text, sender="system")]

    async def _record(self, ticket: Ticket) -> None:
        try:
            await self.db.events.record(
                "ticket.result_keyword",
                conversation_id=ticket.conversation_id,
                ticket_number=ticket.number,
                data={"status": ticket.status},
            )
        except Exception as exc:  # statistics never break the conversation
            log.error("event ticket.result_keyword not recorded: %s", type(exc).__name__)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip(_EDGES)
