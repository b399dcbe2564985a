"""What ``python -m hotline_rasa`` takes from the environment for a deployment
(hotline_rasa/deployment.py): the action server's URL and the Redis stores for
endpoints*.yml, MODEL_VERSION; and Rasa's own tracker and lock stores, built
by Rasa from endpoints.redis.yml, against a Redis server that asks for a
password and speaks only TLS."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotline_rasa.deployment import (
    DeploymentError,
    endpoint_environment,
    redis_settings,
    with_model_version,
)
from hotline_rasa.tests.conftest import ROOT
from hotline_rasa.tests.redis_server import RedisUnavailable, SecuredRedis, secured_redis


def test_the_action_server_url_defaults_to_loopback_and_follows_the_environment() -> None:
    env: dict[str, str] = {}
    endpoint_environment(env)
    assert env["ACTION_SERVER_URL"] == "http://127.0.0.1:5055"
    env = {"ACTION_SERVER_URL": "http://actions.hotline.svc:5055/"}
    endpoint_environment(env)
    assert env["ACTION_SERVER_URL"] == "http://actions.hotline.svc:5055"


def test_a_tls_redis_url_with_a_password_becomes_the_endpoint_variables() -> None:
    got = redis_settings("rediss://hotline:p%40ss@redis.internal:6380/2?ssl_ca_certs=/run/ca.pem")
    assert got == {
        "REDIS_HOST": "redis.internal",
        "REDIS_PORT": "6380",
        "REDIS_DB": "2",
        "REDIS_USERNAME": "hotline",
        "REDIS_PASSWORD": "p@ss",
        "REDIS_USE_SSL": "true",
        "REDIS_SSL_CA_CERTS": "/run/ca.pem",
    }
    plain = redis_settings("redis://127.0.0.1")
    assert (plain["REDIS_PORT"], plain["REDIS_DB"], plain["REDIS_USE_SSL"]) == (
        "6379",
        "0",
        "false",
    )
    assert plain["REDIS_PASSWORD"] == ""


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://redis:6379", "redis:// or rediss://"),
        ("redis://redis:port/0", "bad port"),
        ("redis://redis:6379/cache", "must be a number"),
    ],
)
def test_a_bad_redis_url_stops_the_start_naming_it(url: str, message: str) -> None:
    with pytest.raises(DeploymentError, match=message):
        redis_settings(url)


def test_without_redis_the_variables_are_empty_not_missing() -> None:
    env: dict[str, str] = {}
    endpoint_environment(env)
    assert env["REDIS_PASSWORD"] == "" and env["REDIS_USE_SSL"] == ""


@pytest.mark.parametrize("name", ["endpoints.yml", "endpoints.redis.yml"])
def test_rasa_reads_both_endpoints_files_from_the_environment(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.core.utils import AvailableEndpoints

    env = {
        "ACTION_SERVER_URL": "http://actions-1.hotline:5055",
        "ACTION_SERVER_TOKEN": "t" * 32,
        "REDIS_URL": "rediss://:secret@redis.hotline:6380/1",
    }
    endpoint_environment(env)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / name))
    assert endpoints.action.url == "http://actions-1.hotline:5055/webhook"
    assert endpoints.action.headers["Authorization"] == "Bearer " + "t" * 32
    if name == "endpoints.redis.yml":
        for store in (endpoints.tracker_store, endpoints.lock_store):
            assert store.url == "redis.hotline"
            assert store.kwargs["password"] == "secret"
            assert store.kwargs["use_ssl"] == "true"


# --- MODEL_VERSION -------------------------------------------------------------


def write_model(folder: Path, version: str, content: bytes = b"model") -> Path:
    model = folder / f"{version}.tar.gz"
    model.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    model.with_name(model.name + ".sha256").write_text(f"{digest}  {model.name}\n")
    return model


def test_model_version_names_the_file_rasa_loads(tmp_path: Path) -> None:
    old = write_model(tmp_path, "hotline-20261201-aaaa")
    write_model(tmp_path, "hotline-20261205-bbbb")  # newer: Rasa's own rule would take it
    argv = ["rasa", "run", "--enable-api", "--model", str(tmp_path), "--port", "5005"]
    got = with_model_version(argv, {"MODEL_VERSION": "hotline-20261201-aaaa"})
    assert got == ["rasa", "run", "--enable-api", "--port", "5005", "--model", str(old)]


def test_model_version_without_model_argument_uses_models_dir(tmp_path: Path) -> None:
    model = write_model(tmp_path, "hotline-20261201-aaaa")
    env = {"MODEL_VERSION": "hotline-20261201-aaaa.tar.gz", "MODELS_DIR": str(tmp_path)}
    assert with_model_version(["rasa", "run"], env) == ["rasa", "run", "--model", str(model)]


def test_no_model_version_keeps_rasas_own_choice(tmp_path: Path) -> None:
    argv = ["rasa", "run", "--model", str(tmp_path)]
    assert with_model_version(argv, {}) == argv
    # training and tests are not "run": untouched
    assert with_model_version(["rasa", "train"], {"MODEL_VERSION": "x"}) == ["rasa", "train"]


def test_a_missing_version_stops_the_start_listing_what_is_there(tmp_path: Path) -> None:
    write_model(tmp_path, "hotline-20261201-aaaa")
    env = {"MODEL_VERSION": "hotline-20261205-cccc"}
    with pytest.raises(DeploymentError, match="hotline-20261201-aaaa"):
        with_model_version(["rasa", "run", "--model", str(tmp_path)], env)


def test_a_model_that_does_not_match_its_checksum_is_refused(tmp_path: Path) -> None:
    model = write_model(tmp_path, "hotline-20261201-aaaa")
    model.write_bytes(b"truncated")
    with pytest.raises(DeploymentError, match="checksum"):
        with_model_version(["rasa", "run", "-m", str(tmp_path)], {"MODEL_VERSION": model.name})


@pytest.mark.parametrize("version", ["../etc/passwd", "a/b", "", " x", "-rf"])
def test_a_version_is_a_plain_name(version: str, tmp_path: Path) -> None:
    if not version.strip():
        argv = ["rasa", "run"]
        assert with_model_version(argv, {"MODEL_VERSION": version}) == argv
        return
    with pytest.raises(DeploymentError, match="MODEL_VERSION"):
        with_model_version(["rasa", "run", "--model", str(tmp_path)], {"MODEL_VERSION": version})


# --- Rasa's stores on a Redis with a password and TLS ----------------------------


@pytest.fixture(params=["password", "password+tls"])
def secured(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SecuredRedis]:
    try:
        with secured_redis(tmp_path, tls=request.param.endswith("tls")) as server:
            yield server
    except RedisUnavailable as exc:
        pytest.skip(str(exc))


def stores_from_endpoints(url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """Rasa's tracker and lock stores as `rasa run` builds them from endpoints.redis.yml."""
    from rasa.core.lock_store import LockStore
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.domain import Domain

    env = {"REDIS_URL": url, "ACTION_SERVER_TOKEN": "t" * 32}
    endpoint_environment(env)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.redis.yml"))
    tracker_store = TrackerStore.create(endpoints.tracker_store, Domain.empty())
    return tracker_store, LockStore.create(endpoints.lock_store)


