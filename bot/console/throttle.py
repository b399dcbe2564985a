"""Sign-in throttling per username and per client address, in the shared store.

Failures are counted for ``WINDOW`` seconds. From ``SLOW_AFTER`` failures
each attempt waits a little longer; from ``LOCK_AFTER`` failures attempts
are refused until the window ends. Counters live in the store, so every
replica sees the same numbers.
"""

from __future__ import annotations

import asyncio
import hashlib
import math

from bot.store.base import SharedStore

WINDOW = 15 * 60.0
SLOW_AFTER = 3
LOCK_AFTER = 5
MAX_DELAY = 3.0


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.lower().encode()).hexdigest()[:32]
    return f"console:login-fail:{kind}:{digest}"


class LoginThrottle:
    """Counts failed sign-ins and says when to slow down or refuse."""

    def __init__(self, store: SharedStore, delay_unit: float = 1.0) -> None:
        self._store = store
        self.delay_unit = delay_unit

    async def _counts(self, username: str, ip: str) -> list[tuple[str, int]]:
        result = []
        for key in (_key("user", username), _key("ip", ip)):
            raw = await self._store.get(key)
            result.append((key, int(raw) if raw and raw.isdigit() else 0))
        return result

    async def locked_for(self, username: str, ip: str) -> float:
        """Seconds until another attempt is allowed (0: allowed now)."""
        worst = 0.0
        for key, count in await self._counts(username, ip):
            if count >= LOCK_AFTER:
                worst = max(worst, await self._store.ttl(key) or WINDOW)
        return worst

    async def slow_down(self, username: str, ip: str) -> None:
        """Wait longer the more recent failures there are."""
        failures = max(count for _, count in await self._counts(username, ip))
        if failures >= SLOW_AFTER:
            await asyncio.sleep(min(MAX_DELAY, (failures - SLOW_AFTER + 1) * self.delay_unit))

    async def failed(self, username: str, ip: str) -> None:
        await self._store.incr(_key("user", username), ttl=WINDOW)
        await self._store.incr(_key("ip", ip), ttl=WINDOW)

    async def succeeded(self, username: str) -> None:
        await self._store.delete(_key("user", username))


def minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))
