"""The Telegram channel: webhook (or getUpdates polling) in, Bot API out.

The webhook authenticates Telegram's secret token before it reads the body.
Telegram needs no passive reply and redelivers what is not answered quickly,
so the update is handed to the hub to push the replies later
(``DeliveryMode.PUSH_LATER``): the hub dedupes it
(message id ``u<update_id>``), records and queues it, and the webhook
answers 200 within a few store round trips; the Rasa turn runs in the
background and its replies arrive through :meth:`TelegramChannel.send`,
like every other pushed message. If the store is down nothing is recorded
and the webhook answers 503, so Telegram delivers the update again.
Outgoing messages go through python-telegram-bot's ``ExtBot`` behind
:class:`~channels.telegram._limiter.ChatRateLimiter`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.config import Settings
from bot.inbound import DeliveryMode, InboundPort
from bot.messages import OutboundMessage
from bot.store.base import StoreUnavailable
from channels.base import Channel, Delivery
from channels.telegram._bot import POLL_TIMEOUT, build_client
from channels.telegram._limiter import ChatRateLimiter, KeyedLocks
from channels.telegram._parse import (
    BUTTON_EXPIRED_TEXT,
    CHANNEL,
    ParsedUpdate,
    callback_inbound,
    parse_update,
)
from channels.telegram._polling import TelegramPoller
from channels.telegram._render import CallbackCodec
from channels.telegram._send import TelegramSender, frames

logger = logging.getLogger(__name__)

#: Telegram's failure kinds as delivery reasons (channels.base.Delivery).
FAILURE_REASONS = {
    "Forbidden": "blocked",
    "RetryAfter": "rate_limited",
    "NotConfigured": "not_configured",
    "BadRequest": "bad_request",
}

WEBHOOK_PATH = "/webhooks/telegram"
AUTH_HEADER = "X-Telegram-Bot-Api-Secret-Token"
NOTICE_TTL = 24 * 3600  # dedupe window of the channel's own notices
#: Seconds between two "typing…" actions in one chat (Telegram shows one for about 5 s).
TYPING_EVERY = 4.0


class TelegramChannel(Channel):
    """Telegram Bot API channel; conversation ids are ``telegram:<chat_id>``."""

    name = CHANNEL

    def __init__(
        self,
        inbound: InboundPort,
        settings: Settings,
        *,
        limiter: ChatRateLimiter | None = None,
        poll_timeout: int = POLL_TIMEOUT,
    ) -> None:
        self.inbound = inbound
        #: The channel's keys in the shared store (``telegram:...``).
        self.store = inbound.store(CHANNEL)
        self.settings = settings
        self.limiter = limiter or ChatRateLimiter()
        self.client = build_client(settings, self.limiter)
        self.codec = CallbackCodec(self.store)
        self.sender = TelegramSender(self.client, self.codec, inbound.record_event)
        self._poll_timeout = poll_timeout
        self._poller: TelegramPoller | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._inbound_locks = KeyedLocks()
        self._warn_if_unconfigured()

    # --- lifecycle ----------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(WEBHOOK_PATH, self._webhook)

    async def start(self) -> None:
        """Open the Bot API connections; start getUpdates polling if configured."""
        if self.client is None:
            return
        await self.client.open()
        if self.settings.telegram_polling:
            self._poller = TelegramPoller(self.client.bot, self._ingest_polled, self._poll_timeout)
            self._poller.start()
            logger.info("telegram: polling getUpdates (development mode)")

    async def stop(self) -> None:
        """Stop polling, let running updates finish briefly, close connections."""
        if self._poller is not None:
            await self._poller.stop()
            self._poller = None
        await self.drain(within=5.0, cancel=True)
        if self.client is not None:
            await self.client.close()

    async def drain(self, within: float | None = None, cancel: bool = False) -> None:
        """Wait for the channel's background sends (tests, shutdown), at most
        ``within`` seconds; then cancel the rest if ``cancel``."""
        while self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=within)
            if pending:
                if cancel:
                    for task in pending:
                        task.cancel()
                    await asyncio.gather(*pending, return_exceptions=True)
                return

    def _warn_if_unconfigured(self) -> None:
        if self.client is None:
            logger.warning("telegram: TELEGRAM_BOT_TOKEN is not set; the channel is disabled")
        if not self.settings.telegram_webhook_secret:
            log = logger.info if self.settings.telegram_polling else logger.warning
            log("telegram: TELEGRAM_WEBHOOK_SECRET is not set; %s answers 403", WEBHOOK_PATH)

    # --- webhook ------------------------------------------------------------
    async def _webhook(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=403, text="forbidden")
        body = await _read_body(request, self.settings.max_body_bytes)
        if body is None:
            return web.Response(status=413, text="too large")
        update = self._decode(body)
        if update is None:
            return web.Response(status=400, text="not an update")
        try:
            await self._ingest(update)
        except StoreUnavailable:
            logger.warning(
                "telegram: store unavailable; update %s left for redelivery", update.update_id
            )
            return web.Response(status=503, text="busy")
        return web.Response(status=200)

    def _authorized(self, request: web.Request) -> bool:
        """Secret token check, before the body is read; no secret: nobody."""
        expected = self.settings.telegram_webhook_secret
        given = request.headers.get(AUTH_HEADER)
        if not expected or given is None or self.client is None:
            return False
        return hmac.compare_digest(
            given.encode("utf-8", "surrogateescape"), str(expected).encode("utf-8")
        )

    def _decode(self, body: bytes) -> Update | None:
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            return None
        try:
            return Update.de_json(data, self.client.bot if self.client else None)
        except Exception:  # ptb raises KeyError, TypeError, ... on bad shapes
            logger.info("telegram: rejected a malformed update %s", data["update_id"])
            return None

    # --- handling -----------------------------------------------------------
    async def _ingest(self, update: Update) -> None:
        """Hand one authenticated update to the hub; replies go out in the background.

        Raises StoreUnavailable when nothing could be recorded, so that the
        webhook answers 503 and the poller keeps its offset: Telegram
        delivers the update again.
        """
        parsed = parse_update(update)
        if parsed is None:
            logger.debug("telegram: ignored update %s", update.update_id)
            return
        # One chat's updates reach the hub in the order they arrived here.
        async with self._inbound_locks.hold(parsed.chat_id):
            await self._ingest_in_order(parsed)

    async def _ingest_polled(self, update: Update) -> None:
        """Polling: a store outage keeps the offset (retried), a bug skips the update."""
        try:
            await self._ingest(update)
        except StoreUnavailable:
            raise
        except Exception as exc:
            logger.error(
                "telegram: update %s failed and is skipped: %s\n%s",
                update.update_id,
                type(exc).__name__,
                frames(exc),
            )

    async def _ingest_in_order(self, parsed: ParsedUpdate) -> None:
        inbound, notice = parsed.inbound, parsed.notice
        if parsed.callback_query_id is not None:
            self._spawn(self.sender.answer_callback(parsed.callback_query_id))
            payload = await self.codec.decode(parsed.callback_data or "")
            if payload is None:
                notice = BUTTON_EXPIRED_TEXT
            else:
                inbound = callback_inbound(parsed, payload)
        if notice and await self._first_notice(parsed.update_id):
            # Spawned before the hub turn starts: it takes the chat's send lock
            # before any reply can, so an acknowledgement comes first.
            self._spawn(self.send(str(parsed.chat_id), [_system(notice)]))
        if inbound is None:
            return
        # The hub records and queues the message and pushes the replies
        # through send() when Rasa has answered; the webhook answers at once.
        result = await self.inbound.handle(inbound, DeliveryMode.PUSH_LATER)
        if result.status == "duplicate":
            logger.info("telegram: dropped redelivered %s", inbound.message_id)
        elif result.replies:
            self._spawn(self.send(str(parsed.chat_id), list(result.replies)))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _first_notice(self, update_id: int) -> bool:
        """Dedupe the channel's own answers (help, "not supported") like hub turns."""
        return await self.store.claim(f"notice:u{update_id}", NOTICE_TTL)

    # --- sending ------------------------------------------------------------
    async def send(self, channel_user_id: str, messages: Sequence[OutboundMessage]) -> None:
        """Deliver replies or pushed messages to one chat, in order; never raises."""
        try:
            chat_id = int(channel_user_id)
        except ValueError:
            logger.warning("telegram: cannot send to a non-numeric chat id")
            return
        await self.sender.send(chat_id, messages)

    async def deliver(self, channel_user_id: str, messages: Sequence[OutboundMessage]) -> Delivery:
        """Like :meth:`send`, with the outcome (the first failure's reason)."""
        try:
            chat_id = int(channel_user_id)
        except ValueError:
            return Delivery(False, "invalid_chat")
        failed = await self.sender.send(chat_id, messages)
        if failed is None:
            return Delivery(True)
        return Delivery(False, FAILURE_REASONS.get(failed, "error"))


    async def typing(self, channel_user_id: str, on: bool) -> None:
        """The agent is typing: "typing…" in the chat (sendChatAction). Telegram
        shows it about 5 s or until the next message and cannot cancel it, so
        "off" sends nothing; at most one per :data:`TYPING_EVERY` s per chat."""
        if not on or self.client is None:
            return
        try:
            chat_id = int(channel_user_id)
            if not await self.store.claim(f"typing:{chat_id}", TYPING_EVERY):
                return
            await self.client.bot.send_chat_action(chat_id, ChatAction.TYPING)
        except (ValueError, StoreUnavailable, TelegramError) as exc:
            logger.info("telegram: typing not shown: %s", type(exc).__name__)


def _system(text: str) -> OutboundMessage:
    return OutboundMessage(text=text, sender="system")


async def _read_body(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is larger than ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
