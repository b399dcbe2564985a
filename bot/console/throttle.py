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

Remembered devices: the per-username budget alone would let anyone lock an
agent out (20 guesses from four addresses). A browser that signed in as a
user before carries a random device token (cookie ``hotline_device``, its
SHA-256 in the store for :data:`DEVICE_TTL`); its attempts for that user
skip the per-username budget and keep the other two, so the agent signs in
from their own browser while strangers stay throttled.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, field

from bot.netaddr import address_key
from bot.store.base import SharedStore

WINDOW = 15 * 60.0
PER_USER_ADDRESS = 5
PER_ADDRESS = 20
PER_USER = 20
_PREFIX = "console:login-slot:"
DEVICE_TTL = 90 * 86400.0
_DEVICE_PREFIX = "console:device:"


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

    def _budgets(self, username: str, address: str, known_device: bool) -> list[tuple[str, int]]:
        user = username.strip().lower()
        address = address_key(address) or "unknown"
        budgets = [
            (f"{_PREFIX}ua:{_digest(user + chr(10) + address)}:", self.per_user_address),
            (f"{_PREFIX}a:{_digest(address)}:", self.per_address),
        ]
        if not known_device:
            budgets.append((f"{_PREFIX}u:{_digest(user)}:", self.per_user))
        return budgets

    async def acquire(
        self, username: str, address: str, *, known_device: bool = False
    ) -> Held | float:
        """Take one slot of each budget: :class:`Held`, or the seconds until a
        slot of a spent budget frees up (nothing is held then). A remembered
        device of this user (:meth:`known_device`) skips the per-username budget."""
        held = Held()
        for prefix, limit in self._budgets(username, address, known_device):
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

    async def remember_device(self, username: str) -> str:
        """A new device token for a browser that just signed in as ``username``."""
        token = secrets.token_urlsafe(32)
        user = _digest(username.strip().lower())
        await self._store.set(_DEVICE_PREFIX + _digest(token), user, DEVICE_TTL)
        return token

    async def known_device(self, username: str, token: str | None) -> bool:
        """Whether ``token`` names a browser that signed in as ``username`` before."""
        if not token or len(token) > 100:
            return False
        stored = await self._store.get(_DEVICE_PREFIX + _digest(token))
        user = _digest(username.strip().lower())
        return stored is not None and hmac.compare_digest(stored.encode(), user.encode())

    async def _wait(self, prefix: str, limit: int) -> float:
        left = [await self._store.ttl(f"{prefix}{i}") for i in range(limit)]
        known = [t for t in left if t is not None]
        return max(1.0, min(known)) if len(known) == limit else 1.0


def minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))
