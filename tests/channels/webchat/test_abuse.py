"""The web widget under abuse, and its tokens (issue 15, part B).

Each test attacks the real front door (``bot.app.create_app``) through its
HTTP and WebSocket interface: socket and session floods, frame floods,
replays of a whole transcript, copied and stale tokens. Limits are counted
in the shared store, so two apps on one store behave like two replicas.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import HUB_KEY, create_app
from bot.config import Secret, Settings, load_settings
from bot.inbound import ChannelStore
from bot.messages import OutboundMessage
from bot.privacy import mask_text
from bot.rasa_client import RasaClient
from bot.store import MemoryStore, SharedStore
from bot.store.redis import RedisStore
from bot.store.sealed import InProcessValues
from channels.webchat._auth import load_secret
from channels.webchat._limits import LEASE_SECONDS, Limits, SocketLeases, TooManySockets
from tests.channels.webchat.test_channel import WS, has_reply, messages, quiet
from tests.fakes.db import TempDatabase
from tests.fakes.rasa import FakeRasa
from tests.support.waiting import frames_until

SECRET = "abuse-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


class Clock:
    """A wall clock the test moves forward (no sleeps)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def front_door(
    store: SharedStore, db: TempDatabase, rasa: FakeRasa, clock: Clock | None = None, **limits: Any
) -> web.Application:
    settings = Settings(
        rasa_url=rasa.url, rasa_timeout=2.0, webchat_secret=Secret(SECRET), **limits
    )
    app = create_app(settings, store=store, db=db, rasa=RasaClient(rasa.url, 2.0))  # type: ignore[arg-type]
    if clock is not None:
        app[HUB_KEY].channels["webchat"].clock = clock  # type: ignore[attr-defined]
    return app


@pytest.fixture
def db() -> TempDatabase:
    return TempDatabase()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def stores(
    request: pytest.FixtureRequest, redis_prefix: str
) -> AsyncIterator[tuple[SharedStore, SharedStore]]:
    """The shared store as two replicas see it: one MemoryStore, or two Redis clients."""
    if request.param == "memory":
        memory = MemoryStore()
        yield memory, memory
        return
    url = request.getfixturevalue("redis_url")
    pair = (RedisStore(url, redis_prefix), RedisStore(url, redis_prefix))
    yield pair
    for store in pair:
        await store.close()


async def new_session(client: TestClient, token: str | None = None) -> dict[str, Any]:
    resp = await client.post("/webchat/session", json={"token": token} if token else None)
    assert resp.status in (200, 201), await resp.text()
    return {**await resp.json(), "status": resp.status}


async def connect(client: TestClient, token: str, **params: Any) -> aiohttp.ClientWebSocketResponse:
    query = {"token": token, **{k: str(v) for k, v in params.items()}}
    return await client.ws_connect(WS, params=query)


async def refused(ws: aiohttp.ClientWebSocketResponse) -> tuple[dict[str, Any], int | None]:
    """The error frame a refused socket gets, and the close code that follows."""
    frame = await ws.receive(timeout=5)
    assert frame.type == aiohttp.WSMsgType.TEXT, frame
    closing = await ws.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE, closing
    return json.loads(frame.data), closing.data  # the code of the server's close frame


def chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


# --- one store subscription per replica ------------------------------------------


@pytest.mark.redis
async def test_sockets_share_one_redis_subscription(
    aiohttp_client: Callable[..., Any],
    db: TempDatabase,
    fake_rasa: FakeRasa,
    redis_url: str,
    redis_prefix: str,
) -> None:
    """Finding: each socket opened its own Redis pub/sub connection, so a few
    thousand sockets exhausted Redis ``maxclients`` for every replica."""
    apps = [
        front_door(
            RedisStore(redis_url, redis_prefix), db, fake_rasa, webchat_sessions_per_minute=100
        )
        for _ in range(2)
    ]
    clients = [await aiohttp_client(app) for app in apps]
    probe = redis.Redis.from_url(redis_url, decode_responses=True)
    sockets = []
    try:
        sessions = [await new_session(clients[0]) for _ in range(12)]
        for session in sessions:
            sockets.append(await connect(clients[0], session["token"]))
        channels = probe.pubsub_channels(f"{redis_prefix}:webchat*")
        assert len(channels) == 1, channels  # was: one channel (and connection) per session
        [(_, subscribers)] = probe.pubsub_numsub(channels[0])
        assert subscribers == 1
        # live delivery from the other replica still reaches each socket
        for session, ws in zip(sessions[:3], sockets[:3], strict=True):
            text = "来自B" + session["session_id"][:6]
            cid = f"webchat:{session['session_id']}"
            await apps[1][HUB_KEY].push(cid, [OutboundMessage(text=text)])
            assert len(messages(await frames_until(ws, has_reply(text)))) == 1
        assert await quiet(sockets[3], 0.2) == []  # and not to the others
    finally:
        for ws in sockets:
            await ws.close()
        probe.close()


