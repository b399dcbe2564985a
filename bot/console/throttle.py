"""Sign-in throttling per username and per client address, in the shared store.

An attempt must hold a free *slot* in three budgets before its password is
checked: the username at this address (``per_user_address``, default 5), the
address for any username (``per_address``, 20: password spraying) and the
username from any address (``per_user``, 20: guesses spread over many
addresses). A slot is a key taken with SET NX (``store.claim``), so taking it
is atomic across requests and replicas: 30 parallel guesses can never get
more than the free slots, and each waits for no one. A failed attempt keeps
its slots for ``window`` seconds (a sliding window of failures); a successful
one gives them back, so colleagues who sign in behind one office address do
not use up that address's budget.

No budget is global: one address's failures never lock out a user at another
address, nor another username at the same address before the address budget
is spent. The slots are keyed by the username as typed, whether or not it
exists, so an unknown username is throttled exactly like a known one (no
enumeration through 429). ``request.remote`` is the real client behind the
trusted proxy (bot/proxy.py); an IPv6 client counts by its /64 network (one
line usually holds a whole /64), as the handoff limits do.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from bot.handoff_limits import address_key
from bot.store.base import SharedStore

WINDOW = 15 * 60.0
PER_USER_ADDRESS = 5
PER_ADDRESS = 20
PER_USER = 20
_PREFIX = "console:login-slot:"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@dataclass
class Held:
    """The slots one attempt holds; give them back with :meth:`LoginThrottle.release`."""

    keys: list[str] = field(default_factory=list)


class LoginThrottle:
    """Admits a sign-in attempt to the password check, or says how long to wait."""

    def __init__(
        self,
        store: SharedStore,
        *,
        window: float = WINDOW,
        per_user_address: int = PER_USER_ADDRESS,
        per_address: int = PER_ADDRESS,
        per_user: int = PER_USER,
    ) -> None:
        self._store = store
        self.window = window
        self.per_user_address = per_user_address
        self.per_address = per_address
        self.per_user = per_user

    def _budgets(self, username: str, address: str) -> list[tuple[str, int]]:
        user = username.strip().lower()
        address = address_key(address) or "unknown"
        return [
            (f"{_PREFIX}ua:{_digest(user + chr(10) + address)}:", self.per_user_address),
            (f"{_PREFIX}a:{_digest(address)}:", self.per_address),
            (f"{_PREFIX}u:{_digest(user)}:", self.per_user),
        ]

    async def acquire(self, username: str, address: str) -> Held | float:
        """Take one slot of each budget: :class:`Held`, or the seconds until a
        slot of a spent budget frees up (nothing is held then)."""
        held = Held()
        for prefix, limit in self._budgets(username, address):
            for index in range(limit):
                key = f"{prefix}{index}"
                if await self._store.claim(key, self.window):
                    held.keys.append(key)
                    break
            else:
                await self.release(held)
                return await self._wait(prefix, limit)
        return held

    async def release(self, held: Held) -> None:
        """A successful attempt does not count: its slots are free again."""
        if held.keys:
            await self._store.delete(*held.keys)
            held.keys.clear()

    async def _wait(self, prefix: str, limit: int) -> float:
        left = [await self._store.ttl(f"{prefix}{i}") for i in range(limit)]
        known = [t for t in left if t is not None]
        return max(1.0, min(known)) if len(known) == limit else 1.0


def minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))
