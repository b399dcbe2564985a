"""bot/rasa_pool.py: conversations spread over several (fake) Rasa servers on
127.0.0.1: stickiness, spread, the same choice on every replica, failover
with no message lost or sent twice, recovery, and the busy reply within
RASA_TIMEOUT when every server is down."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from bot.config import Settings
from bot.health import HealthChecker
from bot.hub import BUSY_TEXT
from bot.inbound import DeliveryMode
from bot.rasa_client import RasaUnavailable
from bot.rasa_pool import RasaPool, rendezvous_score
from bot.store import MemoryStore
from tests.fakes.rasa import FakeActionServer, FakeRasa
from tests.support.ports import dead_url, free_port
from tests.support.waiting import eventually
from tests.test_hub import HubFactory, make_hub, msg  # noqa: F401  (make_hub: a fixture)

IN_PLACE = DeliveryMode.ANSWER_IN_PLACE


@pytest.fixture
async def servers() -> AsyncIterator[list[FakeRasa]]:
    """Three fake Rasa servers, each on its own port."""
    made = [FakeRasa() for _ in range(3)]
    for server in made:
        await server.start()
    yield made
    for server in made:
        await server.close()


@pytest.fixture
async def make_pool() -> AsyncIterator[Callable[..., RasaPool]]:
    made: list[RasaPool] = []

    def make(urls: list[str], timeout: float = 5.0, **options: Any) -> RasaPool:
        pool = RasaPool(urls, timeout, **options)
        made.append(pool)
        return pool

    yield make
    for pool in made:
        await pool.close()


def where(servers: list[FakeRasa], sender: str) -> list[int]:
    """The indexes of the servers that saw a turn of ``sender``."""
    return [i for i, server in enumerate(servers) if sender in server.by_sender]


async def test_a_conversation_keeps_its_server(
    servers: list[FakeRasa], make_pool: Callable[..., RasaPool]
) -> None:
    pool = make_pool([s.url for s in servers], probe_interval=0)
    senders = [f"test:u{n}" for n in range(30)]
    for turn in range(4):
        for sender in senders:
            replies = await pool.send(sender, f"第{turn}句")
            assert replies == [{"recipient_id": sender, "text": f"echo: 第{turn}句"}]
    for sender in senders:
        (index,) = where(servers, sender)  # one server saw all its turns
        assert servers[index].by_sender[sender] == [f"第{turn}句" for turn in range(4)]
        assert pool.choose(sender) == servers[index].url


async def test_conversations_spread_over_the_servers(
    servers: list[FakeRasa], make_pool: Callable[..., RasaPool]
) -> None:
    pool = make_pool([s.url for s in servers], probe_interval=0)
    counts = Counter(pool.choose(f"webchat:{n}") for n in range(3000))
    assert set(counts) == {s.url for s in servers}
    for url, count in counts.items():
        assert 800 <= count <= 1200, (url, count)  # a third each, give or take


async def test_every_replica_chooses_the_same_server(
    servers: list[FakeRasa], make_pool: Callable[..., RasaPool]
) -> None:
    urls = [s.url for s in servers]
    # Two front-door replicas, configured with the list in another order.
    one = make_pool(urls, probe_interval=0)
    other = make_pool([urls[2] + "/", urls[0], urls[1]], probe_interval=0)
    ids = [f"wechat:o{n}" for n in range(500)]
    assert [one.choose(i) for i in ids] == [other.choose(i) for i in ids]
    # With the same server down on both, they still agree, and only the
    # conversations of that server moved.
    servers[1].model_loaded = False
    before = {i: one.choose(i) for i in ids}
    for pool in (one, other):
        assert await pool.model_loaded() is True
    after = {i: one.choose(i) for i in ids}
    assert after == {i: other.choose(i) for i in ids}
    moved = {i for i in ids if before[i] != after[i]}
    assert moved == {i for i in ids if before[i] == urls[1]} and moved
    assert urls[1] not in after.values()


def test_rendezvous_weight_is_stable() -> None:
    """The weight does not depend on the process (no hash seed): replicas
    started at different times agree."""
    assert rendezvous_score("http://10.0.0.1:5005", "webchat:abc") == rendezvous_score(
        "http://10.0.0.1:5005", "webchat:abc"
    )
    assert rendezvous_score("http://10.0.0.1:5005", "a") != rendezvous_score(
        "http://10.0.0.2:5005", "a"
    )


async def test_a_server_that_stops_moves_its_conversations_with_no_message_lost(
    servers: list[FakeRasa], make_pool: Callable[..., RasaPool]
) -> None:
    pool = make_pool([s.url for s in servers], probe_interval=0, backoff=30.0)
    senders = [f"test:c{n}" for n in range(30)]
    for sender in senders:
        await pool.send(sender, "一")
    victim, victim_url = servers[0], servers[0].url
    on_victim = [s for s in senders if where(servers, s) == [0]]
    assert on_victim
    await victim.close()  # connections refused from now on
    # Its idle keep-alive connections are seen closed (a turn sent on one in
    # the instant of the stop is one Rasa may have taken: the concurrent test).
    await asyncio.sleep(0.05)
    for sender in senders:  # every message answered by Rasa, none busy
        assert await pool.send(sender, "二") == [{"recipient_id": sender, "text": "echo: 二"}]
    for sender in senders:
        seen = [m for server in servers for m in server.by_sender.get(sender, [])]
        assert sorted(seen) == ["一", "二"]  # none lost, none twice
    for sender in on_victim:
        assert where(servers, sender)[0] == 0 and len(where(servers, sender)) == 2
    # The others stayed where they were.
    for sender in set(senders) - set(on_victim):
        assert len(where(servers, sender)) == 1
    assert pool.states()[victim_url].startswith("backing off")


async def test_a_turn_rasa_may_have_taken_is_never_sent_twice(
    servers: list[FakeRasa], make_pool: Callable[..., RasaPool]
) -> None:
    """A timeout after the request was written: the turn is not sent to
    another server (the citizen would be answered twice); the server is
    left alone and the conversation's next turn goes elsewhere."""
    pool = make_pool([s.url for s in servers], timeout=0.5, probe_interval=0, backoff=30.0)
    sender = "test:slow"
    first = pool.choose(sender)
    slow = next(s for s in servers if s.url == first)
    slow.delay = (2.0, 2.0)
    with pytest.raises(RasaUnavailable) as caught:
        await pool.send(sender, "慢")
    assert caught.value.reached and caught.value.server_fault
    assert [len(s.calls) for s in servers].count(1) == 1  # only the slow one saw it
    assert pool.choose(sender) != first
    assert await pool.send(sender, "再问") == [{"recipient_id": sender, "text": "echo: 再问"}]
    assert sum(s.by_sender.get(sender, []).count("慢") for s in servers) == 1