# --- caps on sockets --------------------------------------------------------------


async def test_sockets_per_session_are_capped_across_replicas(
    aiohttp_client: Callable[..., Any],
    db: TempDatabase,
    fake_rasa: FakeRasa,
    stores: tuple[SharedStore, SharedStore],
) -> None:
    """Finding: one token could open unlimited sockets (file descriptors)."""
    clients = [
        await aiohttp_client(front_door(store, db, fake_rasa, webchat_sockets_per_session=2))
        for store in stores
    ]
    token = (await new_session(clients[0]))["token"]
    first = await connect(clients[0], token)
    second = await connect(clients[1], token)
    third = await connect(clients[1], token)
    error, code = await refused(third)
    assert error["code"] == "too_many_connections" and chinese(error["message"])
    assert code == 4029
    # the two admitted sockets still work
    for ws in (first, second):
        await ws.send_json({"type": "ping"})
        assert (await frames_until(ws, bool))[0] == {"type": "pong"}
    await first.close()
    sid = token.split(".")[1]
    for _ in range(500):  # until the server has run the closed socket's clean-up
        if len(await stores[0].hgetall(f"webchat:sockets:session:{sid}")) == 1:
            break
        await asyncio.sleep(0.01)
    again = await connect(clients[1], token)  # a freed place can be taken again
    await again.send_json({"type": "ping"})
    assert (await frames_until(again, bool))[0] == {"type": "pong"}
    for ws in (second, again):
        await ws.close()


async def test_sockets_per_address_are_capped(
    aiohttp_client: Callable[..., Any], db: TempDatabase, fake_rasa: FakeRasa
) -> None:
    """Finding: one script opened ~500 sockets (new sessions each) and exhausted fds."""
    app = front_door(MemoryStore(), db, fake_rasa, webchat_sockets_per_address=3)
    client = await aiohttp_client(app)
    sockets = [await connect(client, (await new_session(client))["token"]) for _ in range(3)]
    extra = await connect(client, (await new_session(client))["token"])
    error, code = await refused(extra)
    assert (error["code"], code) == ("too_many_connections", 4029)
    for ws in sockets:
        await ws.close()


def ipv6_client(n: int) -> dict[str, str]:
    """A request from address ``n`` of one IPv6 /64, through the trusted proxy."""
    return {"X-Forwarded-For": f"2001:db8:12:345:{n:x}::{n + 1:x}"}


async def test_sockets_from_one_ipv6_network_share_the_address_cap(
    aiohttp_client: Callable[..., Any], db: TempDatabase, fake_rasa: FakeRasa
) -> None:
    """Review: the cap keyed on the raw address, so a client rotating through its
    /64 (2**64 addresses of one line) escaped it; it counts per /64 now."""
    app = front_door(
        MemoryStore(), db, fake_rasa, webchat_sockets_per_address=3,
        trusted_proxies=("127.0.0.1", "::1"),
    )  # fmt: skip
    client = await aiohttp_client(app)
    sockets = []
    for n in range(3):
        token = (await new_session(client))["token"]
        sockets.append(await client.ws_connect(WS, params={"token": token}, headers=ipv6_client(n)))
    token = (await new_session(client))["token"]
    extra = await client.ws_connect(WS, params={"token": token}, headers=ipv6_client(99))
    error, code = await refused(extra)
    assert (error["code"], code) == ("too_many_connections", 4029)
    # another /64 is another line: not refused
    other = {"X-Forwarded-For": "2001:db8:12:346::1"}
    fine = await client.ws_connect(WS, params={"token": token}, headers=other)
    await fine.send_json({"type": "ping"})
    assert (await frames_until(fine, bool))[0] == {"type": "pong"}
    for ws in [*sockets, fine]:
        await ws.close()


# --- rate limits --------------------------------------------------------------------


