"""Telegram channel: ``POST /webhooks/telegram`` (or getUpdates polling) in, Bot API out.

Private modules: ``_channel`` (the webhook and the channel), ``_bot`` (the Bot
API client), ``_limiter`` (Telegram's per-chat rate), ``_parse`` (updates to
inbound messages), ``_polling``, ``_render`` (replies to Bot API calls),
``_send``.
"""

from channels.telegram._channel import AUTH_HEADER, WEBHOOK_PATH, TelegramChannel

__all__ = ["AUTH_HEADER", "WEBHOOK_PATH", "TelegramChannel"]
