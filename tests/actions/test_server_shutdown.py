"""The action server stops promptly on SIGTERM after it has used the database.

Its pooled aiosqlite connections run in non-daemon threads; before the
database was closed with the server, the process outlived SIGTERM until it
was killed (the benchmark waited 15 s for it, `make up` left it behind).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sigterm_after_database_use_stops_the_action_server(tmp_path: Path) -> None:
    port = _free_port()
    env = dict(os.environ, HOTLINE_VAR_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.1)
        tracker = {
            "sender_id": "rest:t1", "slots": {}, "events": [], "paused": False,
            "latest_message": {"text": "啊啊", "intent": {"name": "nlu_fallback"}},
            "followup_action": None, "active_loop": {}, "latest_action_name": None,
        }  # fmt: skip
        body = {"next_action": "action_handle_fallback", "sender_id": "rest:t1"}
        request = urllib.request.Request(  # noqa: S310 - loopback
            base + "/webhook",
            json.dumps(body | {"tracker": tracker, "domain": {}}).encode(),
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
            assert resp.status == 200
        assert (tmp_path / "hotline.db").exists()  # the action used the database
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert time.monotonic() - started < 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
