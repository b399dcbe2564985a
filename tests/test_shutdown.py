"""SIGTERM stops the front door deterministically (the real process, ``python -m bot``).

With an agent's console socket and a citizen's widget socket open, a few
handoffs queued and a turn in flight (the fake Rasa slow), SIGTERM must:
answer the turn in flight, close both sockets with 1001 ("going away", the
widget reconnects to another replica), exit within the bound with code 0
(no thread left behind, every engine disposed), free the port at once, and
lose nothing (transcript rows present). On SQLite and on PostgreSQL + Redis.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from bot.db.engine import create_sync, parse_url
from tests.console.conftest import HANDOFF_REPLY
from tests.db.conftest import pg_factory  # noqa: F401  (fixture)
from tests.fakes.rasa import FakeActionServer, FakeRasa
from tests.support.ports import free_port
from tests.support.processes import wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent
REST_TOKEN = "shutdown-test-token-0123456789"
PASSWORD = "correct-horse-42"
SHUTDOWN_TIMEOUT = 5.0
#: Python's own start and import time, on top of the bound (2 busy cores).
EXIT_MARGIN = 5.0
SLOW_TURN = 1.5


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        return {}
    if not _redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return {
        "DATABASE_URL": request.getfixturevalue("pg_factory")(),
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "REDIS_PREFIX": f"shutdown-{os.getpid()}-{time.monotonic_ns()}",
    }


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/0").ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture
async def rasa() -> AsyncIterator[FakeRasa]:
    server = FakeRasa()
    server.replies["转人工"] = HANDOFF_REPLY
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def actions() -> AsyncIterator[FakeActionServer]:
    server = FakeActionServer()
    await server.start()
    yield server
    await server.close()


def _env(port: int, tmp_path: Path, rasa: FakeRasa, actions: FakeActionServer) -> dict[str, str]:
    keep = ("REDIS_URL", "DATABASE_URL", "REST_TOKENS", "HOTLINE_DATA_KEYS", "WEBCHAT_SECRET")
    env = {k: v for k, v in os.environ.items() if k not in keep}
    return env | {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "RASA_URL": rasa.url,
        "ACTION_SERVER_URL": actions.url,
        "HOTLINE_VAR_DIR": str(tmp_path),
        "WEBCHAT_SECRET": "s" * 48,
        "HOTLINE_DATA_KEYS": Fernet.generate_key().decode(),
        "REST_TOKENS": REST_TOKEN,
        "SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT),
        "SERVICE_HOURS": "00:00-24:00",
        "CONSOLE_PASSWORD": PASSWORD,
    }


async def _run(env: dict[str, str], *args: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()


async def _rest(http: aiohttp.ClientSession, base: str, sender: str, text: str) -> Any:
    headers = {"Authorization": f"Bearer {REST_TOKEN}"}
    body = {"sender": sender, "message": text}
    async with http.post(f"{base}/webhooks/rest/webhook", json=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def _closed_with(ws: aiohttp.ClientWebSocketResponse) -> int | None:
    """The code of the server's close frame, as a browser reports it (None: no frame)."""
    while True:
        msg = await ws.receive(timeout=SHUTDOWN_TIMEOUT + EXIT_MARGIN)
        if msg.type == aiohttp.WSMsgType.CLOSE:
            return int(msg.data)
        if msg.type == aiohttp.WSMsgType.CLOSED:
            return None


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
    return True


def _transcript(env: dict[str, str], tmp_path: Path) -> list[tuple[str, str, str]]:
    url = env.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'hotline.db'}"
    engine = create_sync(parse_url(url), write=False)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT conversation_id, direction, text FROM transcripts ORDER BY seq")
            ).all()
    finally:
        engine.dispose()
    return [(r[0], r[1], r[2] or "") for r in rows]


async def test_sigterm_finishes_turns_closes_everything_and_exits(
    backend_env: dict[str, str],
    rasa: FakeRasa,
    actions: FakeActionServer,
    tmp_path: Path,
) -> None:
    port = free_port()
    env = _env(port, tmp_path, rasa, actions) | backend_env
    await _run(
        env, "-m", "bot.console", "create-user", "--username", "agent1", "--role", "agent",
        "--display-name", "坐席一",
    )  # fmt: skip
    log = tmp_path / "frontdoor.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    stopping = 0.0
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            await wait_until_healthy(http, base, proc, log)
            # an agent's console socket
            login = {"username": "agent1", "password": PASSWORD}
            async with http.post(f"{base}/console/login", json=login) as resp:
                assert resp.status == 200, await resp.text()
            async with http.get(f"{base}/console/api/me") as resp:
                csrf = (await resp.json())["csrf_token"]
            agent_ws = await http.ws_connect(f"{base}/console/ws", params={"csrf": csrf})
            # a citizen's widget socket
            async with http.post(f"{base}/webchat/session") as resp:
                session = await resp.json()
            widget = await http.ws_connect(f"{base}/webchat/ws", params={"token": session["token"]})
            # a few handoffs queued
            for n in range(3):
                await _rest(http, base, f"queued{n}", "转人工")
            # a turn in flight
            rasa.delay = (SLOW_TURN, SLOW_TURN)
            turn = asyncio.create_task(_rest(http, base, "inflight", "最后一个问题"))
            while not any(c["message"] == "最后一个问题" for c in rasa.calls):
                assert not turn.done(), turn
                await asyncio.sleep(0.02)
            stopping = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            answer = await turn
            assert [r["text"] for r in answer] == ["echo: 最后一个问题"]
            codes = await asyncio.gather(_closed_with(agent_ws), _closed_with(widget))
            assert codes == [1001, 1001], log.read_text()
            await asyncio.wait_for(proc.wait(), SHUTDOWN_TIMEOUT + EXIT_MARGIN)
            took = time.monotonic() - stopping
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
            if stopping:
                pytest.fail(f"the front door did not exit after SIGTERM\n{log.read_text()}")
    text = log.read_text()
    assert proc.returncode == 0, text
    assert took < SHUTDOWN_TIMEOUT + EXIT_MARGIN, text
    assert _port_free(port), "the port is still taken after the process exited"
    rows = _transcript(env, tmp_path)
    mine = [(d, t) for cid, d, t in rows if cid.endswith(":inflight")]
    assert mine == [("in", "最后一个问题"), ("out", "echo: 最后一个问题")], rows
    queued = {cid for cid, d, t in rows if d == "in" and t == "转人工"}
    assert len(queued) == 3, rows
    assert "Traceback" not in text, text