async def test_an_http_error_is_not_retried_and_keeps_the_server(
    servers: list[FakeRasa], make_pool: Callable[..., RasaPool]
) -> None:
    """Rasa answered (a 500 from one turn's action): the server is fine."""
    pool = make_pool([s.url for s in servers], probe_interval=0)
    sender = "test:err"
    home = next(s for s in servers if s.url == pool.choose(sender))
    home.status_code = 500
    with pytest.raises(RasaUnavailable) as caught:
        await pool.send(sender, "出错")
    assert not caught.value.server_fault
    assert sum(len(s.calls) for s in servers) == 1
    assert pool.choose(sender) == home.url


async def test_a_server_that_returns_gets_its_conversations_back(
    make_pool: Callable[..., RasaPool],
) -> None:
    port = free_port()
    first, second = FakeRasa(), FakeRasa()
    await first.start(port)
    await second.start()
    first_url = first.url
    try:
        pool = make_pool([first_url, second.url], probe_interval=0.05, backoff=0.2)
        senders = [f"test:r{n}" for n in range(40)]
        home = [s for s in senders if pool.choose(s) == first_url]
        assert home
        await first.close()
        for sender in home:
            await pool.send(sender, "一")  # answered by the second server
        assert all(sender in second.by_sender for sender in home)
        await eventually(lambda: pool.states()[first_url].startswith("down"))
        again = FakeRasa()
        await again.start(port)  # back where it was
        try:
            await eventually(lambda: pool.states()[first_url] == "ok")
            for sender in home:
                assert pool.choose(sender) == first_url
                await pool.send(sender, "二")
            assert all(again.by_sender[sender] == ["二"] for sender in home)
        finally:
            await again.close()
    finally:
        await second.close()


