"""``python -m bot``: run the front door on HOST:PORT (default 127.0.0.1:8080)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import time

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from bot.app import create_app
from bot.config import Settings, load_settings, require_shared_secrets
from bot.knowledge import use_knowledge_dir

logger = logging.getLogger("bot")

#: Seconds on top of ``SHUTDOWN_TIMEOUT`` for closing everything after the
#: turns in flight; past them the watchdog ends a stop that hangs.
STOP_GRACE = 20.0
#: How long worker threads (aiosqlite's, the default executor's) get to end.
THREAD_JOIN_TIMEOUT = 3.0


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
    against +5.7 % on asyncio's loop (docs/adr/0016-asyncio-loop-by-default.md), so it stays an
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
    """Read the settings once, from the environment, and serve with them."""
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()  # its warnings (a generated secret) are logged already
    except ValueError as exc:  # e.g. a REST_TOKENS token under 16 characters
        raise SystemExit(f"configuration error: {exc}") from None
    logging.getLogger().setLevel(settings.log_level)  # LOG_LEVEL
    require_shared_secrets(settings)  # several replicas: the same keys everywhere
    # the emergency mode's FAQ answers: from KNOWLEDGE_DIR, as the action servers'
    use_knowledge_dir(settings.knowledge_dir, settings.knowledge_reload_seconds)
    loop_name = choose_event_loop(settings.event_loop)
    logger.info("front door listening on %s:%s (%s)", settings.host, settings.port, loop_name)
    code = asyncio.run(serve(create_app(settings), settings))
    _join_threads(THREAD_JOIN_TIMEOUT)  # a thread left behind ends the process with 1
    if code:
        raise SystemExit(code)


async def serve(app: web.Application, settings: Settings) -> int:
    """Serve until SIGTERM or SIGINT, then stop deterministically; the exit code.

    Starting: the port is bound first; when it cannot be (taken, a bad HOST)
    one error line names HOST:PORT and the code is 1, nothing having been
    opened (the app's start-up has not run: no database, no threads).

    Stopping: the listening socket closes (no new requests; the port is free
    at once), idle keep-alive connections close, the consoles' and widgets'
    sockets close with 1001 ("going away", they reconnect to another
    replica), the turns in flight get up to ``SHUTDOWN_TIMEOUT`` seconds to
    be answered, then every part closes in its own bounded step (channels,
    hub, database engines, store; bot/app.py). Should the whole stop still
    hang, a watchdog ends the process after :data:`STOP_GRACE` more seconds.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    runner = web.AppRunner(
        app,
        handle_signals=False,
        access_log_class=PathOnlyAccessLogger,
        shutdown_timeout=settings.shutdown_timeout,
    )
    try:  # before anything is opened: a taken port fails at once, with nothing to close
        sockets = listening_sockets(settings.host, settings.port)
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        logger.error("cannot listen on %s:%s: %s", settings.host, settings.port, reason)
        return 1
    signals = (signal.SIGTERM, signal.SIGINT)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    code = 0
    try:
        await runner.setup()  # the app's start-up: database, hub, channels, console
        for sock in sockets:
            await web.SockSite(runner, sock).start()
        await stop.wait()
        logger.info(
            "stopping: no new requests; up to %.0f s for the turns in flight",
            settings.shutdown_timeout,
        )
    finally:
        watchdog = threading.Timer(settings.shutdown_timeout + STOP_GRACE, _stop_hung)
        watchdog.daemon = True
        watchdog.start()
        for signum in signals:
            loop.remove_signal_handler(signum)
        try:
            await runner.cleanup()
        except Exception as exc:  # every step logged its own failure; exit non-zero
            logger.error("stopping failed: %s", type(exc).__name__)
            code = 1
        for sock in sockets:  # closed by their site already, unless the start-up failed
            sock.close()
        # The watchdog stays armed until the process exits (asyncio.run still
        # cancels leftover tasks and joins its executor); it is a daemon thread.
    logger.info("front door stopped")
    return code


def listening_sockets(host: str, port: int) -> list[socket.socket]:
    """Bound, listening sockets for ``host:port``, as ``loop.create_server`` makes
    them (one per address of the host, ``SO_REUSEADDR``, IPv6 sockets IPv6 only);
    raises ``OSError`` (e.g. the port is taken) with none left open."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _name, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(128)
            sock.setblocking(False)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _join_threads(timeout: float) -> None:
    """Wait a little for worker threads (database drivers) to end; when one is
    still running, name it and exit with 1 at once (``os._exit``).

    A thread left behind would keep the interpreter from exiting for ever
    (threading._shutdown joins every non-daemon thread)."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
    left = [
        t.name for t in threading.enumerate()
        if t is not threading.main_thread() and not t.daemon and t.is_alive()
    ]  # fmt: skip
    if not left:
        return
    logger.error("threads still running after the stop: %s; exiting anyway", ", ".join(left))
    logging.shutdown()
    os._exit(1)


def _stop_hung() -> None:
    """The watchdog: the stop took longer than its bound (a step blocked the loop)."""
    logger.error("the stop did not finish in time; exiting")
    logging.shutdown()
    os._exit(1)


if __name__ == "__main__":
    main()
