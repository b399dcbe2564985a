"""Canned replies (常用语) for agents, in the SQL table ``canned_replies``.

Supervisors create, edit and delete them in the console
(``/console/canned``); every change is audited and takes effect on every
replica at once (the next read; open consoles are told to reload over
``console:events``). ``data/canned_replies.yml`` is the seed
(``- {title: 问候, text: ...}``): the first read copies it in, once per
database (:meth:`CannedRepo.seed_once`), so a fresh installation starts with
the hotline's usual phrases and a reply a supervisor deleted never comes back.

Why SQL rather than the file with a lock: replicas run on several machines,
where a file lock does not reach, and a deploy would overwrite the file;
the database is already shared, transactional and backed up.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import yaml
from sqlalchemy.exc import IntegrityError

from bot import config
from bot.console.desk import DeskError
from bot.db.engine import inserted_key
from bot.db.schema import canned_replies, ops_runs

if TYPE_CHECKING:
    from bot.db.database import Database

log = logging.getLogger(__name__)

SEED_PATH = config.ROOT / "data" / "canned_replies.yml"
MAX_TITLE = 20
MAX_TEXT = 2000
MAX_QUERY = 50


def seed_items(path: Path = SEED_PATH) -> list[dict[str, str]]:
    """The seed file's replies (title cut to 20, text to 2000 characters; a
    repeated title is kept once); none when the file is missing or bad."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as exc:
        log.error("canned replies seed not read: %s", type(exc).__name__)
        return []
    items: dict[str, dict[str, str]] = {}
    for entry in data if isinstance(data, list) else []:
        if isinstance(entry, dict) and entry.get("title") and entry.get("text"):
            title = str(entry["title"]).strip()[:MAX_TITLE]
            items.setdefault(title, {"title": title, "text": str(entry["text"])[:MAX_TEXT]})
    return list(items.values())


@dataclass(frozen=True)
class Canned:
    id: int
    title: str
    text: str
    position: int
    updated_at: dt.datetime
    updated_by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "position": self.position,
            "updated_at": self.updated_at.isoformat(),
            "updated_by": self.updated_by,
        }


def _clean(title: Any, text: Any) -> tuple[str, str]:
    if not isinstance(title, str) or not title.strip():
        raise DeskError(400, "bad_title", "标题不能为空")
    if not isinstance(text, str) or not text.strip():
        raise DeskError(400, "bad_text", "内容不能为空")
    title, text = title.strip(), text.strip()
    if len(title) > MAX_TITLE:
        raise DeskError(400, "bad_title", f"标题不能超过 {MAX_TITLE} 字")
    if len(text) > MAX_TEXT:
        raise DeskError(400, "bad_text", f"内容不能超过 {MAX_TEXT} 字")
    return title, text


