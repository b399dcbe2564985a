"""Console sessions in the shared store, so any replica accepts any session.

The cookie holds a random session id; the store key is its SHA-256, so a
copy of the store does not hand out valid cookies. Each use renews the
8-hour idle timeout.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass

from bot.store.base import SharedStore

SESSION_TTL = 8 * 3600.0
_PREFIX = "console:session:"


@dataclass(frozen=True)
class Session:
    """One signed-in browser: whose it is and its CSRF token."""

    id: str
    user_id: int
    csrf_token: str
    created_at: float


def _key(session_id: str) -> str:
    return _PREFIX + hashlib.sha256(session_id.encode()).hexdigest()


def _plausible(session_id: str | None) -> bool:
    return bool(session_id) and len(session_id or "") <= 128 and (session_id or "").isascii()


class SessionStore:
    """Create, load (renewing the idle timeout) and delete sessions."""

    def __init__(self, store: SharedStore, ttl: float = SESSION_TTL) -> None:
        self._store = store
        self.ttl = ttl

    async def create(self, user_id: int) -> Session:
        session = Session(
            id=secrets.token_urlsafe(32),
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=time.time(),
        )
        data = {k: v for k, v in asdict(session).items() if k != "id"}
        await self._store.set(_key(session.id), json.dumps(data), self.ttl)
        return session

    async def get(self, session_id: str | None) -> Session | None:
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
            )
        except (ValueError, KeyError, TypeError):
            return None
        await self._store.expire(_key(session_id), self.ttl)
        return session

    async def delete(self, session_id: str | None) -> None:
        if _plausible(session_id):
            assert session_id is not None
            await self._store.delete(_key(session_id))
