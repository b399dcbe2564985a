"""Readiness and liveness of the front door.

``GET /healthz`` is 200 only when Rasa has a model loaded, the action server
answers its ``/health`` and the shared store answers a ping; otherwise 503,
and the JSON body says which part is missing. ``GET /livez`` is 200 while
the process serves requests.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web

from bot.rasa_client import RasaClient, RasaUnavailable
from bot.store.base import SharedStore

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 3.0


class HealthChecker:
    """Probes Rasa, the action server and the store, concurrently."""

    def __init__(self, rasa: RasaClient, action_server_url: str, store: SharedStore) -> None:
        self.rasa = rasa
        self.action_server_url = action_server_url.rstrip("/")
        self.store = store
        self._session: aiohttp.ClientSession | None = None

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/livez", self.livez)

    async def healthz(self, request: web.Request) -> web.Response:
        rasa, actions, store = await asyncio.gather(
            self.check_rasa(), self.check_action_server(), self.check_store()
        )
        parts = {"rasa": rasa, "action_server": actions, "store": store}
        ready = all(value == "ok" for value in parts.values())
        if not ready:
            logger.warning("not ready: %s", parts)
        body = {"status": "ok" if ready else "unavailable", **parts}
        return web.json_response(body, status=200 if ready else 503)

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
        except asyncio.TimeoutError:
            return "unreachable: timed out"
        except aiohttp.ClientError as exc:
            return f"unreachable: {type(exc).__name__}"

    async def check_store(self) -> str:
        return "ok" if await self.store.ping() else "unreachable"

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