async def test_session_creation_is_rate_limited_per_address(
    aiohttp_client: Callable[..., Any],
    db: TempDatabase,
    fake_rasa: FakeRasa,
    stores: tuple[SharedStore, SharedStore],
) -> None:
    """Finding: sessions could be created without limit by one client."""
    clock = Clock()  # the limit counts per clock minute: a real clock could cross one
    clients = [
        await aiohttp_client(
            front_door(store, db, fake_rasa, clock, webchat_sessions_per_minute=3)
        )
        for store in stores
    ]
    made = [await new_session(clients[i % 2]) for i in range(3)]
    resp = await clients[1].post("/webchat/session")
    assert resp.status == 429
    body = await resp.json()
    assert body["error"] == "rate_limited" and chinese(body["message"])
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    # a citizen who already has a session keeps it
    again = await new_session(clients[0], made[0]["token"])
    assert again["status"] == 200 and again["session_id"] == made[0]["session_id"]


async def test_session_creation_from_one_ipv6_network_is_rate_limited(
    aiohttp_client: Callable[..., Any], db: TempDatabase, fake_rasa: FakeRasa
) -> None:
    """Review: the per-address session limit keyed on the raw address, so every new
    address of the client's /64 got a fresh allowance; the /64 shares one now."""
    app = front_door(
        MemoryStore(), db, fake_rasa, Clock(), webchat_sessions_per_minute=3,
        trusted_proxies=("127.0.0.1", "::1"),
    )  # fmt: skip
    client = await aiohttp_client(app)
    for n in range(3):
        resp = await client.post("/webchat/session", headers=ipv6_client(n))
        assert resp.status == 201, await resp.text()
    resp = await client.post("/webchat/session", headers=ipv6_client(3))
    assert resp.status == 429
    other = await client.post("/webchat/session", headers={"X-Forwarded-For": "2001:db8:99::1"})
    assert other.status == 201


async def test_ping_flood_gets_error_frames_then_the_socket_is_closed(
    aiohttp_client: Callable[..., Any], db: TempDatabase, fake_rasa: FakeRasa
) -> None:
    """Finding: ping and resume frames were unlimited (each one a transcript query)."""
    clock = Clock()
    app = front_door(MemoryStore(), db, fake_rasa, clock, webchat_frame_limit=5)
    client = await aiohttp_client(app)
    ws = await connect(client, (await new_session(client))["token"])  # the open counts as one
    for _ in range(4):
        await ws.send_json({"type": "ping"})
    pongs = await frames_until(ws, lambda f: len(f) == 4)
    assert pongs == [{"type": "pong"}] * 4
    await ws.send_json({"type": "resume", "after_seq": 0})
    [error] = await frames_until(ws, bool)
    assert error["code"] == "rate_limited" and chinese(error["message"])
    for _ in range(20):  # sustained abuse
        await ws.send_json({"type": "ping"})
    got: list[Any] = []
    while (msg := await ws.receive(timeout=5)).type == aiohttp.WSMsgType.TEXT:
        got.append(json.loads(msg.data))
    assert {f["code"] for f in got} == {"rate_limited"}
    assert (msg.type, msg.data, msg.extra) == (aiohttp.WSMsgType.CLOSE, 1008, "rate_limited")


async def test_rate_limit_window_moves_with_the_clock(
    aiohttp_client: Callable[..., Any], db: TempDatabase, fake_rasa: FakeRasa
) -> None:
    clock = Clock()
    app = front_door(MemoryStore(), db, fake_rasa, clock, webchat_frame_limit=3)
    client = await aiohttp_client(app)
    ws = await connect(client, (await new_session(client))["token"])
    for _ in range(3):
        await ws.send_json({"type": "ping"})
    frames = await frames_until(ws, lambda f: len(f) == 3)
    assert frames[-1]["code"] == "rate_limited"
    clock.advance(10)
    await ws.send_json({"type": "ping"})
    assert (await frames_until(ws, bool))[0] == {"type": "pong"}
    await ws.close()


async def test_message_flood_is_limited_per_session_across_replicas(
    aiohttp_client: Callable[..., Any],
    db: TempDatabase,
    fake_rasa: FakeRasa,
    stores: tuple[SharedStore, SharedStore],
) -> None:
    clients = [
        await aiohttp_client(front_door(store, db, fake_rasa, webchat_message_limit=3))
        for store in stores
    ]
    token = (await new_session(clients[0]))["token"]
    tabs = [await connect(c, token) for c in clients]
    for i in range(4):
        await tabs[i % 2].send_json({"type": "message", "id": f"m{i}", "text": f"第{i}条"})
    acks = [
        f
        for ws in tabs
        for f in await frames_until(
            ws, lambda f: len([x for x in f if x["type"] in ("ack", "error")]) == 2
        )
        if f["type"] in ("ack", "error")
    ]
    assert sorted(f["type"] for f in acks) == ["ack", "ack", "ack", "error"]
    for ws in tabs:
        await ws.close()


