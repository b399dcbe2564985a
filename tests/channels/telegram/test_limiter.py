"""ChatRateLimiter on a virtual clock: computed delays, not timed sleeps."""

from __future__ import annotations

from typing import Any

import pytest
from telegram.error import RetryAfter

from channels.telegram._limiter import ChatRateLimiter, KeyedLocks


class VirtualClock:
    """``sleep`` advances time at once and records how long was asked for."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def make(clock: VirtualClock, **kwargs: Any) -> ChatRateLimiter:
    return ChatRateLimiter(clock=clock, sleep=clock.sleep, **kwargs)


async def send(limiter: ChatRateLimiter, clock: VirtualClock, chat: int | None, log: list) -> Any:
    async def call() -> bool:
        log.append((chat, round(clock.now - 100.0, 6)))
        return True

    data: dict[str, Any] = {} if chat is None else {"chat_id": chat}
    return await limiter.process_request(call, (), {}, "sendMessage", data, None)


async def test_one_chat_gets_one_message_per_interval() -> None:
    clock = VirtualClock()
    limiter = make(clock, per_chat_interval=1.0)
    log: list = []
    for chat in (1, 1, 2, 1):
        await send(limiter, clock, chat, log)
    assert log == [(1, 0.0), (1, 1.0), (2, 1.0), (1, 2.0)]
    assert limiter.requests == 4


async def test_overall_rate_is_a_sliding_window() -> None:
    clock = VirtualClock()
    limiter = make(clock, per_chat_interval=0.0, overall_max_rate=3, overall_period=1.0)
    log: list = []
    for chat in range(1, 8):
        await send(limiter, clock, chat, log)
    assert [t for _chat, t in log] == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0]


async def test_requests_without_a_chat_are_not_throttled() -> None:
    clock = VirtualClock()
    limiter = make(clock, per_chat_interval=1.0, overall_max_rate=1)
    log: list = []
    for _ in range(3):
        await send(limiter, clock, None, log)
    assert clock.sleeps == []


async def test_a_429_waits_retry_after_and_retries_once() -> None:
    clock = VirtualClock()
    limiter = make(clock, per_chat_interval=0.0)
    attempts: list[float] = []

    async def flaky() -> bool:
        attempts.append(clock.now)
        if len(attempts) == 1:
            raise RetryAfter(3)
        return True

    result = await limiter.process_request(flaky, (), {}, "sendMessage", {"chat_id": 5}, None)
    assert result is True
    assert attempts == [100.0, 103.0]
    assert limiter.retries == 1


async def test_a_second_429_or_a_long_wait_is_raised() -> None:
    clock = VirtualClock()
    limiter = make(clock, per_chat_interval=0.0, max_retry_wait=30.0)
    calls = 0

    async def always_flooded() -> bool:
        nonlocal calls
        calls += 1
        raise RetryAfter(1)

    with pytest.raises(RetryAfter):
        await limiter.process_request(always_flooded, (), {}, "sendMessage", {"chat_id": 5}, None)
    assert calls == 2

    async def long_flood() -> bool:
        raise RetryAfter(600)

    with pytest.raises(RetryAfter):
        await limiter.process_request(long_flood, (), {}, "sendMessage", {"chat_id": 5}, None)
    assert clock.sleeps.count(600.0) == 0


async def test_keyed_locks_are_forgotten_when_free() -> None:
    locks = KeyedLocks()
    async with locks.hold(1):
        assert len(locks._locks) == 1
    assert locks._locks == {}
