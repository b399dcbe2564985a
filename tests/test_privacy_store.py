"""The front door's own copies in Redis hold no plaintext phone or ID number.

A citizen types a phone and an ID number on the REST channel (the fake Rasa
echoes it) and an agent's message with a phone number is pushed to the REST
outbox. A dump of every key under the front door's Redis prefix (strings,
lists, hashes, sets, sorted sets) taken while Rasa works on the message (the
hub's inbox entry), after the answer (the stored result) and while the
agent's message waits (the REST outbox) holds none of them in plaintext;
still, Rasa got the raw text, the citizen gets the exact replies, and the
transcript an agent reads shows the numbers masked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from bot.app import HUB_KEY, create_app
from bot.config import Settings
from bot.db import Database
from bot.db.crypto import Cipher
from bot.messages import OutboundMessage
from bot.rasa_client import RasaClient
from bot.store.redis import RedisStore
from channels import registry
from tests.db.dump import ID_NUMBER, PHONE, assert_no_plaintext, redis_dump
from tests.fakes.rasa import FakeRasa
from tests.support.rest_auth import REST_AUTH, rest_cid

pytestmark = pytest.mark.redis

PATH = "/webhooks/rest/webhook"
TYPED = f"我的电话138 1234 5678，身份证号{ID_NUMBER}，楼下太吵了"
AGENT_TEXT = f"王先生您好，我们稍后拨打{PHONE}与您联系"


async def test_front_door_store_holds_no_plaintext_numbers(
    fake_rasa: FakeRasa,
    make_settings: Callable[..., Settings],
    redis_url: str,
    redis_prefix: str,
    aiohttp_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(registry, "OPTIONAL_CHANNELS", ())
    settings = make_settings(rasa_url=fake_rasa.url)
    db = Database(f"sqlite:///{tmp_path / 'hotline.db'}", cipher=Cipher([Fernet.generate_key()]))
    store = RedisStore(redis_url, redis_prefix)
    rasa = RasaClient(fake_rasa.url, settings.rasa_timeout)
    client = await aiohttp_client(create_app(settings, store=store, db=db, rasa=rasa))
    hub = client.app[HUB_KEY]
    cid = rest_cid("citizen-1")

    # while Rasa works on the message: the inbox entry is in the store
    fake_rasa.delay = (0.5, 0.5)
    sent = asyncio.ensure_future(
        client.post(PATH, json={"sender": "citizen-1", "message": TYPED}, headers=REST_AUTH)
    )
    for _ in range(200):
        keys, during = redis_dump(redis_url, redis_prefix)
        if f"inbox:{cid}" in keys:
            break
        await asyncio.sleep(0.01)
    assert f"inbox:{cid}" in keys, keys
    assert_no_plaintext(during)

    resp = await sent
    assert resp.status == 200
    assert [m["text"] for m in await resp.json()] == [f"echo: {TYPED}"]  # exact replies
    assert fake_rasa.by_sender[cid] == [TYPED]  # Rasa got the raw text
    # The result is stored for other replicas after the replies are written
    # (bot/hub_transcript.py, write-behind); the hub's reads wait for that.
    await hub.history(cid)
    keys, after = redis_dump(redis_url, redis_prefix)
    assert any(k.startswith(f"result:rest:{cid[5:]}:") for k in keys), keys
    assert_no_plaintext(after)

    # an agent's message for a REST sender waits in the outbox
    fake_rasa.delay = (0.0, 0.0)
    await hub.push(cid, [OutboundMessage(text=AGENT_TEXT, sender="agent:li")])
    keys, waiting = redis_dump(redis_url, redis_prefix)
    assert f"rest:outbox:{cid[5:]}" in keys, keys
    assert_no_plaintext(waiting)
    resp = await client.post(
        PATH, json={"sender": "citizen-1", "message": "好的"}, headers=REST_AUTH
    )
    assert [m["text"] for m in await resp.json()] == [AGENT_TEXT, "echo: 好的"]
    assert_no_plaintext(redis_dump(redis_url, redis_prefix)[1])

    # the transcript the agent's console shows: the numbers masked
    shown = [e.text for e in await hub.history(cid)]
    assert shown[0] == "我的电话138 **** 5678，身份证号110105********002X，楼下太吵了"
    assert "王先生您好，我们稍后拨打138****5678与您联系" in shown
    assert_no_plaintext("\n".join(t or "" for t in shown))
