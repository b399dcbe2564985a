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
        #: Each sender's tracker events, as Rasa keeps them for a turn: the user
        #: event (with the front door's message id, as hotline_rasa/channel.py
        #: keeps it) and a bot event per reply.
        self.trackers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.tracker_status = 200  # set to 500 to make reading a tracker fail
        #: False: a turn whose client went away is cancelled with it (aiohttp's
        #: server here); True: it runs to its end and is kept in the tracker.
        self.finish_abandoned_turns = False
        self.app.router.add_post("/webhooks/rest/webhook", self._webhook)
        self.app.router.add_get("/status", self._status)
        self.app.router.add_get("/conversations/{conversation_id}/tracker", self._tracker)
        self.app.router.add_post(
            "/conversations/{conversation_id}/tracker/events", self._append_events
        )

    async def _webhook(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if self.finish_abandoned_turns:
            # Rasa runs a turn to its end although the front door that sent it
            # went away (its tracker then holds the turn).
            return await asyncio.shield(asyncio.ensure_future(self._turn(body)))
        return await self._turn(body)

    async def _turn(self, body: dict[str, Any]) -> web.StreamResponse:
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
            self._keep_turn(sender, body, reply)
            return web.json_response(reply)
        finally:
            self._in_flight[sender] -= 1
            self._total_in_flight -= 1

    def _keep_turn(self, sender: str, body: dict[str, Any], reply: list[dict[str, Any]]) -> None:
        message_id = (body.get("metadata") or {}).get("message_id")
        metadata = {"hotline_message_id": message_id} if message_id else {}
        events = self.trackers[sender]
        events.append({"event": "user", "text": body["message"], "metadata": metadata})
        for item in reply:
            data = {k: v for k, v in item.items() if k not in ("recipient_id", "text")}
            events.append({"event": "bot", "text": item.get("text"), "data": data})

    async def _tracker(self, request: web.Request) -> web.StreamResponse:
        """Rasa's ``GET /conversations/<id>/tracker``."""
        if self.tracker_status != 200:
            return web.json_response({"status": "failure"}, status=self.tracker_status)
        cid = request.match_info["conversation_id"]
        return web.json_response({"sender_id": cid, "events": self.trackers.get(cid, [])})

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
