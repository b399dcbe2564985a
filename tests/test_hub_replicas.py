"""Two hub replicas sharing one real Redis keep each conversation serial and in order.

The fake Rasa sleeps a random time per turn and records, per sender, the
order of the messages it saw and any overlap of two turns of one sender.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.config import Settings
from bot.hub import HandleResult, Hub
from bot.hub_timing import TURN_MARK_TTL
from bot.inbound import DeliveryMode
from bot.rasa_client import RasaClient
from bot.store import MemoryStore, SharedStore
from bot.store.base import StoreUnavailable
from bot.store.redis import RedisStore
from tests.fakes.db import FakeDatabase
from tests.fakes.rasa import FakeRasa
from tests.support.waiting import eventually
from tests.test_hub import RecordingChannel, msg

#: The REST channel's delivery mode: the caller waits for its replies.
IN_PLACE = DeliveryMode.ANSWER_IN_PLACE

CONVERSATIONS = 6
MESSAGES = 8


@pytest.fixture
async def replicas(
    request: pytest.FixtureRequest,
    fake_rasa: FakeRasa,
    make_settings: Callable[..., Settings],
    redis_prefix: str,
) -> AsyncIterator[list[Hub]]:
    """Two hubs on separate Redis clients (or one hub on the memory store)."""
    backend, listening = request.param
    settings = make_settings(rasa_url=fake_rasa.url, rasa_timeout=5.0)
    db = FakeDatabase()  # replicas share the SQL database
    stores: list[SharedStore]
    if backend == "redis":
        url = request.getfixturevalue("redis_url")
        stores = [RedisStore(url, redis_prefix), RedisStore(url, redis_prefix)]
    else:
        stores = [MemoryStore()]
    hubs = [Hub(s, db, RasaClient(fake_rasa.url, 5.0), settings) for s in stores]
    for hub in hubs:
        hub.register_channel(RecordingChannel())
        if listening:
            await hub.start()
    fake_rasa.delay = (0.0, 0.03)
    yield hubs
    for hub in hubs:
        await hub.close()
        await hub.rasa.close()
        await hub.store.close()


def pushed_texts(hubs: list[Hub]) -> list[str]:
    texts = []
    for hub in hubs:
        channel = hub.channels["test"]
        assert isinstance(channel, RecordingChannel)
        texts += [m.text or "" for _, messages in channel.sent for m in messages]
    return texts


REPLICA_SETUPS = [
    pytest.param(("redis", True), marks=pytest.mark.redis, id="redis-pubsub"),
    pytest.param(("redis", False), marks=pytest.mark.redis, id="redis-polling"),
    pytest.param(("memory", True), id="memory-one-replica"),
]


@pytest.mark.parametrize("replicas", REPLICA_SETUPS, indirect=True)
async def test_interleaved_conversations_stay_in_order(
    replicas: list[Hub], fake_rasa: FakeRasa
) -> None:
    returned: list[str] = []

    async def citizen(c: int) -> None:
        for i in range(MESSAGES):
            hub = replicas[i % len(replicas)]
            mode = DeliveryMode.answer_within(random.choice([0, 0.0, 0.02, 0.05]))
            result = await hub.handle(msg(f"c{c}-{i}", f"c{c}-{i}", user=f"u{c}"), mode)
            assert result.status in ("ok", "pending")
            returned.extend(r.text or "" for r in result.replies)

    await asyncio.gather(*(citizen(c) for c in range(CONVERSATIONS)))
    total = CONVERSATIONS * MESSAGES
    await eventually(lambda: len(returned) + len(pushed_texts(replicas)) >= total, 15)
    await asyncio.sleep(0.3)  # a duplicate delivery would show up now

    for c in range(CONVERSATIONS):
        assert fake_rasa.by_sender[f"test:u{c}"] == [f"c{c}-{i}" for i in range(MESSAGES)]
    assert fake_rasa.overlaps == []
    assert fake_rasa.max_parallel > 1  # different conversations ran in parallel
    delivered = Counter(returned + pushed_texts(replicas))
    expected = {f"echo: c{c}-{i}": 1 for c in range(CONVERSATIONS) for i in range(MESSAGES)}
    assert delivered == expected  # none lost, none twice


@pytest.mark.parametrize("replicas", REPLICA_SETUPS[:2], indirect=True)
async def test_concurrent_waiting_handlers_across_replicas(
    replicas: list[Hub], fake_rasa: FakeRasa
) -> None:
    """Every REST-style caller (IN_PLACE) gets the answer to its own message."""

    async def send(c: int, i: int) -> tuple[str, HandleResult]:
        await asyncio.sleep(random.uniform(0, 0.05))
        hub = replicas[(c + i) % 2]
        return f"c{c}-{i}", await hub.handle(msg(f"c{c}-{i}", f"c{c}-{i}", user=f"u{c}"))

    results = await asyncio.gather(*(send(c, i) for c in range(4) for i in range(6)))
    for text, result in results:
        assert result.status == "ok"
        assert [r.text for r in result.replies] == [f"echo: {text}"]
    assert fake_rasa.overlaps == []
    for c in range(4):
        assert sorted(fake_rasa.by_sender[f"test:u{c}"]) == sorted(f"c{c}-{i}" for i in range(6))
    assert pushed_texts(replicas) == []


@pytest.mark.parametrize("replicas", REPLICA_SETUPS[:1], indirect=True)
async def test_same_message_on_both_replicas_is_one_turn(
    replicas: list[Hub], fake_rasa: FakeRasa
) -> None:
    one, two = replicas
    results = await asyncio.gather(
        one.handle(msg("重复", "dup-1"), IN_PLACE),
        two.handle(msg("重复", "dup-1"), IN_PLACE),
    )
    assert sorted(r.status for r in results) == ["duplicate", "ok"]
    assert fake_rasa.by_sender["test:u1"] == ["重复"]


@pytest.mark.parametrize("replicas", REPLICA_SETUPS[:1], indirect=True)
async def test_inbox_of_a_crashed_replica_is_taken_over(
    replicas: list[Hub], fake_rasa: FakeRasa
) -> None:
    """A lock held by a dead replica expires; the waiting replica then drains."""
    one, two = replicas
    dead = await one.store.acquire_lock("lock:conv:test:u1", "dead-replica", 0.6)
    assert dead
    result = await two.handle(msg("还在吗", "m1"), IN_PLACE)
    assert result.status == "ok" and [r.text for r in result.replies] == ["echo: 还在吗"]


@pytest.mark.parametrize("replicas", REPLICA_SETUPS[:1], indirect=True)
@pytest.mark.parametrize(
    "mode", [DeliveryMode.PUSH_LATER, DeliveryMode.answer_within(0.05)], ids=["widget", "wechat"]
)
async def test_a_resend_takes_over_the_message_a_dead_replica_left(
    replicas: list[Hub], fake_rasa: FakeRasa, mode: DeliveryMode
) -> None:
    """The replica that took a message died before its turn (its lock still
    held): the sender's resend is a duplicate, and the other replica answers
    the first copy once the dead lock expired - nothing else will ever wake
    that conversation's inbox."""
    one, two = replicas
    assert await one.store.acquire_lock("lock:conv:test:u1", "dead-replica", 1.0)
    first = await one.handle(msg("还在吗", "m1"), mode)
    assert first.status == "pending"
    await one.close()  # dies: its waiting tasks go with it, the entry stays in the inbox
    resent = await two.handle(msg("还在吗", "m1"), mode)
    assert resent.status == "duplicate"
    await eventually(lambda: pushed_texts([two]) == ["echo: 还在吗"], 10)
    await asyncio.sleep(0.6)  # a second delivery would show up now
    assert pushed_texts(replicas) == ["echo: 还在吗"]
    assert fake_rasa.by_sender["test:u1"] == ["还在吗"]


