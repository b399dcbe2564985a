"""The scheduler: periods, one leader across replicas on real Redis, take-over
after the leader dies (a process killed with SIGKILL), and runs kept in SQL so
a restart neither repeats nor skips a slot."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.db import Database
from bot.db.crypto import Cipher
from bot.db.models import LOCAL_TZ
from bot.ops.runs import RunRepo
from bot.ops.scheduler import LOCK_NAME, Job, Scheduler, Slot, daily, every, monthly, weekly
from bot.store.redis import RedisStore
from tests.support.processes import ROOT
from tests.tickets.conftest import Clock

pytestmark = pytest.mark.redis


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LOCAL_TZ)  # type: ignore[misc]


def test_periods_name_the_latest_due_slot() -> None:
    at3 = daily(3)
    assert at3(local(2026, 12, 5, 2, 59)).key == "2026-12-04"  # today's not due yet
    assert at3(local(2026, 12, 5, 3, 0)) == Slot("2026-12-05", local(2026, 12, 5, 3))
    # UTC 20:00 on the 4th is 04:00 on the 5th in Dongguan
    assert at3(dt.datetime(2026, 12, 4, 20, tzinfo=dt.UTC)).key == "2026-12-05"
    sunday5 = weekly(7, 5)  # 2026-12-06 is a Sunday
    assert sunday5(local(2026, 12, 6, 4, 0)).key == "2026-11-29"
    assert sunday5(local(2026, 12, 6, 5, 0)).key == "2026-12-06"
    assert sunday5(local(2026, 12, 10, 12, 0)).key == "2026-12-06"
    first1 = monthly(1)
    assert first1(local(2027, 1, 1, 0, 30)).key == "2026-12-01"
    assert first1(local(2027, 1, 1, 1, 0)).key == "2027-01-01"
    assert every(60)(dt.datetime.fromtimestamp(120.5, dt.UTC)) == Slot(
        "2", dt.datetime.fromtimestamp(120, dt.UTC)
    )


@pytest.fixture
async def real_db(tmp_path: Path, data_key: str) -> AsyncIterator[Database]:
    """The database on the wall clock (the scheduler's slots follow real time)."""
    db = Database(f"sqlite:///{tmp_path / 'hotline.db'}", cipher=Cipher([data_key]))
    await db.connect()
    yield db
    await db.close()


@pytest.fixture
async def stores(redis_url: str, redis_prefix: str) -> AsyncIterator[list[RedisStore]]:
    """Two connections to the same Redis under the same prefix: two replicas."""
    made = [RedisStore(redis_url, redis_prefix), RedisStore(redis_url, redis_prefix)]
    yield made
    for store in made:
        await store.close()


def _recorder(name: str, seen: list[tuple[str, str]], delay: float = 0.0) -> Any:
    async def run(slot: Slot) -> dict[str, Any]:
        seen.append((name, slot.key))
        if delay:
            await asyncio.sleep(delay)
        return {"by": name}

    return run


async def test_two_schedulers_one_runs_the_jobs(
    stores: list[RedisStore], real_db: Database
) -> None:
    seen: list[tuple[str, str]] = []
    runs = RunRepo(real_db)
    a, b = (
        Scheduler(store, runs, [Job("tick", every(0.25), _recorder(name, seen))], lock_ttl=2.0)
        for store, name in zip(stores, ("a", "b"), strict=True)
    )
    try:
        first = await a.tick()
        assert [r.slot for r in first] and a.leading
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:  # both tick, concurrently, for two seconds
            results = await asyncio.gather(a.tick(), b.tick())
            assert results[1] == [] and not b.leading
            await asyncio.sleep(0.05)
        by = {who for who, _ in seen}
        assert by == {"a"}, seen
        slots = [slot for _, slot in seen]
        assert len(slots) == len(set(slots)) >= 5  # every slot once, and several ran
        recorded = await runs.list("tick", limit=100)
        assert {r.slot for r in recorded} == set(slots)
        assert all(r.status == "ok" and r.attempts == 1 for r in recorded)
    finally:
        await a._let_go()
        await b._let_go()


async def test_a_slow_job_keeps_the_lock_renewed(
    stores: list[RedisStore], real_db: Database
) -> None:
    """A job longer than the lock's TTL: renewals keep the other replica out."""
    seen: list[tuple[str, str]] = []
    runs = RunRepo(real_db)
    slow = Job("slow", daily(0), _recorder("a", seen, delay=2.5))
    a = Scheduler(stores[0], runs, [slow], lock_ttl=1.0)
    b = Scheduler(stores[1], runs, [Job("slow", daily(0), _recorder("b", seen))], lock_ttl=1.0)
    try:
        running = asyncio.create_task(a.tick())
        for _ in range(10):  # 2.5 s: the TTL passes twice while a works
            await asyncio.sleep(0.25)
            assert await b.tick() == []
        done = await running
        assert [r.status for r in done] == ["ok"] and seen == [("a", done[0].slot)]
    finally:
        await a._let_go()
        await b._let_go()


async def test_the_other_replica_takes_over_when_the_leader_dies(
    stores: list[RedisStore],
    real_db: Database,
    redis_url: str,
    redis_prefix: str,
    data_key: str,
    tmp_path: Path,
) -> None:
    ttl = 1.5
    log = tmp_path / "scheduler.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.ops.scheduler_process", str(real_db.url.sync_url),
            data_key, redis_url, redis_prefix, str(ttl),
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    seen: list[tuple[str, str]] = []
    runs = RunRepo(real_db)
    b = Scheduler(stores[1], runs, [Job("tick", every(0.2), _recorder("b", seen))], lock_ttl=ttl)
    try:
        deadline = time.monotonic() + 60
        while b"leading" not in log.read_bytes():
            assert proc.returncode is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.6)
        assert await b.tick() == [] and not b.leading  # the process leads
        by_process = [r for r in await runs.list("tick", limit=100) if r.status == "ok"]
        assert by_process and all(r.detail["by"] == "process" for r in by_process)
        assert await stores[1].get(LOCK_NAME) is not None

        proc.kill()  # SIGKILL: no release, no clean-up; the lock just stops being renewed
        await proc.wait()
        killed = time.monotonic()
        while not b.leading:
            await b.tick()
            assert time.monotonic() - killed < ttl + 2.0, "no take-over after the lock expired"
            await asyncio.sleep(0.05)
        took = time.monotonic() - killed
        await asyncio.sleep(0.5)
        await b.tick()
        assert seen and {who for who, _ in seen} == {"b"}
        assert took > 0.2  # it had to wait for the TTL: the lock was not released
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await b._let_go()


