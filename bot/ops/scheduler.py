"""The scheduler: due jobs run by exactly one replica at a time.

Every replica may run a :class:`Scheduler`; the one that holds the store lock
``ops:scheduler`` (a random token, renewed every third of ``lock_ttl`` while
held, bot/store/base.py ``HeldLock``) is the leader and runs the jobs; the
others only try to take the lock on each tick. A leader that dies stops
renewing: its lock expires after ``lock_ttl`` and the next replica to tick
takes over. A leader that notices its lock is lost stops before the next job.

Each job has its own period (:func:`daily`, :func:`weekly`, :func:`monthly`,
:func:`every`): a function from "now" to the latest slot that is due (its
key, such as ``2026-12-05``, and its due time). Whether a slot ran is kept in
SQL (``ops_runs``, :class:`bot.ops.runs.RunRepo`), so a restart neither
repeats a slot nor skips one: slots missed while no replica ran are caught
up, at most ``catch_up`` of them per job, never before the job's first
recorded run. A failed slot is recorded with its error and tried again after
``retry_after``, at most ``max_attempts`` times; the failure stays visible.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.db.models import LOCAL_TZ
from bot.ops.runs import Run, RunRepo
from bot.store.base import HeldLock, SharedStore, StoreUnavailable

log = logging.getLogger(__name__)

LOCK_NAME = "ops:scheduler"


@dataclass(frozen=True)
class Slot:
    key: str
    due: dt.datetime


Period = Callable[[dt.datetime], Slot]


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), LOCAL_TZ)


def daily(hour: int) -> Period:
    """Every day at ``hour`` (local time); the key is the day."""

    def latest(now: dt.datetime) -> Slot:
        local = now.astimezone(LOCAL_TZ)
        day = local.date()
        if _at(day, hour) > local:
            day -= dt.timedelta(days=1)
        return Slot(day.isoformat(), _at(day, hour))

    return latest


def weekly(isoweekday: int, hour: int) -> Period:
    """Every week on ``isoweekday`` (1 = Monday) at ``hour``; the key is that day."""

    def latest(now: dt.datetime) -> Slot:
        local = now.astimezone(LOCAL_TZ)
        day = local.date() - dt.timedelta(days=(local.isoweekday() - isoweekday) % 7)
        if _at(day, hour) > local:
            day -= dt.timedelta(days=7)
        return Slot(day.isoformat(), _at(day, hour))

    return latest


def monthly(hour: int) -> Period:
    """On the first of every month at ``hour``; the key is that first day."""

    def latest(now: dt.datetime) -> Slot:
        local = now.astimezone(LOCAL_TZ)
        day = local.date().replace(day=1)
        if _at(day, hour) > local:
            day = (day - dt.timedelta(days=1)).replace(day=1)
        return Slot(day.isoformat(), _at(day, hour))

    return latest


def every(seconds: float) -> Period:
    """Every ``seconds`` (wall clock, aligned to the epoch); the key counts periods."""
    if seconds <= 0:
        raise ValueError("a period must be more than zero seconds")

    def latest(now: dt.datetime) -> Slot:
        n = int(now.timestamp() // seconds)
        return Slot(f"{n}", dt.datetime.fromtimestamp(n * seconds, dt.UTC))

    return latest


JobRun = Callable[[Slot], Awaitable[dict[str, Any]]]


@dataclass
class Job:
    """A named piece of scheduled work. ``run`` returns the detail to record;
    an exception fails the slot (its text is recorded)."""

    name: str
    period: Period
    run: JobRun
    catch_up: int = 1
    max_attempts: int = 3
    retry_after: dt.timedelta = field(default_factory=lambda: dt.timedelta(minutes=15))


class Scheduler:
    def __init__(
        self,
        store: SharedStore,
        runs: RunRepo,
        jobs: list[Job],
        *,
        lock_ttl: float = 60.0,
        interval: float = 30.0,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.store = store
        self.runs = runs
        self.jobs = list(jobs)
        self.lock_ttl = lock_ttl
        self.interval = interval
        self.clock = clock or runs.db.now
        self.token = uuid.uuid4().hex  # this scheduler in the runs' detail
        self._held: HeldLock | None = None
        self.ticks = 0

    @property
    def leading(self) -> bool:
        return self._held is not None and not self._held.lost

    async def tick(self) -> list[Run]:
        """Run what is due if this scheduler leads (taking the lock if free)."""
        if not await self._lead():
            return []
        done: list[Run] = []
        for job in self.jobs:
            for slot in await self._due(job):
                if not self.leading:
                    log.warning("scheduler lock lost; stopping before %s %s", job.name, slot.key)
                    return done
                run = await self._run(job, slot)
                if run is not None:
                    done.append(run)
        return done

    async def _lead(self) -> bool:
        if self._held is not None and self._held.lost:
            await self._let_go()
        if self._held is None:
            held = await self.store.try_lock(LOCK_NAME, self.lock_ttl)
            if held is None:
                return False
            await held.__aenter__()  # starts the renewals
            self._held = held
            log.info("scheduler: this replica now runs the scheduled jobs")
        return True

    async def _due(self, job: Job) -> list[Slot]:
        """The job's due slots, oldest first: the latest and missed ones before it."""
        now = self.clock()
        slot = job.period(now)
        first = await self.runs.first_started(job.name)
        slots = [slot]
        while first is not None and len(slots) < job.catch_up:
            previous = job.period(slots[-1].due - dt.timedelta(microseconds=1))
            if previous.due < first or previous.key == slots[-1].key:
                break
            slots.append(previous)
        return list(reversed(slots))

    async def _run(self, job: Job, slot: Slot) -> Run | None:
        run = await self.runs.claim(
            job.name, slot.key, self.token,
            max_attempts=job.max_attempts, retry_after=job.retry_after,
        )  # fmt: skip
        if run is None:
            return None
        try:
            detail = await job.run(slot)
        except asyncio.CancelledError:
            await asyncio.shield(self.runs.finish(run, False, {"error": "stopped (shutdown)"}))
            raise
        except Exception as exc:
            log.error("scheduled job %s %s failed: %s", job.name, slot.key, type(exc).__name__)
            return await self.runs.finish(run, False, {"error": _describe(exc)})
        ok = detail.pop("ok", True) is not False
        finished = await self.runs.finish(run, ok, detail)
        log.info("scheduled job %s %s: %s", job.name, slot.key, "ok" if ok else "failed")
        return finished

    async def run_forever(self, start_delay: float = 0.0) -> None:
        """The background task: tick every ``interval`` seconds; errors are logged."""
        try:
            await asyncio.sleep(start_delay)
            while True:
                try:
                    await self.tick()
                except StoreUnavailable as exc:
                    log.warning("scheduler tick skipped: %s", exc)
                except Exception as exc:  # the next tick tries again
                    log.error("scheduler tick failed: %s", type(exc).__name__)
                self.ticks += 1
                await asyncio.sleep(self.interval)
        finally:
            await self._let_go()

    async def _let_go(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            await held.release()


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
