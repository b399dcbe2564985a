"""Rasa as `make run` starts it (python -m hotline_rasa run --enable-api ...,
from the Rasa environment: the session's ``rasa_server``, tests/rasa/conftest.py):
its HTTP API needs RASA_AUTH_TOKEN (--auth-token), its REST input channel
(hotline_rasa.channel.TokenRestInput from credentials.yml) refuses a request
without the token, and Rasa sends ACTION_SERVER_TOKEN to the action server.

Before, any local process could read a citizen's tracker, inject events,
load a model, or talk to Rasa as any sender.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.rasa_client import RasaClient, RasaUnavailable
from tests.rasa.conftest import RASA_TOKEN
from tests.rasa.conftest import http_json as _http

pytestmark = pytest.mark.rasa


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