async def test_a_server_with_no_model_gets_no_conversations(
    servers: list[FakeRasa], make_pool: Callable[..., RasaPool]
) -> None:
    pool = make_pool([s.url for s in servers], probe_interval=0.05)
    await pool.send("test:start", "开始")  # the prober starts with the first use
    servers[0].model_loaded = False
    await eventually(lambda: pool.states()[servers[0].url] == "down: no model loaded")
    assert servers[0].url not in {pool.choose(f"test:n{n}") for n in range(200)}
    servers[0].model_loaded = True
    await eventually(lambda: pool.states()[servers[0].url] == "ok")


async def test_a_busy_server_whose_status_is_slow_keeps_its_conversations(
    servers: list[FakeRasa], make_pool: Callable[..., RasaPool]
) -> None:
    """Rasa answers /status on the loop that runs the turns: under a full
    load it is late. Late is busy, not down; refused is down."""
    pool = make_pool([s.url for s in servers], probe_interval=0.05)
    await pool.send("test:start", "开始")  # the prober starts with the first use
    busy = servers[0]
    busy.status_delay = 5.0  # longer than the probe's limit
    senders = [f"test:b{n}" for n in range(60)]
    home = [s for s in senders if pool.choose(s) == busy.url]
    with pytest.raises(RasaUnavailable) as caught:
        await pool.probe(pool.servers[0], timeout=0.1)
    assert caught.value.timed_out
    await asyncio.sleep(0.3)  # several probes time out meanwhile
    assert pool.states()[busy.url] == "ok"
    assert home and all(pool.choose(s) == busy.url for s in home)


@pytest.mark.parametrize("down", ["refused", "too slow"])
async def test_every_server_down_gives_the_busy_reply_within_rasa_timeout(
    down: str,
    servers: list[FakeRasa],
    make_hub: HubFactory,  # noqa: F811  (the fixture of tests/test_hub.py)
) -> None:
    if down == "refused":
        urls = [dead_url(), dead_url()]
    else:
        for server in servers:
            server.delay = (5.0, 5.0)
        urls = [s.url for s in servers]
    hub = make_hub(MemoryStore(), urls[0], rasa_urls=tuple(urls), rasa_timeout=1.0)
    for number in range(3):
        started = time.monotonic()
        result = await hub.handle(msg("办证", f"m{number}"), IN_PLACE)
        took = time.monotonic() - started
        assert result.status == "busy"
        assert [r.text for r in result.replies] == [BUSY_TEXT]
        assert took < 1.0 + 0.5  # RASA_TIMEOUT, and no second full wait
    if down == "too slow":  # a turn a server took is never sent to another
        assert sum(len(s.calls) for s in servers) == 3


async def test_the_hub_answers_through_the_pool_when_one_server_is_down(
    servers: list[FakeRasa],
    make_hub: HubFactory,  # noqa: F811  (the fixture of tests/test_hub.py)
) -> None:
    urls = (dead_url(), servers[0].url)
    hub = make_hub(MemoryStore(), urls[0], rasa_urls=urls, rasa_timeout=5.0)
    for number in range(10):
        result = await hub.handle(msg(f"问题{number}", f"m{number}", user=f"u{number}"), IN_PLACE)
        assert result.status == "ok"
        assert [r.text for r in result.replies] == [f"echo: 问题{number}"]


