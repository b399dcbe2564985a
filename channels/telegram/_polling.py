"""getUpdates long polling, for development without a public webhook URL.

Feeds every update to the same handler as the webhook; an update whose
handling fails is not confirmed, so getUpdates returns it again. Telegram refuses
getUpdates while a webhook is set, so the poller deletes it first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.error import InvalidToken
from telegram.ext import ExtBot

from bot.aio import cancel_and_wait

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "callback_query")


class TelegramPoller:
    """One background task calling getUpdates with a moving offset."""

    def __init__(
        self,
        bot: ExtBot[int],
        on_update: Callable[[Update], Awaitable[None]],
        timeout: int,
        max_backoff: float = 30.0,
    ) -> None:
        self._bot = bot
        self._on_update = on_update
        self._timeout = timeout
        self._max_backoff = max_backoff
        self._offset: int | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start polling in the background."""
        if not self.running:
            self._task = asyncio.create_task(self._run(), name="telegram-polling")

    async def stop(self) -> None:
        """Stop polling; an update fetched but not yet confirmed comes again later."""
        if self._task is None:
            return
        await cancel_and_wait([self._task])
        self._task = None

    async def _run(self) -> None:
        backoff = 1.0
        deleted = False
        while True:
            try:
                if not deleted:
                    await self._bot.delete_webhook(drop_pending_updates=False)
                    deleted = True
                await self._poll_once()
                backoff = 1.0
            except InvalidToken:
                logger.error("telegram polling: the bot token was rejected; polling stops")
                return
            except Exception as exc:  # a network hiccup must not end polling
                logger.warning(
                    "telegram polling: %s, retrying in %.0f s", type(exc).__name__, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)

    async def _poll_once(self) -> None:
        updates = await self._bot.get_updates(
            offset=self._offset,
            timeout=self._timeout,
            allowed_updates=list(ALLOWED_UPDATES),
        )
        for update in updates:
            await self._on_update(update)  # raises: the offset stays, Telegram resends
            self._offset = update.update_id + 1
