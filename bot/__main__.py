"""``python -m bot``: run the front door on HOST:PORT (default 127.0.0.1:8080)."""

from __future__ import annotations

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


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = load_settings()
    logger.info("front door listening on %s:%s", settings.host, settings.port)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log_class=PathOnlyAccessLogger,
        print=None,
    )


if __name__ == "__main__":
    main()
