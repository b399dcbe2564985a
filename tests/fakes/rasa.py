"""A fake Rasa server and action server on 127.0.0.1 (aiohttp), for hub/REST/health tests.

The fake Rasa echoes each message after an optional random delay and records
what it saw per sender, including any overlap (two turns of one sender at once).
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


class _FakeServer:
    def __init__(self) -> None:
        self.app = web.Application()
        self.server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None, "start() first"
        return str(self.server.make_url("")).rstrip("/")

    async def start(self, port: int | None = None) -> None:
        """Listen on a free port, or on ``port`` (a restart where it listened before)."""
        self.server = TestServer(self.app, host="127.0.0.1", port=port)
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


class FakeRasa(_FakeServer):
    """``POST /webhooks/rest/webhook`` and ``GET /status`` like Rasa 3.6."""

    def __init__(self) -> None:
        super().__init__()
        self.delay: tuple[float, float] = (0.0, 0.0)
        self.status_code = 200  # set to 500 to make every turn fail
        self.non_json = False
        self.model_loaded = True
        self.status_delay = 0.0  # seconds GET /status waits (a Rasa busy with turns)
        self.replies: dict[str, list[dict[str, Any]]] = {}  # message -> custom reply list
        self.calls: list[dict[str, Any]] = []
        self.by_sender: dict[str, list[str]] = defaultdict(list)
        self.overlaps: list[str] = []
        self.max_parallel = 0
        self._in_flight: dict[str, int] = defaultdict(int)
        self._total_in_flight = 0
        #: (conversation id, event, query) of every ``POST .../tracker/events``.
        self.appended: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.events_status = 200  # set to 500 to make appending events fail
        self.app.router.add_post("/webhooks/rest/webhook", self._webhook)
        self.app.router.add_get("/status", self._status)
        self.app.router.add_post(
            "/conversations/{conversation_id}/tracker/events", self._append_events
        )

    async def _webhook(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        sender, message = body["sender"], body["message"]
        self.calls.append(body)
        self._in_flight[sender] += 1
        self._total_in_flight += 1
        self.max_parallel = max(self.max_parallel, self._total_in_flight)
        if self._in_flight[sender] > 1:
            self.overlaps.append(sender)
        try:
            self.by_sender[sender].append(message)
            low, high = self.delay
            if high > 0:
                await asyncio.sleep(random.uniform(low, high))
            if self.status_code != 200:
                return web.json_response({"error": "boom"}, status=self.status_code)
            if self.non_json:
                return web.Response(text="<html>oops</html>", content_type="text/html")
            reply = self.replies.get(
                message, [{"recipient_id": sender, "text": f"echo: {message}"}]
            )
            return web.json_response(reply)
        finally:
            self._in_flight[sender] -= 1
            self._total_in_flight -= 1

    async def _append_events(self, request: web.Request) -> web.StreamResponse:
        """Rasa's ``POST /conversations/<id>/tracker/events`` (the tracker's state back)."""
        cid = request.match_info["conversation_id"]
        event = await request.json()
        self.appended.append((cid, event, dict(request.query)))
        if self.events_status != 200:
            return web.json_response({"status": "failure"}, status=self.events_status)
        self.on_event(cid, event)
        return web.json_response({"sender_id": cid, "events": None})

    def on_event(self, conversation_id: str, event: dict[str, Any]) -> None:
        """What an appended event does to the conversation (subclasses)."""

    async def _status(self, request: web.Request) -> web.StreamResponse:
        if self.status_delay:
            await asyncio.sleep(self.status_delay)
        if not self.model_loaded:
            return web.json_response({"status": "failure", "reason": "NoAgent"}, status=409)
        return web.json_response(
            {"model_file": "models/test.tar.gz", "model_id": "abc", "num_active_training_jobs": 0}
        )


class FakeActionServer(_FakeServer):
    """``GET /health`` like rasa-sdk's action server."""

    def __init__(self) -> None:
        super().__init__()
        self.healthy = True
        self.app.router.add_get("/health", self._health)

    async def _health(self, request: web.Request) -> web.StreamResponse:
        if not self.healthy:
            return web.json_response({"status": "error"}, status=500)
        return web.json_response({"status": "ok"})
