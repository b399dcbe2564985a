"""Outgoing Telegram traffic: replies, pushed messages, callback answers.

One chat's messages are sent one after another under a per-chat lock; the
bot's rate limiter paces them. Telegram errors never propagate: a blocked
bot (403), a flood that outlasts the one retry or any other API error is
logged without the message content, counted and recorded as an event.
"""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.messages import OutboundMessage, conversation_id_for
from channels.base import image_as_text
from channels.telegram._bot import BotClient
from channels.telegram._limiter import KeyedLocks
from channels.telegram._parse import CHANNEL
from channels.telegram._render import CallbackCodec, Outgoing, plan_sends

logger = logging.getLogger(__name__)

#: Records a statistics event: (kind, conversation id, data); ``InboundPort.record_event``.
RecordEvent = Callable[[str, str | None, dict[str, Any]], Awaitable[None]]


class TelegramSender:
    """Sends rendered messages through the Bot API; never raises."""

    def __init__(
        self, client: BotClient | None, codec: CallbackCodec, record_event: RecordEvent
    ) -> None:
        self.client = client
        self.codec = codec
        self._record_event = record_event
        #: Failed deliveries by kind ("Forbidden", "RetryAfter", ...), for diagnostics.
        self.failures: Counter[str] = Counter()
        self._locks = KeyedLocks()

    async def send(self, chat_id: int, messages: Sequence[OutboundMessage]) -> str | None:
        """Deliver ``messages`` to one chat, in order; the kind of the first
        failure ("Forbidden", "RetryAfter", "BadRequest", ...) or None."""
        if self.client is None:
            await self._record(chat_id, "NotConfigured")
            return "NotConfigured"
        failed: str | None = None
        async with self._locks.hold(chat_id):
            for item in plan_sends(messages):
                go_on, kind = await self._send_one(self.client, chat_id, item)
                failed = failed or kind
                if not go_on:
                    break
        return failed

    async def answer_callback(self, query_id: str) -> None:
        """Stop the spinner on a pressed button."""
        if self.client is None:
            return
        try:
            await self.client.bot.answer_callback_query(query_id)
        except TelegramError as exc:  # e.g. "query is too old" on a redelivery
            logger.info("telegram: answerCallbackQuery failed: %s", type(exc).__name__)

    async def _send_one(
        self, client: BotClient, chat_id: int, item: Outgoing
    ) -> tuple[bool, str | None]:
        """Send one part; (False when the rest of the batch cannot get through,
        the kind of failure or None)."""
        try:
            await self._post(client, chat_id, item)
        except (Forbidden, RetryAfter) as exc:  # blocked, or flooded even after a retry
            await self._record(chat_id, type(exc).__name__, exc)
            return False, type(exc).__name__
        except TelegramError as exc:
            await self._record(chat_id, type(exc).__name__, exc)
            return True, type(exc).__name__
        except Exception as exc:  # e.g. the store behind long button payloads is down
            logger.error("telegram: send to chat %s failed\n%s", chat_id, frames(exc))
            await self._record(chat_id, type(exc).__name__)
            return True, type(exc).__name__
        return True, None

    async def _post(self, client: BotClient, chat_id: int, item: Outgoing) -> None:
        bot = client.bot
        markup = await self.codec.keyboard(item.buttons)
        if item.photo is None:
            await bot.send_message(chat_id, item.text or "", reply_markup=markup)
            return
        try:
            await bot.send_photo(chat_id, item.photo, caption=item.text, reply_markup=markup)
        except BadRequest:  # Telegram could not fetch the image: send the link
            logger.info("telegram: sendPhoto refused, sending the image link instead")
            link = image_as_text(OutboundMessage(text=item.text, image=item.photo))
            await bot.send_message(chat_id, link, reply_markup=markup)

    async def _record(self, chat_id: int, kind: str, exc: TelegramError | None = None) -> None:
        """Log and count a failed delivery (never its content) and record an event."""
        detail = exc.message if exc is not None else kind
        logger.warning("telegram: delivery to chat %s failed: %s", chat_id, detail)
        self.failures[kind] += 1
        try:
            await self._record_event(
                "delivery_failed",
                conversation_id_for(CHANNEL, str(chat_id)),
                {"channel": CHANNEL, "error": kind},
            )
        except Exception:
            logger.warning("telegram: could not record a delivery failure event")


def frames(exc: BaseException) -> str:
    """Where it failed; the exception's text may hold citizen data, so it stays out."""
    return "".join(traceback.format_tb(exc.__traceback__))
