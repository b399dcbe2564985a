"""bot/hub: dedupe, transcript, routing, handoff, delivery; Rasa failures.

Two-replica ordering tests live in tests/test_hub_replicas.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest

from bot import hub_routing
from bot.config import Settings
from bot.hub import BUSY_TEXT, HANDOFF_ACK_TEXT, Hub
from bot.hub_routing import AGENTS_CHANNEL
from bot.inbound import DeliveryMode
from bot.messages import InboundMessage, OutboundMessage
from bot.rasa_client import RasaApi, RasaClient
from bot.rasa_pool import RasaPool
from bot.store import MemoryStore, SharedStore, StoreUnavailable
from bot.store.redis import RedisStore
from channels.base import Channel
from tests.fakes.db import FakeDatabase
from tests.fakes.rasa import FakeRasa
from tests.support.ports import dead_url
from tests.support.waiting import eventually

#: The REST channel's delivery mode: the caller waits for its replies.
IN_PLACE = DeliveryMode.ANSWER_IN_PLACE

HubFactory = Callable[..., Hub]


class RecordingChannel(Channel):
    """A push-capable channel that remembers what it was asked to send."""

    name = "test"

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[OutboundMessage]]] = []

    def add_routes(self, app: Any) -> None:
        pass

    async def send(self, channel_user_id: str, messages: Sequence[OutboundMessage]) -> None:
        self.sent.append((channel_user_id, list(messages)))


def msg(text: str, mid: str, user: str = "u1", channel: str = "test") -> InboundMessage:
    return InboundMessage(channel=channel, channel_user_id=user, message_id=mid, text=text)


@pytest.fixture
async def make_hub(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[HubFactory]:
    made: list[Hub] = []

    def make(
        store: SharedStore, rasa_url: str, db: FakeDatabase | None = None, **settings: Any
    ) -> Hub:
        conf = make_settings(rasa_url=rasa_url, **settings)
        rasa: RasaApi = RasaClient(rasa_url, conf.rasa_timeout)
        if conf.rasa_urls:  # several servers (tests/test_rasa_pool.py)
            rasa = RasaPool(conf.rasa_servers, conf.rasa_timeout, probe_interval=0)
        hub = Hub(store, db or FakeDatabase(), rasa, conf)
        hub.register_channel(RecordingChannel())
        made.append(hub)
        return hub

    yield make
    for hub in made:
        await hub.close()
        await hub.rasa.close()


def sent(hub: Hub) -> list[tuple[str, list[OutboundMessage]]]:
    channel = hub.channels["test"]
    assert isinstance(channel, RecordingChannel)
    return channel.sent


async def test_rasa_turn_is_answered_and_transcribed(
    store: SharedStore, fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    hub = make_hub(store, fake_rasa.url)
    result = await hub.handle(msg("你好", "m1"), IN_PLACE)
    assert result.status == "ok"
    assert [r.text for r in result.replies] == ["echo: 你好"]
    call = fake_rasa.calls[0]
    assert call["sender"] == "test:u1"
    assert call["metadata"]["channel"] == "test" and call["metadata"]["message_id"] == "m1"
    entries = await hub.history("test:u1")
    assert [(e.direction, e.text) for e in entries] == [("in", "你好"), ("out", "echo: 你好")]
    await hub.router.flush()  # the "answered" statistic is written in the background
    assert hub.db.events.kinds() == ["answered"]  # type: ignore[attr-defined]
    assert sent(hub) == []


async def test_statistics_events_are_written_in_one_batch_soon_after(
    store: SharedStore,
    fake_rasa: FakeRasa,
    make_hub: HubFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hub_routing, "RECORD_DELAY", 0.2)
    hub = make_hub(store, fake_rasa.url)
    batches: list[int] = []
    record_many = hub.db.events.record_many

    async def spy(items: Any) -> None:
        batches.append(len(items))
        await record_many(items)

    monkeypatch.setattr(hub.db.events, "record_many", spy)
    for i in range(3):
        assert (await hub.handle(msg("你好", f"b{i}", user=f"u{i}"), IN_PLACE)).status == "ok"
    assert hub.db.events.kinds() == []  # type: ignore[attr-defined]  # not yet: batched
    await asyncio.sleep(0.4)
    assert batches == [3]
    assert hub.db.events.kinds() == ["answered"] * 3  # type: ignore[attr-defined]


async def test_duplicate_message_id_gets_no_second_turn(
    store: SharedStore, fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    hub = make_hub(store, fake_rasa.url)
    first = await hub.handle(msg("你好", "m1"), IN_PLACE)
    assert first.status == "ok"
    again = await hub.handle(msg("你好", "m1"), IN_PLACE)
    # Answered in place, a resend gets the first copy's replies (its client
    # resent because they never reached it), not another turn.
    assert again.status == "duplicate" and again.replies == first.replies
    assert len(fake_rasa.calls) == 1
    assert len(await hub.history("test:u1")) == 2
    # The same id on another channel is another message.
    other = await hub.handle(msg("你好", "m1", channel="other"), IN_PLACE)
    assert other.status == "ok"


@pytest.mark.parametrize("failure", ["down", "slow", "http500", "not_json"])
async def test_rasa_failure_gives_polite_busy_reply(
    failure: str, fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    url = fake_rasa.url
    if failure == "down":
        url = dead_url()
    elif failure == "slow":
        fake_rasa.delay = (1.0, 1.0)
    elif failure == "http500":
        fake_rasa.status_code = 500
    else:
        fake_rasa.non_json = True
    hub = make_hub(MemoryStore(), url, rasa_timeout=0.3)
    result = await hub.handle(msg("办证", "m1"), IN_PLACE)
    assert result.status == "busy"
    assert [r.text for r in result.replies] == [BUSY_TEXT]
    assert hub.db.events.kinds() == ["rasa_busy"]  # type: ignore[attr-defined]
    entries = await hub.history("test:u1")
    assert [e.direction for e in entries] == ["in", "out"]
    # The conversation keeps going once Rasa is back.
    fake_rasa.delay, fake_rasa.status_code, fake_rasa.non_json = (0.0, 0.0), 200, False
    hub.rasa.base_url = fake_rasa.url
    assert (await hub.handle(msg("办证", "m2"), IN_PLACE)).status == "ok"


async def test_handoff_signal_queues_conversation_and_is_hidden(
    store: SharedStore, fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    fake_rasa.replies["转人工"] = [
        {"text": "好的，正在为您转接人工客服。"},
        {"custom": {"handoff": {"reason": "citizen_request", "priority": "normal"}}},
    ]
    fake_rasa.replies["着火了"] = [
        {"custom": {"handoff": {"reason": "emergency", "priority": "urgent"}}},
    ]
    hub = make_hub(store, fake_rasa.url)
    async with store.subscribe(AGENTS_CHANNEL) as agents:
        result = await hub.handle(msg("转人工", "m1", user="a"), IN_PLACE)
        note = json.loads(await asyncio.wait_for(agents.__anext__(), 2))
    assert result.status == "ok"
    assert [r.text for r in result.replies] == ["好的，正在为您转接人工客服。"]
    assert all(r.custom is None for r in result.replies)
    assert note["type"] == "handoff" and note["conversation_id"] == "test:a"
    assert await hub.conversation_state("test:a") == "queued"
    assert (await hub.conversations.get("test:a")).handoff_reason == "citizen_request"
    assert "handoff_queued" in hub.db.events.kinds()  # type: ignore[attr-defined]
    # A later urgent handoff goes ahead of the earlier normal one.
    await hub.handle(msg("着火了", "m2", user="b"), IN_PLACE)
    assert await hub.conversations.queue_order() == ["test:b", "test:a"]
    out = [e for e in await hub.history("test:a") if e.direction == "out"]
    assert [e.text for e in out] == ["好的，正在为您转接人工客服。"]


@pytest.mark.parametrize(("state", "ack"), [("queued", [HANDOFF_ACK_TEXT]), ("with_agent", [])])
async def test_agent_conversation_skips_rasa(
    state: str, ack: list[str], store: SharedStore, fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    hub = make_hub(store, fake_rasa.url)
    await hub.set_conversation_state("test:u1", state)
    async with store.subscribe(AGENTS_CHANNEL) as agents:
        result = await hub.handle(msg("我的问题是…", "m1"), IN_PLACE)
        forwarded = json.loads(await asyncio.wait_for(agents.__anext__(), 2))
    assert result.status == "to_agent"
    assert [r.text for r in result.replies] == ack
    assert fake_rasa.calls == []
    assert forwarded["type"] == "message"
    assert forwarded["conversation_id"] == "test:u1"
    assert forwarded["message"]["message_id"] == "m1"
    assert hub.db.events.kinds() == ["to_agent"]  # type: ignore[attr-defined]


async def test_push_goes_to_the_conversations_channel(
    fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    hub = make_hub(MemoryStore(), fake_rasa.url)
    reply = OutboundMessage(text="您好，我是人工客服小李。", sender="agent:li")
    await hub.push("test:user:with:colons", [reply])
    assert sent(hub) == [("user:with:colons", [reply])]
    entries = await hub.history("test:user:with:colons")
    assert [(e.direction, e.sender, e.text) for e in entries] == [
        ("out", "agent:li", "您好，我是人工客服小李。")
    ]
    await hub.push("nochannel:x", [reply])  # unknown channel: logged, transcript kept
    assert len(await hub.history("nochannel:x")) == 1


async def test_wait_zero_always_pushes_exactly_once(
    store: SharedStore, fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    hub = make_hub(store, fake_rasa.url)
    result = await hub.handle(msg("你好", "m1"), DeliveryMode.PUSH_LATER)
    assert result == type(result)([], "pending")
    await eventually(lambda: len(sent(hub)) == 1)
    await asyncio.sleep(0.3)
    assert [(u, [m.text for m in ms]) for u, ms in sent(hub)] == [("u1", ["echo: 你好"])]


async def test_slow_answer_is_pending_then_pushed(
    store: SharedStore, fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    fake_rasa.delay = (0.4, 0.4)
    hub = make_hub(store, fake_rasa.url)
    result = await hub.handle(msg("慢", "m1"), DeliveryMode.answer_within(0.1))
    assert result.status == "pending" and result.replies == []
    await eventually(lambda: len(sent(hub)) == 1)
    await asyncio.sleep(0.3)
    assert len(sent(hub)) == 1
    # In time: returned, never pushed.
    fake_rasa.delay = (0.0, 0.0)
    quick = await hub.handle(msg("快", "m2"), DeliveryMode.answer_within(2))
    assert quick.status == "ok" and [r.text for r in quick.replies] == ["echo: 快"]
    await asyncio.sleep(0.3)
    assert len(sent(hub)) == 1


async def test_dead_store_before_anything_recorded_raises(
    fake_rasa: FakeRasa, make_hub: HubFactory, redis_prefix: str
) -> None:
    hub = make_hub(RedisStore("redis://127.0.0.1:1/0", redis_prefix), fake_rasa.url)
    with pytest.raises(StoreUnavailable):
        await hub.handle(msg("你好", "m1"), IN_PLACE)
    assert await hub.history("test:u1") == []
    assert fake_rasa.calls == []


class FailingInboxStore(MemoryStore):
    async def rpush(self, key: str, *values: str, ttl: float) -> int:
        raise StoreUnavailable("simulated outage")


async def test_store_failing_after_claim_gives_busy_reply(
    fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    hub = make_hub(FailingInboxStore(), fake_rasa.url)
    result = await hub.handle(msg("你好", "m1"), IN_PLACE)
    assert result.status == "busy" and [r.text for r in result.replies] == [BUSY_TEXT]
    entries = await hub.history("test:u1")
    assert [e.direction for e in entries] == ["in", "out"]  # the citizen's words are kept


class OutageStore(MemoryStore):
    """The store is unreachable (Redis restarting) while ``down`` is set."""

    down = False

    async def get(self, key: str) -> str | None:
        if self.down:
            raise StoreUnavailable("simulated outage")
        return await super().get(key)


async def test_a_pending_reply_is_pushed_after_a_store_outage(
    fake_rasa: FakeRasa, make_hub: HubFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store fails while the widget's (or Telegram's) message waits for its
    turn: the message stays in the inbox and is answered, pushed once, when the
    store is back - not left there until the citizen writes again."""
    monkeypatch.setattr("bot.hub.STORE_RETRY", 0.05)
    store = OutageStore()
    hub = make_hub(store, fake_rasa.url)
    fake_rasa.delay = (0.3, 0.3)
    store.down = True  # before the turn reads its result key: the drain stops too
    result = await hub.handle(msg("你好", "m1"), DeliveryMode.PUSH_LATER)
    assert result.status == "pending"
    await asyncio.sleep(0.5)
    assert sent(hub) == []
    store.down = False
    await eventually(lambda: len(sent(hub)) == 1, 5)
    assert [m.text for m in sent(hub)[0][1]] == ["echo: 你好"]
    await asyncio.sleep(0.3)
    assert len(sent(hub)) == 1 and len(fake_rasa.calls) == 1


