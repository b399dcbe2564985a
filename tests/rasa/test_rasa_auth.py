"""Rasa as `make run` starts it (python -m hotline_rasa run --enable-api ...):
its HTTP API needs RASA_AUTH_TOKEN (--auth-token), its REST input channel
(hotline_rasa.channel.TokenRestInput from credentials.yml) refuses a request
without the token, and Rasa sends ACTION_SERVER_TOKEN to the action server.

Before, any local process could read a citizen's tracker, inject events,
load a model, or talk to Rasa as any sender.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.rasa_client import RasaClient, RasaUnavailable
from tests.rasa.conftest import ROOT, _free_port

pytestmark = pytest.mark.rasa

RASA_TOKEN = "rasa-auth-test-token-0123456789"


def _http(url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data, {"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


@pytest.fixture(scope="module")
def rasa_server(
    model_path: Path, action_server: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    var = tmp_path_factory.mktemp("rasa")
    endpoints = var / "endpoints.yml"
    # endpoints.yml with the test action server's port: the same header.
    text = (ROOT / "endpoints.yml").read_text()
    endpoints.write_text(text.replace("http://127.0.0.1:5055", action_server["url"]))
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOTLINE_VAR_DIR": str(var),
        "RASA_AUTH_TOKEN": RASA_TOKEN,
        "ACTION_SERVER_TOKEN": action_server["token"],
    }
    log = var / "rasa.log"
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "hotline_rasa", "run", "--enable-api",
         "--interface", "127.0.0.1", "--port", str(port), "--model", str(model_path),
         "--endpoints", str(endpoints), "--credentials", "credentials.yml"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            assert proc.poll() is None, log.read_text()
            try:
                urllib.request.urlopen(url + "/", timeout=1)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.5)
        yield {"url": url, "log": str(log)}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_rasa_command_line_does_not_show_the_token(rasa_server: dict[str, str]) -> None:
    cmdlines = [p.read_bytes() for p in Path("/proc").glob("[0-9]*/cmdline") if p.exists()]
    assert not any(RASA_TOKEN.encode() in c for c in cmdlines)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer " + "x" * 31}, {"Authorization": RASA_TOKEN}],
    ids=["none", "wrong", "no-scheme"],
)
def test_rest_channel_refuses_a_request_without_the_token(
    rasa_server: dict[str, str], headers: dict[str, str]
) -> None:
    body = {"sender": "rest:t:victim", "message": "你好"}
    status, _ = _http(rasa_server["url"] + "/webhooks/rest/webhook", body, headers)
    assert status == 401
    # nothing reached the victim's conversation
    tracker_url = f"{rasa_server['url']}/conversations/rest:t:victim/tracker?token={RASA_TOKEN}"
    status, tracker = _http(tracker_url)
    assert status == 200
    assert not [e for e in tracker["events"] if e["event"] == "user"]
    assert "missing or wrong token" in Path(rasa_server["log"]).read_text()


def test_http_api_needs_the_token(rasa_server: dict[str, str]) -> None:
    base = rasa_server["url"]
    assert _http(f"{base}/conversations/rest:t:someone/tracker")[0] == 401
    events = [{"event": "slot", "name": "complaint_phone", "value": "13800000000"}]
    assert _http(f"{base}/conversations/rest:t:someone/tracker/events", events)[0] == 401
    assert _http(f"{base}/status")[0] == 401
    assert _http(f"{base}/status?token={RASA_TOKEN}")[0] == 200


async def test_front_door_client_talks_with_the_token_and_actions_run(
    rasa_server: dict[str, str], action_server: dict[str, str]
) -> None:
    """The whole chain: front door -> Rasa (token) -> action server (its token)."""
    client = RasaClient(rasa_server["url"], 60.0, auth_token=RASA_TOKEN)
    try:
        assert await client.model_loaded()
        replies = await client.send("rest:t:auth-chain", "/request_service_guide")
        assert replies
    finally:
        await client.close()
    # action_start_service_guide ran on the action server: its slot events are there
    url = f"{rasa_server['url']}/conversations/rest:t:auth-chain/tracker?token={RASA_TOKEN}"
    events = _http(url)[1]["events"]
    names = [e.get("name") for e in events]
    start = names.index("action_start_service_guide")
    assert {"event": "slot", "name": "service_mode"}.items() <= next(
        e for e in events[start:] if e.get("name") == "service_mode"
    ).items()
    log = (Path(action_server["var"]) / "actions.log").read_text()
    assert "missing or wrong token" not in log
    anonymous = RasaClient(rasa_server["url"], 60.0)
    try:
        with pytest.raises(RasaUnavailable, match="401"):
            await anonymous.send("rest:t:auth-chain", "你好")
        with pytest.raises(RasaUnavailable, match="401"):
            await anonymous.status()
    finally:
        await anonymous.close()
