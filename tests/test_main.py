"""bot/__main__.py: the event loop the front door runs on, and the process itself.

The process test starts ``python -m bot`` as production does (on both
loops) against the fake Rasa and action server on 127.0.0.1 and sends a
message through the REST channel and the whole hub.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import __main__ as entry
from tests.fakes.rasa import FakeActionServer, FakeRasa
from tests.support.ports import free_port, listening_socket
from tests.support.processes import wait_until_healthy
from tests.support.rest_auth import REST_AUTH, REST_TOKEN

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def policies(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The policies ``choose_event_loop`` installs, instead of installing them."""
    installed: list[Any] = []
    monkeypatch.setattr(entry.asyncio, "set_event_loop_policy", installed.append)
    return installed


def test_uvloop_when_asked_for(policies: list[Any]) -> None:
    import uvloop

    assert entry.choose_event_loop(" UVLoop ") == "uvloop"
    assert len(policies) == 1 and isinstance(policies[0], uvloop.EventLoopPolicy)


def test_asyncio_is_the_default(policies: list[Any]) -> None:
    assert entry.choose_event_loop(None) == "asyncio"
    assert entry.choose_event_loop("asyncio") == "asyncio"
    assert policies == []


def test_unknown_loop_is_a_configuration_error(policies: list[Any]) -> None:
    with pytest.raises(SystemExit, match="EVENT_LOOP must be 'uvloop' or 'asyncio'"):
        entry.choose_event_loop("tokio")
    assert policies == []


def test_missing_uvloop_falls_back_to_asyncio(
    policies: list[Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import raises ImportError
    assert entry.choose_event_loop("uvloop") == "asyncio"
    assert policies == []
    assert "uvloop is not installed" in caplog.text


async def test_tests_run_on_the_loop_test_event_loop_names() -> None:
    """The suite's own switch (tests/conftest.py) really changes the loop."""
    wanted = os.environ.get("TEST_EVENT_LOOP", "asyncio")
    module = type(asyncio.get_running_loop()).__module__
    assert module.startswith("uvloop") == (wanted == "uvloop")


@pytest.mark.parametrize("loop_name", ["uvloop", "asyncio"])
async def test_front_door_process_answers(
    loop_name: str,
    fake_rasa: FakeRasa,
    fake_action_server: FakeActionServer,
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env |= {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "RASA_URL": fake_rasa.url,
        "ACTION_SERVER_URL": fake_action_server.url,
        "HOTLINE_VAR_DIR": str(tmp_path),
        "WEBCHAT_SECRET": "s" * 48,
        "EVENT_LOOP": loop_name,
        "REST_TOKENS": f"t:{REST_TOKEN}",
    }
    log = tmp_path / "frontdoor.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await wait_until_healthy(http, base, proc, log)
            for n in range(3):
                async with http.post(
                    f"{base}/webhooks/rest/webhook",
                    json={"sender": "c1", "message": f"问题{n}"},
                    headers=REST_AUTH,
                ) as resp:
                    assert resp.status == 200
                    assert await resp.json() == [{"recipient_id": "c1", "text": f"echo: 问题{n}"}]
        # one conversation, each message once and in order (Rasa's sender id is namespaced)
        assert list(fake_rasa.by_sender.values()) == [["问题0", "问题1", "问题2"]]
        assert f"front door listening on 127.0.0.1:{port} ({loop_name})" in log.read_text()
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, log.read_text()


def test_a_thread_left_behind_ends_the_process_with_1(tmp_path: Path) -> None:
    """A worker thread that outlives the stop would keep the interpreter waiting for
    ever (threading._shutdown); the front door names it and exits 1 within the
    join bound. Here the start fails (the port is taken) with such a thread running."""
    taken = listening_socket()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env |= {
        "HOST": "127.0.0.1",
        "PORT": str(taken.getsockname()[1]),
        "HOTLINE_VAR_DIR": str(tmp_path),
        "WEBCHAT_SECRET": "s" * 48,
    }
    stuck = (
        "import runpy, threading; "
        "threading.Thread(target=threading.Event().wait, name='stuck-worker').start(); "
        "runpy.run_module('bot', run_name='__main__')"
    )
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-c", stuck], cwd=ROOT, env=env, capture_output=True, timeout=30
        )
    finally:
        taken.close()
    output = done.stderr.decode() + done.stdout.decode()
    assert done.returncode == 1, output
    assert "threads still running after the stop: stuck-worker" in output
    assert time.monotonic() - started < entry.THREAD_JOIN_TIMEOUT + 15
