"""channels/rest.py through the whole app: validation, replies, busy, dead store, outbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import HUB_KEY, create_app
from bot.config import Settings
from bot.hub import BUSY_TEXT
from bot.messages import OutboundMessage
from bot.rasa_client import RasaClient
from bot.store import MemoryStore, SharedStore
from bot.store.redis import RedisStore
from channels import registry
from tests.fakes.db import FakeDatabase
from tests.fakes.rasa import FakeRasa

PATH = "/webhooks/rest/webhook"
AppFactory = Callable[..., Awaitable[tuple[TestClient, FakeDatabase, SharedStore]]]


@pytest.fixture
async def rest_app(
    fake_rasa: FakeRasa,
    make_settings: Callable[..., Settings],
    aiohttp_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[AppFactory]:
    """The front door with only the REST channel, fake Rasa and an in-memory database."""
    monkeypatch.setattr(registry, "OPTIONAL_CHANNELS", ())

    async def make(store: SharedStore | None = None, **overrides: Any) -> Any:
        settings = make_settings(rasa_url=fake_rasa.url, **overrides)
        db = FakeDatabase()
        store = store or MemoryStore()
        rasa = RasaClient(fake_rasa.url, settings.rasa_timeout)
        app = create_app(settings, store=store, db=db, rasa=rasa)  # type: ignore[arg-type]
        return await aiohttp_client(app), db, store

    yield make


async def test_message_is_answered_in_rasa_format(rest_app: AppFactory) -> None:
    client, db, _ = await rest_app()
    resp = await client.post(
        PATH, json={"sender": "alice", "message": "你好", "metadata": {"a": 1}}
    )
    assert resp.status == 200
    assert resp.headers["X-Hotline-Status"] == "ok"
    assert await resp.json() == [{"recipient_id": "alice", "text": "echo: 你好"}]
    assert [e.direction for e in db.transcripts.entries] == ["in", "out"]
    assert db.transcripts.entries[0].conversation_id == "rest:alice"


async def test_buttons_and_custom_pass_through(rest_app: AppFactory, fake_rasa: FakeRasa) -> None:
    fake_rasa.replies["/greet"] = [
        {"text": "请选择", "buttons": [{"title": "咨询", "payload": "/consult"}]},
        {"image": "https://example.org/a.png"},
        {"custom": {"card": 1}},
    ]
    client, _, _ = await rest_app()
    resp = await client.post(PATH, json={"sender": "bob", "message": "/greet"})
    assert await resp.json() == [
        {
            "recipient_id": "bob",
            "text": "请选择",
            "buttons": [{"title": "咨询", "payload": "/consult"}],
        },
        {"recipient_id": "bob", "image": "https://example.org/a.png"},
        {"recipient_id": "bob", "custom": {"card": 1}},
    ]


BAD_BODIES = [
    pytest.param(b"{not json", "malformed JSON", id="malformed-json"),
    pytest.param(b"\xff\xfe\x00", "malformed JSON", id="not-utf8"),
    pytest.param(b"", "malformed JSON", id="empty-body"),
    pytest.param(b"[1, 2]", "JSON object", id="not-an-object"),
    pytest.param({"message": "你好"}, "sender", id="missing-sender"),
    pytest.param({"sender": "", "message": "你好"}, "sender", id="empty-sender"),
    pytest.param({"sender": "  ", "message": "你好"}, "sender", id="blank-sender"),
    pytest.param({"sender": 42, "message": "你好"}, "sender", id="sender-not-string"),
    pytest.param({"sender": "a" * 201, "message": "你好"}, "sender", id="sender-too-long"),
    pytest.param({"sender": "alice"}, "message", id="missing-message"),
    pytest.param({"sender": "alice", "message": ""}, "message", id="empty-message"),
    pytest.param({"sender": "alice", "message": ["x"]}, "message", id="message-not-string"),
    pytest.param({"sender": "alice", "message": "x" * 5001}, "5000", id="message-too-long"),
    pytest.param({"sender": "alice", "message": "x", "metadata": [1]}, "metadata", id="metadata"),
    pytest.param({"sender": "alice", "message": "x", "message_id": 7}, "message_id", id="msg-id"),
]


@pytest.mark.parametrize(("body", "error"), BAD_BODIES)
async def test_bad_request_is_400_and_writes_nothing(
    body: bytes | dict[str, Any], error: str, rest_app: AppFactory, fake_rasa: FakeRasa
) -> None:
    client, db, store = await rest_app()
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    resp = await client.post(PATH, data=data, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert error in (await resp.json())["error"]
    assert db.transcripts.entries == [] and db.events.items == []
    assert [k async for k in store.scan()] == []
    assert fake_rasa.calls == []


@pytest.mark.parametrize("chunked", [False, True])
async def test_oversized_body_is_413_and_writes_nothing(
    chunked: bool, rest_app: AppFactory, fake_rasa: FakeRasa
) -> None:
    client, db, store = await rest_app(max_body_bytes=4096)
    body = json.dumps({"sender": "alice", "message": "长" * 3000}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 1000):
            yield body[i : i + 1000]

    resp = await client.post(PATH, data=chunks() if chunked else body)
    assert resp.status == 413
    assert "4096" in (await resp.json())["error"]
    assert db.transcripts.entries == [] and fake_rasa.calls == []
    assert [k async for k in store.scan()] == []


async def test_rasa_failure_is_a_distinguishable_busy_reply(
    rest_app: AppFactory, fake_rasa: FakeRasa
) -> None:
    fake_rasa.status_code = 500
    client, db, _ = await rest_app()
    resp = await client.post(PATH, json={"sender": "alice", "message": "你好"})
    assert resp.status == 200
    assert resp.headers["X-Hotline-Status"] == "busy"
    assert await resp.json() == [{"recipient_id": "alice", "text": BUSY_TEXT}]
    assert db.events.kinds() == ["rasa_busy"]


async def test_dead_store_is_503(rest_app: AppFactory, redis_prefix: str) -> None:
    client, db, _ = await rest_app(store=RedisStore("redis://127.0.0.1:1/0", redis_prefix))
    resp = await client.post(PATH, json={"sender": "alice", "message": "你好"})
    assert resp.status == 503
    assert resp.headers["Retry-After"]
    assert await resp.json() == {"error": "service temporarily unavailable"}
    assert db.transcripts.entries == []


async def test_message_id_dedupes(rest_app: AppFactory, fake_rasa: FakeRasa) -> None:
    client, _, _ = await rest_app()
    body = {"sender": "alice", "message": "你好", "message_id": "abc"}
    assert len(await (await client.post(PATH, json=body)).json()) == 1
    again = await client.post(PATH, json=body)
    assert again.headers["X-Hotline-Status"] == "duplicate"
    assert await again.json() == []
    no_id = {"sender": "alice", "message": "你好"}
    await client.post(PATH, json=no_id)
    await client.post(PATH, json=no_id)
    assert len(fake_rasa.calls) == 3  # requests without an id are never deduped


async def test_pushed_messages_come_with_the_next_answer(rest_app: AppFactory) -> None:
    client, db, _ = await rest_app()
    hub = client.app[HUB_KEY]
    await hub.push("rest:alice", [OutboundMessage(text="人工客服：您好", sender="agent:li")])
    resp = await client.post(PATH, json={"sender": "alice", "message": "在吗"})
    assert [m["text"] for m in await resp.json()] == ["人工客服：您好", "echo: 在吗"]
    resp = await client.post(PATH, json={"sender": "alice", "message": "好的"})
    assert [m["text"] for m in await resp.json()] == ["echo: 好的"]
    assert [e.sender for e in db.transcripts.entries][0] == "agent:li"


async def test_wrong_method_is_405(rest_app: AppFactory) -> None:
    client, _, _ = await rest_app()
    assert (await client.get(PATH)).status == 405


async def test_unexpected_error_is_json_500_without_internals(
    rest_app: AppFactory,
    fake_rasa: FakeRasa,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, _, _ = await rest_app()

    phone = "138" + "00138000"

    async def broken(*args: Any, **kwargs: Any) -> web.Response:
        raise RuntimeError("secret internals " + phone)

    monkeypatch.setattr(client.app[HUB_KEY], "handle", broken)
    resp = await client.post(PATH, json={"sender": "alice", "message": "你好"})
    assert resp.status == 500
    text = await resp.text()
    assert json.loads(text) == {"error": "internal server error"}
    assert "secret" not in text
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "aiohttp" not in resp.headers.get("Server", "")
    assert "RuntimeError" in caplog.text and phone not in caplog.text