async def test_resume_from_zero_replays_one_page(
    aiohttp_client: Callable[..., Any], db: TempDatabase, fake_rasa: FakeRasa
) -> None:
    """Finding: ``resume`` from 0 replayed up to 10 000 rows per frame."""
    client = await aiohttp_client(front_door(MemoryStore(), db, fake_rasa))
    session = await new_session(client)
    cid = f"webchat:{session['session_id']}"
    for i in range(650):
        await db.transcripts.append(
            conversation_id=cid, channel="webchat", direction="out", sender="bot",
            message_id=None, text=f"第{i}条", data={},
        )  # fmt: skip
    ws = await connect(client, session["token"])
    first = messages(await frames_until(ws, lambda f: len(f) == 200))
    assert first[-1]["text"] == "第649条"  # the latest page
    await ws.send_json({"type": "resume", "after_seq": 0})
    replay = messages(await frames_until(ws, lambda f: len(f) == 200))
    assert replay[-1]["text"] == "第649条"
    assert await quiet(ws, 0.3) == []  # one page, not 650 rows
    await ws.close()


async def test_continuing_a_session_counts_against_its_frame_limit(
    aiohttp_client: Callable[..., Any], db: TempDatabase, fake_rasa: FakeRasa
) -> None:
    """Finding: a valid token could repeat ``POST /webchat/session`` without limit."""
    clock = Clock()
    app = front_door(MemoryStore(), db, fake_rasa, clock, webchat_frame_limit=3)
    client = await aiohttp_client(app)
    token = (await new_session(client))["token"]
    for _ in range(3):
        assert (await new_session(client, token))["status"] == 200
    resp = await client.post("/webchat/session", json={"token": token})
    assert resp.status == 429
    assert chinese((await resp.json())["message"]) and int(resp.headers["Retry-After"]) >= 1
    clock.advance(10)  # the next window
    assert (await new_session(client, token))["status"] == 200


async def test_repeated_end_publishes_once(
    aiohttp_client: Callable[..., Any], db: TempDatabase, fake_rasa: FakeRasa
) -> None:
    """Finding: every ``POST /webchat/session/end`` with a valid token published an
    event that every replica reads; only the call that ends the session does now."""
    store = MemoryStore()
    client = await aiohttp_client(front_door(store, db, fake_rasa))
    token = (await new_session(client))["token"]
    published: list[str] = []
    real = store.publish

    async def spy(channel: str, message: str) -> int:
        published.append(message)
        return await real(channel, message)

    store.publish = spy  # type: ignore[method-assign]
    for _ in range(5):
        resp = await client.post("/webchat/session/end", json={"token": token})
        assert resp.status == 200
    assert len(published) == 1


async def test_concurrent_ends_publish_once(
    aiohttp_client: Callable[..., Any],
    db: TempDatabase,
    fake_rasa: FakeRasa,
    stores: tuple[SharedStore, SharedStore],
) -> None:
    """Review: ``end`` read "alive" and then wrote "ended", so two 结束会话 arriving
    together (a double click, two tabs, two replicas) both saw a live session and
    both published the end event; one atomic claim picks the single publisher."""
    clients = [await aiohttp_client(front_door(store, db, fake_rasa)) for store in stores]
    token = (await new_session(clients[0]))["token"]
    published: list[str] = []
    for store in set(stores):
        real, read = store.publish, store.hgetall

        async def spy(channel: str, message: str, real: Any = real) -> int:
            published.append(message)
            return await real(channel, message)

        async def slow_read(key: str, read: Any = read) -> dict[str, str]:
            state = await read(key)
            await asyncio.sleep(0.05)  # a busy store: the calls' reads overlap
            return state  # type: ignore[no-any-return]

        store.publish = spy  # type: ignore[method-assign]
        store.hgetall = slow_read  # type: ignore[method-assign]
    resps = await asyncio.gather(
        *(clients[i % 2].post("/webchat/session/end", json={"token": token}) for i in range(6))
    )
    answers = [(await resp.json())["ended"] for resp in resps]
    assert sorted(answers) == [False] * 5 + [True]
    assert len(published) == 1


