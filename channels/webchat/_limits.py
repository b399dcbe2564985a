"""Limits of the web chat that hold across replicas: counters in the shared store.

- :class:`WindowCounter`: fixed-window rate counters (``INCR`` with a TTL),
  used for session creation per client address and for the frames of each
  session (messages apart from everything else: ``ping``, ``resume``, refused
  frames, socket opens).
- :class:`SocketLeases`: how many sockets a session and a client address hold,
  on every replica together. Each open socket is a field of a store hash
  (``webchat:sockets:session:<id>``, ``webchat:sockets:address:<addr>``)
  whose value is the time its lease ends; the replica holding the socket
  renews its leases every :data:`LEASE_SECONDS` / 3 and deletes them when the
  socket closes. A replica that dies leaves leases that simply run out.

A new socket first writes its lease, then counts: two sockets racing for the
last place may both be refused, never both admitted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.aio import cancel_and_wait
from bot.config import Settings
from bot.inbound import ChannelStore
from bot.store.base import StoreUnavailable

log = logging.getLogger(__name__)

LEASE_SECONDS = 90.0
OK, LIMITED, ABUSE = "ok", "limited", "abuse"


@dataclass(frozen=True)
class Limits:
    """The configured limits, read from Settings ``webchat_*`` (their defaults live
    there, and only there)."""

    sockets_per_session: int
    sockets_per_address: int
    sessions_per_minute: int
    message_limit: int
    frame_limit: int
    window: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            sockets_per_session=max(1, settings.webchat_sockets_per_session),
            sockets_per_address=max(1, settings.webchat_sockets_per_address),
            sessions_per_minute=max(1, settings.webchat_sessions_per_minute),
            message_limit=max(1, settings.webchat_message_limit),
            frame_limit=max(1, settings.webchat_frame_limit),
            window=max(1.0, settings.webchat_rate_window),
        )


class WindowCounter:
    """Counts events per subject in fixed windows of the (injectable) clock."""

    def __init__(self, store: ChannelStore, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    async def hit(self, kind: str, subject: str, window: float) -> tuple[int, float]:
        """Count one event; returns the count in this window and the seconds it has left."""
        now = self._clock()
        slot = int(now // window)
        key = f"rate:{kind}:{subject}:{slot}"
        count = await self._store.incr(key, ttl=window + 1)
        return count, (slot + 1) * window - now

    async def verdict(self, kind: str, subject: str, limit: int, window: float) -> str:
        """``ok`` within the limit, ``limited`` above it, ``abuse`` above twice the limit.

        The store being down lets the event through (the hub refuses what it
        cannot do by itself); a limit is no reason to drop a citizen's socket.
        """
        try:
            count, _ = await self.hit(kind, subject, window)
        except StoreUnavailable:
            return OK
        if count <= limit:
            return OK
        return LIMITED if count <= 2 * limit else ABUSE


class TooManySockets(Exception):
    """The session or the client address already holds its maximum of sockets."""


@dataclass(frozen=True)
class Lease:
    socket_id: str
    keys: tuple[str, ...]


class SocketLeases:
    """This replica's socket leases, counted with every other replica's."""

    def __init__(self, store: ChannelStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock  # wall time: leases are compared across replicas
        self._held: dict[str, Lease] = {}
        self._renewer: asyncio.Task[None] | None = None

    async def acquire(self, session_id: str, address: str, limits: Limits) -> Lease:
        """Take a place for one socket; :class:`TooManySockets` or ``StoreUnavailable``."""
        lease = Lease(
            secrets.token_hex(8),
            (f"sockets:session:{session_id}", f"sockets:address:{address}"),
        )
        caps = (limits.sockets_per_session, limits.sockets_per_address)
        try:
            for key, cap in zip(lease.keys, caps, strict=True):
                await self._write(key, {lease.socket_id: self._clock() + LEASE_SECONDS})
                if await self._count(key) > cap:
                    raise TooManySockets(key.split(":")[1])
        except BaseException:
            await self._remove(lease)
            raise
        self._held[lease.socket_id] = lease
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_forever())
        return lease

    async def release(self, lease: Lease) -> None:
        """Free the socket's place (best effort: a lease left behind runs out)."""
        self._held.pop(lease.socket_id, None)
        await self._remove(lease)

    async def close(self) -> None:
        renewer, self._renewer = self._renewer, None
        if renewer is not None:
            await cancel_and_wait([renewer])

    async def _write(self, key: str, fields: dict[str, float]) -> None:
        mapping = {name: f"{until:.3f}" for name, until in fields.items()}
        await self._store.hset(key, mapping, ttl=2 * LEASE_SECONDS)

    async def _count(self, key: str) -> int:
        now = self._clock()
        leases = await self._store.hgetall(key)
        stale = [name for name, until in leases.items() if _float(until) <= now]
        if stale:
            await self._store.hdel(key, *stale)
        return len(leases) - len(stale)

    async def _remove(self, lease: Lease) -> None:
        for key in lease.keys:
            with contextlib.suppress(StoreUnavailable):
                await self._store.hdel(key, lease.socket_id)

    async def renew(self) -> None:
        """Extend every lease this replica holds (one write per store key)."""
        until = self._clock() + LEASE_SECONDS
        by_key: dict[str, dict[str, float]] = {}
        for lease in list(self._held.values()):
            for key in lease.keys:
                by_key.setdefault(key, {})[lease.socket_id] = until
        for key, fields in by_key.items():
            await self._write(key, fields)

    async def _renew_forever(self) -> None:
        while self._held:
            await asyncio.sleep(LEASE_SECONDS / 3)
            try:
                await self.renew()
            except StoreUnavailable:
                log.warning("store unavailable: web chat socket leases not renewed")


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0