async def test_a_restart_neither_repeats_nor_skips(
    store: Any, ops_db: Database, clock: Clock
) -> None:
    """Slots are kept in SQL: a new scheduler (a restarted replica) runs only what
    did not run; missed daily slots are caught up, oldest first."""
    clock.now = local(2026, 12, 5, 4, 0).astimezone(dt.UTC)
    seen: list[tuple[str, str]] = []
    runs = RunRepo(ops_db)

    def scheduler() -> Scheduler:
        job = Job("daily", daily(3), _recorder("x", seen), catch_up=7)
        return Scheduler(store, runs, [job], lock_ttl=5.0)

    first = scheduler()
    assert [r.slot for r in await first.tick()] == ["2026-12-05"]
    await first._let_go()  # the replica stops
    second = scheduler()
    assert await second.tick() == []  # same day: nothing again
    await second._let_go()
    clock.advance(days=3)  # down for three days
    third = scheduler()
    assert [r.slot for r in await third.tick()] == ["2026-12-06", "2026-12-07", "2026-12-08"]
    await third._let_go()
    assert [slot for _, slot in seen] == ["2026-12-05", "2026-12-06", "2026-12-07", "2026-12-08"]


async def test_a_failed_slot_is_recorded_and_tried_again(
    store: Any, ops_db: Database, clock: Clock
) -> None:
    clock.now = local(2026, 12, 5, 4, 0).astimezone(dt.UTC)
    calls: list[str] = []

    async def flaky(slot: Slot) -> dict[str, Any]:
        calls.append(slot.key)
        if len(calls) < 3:
            raise OSError("disk full")
        return {"fine": True}

    runs = RunRepo(ops_db)
    job = Job("flaky", daily(3), flaky, retry_after=dt.timedelta(minutes=15), max_attempts=3)
    s = Scheduler(store, runs, [job], lock_ttl=5.0)
    try:
        failed = await s.tick()
        assert [(r.status, r.attempts) for r in failed] == [("failed", 1)]
        assert failed[0].detail["error"] == "OSError: disk full"
        assert await s.tick() == []  # not before retry_after
        clock.advance(minutes=16)
        assert [(r.status, r.attempts) for r in await s.tick()] == [("failed", 2)]
        clock.advance(minutes=16)
        assert [(r.status, r.attempts) for r in await s.tick()] == [("ok", 3)]
        assert (await runs.latest("flaky")).status == "ok"  # type: ignore[union-attr]
    finally:
        await s._let_go()


async def test_a_run_left_running_by_a_dead_scheduler_is_taken_over(
    store: Any, ops_db: Database, clock: Clock
) -> None:
    clock.now = local(2026, 12, 5, 4, 0).astimezone(dt.UTC)
    runs = RunRepo(ops_db)
    left = await runs.claim(
        "daily", "2026-12-05", "dead-replica", max_attempts=3, retry_after=dt.timedelta(0)
    )
    assert left is not None and left.status == "running"
    seen: list[tuple[str, str]] = []
    s = Scheduler(store, runs, [Job("daily", daily(3), _recorder("x", seen))], lock_ttl=5.0)
    try:
        done = await s.tick()
        assert [(r.status, r.attempts) for r in done] == [("ok", 2)]
        assert "interrupted" in done[0].detail["previous"]
    finally:
        await s._let_go()
