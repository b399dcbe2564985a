"""Readiness and liveness of the front door.

``GET /livez`` is 200 while the process serves requests (nothing is probed).

``GET /readyz`` (and ``GET /healthz``, kept for compatibility) is 200 when
the shared store answers a ping and the database a ``SELECT 1``; 503 with
``"status": "unavailable"`` when either does not (this replica can record
nothing). Rasa's and the action server's state are in the body: when either
is down or Rasa has no model, the answer is still 200 with
``"status": "degraded"`` (citizens get the polite busy reply, agents keep
working), so a load balancer does not take every replica out for a Rasa
restart. Each probe is bounded by ``PROBE_TIMEOUT``. With several Rasa
servers (``RASA_URLS``), ``rasa`` is "ok" while one of them has its model,
and ``rasa_servers`` gives each one's state.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

import aiohttp
from aiohttp import web

from bot.rasa_client import RasaApi, RasaUnavailable
from bot.rasa_pool import RasaPool
from bot.store.base import SharedStore

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 3.0


class Pingable(Protocol):
    async def ping(self) -> bool: ...


class HealthChecker:
    """Probes Rasa, the action server, the store and the database, concurrently."""

    def __init__(
        self,
        rasa: RasaApi,
        action_server_url: str,
        store: SharedStore,
        db: Pingable | None = None,
    ) -> None:
        self.rasa = rasa
        self.action_server_url = action_server_url.rstrip("/")
        self.store = store
        self.db = db
        self._session: aiohttp.ClientSession | None = None

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/healthz", self.readyz)
        app.router.add_get("/livez", self.livez)

    async def readyz(self, request: web.Request) -> web.Response:
        rasa, actions, store, database = await asyncio.gather(
            self.check_rasa(), self.check_action_server(), self.check_store(), self.check_database()
        )
        parts: dict[str, object] = {
            "rasa": rasa, "action_server": actions, "store": store, "database": database
        }  # fmt: skip
        if isinstance(self.rasa, RasaPool) and len(self.rasa.servers) > 1:
            # "ok" while one server answers; each one's state beside it.
            parts["rasa_servers"] = self.rasa.states()
        if store != "ok" or database != "ok":
            status, code = "unavailable", 503
        elif rasa != "ok" or actions != "ok":
            status, code = "degraded", 200
        else:
            status, code = "ok", 200
        if status != "ok":
            logger.warning("readiness %s: %s", status, parts)
        return web.json_response({"status": status, **parts}, status=code)

    healthz = readyz  # the older name, kept for scripts that call it

    async def livez(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def check_rasa(self) -> str:
        try:
            loaded = await self.rasa.model_loaded(timeout=PROBE_TIMEOUT)
        except RasaUnavailable as exc:
            return f"unreachable: {exc}"
        return "ok" if loaded else "no model loaded"

    async def check_action_server(self) -> str:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT)
        try:
            async with self._session.get(
                f"{self.action_server_url}/health", timeout=timeout
            ) as resp:
                return "ok" if resp.status == 200 else f"HTTP {resp.status}"
        except TimeoutError:
            return "unreachable: timed out"
        except aiohttp.ClientError as exc:
            return f"unreachable: {type(exc).__name__}"

    async def check_store(self) -> str:
        return "ok" if await self.store.ping() else "unreachable"

    async def check_database(self) -> str:
        if self.db is None:
            return "ok"
        try:
            answered = await asyncio.wait_for(self.db.ping(), PROBE_TIMEOUT)
        except TimeoutError:
            return "unreachable: timed out"
        return "ok" if answered else "unreachable"

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
