"""Telegram set-up commands: ``python -m bot.telegram_admin set-webhook --url URL``.

``set-webhook --url https://HOST/webhooks/telegram`` registers the front
door's webhook with the Bot API (``setWebhook``) together with
``TELEGRAM_WEBHOOK_SECRET``: Telegram then sends it in the
``X-Telegram-Bot-Api-Secret-Token`` header of every update, and the front
door refuses updates without it. Only the updates the channel handles
(messages and button presses) are asked for; updates waiting at Telegram are
kept (``--drop-pending`` drops them). ``delete-webhook`` removes it (for
``TELEGRAM_POLLING=1`` on a development machine). Uses
``TELEGRAM_BOT_TOKEN``, ``TELEGRAM_WEBHOOK_SECRET`` and
``TELEGRAM_API_BASE_URL`` like the front door. The token is never printed.
Exit status 0 when Telegram took it, 1 on bad settings or arguments, 2 when
Telegram refused it (its description is shown).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import urllib.parse
from collections.abc import Sequence

from telegram import Bot
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from bot.config import Settings, load_settings

#: The updates channels/telegram handles (bot/../channels/telegram/_parse.py).
ALLOWED_UPDATES = ("message", "callback_query")
#: What the Bot API accepts as a webhook secret.
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_PATH = "/webhooks/telegram"


class AdminError(Exception):
    """A bad setting or argument: shown to the operator, exit status 1."""


def webhook_url(url: str) -> str:
    """``url`` checked: https (Telegram's rule) and the front door's webhook path."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise AdminError(
            "--url must be an https:// address (Telegram sends webhooks only over TLS)"
        )
    if parts.path.rstrip("/") != WEBHOOK_PATH or parts.query or parts.fragment:
        raise AdminError(f"--url must end with {WEBHOOK_PATH} (the front door's Telegram route)")
    return f"https://{parts.netloc}{WEBHOOK_PATH}"


def make_bot(settings: Settings) -> Bot:
    if not settings.telegram_bot_token:
        raise AdminError("TELEGRAM_BOT_TOKEN must be set")
    base = settings.telegram_api_base_url.rstrip("/")
    return Bot(
        token=str(settings.telegram_bot_token),
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=HTTPXRequest(connection_pool_size=1, read_timeout=15.0),
    )


async def set_webhook(settings: Settings, url: str, *, drop_pending: bool = False) -> None:
    """Register ``url`` with the webhook secret; raises AdminError or TelegramError."""
    target = webhook_url(url)
    secret = settings.telegram_webhook_secret
    if not secret:
        raise AdminError(
            "TELEGRAM_WEBHOOK_SECRET must be set (the front door refuses updates without it)"
        )
    if not SECRET_PATTERN.fullmatch(str(secret)):
        raise AdminError(
            "TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters of A-Z, a-z, 0-9, '_' or '-' "
            "(what Telegram accepts)"
        )
    bot = make_bot(settings)
    async with bot:
        await bot.set_webhook(
            url=target,
            secret_token=str(secret),
            allowed_updates=list(ALLOWED_UPDATES),
            drop_pending_updates=drop_pending,
        )


async def delete_webhook(settings: Settings, *, drop_pending: bool = False) -> None:
    bot = make_bot(settings)
    async with bot:
        await bot.delete_webhook(drop_pending_updates=drop_pending)


def _redacted(text: str, settings: Settings) -> str:
    token = str(settings.telegram_bot_token or "")
    return text.replace(token, "<token>") if token else text


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines hold the token
    parser = argparse.ArgumentParser(
        prog="python -m bot.telegram_admin", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    hook = sub.add_parser("set-webhook", help="register the front door's webhook and its secret")
    hook.add_argument("--url", required=True, help="https://HOST/webhooks/telegram")
    hook.add_argument(
        "--drop-pending", action="store_true", help="drop updates waiting at Telegram"
    )
    remove = sub.add_parser("delete-webhook", help="remove the webhook (for polling)")
    remove.add_argument(
        "--drop-pending", action="store_true", help="drop updates waiting at Telegram"
    )
    args = parser.parse_args(argv)
    try:
        settings = settings or load_settings()
        if args.command == "set-webhook":
            asyncio.run(set_webhook(settings, args.url, drop_pending=args.drop_pending))
            sys.stdout.write(f"webhook set: {webhook_url(args.url)} (secret token sent)\n")
        else:
            asyncio.run(delete_webhook(settings, drop_pending=args.drop_pending))
            sys.stdout.write("webhook deleted\n")
    except (AdminError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    except TelegramError as exc:
        message = _redacted(str(exc), settings) if settings else "refused"
        sys.stderr.write(f"error: Telegram refused it: {message}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
