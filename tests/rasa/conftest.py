"""A trained model, a real action server and a real database for dialogue tests.

The model is the one `scripts/train.py` keeps in models/ (trained once, reused
while data and config are unchanged); these tests are skipped with a clear
reason when no model exists (`make train`). The action server runs as its own
process (python -m bot.action_server, as `make run` starts it) on a free
loopback port with a SQLite database in a temp folder; the Agent sends it the
action server's token, as Rasa does from endpoints.yml.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ACTION_SERVER_TOKEN = "dialogue-tests-action-token-0123456789"


def newest_model() -> Path | None:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    var = tmp_path_factory.mktemp("action-server")
    port = _free_port()
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    env = {
        **os.environ,
        "SANIC_HOST": "127.0.0.1",
        "HOTLINE_VAR_DIR": str(var),
        "HOTLINE_DATA_KEYS": key,
        "PYTHONPATH": str(ROOT),
        "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
    }
    env.pop("DATABASE_URL", None)
    log = (var / "actions.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.action_server", "--actions", "actions", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1)  # noqa: S310 - loopback
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError((var / "actions.log").read_text()) from None
                time.sleep(0.5)
        yield {"url": url, "var": str(var), "keys": key, "token": ACTION_SERVER_TOKEN}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # sanic's graceful stop can hang under load
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def model_path() -> Path:
    model = newest_model()
    if model is None:
        pytest.skip("no trained model in models/: run `make train` (make test does)")
    return model


@pytest.fixture(scope="session")
def agent(model_path: Path, action_server: dict[str, str]) -> object:
    """Loaded once: Agent.load is synchronous and binds to no event loop."""
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    from hotline_rasa import install

    install()  # the same Rasa as `make up` runs (python -m hotline_rasa)
    endpoint = EndpointConfig(
        url=f"{action_server['url']}/webhook",
        headers={"Authorization": f"Bearer {action_server['token']}"},
    )
    return Agent.load(str(model_path), action_endpoint=endpoint)
