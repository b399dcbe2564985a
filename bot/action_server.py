"""``python -m bot.action_server --actions actions --port 5055``: rasa-sdk's
action server with a shared secret.

It takes exactly the arguments of ``python -m rasa_sdk`` and builds the same
Sanic app with rasa-sdk's own :func:`rasa_sdk.endpoint.create_app`; the only
additions go through Sanic's supported hooks:

- a request middleware: every request but ``GET /health`` must carry
  ``Authorization: Bearer <ACTION_SERVER_TOKEN>`` (Rasa sends it: the
  ``headers`` of ``action_endpoint`` in endpoints.yml). A missing or wrong
  token is answered 401 before the action runs, and logged with the path
  and the caller's address (never the token). The token is compared in
  constant time (bot/bearer.py). Without it any local process could run
  actions as any citizen (create tickets, read a ticket's status, trigger
  handoffs).
- ``GRACEFUL_SHUTDOWN_TIMEOUT``: on SIGTERM (or SIGINT) Sanic stops
  accepting connections, lets the requests in flight finish for at most
  ``ACTION_SERVER_SHUTDOWN_GRACE`` seconds (default 10), aborts what is
  left, closes the database (``actions._runtime``) and exits 0.

The token is ``ACTION_SERVER_TOKEN`` or, unset, the one generated into
``var/action_server.token`` (mode 0600), which ``python -m hotline_rasa``
reads as well, so one machine needs no configuration.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app as create_sdk_app
from rasa_sdk.endpoint import create_argument_parser, create_ssl_context
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.bearer import bearer_match
from bot.config import load_settings

logger = logging.getLogger("bot.action_server")

OPEN_PATHS = frozenset({"/health"})


def create_app(
    actions: str,
    token: str,
    *,
    cors_origins: str | list[str] | None = None,
    auto_reload: bool = False,
    shutdown_grace: float = 10.0,
) -> Sanic:
    """rasa-sdk's app for ``actions``, refusing requests without ``token``."""
    if not token:
        raise ValueError("the action server needs a token (ACTION_SERVER_TOKEN)")
    app = create_sdk_app(actions, cors_origins=cors_origins, auto_reload=auto_reload)
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = shutdown_grace

    @app.middleware("request")
    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS and request.method == "GET":
            return None
        if bearer_match(request.headers.get("Authorization"), (token,), str) is not None:
            return None
        logger.warning(
            "refused %s %s from %s: missing or wrong token",
            request.method,
            request.path,
            request.ip,
        )
        return response.json(
            {"error": "a valid 'Authorization: Bearer <token>' header is required"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="hotline-actions"'},
        )

    return app


def main(argv: Sequence[str] | None = None) -> None:
    args = create_argument_parser().parse_args(argv)
    # The same logging set-up as ``python -m rasa_sdk``.
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()
    try:
        settings = load_settings()
    except ValueError as exc:  # a bad setting: say which, no traceback
        raise SystemExit(f"configuration error: {exc}") from None
    app = create_app(
        args.actions,
        settings.action_server_token or "",
        cors_origins=args.cors,
        auto_reload=args.auto_reload,
        shutdown_grace=settings.action_server_shutdown_grace,
    )
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    host = settings.action_server_host
    logger.info("action server on %s:%s (token required)", host, args.port)
    app.run(host, int(args.port), ssl=ssl_context, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