async def test_rasas_stores_work_on_a_redis_with_password_and_tls(
    secured: SecuredRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.core.lock_store import RedisLockStore as RasasLockStore
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from hotline_rasa.tracker_store import MaskingRedisTrackerStore

    tracker_store, lock_store = stores_from_endpoints(secured.url, monkeypatch)
    assert isinstance(tracker_store, MaskingRedisTrackerStore)
    assert isinstance(lock_store, RasasLockStore)
    sender = "rest:" + uuid.uuid4().hex
    tracker = DialogueStateTracker(sender, slots=[])
    tracker.update(UserUttered("你好", intent={"name": "greet", "confidence": 1.0}))
    await tracker_store.save(tracker)
    again = await tracker_store.retrieve(sender)
    assert again is not None and again.latest_message.text == "你好"
    async with lock_store.lock(sender, wait_time_in_seconds=0.05):
        assert lock_store.red.exists(lock_store.key_prefix + sender)
    # the connection really is TLS (or not) as the URL says
    connection = tracker_store.red.connection_pool.get_connection("PING")
    try:
        assert type(connection).__name__ == ("SSLConnection" if secured.tls else "Connection")
    finally:
        tracker_store.red.connection_pool.release(connection)


def test_a_wrong_password_is_refused_not_ignored(
    secured: SecuredRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    wrong = secured.url.replace(secured.password, "not-the-password")
    tracker_store, _ = stores_from_endpoints(wrong, monkeypatch)
    with pytest.raises(redis.exceptions.AuthenticationError):
        tracker_store.red.ping()


def test_rasa_takes_the_key_prefixes_of_endpoints_redis_yml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rasa 3.6 silently drops a prefix that is not alphanumeric (it once did
    "hotline_tracker": trackers went to the bare "tracker:" keys)."""
    import yaml

    config = yaml.safe_load((ROOT / "endpoints.redis.yml").read_text())
    tracker_store, lock_store = stores_from_endpoints("redis://127.0.0.1:6379/0", monkeypatch)
    assert tracker_store.key_prefix == config["tracker_store"]["key_prefix"] + ":tracker:"
    assert lock_store.key_prefix == config["lock_store"]["key_prefix"] + ":lock:"
