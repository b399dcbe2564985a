"""Closing WebSockets with 1001 ("going away") when the front door stops.

The consoles' and the widgets' sockets (bot/console/agent_socket.py,
channels/webchat/_channel.py) each keep one :class:`GoingAway`. At shutdown
:meth:`GoingAway.close_all` closes every socket at once and returns within
its bound whatever the clients do: a client that never answers the close
frame (or never reads) loses its connection after :data:`CLOSE_TIMEOUT`
seconds instead of aiohttp's 10. From then on a new handshake gets 503 and a
socket that was already past its handshake is closed with 1001 at once, so
none is left open behind the close loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiohttp import WSCloseCode, web

log = logging.getLogger(__name__)

#: The most one socket's close may take (the close frame out, the client's answer in).
CLOSE_TIMEOUT = 2.0
SHUTDOWN_MESSAGE = b"server shutdown"


class GoingAway:
    """The server's own 1001 closes of one kind of socket."""

    def __init__(self, name: str) -> None:
        self.name = name
        #: Set when the close loop starts; new sockets are refused from then on.
        self.started = False
        self._closing: dict[web.WebSocketResponse, asyncio.Task[None]] = {}

    def refuse_if_stopping(self) -> None:
        """Before the handshake: 503 once the front door is stopping (the client
        reconnects to another replica)."""
        if self.started:
            raise web.HTTPServiceUnavailable(
                text="server shutting down", headers={"Retry-After": "1"}
            )

    def close(self, ws: web.WebSocketResponse) -> asyncio.Task[None]:
        """Start the 1001 close of ``ws`` (once; later calls return the same task)."""
        task = self._closing.get(ws)
        if task is None:
            task = self._closing[ws] = asyncio.ensure_future(_close(ws, self.name))
        return task

    async def close_all(self, sockets: Iterable[web.WebSocketResponse], timeout: float) -> None:
        """Close ``sockets`` together; returns within ``timeout`` seconds."""
        self.started = True
        tasks = {self.close(ws) for ws in sockets}
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:  # CLOSE_TIMEOUT should have ended them; never hang here
            task.cancel()
        if pending:
            log.warning("shutdown: %d %s socket(s) cut off", len(pending), self.name)

    async def closed_by_server(self, ws: web.WebSocketResponse) -> None:
        """In the socket's handler, before it returns: until the server's own close
        of ``ws`` (if any) is done. Returning first would make aiohttp close the
        connection with 1000 before the 1001 is out. Never raises that close's
        outcome; a cancellation of the handler itself propagates."""
        task = self._closing.get(ws)
        if task is not None:
            await asyncio.wait({task})
            self._closing.pop(ws, None)


async def _close(ws: web.WebSocketResponse, name: str) -> None:
    try:
        await asyncio.wait_for(
            ws.close(code=WSCloseCode.GOING_AWAY, message=SHUTDOWN_MESSAGE), CLOSE_TIMEOUT
        )
    except TimeoutError:
        log.info("shutdown: a %s socket did not answer its close in time", name)
    except Exception as exc:  # the connection is gone already
        log.debug("shutdown: closing a %s socket failed: %s", name, type(exc).__name__)
