"""The audit log: append-only records, filters and paging, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from bot.db import Database
from bot.db.audit import AuditRepo
from bot.db.backup import FORMAT, FORMAT_VERSION
from bot.db.crypto import Cipher
from bot.db.engine import parse_url
from bot.db.restore import restore
from bot.db.schema import audit_log

T0 = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


async def test_records_come_back_newest_first_with_their_fields(db: Database) -> None:
    clock = Clock()
    db.clock = clock
    await db.audit.record("banzhang", "sign_in", "banzhang", client_address="10.0.0.7")
    clock.now = T0 + dt.timedelta(minutes=1)
    await db.audit.record(
        "banzhang", "role_change", "zhangsan", detail={"from": "agent", "to": "supervisor"}
    )
    rows = await db.audit.list()
    assert [r["action"] for r in rows] == ["role_change", "sign_in"]
    first = rows[1]
    assert first["actor"] == "banzhang" and first["target"] == "banzhang"
    assert first["client_address"] == "10.0.0.7" and first["detail"] == {}
    assert first["at"] == T0 and first["at"].utcoffset() == dt.timedelta(0)
    assert rows[0]["detail"] == {"from": "agent", "to": "supervisor"}
    assert rows[0]["client_address"] is None and rows[0]["id"] > first["id"]


async def test_filters_and_paging(db: Database) -> None:
    clock = Clock()
    db.clock = clock
    for i in range(7):
        clock.now = T0 + dt.timedelta(minutes=i)
        actor = "zhangsan" if i % 2 else "lisi"
        await db.audit.record(actor, "sign_in_failed" if i % 3 == 0 else "sign_in", actor)
    assert [r["actor"] for r in await db.audit.list(actor="zhangsan")] == ["zhangsan"] * 3
    failed = await db.audit.list(action="sign_in_failed")
    assert [r["at"] for r in failed] == [T0 + dt.timedelta(minutes=m) for m in (6, 3, 0)]
    window = await db.audit.list(
        since=T0 + dt.timedelta(minutes=2), until=T0 + dt.timedelta(minutes=4)
    )
    assert [r["at"] for r in window] == [T0 + dt.timedelta(minutes=m) for m in (3, 2)]
    page1 = await db.audit.list(limit=3)
    page2 = await db.audit.list(limit=3, before_id=page1[-1]["id"])
    page3 = await db.audit.list(limit=3, before_id=page2[-1]["id"])
    ids = [r["id"] for r in page1 + page2 + page3]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 7
    both = await db.audit.list(action="sign_in", actor="lisi")
    assert [r["at"] for r in both] == [T0 + dt.timedelta(minutes=m) for m in (4, 2)]


@pytest.mark.parametrize(
    "detail",
    [
        {"password": "x"},
        {"new_password": "x"},
        {"user": {"token": "x"}},
        {"items": [{"secret": 1}]},
    ],
)
async def test_secrets_are_refused_in_detail(db: Database, detail: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        await db.audit.record("cli", "password_change", "zhangsan", detail=detail)
    assert await db.audit.list() == []


async def test_bad_actor_or_action_is_refused(db: Database) -> None:
    with pytest.raises(ValueError):
        await db.audit.record("", "sign_in")
    with pytest.raises(ValueError):
        await db.audit.record("cli", "Sign In; DROP TABLE")


def test_the_repository_can_only_append_and_read() -> None:
    public = {name for name in dir(AuditRepo) if not name.startswith("_")}
    assert public == {"record", "list"}


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_postgresql_refuses_update_and_delete(db: Database) -> None:
    await db.audit.record("banzhang", "sign_in", "banzhang")
    for stmt in (
        audit_log.update().values(actor="someone-else"),
        audit_log.delete(),
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.write() as conn:
                await conn.execute(stmt)
    async with db.read() as conn:
        actors = (await conn.execute(sa.select(audit_log.c.actor))).scalars().all()
    assert actors == ["banzhang"]


async def test_user_changes_raise_the_session_epoch_and_are_audited(db: Database) -> None:
    from bot.console.users import UserRepo

    users = UserRepo(db)
    created = await users.create(
        username="zhangsan", password="correct-horse-42", role="agent", actor="cli"
    )
    assert created.session_epoch == 0
    assert await users.set_password("zhangsan", "another-horse-88", actor="banzhang")
    assert await users.set_role("zhangsan", "supervisor", actor="banzhang", client_address="::1")
    assert await users.set_active("zhangsan", False, actor="cli")
    assert not await users.set_password("nobody", "another-horse-88", actor="cli")
    assert await users.get_by_username("zhangsan") is None  # inactive
    assert await users.set_active("zhangsan", True, actor="cli")
    user = await users.get_by_username("zhangsan")
    assert user is not None and user.session_epoch == 4 and user.role == "supervisor"
    assert (await users.verify("zhangsan", "another-horse-88")).user == user
    assert (await users.verify("nobody", "another-horse-88")).known is False
    rows = await db.audit.list()
    assert [(r["actor"], r["action"]) for r in reversed(rows)] == [
        ("cli", "user_created"),
        ("banzhang", "password_change"),
        ("banzhang", "role_change"),
        ("cli", "user_deactivated"),
        ("cli", "user_activated"),
    ]
    assert rows[2]["client_address"] == "::1" and "horse" not in str(rows)


async def test_a_backup_from_before_the_audit_log_restores(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, cipher: Cipher
) -> None:
    """An older release's backup (schema 0003, no audit log yet) restores; the
    audit log's table comes with the upgrade to head."""
    path = tmp_path / "old.jsonl.gz"
    header = {"format": FORMAT, "version": FORMAT_VERSION, "revision": "0003", "created_at": ""}
    user = {
        "id": 7, "username": "banzhang", "display_name": "王班长", "password_hash": "x",
        "role": "supervisor", "department": None, "active": True,
        "created_at": "2026-11-01T00:00:00+00:00", "failed_attempts": 0, "locked_until": None,
    }  # fmt: skip
    lines = [header, {"t": "users", "r": user}, {"end": True, "counts": {"users": 1}}]
    path.write_bytes(gzip.compress("".join(json.dumps(x) + "\n" for x in lines).encode()))
    if backend == "sqlite":
        target_url = f"sqlite:///{tmp_path / 'restored.db'}"
    else:
        target_url = request.getfixturevalue("pg_factory")()
    await asyncio.to_thread(restore, parse_url(target_url), path)
    restored = Database(target_url, cipher=cipher)
    await restored.connect()
    try:
        await restored.audit.record("cli", "restore", path.name)
        assert [r["id"] for r in await restored.audit.list()] == [1]
    finally:
        await restored.close()
