"""Rasa started the way the containers start it (deploy/images/rasa.Dockerfile):
``python -m hotline_rasa run`` with endpoints.redis.yml, everything from the
environment: the model by MODEL_VERSION (checksummed), the action server by
ACTION_SERVER_URL, the tracker and lock stores by REDIS_URL on a Redis that
asks for a password and speaks only TLS, the action server on the same Redis.
A conversation goes through; its tracker lands in that Redis.

The model is a small one trained here on two intents (about half a minute:
KeywordIntentClassifier and RulePolicy with the project's domain), so this
runs without the project's model; the project's model goes through the same
launcher in the other tests of this folder."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet

from bot.knowledge_editor.scripts import script
from hotline_rasa.tests.redis_server import RedisUnavailable, SecuredRedis, secured_redis
from tests.deploy.test_manifests import RASA_PROBE_PATH
from tests.rasa.conftest import (
    RASA_PYTHON,
    RASA_TOKEN,
    ROOT,
    http_json,
    run_action_server,
    run_rasa,
)

pytestmark = pytest.mark.rasa

VERSION = "hotline-20991231-deploysmoke"
ACTION_TOKEN = "deployed-rasa-action-token-0123456789"
CONFIG = """recipe: default.v1
language: zh
assistant_id: deploy-smoke
pipeline:
  - name: KeywordIntentClassifier
policies:
  - name: RulePolicy
"""
NLU = """version: "3.1"
nlu:
  - intent: greet
    examples: |
      - 你好
      - 您好
  - intent: goodbye
    examples: |
      - 再见
      - 拜拜
"""
RULES = """version: "3.1"
rules:
  - rule: greet
    steps:
      - intent: greet
      - action: utter_greet
"""


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models directory with one version and its checksum, as `make model` leaves it."""
    work = tmp_path_factory.mktemp("small-model")
    (work / "data").mkdir()
    (work / "config.yml").write_text(CONFIG, encoding="utf-8")
    (work / "data" / "nlu.yml").write_text(NLU, encoding="utf-8")
    (work / "data" / "rules.yml").write_text(RULES, encoding="utf-8")
    models = work / "models"
    subprocess.run(  # noqa: S603 - the Rasa environment's interpreter
        [str(RASA_PYTHON), "-m", "rasa", "train", "--domain", str(ROOT / "domain.yml"),
         "--config", str(work / "config.yml"), "--data", str(work / "data"),
         "--out", str(models), "--fixed-model-name", VERSION],
        cwd=work, check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    script("train").write_checksum(models / f"{VERSION}.tar.gz")
    return models


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredRedis]:
    try:
        with secured_redis(tmp_path_factory.mktemp("tls-redis"), tls=True) as server:
            yield server
    except RedisUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def deployed(
    small_model: Path, tls_redis: SecuredRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    actions_var = tmp_path_factory.mktemp("deployed-actions")
    actions_env = {
        "REDIS_URL": tls_redis.url,
        "HOTLINE_DATA_KEYS": Fernet.generate_key().decode(),
        "ACTION_SERVER_TOKEN": ACTION_TOKEN,
        "RASA_AUTH_TOKEN": RASA_TOKEN,
    }
    with run_action_server(actions_var, actions_env) as actions_url:
        env = {
            "REDIS_URL": tls_redis.url,
            "ACTION_SERVER_URL": actions_url,
            "ACTION_SERVER_TOKEN": ACTION_TOKEN,
            "MODEL_VERSION": VERSION,
        }
        var = tmp_path_factory.mktemp("deployed-rasa")
        with run_rasa(small_model, ROOT / "endpoints.redis.yml", var, env) as server:
            yield {**server, "actions_log": str(actions_var / "actions.log")}


def test_a_conversation_goes_through_and_its_tracker_is_in_the_tls_redis(
    deployed: dict[str, str], tls_redis: SecuredRedis
) -> None:
    status, body = http_json(f"{deployed['url']}/status?token={RASA_TOKEN}")
    assert status == 200 and body["model_file"].endswith(f"{VERSION}.tar.gz")
    status, replies = http_json(
        deployed["url"] + "/webhooks/rest/webhook",
        {"sender": "rest:t:deploy-smoke", "message": "你好"},
        {"Authorization": f"Bearer {RASA_TOKEN}"},
    )
    assert status == 200 and replies and replies[0]["text"]
    client = redis.Redis.from_url(tls_redis.url)
    try:
        assert client.exists("hotlinetracker:tracker:rest:t:deploy-smoke")
    finally:
        client.close()
    # the session start ran on the action server, with the token accepted
    # (Rasa logs a refused action as "Failed to run custom action ... status
    # code of 401"; a bare "401" also matches timestamps' microseconds)
    log = Path(deployed["log"]).read_text()
    assert "Failed to run custom action" not in log
    assert re.search(r"status code of 401|\b401 Unauthorized\b", log) is None
    assert "refused" not in Path(deployed["actions_log"]).read_text()


def test_the_probe_path_answers_without_the_token(deployed: dict[str, str]) -> None:
    """deploy/ probes Rasa on GET / (as Rasa's own Helm chart does;
    tests/deploy/test_manifests.py RASA_PROBE_PATH): it answers without the
    token once the model is loaded, while /status needs the token."""
    import urllib.request

    url = deployed["url"] + RASA_PROBE_PATH
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - loopback
        assert resp.status == 200 and b"Rasa" in resp.read()
    assert http_json(deployed["url"] + "/status")[0] == 401
