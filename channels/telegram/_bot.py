"""Builds the python-telegram-bot client and keeps secrets and texts out of logs.

The Bot API URL is ``settings.telegram_api_base_url + "/bot" + token`` (ptb
appends the token to ``base_url``), so a fake Bot API on 127.0.0.1 can stand
in for api.telegram.org in tests and development.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.config import Settings
from channels.telegram._limiter import ChatRateLimiter

#: Long-polling timeout of getUpdates, in seconds.
POLL_TIMEOUT = 25

# ptb logs request parameters (citizens' texts) at DEBUG and, when parsing
# fails, whole updates; httpx logs every URL, and Bot API URLs hold the token.
_PTB_LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot", "telegram.request.BaseRequest")
_URL_LOGGERS = ("httpx", "httpcore")


class _RedactFilter(logging.Filter):
    """Drops the arguments of ptb's log lines and the token from URL log lines."""

    def __init__(self, token: str, drop_args: bool) -> None:
        super().__init__()
        self.token = token
        self.drop_args = drop_args

    def filter(self, record: logging.LogRecord) -> bool:
        if self.drop_args and record.args:
            record.args = tuple("<redacted>" for _ in _as_tuple(record.args))
            return True
        message = record.getMessage()
        if self.token in message:
            record.msg = message.replace(self.token, "<token>")
            record.args = ()
        return True


def _as_tuple(args: object) -> tuple[object, ...]:
    return args if isinstance(args, tuple) else (args,)


def guard_logs(token: str) -> None:
    """Install the redaction filters once per token."""
    for name in _PTB_LOGGERS + _URL_LOGGERS:
        target = logging.getLogger(name)
        if any(isinstance(f, _RedactFilter) and f.token == token for f in target.filters):
            continue
        target.addFilter(_RedactFilter(token, drop_args=name in _PTB_LOGGERS))


@dataclass(frozen=True)
class BotClient:
    """The ptb bot and its two HTTP connection pools, opened and closed by the channel.

    ``Bot.initialize()`` is not used: it calls getMe and puts the token into
    the text of the exception it raises for a rejected token.
    """

    bot: ExtBot[int]
    requests: tuple[HTTPXRequest, HTTPXRequest]

    async def open(self) -> None:
        await asyncio.gather(*(r.initialize() for r in self.requests))

    async def close(self) -> None:
        await asyncio.gather(*(r.shutdown() for r in self.requests))


def build_client(settings: Settings, limiter: ChatRateLimiter) -> BotClient | None:
    """The Bot API client, or None when no bot token is configured."""
    token = settings.telegram_bot_token
    if not token:
        return None
    guard_logs(str(token))
    base = settings.telegram_api_base_url.rstrip("/")
    request = HTTPXRequest(connection_pool_size=16, read_timeout=15.0, pool_timeout=10.0)
    polling = HTTPXRequest(connection_pool_size=1, read_timeout=10.0)
    bot = ExtBot(
        token=str(token),
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=request,
        get_updates_request=polling,
        rate_limiter=limiter,
    )
    return BotClient(bot, (request, polling))
