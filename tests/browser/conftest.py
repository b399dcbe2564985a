"""Browser fixtures: the real front door on a random local port, a scripted
fake Rasa, and Debian's headless chromium driven by Playwright.

The tests are marked ``browser`` and skipped with a clear reason when
``/usr/bin/chromium`` is missing (install it with ``apt-get install chromium
fonts-noto-cjk``; never ``playwright install``: there is no internet).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.fernet import Fernet

from bot.app import HUB_KEY, create_app
from bot.config import ROOT, OpsSettings, Secret, Settings
from bot.hub import Hub

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "var" / "screenshots"

GUIDE_TEXT = "办理居住证需要身份证、居住地址证明和近期照片。线上申请请访问 https://www.gdzwfw.gov.cn/，您想了解哪种办理方式？"
ONLINE_TEXT = "线上办理：打开粤省事小程序，搜索“居住证”，完成实名认证后按提示填写信息并上传材料。"
OFFLINE_TEXT = "线下办理：请携带材料到居住地所在社区出租屋管理服务站办理。"
GREETING = "您好，我是东莞12345智能助手，请问有什么可以帮您？"


class ScriptedRasa:
    """A tiny Rasa REST webhook that answers by the message text, with buttons."""

    def __init__(self) -> None:
        self.app = web.Application()
        self.app.router.add_post("/webhooks/rest/webhook", self._webhook)
        self.app.router.add_get("/status", self._status)
        self.seen: list[str] = []
        self.delay = 0.0  # seconds before each answer
        self.server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.seen.append(body["message"])
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response(self.reply(body["sender"], body["message"]))

    @staticmethod
    def reply(sender: str, message: str) -> list[dict[str, Any]]:
        if "居住证" in message:
            buttons = [
                {"title": "线上办理", "payload": '/inform_service_mode{"mode":"online"}'},
                {"title": "线下办理", "payload": '/inform_service_mode{"mode":"offline"}'},
            ]
            return [{"recipient_id": sender, "text": GUIDE_TEXT, "buttons": buttons}]
        if message.startswith("/inform_service_mode"):
            entities = message.removeprefix("/inform_service_mode") or "{}"
            mode = json.loads(entities).get("mode")
            text = ONLINE_TEXT if mode == "online" else OFFLINE_TEXT
            return [{"recipient_id": sender, "text": text}]
        return [{"recipient_id": sender, "text": GREETING}]

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response({"model_file": "models/fake.tar.gz", "model_id": "fake"})


@pytest.fixture
async def scripted_rasa() -> AsyncIterator[ScriptedRasa]:
    rasa = ScriptedRasa()
    rasa.server = TestServer(rasa.app, host="127.0.0.1")
    await rasa.server.start_server()
    yield rasa
    await rasa.server.close()


def browser_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """The front door's settings in browser tests: SQLite in ``tmp_path``, a fresh
    data key ring, a widget secret (no generated files under var/)."""
    values: dict[str, Any] = {
        "rasa_timeout": 5.0,
        "database_url": f"sqlite:///{tmp_path / 'hotline.db'}",
        "data_keys": Secret(Fernet.generate_key().decode()),
        "webchat_secret": Secret("browser-test-secret-" + "x" * 32),
        "ops": OpsSettings(scheduler_seconds=0.0),  # no backups into var/ from a test
    }
    return Settings(**(values | overrides))


@dataclass
class FrontDoor:
    url: str
    app: web.Application

    @property
    def hub(self) -> Hub:
        return self.app[HUB_KEY]


@pytest.fixture
async def front_door(scripted_rasa: ScriptedRasa, tmp_path: Path) -> AsyncIterator[FrontDoor]:
    """The real front door (SQLite in tmp_path, in-process store) on 127.0.0.1:<random port>."""
    app = create_app(browser_settings(tmp_path, rasa_url=scripted_rasa.url))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield FrontDoor(str(server.make_url("")).rstrip("/"), app)
    await server.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
def screenshot_path() -> Callable[[str], Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return lambda name: SCREENSHOTS / name


def only_token_stored(storage: dict[str, str]) -> bool:
    """The widget keeps nothing in localStorage but its session token."""
    return set(storage) == {"dg12345.webchat.token"} and bool(
        re.match(r"^v1\.[0-9a-f]{32}\.\d+\.", storage["dg12345.webchat.token"])
    )
