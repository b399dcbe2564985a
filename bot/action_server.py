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

Rasa 3.6 talks to this rasa-sdk 3.21 server (the two environments of the
README): 3.21 reads 3.6's tracker and returns the same response format. Two
things would break the pair, so neither is used: ``enable_selective_domain``
in endpoints.yml (3.21 then answers 449, which Rasa 3.6 does not know) and
the ``SessionEnded`` event (unknown to Rasa 3.6's event schema); the SDK's
once-per-process warning that the versions differ is silenced here.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Sequence
from functools import partial

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app as create_sdk_app
from rasa_sdk.endpoint import create_argument_parser, create_ssl_config
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.worker.loader import AppLoader

from actions import _runtime
from bot.bearer import bearer_match
from bot.config import load_settings
from bot.dispatch.dispatcher import warm_up

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
    # rasa-sdk warns once that Rasa's version (3.6) is not its own (3.21): the
    # pairing is deliberate and tested (module docstring).
    warnings.filterwarnings("ignore", message="Your versions of rasa and rasa_sdk")
    executor = ActionExecutor()
    executor.register_package(actions)
    app = create_sdk_app(executor, cors_origins=cors_origins, auto_reload=auto_reload)
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = shutdown_grace
    # The complaint classifier is trained from data files: before the first request.
    app.before_server_start(_warm_up_dispatch)

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


async def _warm_up_dispatch(_app: Sanic, _loop: object = None) -> None:
    await asyncio.to_thread(warm_up)


def _app_for_worker(
    actions: str,
    token: str,
    cors_origins: str | list[str] | None,
    auto_reload: bool,
    shutdown_grace: float,
) -> Sanic:
    """The app of one Sanic worker process (module level: Sanic pickles it)."""
    app = create_app(
        actions,
        token,
        cors_origins=cors_origins,
        auto_reload=auto_reload,
        shutdown_grace=shutdown_grace,
    )
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
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
    # The actions use these settings, not a second reading of the environment
    # (a worker process started by Sanic's manager reads its own once).
    _runtime.use_settings(settings)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    loader = AppLoader(
        factory=partial(
            _app_for_worker,
            args.actions,
            settings.action_server_token or "",
            args.cors,
            args.auto_reload,
            settings.action_server_shutdown_grace,
        )
    )
    app = loader.load()
    ssl_config = create_ssl_config(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    host = settings.action_server_host
    workers = utils.number_of_sanic_workers()
    logger.info("action server on %s:%s (token required, %d worker(s))", host, args.port, workers)
    # One worker: Sanic serves in this process (no worker manager, one process
    # less); more: Sanic's manager starts the workers, each app from ``loader``.
    app.prepare(
        host=host, port=int(args.port), ssl=ssl_config, workers=workers,
        single_process=workers == 1,
    )
    if workers == 1:
        Sanic.serve_single(primary=app)
    else:
        Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
