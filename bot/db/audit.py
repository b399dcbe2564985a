"""``AuditRepo``: the append-only audit log (``audit_log`` table).

Who did what to whom, from where: console sign-ins (successful and failed),
sign-outs, user creation, role and password changes, a citizen's full
contact viewed, exports, backups and restores. ``actor`` is a console
username, or ``"system"`` / ``"cli"``; ``action`` a short English key such as
``sign_in``; ``target`` what it was done to (a username, a ticket number, a
conversation id). ``detail`` is a small JSON object and must never hold a
password or a citizen's unmasked data: keys that look like secrets are
refused.

There is deliberately no update or delete. On PostgreSQL a trigger refuses
both in the database too (migration 0004).
"""

from __future__ import annotations

import builtins
import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.db.schema import audit_log

if TYPE_CHECKING:
    from bot.db.database import Database

#: Action keys: ``sign_in``, ``contact_viewed``, ``backup`` ...
_ACTION = re.compile(r"^[a-z][a-z0-9_.]{0,39}$")
#: ``detail`` keys that would hold a secret; a record carrying one is refused.
_SECRET_KEY = re.compile(r"pass(word|wd)?|secret|token|credential", re.IGNORECASE)
MAX_LIMIT = 500


def _check_detail(detail: Any, path: str = "detail") -> None:
    if isinstance(detail, dict):
        for key, value in detail.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: keys must be strings")
            if _SECRET_KEY.search(key):
                raise ValueError(f"{path}.{key}: the audit log never stores secrets")
            _check_detail(value, f"{path}.{key}")
    elif isinstance(detail, list):
        for item in detail:
            _check_detail(item, path)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


class AuditRepo:
    """Append audit records and read them back, newest first."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        actor: str,
        action: str,
        target: str = "",
        *,
        client_address: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append one record (``at`` is now, UTC); returns once it is committed."""
        actor = (actor or "").strip()
        if not actor:
            raise ValueError("actor is required")
        if not _ACTION.match(action or ""):
            raise ValueError("action must be a short lowercase key such as sign_in")
        detail = dict(detail or {})
        _check_detail(detail)
        row = {
            "at": _utc(self._db.now()),
            "actor": actor[:60],
            "action": action,
            "target": str(target or "")[:200],
            "client_address": (client_address or None) and str(client_address)[:64],
            "detail": detail,
        }
        await self._db.group.insert_many(audit_log, [row])

    async def list(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        action: str | None = None,
        actor: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Records newest first: ``at`` in ``[since, until)``, optionally one
        action and one actor; ``before_id`` pages on (the last id seen).

        Each record is a dict ``id, at`` (aware UTC datetime) ``, actor,
        action, target, client_address, detail``. ``limit`` is capped at 500.
        """
        limit = max(1, min(int(limit), MAX_LIMIT))
        stmt = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if since is not None:
            stmt = stmt.where(audit_log.c.at >= since)
        if until is not None:
            stmt = stmt.where(audit_log.c.at < until)
        if action:
            stmt = stmt.where(audit_log.c.action == action)
        if actor:
            stmt = stmt.where(audit_log.c.actor == actor)
        if before_id is not None:
            stmt = stmt.where(audit_log.c.id < int(before_id))
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            {
                "id": int(row.id),
                "at": _utc(row.at),
                "actor": row.actor,
                "action": row.action,
                "target": row.target,
                "client_address": row.client_address,
                "detail": dict(row.detail or {}),
            }
            for row in rows
        ]
