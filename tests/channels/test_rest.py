"""channels/rest.py through the whole app: tokens, validation, replies, busy, dead store, outbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import HUB_KEY, create_app
from bot.config import Settings, parse_rest_tokens
from bot.hub import BUSY_TEXT
from bot.messages import OutboundMessage
from bot.rasa_client import RasaClient
from bot.store import MemoryStore, SharedStore
from bot.store.redis import RedisStore
from channels import registry
from tests.fakes.db import TempDatabase
from tests.fakes.rasa import FakeRasa

PATH = "/webhooks/rest/webhook"
TOKEN_A = "app-token-" + "a" * 22
TOKEN_B = "tool-token-" + "b" * 21
TOKENS = parse_rest_tokens(f"app:{TOKEN_A},tool:{TOKEN_B}")
AUTH = {"Authorization": f"Bearer {TOKEN_A}"}
AUTH_B = {"Authorization": f"Bearer {TOKEN_B}"}
AppFactory = Callable[..., Awaitable[tuple[TestClient, TempDatabase, SharedStore]]]


@pytest.fixture
async def rest_app(
    fake_rasa: FakeRasa,
    make_settings: Callable[..., Settings],
    aiohttp_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[AppFactory]:
    """The front door with only the REST channel, fake Rasa and an in-memory database."""
    monkeypatch.setattr(registry, "OPTIONAL_CHANNELS", ())

    async def make(store: SharedStore | None = None, db: Any = None, **overrides: Any) -> Any:
        overrides.setdefault("rest_tokens", TOKENS)
        settings = make_settings(rasa_url=fake_rasa.url, **overrides)
        db = db or TempDatabase()
        store = store or MemoryStore()
        rasa = RasaClient(fake_rasa.url, settings.rasa_timeout)
        app = create_app(settings, store=store, db=db, rasa=rasa)  # type: ignore[arg-type]
        return await aiohttp_client(app), db, store

    yield make


async def test_message_is_answered_in_rasa_format(rest_app: AppFactory) -> None:
    client, db, _ = await rest_app()
    resp = await client.post(
        PATH, json={"sender": "alice", "message": "你好", "metadata": {"a": 1}}, headers=AUTH
    )
    assert resp.status == 200
    assert resp.headers["X-Hotline-Status"] == "ok"
    assert await resp.json() == [{"recipient_id": "alice", "text": "echo: 你好"}]
    entries = await db.transcript(at_least=2)
    assert [e.direction for e in entries] == ["in", "out"]
    assert entries[0].conversation_id == "rest:app:alice"


async def test_buttons_and_custom_pass_through(rest_app: AppFactory, fake_rasa: FakeRasa) -> None:
    fake_rasa.replies["/greet"] = [
        {"text": "请选择", "buttons": [{"title": "咨询", "payload": "/consult"}]},
        {"image": "https://example.org/a.png"},
        {"custom": {"card": 1}},
    ]
    client, _, _ = await rest_app()
    resp = await client.post(PATH, json={"sender": "bob", "message": "/greet"}, headers=AUTH)
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
    pytest.param({"sender": "a" * 129, "message": "你好"}, "128", id="sender-too-long"),
    pytest.param({"sender": "a b", "message": "你好"}, "sender", id="sender-space"),
    pytest.param({"sender": "张三", "message": "你好"}, "sender", id="sender-not-ascii"),
    pytest.param({"sender": "a/../b", "message": "你好"}, "sender", id="sender-slash"),
    pytest.param({"sender": "a\nb", "message": "你好"}, "sender", id="sender-newline"),
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
    resp = await client.post(PATH, data=data, headers={"Content-Type": "application/json", **AUTH})
    assert resp.status == 400
    assert error in (await resp.json())["error"]
    assert await db.transcript() == [] and await db.event_kinds() == []
    assert await request_keys(store) == []
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

    resp = await client.post(PATH, data=chunks() if chunked else body, headers=AUTH)
    assert resp.status == 413
    assert "4096" in (await resp.json())["error"]
    assert await db.transcript() == [] and fake_rasa.calls == []
    assert await request_keys(store) == []


async def test_rasa_failure_is_a_distinguishable_busy_reply(
    rest_app: AppFactory, fake_rasa: FakeRasa
) -> None:
    fake_rasa.status_code = 500
    client, db, _ = await rest_app()
    resp = await client.post(PATH, json={"sender": "alice", "message": "你好"}, headers=AUTH)
    assert resp.status == 200
    assert resp.headers["X-Hotline-Status"] == "busy"
    assert await resp.json() == [{"recipient_id": "alice", "text": BUSY_TEXT}]
    assert await db.event_kinds() == ["rasa_busy"]


async def test_dead_store_is_503(rest_app: AppFactory, redis_prefix: str) -> None:
    client, db, _ = await rest_app(store=RedisStore("redis://127.0.0.1:1/0", redis_prefix))
    resp = await client.post(PATH, json={"sender": "alice", "message": "你好"}, headers=AUTH)
    assert resp.status == 503
    assert resp.headers["Retry-After"]
    assert await resp.json() == {"error": "service temporarily unavailable"}
    assert await db.transcript() == []


async def test_message_id_dedupes(rest_app: AppFactory, fake_rasa: FakeRasa) -> None:
    client, _, _ = await rest_app()
    body = {"sender": "alice", "message": "你好", "message_id": "abc"}
    first = await (await client.post(PATH, json=body, headers=AUTH)).json()
    assert len(first) == 1
    again = await client.post(PATH, json=body, headers=AUTH)
    assert again.headers["X-Hotline-Status"] == "duplicate"
    assert await again.json() == first  # the first answer again, not a second turn
    no_id = {"sender": "alice", "message": "你好"}
    await client.post(PATH, json=no_id, headers=AUTH)
    await client.post(PATH, json=no_id, headers=AUTH)
    assert len(fake_rasa.calls) == 3  # requests without an id are never deduped


async def test_pushed_messages_come_with_the_next_answer(rest_app: AppFactory) -> None:
    client, db, _ = await rest_app()
    hub = client.app[HUB_KEY]
    await hub.push("rest:app:alice", [OutboundMessage(text="人工客服：您好", sender="agent:li")])
    resp = await client.post(PATH, json={"sender": "alice", "message": "在吗"}, headers=AUTH)
    assert [m["text"] for m in await resp.json()] == ["人工客服：您好", "echo: 在吗"]
    resp = await client.post(PATH, json={"sender": "alice", "message": "好的"}, headers=AUTH)
    assert [m["text"] for m in await resp.json()] == ["echo: 好的"]
    assert [e.sender for e in await db.transcript()][0] == "agent:li"


async def test_wrong_method_is_405(rest_app: AppFactory) -> None:
    client, _, _ = await rest_app()
    assert (await client.get(PATH, headers=AUTH)).status == 405


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
    resp = await client.post(PATH, json={"sender": "alice", "message": "你好"}, headers=AUTH)
    assert resp.status == 500
    text = await resp.text()
    assert json.loads(text) == {"error": "internal server error"}
    assert "secret" not in text
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "aiohttp" not in resp.headers.get("Server", "")
    assert "RuntimeError" in caplog.text and phone not in caplog.text


# --- who may speak for a citizen ----------------------------------------------


#: Keys the console's background work writes on its own schedule (its sweep's
#: lock, the round of queue position notices): not a request's doing.
BACKGROUND_KEYS = ("console:sweep", "handoff:told:round:")


async def request_keys(store: SharedStore) -> list[str]:
    """Every store key but the background work's own."""
    return sorted([k async for k in store.scan() if not k.startswith(BACKGROUND_KEYS)])