@pytest.mark.parametrize("replicas", REPLICA_SETUPS[:1], indirect=True)
async def test_a_rest_resend_gets_the_answer_a_dead_replica_never_gave(
    replicas: list[Hub], fake_rasa: FakeRasa
) -> None:
    """REST: the front door holding the request died before the message's
    turn (its lock still held); the client resends the same message id to
    the other replica and gets the answer, from the one turn Rasa had."""
    one, two = replicas
    assert await one.store.acquire_lock("lock:conv:test:u1", "dead-replica", 1.0)
    waiting = asyncio.create_task(one.handle(msg("还在吗", "m1"), IN_PLACE))
    await asyncio.sleep(0.2)  # recorded and queued on the replica that dies
    waiting.cancel()  # the client's connection went with it
    await one.close()
    resent = await two.handle(msg("还在吗", "m1"), IN_PLACE)
    assert resent.status == "duplicate"
    assert [r.text for r in resent.replies] == ["echo: 还在吗"]
    assert fake_rasa.by_sender["test:u1"] == ["还在吗"]
    again = await two.handle(msg("还在吗", "m1"), IN_PLACE)  # and once more: the same answer
    assert [r.text for r in again.replies] == ["echo: 还在吗"]
    assert fake_rasa.by_sender["test:u1"] == ["还在吗"]


