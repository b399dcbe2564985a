"""A scheduler in its own process, for the take-over test (killed with SIGKILL).

``python -m tests.ops.scheduler_process DB_URL DATA_KEY REDIS_URL PREFIX LOCK_TTL``:
one job ``tick`` every 0.2 s that records nothing but its run; it prints
"leading" once it holds the lock.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from bot.db import Database
from bot.db.crypto import Cipher
from bot.ops.runs import RunRepo
from bot.ops.scheduler import Job, Scheduler, Slot, every
from bot.store.redis import RedisStore


async def main(db_url: str, key: str, redis_url: str, prefix: str, ttl: float) -> None:
    db = Database(db_url, cipher=Cipher([key]))
    await db.connect()
    store = RedisStore(redis_url, prefix)

    async def tick(slot: Slot) -> dict[str, Any]:
        return {"by": "process"}

    scheduler = Scheduler(
        store, RunRepo(db), [Job("tick", every(0.2), tick)], lock_ttl=ttl, interval=0.05
    )
    announced = False
    while True:
        await scheduler.tick()
        if scheduler.leading and not announced:
            print("leading", flush=True)
            announced = True
        await asyncio.sleep(0.05)


if __name__ == "__main__":
    db_url, key, redis_url, prefix, ttl = sys.argv[1:6]
    asyncio.run(main(db_url, key, redis_url, prefix, float(ttl)))