# --- ending a session, idle expiry -----------------------------------------------------


async def test_ended_session_token_no_longer_works_anywhere(
    aiohttp_client: Callable[..., Any],
    db: TempDatabase,
    fake_rasa: FakeRasa,
    stores: tuple[SharedStore, SharedStore],
) -> None:
    """Finding: a token copied from a shared device replayed the last citizen's
    transcript for 90 days."""
    clients = [await aiohttp_client(front_door(store, db, fake_rasa)) for store in stores]
    session = await new_session(clients[0])
    token, sid = session["token"], session["session_id"]
    ws = await connect(clients[0], token)
    await ws.send_json({"type": "message", "id": "p1", "text": "我的电话是13800138000"})
    # The transcript, and so every frame and the history, masks personal data.
    await frames_until(ws, has_reply(mask_text("echo: 我的电话是13800138000")))
    await db.transcript(at_least=2)  # the history the other tab replays (written behind)
    other_tab = await connect(clients[1], token)
    await frames_until(other_tab, lambda f: len(messages(f)) == 2)

    resp = await clients[1].post("/webchat/session/end", json={"token": token})
    assert resp.status == 200 and (await resp.json()) == {"ended": True}
    for tab in (ws, other_tab):  # every open tab, on every replica, is told and closed
        error, code = await refused(tab)
        assert (error["code"], code) == ("session_ended", 4001) and chinese(error["message"])

    for client in clients:
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await connect(client, token)
        assert err.value.status == 403
    fresh = await new_session(clients[1], token)
    assert fresh["status"] == 201 and fresh["session_id"] != sid
    new_ws = await connect(clients[1], fresh["token"])
    assert await quiet(new_ws, 0.3) == []  # no history in the fresh session
    await new_ws.close()
    # the transcript stays in the database for agents
    kept = await db.transcripts.history(f"webchat:{sid}")
    assert kept[0].text == mask_text("我的电话是13800138000") == "我的电话是138****8000"
    again = await clients[0].post("/webchat/session/end", json={"token": token})
    assert (await again.json()) == {"ended": False}  # ending twice changes nothing
    bad = await clients[0].post("/webchat/session/end", data=b"{oops")
    assert bad.status == 400


async def test_idle_session_expires_and_activity_slides_it(
    aiohttp_client: Callable[..., Any],
    db: TempDatabase,
    fake_rasa: FakeRasa,
    stores: tuple[SharedStore, SharedStore],
) -> None:
    clock = Clock()
    client = await aiohttp_client(front_door(stores[0], db, fake_rasa, clock, webchat_idle_hours=2))
    session = await new_session(client)
    token = session["token"]
    ws = await connect(client, token)
    await ws.send_json({"type": "message", "id": "a", "text": "身份证号440101199001011234"})
    await frames_until(ws, has_reply(mask_text("echo: 身份证号440101199001011234")))
    await ws.close()
    await db.transcript(at_least=2)  # the history replayed below (written behind the reply)

    clock.advance(1.5 * 3600)  # inactive, but not long enough
    ws = await connect(client, token)
    assert len(messages(await frames_until(ws, lambda f: len(f) == 2))) == 2
    await ws.send_json({"type": "message", "id": "b", "text": "还在吗"})  # activity slides it
    await frames_until(ws, has_reply("echo: 还在吗"))
    await ws.close()
    clock.advance(1.5 * 3600)
    assert (await new_session(client, token))["status"] == 200

    clock.advance(2 * 3600 + 1)  # two hours without activity
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await connect(client, token)
    assert err.value.status == 403
    fresh = await new_session(client, token)
    assert fresh["status"] == 201 and fresh["session_id"] != session["session_id"]


async def test_open_socket_of_an_idle_session_is_ended(
    aiohttp_client: Callable[..., Any], db: TempDatabase, fake_rasa: FakeRasa
) -> None:
    """A kiosk left open keeps pinging; pings are not activity."""
    clock = Clock()
    client = await aiohttp_client(
        front_door(MemoryStore(), db, fake_rasa, clock, webchat_idle_hours=1)
    )
    ws = await connect(client, (await new_session(client))["token"])
    await ws.send_json({"type": "ping"})
    assert (await frames_until(ws, bool))[0] == {"type": "pong"}
    clock.advance(3601)
    await ws.send_json({"type": "ping"})
    error, code = await refused(ws)
    assert (error["code"], code) == ("session_ended", 4001)