@pytest.mark.parametrize("replicas", REPLICA_SETUPS[:1], indirect=True)
async def test_a_turn_rasa_ran_for_a_dead_replica_is_not_run_again(
    replicas: list[Hub], fake_rasa: FakeRasa
) -> None:
    """The replica died while Rasa was running the message's turn: the one
    that takes the message over finds the turn in Rasa's tracker (by the
    front door's message id) and answers with its replies instead of putting
    the citizen's message into the tracker a second time."""
    one, two = replicas
    fake_rasa.delay = (0.6, 0.6)
    fake_rasa.finish_abandoned_turns = True
    waiting = asyncio.create_task(one.handle(msg("我要投诉", "m1"), IN_PLACE))
    await eventually(lambda: fake_rasa.by_sender["test:u1"] == ["我要投诉"], 5)
    waiting.cancel()
    await one.close()  # dies with the turn in flight; the entry stays in the inbox
    resent = await two.handle(msg("我要投诉", "m1"), IN_PLACE)
    assert [r.text for r in resent.replies] == ["echo: 我要投诉"]
    assert fake_rasa.by_sender["test:u1"] == ["我要投诉"]  # one turn in Rasa
    assert [e["event"] for e in fake_rasa.trackers["test:u1"]] == ["user", "bot"]
    assert "turn_recovered" in two.db.events.kinds()  # type: ignore[attr-defined]