def _like(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


#: The ``ops_runs`` row that records the seed was copied in (job, slot).
SEED_RUN = ("canned_replies.seed", "once")


class CannedRepo:
    """Read, search and change the canned replies; changes are audited."""

    def __init__(self, db: Database, seed_path: Path = SEED_PATH) -> None:
        self._db = db
        self._seed_path = seed_path
        self._seeded = False

    async def seed_once(self) -> int:
        """Copy the seed file in unless this database was seeded before; how
        many replies were copied. The ``ops_runs`` record and the rows are one
        transaction: of two replicas starting together one seeds, the other's
        record collides and it copies nothing."""
        job, slot = SEED_RUN
        exists = sa.select(ops_runs.c.id).where(ops_runs.c.job == job, ops_runs.c.slot == slot)
        now = self._db.now()
        try:
            async with self._db.write() as conn:
                if (await conn.execute(exists)).first() is not None:
                    return 0
                rows = [
                    {**item, "position": i, "updated_at": now, "updated_by": "system"}
                    for i, item in enumerate(seed_items(self._seed_path))
                ]
                run = {
                    "job": job, "slot": slot, "status": "ok", "attempts": 1,
                    "started_at": now, "finished_at": now, "detail": {"count": len(rows)},
                }  # fmt: skip
                await conn.execute(ops_runs.insert().values(run))
                if rows:
                    await conn.execute(canned_replies.insert(), rows)
        except IntegrityError:
            return 0  # another replica seeded it just now
        log.info("canned replies seeded: %d", len(rows))
        return len(rows)

    async def _ensure_seeded(self) -> None:
        if not self._seeded:
            await self.seed_once()
            self._seeded = True

    async def items(self, query: str = "") -> list[Canned]:
        """In the supervisors' order; ``query``: only those whose title or text
        contains it (case-insensitive substring)."""
        await self._ensure_seeded()
        stmt = sa.select(canned_replies).order_by(canned_replies.c.position, canned_replies.c.id)
        query = (query or "").strip()[:MAX_QUERY]
        if query:
            like = _like(query.lower())
            stmt = stmt.where(
                sa.or_(
                    sa.func.lower(canned_replies.c.title).like(like, escape="\\"),
                    sa.func.lower(canned_replies.c.text).like(like, escape="\\"),
                )
            )
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_canned(row) for row in rows]

    async def get(self, reply_id: int) -> Canned | None:
        stmt = sa.select(canned_replies).where(canned_replies.c.id == reply_id)
        async with self._db.read() as conn:
            row = (await conn.execute(stmt)).first()
        return _canned(row) if row is not None else None

    async def create(
        self, title: Any, text: Any, *, actor: str, client_address: str | None = None
    ) -> Canned:
        title, text = _clean(title, text)
        await self._ensure_seeded()
        now = self._db.now()
        last = sa.select(sa.func.coalesce(sa.func.max(canned_replies.c.position), -1))
        try:
            async with self._db.write() as conn:
                position = int((await conn.execute(last)).scalar_one()) + 1
                values = {"title": title, "text": text, "position": position,
                          "updated_at": now, "updated_by": actor}  # fmt: skip
                reply_id = inserted_key(await conn.execute(canned_replies.insert().values(values)))
        except IntegrityError:
            raise DeskError(409, "duplicate", f"已有标题为“{title}”的常用语") from None
        await self._audit(actor, "canned.create", reply_id, client_address, title=title)
        return Canned(reply_id, title, text, position, now, actor)

    async def update(
        self, reply_id: int, title: Any, text: Any, *, actor: str, client_address: str | None = None
    ) -> Canned:
        title, text = _clean(title, text)
        before = await self.get(reply_id)
        if before is None:
            raise DeskError(404, "not_found", "该常用语不存在或已被删除")
        stmt = (
            canned_replies.update()
            .where(canned_replies.c.id == reply_id)
            .values(title=title, text=text, updated_at=self._db.now(), updated_by=actor)
        )
        try:
            async with self._db.write() as conn:
                changed = (await conn.execute(stmt)).rowcount
        except IntegrityError:
            raise DeskError(409, "duplicate", f"已有标题为“{title}”的常用语") from None
        if not changed:
            raise DeskError(404, "not_found", "该常用语不存在或已被删除")
        await self._audit(
            actor, "canned.update", reply_id, client_address,
            title=title, before_title=before.title, text_changed=before.text != text,
        )  # fmt: skip
        after = await self.get(reply_id)
        assert after is not None
        return after

    async def delete(self, reply_id: int, *, actor: str, client_address: str | None = None) -> None:
        before = await self.get(reply_id)
        stmt = canned_replies.delete().where(canned_replies.c.id == reply_id)
        async with self._db.write() as conn:
            deleted = (await conn.execute(stmt)).rowcount
        if before is None or not deleted:
            raise DeskError(404, "not_found", "该常用语不存在或已被删除")
        await self._audit(
            actor, "canned.delete", reply_id, client_address, title=before.title, text=before.text
        )

    async def _audit(
        self, actor: str, action: str, reply_id: int, client_address: str | None, **detail: Any
    ) -> None:
        await self._db.audit.record(
            actor, action, f"canned:{reply_id}", client_address=client_address, detail=detail
        )


def _canned(row: Any) -> Canned:
    return Canned(
        id=int(row.id), title=row.title, text=row.text, position=int(row.position),
        updated_at=row.updated_at, updated_by=row.updated_by,
    )  # fmt: skip