async def rest_keys(store: SharedStore) -> list[str]:
    """The store keys a REST message creates (dedupe, inbox, lock, outbox all
    name the channel); background jobs' own keys are left out."""
    return sorted([k async for k in store.scan() if "rest" in k])


async def test_rest_channel_is_off_without_tokens(
    rest_app: AppFactory, fake_rasa: FakeRasa
) -> None:
    """Without REST_TOKENS nobody can talk as a sender: 404, nothing recorded."""
    client, db, store = await rest_app(rest_tokens=())
    resp = await client.post(PATH, json={"sender": "alice", "message": "你好"}, headers=AUTH)
    assert resp.status == 404
    assert await db.transcript() == [] and fake_rasa.calls == []
    assert await rest_keys(store) == []


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-header"),
        pytest.param({"Authorization": "Bearer " + "x" * 32}, id="wrong-token"),
        pytest.param({"Authorization": "Bearer " + TOKEN_A[:-1]}, id="token-prefix"),
        pytest.param({"Authorization": "Bearer " + TOKEN_A + "x"}, id="token-longer"),
        pytest.param({"Authorization": TOKEN_A}, id="no-scheme"),
        pytest.param({"Authorization": "Basic " + TOKEN_A}, id="other-scheme"),
        pytest.param({"Authorization": "Bearer"}, id="empty-bearer"),
        pytest.param({"Authorization": "Bearer 令牌令牌令牌令牌令牌令牌"}, id="non-ascii"),
    ],
)
async def test_missing_or_wrong_token_is_401_before_the_body_is_read(
    headers: dict[str, str], rest_app: AppFactory, fake_rasa: FakeRasa
) -> None:
    """An attacker who guesses a sender id gets nothing: 401, even for a body
    that would be a 400, and nothing is recorded, sent to Rasa or taken from
    the sender's outbox."""
    client, db, store = await rest_app()
    await client.app[HUB_KEY].push(
        "rest:app:alice", [OutboundMessage(text="工单结果", sender="system")]
    )
    keys = await rest_keys(store)
    entries = list(await db.transcript())
    for data in (json.dumps({"sender": "alice", "message": "修改"}).encode(), b"{not json"):
        resp = await client.post(PATH, data=data, headers=headers)
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert "error" in await resp.json()
    assert fake_rasa.calls == [] and await db.transcript() == entries
    assert await rest_keys(store) == keys == ["rest:outbox:app:alice"]  # still waiting
    resp = await client.post(PATH, json={"sender": "alice", "message": "在吗"}, headers=AUTH)
    assert [m["text"] for m in await resp.json()] == ["工单结果", "echo: 在吗"]


