"""Console sessions in the shared store, so any replica accepts any session.

The cookie holds a random session id; the store key is its SHA-256, so a
copy of the store does not hand out valid cookies. Each of the agent's own
requests renews the idle timeout (``ttl``, 8 h by default,
``CONSOLE_SESSION_IDLE``); the console socket's re-checks and the browser's
automatic heartbeats read it with ``renew=False``, so a tab left open still
reaches the idle limit. A session ends
at the latest ``max_age`` after the sign-in (12 h, ``CONSOLE_SESSION_MAX_AGE``)
however busy it is. A session also carries its user's ``session_epoch`` at
sign-in: raising the epoch (password, role or active flag changed) ends all
of that user's sessions at once (checked in bot/console/auth.py).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from bot.store.base import SharedStore

SESSION_TTL = 8 * 3600.0
SESSION_MAX_AGE = 12 * 3600.0
_PREFIX = "console:session:"


@dataclass(frozen=True)
class Session:
    """One signed-in browser: whose it is, its CSRF token, when it began."""

    id: str
    user_id: int
    csrf_token: str
    created_at: float
    epoch: int = 0


def _key(session_id: str) -> str:
    return _PREFIX + hashlib.sha256(session_id.encode()).hexdigest()


def _plausible(session_id: str | None) -> bool:
    return bool(session_id) and len(session_id or "") <= 128 and (session_id or "").isascii()


class SessionStore:
    """Create, load (renewing the idle timeout) and delete sessions."""

    def __init__(
        self,
        store: SharedStore,
        ttl: float = SESSION_TTL,
        *,
        max_age: float = SESSION_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self.ttl = ttl
        self.max_age = max_age
        self.clock = clock

    @property
    def store(self) -> SharedStore:
        return self._store

    def _expiry(self, created_at: float) -> float:
        """Store TTL: the idle timeout, cut at the absolute lifetime."""
        return min(self.ttl, created_at + self.max_age - self.clock())

    async def create(self, user_id: int, epoch: int = 0) -> Session:
        session = Session(
            id=secrets.token_urlsafe(32),
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=self.clock(),
            epoch=epoch,
        )
        data = {k: v for k, v in asdict(session).items() if k != "id"}
        await self._store.set(_key(session.id), json.dumps(data), self._expiry(session.created_at))
        return session

    async def get(self, session_id: str | None, *, renew: bool = True) -> Session | None:
        """The live session, or None (unknown, idle too long, or too old).

        ``renew``: restart its idle timeout (an agent's own request); False for
        reads the browser makes by itself (the socket's re-checks)."""
        if not _plausible(session_id):
            return None
        assert session_id is not None
        raw = await self._store.get(_key(session_id))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            session = Session(
                id=session_id,
                user_id=int(data["user_id"]),
                csrf_token=str(data["csrf_token"]),
                created_at=float(data["created_at"]),
                epoch=int(data.get("epoch", 0)),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        left = self._expiry(session.created_at)
        if left <= 0:  # past its absolute lifetime
            await self._store.delete(_key(session_id))
            return None
        if renew:
            await self._store.expire(_key(session_id), left)
        return session

    async def delete(self, session_id: str | None) -> None:
        if _plausible(session_id):
            assert session_id is not None
            await self._store.delete(_key(session_id))
