"""Widget sessions' sliding idle expiry and revocation, in the shared store.

A signed token (channels/webchat/_auth.py) proves which session it belongs
to; whether that session is still open is kept in the store hash
``webchat:session:<id>``: ``seen`` (the time of the citizen's last activity:
the session's creation or a message) and ``ended`` (set by "结束会话"; the
one call that ended it holds ``webchat:session-ended:<id>``).
A session is live while it has not ended and ``seen`` is at most
``WEBCHAT_IDLE_HOURS`` old. Any replica sees the same state, so a token copied
from a shared device stops working everywhere once the session ends or idles
out. Tokens issued before this existed have no entry and count as ended: they
get a fresh session with no history. The transcript itself is never touched.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.inbound import ChannelStore

#: How long the store keeps an entry after its idle limit (clean-up only).
MARGIN_SECONDS = 3600.0


class SessionActivity:
    """Reads and writes the live state of widget sessions."""

    def __init__(
        self, store: ChannelStore, clock: Callable[[], float], idle_seconds: float
    ) -> None:
        self._store = store
        self._clock = clock
        self.idle_seconds = idle_seconds

    def _key(self, session_id: str) -> str:
        return f"session:{session_id}"

    @property
    def _ttl(self) -> float:
        return self.idle_seconds + MARGIN_SECONDS

    async def begin(self, session_id: str) -> None:
        """A new session: live from now."""
        await self._store.hset(self._key(session_id), {"seen": self._stamp()}, ttl=self._ttl)

    async def last_seen(self, session_id: str) -> float | None:
        """The time of the session's last activity, or ``None`` when it is not live."""
        state = await self._store.hgetall(self._key(session_id))
        if not state or "ended" in state:
            return None
        try:
            seen = float(state.get("seen", ""))
        except ValueError:
            return None
        return seen if self._clock() - seen <= self.idle_seconds else None

    async def alive(self, session_id: str) -> bool:
        return await self.last_seen(session_id) is not None

    async def touch(self, session_id: str) -> float:
        """Record activity now (the caller has checked that the session is live)."""
        now = self._clock()
        await self._store.hset(self._key(session_id), {"seen": f"{now:.3f}"}, ttl=self._ttl)
        return now

    async def end(self, session_id: str) -> bool:
        """End the session for good; true for the one call that ended it while live.

        Calls arriving together (a double click, two tabs, two replicas) may all
        read the session as live before any writes ``ended``; the claim key
        ``webchat:session-ended:<id>`` (SET NX) then picks the single one that
        answers true, so the caller publishes the end event and tells the hub once.
        """
        was_live = await self.alive(session_id)
        await self._store.hset(self._key(session_id), {"ended": self._stamp()}, ttl=self._ttl)
        if not was_live:
            return False
        return await self._store.claim(f"session-ended:{session_id}", self._ttl)

    def _stamp(self) -> str:
        return f"{self._clock():.3f}"
