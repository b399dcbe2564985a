"""Console users (agents, supervisors, department staff) in the SQL ``users`` table.

Passwords are hashed with argon2id (argon2-cffi's defaults). Verification
runs in a worker thread: argon2 is deliberately slow and must not block the
event loop. An account locks itself for ``LOCK_MINUTES`` after
``MAX_FAILURES`` wrong passwords in a row (the store-based throttle in
``bot.console.throttle`` also limits attempts per IP address).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.exc import IntegrityError

from bot.db.schema import users

if TYPE_CHECKING:
    from bot.db.database import Database

log = logging.getLogger(__name__)

ROLES = ("agent", "supervisor", "department")
ROLE_NAMES = {"agent": "客服坐席", "supervisor": "班长/质检", "department": "承办部门"}
MAX_FAILURES = 5
LOCK_MINUTES = 15
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
    """The outcome of a sign-in attempt: a user, or why not."""

    user: User | None
    locked_until: dt.datetime | None = None


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

    async def create(
        self,
        *,
        username: str,
        password: str,
        role: str,
        display_name: str | None = None,
        department: str | None = None,
    ) -> User:
        """Create an active user; ValueError for bad input, UserExists when taken."""
        username = (username or "").strip()
        if not _USERNAME.match(username):
            raise ValueError("username must be 2-40 letters, digits, '_', '.' or '-'")
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if role == "department":
            if not department or department not in self._db.routing.departments:
                raise ValueError("role department needs --department, a key of data/routing.yml")
        elif department is not None and department not in self._db.routing.departments:
            raise ValueError("department must be a key of data/routing.yml")
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
        return User(int(result.inserted_primary_key[0]), username, name, role, department)

    async def get(self, user_id: int) -> User | None:
        """The active user with this id, or None."""
        return await self._one(users.c.id == user_id)

    async def get_by_username(self, username: str) -> User | None:
        return await self._one(users.c.username == username)

    async def list(self, role: str | None = None) -> list[User]:
        stmt = sa.select(users).where(users.c.active.is_(True)).order_by(users.c.id)
        if role is not None:
            stmt = stmt.where(users.c.role == role)
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_user(row) for row in rows]

    async def set_password(self, username: str, password: str) -> bool:
        check_password_policy(password)
        password_hash = await asyncio.to_thread(hash_password, password)
        values = {"password_hash": password_hash, "failed_attempts": 0, "locked_until": None}
        async with self._db.write() as conn:
            result = await conn.execute(
                users.update().where(users.c.username == username).values(**values)
            )
        return bool(result.rowcount)

    async def set_active(self, username: str, active: bool) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(
                users.update().where(users.c.username == username).values(active=active)
            )
        return bool(result.rowcount)

    async def verify(self, username: str, password: str) -> VerifyResult:
        """Check a password; counts failures and locks the account after too many."""
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.username == username))).first()
        now = self._db.now()
        if row is None or not row.active:
            await asyncio.to_thread(_matches, _DUMMY_HASH, password)
            return VerifyResult(None)
        if row.locked_until is not None and row.locked_until > now:
            return VerifyResult(None, row.locked_until)
        if not await asyncio.to_thread(_matches, row.password_hash, password):
            return VerifyResult(None, await self._failed(row.id, now))
        await self._succeeded(row.id, row.password_hash, password)
        return VerifyResult(_user(row))

    async def _failed(self, user_id: int, now: dt.datetime) -> dt.datetime | None:
        async with self._db.write() as conn:
            count = (
                await conn.execute(sa.select(users.c.failed_attempts).where(users.c.id == user_id))
            ).scalar_one() + 1
            locked = now + dt.timedelta(minutes=LOCK_MINUTES) if count >= MAX_FAILURES else None
            values: dict[str, Any] = {"failed_attempts": 0 if locked else count}
            if locked is not None:
                values["locked_until"] = locked
            await conn.execute(users.update().where(users.c.id == user_id).values(**values))
        if locked is not None:
            log.warning("console account %s locked after %d failures", user_id, count)
        return locked

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
    )