# --- the generated secret -------------------------------------------------------------------


def test_generated_secret_is_private_even_with_a_permissive_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created with mode 0600 by ``os.open`` itself: never readable by others,
    not even between a create and a chmod (chmod is refused here)."""

    def no_chmod(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the secret must be created private, not chmod-ed afterwards")

    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setattr(os, "fchmod", no_chmod)
    monkeypatch.setattr(Path, "chmod", no_chmod)
    path = tmp_path / "var" / "webchat.secret"
    old = os.umask(0)
    try:
        load_secret(None, path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


async def test_generated_widget_secret_is_made_like_the_other_internal_secrets(
    aiohttp_client: Callable[..., Any],
    db: TempDatabase,
    fake_rasa: FakeRasa,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review: the widget had its own copy of bot.config.internal_secret (and of
    where var/ is); it now uses that one: generated once into the var directory
    with the other secrets, 0600, and the widget's tokens are signed with it."""
    from bot import config
    from channels.webchat._auth import TokenSigner

    monkeypatch.setattr(config, "VAR_DIR", tmp_path)
    monkeypatch.delenv("WEBCHAT_SECRET", raising=False)
    settings = Settings(rasa_url=fake_rasa.url, rasa_timeout=2.0)
    app = create_app(settings, store=MemoryStore(), db=db, rasa=RasaClient(fake_rasa.url, 2.0))  # type: ignore[arg-type]
    client = await aiohttp_client(app)
    token = (await new_session(client))["token"]
    path = tmp_path / "webchat.secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert TokenSigner(path.read_text().strip()).verify(token) is not None
    assert config.internal_secret("WEBCHAT_SECRET", "webchat.secret") == path.read_text().strip()


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBCHAT_SOCKETS_PER_SESSION", "0"),
        ("WEBCHAT_SOCKETS_PER_ADDRESS", "many"),
        ("WEBCHAT_MESSAGE_LIMIT", "2.5"),
        ("WEBCHAT_IDLE_HOURS", "-1"),
        ("WEBCHAT_RATE_WINDOW", "0"),
    ],
)
def test_bad_limit_settings_stop_the_start_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv("RASA_AUTH_TOKEN", "r" * 32)
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "a" * 32)
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        load_settings()


def test_limit_settings_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_AUTH_TOKEN", "r" * 32)
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "a" * 32)
    for name in ("WEBCHAT_SOCKETS_PER_SESSION", "WEBCHAT_IDLE_HOURS", "WEBCHAT_FRAME_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEBCHAT_SOCKETS_PER_ADDRESS", "200")
    monkeypatch.setenv("WEBCHAT_RATE_WINDOW", "30")
    settings = load_settings()
    assert settings.webchat_sockets_per_address == 200
    assert settings.webchat_rate_window == 30.0
    assert settings.webchat_sockets_per_session == 5  # the defaults
    assert settings.webchat_idle_hours == 4.0
    assert settings.webchat_frame_limit == 20


# --- socket leases ----------------------------------------------------------------------------


async def test_socket_leases_are_renewed_and_a_dead_replicas_run_out(
    stores: tuple[SharedStore, SharedStore],
) -> None:
    """A socket's place is held while its replica renews it; a replica that died
    without closing its sockets frees their places after LEASE_SECONDS."""
    clock = Clock()
    limits = Limits.from_settings(
        Settings(webchat_sockets_per_session=1, webchat_sockets_per_address=10)
    )
    alive = SocketLeases(ChannelStore(stores[0], "webchat", InProcessValues()), clock)
    other = SocketLeases(ChannelStore(stores[1], "webchat", InProcessValues()), clock)
    try:
        held = await alive.acquire("s1", "203.0.113.9", limits)
        with pytest.raises(TooManySockets):
            await other.acquire("s1", "203.0.113.9", limits)
        for _ in range(3):  # renewed: the place stays taken past one lease
            clock.advance(LEASE_SECONDS * 2 / 3)
            await alive.renew()
            with pytest.raises(TooManySockets):
                await other.acquire("s1", "203.0.113.9", limits)
        await alive.release(held)
        taken = await other.acquire("s1", "203.0.113.9", limits)  # freed at once on close

        clock.advance(LEASE_SECONDS + 1)  # "other" died: nothing renews its lease
        await alive.acquire("s1", "203.0.113.9", limits)
        del taken
    finally:
        await alive.close()
        await other.close()