async def test_readiness_lists_each_server(
    servers: list[FakeRasa],
    fake_action_server: FakeActionServer,
    make_pool: Callable[..., RasaPool],
    aiohttp_client: Any,
) -> None:
    gone = dead_url()
    pool = make_pool([servers[0].url, gone], probe_interval=0)
    checker = HealthChecker(pool, fake_action_server.url, MemoryStore())
    app = web.Application()
    checker.add_routes(app)
    client = await aiohttp_client(app)
    try:
        body = await (await client.get("/readyz")).json()
        assert body["status"] == "ok" and body["rasa"] == "ok"
        assert body["rasa_servers"][servers[0].url] == "ok"
        assert body["rasa_servers"][gone].startswith("down: rasa " + gone)
        servers[0].model_loaded = False
        body = await (await client.get("/readyz")).json()
        assert body["status"] == "degraded" and body["rasa"] == "no model loaded"
    finally:
        await checker.close()


def test_rasa_urls_setting() -> None:
    env = {"RASA_URLS": "http://10.0.0.1:5005/, http://10.0.0.2:5005"}
    settings = Settings.from_env(env)
    assert settings.rasa_servers == ("http://10.0.0.1:5005", "http://10.0.0.2:5005")
    assert Settings.from_env({"RASA_URL": "http://rasa:5005"}).rasa_servers == (
        "http://rasa:5005",
    )
    assert Settings(rasa_url="http://x:1").rasa_servers == ("http://x:1",)
    with pytest.raises(ValueError, match="RASA_URLS: 'rasa:5005' is not an http"):
        Settings.from_env({"RASA_URLS": "rasa:5005"})
    with pytest.raises(ValueError, match="names http://a:1 twice"):
        Settings.from_env({"RASA_URLS": "http://a:1,http://a:1/"})
    with pytest.raises(ValueError, match="RASA_BACKOFF"):
        Settings.from_env({"RASA_BACKOFF": "0"})


async def test_parse_goes_to_a_server_that_is_reached(
    servers: list[FakeRasa], make_pool: Callable[..., RasaPool]
) -> None:
    seen: list[str] = []

    async def parse(request: web.Request) -> web.Response:
        seen.append((await request.json())["text"])
        return web.json_response({"intent": {"name": "greet"}})

    extra = FakeRasa()
    extra.app.router.add_post("/model/parse", parse)
    await extra.start()
    try:
        pool = make_pool([dead_url(), extra.url], probe_interval=0)
        for text in ("你好", "办证", "投诉"):
            assert (await pool.parse(text))["intent"]["name"] == "greet"
        assert seen == ["你好", "办证", "投诉"]
    finally:
        await extra.close()


async def test_concurrent_turns_during_a_failure_lose_nothing(
    servers: list[FakeRasa], make_pool: Callable[..., RasaPool]
) -> None:
    """Turns in flight while a server stops: each is answered once, by Rasa
    or (when the server had taken it) with an error the hub turns into the
    busy reply; none is answered twice."""
    pool = make_pool([s.url for s in servers], probe_interval=0, backoff=30.0)
    for server in servers:
        server.delay = (0.0, 0.02)
    senders = [f"test:x{n}" for n in range(60)]

    async def talk(sender: str) -> list[str]:
        outcomes = []
        for turn in range(5):
            try:
                await pool.send(sender, f"{sender}-{turn}")
                outcomes.append("ok")
            except RasaUnavailable as exc:
                assert exc.reached  # only a turn the stopped server had taken
                outcomes.append("busy")
        return outcomes

    tasks = [asyncio.create_task(talk(s)) for s in senders]
    await asyncio.sleep(0.05)
    await servers[1].close()
    results = await asyncio.gather(*tasks)
    for sender, outcomes in zip(senders, results, strict=True):
        seen = Counter(m for s in servers for m in s.by_sender.get(sender, []))
        assert all(count == 1 for count in seen.values())  # never twice
        for turn, outcome in enumerate(outcomes):
            if outcome == "ok":
                assert seen[f"{sender}-{turn}"] == 1
