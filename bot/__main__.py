"""``python -m bot``: run the front door on HOST:PORT (default 127.0.0.1:8080)."""

from __future__ import annotations

import asyncio
import logging
import os

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from bot.app import create_app
from bot.config import load_settings, require_shared_secrets

logger = logging.getLogger("bot")


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Method, path, status and time: no query string (it can carry an openid)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)


def choose_event_loop(name: str | None) -> str:
    """Install the event loop policy named by ``EVENT_LOOP``; returns the one in use.

    ``asyncio`` (the default) is Python's own loop. ``uvloop`` runs the same
    code with its loop, sockets and timers in C (libuv): the front door's CPU
    per message was 2.4-2.6 ms on it against 2.8 ms, but the human-paced
    benchmark's REST p50 overhead was +10.5 to +13.5 % on it in three runs
    against +5.7 % on asyncio's loop (docs/benchmark.md), so it stays an
    option. When uvloop cannot be imported, asyncio's loop is used. Any
    other value is a configuration error.
    """
    choice = (name or "asyncio").strip().lower()
    if choice not in ("uvloop", "asyncio"):
        raise SystemExit(f"EVENT_LOOP must be 'uvloop' or 'asyncio', not {name!r}")
    if choice == "uvloop":
        try:
            import uvloop
        except ImportError:
            logger.warning("uvloop is not installed: using asyncio's own event loop")
            return "asyncio"
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return choice


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings()
    except ValueError as exc:  # e.g. a REST_TOKENS token under 16 characters
        raise SystemExit(f"configuration error: {exc}") from None
    require_shared_secrets(settings)  # several replicas: the same keys everywhere
    loop_name = choose_event_loop(os.environ.get("EVENT_LOOP"))
    logger.info("front door listening on %s:%s (%s)", settings.host, settings.port, loop_name)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log_class=PathOnlyAccessLogger,
        print=None,
    )


if __name__ == "__main__":
    main()
