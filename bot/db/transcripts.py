"""``TranscriptRepo``: every message in and out of a conversation, in order.

A transcript is a record of what was said, so it keeps the citizen's words,
with one exception: phone, ID and bank-card numbers are masked before the row
is written (``bot.privacy.mask_text``; text and the JSON data alike). The
transcript is kept for the retention period and read by every agent; the
full contact number lives encrypted on the ticket, where reading it is an
audited action. The live message to Rasa and to the agent is not changed.
Nothing of it is written to a log line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from bot.db.engine import inserted_key
from bot.db.loop_sqlite import NotNow, prepare_query
from bot.db.models import LOCAL_TZ, TranscriptEntry
from bot.db.schema import transcripts
from bot.db.validation import optional, required
from bot.privacy import mask_text, mask_value

if TYPE_CHECKING:
    from bot.db.database import Database

DIRECTIONS = ("in", "out")


class TranscriptRepo:
    """Append-only conversation transcripts ordered by ``seq``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(
        self,
        *,
        conversation_id: str,
        channel: str,
        direction: str,
        sender: str,
        message_id: str | None,
        text: str | None,
        data: dict[str, Any] | None = None,
    ) -> TranscriptEntry:
        """Store one message; ``seq`` grows with every message across conversations."""
        entry = self._entry(conversation_id, channel, direction, sender, message_id, text, data)
        values = {k: v for k, v in entry.to_row().items() if k != "seq"}
        try:  # SQLite: on the loop's own connection, no thread hop (bot/db/loop_sqlite.py)
            seq = self._db.insert_now([(transcripts, [values])])
        except NotNow:
            async with self._db.write() as conn:
                result = await conn.execute(transcripts.insert().values(**values))
            seq = inserted_key(result)
        return dataclasses.replace(entry, seq=int(seq))

    async def add(
        self,
        *,
        conversation_id: str,
        channel: str,
        direction: str,
        sender: str,
        message_id: str | None,
        text: str | None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Like :meth:`append`, committed together with concurrent writes
        (bot/db/group_commit.py); returns once committed, without the ``seq``."""
        row = {
            "conversation_id": conversation_id, "channel": channel, "direction": direction,
            "sender": sender, "message_id": message_id, "text": text, "data": data,
        }  # fmt: skip
        await self.add_many([row])

    async def add_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Several :meth:`add` rows (keyword arguments of :meth:`add` each) in
        one transaction, ``seq`` in the given order. A bad row fails the call
        with its error; the others are still written."""
        values = []
        for row in rows:
            entry = self._entry(
                row["conversation_id"], row["channel"], row["direction"], row["sender"],
                row.get("message_id"), row.get("text"), row.get("data"),
            )  # fmt: skip
            values.append({k: v for k, v in entry.to_row().items() if k != "seq"})
        await self._db.group.insert_many(transcripts, values)

    def _entry(
        self,
        conversation_id: str,
        channel: str,
        direction: str,
        sender: str,
        message_id: str | None,
        text: str | None,
        data: dict[str, Any] | None,
    ) -> TranscriptEntry:
        if direction not in DIRECTIONS:
            raise ValueError("direction must be 'in' or 'out'")
        return TranscriptEntry(
            seq=0,
            conversation_id=required(conversation_id, "conversation_id", 200),
            channel=required(channel, "channel", 40),
            direction=direction,
            sender=required(sender, "sender", 100),
            message_id=optional(message_id, "message_id", 200),
            text=mask_text(text) if text else text,
            data=mask_value(dict(data or {})),
            created_at=self._db.now().astimezone(LOCAL_TZ),
        )

    async def history(
        self, conversation_id: str, limit: int = 200, after_seq: int | None = None
    ) -> list[TranscriptEntry]:
        """Oldest first: the latest ``limit`` messages, or the first ``limit`` after
        ``after_seq`` (to catch up after a reconnect)."""
        values: dict[str, Any] = {"cid": conversation_id, "limit": max(1, min(limit, 1000))}
        if after_seq is not None:
            stmt, prepared = _AFTER, _PREPARED_AFTER
            values["after"] = after_seq
        else:
            stmt, prepared = _LATEST, _PREPARED_LATEST
        try:  # SQLite: on the loop's own connection, no thread hop (bot/db/loop_sqlite.py)
            entries = [_entry_from(row) for row in self._db.fetch_now(prepared, values)]
        except NotNow:
            async with self._db.read() as conn:
                result = await conn.execute(stmt, values)
                entries = [_entry(row) for row in result.all()]
        return entries if after_seq is not None else entries[::-1]


def _entry(row: Row) -> TranscriptEntry:
    return _entry_from(row._mapping)


def _entry_from(row: Mapping[Any, Any]) -> TranscriptEntry:
    return TranscriptEntry(
        seq=row["seq"],
        conversation_id=row["conversation_id"],
        channel=row["channel"],
        direction=row["direction"],
        sender=row["sender"],
        message_id=row["message_id"],
        text=row["text"],
        data=dict(row["data"] or {}),
        created_at=row["created_at"],
    )


_BY_CONVERSATION = sa.select(transcripts).where(
    transcripts.c.conversation_id == sa.bindparam("cid")
)
#: The first ``limit`` entries after ``after``, oldest first (catch-up).
_AFTER = (
    _BY_CONVERSATION.where(transcripts.c.seq > sa.bindparam("after", type_=transcripts.c.seq.type))
    .order_by(transcripts.c.seq)
    .limit(sa.bindparam("limit", type_=sa.Integer()))
)
#: The latest ``limit`` entries, newest first.
_LATEST = _BY_CONVERSATION.order_by(transcripts.c.seq.desc()).limit(
    sa.bindparam("limit", type_=sa.Integer())
)
_PREPARED_AFTER = prepare_query(_AFTER)
_PREPARED_LATEST = prepare_query(_LATEST)
