"""A fake Telegram Bot API on 127.0.0.1 (aiohttp), for the Telegram channel tests.

Serves ``POST /bot<token>/<method>`` for sendMessage, sendPhoto,
answerCallbackQuery, getUpdates (long polling), getMe and deleteWebhook,
records every call with its decoded parameters, and can be told to answer
the next call of a method with an error (429 with ``retry_after``, 400) or
to answer 403 "bot was blocked by the user" for a chat.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

TOKEN = "123456:TEST-token-for-the-fake-api"
_JSON_PARAMS = {"chat_id", "reply_markup", "allowed_updates", "offset", "timeout", "limit"}


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class FakeTelegramApi:
    """The Bot API as far as the channel uses it; ``url`` is TELEGRAM_API_BASE_URL."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[ApiCall] = []
        self.blocked_chats: set[int] = set()
        self.updates: list[dict[str, Any]] = []
        self._errors: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self._new_update = asyncio.Event()
        self._message_id = 0
        self.app = web.Application()
        self.app.router.add_post("/bot{token}/{method}", self._handle)
        self.server: TestServer | None = None

    # --- lifecycle ------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.server is not None, "start() first"
        return str(self.server.make_url("")).rstrip("/")

    async def start(self, port: int | None = None) -> None:
        """Listen on 127.0.0.1 (``port``, or any free one)."""
        self.server = TestServer(self.app, host="127.0.0.1", port=port)
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    # --- scripting ------------------------------------------------------------
    def flood_once(self, method: str, retry_after: int = 1) -> None:
        """The next call of ``method`` gets 429 Too Many Requests."""
        body = {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {retry_after}",
            "parameters": {"retry_after": retry_after},
        }
        self._errors.setdefault(method, []).append((429, body))

    def fail_once(self, method: str, description: str = "Bad Request: wrong file") -> None:
        """The next call of ``method`` gets 400 Bad Request."""
        body = {"ok": False, "error_code": 400, "description": description}
        self._errors.setdefault(method, []).append((400, body))

    def block(self, chat_id: int) -> None:
        """The citizen blocked the bot: sends to ``chat_id`` get 403."""
        self.blocked_chats.add(chat_id)

    def add_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates."""
        self.updates.append(update)
        self._new_update.set()

    # --- inspection -----------------------------------------------------------
    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """Texts and captions of sendMessage/sendPhoto calls that were answered ok."""
        return [
            c.params.get("text") or c.params.get("caption") or ""
            for c in self.calls
            if c.method in ("sendMessage", "sendPhoto")
            and c.params.get("ok", True)
            and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until ``method`` has been called ``count`` times."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.calls_to(method)) < count:
            if loop.time() > deadline:
                raise AssertionError(f"{method} called {len(self.calls_to(method))}x, not {count}")
            await asyncio.sleep(0.01)

    # --- the API ----------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = _decode(dict(await request.post()))
        call = ApiCall(method, params)
        self.calls.append(call)
        queued = self._errors.get(method)
        if queued:
            status, body = queued.pop(0)
            params["ok"] = False
            return web.json_response(body, status=status)
        if params.get("chat_id") in self.blocked_chats:
            params["ok"] = False
            return _error(403, "Forbidden: bot was blocked by the user")
        return await self._answer(method, params)

    async def _answer(self, method: str, params: dict[str, Any]) -> web.StreamResponse:
        if method in ("sendMessage", "sendPhoto"):
            return _ok(self._message(method, params))
        if method in ("answerCallbackQuery", "deleteWebhook", "setWebhook", "sendChatAction"):
            return _ok(True)
        if method == "getMe":
            return _ok({"id": 1, "is_bot": True, "first_name": "12345", "username": "dg12345_bot"})
        if method == "getUpdates":
            return _ok(await self._get_updates(params))
        return _error(404, "Not Found: method not found")

    def _message(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._message_id += 1
        message: dict[str, Any] = {
            "message_id": self._message_id,
            "date": int(time.time()),
            "chat": {"id": params["chat_id"], "type": "private"},
        }
        if method == "sendPhoto":
            message["photo"] = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
            if params.get("caption"):
                message["caption"] = params["caption"]
        else:
            message["text"] = params.get("text", "")
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(params.get("timeout") or 0)
        while True:
            ready = [u for u in self.updates if u["update_id"] >= offset]
            remaining = deadline - loop.time()
            if ready or remaining <= 0:
                return ready
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), remaining)
            except TimeoutError:
                pass


def _decode(form: dict[str, Any]) -> dict[str, Any]:
    """ptb posts form fields; objects and numbers arrive JSON-encoded."""
    params: dict[str, Any] = {}
    for key, value in form.items():
        if key in _JSON_PARAMS and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        params[key] = value
    return params


def _ok(result: Any) -> web.StreamResponse:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str) -> web.StreamResponse:
    return web.json_response(
        {"ok": False, "error_code": status, "description": description}, status=status
    )


# --- updates as Telegram sends them ---------------------------------------------
def _user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "市民", "language_code": "zh-hans"}


def message_update(update_id: int, chat_id: int, **content: Any) -> dict[str, Any]:
    """An update with a private-chat message; ``content`` is e.g. ``text="你好"``."""
    chat_type = content.pop("chat_type", "private")
    message = {
        "message_id": 1000 + update_id,
        "date": 1_700_000_000,
        "chat": {"id": chat_id, "type": chat_type},
        "from": _user(chat_id),
        **content,
    }
    return {"update_id": update_id, "message": message}


def text_update(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    return message_update(update_id, chat_id, text=text)


def callback_update(
    update_id: int, chat_id: int, data: str, keyboard: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A button press on a bot message that carried ``keyboard`` (its reply_markup)."""
    message: dict[str, Any] = {
        "message_id": 99,
        "date": 1_700_000_000,
        "chat": {"id": chat_id, "type": "private"},
        "text": "请选择：",
    }
    if keyboard is not None:
        message["reply_markup"] = keyboard
    query = {
        "id": f"cbq-{update_id}",
        "from": _user(chat_id),
        "chat_instance": "ci-1",
        "data": data,
        "message": message,
    }
    return {"update_id": update_id, "callback_query": query}
