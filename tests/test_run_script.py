"""scripts/run.sh (`make run`): when one of its processes dies while starting,
it says which one, stops the other two and exits non-zero at once.

Before, with the front door's port taken, it kept Rasa and the action server
running and polled the health check for six minutes. These tests run the real
script (SKIP_TRAIN=1: the model in models/ as it is, or none; Rasa never gets
far enough to need it), bounded in time, on free ports and a temp var/.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port, listening_socket

ROOT = Path(__file__).resolve().parents[1]
BOUND = 120  # seconds: far below the old six minutes, far above a normal failure


def _ours_still_running(marker: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in text:
            found.append(text)
    return found


@pytest.fixture
def taken_port() -> Iterator[int]:
    sock = listening_socket()
    yield int(sock.getsockname()[1])
    sock.close()


def run_script(tmp_path: Path, **ports: int) -> tuple[int, str, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env |= {
        "SKIP_TRAIN": "1",
        "HOTLINE_VAR_DIR": str(tmp_path),
        "STARTUP_TIMEOUT": str(BOUND),
        "WEBCHAT_SECRET": "s" * 48,
        "PORT": str(ports.get("front", free_port())),
        "RASA_PORT": str(ports.get("rasa", free_port())),
        "ACTION_SERVER_PORT": str(ports.get("actions", free_port())),
    }
    started = time.monotonic()
    proc = subprocess.Popen(  # noqa: S603 - our own script
        ["bash", "scripts/run.sh"], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=BOUND + 30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail("run.sh kept running:\n" + out.decode(errors="replace"))
    return proc.returncode, out.decode(errors="replace"), time.monotonic() - started


def test_front_door_port_taken_stops_everything(tmp_path: Path, taken_port: int) -> None:
    rasa_port = free_port()
    code, out, took = run_script(tmp_path, front=taken_port, rasa=rasa_port)
    assert code == 1, out
    assert "ERROR: the front door stopped while starting" in out
    assert "stopping the others" in out
    assert took < BOUND
    assert _ours_still_running(f"--port {rasa_port}") == []
    assert _ours_still_running(f"HOTLINE_VAR_DIR={tmp_path}") == []


def test_action_server_port_taken_stops_everything(tmp_path: Path, taken_port: int) -> None:
    rasa_port = free_port()
    code, out, took = run_script(tmp_path, actions=taken_port, rasa=rasa_port)
    assert code == 1, out
    assert "ERROR: the action server stopped while starting" in out
    assert str(tmp_path / "log" / "actions.log") in out
    assert took < BOUND
    assert _ours_still_running(f"--port {rasa_port}") == []


def test_front_door_alone_port_taken_fails_at_once(tmp_path: Path, taken_port: int) -> None:
    """``python -m bot`` on a taken port: one clear line, exit code 1, long before
    the stop's watchdog (it used to open everything, fail, and hang in a
    database thread until the watchdog ended it 30 s later)."""
    from bot.__main__ import STOP_GRACE

    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env |= {
        "HOST": "127.0.0.1",
        "PORT": str(taken_port),
        "HOTLINE_VAR_DIR": str(tmp_path),
        "WEBCHAT_SECRET": "s" * 48,
        "PYTHONPATH": str(ROOT),
    }
    started = time.monotonic()
    proc = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "bot"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=BOUND,
    )  # fmt: skip
    took = time.monotonic() - started
    out = proc.stdout.decode(errors="replace")
    assert proc.returncode == 1, out
    errors = [line for line in out.splitlines() if " ERROR " in line]
    assert len(errors) == 1, out
    assert f"127.0.0.1:{taken_port}" in errors[0], out
    assert "address already in use" in errors[0], out
    assert "Traceback" not in out, out
    assert "database ready" not in out, out  # nothing was opened
    assert took < STOP_GRACE / 2, out  # far below the watchdog's bound (a normal run: ~1 s)
