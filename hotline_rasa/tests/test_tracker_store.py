"""Rasa's tracker store keeps no plaintext phone / ID number (hotline_rasa/tracker_store.py).

The masking itself (hotline_rasa.masking, the same cases as the front door's
bot.privacy) is tested in test_masking.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from cryptography.fernet import Fernet

from hotline_rasa.tests.conftest import ROOT

PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"
ENCRYPTED = "enc:" + Fernet(Fernet.generate_key()).encrypt(PHONE.encode()).decode()


@pytest.fixture
def tracker_prefix() -> Iterator[str]:
    prefix = "test" + uuid.uuid4().hex[:12]  # Rasa takes alphanumeric prefixes only
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    yield prefix
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def dump(prefix: str) -> str:
    """Every key under ``prefix`` and its value, as one text."""
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0", decode_responses=True)
    try:
        parts = [f"{key}={client.get(key)}" for key in client.scan_iter(match=f"{prefix}:*")]  # type: ignore[str-bytes-safe]
    finally:
        client.close()
    return "\n".join(parts)


def make_store(prefix: str, **kwargs: Any) -> Any:
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import EndpointConfig

    config = EndpointConfig(
        url="127.0.0.1",
        type="hotline_rasa.tracker_store.MaskingRedisTrackerStore",
        port="6379",
        db="0",
        password="",
        key_prefix=prefix,
        **kwargs,
    )
    return TrackerStore.create(config, domain())


def domain() -> Any:
    from rasa.shared.core.domain import Domain

    slot = "\n    type: text\n    influence_conversation: false\n    mappings: [{type: custom}]"
    return Domain.from_yaml(
        f'version: "3.1"\nslots:\n  contact_phone:{slot}\n  complaint_what:{slot}\n'
    )


def conversation(sender: str) -> Any:
    from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker(sender, slots=domain().slots)
    said = f"我的电话是{PHONE}，身份证{ID_NUMBER}"
    entity = {"entity": "phone", "value": PHONE, "start": 5, "end": 16}
    tracker.update(
        UserUttered(
            said,
            intent={"name": "inform", "confidence": 0.9},
            entities=[entity],
            parse_data={"text": said, "intent": {"name": "inform"}, "entities": [entity]},
        )
    )
    tracker.update(SlotSet("contact_phone", PHONE))  # the slot mapping's raw value
    tracker.update(SlotSet("contact_phone", ENCRYPTED))  # the form's validated value
    tracker.update(SlotSet("complaint_what", f"打{PHONE}没人接"))
    tracker.update(BotUttered(f"联系电话：{PHONE}"))
    return tracker


async def test_stored_tracker_holds_no_plaintext_number(tracker_prefix: str) -> None:
    from hotline_rasa.tracker_store import MaskingRedisTrackerStore

    store = make_store(tracker_prefix)
    assert isinstance(store, MaskingRedisTrackerStore)  # Rasa loaded our class, not its fallback
    await store.save(conversation("rest:abc"))
    await store.save(conversation("rest:abc"))  # a second save merges with the stored one
    text = dump(tracker_prefix)
    assert text, "nothing was stored"
    for secret in (PHONE, ID_NUMBER, "1381234", "19491231"):
        assert secret not in text
    assert "138****5678" in text

    again = await store.retrieve("rest:abc")
    # the encrypted value comes back as it was stored: the next turn can decrypt it
    assert again.get_slot("contact_phone") == ENCRYPTED
    assert again.get_slot("complaint_what") == "打138****5678没人接"
    stored = json.loads(text.split("=", 1)[1])
    assert stored["name"] == "rest:abc"


async def test_tracker_expires_after_the_retention_period(
    tracker_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETENTION_DAYS", "30")
    store = make_store(tracker_prefix)
    await store.save(conversation("rest:ttl"))
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        ttls = [client.ttl(key) for key in client.scan_iter(match=f"{tracker_prefix}:*")]
    finally:
        client.close()
    assert ttls and all(29 * 86400 < ttl <= 30 * 86400 for ttl in ttls)


def test_retention_default_is_180_days() -> None:
    from hotline_rasa.tracker_store import retention_seconds

    assert retention_seconds({}) == 180 * 86400
    with pytest.raises(ValueError, match="RETENTION_DAYS"):
        retention_seconds({"RETENTION_DAYS": "0"})


def test_redis_endpoints_use_the_masking_tracker_store() -> None:
    import yaml

    from hotline_rasa.tracker_store import MaskingRedisTrackerStore

    config = yaml.safe_load((ROOT / "endpoints.redis.yml").read_text())["tracker_store"]
    module, name = config["type"].rsplit(".", 1)
    assert getattr(__import__(module, fromlist=[name]), name) is MaskingRedisTrackerStore
    assert "record_exp" not in config  # it follows RETENTION_DAYS


def test_hotline_rasa_does_not_import_bot() -> None:
    import ast

    for path in (ROOT / "hotline_rasa").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for top in ("bot", "channels", "actions", "tests"):
                assert not any(n == top or n.startswith(top + ".") for n in names), path