async def test_senders_are_namespaced_per_token(rest_app: AppFactory, fake_rasa: FakeRasa) -> None:
    """Integration B posting as A's sender "alice" reaches its own "alice", never
    A's conversation or the messages waiting for A's alice."""
    client, db, _ = await rest_app()
    await client.app[HUB_KEY].push(
        "rest:app:alice", [OutboundMessage(text="人工客服：您好", sender="agent:li")]
    )
    resp = await client.post(PATH, json={"sender": "alice", "message": "修改"}, headers=AUTH_B)
    assert resp.status == 200
    assert await resp.json() == [{"recipient_id": "alice", "text": "echo: 修改"}]
    assert fake_rasa.calls[-1]["sender"] == "rest:tool:alice"
    resp = await client.post(PATH, json={"sender": "alice", "message": "在吗"}, headers=AUTH)
    assert [m["text"] for m in await resp.json()] == ["人工客服：您好", "echo: 在吗"]
    assert fake_rasa.calls[-1]["sender"] == "rest:app:alice"
    ids = {e.conversation_id for e in await db.transcript()}
    assert ids == {"rest:app:alice", "rest:tool:alice"}


async def test_a_bare_token_namespaces_by_a_hash_not_the_token(
    rest_app: AppFactory, fake_rasa: FakeRasa
) -> None:
    client, _, _ = await rest_app(rest_tokens=parse_rest_tokens(TOKEN_A))
    resp = await client.post(PATH, json={"sender": "alice", "message": "你好"}, headers=AUTH)
    assert resp.status == 200
    sender = fake_rasa.calls[-1]["sender"]
    channel, namespace, name = sender.split(":")
    assert (channel, name) == ("rest", "alice") and namespace and namespace not in TOKEN_A


async def test_message_id_dedupe_is_scoped_to_the_sender(
    rest_app: AppFactory, fake_rasa: FakeRasa
) -> None:
    """Sender B's message id 7 is answered although sender A used id 7 (also
    the same sender name under another token)."""
    client, _, _ = await rest_app()
    first = await client.post(
        PATH, json={"sender": "a", "message": "甲", "message_id": "7"}, headers=AUTH
    )
    assert first.headers["X-Hotline-Status"] == "ok"
    other = await client.post(
        PATH, json={"sender": "b", "message": "乙", "message_id": "7"}, headers=AUTH
    )
    assert other.headers["X-Hotline-Status"] == "ok"
    assert await other.json() == [{"recipient_id": "b", "text": "echo: 乙"}]
    elsewhere = await client.post(
        PATH, json={"sender": "a", "message": "丙", "message_id": "7"}, headers=AUTH_B
    )
    assert elsewhere.headers["X-Hotline-Status"] == "ok"
    again = await client.post(
        PATH, json={"sender": "a", "message": "甲", "message_id": "7"}, headers=AUTH
    )
    assert again.headers["X-Hotline-Status"] == "duplicate"
    assert [c["message"] for c in fake_rasa.calls] == ["甲", "乙", "丙"]


async def test_longest_sender_fits_the_transcript_and_ticket_columns(
    rest_app: AppFactory, tmp_path: Any
) -> None:
    """A 128-character sender under a 32-character token name: every transcript
    row is written (a 196-character sender used to fail them all) and a
    ticket can be created for the conversation (a 168-character one could not)."""
    name = "n" * 32
    tokens = parse_rest_tokens(f"{name}:{TOKEN_A}")
    db = TempDatabase(tmp_path)
    client, _, _ = await rest_app(db=db, rest_tokens=tokens)
    sender = "S" * 120 + "-_.:@=09"
    assert len(sender) == 128
    resp = await client.post(PATH, json={"sender": sender, "message": "你好"}, headers=AUTH)
    assert resp.status == 200 and (await resp.json())[0]["recipient_id"] == sender
    cid = f"rest:{name}:{sender}"
    assert [e.direction for e in await db.transcript(at_least=2)] == ["in", "out"]
    assert [e.direction for e in await db.transcripts.history(cid)] == ["in", "out"]
    ticket, created = await db.tickets.create(
        idempotency_key=f"{cid}:{'f' * 32}", type="complaint", category="other",
        description="路灯坏了", location=None, occurred_at=None, channel="rest",
        conversation_id=cid, contact_name=None, contact_phone=None, anonymous=True,
    )  # fmt: skip
    assert created and ticket.conversation_id == cid
