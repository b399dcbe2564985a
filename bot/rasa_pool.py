"""Several Rasa servers behind the one client the hub uses (``RASA_URLS``).

Which server answers a conversation: rendezvous (highest random weight)
hashing of the conversation id over the servers that are up. Every
conversation keeps its server while that server is up, the choice needs no
shared state, and every front-door replica with the same list and the same
view of who is up picks the same server, so Rasa's per-conversation lock is
never contended across servers and only the conversations of a server that
fails move (to the server that ranks next for each of them; they come back
when it returns). The tracker store is shared (Redis, endpoints.redis.yml),
so a conversation that moves keeps its history.

Who is up:

- passively: a turn that cannot connect, loses its connection or times out
  marks its server down for a back-off (``RASA_BACKOFF``, doubling on each
  failure in a row up to ``MAX_BACKOFF``); when it runs out, the next turn
  tries the server again;
- actively: every ``RASA_PROBE_INTERVAL`` seconds each server's ``GET
  /status`` is asked (bounded by ``PROBE_TIMEOUT``); a server that cannot be
  reached, drops the connection, answers an HTTP error or has no model loaded
  is down until a probe finds it back. A ``/status`` that is only slow does
  not count: Rasa answers it on the event loop that runs the turns, so under
  a full load it waits behind them, and marking a busy server down would move
  its conversations onto the others, which are as busy (turns that exceed
  ``RASA_TIMEOUT`` mark it down passively). A probe never shortens a passive
  back-off (a server that timed out on a turn but still answers ``/status``
  quickly is slow, not back).

One turn is sent at most twice. When the first server was not reached at
all (connection refused or not made within ``CONNECT_TIMEOUT``) it goes to
the next server: Rasa never saw it, so it cannot be answered twice. When
Rasa may have taken it (a timeout after the request was written, a dropped
connection, an HTTP error), it is not sent again: that could run the turn
twice in the tracker and answer the citizen twice; the citizen gets the
polite busy reply and writes again. The whole turn, both attempts, stays
within ``RASA_TIMEOUT``. With every server down, the turn is still tried on
the two best-ranked ones (a refused connection fails at once), so the busy
reply comes at once, and a server that returns is used before a probe sees it.

With one URL the pool sends every turn to it (no probes), exactly like a
single :class:`~bot.rasa_client.RasaClient`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.rasa_client import RasaClient, RasaUnavailable

logger = logging.getLogger(__name__)

#: Seconds a probe of one server may take.
PROBE_TIMEOUT = 2.0
#: The longest passive back-off, however many failures in a row.
MAX_BACKOFF = 60.0
#: How many servers one turn may try (the first, and one more when the first
#: was not reached).
MAX_ATTEMPTS = 2


def rendezvous_score(url: str, key: str) -> int:
    """The weight of server ``url`` for ``key`` (a conversation id): the same
    on every replica and every run (no per-process hash seed)."""
    digest = hashlib.blake2b(f"{url}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@dataclass
class Server:
    """One Rasa server of the pool and what this replica knows of its health."""

    url: str
    client: RasaClient
    #: Passive: not chosen before this (monotonic) time.
    down_until: float = 0.0
    #: Passive failures in a row (the back-off doubles with each).
    failures: int = 0
    #: Active: the last probe found it unreachable or without a model.
    probe_down: bool = False
    last_error: str = ""

    def up(self, now: float) -> bool:
        return not self.probe_down and now >= self.down_until

    def state(self, now: float) -> str:
        if self.probe_down:
            return f"down: {self.last_error}"
        if now < self.down_until:
            return f"backing off {self.down_until - now:.0f}s: {self.last_error}"
        return "ok"


class RasaPool:
    """The Rasa client of the front door over one or several servers: the
    same methods as :class:`~bot.rasa_client.RasaClient` (``send``,
    ``parse``, ``status``, ``model_loaded``, ``close``).

    One aiohttp session (created on first use, inside the running loop) is
    shared by the servers' clients; the prober starts with the first call
    that has a running loop and stops in :meth:`close`.
    """

    def __init__(
        self,
        urls: Sequence[str],
        timeout: float,
        *,
        auth_token: str | None = None,
        probe_interval: float = 5.0,
        backoff: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        cleaned = list(dict.fromkeys(url.rstrip("/") for url in urls if url.strip()))
        if not cleaned:
            raise ValueError("RASA_URLS must name at least one Rasa server")
        self.timeout = timeout
        self.probe_interval = probe_interval
        self.backoff = backoff
        self.clock = clock
        self._session: aiohttp.ClientSession | None = None
        self.servers = [
            Server(url, RasaClient(url, timeout, auth_token=auth_token)) for url in cleaned
        ]
        self._prober: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def base_url(self) -> str:
        """The first server (what a single-server caller would call Rasa's URL)."""
        return self.servers[0].url

    # --- choosing a server ---------------------------------------------------
    def ranked(self, key: str) -> list[Server]:
        """The servers for ``key`` in the order they are tried: those up by
        rendezvous weight, then those down by the same weight."""
        if len(self.servers) == 1:
            return self.servers
        now = self.clock()
        by_weight = sorted(self.servers, key=lambda s: rendezvous_score(s.url, key), reverse=True)
        return [s for s in by_weight if s.up(now)] + [s for s in by_weight if not s.up(now)]

    def choose(self, key: str) -> str:
        """The URL of the server that answers ``key`` now."""
        return self.ranked(key)[0].url

    # --- health --------------------------------------------------------------
    def _failed(self, server: Server, exc: RasaUnavailable) -> None:
        server.failures += 1
        pause = min(MAX_BACKOFF, self.backoff * 2 ** (server.failures - 1))
        server.down_until = self.clock() + pause
        server.last_error = str(exc)[:200]
        if len(self.servers) > 1:
            logger.warning("rasa server %s down for %.0fs: %s", server.url, pause, exc)

    def _worked(self, server: Server) -> None:
        if server.failures or server.probe_down:
            logger.info("rasa server %s answers again", server.url)
        server.failures = 0
        server.down_until = 0.0
        server.probe_down = False

    async def probe(self, server: Server, timeout: float = PROBE_TIMEOUT) -> bool:
        """Ask one server's ``/status``; record what it says; True when it is
        up with a model loaded. Raises :class:`RasaUnavailable` when it does
        not answer (recorded too)."""
        try:
            loaded = await server.client.model_loaded(timeout=timeout)
        except RasaUnavailable as exc:
            if not exc.timed_out:  # busy is not down (see the module)
                self._probed(server, str(exc)[:200])
            raise
        self._probed(server, "" if loaded else "no model loaded")
        return loaded

    def _probed(self, server: Server, error: str) -> None:
        if not error:
            if server.probe_down:
                logger.info("rasa server %s is back (probe)", server.url)
            server.probe_down = False
            return
        if not server.probe_down and len(self.servers) > 1:
            logger.warning("rasa server %s down (probe): %s", server.url, error)
        server.probe_down = True
        server.last_error = error

    def states(self) -> dict[str, str]:
        """Each server's state as this replica knows it (no request)."""
        now = self.clock()
        return {server.url: server.state(now) for server in self.servers}

    async def _probe_forever(self) -> None:
        while True:
            await asyncio.sleep(self.probe_interval)
            try:
                await asyncio.gather(
                    *(self.probe(server) for server in self.servers), return_exceptions=True
                )
            except Exception:  # a probe must never end the prober
                logger.exception("rasa probe failed")

    def _http(self) -> aiohttp.ClientSession:
        """The shared session; starts the prober (several servers only)."""
        if self._session is None or self._session.closed:
            # Rasa sets no cookies: a cookie jar would only cost time per request.
            self._session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
            for server in self.servers:
                server.client.use_session(self._session)
        if (
            self._prober is None
            and not self._closed
            and len(self.servers) > 1
            and self.probe_interval > 0
        ):
            self._prober = asyncio.get_running_loop().create_task(self._probe_forever())
        return self._session

    # --- the client's methods ----------------------------------------------------
    async def send(
        self, sender: str, message: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """One turn of conversation ``sender`` on its server (see the module)."""
        self._http()
        return await self._attempt(
            sender, lambda client, limit: client.send(sender, message, metadata, timeout=limit)
        )

    async def find_turn(self, sender: str, message_id: str) -> list[dict[str, Any]] | None:
        """:meth:`RasaClient.find_turn` on the conversation's server (the
        tracker store is shared, so any server that is up knows it)."""
        self._http()
        return await self._attempt(
            sender, lambda client, limit: client.find_turn(sender, message_id, timeout=limit)
        )

    async def parse(self, text: str, timeout: float | None = None) -> dict[str, Any]:
        """Rasa's ``POST /model/parse`` on any server that is up (by the text's weight)."""
        self._http()
        limit = self.timeout if timeout is None else timeout
        return await self._attempt(
            text, lambda client, left: client.parse(text, timeout=left), limit
        )

    async def status(self, timeout: float | None = None) -> dict[str, Any]:
        """``GET /status`` of the first server that answers with a model
        (an empty dict when none has one)."""
        self._http()
        for server in self.ranked(""):
            try:
                data = await server.client.status(timeout)
            except RasaUnavailable:
                continue
            if data.get("model_file"):
                return data
        return {}

    async def model_loaded(self, timeout: float | None = None) -> bool:
        """True when at least one server answers with a model loaded (every
        server is probed, so the states afterwards are fresh)."""
        self._http()
        limit = PROBE_TIMEOUT if timeout is None else timeout
        results = await asyncio.gather(
            *(self.probe(s, limit) for s in self.servers), return_exceptions=True
        )
        if any(result is True for result in results):
            return True
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, RasaUnavailable):
                raise result
        unreachable = [r for r in results if isinstance(r, RasaUnavailable)]
        if len(unreachable) == len(results):
            raise unreachable[0]  # every server unreachable
        return False

    async def _attempt(self, key: str, call: Any, limit: float | None = None) -> Any:
        limit = self.timeout if limit is None else limit
        deadline = time.monotonic() + limit
        last: RasaUnavailable | None = None
        for number, server in enumerate(self.ranked(key)[:MAX_ATTEMPTS]):
            # The first attempt gets the whole limit; a second what is left, in
            # tenths of a second (the client keeps one aiohttp timeout per value).
            left = limit if number == 0 else math.floor((deadline - time.monotonic()) * 10) / 10
            if left <= 0:
                break
            try:
                answer = await call(server.client, left)
            except RasaUnavailable as exc:
                last = exc
                if exc.server_fault:
                    self._failed(server, exc)
                if exc.reached:
                    raise  # Rasa may have taken it: never twice
                continue
            if server.failures:
                self._worked(server)
            return answer
        raise last or RasaUnavailable(f"no time left for rasa after {limit}s")

    async def close(self) -> None:
        self._closed = True
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober
            self._prober = None
        for server in self.servers:
            await server.client.close()  # a session of its own only (after close)
        if self._session is not None:
            await self._session.close()
            self._session = None