async def test_history_after_seq(fake_rasa: FakeRasa, make_hub: HubFactory) -> None:
    hub = make_hub(MemoryStore(), fake_rasa.url)
    for i in range(3):
        await hub.handle(msg(f"问题{i}", f"m{i}"), IN_PLACE)
    entries = await hub.history("test:u1")
    assert len(entries) == 6
    later = await hub.history("test:u1", after_seq=entries[3].seq)
    assert [e.text for e in later] == ["问题2", "echo: 问题2"]
    assert [e.text for e in await hub.history("test:u1", limit=2)] == ["问题2", "echo: 问题2"]


async def test_hub_with_the_real_database_on_sqlite(
    tmp_path: Any, fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    from cryptography.fernet import Fernet

    from bot.db import Database
    from bot.db.crypto import Cipher

    db = Database(f"sqlite:///{tmp_path}/hub.db", cipher=Cipher([Fernet.generate_key()]))
    await db.connect()
    try:
        fake_rasa.replies["转人工"] = [
            {"text": "好的"},
            {"custom": {"handoff": {"reason": "citizen_request", "priority": "normal"}}},
        ]
        hub = make_hub(MemoryStore(), fake_rasa.url, db=db)  # type: ignore[arg-type]
        assert (await hub.handle(msg("你好", "m1"), IN_PLACE)).status == "ok"
        assert (await hub.handle(msg("转人工", "m2"), IN_PLACE)).status == "ok"
        assert (await hub.handle(msg("人呢", "m3"), IN_PLACE)).status == "to_agent"
        await hub.push("test:u1", [OutboundMessage(text="您好，我是小李", sender="agent:li")])
        entries = await hub.history("test:u1")
        assert [(e.direction, e.text) for e in entries] == [
            ("in", "你好"),
            ("out", "echo: 你好"),
            ("in", "转人工"),
            ("out", "好的"),
            ("in", "人呢"),
            ("out", HANDOFF_ACK_TEXT),
            ("out", "您好，我是小李"),
        ]
        assert entries[1].message_id == "m1#0" and entries[-1].sender == "agent:li"
        await hub.router.flush()
        counts = await db.events.counts()
        assert counts == {"answered": 2, "handoff_queued": 1, "to_agent": 1}
    finally:
        await db.close()


# --- transcript writes off the citizen's wait (see bot/hub.py docstring) ------


class GatedTranscripts:
    """FakeTranscripts whose writes of one direction wait for a gate."""

    def __init__(self, inner: Any, direction: str) -> None:
        self.inner = inner
        self.direction = direction
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def add(self, **kwargs: Any) -> Any:
        if kwargs["direction"] == self.direction:
            self.waiting.set()
            await self.gate.wait()
        return await self.inner.add(**kwargs)

    async def add_many(self, rows: Any) -> Any:
        for row in rows:
            await self.add(**row)

    async def history(self, *args: Any, **kwargs: Any) -> Any:
        return await self.inner.history(*args, **kwargs)


async def test_the_answer_does_not_wait_for_the_reply_write(
    fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    db = FakeDatabase()
    gated = GatedTranscripts(db.transcripts, "out")
    db.transcripts = gated  # type: ignore[assignment]
    hub = make_hub(MemoryStore(), fake_rasa.url, db=db)
    result = await hub.handle(
        msg("你好", "m1"), DeliveryMode.ANSWER_IN_PLACE
    )  # returns with the write held
    assert [r.text for r in result.replies] == ["echo: 你好"]
    await asyncio.wait_for(gated.waiting.wait(), 5)  # the reply write started after it
    assert not gated.gate.is_set()
    # This replica's reads wait for the reply, so nobody sees a half transcript.
    reader = asyncio.create_task(hub.history("test:u1"))
    await asyncio.sleep(0.05)
    assert not reader.done()
    gated.gate.set()
    entries = await reader
    assert [(e.direction, e.text) for e in entries] == [("in", "你好"), ("out", "echo: 你好")]
    # The result was stored for other replicas only after the reply was written.
    assert await hub.store.get("result:test:u1:m1") is not None


async def test_replies_are_written_after_the_inbound_entry(
    fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    db = FakeDatabase()
    gated = GatedTranscripts(db.transcripts, "in")
    db.transcripts = gated  # type: ignore[assignment]
    hub = make_hub(MemoryStore(), fake_rasa.url, db=db)
    handling = asyncio.create_task(hub.handle(msg("你好", "m1"), IN_PLACE))
    await gated.waiting.wait()
    await asyncio.sleep(0.1)  # Rasa has answered; the reply must wait for the inbound entry
    assert db.transcripts.__class__ is GatedTranscripts and gated.inner.entries == []
    gated.gate.set()
    await handling
    entries = await hub.history("test:u1")
    assert [e.direction for e in entries] == ["in", "out"]


async def test_a_replica_writes_the_inbound_entry_when_the_receiver_never_did(
    fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    db = FakeDatabase()
    hub = make_hub(MemoryStore(), fake_rasa.url, db=db)
    hub.transcript.inbound_wait = 0.2
    lost = msg("你好", "m1")  # its receiver claimed the write and died before it
    await hub.store.claim("inbound-writer:test:u1:m1", 60)
    await hub.transcript.inbound_written(lost)
    assert [(e.direction, e.text) for e in db.transcripts.entries] == [("in", "你好")]
    await hub.store.claim("inbound-writer:test:u1:m2", 60)
    await hub.store.set("inbound:test:u1:m2", "1", 60)  # written by the receiving replica
    await hub.transcript.inbound_written(msg("再见", "m2"))
    assert len(db.transcripts.entries) == 1


async def test_a_message_queued_behind_others_is_written_by_the_processing_replica(
    fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    """Nobody claimed it on arrival (it was not first in line): written at once, once."""
    db = FakeDatabase()
    hub = make_hub(MemoryStore(), fake_rasa.url, db=db)
    await hub.transcript.inbound_written(msg("第二条", "m2"))
    assert [(e.direction, e.text) for e in db.transcripts.entries] == [("in", "第二条")]
    assert await hub.store.get("inbound:test:u1:m2") == "1"  # for a replica taking over
    await hub.transcript.inbound_written(msg("第二条", "m2"))  # a takeover: not again
    assert len(db.transcripts.entries) == 1


def count_lookups(hub: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys the hub's store is asked for from now on, in order."""
    lookups: list[str] = []
    real_get = hub.store.get

    async def counting_get(key: str) -> str | None:
        lookups.append(key)
        return await real_get(key)

    monkeypatch.setattr(hub.store, "get", counting_get)
    return lookups


async def test_an_announced_result_that_vanished_does_not_spin_the_waiter(
    fake_rasa: FakeRasa, make_hub: HubFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replica announced a result and stopped before storing it (shutdown)."""
    hub = make_hub(MemoryStore(), fake_rasa.url)
    lookups = count_lookups(hub, monkeypatch)
    lost = msg("你好", "gone")
    event = hub.results._events.setdefault("result:test:u1:gone", asyncio.Event())
    event.set()
    assert await hub.results.wait(lost, 0.3) is None
    # woken once, then it waits for the deadline on the loop's real timers
    # (the early-firing timers at the deadline: the test below)
    assert len(lookups) <= 3


class EarlyTimerLoop:
    """The running loop as bot/hub_results.py sees it, on a fake clock whose
    timers fire ``early`` seconds before their deadline, every time.

    uvloop's timers (libuv) have a millisecond's resolution and fire up to
    1 ms before ``loop.time()`` reaches their deadline; on the real loops how
    early depends on the machine, here it is fixed. The fake clock stands
    still between timers and a timer fires at the next loop iteration,
    setting the clock to its deadline less ``early``; after ``give_up``
    timers it fires on time, so a wait that spins still ends and the test
    can count its rounds. Everything else is the real loop.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, early: float, give_up: int) -> None:
        self.loop, self.early, self.give_up = loop, early, give_up
        self.now = 1000.0
        self.armed: list[float] = []

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Any:
        self.armed.append(delay)
        due = self.now + delay
        early = self.early if len(self.armed) <= self.give_up else 0.0

        def fire() -> None:
            self.now = max(self.now, due - early)
            callback(*args)

        return self.loop.call_soon(fire)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loop, name)


class AsyncioWithLoop:
    """``asyncio`` as one module sees it: the running loop is ``loop``."""

    def __init__(self, loop: EarlyTimerLoop) -> None:
        self.loop = loop

    def get_running_loop(self) -> EarlyTimerLoop:
        return self.loop

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)


async def test_a_wait_whose_timers_fire_early_does_not_spin_at_its_deadline(
    fake_rasa: FakeRasa, make_hub: HubFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wait that times out on timers firing 0.5 ms early ends at the first
    timer that leaves it less than TIMER_SLACK (bot/hub_timing.py), whatever
    the loop: it does not re-arm a timer for the sub-millisecond rest.

    Before the slack the wait re-armed, as long as the early timers left it
    short of the deadline: up to 123 rounds in 50 waits of 0.3 s on uvloop,
    which the real-timer test above caught only by chance; here, without the
    slack, every round ends 0.5 ms short and the wait spins until the fake
    clock gives up (52 lookups instead of 3). The waiter is also woken first by an
    announced result that vanished (as in the test above), so this test holds
    that case too, on timers that fire early.
    """
    from bot import hub_results

    hub = make_hub(MemoryStore(), fake_rasa.url)
    lookups = count_lookups(hub, monkeypatch)
    clock = EarlyTimerLoop(asyncio.get_running_loop(), early=0.0005, give_up=50)
    monkeypatch.setattr(hub_results, "asyncio", AsyncioWithLoop(clock))
    lost = msg("你好", "gone")
    event = hub.results._events.setdefault("result:test:u1:gone", asyncio.Event())
    event.set()
    assert await hub.results.wait(lost, 0.3) is None
    # woken by the announcement (timer cancelled), then one timer for the
    # deadline that fires 0.5 ms early: the wait has expired
    assert len(lookups) == 3, f"{len(lookups)} lookups, last timer {clock.armed[-1]:.6f} s"
    assert clock.armed == [pytest.approx(0.3), pytest.approx(0.3)]
    assert clock.now == pytest.approx(1000.2995)


async def test_handoff_summary_is_masked_in_the_store(
    fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    """A summary that arrives with raw numbers is masked before the hub keeps it
    (conversation hash in the shared store, the agents' channel)."""
    summary = {"last_messages": ["我电话13812345678", "身份证11010519491231002X"]}
    fake_rasa.replies["转人工"] = [
        {"custom": {"handoff": {"reason": "citizen_request", "summary": summary}}}
    ]
    store = MemoryStore()
    hub = make_hub(store, fake_rasa.url)
    async with store.subscribe(AGENTS_CHANNEL) as agents:
        await hub.handle(msg("转人工", "m1", user="a"), IN_PLACE)
        note = await asyncio.wait_for(agents.__anext__(), 2)
    kept = (await hub.conversations.get("test:a")).handoff_summary or ""
    for text in (kept, note):
        assert "13812345678" not in text and "11010519491231002X" not in text
    assert "138****5678" in json.loads(kept)["last_messages"][0]


class FlakyTranscripts:
    """Transcripts whose first ``failures`` writes raise ``error`` (the
    database restarting), then write through."""

    def __init__(self, inner: Any, failures: int, error: Exception) -> None:
        self.inner, self.failures, self.error = inner, failures, error
        self.attempts = 0

    async def add(self, **kwargs: Any) -> Any:
        self.attempts += 1
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        return await self.inner.add(**kwargs)

    async def add_many(self, rows: Any) -> Any:
        for row in rows:
            await self.add(**row)

    async def history(self, *args: Any, **kwargs: Any) -> Any:
        return await self.inner.history(*args, **kwargs)


def _db_down() -> Exception:
    import sqlalchemy.exc

    return sqlalchemy.exc.OperationalError("INSERT", {}, ConnectionRefusedError("restarting"))


async def test_transcript_writes_are_retried_while_the_database_is_down(
    fake_rasa: FakeRasa, make_hub: HubFactory
) -> None:
    """Issue 19's fault test: a 0.7-s PostgreSQL restart lost 3 of 600 widget
    messages (logged and dropped). A connection error is now retried (bounded,
    TRANSCRIPT_RETRY_SECONDS) and the entries are kept, in order."""
    db = FakeDatabase()
    flaky = FlakyTranscripts(db.transcripts, failures=3, error=_db_down())
    db.transcripts = flaky  # type: ignore[assignment]
    hub = make_hub(MemoryStore(), fake_rasa.url, db=db)
    result = await hub.handle(msg("你好", "m1"), IN_PLACE)
    assert [r.text for r in result.replies] == ["echo: 你好"]
    entries = await hub.history("test:u1")
    assert [(e.direction, e.text) for e in entries] == [("in", "你好"), ("out", "echo: 你好")]
    assert flaky.attempts == 5  # three refused, then the inbound entry and the reply


async def test_a_bad_row_is_not_retried(fake_rasa: FakeRasa, make_hub: HubFactory) -> None:
    """Only the connection is worth another try: an error of the row itself
    (here a constraint) fails at once, logged, as before; the answer is given."""
    import sqlalchemy.exc

    db = FakeDatabase()
    bad = sqlalchemy.exc.IntegrityError("INSERT", {}, ValueError("constraint"))
    flaky = FlakyTranscripts(db.transcripts, failures=1, error=bad)
    db.transcripts = flaky  # type: ignore[assignment]
    hub = make_hub(MemoryStore(), fake_rasa.url, db=db)
    result = await hub.handle(msg("你好", "m1"), IN_PLACE)
    assert [r.text for r in result.replies] == ["echo: 你好"]
    entries = await hub.history("test:u1")
    assert [(e.direction, e.text) for e in entries] == [("out", "echo: 你好")]
    assert flaky.attempts == 2  # the inbound entry once (dropped), the reply once
