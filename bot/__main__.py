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
from bot.config import load_settings

logger = logging.getLogger("bot")


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Method, path, status and time: no query string (it can carry an openid)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)


def choose_event_loop(name: str | None) -> str:
    """Install the event loop policy named by ``EVENT_LOOP``; returns the one in use.

    ``uvloop`` (the default) runs the same asyncio code with its loop, sockets
    and timers in C (libuv): the front door's own CPU per message is the part
    of every turn it adds to Rasa's time (docs/benchmark.md). ``asyncio`` is
    Python's own loop, the one the tests run on; it is also the fallback when
    uvloop cannot be imported. Any other value is a configuration error.
    """
    choice = (name or "uvloop").strip().lower()
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
    settings = load_settings()
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