@pytest.mark.parametrize("replicas", REPLICA_SETUPS[:1], indirect=True)
async def test_replies_a_dead_replica_wrote_are_not_written_again(
    replicas: list[Hub], fake_rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store failed after the transcript got the replies (Redis died):
    the entry stayed in the inbox; the replica that takes it over reads the
    turn back from Rasa and neither runs it again nor writes its replies twice."""
    one, two = replicas

    async def store_died(key: str, result: HandleResult) -> None:
        raise StoreUnavailable("redis went away")

    monkeypatch.setattr(one.results, "store_result", store_died)
    waiting = asyncio.create_task(one.handle(msg("我要投诉", "m1"), IN_PLACE))
    await eventually(lambda: len(one.db.transcripts.entries) == 2, 5)  # type: ignore[attr-defined]
    waiting.cancel()
    await one.close()
    resent = await two.handle(msg("我要投诉", "m1"), IN_PLACE)
    assert [r.text for r in resent.replies] == ["echo: 我要投诉"]
    assert fake_rasa.by_sender["test:u1"] == ["我要投诉"]
    rows = [(e.direction, e.message_id) for e in two.db.transcripts.entries]  # type: ignore[attr-defined]
    assert rows == [("in", "m1"), ("out", "m1#0")]


@pytest.mark.parametrize("replicas", REPLICA_SETUPS[:1], indirect=True)
async def test_a_turn_rasa_never_ran_is_sent_by_the_replica_that_takes_it_over(
    replicas: list[Hub], fake_rasa: FakeRasa
) -> None:
    """Marked as sent, but Rasa's tracker never got it (the replica died
    before its request left, or Rasa dropped it): after RASA_TIMEOUT from the
    mark it is sent; a tracker that cannot be read: sent at once."""
    one, two = replicas
    for message_id, status in (("m1", 200), ("m2", 500)):
        fake_rasa.tracker_status = status
        key = f"turn:test:u1:{message_id}"
        # Marked 4.5 s ago (RASA_TIMEOUT here is 5 s): the dead replica's
        # request could still run for half a second.
        assert await two.store.claim(key, TURN_MARK_TTL)
        await two.store.expire(key, TURN_MARK_TTL - 4.5)
        result = await two.handle(msg(f"还在吗{message_id}", message_id), IN_PLACE)
        assert [r.text for r in result.replies] == [f"echo: 还在吗{message_id}"]
    assert fake_rasa.by_sender["test:u1"] == ["还在吗m1", "还在吗m2"]


class JitteryTranscripts:
    """The shared transcript, each write taking 0-3 ms like a PostgreSQL
    insert of one of two front doors; ``seq`` is taken when the row lands."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def add(self, **row: Any) -> None:
        await asyncio.sleep(random.uniform(0, 0.003))
        await self.inner.add(**row)

    async def add_many(self, rows: Any) -> None:
        await asyncio.sleep(random.uniform(0, 0.003))
        await self.inner.add_many(rows)

    async def history(self, *args: Any, **kwargs: Any) -> Any:
        return await self.inner.history(*args, **kwargs)


BURST_ROUNDS = 30
BURST = 10


@pytest.mark.parametrize("replicas", REPLICA_SETUPS[:1], indirect=True)
async def test_same_sender_bursts_are_recorded_in_the_order_they_are_answered(
    replicas: list[Hub], fake_rasa: FakeRasa
) -> None:
    """10 messages of one sender at once, alternately to each replica (like
    tests/faults/test_bursts.py, without the cluster): the transcript records
    the citizen's messages in exactly the order they were answered, each
    message's replies after it and before the next message."""
    db = replicas[0].db
    assert isinstance(db, FakeDatabase) and all(hub.db is db for hub in replicas)
    db.transcripts = JitteryTranscripts(db.transcripts)  # type: ignore[assignment]
    fake_rasa.delay = (0.0, 0.002)
    out_of_order: list[int] = []
    not_interleaved: list[int] = []
    for round_no in range(BURST_ROUNDS):
        user = f"burst{round_no}"

        async def send(i: int, user: str = user) -> HandleResult:
            await asyncio.sleep(i * 0.0005)
            return await replicas[i % 2].handle(msg(f"b{i}", f"m{i}", user=user), IN_PLACE)

        results = await asyncio.gather(*(send(i) for i in range(BURST)))
        assert all(r.status == "ok" for r in results)
        answered = [f"m{text[1:]}" for text in fake_rasa.by_sender[f"test:{user}"]]
        for hub in replicas:  # the replies are written after the answer
            await hub.transcript.settled(f"test:{user}")
        entries = await replicas[0].history(f"test:{user}")
        inbound = [e.message_id for e in entries if e.direction == "in"]
        if inbound != answered:
            out_of_order.append(round_no)
        # Each message's reply right after it, before the next message.
        recorded = [(e.direction, e.message_id) for e in entries]
        if recorded != [pair for m in answered for pair in (("in", m), ("out", f"{m}#0"))]:
            not_interleaved.append(round_no)
    assert (out_of_order, not_interleaved) == ([], []), (
        f"of {BURST_ROUNDS} rounds, {len(out_of_order)} recorded in another order than "
        f"answered, {len(not_interleaved)} with replies not right after their message"
    )
