"""The action server as `make run` starts it (python -m bot.action_server):
only Rasa, holding ACTION_SERVER_TOKEN, may run actions; SIGTERM lets the
request in flight finish (bounded) and exits.

Its pooled aiosqlite connections run in non-daemon threads; before the
database was closed with the server, the process outlived SIGTERM until it
was killed (the benchmark waited 15 s for it, `make up` left it behind).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.ports import free_port
from tests.support.processes import start_action_server

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "action-server-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
        self.proc, self.base, self.log = proc, base, log

    def call(
        self, action: str, text: str, headers: dict[str, str], timeout: float = 30
    ) -> tuple[int, Any]:
        tracker = {
            "sender_id": "rest:t:t1", "slots": {}, "events": [], "paused": False,
            "latest_message": {"text": text, "intent": {"name": "nlu_fallback"}},
            "followup_action": None, "active_loop": {}, "latest_action_name": None,
        }  # fmt: skip
        body = {"next_action": action, "sender_id": "rest:t:t1", "tracker": tracker, "domain": {}}
        request = urllib.request.Request(  # noqa: S310 - loopback
            self.base + "/webhook",
            json.dumps(body).encode(),
            {"Content-Type": "application/json", **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def start(actions: str = "actions", **env_extra: str) -> Server:
        port = free_port()
        env = dict(
            os.environ,
            HOTLINE_VAR_DIR=str(tmp_path),
            PYTHONPATH=str(ROOT),
            ACTION_SERVER_TOKEN=TOKEN,
            **env_extra,
        )
        env.pop("DATABASE_URL", None)
        log = tmp_path / f"actions-{port}.log"
        proc = start_action_server(port, env, log, actions)
        started.append(proc)
        return Server(proc, f"http://127.0.0.1:{port}", log)

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_only_the_holder_of_the_token_runs_actions(start_server: Any, tmp_path: Path) -> None:
    """Any local process used to be able to run actions as any citizen."""
    server = start_server()
    with urllib.request.urlopen(server.base + "/health", timeout=5) as resp:  # noqa: S310
        assert resp.status == 200  # the health check stays open
    for headers in (
        {},
        {"Authorization": "Bearer " + "x" * len(TOKEN)},
        {"Authorization": "Bearer " + TOKEN[:-1]},
        {"Authorization": TOKEN},
    ):
        status, body = server.call("action_handle_fallback", "啊啊", headers)
        assert status == 401 and "error" in body
    assert not (tmp_path / "hotline.db").exists()  # no action ran
    request = urllib.request.Request(server.base + "/actions")  # noqa: S310 - loopback
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310
    assert refused.value.code == 401
    status, body = server.call("action_handle_fallback", "啊啊", AUTH)
    assert status == 200 and body["responses"]
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(10) == 0
    log = server.log.read_text()
    assert log.count("missing or wrong token") == 5 and TOKEN not in log


def test_sigterm_after_database_use_stops_the_action_server(
    start_server: Any, tmp_path: Path
) -> None:
    server = start_server()
    assert server.call("action_handle_fallback", "啊啊", AUTH)[0] == 200
    assert (tmp_path / "hotline.db").exists()  # the action used the database
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(10) == 0
    assert time.monotonic() - started < 5


def test_sigterm_lets_the_request_in_flight_finish(start_server: Any) -> None:
    server = start_server("tests.actions.slow_action")
    result: list[tuple[int, Any]] = []
    caller = threading.Thread(target=lambda: result.append(server.call("action_slow", "2", AUTH)))
    caller.start()
    time.sleep(0.8)  # the action is running
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    caller.join(20)
    assert result and result[0][0] == 200
    assert result[0][1]["responses"][0]["text"] == "好了"
    assert server.proc.wait(10) == 0
    assert time.monotonic() - started < 5


def test_sigterm_waits_no_longer_than_the_grace(start_server: Any) -> None:
    """A request that outlasts ACTION_SERVER_SHUTDOWN_GRACE is cut off there."""
    server = start_server("tests.actions.slow_action", ACTION_SERVER_SHUTDOWN_GRACE="1")
    result: list[Any] = []

    def call() -> None:
        try:
            result.append(server.call("action_slow", "30", AUTH))
        except Exception as exc:  # noqa: BLE001 - the connection is aborted
            result.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.8)
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(10) == 0
    assert time.monotonic() - started < 4
    caller.join(10)
    assert result and not isinstance(result[0], tuple)  # no answer: it was cut off
