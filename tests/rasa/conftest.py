"""A trained model served by a real Rasa server, a real action server and a
real database for dialogue tests, in the app's environment.

Rasa runs in its own environment (Python 3.10, ``.venv-rasa``; the
interpreter is ``$RASA_PYTHON``, by default ROOT/.venv-rasa/bin/python) and
these tests never import it: they start ``python -m hotline_rasa run
--enable-api`` from that interpreter, as `make run` does, and talk to it over
HTTP (its REST channel, hotline_rasa.channel.TokenRestInput from
credentials.yml, with the Bearer token; its HTTP API with ``?token=``).

The model is the one `scripts/train.py` keeps in models/ (trained once, reused
while data and config are unchanged); these tests are skipped with a clear
reason when no model exists (`make train`). The action server runs as its own
process (python -m bot.action_server from this environment's interpreter, as
`make run` starts it) on a free loopback port with a SQLite database in a temp
folder; Rasa sends it the action server's token, as endpoints.yml says.

Loading the model takes Rasa 30-60 s: one server (``rasa_server``) serves the
whole session; a test that needs another configuration starts its own with
:func:`run_rasa` once per module.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.ports import free_port
from tests.support.processes import start_action_server

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = Path(os.environ.get("RASA_PYTHON") or ROOT / ".venv-rasa" / "bin" / "python")
ACTION_SERVER_TOKEN = "dialogue-tests-action-token-0123456789"
#: Rasa's --auth-token and the REST channel's token (RASA_AUTH_TOKEN, never on a command line).
RASA_TOKEN = "rasa-auth-test-token-0123456789"
#: How long Rasa may take to load the model on a busy machine.
RASA_START_SECONDS = 300.0


def newest_model() -> Path | None:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def http_json(
    url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 60
) -> tuple[int, Any]:
    """A blocking JSON request on loopback: (status, parsed body or None)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data, {"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


def _stop(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:  # sanic's graceful stop can hang under load
        proc.kill()
        proc.wait(10)


@contextmanager
def run_rasa(
    model: Path,
    endpoints: Path,
    var: Path,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> Iterator[dict[str, str]]:
    """``python -m hotline_rasa run --enable-api`` from the Rasa environment.

    Yields ``{"url", "log"}`` once the model is loaded (``/status`` names it).
    ``env`` adds to the environment (ACTION_SERVER_TOKEN for endpoints.yml);
    RASA_AUTH_TOKEN is :data:`RASA_TOKEN`. ``port``: where it listens (a free
    one by default).
    """
    if not RASA_PYTHON.exists():
        pytest.fail(f"no Rasa environment at {RASA_PYTHON} (set RASA_PYTHON or make install)")
    port = port or free_port()
    full_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOTLINE_VAR_DIR": str(var),
        "RASA_AUTH_TOKEN": RASA_TOKEN,
        **(env or {}),
    }
    for name in ("VIRTUAL_ENV", "PYTHONHOME"):  # this environment's, not Rasa's
        full_env.pop(name, None)
    log = var / "rasa.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - the Rasa environment's interpreter
            [str(RASA_PYTHON), "-m", "hotline_rasa", "run", "--enable-api",
             "--interface", "127.0.0.1", "--port", str(port), "--model", str(model),
             "--endpoints", str(endpoints), "--credentials", "credentials.yml"],
            cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + RASA_START_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"Rasa stopped (exit {proc.returncode}):\n{log.read_text()[-4000:]}")
            try:
                status, body = http_json(f"{url}/status?token={RASA_TOKEN}", timeout=5)
            except OSError:
                status, body = 0, None
            if status == 200 and (body or {}).get("model_file"):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"Rasa did not load the model in time:\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        yield {"url": url, "log": str(log)}
    finally:
        _stop(proc)


@contextmanager
def run_action_server(var: Path, env: Mapping[str, str]) -> Iterator[str]:
    """``python -m bot.action_server`` from this environment; yields its URL."""
    port = free_port()
    full_env = {
        **os.environ,
        "SANIC_HOST": "127.0.0.1",
        "HOTLINE_VAR_DIR": str(var),
        "PYTHONPATH": str(ROOT),
        **env,
    }
    if "DATABASE_URL" not in env:
        full_env.pop("DATABASE_URL", None)
    proc = start_action_server(port, full_env, var / "actions.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc, 20)


@pytest.fixture(scope="session")
def rasa_port() -> int:
    """The session Rasa server's port, chosen before the action server starts:
    the action server parses parts of a several-question message there
    (``RASA_URL``, actions/faq.py), as `make run` configures it."""
    return free_port()


@pytest.fixture(scope="session")
def action_server(
    tmp_path_factory: pytest.TempPathFactory, rasa_port: int
) -> Iterator[dict[str, str]]:
    var = tmp_path_factory.mktemp("action-server")
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    env = {
        "HOTLINE_DATA_KEYS": key,
        "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "RASA_AUTH_TOKEN": RASA_TOKEN,
    }
    with run_action_server(var, env) as url:
        yield {"url": url, "var": str(var), "keys": key, "token": ACTION_SERVER_TOKEN}


@pytest.fixture(scope="session")
def model_path() -> Path:
    model = newest_model()
    if model is None:
        pytest.skip("no trained model in models/: run `make train` (make test does)")
    return model


@pytest.fixture(scope="session")
def rasa_server(
    model_path: Path,
    action_server: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    rasa_port: int,
) -> Iterator[dict[str, str]]:
    """Rasa as `make run` starts it: endpoints.yml (the test action server's
    URL in ACTION_SERVER_URL, the same token header) and credentials.yml."""
    var = tmp_path_factory.mktemp("rasa")
    env = {"ACTION_SERVER_TOKEN": action_server["token"], "ACTION_SERVER_URL": action_server["url"]}
    with run_rasa(model_path, ROOT / "endpoints.yml", var, env, rasa_port) as server:
        yield server
