"""Console users (agents, supervisors, department staff) in the SQL ``users`` table.

Passwords are hashed with argon2id (argon2-cffi's defaults). Verification
runs in a worker thread: argon2 is deliberately slow and must not block the
event loop. An unknown or inactive username is verified against a dummy hash,
so it costs the same time. Attempts are limited before the check by
``bot.console.throttle`` (per username, per address, per both); the account
itself never locks, so nobody can lock a colleague out by guessing.

Changing a password, a role or the active flag raises ``session_epoch``,
which ends every session of that user (bot/console/auth.py), and is written
to the audit log (``db.audit``) with the actor and client address.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.exc import IntegrityError

from bot.db.engine import inserted_key
from bot.db.schema import users

if TYPE_CHECKING:
    from bot.db.audit import AuditRepo
    from bot.db.database import Database

log = logging.getLogger(__name__)

ROLES = ("agent", "supervisor", "department")
ROLE_NAMES = {"agent": "客服坐席", "supervisor": "班长/质检", "department": "承办部门"}
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,40}$")
_hasher = PasswordHasher()  # argon2id
#: Verified against when the username is unknown, so timing does not reveal it.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0000")


class UserExists(ValueError):
    """The username is taken."""


@dataclass(frozen=True)
class User:
    """A signed-in console user; ``department`` is a key of data/routing.yml."""

    id: int
    username: str
    display_name: str
    role: str
    department: str | None = None
    #: Sessions carry the epoch of their sign-in; a higher one here ends them.
    session_epoch: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "department": self.department,
        }


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of a sign-in attempt: the user, or None; ``known`` says
    whether the username named an active user (for the audit log only)."""

    user: User | None
    known: bool = False


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_policy(password: str) -> None:
    """At least ``MIN_PASSWORD`` characters with letters and digits."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password must have at least {MIN_PASSWORD} characters")
    if not (any(c.isdigit() for c in password) and any(c.isalpha() for c in password)):
        raise ValueError("password must contain letters and digits")


def _matches(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class UserRepo:
    """Create, look up and verify console users."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def now(self) -> dt.datetime:
        return self._db.now()

    @property
    def audit(self) -> AuditRepo:
        """The audit log (``db.audit``)."""
        return self._db.audit

    async def create(
        self,
        *,
        username: str,
        password: str,
        role: str,
        display_name: str | None = None,
        department: str | None = None,
        actor: str = "system",
        client_address: str | None = None,
    ) -> User:
        """Create an active user; ValueError for bad input, UserExists when taken.
        Audited as ``user_created`` by ``actor``."""
        username = (username or "").strip()
        if not _USERNAME.match(username):
            raise ValueError("username must be 2-40 letters, digits, '_', '.' or '-'")
        self._check_role(role, department)
        check_password_policy(password)
        name = (display_name or username).strip()[:60] or username
        password_hash = await asyncio.to_thread(hash_password, password)
        values = {
            "username": username, "display_name": name, "password_hash": password_hash,
            "role": role, "department": department, "active": True,
            "created_at": self._db.now(), "failed_attempts": 0, "locked_until": None,
        }  # fmt: skip
        try:
            async with self._db.write() as conn:
                result = await conn.execute(users.insert().values(**values))
        except IntegrityError:
            raise UserExists(f"user {username!r} exists") from None
        log.info("console user %s created (role %s)", username, role)
        await self._db.audit.record(
            actor, "user_created", username, client_address=client_address,
            detail={"role": role, "department": department},
        )  # fmt: skip
        return User(inserted_key(result), username, name, role, department)

    def _check_role(self, role: str, department: str | None) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if role == "department":
            if not department or department not in self._db.routing.departments:
                raise ValueError("role department needs --department, a key of data/routing.yml")
        elif department is not None and department not in self._db.routing.departments:
            raise ValueError("department must be a key of data/routing.yml")

    async def get(self, user_id: int) -> User | None:
        """The active user with this id, or None."""
        return await self._one(users.c.id == user_id)

    async def get_by_username(self, username: str) -> User | None:
        return await self._one(users.c.username == username)

    async def display_names(self, usernames: Iterable[str]) -> dict[str, str]:
        """``username -> display name`` of the known ones among ``usernames``
        (inactive users too: a timeline names who acted then)."""
        wanted = sorted({u for u in usernames if u})
        if not wanted:
            return {}
        stmt = sa.select(users.c.username, users.c.display_name).where(users.c.username.in_(wanted))
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return {row.username: row.display_name or row.username for row in rows}

    async def list(self, role: str | None = None) -> list[User]:
        stmt = sa.select(users).where(users.c.active.is_(True)).order_by(users.c.id)
        if role is not None:
            stmt = stmt.where(users.c.role == role)
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_user(row) for row in rows]

    async def _change(
        self,
        username: str,
        values: dict[str, Any],
        audit: tuple[str, str, str | None, dict[str, Any]],
    ) -> bool:
        """Update one user, raise its session epoch (ends its sessions), audit it."""
        values = {**values, "session_epoch": users.c.session_epoch + 1}
        async with self._db.write() as conn:
            result = await conn.execute(
                users.update().where(users.c.username == username).values(**values)
            )
        if not result.rowcount:
            return False
        actor, action, client_address, detail = audit
        await self._db.audit.record(
            actor, action, username, client_address=client_address, detail=detail
        )
        return True

    async def set_password(
        self, username: str, password: str, *, actor: str, client_address: str | None = None
    ) -> bool:
        """A new password; ends all of the user's sessions. False: no such user."""
        check_password_policy(password)
        password_hash = await asyncio.to_thread(hash_password, password)
        values = {"password_hash": password_hash, "failed_attempts": 0, "locked_until": None}
        by = "self" if actor == username else "other"
        return await self._change(
            username, values, (actor, "password_change", client_address, {"by": by})
        )

    async def set_role(
        self,
        username: str,
        role: str,
        department: str | None = None,
        *,
        actor: str,
        client_address: str | None = None,
    ) -> bool:
        """A new role (and department); ends all of the user's sessions."""
        self._check_role(role, department)
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.username == username))).first()
        if row is None:
            return False
        detail = {
            "from": row.role, "to": role,
            "from_department": row.department, "to_department": department,
        }  # fmt: skip
        values = {"role": role, "department": department}
        return await self._change(username, values, (actor, "role_change", client_address, detail))

    async def set_active(
        self, username: str, active: bool, *, actor: str, client_address: str | None = None
    ) -> bool:
        """Deactivate (ends all sessions) or reactivate a user."""
        action = "user_activated" if active else "user_deactivated"
        return await self._change(username, {"active": active}, (actor, action, client_address, {}))

    async def verify(self, username: str, password: str) -> VerifyResult:
        """Check a password. An unknown or inactive user costs the same argon2
        verification as a known one (against a dummy hash)."""
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.username == username))).first()
        if row is None or not row.active:
            await asyncio.to_thread(_matches, _DUMMY_HASH, password)
            return VerifyResult(None)
        if not await asyncio.to_thread(_matches, row.password_hash, password):
            return VerifyResult(None, known=True)
        await self._succeeded(row.id, row.password_hash, password)
        return VerifyResult(_user(row), known=True)

    async def _succeeded(self, user_id: int, stored_hash: str, password: str) -> None:
        values: dict[str, Any] = {"failed_attempts": 0, "locked_until": None}
        if _hasher.check_needs_rehash(stored_hash):
            values["password_hash"] = await asyncio.to_thread(hash_password, password)
        async with self._db.write() as conn:
            await conn.execute(users.update().where(users.c.id == user_id).values(**values))

    async def _one(self, where: Any) -> User | None:
        stmt = sa.select(users).where(where, users.c.active.is_(True))
        async with self._db.read() as conn:
            row = (await conn.execute(stmt)).first()
        return None if row is None else _user(row)


def _user(row: Any) -> User:
    return User(
        id=int(row.id),
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        department=row.department,
        session_epoch=int(row.session_epoch),
    )
