"""The databases of the tests.

- :class:`TempDatabase`: the real :class:`bot.db.Database` on a SQLite file of
  its own. Every test that builds the whole front door (``create_app``) uses
  it: the app always has its console and its tickets, which need every table.
- :class:`FakeDatabase`: an in-memory stand-in for the part of the database
  the hub uses (transcripts, events, audit; ``bot.hub.DataLayer``), for unit
  tests of the hub and the channels on a hub of their own. ``create_app``
  does not take it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet

from bot.db import Database
from bot.db.crypto import Cipher
from bot.db.database import Clock, utc_now
from bot.db.schema import events, transcripts
from bot.db.transcripts import TranscriptEntry

#: One data key for every fake database of the run: replicas of a test share
#: it, as production's replicas share ``HOTLINE_DATA_KEYS``.
FAKE_DATA_KEY = Fernet.generate_key().decode()


@dataclass
class FakeTranscriptEntry:
    seq: int
    conversation_id: str
    channel: str
    direction: str
    sender: str
    message_id: str | None
    text: str | None
    data: dict[str, Any]
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass
class FakeEvent:
    kind: str
    conversation_id: str | None
    ticket_number: str | None
    data: dict[str, Any]


class FakeTranscripts:
    def __init__(self) -> None:
        self.entries: list[FakeTranscriptEntry] = []

    async def append(
        self,
        *,
        conversation_id: str,
        channel: str,
        direction: str,
        sender: str,
        message_id: str | None,
        text: str | None,
        data: dict[str, Any],
    ) -> FakeTranscriptEntry:
        assert direction in ("in", "out")
        entry = FakeTranscriptEntry(
            len(self.entries) + 1,
            conversation_id,
            channel,
            direction,
            sender,
            message_id,
            text,
            dict(data),
        )
        self.entries.append(entry)
        return entry

    async def add(self, **kwargs: Any) -> None:
        await self.append(**kwargs)

    async def add_many(self, rows: Any) -> None:
        for row in rows:
            await self.append(**row)

    async def history(
        self, conversation_id: str, limit: int = 200, after_seq: int | None = None
    ) -> list[FakeTranscriptEntry]:
        rows = [
            e
            for e in self.entries
            if e.conversation_id == conversation_id and (after_seq is None or e.seq > after_seq)
        ]
        return rows[-limit:] if after_seq is None else rows[:limit]


class FakeEvents:
    def __init__(self) -> None:
        self.items: list[FakeEvent] = []

    async def record(
        self,
        kind: str,
        conversation_id: str | None = None,
        ticket_number: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> FakeEvent:
        event = FakeEvent(kind, conversation_id, ticket_number, dict(data or {}))
        self.items.append(event)
        return event

    async def record_many(self, items: Any) -> None:
        for item in items:
            await self.record(
                item.kind,
                conversation_id=item.conversation_id,
                ticket_number=item.ticket_number,
                data=item.data,
            )

    def kinds(self) -> list[str]:
        return [e.kind for e in self.items]


class FakeAudit:
    """``AuditRepo`` in memory (record and list, newest first; no update or delete)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    async def record(
        self,
        actor: str,
        action: str,
        target: str = "",
        *,
        client_address: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.items.append(
            {
                "id": len(self.items) + 1,
                "at": dt.datetime.now(dt.UTC),
                "actor": actor,
                "action": action,
                "target": target,
                "client_address": client_address,
                "detail": dict(detail or {}),
            }
        )

    async def list(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        action: str | None = None,
        actor: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[dict[str, Any]]:
        rows = [
            r
            for r in reversed(self.items)
            if (since is None or r["at"] >= since)
            and (until is None or r["at"] < until)
            and (not action or r["action"] == action)
            and (not actor or r["actor"] == actor)
            and (before_id is None or r["id"] < before_id)
        ]
        return rows[: max(1, min(limit, 500))]


class FakeDatabase:
    """Has the attributes and lifecycle the hub and the app use."""

    def __init__(self) -> None:
        self.transcripts = FakeTranscripts()
        self.events = FakeEvents()
        self.audit = FakeAudit()
        self.cipher = Cipher([FAKE_DATA_KEY])  # the hub encrypts store values with it
        self.connected = False
        self.reachable = True  # False: ping() fails like a database that went away

    async def connect(self) -> None:
        self.connected = True

    async def ping(self) -> bool:
        return self.connected and self.reachable

    async def close(self) -> None:
        self.connected = False


class TempDatabase(Database):
    """The real Database on ``directory/hotline.db`` (default: a temporary
    directory of its own, removed with the object), with the fakes' data key.

    Not connected at construction: the app connects and closes it (or the
    test does). For assertions: :meth:`transcript` and :meth:`event_kinds`;
    ``reachable = False`` makes :meth:`ping` fail like a database that went
    away (the rest keeps working).
    """

    def __init__(self, directory: Path | None = None, *, clock: Clock = utc_now) -> None:
        if directory is None:
            directory = Path(tempfile.mkdtemp(prefix="hotline-test-db-"))
            weakref.finalize(self, shutil.rmtree, directory, ignore_errors=True)
        super().__init__(
            f"sqlite:///{directory / 'hotline.db'}", cipher=Cipher([FAKE_DATA_KEY]), clock=clock
        )
        self.reachable = True

    @property
    def connected(self) -> bool:
        return self._engine is not None

    async def ping(self) -> bool:
        return self.reachable and await super().ping()

    async def transcript(self, *, at_least: int = 0, timeout: float = 5.0) -> list[TranscriptEntry]:
        """Every conversation's transcript entries, in the order they were written;
        with ``at_least``, once that many are (the hub writes them behind the
        replies), else what there is after ``timeout`` seconds."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            async with self.read() as conn:
                query = sa.select(transcripts.c.conversation_id).distinct()
                ids = [cid for (cid,) in (await conn.execute(query)).all()]
            entries = [e for cid in ids for e in await self.transcripts.history(cid, limit=10_000)]
            if len(entries) >= at_least or asyncio.get_running_loop().time() > deadline:
                return sorted(entries, key=lambda e: e.seq)
            await asyncio.sleep(0.01)

    async def event_kinds(self) -> list[str]:
        """The kinds of the recorded quality events, oldest first."""
        async with self.read() as conn:
            query = sa.select(events.c.kind).order_by(events.c.id)
            return [kind for (kind,) in (await conn.execute(query)).all()]
